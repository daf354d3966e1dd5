"""Graph data: the karate club, Cora from package data, sparse adjacency and full-graph training data."""
import fnmatch
import os

import numpy as np
import keras
import pytest
import tensorflow as tf

from keras_gen.data import graphs
from keras_gen.errors import KerasGenError


def test_karate_club_is_the_unweighted_78_edge_graph():
    g = graphs.karate_club()
    assert g.num_nodes == 34 and g.edges.shape == (78, 2) and np.all(g.edges[:, 0] < g.edges[:, 1])
    a = g.adjacency_matrix()
    assert set(np.unique(a)) == {0.0, 1.0} and a.sum() == 156 and np.array_equal(a, a.T)
    assert a[0].sum() == 16 and a[33].sum() == 17  # the instructor's and the officer's degrees
    assert np.bincount(g.labels).tolist() == [17, 17]
    assert g.labels[0] == 0 and g.labels[33] == 1 and g.labels[8] == 0  # member 9 stayed with Mr. Hi
    np.testing.assert_array_equal(g.features, np.eye(34))
    assert g.class_names == ("Mr. Hi", "Officer") and len(g.train_index) == 0


def test_cora_arrays_and_planetoid_split():
    g = graphs.cora()
    assert g.features.shape == (2708, 1433) and g.features.dtype == np.float32
    np.testing.assert_allclose(g.features.sum(axis=1), 1.0, rtol=1e-5)  # row-normalised, no empty paper
    raw = graphs.cora(normalize_features=False)
    assert set(np.unique(raw.features)) == {0.0, 1.0} and int(raw.features.sum()) == 49216
    assert g.labels.shape == (2708,) and g.num_classes == 7 and g.labels.max() == 6
    assert tuple(np.bincount(g.labels)) == graphs.CORA_CLASS_SIZES and g.class_names[3] == "Neural_Networks"
    assert g.edges.shape == (5278, 2) and np.all(g.edges[:, 0] < g.edges[:, 1])
    assert len(g.train_index) == 140 and len(g.val_index) == 500 and len(g.test_index) == 1000
    assert np.bincount(g.labels[g.train_index]).tolist() == [20] * 7
    parts = [set(g.train_index.tolist()), set(g.val_index.tolist()), set(g.test_index.tolist())]
    assert not (parts[0] & parts[1]) and not (parts[0] & parts[2]) and not (parts[1] & parts[2])
    a = g.adjacency()
    assert a.dense_shape.numpy().tolist() == [2708, 2708] and len(a.values) == 2 * 5278


def test_cora_ships_as_package_data_with_its_licence():
    folder = os.path.join(os.path.dirname(graphs.__file__), "files")
    patterns = ["files/*.npz", "files/*.LICENSE", "files/*.md"]  # setup.py's package_data for keras_gen.data
    for name in ("cora_planetoid.npz", "cora_planetoid.LICENSE", "cora_planetoid.md"):
        assert os.path.isfile(os.path.join(folder, name))
        assert any(fnmatch.fnmatch(f"files/{name}", p) for p in patterns)
    assert "MIT" in open(os.path.join(folder, "cora_planetoid.LICENSE"), encoding="utf-8").read()
    assert graphs.package_file("cora_planetoid.npz").is_file()
    with pytest.raises(KerasGenError, match="missing"):
        graphs.package_file("nothing.npz")


def test_sparse_adjacency_is_symmetric_ordered_and_checked():
    a = graphs.sparse_adjacency(np.array([[2, 0], [0, 1], [1, 0]]), 3)
    assert a.indices.numpy().tolist() == [[0, 1], [0, 2], [1, 0], [2, 0]]  # duplicates once, row-major
    dense = tf.sparse.to_dense(a).numpy()
    np.testing.assert_array_equal(dense, graphs.dense_adjacency(np.array([[2, 0], [0, 1]]), 3))
    directed = graphs.sparse_adjacency(np.array([[0, 1]]), 2, symmetric=False)
    assert directed.indices.numpy().tolist() == [[0, 1]]
    with pytest.raises(KerasGenError, match=r"expected \[E, 2\]"):
        graphs.sparse_adjacency(np.array([0, 1, 2]), 3)
    with pytest.raises(KerasGenError, match="outside 0..2"):
        graphs.sparse_adjacency(np.array([[0, 3]]), 3)
    with pytest.raises(KerasGenError, match="integer"):
        graphs.sparse_adjacency(np.array([[0.0, 1.0]]), 3)


def test_row_normalize():
    x = np.array([[1.0, 3.0], [0.0, 0.0]])
    np.testing.assert_allclose(graphs.row_normalize(x), [[0.25, 0.75], [0.0, 0.0]])


def test_node_weights_make_keras_loss_the_mean_over_the_index():
    rng = np.random.default_rng(0)
    logits = rng.normal(size=(10, 3)).astype(np.float32)
    labels = rng.integers(0, 3, size=10)
    index = np.array([1, 4, 7])
    loss = keras.losses.SparseCategoricalCrossentropy(from_logits=True)
    value = float(loss(labels, logits, sample_weight=graphs.node_weights(index, 10)))
    z = logits - logits.max(axis=1, keepdims=True)
    per_node = -(z[np.arange(10), labels] - np.log(np.exp(z).sum(axis=1)))
    assert value == pytest.approx(per_node[index].mean(), rel=1e-5)
    with pytest.raises(KerasGenError, match="outside"):
        graphs.node_weights(np.array([10]), 10)


def test_full_graph_dataset_is_one_element():
    g = graphs.karate_club()
    ds = graphs.full_graph_dataset(g.features, g.adjacency(), g.labels, np.array([0, 33]))
    elements = list(ds)
    assert len(elements) == 1
    (x, a), y, w = elements[0]
    assert x.shape == (34, 34) and isinstance(a, tf.SparseTensor) and y.shape == (34,)
    assert w.numpy()[[0, 33]].tolist() == [17.0, 17.0] and w.numpy().sum() == 34.0
    with pytest.raises(KerasGenError, match="labels has shape"):
        graphs.full_graph_dataset(g.features, g.adjacency(), g.labels[:5], np.array([0]))
