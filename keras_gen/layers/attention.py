"""T8: self-attention, multi-head attention, positional encoding and the Transformer blocks.

Notes 002, lectures 9-10, after Vaswani et al. 2017, "Attention Is All You Need".

Self-attention (lecture 9; the notes write it with column vectors, Q = W^q I, A = K^T Q,
O = V A'; here rows are positions, so the same maps read Q = I W^q):

    Q = X W^q,  K = X W^k,  V = X W^v
    Attention(Q, K, V) = softmax(Q K^T / sqrt(d_k)) V          (Vaswani et al. eq. 1)

The softmax runs over the keys. A mask sets the score of a key a query may not see to
-inf (in practice a large negative number), so its weight is 0: the decoder's masked
self-attention lets position i see positions <= i only ("b^i can only use a^1..a^i").

Multi-head attention (section 3.2.2) runs h attentions on learned projections of width
d_k = d_v and maps their concatenation back with W^O:

    head_j = Attention(Q W_j^q, K W_j^k, V W_j^v);  MultiHead = [head_1, ..., head_h] W^O

Positional encoding (section 3.5), added to the (scaled) embeddings:

    PE(pos, 2i) = sin(pos / 10000^(2i / d)),  PE(pos, 2i + 1) = cos(pos / 10000^(2i / d))

Encoder block (lecture 10 "编码器总结"; section 3.1): self-attention, residual + layer
norm, a position-wise feed-forward network (two Dense layers, ReLU between), residual +
layer norm ("post-LN", the paper's and the notes' order). Decoder block: masked
self-attention, then cross-attention whose queries come from the decoder and whose keys
and values come from the encoder output ("query来自decoder，k和v来自encoder"), then the
feed-forward network, each followed by residual + layer norm. Dropout (rate P_drop) is
applied to each sub-layer's output before the residual sum, as in section 5.4, and to
the attention weights.
"""
import math

import keras
import numpy as np
from keras import ops

from keras_gen.errors import KerasGenError


def _mask_value(dtype):
    # -inf would turn a fully masked row into NaN; a large finite number gives it a
    # uniform row instead. float16 cannot hold -1e9.
    return -3.0e4 if str(dtype) in ("float16", "bfloat16") else -1.0e9


def causal_mask(length):
    """Boolean `[length, length]`: entry (i, j) is True when query i may attend to key j (j <= i)."""
    return np.tril(np.ones((int(length), int(length)), dtype=bool))


def _causal(query_length, key_length):
    """`causal_mask` as a tensor, for lengths known only when the graph runs."""
    i = ops.arange(query_length)[:, None]
    j = ops.arange(key_length)[None, :]
    return j <= i


def attention_weights(query, key, mask=None):
    """A = softmax(Q K^T / sqrt(d_k)) over the keys, masked: the weights of `scaled_dot_product_attention`."""
    d_k = query.shape[-1]
    scores = ops.matmul(query, ops.swapaxes(key, -1, -2)) / ops.cast(math.sqrt(d_k), query.dtype)
    if mask is not None:
        visible = ops.cast(mask, "bool")
        scores = ops.where(visible, scores, ops.cast(_mask_value(scores.dtype), scores.dtype))
    # Written out rather than `ops.softmax`, which warns about a single key (the first
    # step of greedy decoding attends to one position).
    shifted = scores - ops.stop_gradient(ops.max(scores, axis=-1, keepdims=True))
    e = ops.exp(shifted)
    return e / ops.sum(e, axis=-1, keepdims=True)


def scaled_dot_product_attention(query, key, value, mask=None):
    """softmax(Q K^T / sqrt(d_k)) V over the last two axes (Vaswani et al. eq. 1).

    Formula (mask m with m_ij = 1 where query i may see key j):
        S = Q K^T / sqrt(d_k);   S_ij = -inf where m_ij = 0
        A = softmax(S) over j;   output = A V

    Args:
        query: `[..., T_q, d_k]`.
        key: `[..., T_k, d_k]`.
        value: `[..., T_k, d_v]`.
        mask: boolean (or 0/1), broadcastable to `[..., T_q, T_k]`; None: all visible.

    Returns:
        `(output [..., T_q, d_v], weights A [..., T_q, T_k])`.
    """
    weights = attention_weights(query, key, mask)
    return ops.matmul(weights, value), weights


def sinusoidal_positional_encoding(length, depth, base=10000.0):
    """The `[length, depth]` float32 table PE of Vaswani et al. section 3.5.

    Formula:
        PE(pos, 2i) = sin(pos / base^(2i / depth));   PE(pos, 2i + 1) = cos(pos / base^(2i / depth))
    """
    length, depth = int(length), int(depth)
    if length < 1 or depth < 1:
        raise KerasGenError(f"positional encoding needs length >= 1 and depth >= 1, got {length} and {depth}")
    pos = np.arange(length, dtype=np.float64)[:, None]
    two_i = np.arange(0, depth, 2, dtype=np.float64)[None, :]
    angles = pos / np.power(float(base), two_i / depth)
    table = np.zeros((length, depth), dtype=np.float64)
    table[:, 0::2] = np.sin(angles)
    table[:, 1::2] = np.cos(angles[:, : depth // 2])
    return table.astype(np.float32)


@keras.saving.register_keras_serializable(package="keras_gen")
class SinusoidalPositionalEncoding(keras.layers.Layer):
    """Adds PE[:T] (`sinusoidal_positional_encoding`) to inputs `[batch, T, depth]`.

    Args:
        max_length: the longest sequence accepted.
        base: the 10000 of the formula.
    """

    def __init__(self, max_length, base=10000.0, **kwargs):
        super().__init__(**kwargs)
        if int(max_length) < 1:
            raise KerasGenError(f"max_length must be >= 1, got {max_length}")
        self.max_length = int(max_length)
        self.base = float(base)

    def build(self, input_shape):
        # A constant, not a weight: the table is a formula, never trained.
        self._table = sinusoidal_positional_encoding(self.max_length, input_shape[-1], self.base)

    def call(self, inputs):
        length = inputs.shape[1]
        if length is not None and length > self.max_length:
            raise KerasGenError(f"sequence length {length} exceeds the positional encoding's max_length "
                                f"{self.max_length}")
        table = ops.cast(ops.convert_to_tensor(self._table), inputs.dtype)
        return inputs + table[None, : ops.shape(inputs)[1], :]

    def compute_output_shape(self, input_shape):
        return input_shape

    def get_config(self):
        config = super().get_config()
        config.update(max_length=self.max_length, base=self.base)
        return config


@keras.saving.register_keras_serializable(package="keras_gen")
class MultiHeadAttention(keras.layers.Layer):
    """Multi-head scaled dot-product attention (Vaswani et al. section 3.2.2).

    Formula (h heads, X_q the queries' inputs, X_kv the keys' and values' inputs):
        Q_j = X_q W_j^q,  K_j = X_kv W_j^k,  V_j = X_kv W_j^v          (+ biases)
        head_j = softmax(Q_j K_j^T / sqrt(d_k) + mask) V_j
        output = [head_1, ..., head_h] W^O + b^O

    Self-attention is `layer(x, x)`; cross-attention `layer(y, memory)`.

    Args:
        num_heads: h.
        key_dim: d_k, the width of each head's queries and keys.
        value_dim: d_v (default d_k).
        output_dim: width of the output (default: the query's input width, so the
            residual sum works).
        dropout: rate of dropout on the attention weights (training only).
        use_bias: biases in the four projections.
        kernel_initializer: for the four projections.
        seed: seed of the attention dropout.

    Call args:
        query: `[batch, T_q, d_q]`.
        value: `[batch, T_k, d_kv]` (also the keys' input unless `key` is given).
        key: `[batch, T_k, d_kv]`, optional.
        attention_mask: boolean `[batch, T_q, T_k]` (or broadcastable), True = may attend.
        use_causal_mask: also hide keys j > i from query i.
        return_attention_scores: also return the weights `[batch, h, T_q, T_k]`.
    """

    def __init__(self, num_heads, key_dim, value_dim=None, output_dim=None, dropout=0.0, use_bias=True,
                 kernel_initializer="glorot_uniform", seed=None, **kwargs):
        super().__init__(**kwargs)
        for name, v in (("num_heads", num_heads), ("key_dim", key_dim)):
            if int(v) < 1:
                raise KerasGenError(f"{name} must be >= 1, got {v}")
        if not 0.0 <= float(dropout) < 1.0:
            raise KerasGenError(f"dropout must be in [0, 1), got {dropout}")
        self.num_heads = int(num_heads)
        self.key_dim = int(key_dim)
        self.value_dim = int(value_dim) if value_dim is not None else self.key_dim
        self.output_dim = int(output_dim) if output_dim is not None else None
        self.dropout = float(dropout)
        self.use_bias = bool(use_bias)
        self.kernel_initializer = keras.initializers.get(kernel_initializer)
        self.seed = seed

        # === Layers ===
        self.query_dense = self._dense(self.num_heads * self.key_dim, "query")
        self.key_dense = self._dense(self.num_heads * self.key_dim, "key")
        self.value_dense = self._dense(self.num_heads * self.value_dim, "value")
        self.output_dense = None  # its width is the query's, known in build
        self.weights_dropout = keras.layers.Dropout(self.dropout, seed=seed, name="attention_dropout")

    def _dense(self, units, name):
        # A fresh initializer per projection: one seeded initializer object would give
        # all four the same start.
        initializer = keras.initializers.get(keras.initializers.serialize(self.kernel_initializer))
        return keras.layers.Dense(units, use_bias=self.use_bias, kernel_initializer=initializer, name=name)

    def build(self, query_shape, value_shape, key_shape=None):
        key_shape = value_shape if key_shape is None else key_shape
        self.query_dense.build(query_shape)
        self.key_dense.build(key_shape)
        self.value_dense.build(value_shape)
        out_dim = self.output_dim if self.output_dim is not None else query_shape[-1]
        self.output_dense = self._dense(out_dim, "output")
        self.output_dense.build(tuple(query_shape[:-1]) + (self.num_heads * self.value_dim,))

    def _split_heads(self, x, depth):
        """[b, T, h * depth] -> [b, h, T, depth]."""
        b, t = ops.shape(x)[0], ops.shape(x)[1]
        return ops.transpose(ops.reshape(x, (b, t, self.num_heads, depth)), (0, 2, 1, 3))

    def call(self, query, value, key=None, attention_mask=None, use_causal_mask=False, training=None,
             return_attention_scores=False):
        key = value if key is None else key
        q = self._split_heads(self.query_dense(query), self.key_dim)
        k = self._split_heads(self.key_dense(key), self.key_dim)
        v = self._split_heads(self.value_dense(value), self.value_dim)
        mask = None
        if attention_mask is not None:
            mask = ops.cast(attention_mask, "bool")
            if len(mask.shape) == 3:
                mask = mask[:, None, :, :]  # the same mask for every head
        if use_causal_mask:
            causal = _causal(ops.shape(query)[1], ops.shape(key)[1])[None, None]
            mask = causal if mask is None else ops.logical_and(mask, causal)
        weights = attention_weights(q, k, mask)
        heads = ops.matmul(self.weights_dropout(weights, training=training), v)   # [b, h, T_q, d_v]
        b, t = ops.shape(heads)[0], ops.shape(heads)[2]
        concat = ops.reshape(ops.transpose(heads, (0, 2, 1, 3)), (b, t, self.num_heads * self.value_dim))
        output = self.output_dense(concat)
        return (output, weights) if return_attention_scores else output

    def compute_output_shape(self, query_shape, value_shape, key_shape=None):
        out_dim = self.output_dim if self.output_dim is not None else query_shape[-1]
        return tuple(query_shape[:-1]) + (out_dim,)

    def get_config(self):
        config = super().get_config()
        config.update(num_heads=self.num_heads, key_dim=self.key_dim, value_dim=self.value_dim,
                      output_dim=self.output_dim, dropout=self.dropout, use_bias=self.use_bias,
                      kernel_initializer=keras.initializers.serialize(self.kernel_initializer), seed=self.seed)
        return config


def _key_padding_mask(key_padding_mask):
    """A key padding mask `[b, T_k]` (True = real token) as an attention mask `[b, 1, T_k]`."""
    if key_padding_mask is None:
        return None
    return ops.cast(key_padding_mask, "bool")[:, None, :]


class _Block(keras.layers.Layer):
    """Shared arguments of the encoder and decoder blocks."""

    def __init__(self, num_heads, key_dim, ff_dim, dropout=0.1, epsilon=1e-5, seed=None, **kwargs):
        super().__init__(**kwargs)
        if int(ff_dim) < 1:
            raise KerasGenError(f"ff_dim must be >= 1, got {ff_dim}")
        if not 0.0 <= float(dropout) < 1.0:
            raise KerasGenError(f"dropout must be in [0, 1), got {dropout}")
        self.num_heads = int(num_heads)
        self.key_dim = int(key_dim)
        self.ff_dim = int(ff_dim)
        self.dropout = float(dropout)
        self.epsilon = float(epsilon)
        self.seed = seed
        self._seed_offset = 0

    def _seed(self):
        # Distinct, reproducible seeds for the block's dropout layers.
        self._seed_offset += 1
        return None if self.seed is None else int(self.seed) + self._seed_offset

    def _attention(self, name):
        return MultiHeadAttention(self.num_heads, self.key_dim, dropout=self.dropout, seed=self._seed(), name=name)

    def _feed_forward(self, d_model):
        self.ff_hidden = keras.layers.Dense(self.ff_dim, activation="relu", name="ff_hidden")
        self.ff_output = keras.layers.Dense(d_model, name="ff_output")
        self.ff_hidden.build((None, None, d_model))
        self.ff_output.build((None, None, self.ff_dim))

    def _norm(self, name, d_model):
        norm = keras.layers.LayerNormalization(epsilon=self.epsilon, name=name)
        norm.build((None, None, d_model))
        return norm

    def _dropout_layer(self, name):
        return keras.layers.Dropout(self.dropout, seed=self._seed(), name=name)

    def feed_forward(self, x):
        """FFN(x) = max(0, x W_1 + b_1) W_2 + b_2, at every position (section 3.3)."""
        return self.ff_output(self.ff_hidden(x))

    def get_config(self):
        config = super().get_config()
        config.update(num_heads=self.num_heads, key_dim=self.key_dim, ff_dim=self.ff_dim, dropout=self.dropout,
                      epsilon=self.epsilon, seed=self.seed)
        return config


@keras.saving.register_keras_serializable(package="keras_gen")
class TransformerEncoderBlock(_Block):
    """One encoder block (Vaswani et al. section 3.1, post-LN as in the paper and the notes).

    Formula:
        x = LayerNorm(x + Dropout(MultiHead(x, x, x; padding mask)))
        x = LayerNorm(x + Dropout(FFN(x)))

    Args:
        num_heads, key_dim: of the self-attention (d_model = the input width).
        ff_dim: hidden width of the feed-forward network (d_ff).
        dropout: P_drop on sub-layer outputs and attention weights.
        epsilon: of the layer norms.
        seed: seed of the dropouts.

    Call args:
        x: `[batch, T, d_model]`.
        padding_mask: boolean `[batch, T]`, True for real tokens (keys that may be seen).
    """

    def build(self, x_shape):
        d_model = x_shape[-1]
        self.self_attention = self._attention("self_attention")
        self.self_attention.build(x_shape, x_shape)
        self.attention_dropout = self._dropout_layer("self_attention_dropout")
        self.attention_norm = self._norm("self_attention_norm", d_model)
        self._feed_forward(d_model)
        self.ff_dropout = self._dropout_layer("ff_dropout")
        self.ff_norm = self._norm("ff_norm", d_model)

    def call(self, x, padding_mask=None, training=None):
        mask = _key_padding_mask(padding_mask)
        attended = self.self_attention(x, x, attention_mask=mask, training=training)
        x = self.attention_norm(x + self.attention_dropout(attended, training=training))
        return self.ff_norm(x + self.ff_dropout(self.feed_forward(x), training=training))

    def compute_output_shape(self, x_shape):
        return x_shape


@keras.saving.register_keras_serializable(package="keras_gen")
class TransformerDecoderBlock(_Block):
    """One decoder block (Vaswani et al. section 3.1), post-LN.

    Formula (y the decoder's sequence, m the encoder's output):
        y = LayerNorm(y + Dropout(MultiHead(y, y, y; causal mask)))      masked self-attention
        y = LayerNorm(y + Dropout(MultiHead(y, m, m; memory padding)))   cross-attention
        y = LayerNorm(y + Dropout(FFN(y)))

    Output i depends on y_1..y_i and on all of m, never on y_j for j > i.

    Args: as `TransformerEncoderBlock`.

    Call args:
        x: the decoder's sequence `[batch, T_y, d_model]`.
        memory: the encoder's output `[batch, T_x, d_model]`.
        memory_padding_mask: boolean `[batch, T_x]`, True for real source tokens.
        return_attention_scores: also return the cross-attention weights `[batch, h, T_y, T_x]`.
    """

    def build(self, x_shape, memory_shape):
        d_model = x_shape[-1]
        self.self_attention = self._attention("masked_self_attention")
        self.self_attention.build(x_shape, x_shape)
        self.self_attention_dropout = self._dropout_layer("self_attention_dropout")
        self.self_attention_norm = self._norm("self_attention_norm", d_model)
        self.cross_attention = self._attention("cross_attention")
        self.cross_attention.build(x_shape, memory_shape)
        self.cross_attention_dropout = self._dropout_layer("cross_attention_dropout")
        self.cross_attention_norm = self._norm("cross_attention_norm", d_model)
        self._feed_forward(d_model)
        self.ff_dropout = self._dropout_layer("ff_dropout")
        self.ff_norm = self._norm("ff_norm", d_model)

    def call(self, x, memory, memory_padding_mask=None, training=None, return_attention_scores=False):
        attended = self.self_attention(x, x, use_causal_mask=True, training=training)
        x = self.self_attention_norm(x + self.self_attention_dropout(attended, training=training))
        crossed, weights = self.cross_attention(x, memory, attention_mask=_key_padding_mask(memory_padding_mask),
                                                training=training, return_attention_scores=True)
        x = self.cross_attention_norm(x + self.cross_attention_dropout(crossed, training=training))
        x = self.ff_norm(x + self.ff_dropout(self.feed_forward(x), training=training))
        return (x, weights) if return_attention_scores else x

    def compute_output_shape(self, x_shape, memory_shape):
        return x_shape
