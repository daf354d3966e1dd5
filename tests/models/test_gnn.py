"""Node classifiers (GCN, GAT, GraphSAGE): architecture, one fit step, saving, SavedModel without keras_gen."""
import json

import numpy as np
import keras
import pytest
import tensorflow as tf

from keras_gen.data import graphs
from keras_gen.layers.graph import GATConv, GCNConv, SAGEConv, SparseDropout
from keras_gen.models import gnn
from tests.helpers import run_fresh_python

BUILDERS = {"gcn": gnn.gcn_classifier, "gat": gnn.gat_classifier, "sage": gnn.sage_classifier}


def _karate():
    g = graphs.karate_club()
    return g, g.adjacency()


def test_gcn_is_the_papers_two_layer_network():
    model = gnn.gcn_classifier(1433, 7)
    kinds = [type(l).__name__ for l in model.layers]
    assert kinds == ["InputLayer", "Dropout", "InputLayer", "GCNConv", "Dropout", "GCNConv"]
    hidden, output = model.get_layer("hidden_conv"), model.get_layer("output_conv")
    assert hidden.units == 16 and not hidden.use_bias and output.units == 7
    assert model.count_params() == 1433 * 16 + 16 * 7
    # the paper's 5e-4 * tf.nn.l2_loss(W0) = 5e-4 * sum(W0^2) / 2, on the first layer only
    assert hidden.kernel_regularizer.get_config()["l2"] == pytest.approx(2.5e-4)
    assert output.kernel_regularizer is None


def test_gat_is_the_papers_cora_network():
    model = gnn.gat_classifier(1433, 7, sparse_features=True)
    hidden, output = model.get_layer("hidden_conv"), model.get_layer("output_conv")
    assert isinstance(model.get_layer("input_dropout"), SparseDropout) and model.get_layer("input_dropout").rate == 0.6
    assert (hidden.heads, hidden.units, hidden.concat_heads, hidden.attention_dropout) == (8, 8, True, 0.6)
    assert keras.activations.serialize(hidden.activation) == "elu"
    assert (output.heads, output.units, output.concat_heads) == (1, 7, False)
    assert output.attention_regularizer.get_config()["l2"] == pytest.approx(2.5e-4)
    # kernel, two attention vectors and a bias per layer
    assert model.count_params() == (1433 * 64 + 2 * 64 + 64) + (64 * 7 + 2 * 7 + 7)


@pytest.mark.parametrize("kind", sorted(BUILDERS))
def test_one_fit_step_changes_weights_and_save_load(kind, tmp_path):
    keras.utils.set_random_seed(0)
    g, a = _karate()
    model = BUILDERS[kind](34, 2, name=kind)
    model.compile(optimizer=keras.optimizers.Adam(0.01),
                  loss=keras.losses.SparseCategoricalCrossentropy(from_logits=True), weighted_metrics=["accuracy"])
    before = [w.copy() for w in model.get_weights()]
    data = graphs.full_graph_dataset(g.features, a, g.labels, np.array([0, 33]))
    history = model.fit(data, epochs=2, verbose=0, shuffle=False)
    assert np.all(np.isfinite(history.history["loss"]))
    assert any(not np.allclose(b, w) for b, w in zip(before, model.get_weights()))
    x = tf.constant(g.features)
    logits = model([x, a]).numpy()
    assert logits.shape == (34, 2)
    hidden = gnn.hidden_representation(model)([x, a]).numpy()
    assert hidden.shape == (34, 64 if kind == "gat" else 16)
    path = str(tmp_path / f"{kind}.keras")
    model.save(path)
    np.testing.assert_allclose(keras.models.load_model(path)([x, a]).numpy(), logits, rtol=1e-6, atol=1e-6)


def test_edge_index_adjacency_equals_sparse_adjacency():
    g, a = _karate()
    both = np.concatenate([g.edges[:, ::-1], g.edges])  # any order
    built = gnn.edge_index_adjacency(tf.constant(both), 34)
    np.testing.assert_array_equal(tf.sparse.to_dense(built).numpy(), tf.sparse.to_dense(a).numpy())


@pytest.mark.slow
def test_exported_classifiers_serve_without_keras_gen(tmp_path):
    keras.utils.set_random_seed(1)
    g, a = _karate()
    both = np.concatenate([g.edges, g.edges[:, ::-1]]).astype(np.int64)
    np.save(tmp_path / "x.npy", g.features)
    np.save(tmp_path / "edges.npy", both)
    expected, paths = {}, {}
    for kind, sparse in (("gcn", False), ("gat", True), ("sage", True)):
        model = BUILDERS[kind](34, 2, sparse_features=sparse, name=kind)
        x = g.feature_tensor(sparse=sparse)
        expected[kind] = model([x, a], training=False).numpy()
        paths[kind] = gnn.export_node_classifier(model, f"karate_{kind}", base_dir=str(tmp_path / "saved"))
        assert paths[kind].endswith(f"karate_{kind}/1")
    out = run_fresh_python(f"""
        import json, sys
        import numpy as np
        import tensorflow as tf
        x = tf.constant(np.load({str(tmp_path / 'x.npy')!r}))
        edges = tf.constant(np.load({str(tmp_path / 'edges.npy')!r}))
        result = {{}}
        for kind, path in {json.dumps(paths)}.items():
            sig = tf.saved_model.load(path).signatures["serving_default"]
            out = sig(features=x, edge_index=edges)
            result[kind] = {{k: v.numpy().tolist() for k, v in out.items()}}
        result["keras_gen_imported"] = any(m.startswith("keras_gen") for m in sys.modules)
        print(json.dumps(result))
    """, without_keras_gen=True)
    assert out["keras_gen_imported"] is False
    for kind in paths:
        np.testing.assert_allclose(out[kind]["logits"], expected[kind], rtol=1e-5, atol=1e-5)
        np.testing.assert_allclose(np.sum(out[kind]["probabilities"], axis=1), 1.0, rtol=1e-5)


def test_layers_are_exported_from_the_package():
    import keras_gen.layers as layers

    assert layers.GCNConv is GCNConv and layers.GATConv is GATConv and layers.SAGEConv is SAGEConv
