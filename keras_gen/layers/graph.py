"""Graph convolutions on a sparse adjacency matrix (T9): `GCNConv`, `GATConv`, `SAGEConv`.

Every layer is called on `[x, a]`, one whole graph at a time ("full batch"):

    x  float   [N, F]   node features; row i is node i (the Keras batch axis is the node axis);
                        dense, or a `tf.SparseTensor` for sparse features such as bag-of-words
                        (`keras.Input(shape=(F,), sparse=True)`; drop out with `SparseDropout`)
    a  tf.SparseTensor [N, N]   the adjacency: a_ij != 0 when node i receives a message
                               from node j (its value is the edge weight, 1 for a plain
                               graph). An undirected graph lists each edge both ways
                               (a symmetric matrix). A dense [N, N] tensor is accepted too.

Self-loops stored in `a` are ignored: each layer adds node i to its own neighbourhood
where its paper does (GCN and GAT do, GraphSAGE keeps i apart). In the functional API:

    x = keras.Input(shape=(F,), name="features")
    a = keras.Input(shape=(None,), sparse=True, name="adjacency")
    h = GCNConv(units=16, activation="relu")([x, a])

`keras_gen.data.graphs.sparse_adjacency(edges, num_nodes)` builds `a` from an edge list.
The layers compute with gathers and sorted segment sums over the edges, O(E F')
work per layer, never an N x N dense matrix.

The notes (001, GNN section) write the three layers as
    GCN:        y = sigma(sum_k alpha_k L^k x)          (K = 1 with the renormalisation trick)
    GAT:        y_i = sigma(1/M sum_m sum_{j in N_i} alpha_ij^(m) x_j W^(m))
    GraphSAGE:  h_{N_i} = aggregate({x_j | j in N_i}),  y_i = sigma(concat(h_i, h_{N_i}) W)

References: Kipf & Welling 2017, "Semi-Supervised Classification with Graph Convolutional
Networks" (eq. 2, 8); Velickovic et al. 2018, "Graph Attention Networks" (eq. 1-6);
Hamilton, Ying & Leskovec 2017, "Inductive Representation Learning on Large Graphs"
(Algorithm 1, the mean aggregator).
"""
import keras
import tensorflow as tf


def graph_edges(a, num_nodes, dtype, self_loops):
    """`(target, source, weight)` of the nonzeros of `a` with its diagonal dropped.

    With `self_loops`, one edge (i, i) of weight 1 per node is added (A + I). The edges
    come sorted by `target` (the row: the node that aggregates), then by `source` (the
    column), a node's self-loop last among its edges, whatever the order of `a`'s
    entries: the sorted segment sums of `_aggregate` need that order.
    """
    if not isinstance(a, tf.SparseTensor):
        a = tf.sparse.from_dense(a)
    target, source = a.indices[:, 0], a.indices[:, 1]
    off_diagonal = tf.not_equal(target, source)
    target = tf.boolean_mask(target, off_diagonal)
    source = tf.boolean_mask(source, off_diagonal)
    weight = tf.cast(tf.boolean_mask(a.values, off_diagonal), dtype)
    n = tf.cast(num_nodes, tf.int64)
    if self_loops:
        nodes = tf.range(n, dtype=tf.int64)
        target = tf.concat([target, nodes], axis=0)
        source = tf.concat([source, nodes], axis=0)
        weight = tf.concat([weight, tf.ones([num_nodes], dtype)], axis=0)
    # key (target, source), a self-loop's source counted as n so that it comes last
    key = target * (n + 1) + tf.where(tf.equal(target, source), n, source)
    order = tf.argsort(key, stable=True)
    return tf.gather(target, order), tf.gather(source, order), tf.gather(weight, order)


def num_nodes(x):
    """N, the rows of the node features `x` (a dense tensor or a `tf.SparseTensor`)."""
    if isinstance(x, tf.SparseTensor):
        return tf.cast(x.dense_shape[0], tf.int32)
    return tf.shape(x)[0]


def project(x, kernel):
    """`x W` for dense or sparse node features (bag-of-words features are ~99% zeros).

    A sparse `x` with its entries in row order (as `tf.sparse.reorder` leaves them)
    takes a gather of W's rows and a sorted segment sum, 2-3x faster on the CPU than
    `tf.sparse.sparse_dense_matmul` forward and backward, with the same sums in the same
    order; other sparse tensors take `sparse_dense_matmul`.
    """
    if not isinstance(x, tf.SparseTensor):
        return tf.matmul(x, kernel)
    rows, cols = x.indices[:, 0], x.indices[:, 1]

    def by_rows():
        terms = tf.cast(x.values, kernel.dtype)[:, None] * tf.gather(kernel, cols)
        return _aggregate(terms, rows, x.dense_shape[0])

    in_row_order = tf.reduce_all(rows[1:] >= rows[:-1])
    return tf.cond(in_row_order, by_rows, lambda: tf.sparse.sparse_dense_matmul(x, kernel))


def _aggregate(messages, target, num_nodes):
    """`out_i = sum_{edges (i, j)} messages_e`: the sum over the edges that end in i.

    `target` is sorted (as `graph_edges` returns it): sorted segment sums are ~3x faster
    on the CPU than `unsorted_segment_sum`, and add each node's terms in the same order.
    """
    out = tf.math.segment_sum(messages, target)
    # segment_sum stops at the last target present: nodes after it get zero rows
    missing = tf.cast(num_nodes, tf.int64) - tf.cast(tf.shape(out, out_type=tf.int64)[0], tf.int64)
    padding = tf.concat([[[0, missing]], tf.zeros([tf.rank(messages) - 1, 2], tf.int64)], axis=0)
    return tf.pad(out, padding)


def _feature_dim(input_shape):
    """F from the `[x_shape, a_shape]` a graph layer is built with."""
    ok = (isinstance(input_shape, (list, tuple)) and len(input_shape) == 2
          and all(isinstance(s, (list, tuple)) and len(s) == 2 for s in input_shape))
    if not ok:
        raise ValueError("graph layers are called on [x, a]: node features [N, F] and the adjacency [N, N], "
                         f"got inputs of shape {input_shape}")
    if input_shape[0][-1] is None:
        raise ValueError("the number of node features F must be known (keras.Input(shape=(F,)))")
    return int(input_shape[0][-1])


def _split(inputs):
    if not isinstance(inputs, (list, tuple)) or len(inputs) != 2:
        raise ValueError("graph layers are called on [x, a]: node features [N, F] and the adjacency [N, N]")
    return inputs[0], inputs[1]


class _GraphConv(keras.layers.Layer):
    """What the three layers share: arguments, config and the output shape."""

    def __init__(self, units, activation=None, use_bias=True, kernel_initializer="glorot_uniform",
                 bias_initializer="zeros", kernel_regularizer=None, bias_regularizer=None, **kwargs):
        super().__init__(**kwargs)
        if int(units) < 1:
            raise ValueError(f"units must be >= 1, got {units}")
        self.units = int(units)
        self.activation = keras.activations.get(activation)
        self.use_bias = bool(use_bias)
        self.kernel_initializer = keras.initializers.get(kernel_initializer)
        self.bias_initializer = keras.initializers.get(bias_initializer)
        self.kernel_regularizer = keras.regularizers.get(kernel_regularizer)
        self.bias_regularizer = keras.regularizers.get(bias_regularizer)

    def output_units(self):
        return self.units

    def compute_output_shape(self, input_shape):
        return (input_shape[0][0], self.output_units())

    def _bias(self, size):
        if not self.use_bias:
            return None
        return self.add_weight(name="bias", shape=(size,), initializer=self.bias_initializer,
                               regularizer=self.bias_regularizer)

    def get_config(self):
        return {
            **super().get_config(),
            "units": self.units,
            "activation": keras.activations.serialize(self.activation),
            "use_bias": self.use_bias,
            "kernel_initializer": keras.initializers.serialize(self.kernel_initializer),
            "bias_initializer": keras.initializers.serialize(self.bias_initializer),
            "kernel_regularizer": keras.regularizers.serialize(self.kernel_regularizer),
            "bias_regularizer": keras.regularizers.serialize(self.bias_regularizer),
        }


@keras.saving.register_keras_serializable(package="keras_gen")
class GCNConv(_GraphConv):
    """Graph convolution with the renormalisation trick (Kipf & Welling 2017, eq. 2).

    Formula:
        A~ = A + I,   D~_ii = sum_j A~_ij
        y  = activation(D~^{-1/2} A~ D~^{-1/2} x W + b)

    i.e. `y_i = sum_{j in N(i) + i} a~_ij / sqrt(d~_i d~_j) (x_j W)`: the first-order
    Chebyshev filter of the spectral convolution `U g(Lambda) U^T x` with the two
    coefficients tied (the notes' `sum_k alpha_k L^k x` for K = 1).

    Args:
        units: output features per node.
        activation, use_bias, kernel_initializer, bias_initializer, kernel_regularizer,
            bias_regularizer: as in `keras.layers.Dense`.

    Call arguments:
        inputs: `[x, a]` (module docstring): features `[N, F]`, adjacency `[N, N]`.
    """

    def build(self, input_shape):
        features = _feature_dim(input_shape)
        self.kernel = self.add_weight(name="kernel", shape=(features, self.units),
                                      initializer=self.kernel_initializer, regularizer=self.kernel_regularizer)
        self.bias = self._bias(self.units)

    def call(self, inputs):
        x, a = _split(inputs)
        n = num_nodes(x)
        target, source, weight = graph_edges(a, n, x.dtype, self_loops=True)
        degree = _aggregate(weight, target, n)  # >= 1 thanks to the self-loop
        inv_sqrt = tf.math.rsqrt(degree)
        norm = weight * tf.gather(inv_sqrt, target) * tf.gather(inv_sqrt, source)
        h = project(x, self.kernel)  # W first: F' < F on every layer that matters
        y = _aggregate(norm[:, None] * tf.gather(h, source), target, n)
        if self.bias is not None:
            y = y + self.bias
        return self.activation(y)


@keras.saving.register_keras_serializable(package="keras_gen")
class GATConv(_GraphConv):
    """Multi-head graph attention (Velickovic et al. 2018, eq. 1-6).

    Formula, for each head m = 1..M with its own W^(m) [F, F'] and a^(m) = [a_t ; a_s]:
        h_j    = x_j W^(m)
        e_ij   = LeakyReLU_0.2(a_t . h_i + a_s . h_j)           (= a^T [h_i || h_j])
        alpha_ij = exp(e_ij) / sum_{k in N(i) + i} exp(e_ik)   (softmax over i's neighbours and i)
        y_i^(m) = sum_{j in N(i) + i} dropout(alpha_ij) h_j
        y_i    = activation(concat_m y_i^(m) + b)              concat_heads=True  (eq. 5)
               = activation(1/M sum_m y_i^(m) + b)             concat_heads=False (eq. 6, output layer)

    The dropout acts on the normalised coefficients, in training only (the paper's
    "dropout ... to the normalized attention coefficients": each node then sees a
    random sample of its neighbourhood). Edge weights of `a` are not used, only its
    pattern.

    Args:
        units: features per head F'.
        heads: number of heads M.
        concat_heads: concatenate the heads (output `heads * units`) or average them
            (output `units`; the paper's output layer).
        negative_slope: slope of the LeakyReLU on the attention logits.
        attention_dropout: dropout rate on the attention coefficients.
        attention_initializer, attention_regularizer: for the vectors a^(m).
        seed: seed of the attention dropout.
        activation, use_bias, kernel_initializer, bias_initializer, kernel_regularizer,
            bias_regularizer: as in `keras.layers.Dense`.

    Call arguments:
        inputs: `[x, a]` (module docstring).
        training: whether to apply the attention dropout.
    """

    def __init__(self, units, heads=1, concat_heads=True, negative_slope=0.2, attention_dropout=0.0,
                 attention_initializer="glorot_uniform", attention_regularizer=None, seed=None, **kwargs):
        super().__init__(units, **kwargs)
        if int(heads) < 1:
            raise ValueError(f"heads must be >= 1, got {heads}")
        if not 0.0 <= float(attention_dropout) < 1.0:
            raise ValueError(f"attention_dropout must be in [0, 1), got {attention_dropout}")
        self.heads = int(heads)
        self.concat_heads = bool(concat_heads)
        self.negative_slope = float(negative_slope)
        self.attention_dropout = float(attention_dropout)
        self.attention_initializer = keras.initializers.get(attention_initializer)
        self.attention_regularizer = keras.regularizers.get(attention_regularizer)
        self.seed = seed
        self.seed_generator = keras.random.SeedGenerator(seed)

    def output_units(self):
        return self.heads * self.units if self.concat_heads else self.units

    def build(self, input_shape):
        features = _feature_dim(input_shape)
        self.kernel = self.add_weight(name="kernel", shape=(features, self.heads * self.units),
                                      initializer=self.kernel_initializer, regularizer=self.kernel_regularizer)
        # a = [a_t ; a_s]: the halves that multiply the receiving node i and the neighbour j
        self.attention_target = self.add_weight(name="attention_target", shape=(self.heads, self.units),
                                                initializer=self.attention_initializer,
                                                regularizer=self.attention_regularizer)
        self.attention_source = self.add_weight(name="attention_source", shape=(self.heads, self.units),
                                                initializer=self.attention_initializer,
                                                regularizer=self.attention_regularizer)
        self.bias = self._bias(self.output_units())

    def attention(self, x, a, training=False):
        """`(alpha [E, M], target [E], source [E], h [N, M, F'])` over the edges incl. self-loops."""
        n = num_nodes(x)
        target, source, _ = graph_edges(a, n, x.dtype, self_loops=True)
        h = tf.reshape(project(x, self.kernel), [-1, self.heads, self.units])
        score_target = tf.reduce_sum(h * self.attention_target, axis=-1)  # [N, M]
        score_source = tf.reduce_sum(h * self.attention_source, axis=-1)
        logits = tf.nn.leaky_relu(tf.gather(score_target, target) + tf.gather(score_source, source),
                                  alpha=self.negative_slope)  # [E, M]
        # softmax over the edges that end in the same node, shifted by its max for stability
        shift = tf.math.segment_max(logits, target)  # every node has its self-loop: N rows
        weights = tf.exp(logits - tf.gather(shift, target))
        alpha = weights / tf.gather(_aggregate(weights, target, n), target)
        if training and self.attention_dropout > 0:
            alpha = keras.random.dropout(alpha, self.attention_dropout, seed=self.seed_generator)
        return alpha, target, source, h

    def call(self, inputs, training=False):
        x, a = _split(inputs)
        n = num_nodes(x)
        alpha, target, source, h = self.attention(x, a, training=training)
        y = _aggregate(alpha[:, :, None] * tf.gather(h, source), target, n)  # [N, M, F']
        y = tf.reshape(y, [-1, self.heads * self.units]) if self.concat_heads else tf.reduce_mean(y, axis=1)
        if self.bias is not None:
            y = y + self.bias
        return self.activation(y)

    def get_config(self):
        return {
            **super().get_config(),
            "heads": self.heads,
            "concat_heads": self.concat_heads,
            "negative_slope": self.negative_slope,
            "attention_dropout": self.attention_dropout,
            "attention_initializer": keras.initializers.serialize(self.attention_initializer),
            "attention_regularizer": keras.regularizers.serialize(self.attention_regularizer),
            "seed": self.seed,
        }


@keras.saving.register_keras_serializable(package="keras_gen")
class SAGEConv(_GraphConv):
    """GraphSAGE with the mean aggregator (Hamilton et al. 2017, Algorithm 1).

    Formula:
        h_N(i) = sum_{j in N(i)} a_ij x_j / sum_{j in N(i)} a_ij    (the mean; 0 without neighbours)
        y_i    = activation(concat(x_i, h_N(i)) W + b)              W: [2F, units]
        y_i    = y_i / ||y_i||_2                                     (normalize=True, line 7)

    The node's own features stay apart from its neighbours' mean (concatenated, not
    averaged with them: the paper's "skip connection"). Every neighbour is used (the
    paper samples a fixed number per node for large graphs; full-batch training on a
    few thousand nodes does not need it).

    Args:
        units: output features per node.
        normalize: L2-normalise each output row (the paper's hidden layers; not on
            logits).
        activation, use_bias, kernel_initializer, bias_initializer, kernel_regularizer,
            bias_regularizer: as in `keras.layers.Dense`.

    Call arguments:
        inputs: `[x, a]` (module docstring).
    """

    def __init__(self, units, normalize=False, **kwargs):
        super().__init__(units, **kwargs)
        self.normalize = bool(normalize)

    def build(self, input_shape):
        features = _feature_dim(input_shape)
        self.kernel = self.add_weight(name="kernel", shape=(2 * features, self.units),
                                      initializer=self.kernel_initializer, regularizer=self.kernel_regularizer)
        self.bias = self._bias(self.units)

    def call(self, inputs):
        x, a = _split(inputs)
        n = num_nodes(x)
        target, source, weight = graph_edges(a, n, x.dtype, self_loops=False)
        total = _aggregate(weight, target, n)
        # concat(x_i, h_N(i)) W = x_i W_self + h_N(i) W_neighbour, and the mean commutes
        # with W_neighbour: project first, so the edges carry `units` numbers, not F.
        features = self.kernel.shape[0] // 2
        w_self, w_neighbour = self.kernel[:features], self.kernel[features:]
        h = project(x, w_neighbour)
        neighbour_sum = _aggregate(weight[:, None] * tf.gather(h, source), target, n)
        y = project(x, w_self) + tf.math.divide_no_nan(neighbour_sum, total[:, None])
        if self.bias is not None:
            y = y + self.bias
        y = self.activation(y)
        if self.normalize:
            y = tf.math.l2_normalize(y, axis=-1, epsilon=1e-12)
        return y

    def get_config(self):
        return {**super().get_config(), "normalize": self.normalize}


@keras.saving.register_keras_serializable(package="keras_gen")
class SparseDropout(keras.layers.Layer):
    """Dropout on the stored values of a `tf.SparseTensor` (the GCN paper's sparse dropout).

    Formula: each stored value v becomes `v / (1 - rate)` with probability `1 - rate` and
    is removed otherwise; in inference the input passes unchanged. On the dense matrix this
    is `keras.layers.Dropout` (a dropped zero is zero), at the cost of the nonzeros only:
    Cora's 2,708 x 1,433 features hold 1.3% nonzeros.

    Args:
        rate: probability of dropping a value, in [0, 1).
        seed: seed of the dropout mask.
    """

    def __init__(self, rate, seed=None, **kwargs):
        super().__init__(**kwargs)
        if not 0.0 <= float(rate) < 1.0:
            raise ValueError(f"rate must be in [0, 1), got {rate}")
        self.rate = float(rate)
        self.seed = seed
        self.seed_generator = keras.random.SeedGenerator(seed)

    def call(self, inputs, training=False):
        if not isinstance(inputs, tf.SparseTensor):
            raise ValueError(f"SparseDropout takes a tf.SparseTensor, got {type(inputs).__name__}; "
                             "use keras.layers.Dropout for dense inputs")
        if not training or self.rate == 0:
            return inputs
        keep = keras.random.uniform(tf.shape(inputs.values), seed=self.seed_generator) >= self.rate
        kept = tf.sparse.retain(inputs, keep)
        return tf.SparseTensor(kept.indices, kept.values / (1.0 - self.rate), kept.dense_shape)

    def compute_output_spec(self, inputs, training=False):
        return keras.KerasTensor(inputs.shape, dtype=inputs.dtype, sparse=True)

    def get_config(self):
        return {**super().get_config(), "rate": self.rate, "seed": self.seed}
