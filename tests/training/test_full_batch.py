"""`fit_full_batch` against `model.fit` on a small random graph: the same logs and weights, to the bit."""
import types

import numpy as np
import keras
import pytest
import tensorflow as tf

from keras_gen.data.graphs import full_graph_dataset, sparse_adjacency
from keras_gen.errors import KerasGenError
from keras_gen.models import gnn
from keras_gen.training.early_stopping import LossOrAccuracyStopping, LossWindowStopping
from keras_gen.training.full_batch import fit_full_batch


def _graph(seed=0, n=60, f=20, classes=3):
    rng = np.random.default_rng(seed)
    edges = np.array([(i, j) for i in range(n) for j in range(i + 1, n) if rng.random() < 0.08])
    features = (rng.random((n, f)) < 0.2).astype("float32")
    labels = rng.integers(0, classes, n)
    a = tf.sparse.reorder(sparse_adjacency(edges, n))
    x = tf.sparse.from_dense(features)
    order = rng.permutation(n)
    train = full_graph_dataset(x, a, labels, order[:20]).cache()
    val = full_graph_dataset(x, a, labels, order[20:40]).cache()
    return train, val, f, classes


def _model(kind, f, classes):
    keras.utils.set_random_seed(3)
    if kind == "gat":  # dropout on inputs, hidden units and attention: the random streams must match too
        model = gnn.gat_classifier(f, classes, heads=2, hidden=4, sparse_features=True)
    else:
        model = gnn.gcn_classifier(f, classes, hidden=8, sparse_features=True)
    model.compile(optimizer=keras.optimizers.Adam(0.05),
                  loss=keras.losses.SparseCategoricalCrossentropy(from_logits=True), weighted_metrics=["accuracy"])
    return model


@pytest.mark.parametrize("kind, make_callback", [
    ("gat", lambda: LossOrAccuracyStopping(patience=4)),
    ("gcn", lambda: LossWindowStopping(window=3)),
    ("gcn", lambda: None),
])
def test_same_logs_weights_and_stopping_epoch_as_fit(kind, make_callback):
    train, val, f, classes = _graph()
    runs = []
    for trainer in ("fit", "full_batch"):
        model = _model(kind, f, classes)
        callback = make_callback()
        callbacks = [callback] if callback else []
        if trainer == "fit":
            history = model.fit(train, validation_data=val, epochs=40, callbacks=callbacks, verbose=0,
                                shuffle=False).history
        else:
            history = fit_full_batch(model, train, val, epochs=40, callbacks=callbacks)
        runs.append((history, model.get_weights(), getattr(callback, "stopped_epoch", None)))
    (h_fit, w_fit, stop_fit), (h_full, w_full, stop_full) = runs
    assert sorted(h_fit) == sorted(h_full) == ["accuracy", "loss", "val_accuracy", "val_loss"]
    for key in h_fit:
        np.testing.assert_array_equal(np.float32(h_fit[key]), np.float32(h_full[key]), err_msg=key)
    assert stop_fit == stop_full
    if make_callback() is not None:
        assert len(h_fit["loss"]) < 40  # the rule fired: the comparison covers stopping and restoring
    for a, b in zip(w_fit, w_full):
        np.testing.assert_array_equal(a, b)


def test_bad_arguments_are_one_line_errors():
    train, val, f, classes = _graph()
    model = _model("gcn", f, classes)
    with pytest.raises(KerasGenError, match="epochs must be >= 1"):
        fit_full_batch(model, train, val, epochs=0)
    with pytest.raises(KerasGenError, match="train must be a dataset of one full-graph batch.*got 2"):
        fit_full_batch(model, train.repeat(2), val, epochs=3)
    with pytest.raises(KerasGenError, match="validation must be a dataset of one"):
        fit_full_batch(model, train, val.repeat(), epochs=3)
    in_two_replicas = types.SimpleNamespace(distribute_strategy=types.SimpleNamespace(num_replicas_in_sync=2))
    with pytest.raises(KerasGenError, match="one device; the model is in a strategy of 2 replicas"):
        fit_full_batch(in_two_replicas, train, val, epochs=3)
