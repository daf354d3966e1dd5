"""The in-process parts of multi-worker training: the extra draw Keras makes under a
non-default strategy (patched), Keras's BackupAndRestore record that resuming reads,
`agree` outside a cluster, and the one-line error of a lost worker."""
import json

import keras
import numpy as np
import pytest
import tensorflow as tf

from keras_gen import training
from keras_gen.training import multiworker


def _counting_dataset(opened):
    def gen():
        opened.append(1)  # one entry per iterator Keras opens
        for i in range(4):
            yield np.full((2,), i, np.float32), np.float32(i)

    spec = (tf.TensorSpec((2,), tf.float32), tf.TensorSpec((), tf.float32))
    return tf.data.Dataset.from_generator(gen, output_signature=spec).batch(2)


def _model():
    model = keras.Sequential([keras.Input((2,)), keras.layers.Dense(1)])
    model.compile(optimizer="sgd", loss="mse")
    return model


def test_keras_still_draws_an_extra_batch_under_a_strategy_and_the_patch_does_not():
    from keras.src.backend.tensorflow.trainer import TFEpochIterator

    strategy = tf.distribute.MirroredStrategy(["/cpu:0"])
    with strategy.scope():
        model = _model()
    opened = []
    it = TFEpochIterator(x=_counting_dataset(opened), distribute_strategy=strategy)
    multiworker._ORIGINAL_MAYBE_SYMBOLIC_BUILD(model, iterator=it)
    # Keras 3.15 opens an iterator and pulls a batch only to learn the shapes. If this
    # fails, Keras stopped doing it: patch 3 of keras_gen.training.multiworker can go.
    assert len(opened) == 1
    opened.clear()
    with strategy.scope():
        model = _model()
    it = TFEpochIterator(x=_counting_dataset(opened), distribute_strategy=strategy)
    model._maybe_symbolic_build(iterator=it)  # patched: shapes from element_spec
    assert opened == [] and model.built
    model.fit(_counting_dataset(opened), epochs=2, verbose=0)
    assert len(opened) == 2  # one iterator per epoch, none extra


def test_a_reshuffling_pipeline_trains_the_same_under_mirrored_and_default():
    x = np.random.RandomState(0).normal(size=(16, 2)).astype("float32")
    y = x @ np.array([[1.0], [-2.0]], np.float32)
    results = []
    for strategy in (tf.distribute.get_strategy(), tf.distribute.MirroredStrategy(["/cpu:0"])):
        keras.utils.set_random_seed(1)
        with strategy.scope():
            model = keras.Sequential([keras.Input((2,)), keras.layers.Dense(1)])
            model.compile(optimizer=keras.optimizers.SGD(0.1), loss="mse")
        ds = tf.data.Dataset.from_tensor_slices((x, y)).shuffle(16, seed=3, reshuffle_each_iteration=True).batch(4)
        model.fit(ds, epochs=2, verbose=0, shuffle=False)
        results.append(model.get_weights())
    for a, b in zip(*results):
        np.testing.assert_allclose(a, b, rtol=0, atol=1e-6)


def test_backup_epoch_reads_keras_backup_and_restore_record(tmp_path):
    backup = tmp_path / "backup"
    assert training.backup_epoch(str(backup)) == 0
    model = _model()
    x = np.ones((4, 2), np.float32)
    model.fit(x, x[:, :1], epochs=2, verbose=0,
              callbacks=[keras.callbacks.BackupAndRestore(str(backup), delete_checkpoint=False)])
    # The record Keras 3.15 writes; if its format changes, `backup_epoch` must follow.
    record = json.loads((backup / "training_metadata.json").read_text())
    assert set(record) == {"epoch", "batch"} and record["epoch"] == 2
    assert training.backup_epoch(str(backup)) == 2


def test_agree_outside_a_cluster_returns_the_values():
    np.testing.assert_array_equal(training.agree([3, 1], op="MIN"), [3, 1])
    assert not multiworker.is_multi_worker(tf.distribute.get_strategy())


def test_lost_worker_errors_become_one_line_only_inside_a_cluster(monkeypatch):
    from keras_gen import cli

    err = tf.errors.UnavailableError(None, None, "Collective ops is aborted by: task 1 is unhealthy\nmore")
    monkeypatch.delenv("TF_CONFIG", raising=False)
    monkeypatch.delenv("SLURM_JOB_ID", raising=False)
    assert not cli._lost_worker(err)
    monkeypatch.setenv("TF_CONFIG", "{}")
    assert cli._lost_worker(err) and not cli._lost_worker(ValueError("x"))


@pytest.mark.parametrize("name", ["float32", "mixed_bfloat16"])
def test_configure_sets_the_global_policy(name):
    try:
        training.configure(precision=name)
        assert keras.mixed_precision.global_policy().name == name
    finally:
        keras.mixed_precision.set_global_policy("float32")


def test_one_strategy_per_name_per_process():
    # A second MultiWorkerMirroredStrategy in one process breaks the first one's
    # collective: every reproduction asks get_strategy and gets the same object.
    assert training.get_strategy("mirrored") is training.get_strategy("mirrored")
    assert training.get_strategy("default") is tf.distribute.get_strategy()
    strategy = training.get_strategy("mirrored")
    assert training.get_strategy(strategy) is strategy


def test_steps_per_execution_is_kept_on_one_worker():
    # across workers it is 1 (the failing case is kept in tests/distributed/test_multiworker.py)
    assert training.steps_per_execution_for(training.get_strategy("default"), 25) == 25
    assert training.steps_per_execution_for(training.get_strategy("mirrored"), 7) == 7
    with pytest.raises(ValueError, match="steps_per_execution must be >= 1"):
        training.steps_per_execution_for(training.get_strategy("default"), 0)
