"""keras_gen.layers: reusable layers."""
from keras_gen import require_tensorflow

require_tensorflow()

from keras_gen.layers.sampling import GaussianSampler, replica_slice_normal  # noqa: F401
from keras_gen.layers.spectral_norm import SpectralNorm, power_iteration  # noqa: F401
from keras_gen.layers.condition import TileCondition  # noqa: F401
