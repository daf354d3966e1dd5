"""keras_gen.layers: reusable layers."""
from keras_gen import require_tensorflow

require_tensorflow()

from keras_gen.layers.sampling import GaussianSampler, replica_slice_normal  # noqa: F401
from keras_gen.layers.spectral_norm import SpectralNorm, power_iteration  # noqa: F401
from keras_gen.layers.condition import TileCondition  # noqa: F401
from keras_gen.layers.graph import GATConv, GCNConv, SAGEConv, SparseDropout  # noqa: F401
from keras_gen.layers.recurrent import (  # noqa: F401
    GRUCell, LSTMCell, gradient_norms_over_time, gru_weights_from_keras, gru_weights_to_keras, lstm_weights_from_keras,
    lstm_weights_to_keras, unroll,
)
from keras_gen.layers.attention import (  # noqa: F401
    MultiHeadAttention, SinusoidalPositionalEncoding, TransformerDecoderBlock, TransformerEncoderBlock,
    attention_weights, causal_mask, scaled_dot_product_attention, sinusoidal_positional_encoding,
)
