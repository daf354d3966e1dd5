"""Graph layers: GCNConv, GATConv, SAGEConv and SparseDropout against NumPy, on sparse adjacency."""
import numpy as np
import keras
import pytest
import tensorflow as tf

from keras_gen.layers.graph import GATConv, GCNConv, SAGEConv, SparseDropout

N, F = 6, 4
# A small weighted graph: a triangle 0-1-2, a path 2-3-4 with weight 2 on 3-4, node 5
# isolated, and a self-loop on node 1 that every layer must ignore.
EDGES = [(0, 1, 1.0), (0, 2, 1.0), (1, 2, 1.0), (2, 3, 1.0), (3, 4, 2.0)]


def _graph():
    a = np.zeros((N, N), np.float32)
    for i, j, w in EDGES:
        a[i, j] = a[j, i] = w
    a_with_loop = a.copy()
    a_with_loop[1, 1] = 5.0
    x = np.random.default_rng(0).normal(size=(N, F)).astype(np.float32)
    return x, a, tf.sparse.from_dense(a_with_loop)


def _call(layer, x, a_sparse, **kwargs):
    return layer([tf.constant(x), a_sparse], **kwargs).numpy()


def _weights(layer, name):
    return next(v for v in layer.weights if v.path.endswith(name)).numpy()


def _randomize(layer, seed=1):
    rng = np.random.default_rng(seed)
    for v in layer.weights:
        v.assign(rng.normal(size=v.shape).astype(np.float32))


# ---------------------------------------------------------------- NumPy references
def numpy_gcn(x, a, w, b):
    a_tilde = a - np.diag(np.diag(a)) + np.eye(len(a))
    d = a_tilde.sum(axis=1)
    a_hat = a_tilde / np.sqrt(np.outer(d, d))
    return a_hat @ x @ w + b


def numpy_gat(x, a, w, att_t, att_s, b, heads, units, concat, slope=0.2):
    n = len(a)
    h = (x @ w).reshape(n, heads, units)
    out = np.zeros((n, heads, units))
    for i in range(n):
        nbrs = [j for j in range(n) if (a[i, j] != 0 and j != i)] + [i]
        for m in range(heads):
            e = np.array([att_t[m] @ h[i, m] + att_s[m] @ h[j, m] for j in nbrs])
            e = np.where(e > 0, e, slope * e)
            alpha = np.exp(e - e.max())
            alpha /= alpha.sum()
            out[i, m] = sum(al * h[j, m] for al, j in zip(alpha, nbrs))
    y = out.reshape(n, heads * units) if concat else out.mean(axis=1)
    return y + b


def numpy_sage(x, a, w, b):
    n = len(a)
    means = np.zeros_like(x)
    for i in range(n):
        nbrs = [j for j in range(n) if a[i, j] != 0 and j != i]
        if nbrs:
            weights = np.array([a[i, j] for j in nbrs])
            means[i] = (weights[:, None] * x[nbrs]).sum(axis=0) / weights.sum()
    return np.concatenate([x, means], axis=1) @ w + b


# ---------------------------------------------------------------- the layers against NumPy
def test_gcn_matches_renormalised_propagation():
    x, a, a_sparse = _graph()
    layer = GCNConv(units=3)
    layer.build([(None, F), (None, None)])
    _randomize(layer)
    expected = numpy_gcn(x, a, _weights(layer, "kernel"), _weights(layer, "bias"))
    np.testing.assert_allclose(_call(layer, x, a_sparse), expected, rtol=1e-5, atol=1e-5)
    # the isolated node 5 only sees itself: x_5 W + b
    np.testing.assert_allclose(expected[5], x[5] @ _weights(layer, "kernel") + _weights(layer, "bias"), rtol=1e-6)


@pytest.mark.parametrize("concat", [True, False])
def test_gat_matches_numpy_softmax_attention(concat):
    x, a, a_sparse = _graph()
    layer = GATConv(units=3, heads=2, concat_heads=concat, attention_dropout=0.5, seed=3)
    layer.build([(None, F), (None, None)])
    _randomize(layer)
    expected = numpy_gat(x, a, _weights(layer, "kernel"), _weights(layer, "attention_target"),
                         _weights(layer, "attention_source"), _weights(layer, "bias"), 2, 3, concat)
    assert layer.compute_output_shape([(N, F), (N, N)]) == (N, 6 if concat else 3)
    np.testing.assert_allclose(_call(layer, x, a_sparse), expected, rtol=1e-5, atol=1e-5)  # inference: no dropout


def test_gat_attention_is_a_softmax_over_neighbours_and_self():
    x, a, a_sparse = _graph()
    layer = GATConv(units=2, heads=3)
    layer([tf.constant(x), a_sparse])
    alpha, target, source, _ = layer.attention(tf.constant(x), a_sparse)
    alpha, target, source = alpha.numpy(), target.numpy(), source.numpy()
    sums = np.zeros((N, 3))
    np.add.at(sums, target, alpha)
    np.testing.assert_allclose(sums, 1.0, rtol=1e-6)
    assert sorted(zip(target.tolist(), source.tolist())) == sorted(
        [(i, j) for i in range(N) for j in range(N) if (a[i, j] != 0 and i != j)] + [(i, i) for i in range(N)])
    assert np.all(alpha[target == 5] == 1.0)  # the isolated node attends to itself only


def test_gat_attention_dropout_acts_in_training_only():
    x, _, a_sparse = _graph()
    layer = GATConv(units=3, heads=2, attention_dropout=0.5, seed=0)
    inference = [_call(layer, x, a_sparse) for _ in range(2)]
    np.testing.assert_array_equal(inference[0], inference[1])
    training = [_call(layer, x, a_sparse, training=True) for _ in range(2)]
    assert not np.allclose(training[0], inference[0])
    assert not np.allclose(training[0], training[1])  # a new mask every call
    with pytest.raises(ValueError, match="attention_dropout"):
        GATConv(units=3, attention_dropout=1.0)


def test_sage_matches_concat_of_self_and_weighted_neighbour_mean():
    x, a, a_sparse = _graph()
    layer = SAGEConv(units=3)
    layer.build([(None, F), (None, None)])
    _randomize(layer)
    expected = numpy_sage(x, a, _weights(layer, "kernel"), _weights(layer, "bias"))
    np.testing.assert_allclose(_call(layer, x, a_sparse), expected, rtol=1e-5, atol=1e-5)
    normalized = SAGEConv(units=3, normalize=True)
    normalized.build([(None, F), (None, None)])
    for v, w in zip(normalized.weights, layer.weights):
        v.assign(w)
    y = _call(normalized, x, a_sparse)
    np.testing.assert_allclose(y, expected / np.linalg.norm(expected, axis=1, keepdims=True), rtol=1e-5, atol=1e-6)


@pytest.mark.parametrize("make", [lambda: GCNConv(units=3), lambda: GATConv(units=2, heads=2),
                                  lambda: SAGEConv(units=3)])
def test_dense_or_sparse_inputs_and_node_permutation(make):
    x, a, a_sparse = _graph()
    layer = make()
    y = _call(layer, x, a_sparse)
    np.testing.assert_allclose(layer([tf.constant(x), tf.constant(a)]).numpy(), y, rtol=1e-5, atol=1e-6)
    x_sparse = tf.sparse.from_dense(tf.constant(x))
    np.testing.assert_allclose(layer([x_sparse, a_sparse]).numpy(), y, rtol=1e-5, atol=1e-6)
    # relabelling the nodes relabels the outputs (message passing is permutation-equivariant)
    p = np.random.default_rng(2).permutation(N)
    y_perm = layer([tf.constant(x[p]), tf.sparse.from_dense(a[p][:, p])]).numpy()
    np.testing.assert_allclose(y_perm, y[p], rtol=1e-5, atol=1e-6)


def _shuffled(sparse, seed):
    """The same sparse matrix with its entries listed in a random order (not row order)."""
    p = np.random.default_rng(seed).permutation(int(sparse.values.shape[0]))
    return tf.SparseTensor(tf.gather(sparse.indices, p), tf.gather(sparse.values, p), sparse.dense_shape)


@pytest.mark.parametrize("make", [lambda: GCNConv(units=3), lambda: GATConv(units=2, heads=2),
                                  lambda: SAGEConv(units=3)])
def test_entries_in_any_order_give_the_same_outputs_and_gradients(make):
    # the layers sort the edges and take a faster path for features in row order: the
    # order in which a SparseTensor lists its entries must not change anything
    x, a, a_sparse = _graph()
    layer = make()
    x_sparse = tf.sparse.from_dense(tf.constant(x))
    results = []
    for xs, As in [(x_sparse, a_sparse), (_shuffled(x_sparse, 3), _shuffled(a_sparse, 4))]:
        assert not np.array_equal(xs.indices.numpy(), x_sparse.indices.numpy()) or xs is x_sparse
        with tf.GradientTape() as tape:
            y = layer([xs, As])
            loss = tf.reduce_sum(y ** 2)
        grads = tape.gradient(loss, layer.trainable_variables)
        results.append((y.numpy(), [tf.convert_to_tensor(g).numpy() for g in grads]))
    (y0, g0), (y1, g1) = results
    np.testing.assert_allclose(y1, y0, rtol=1e-5, atol=1e-6)
    for a_, b_ in zip(g0, g1):
        np.testing.assert_allclose(a_, b_, rtol=1e-5, atol=1e-5)


def test_graph_layers_need_features_and_adjacency():
    x, _, _ = _graph()
    with pytest.raises(ValueError, match=r"\[x, a\]"):
        GCNConv(units=2)(tf.constant(x))
    with pytest.raises(ValueError, match="units"):
        SAGEConv(units=0)


# ---------------------------------------------------------------- sparse dropout
def test_sparse_dropout_keeps_or_removes_and_rescales():
    x = tf.sparse.from_dense(tf.constant(np.arange(1, 2001, dtype=np.float32).reshape(40, 50)))
    layer = SparseDropout(0.25, seed=0)
    same = layer(x)
    assert same is x or np.array_equal(tf.sparse.to_dense(same).numpy(), tf.sparse.to_dense(x).numpy())
    dropped = layer(x, training=True)
    dense, original = tf.sparse.to_dense(dropped).numpy(), tf.sparse.to_dense(x).numpy()
    kept = dense != 0
    np.testing.assert_allclose(dense[kept], original[kept] / 0.75, rtol=1e-6)
    assert 0.70 < kept.mean() < 0.80  # 2,000 values, keep probability 0.75
    with pytest.raises(ValueError, match="tf.SparseTensor"):
        layer(tf.constant([[1.0]]), training=True)


# ---------------------------------------------------------------- config and saving
def _functional(sparse_features):
    xi = keras.Input(shape=(F,), sparse=sparse_features, name="features")
    ai = keras.Input(shape=(None,), sparse=True, name="adjacency")
    h = SparseDropout(0.5, seed=1)(xi) if sparse_features else xi
    h = GCNConv(units=5, activation="relu", kernel_regularizer=keras.regularizers.L2(1e-3))([h, ai])
    h = GATConv(units=3, heads=2, activation="elu", attention_dropout=0.2, seed=4)([h, ai])
    out = SAGEConv(units=2, normalize=True)([h, ai])
    return keras.Model([xi, ai], out)


@pytest.mark.parametrize("layer", [
    GCNConv(units=3, activation="relu", use_bias=False, kernel_regularizer=keras.regularizers.L2(0.1)),
    GATConv(units=4, heads=3, concat_heads=False, negative_slope=0.1, attention_dropout=0.3, seed=7,
            attention_regularizer=keras.regularizers.L2(0.2)),
    SAGEConv(units=2, normalize=True, activation="tanh"),
    SparseDropout(0.4, seed=2),
])
def test_config_round_trip(layer):
    config = layer.get_config()
    clone = type(layer).from_config(config)
    assert clone.get_config() == config
    restored = keras.saving.deserialize_keras_object(keras.saving.serialize_keras_object(layer))
    assert type(restored) is type(layer) and restored.get_config() == config


@pytest.mark.parametrize("sparse_features", [False, True])
def test_functional_model_saves_and_loads(tmp_path, sparse_features):
    keras.utils.set_random_seed(0)
    x, _, a_sparse = _graph()
    model = _functional(sparse_features)
    xt = tf.sparse.from_dense(tf.constant(x)) if sparse_features else tf.constant(x)
    y = model([xt, a_sparse]).numpy()
    path = str(tmp_path / "graph.keras")
    model.save(path)
    loaded = keras.models.load_model(path)
    np.testing.assert_allclose(loaded([xt, a_sparse]).numpy(), y, rtol=1e-6, atol=1e-6)
    assert [type(l).__name__ for l in loaded.layers][-3:] == ["GCNConv", "GATConv", "SAGEConv"]
