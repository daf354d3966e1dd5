"""`steady_prefetch`: the same elements in the same order, with tf.data's autotuner off everywhere."""
import pathlib

import numpy as np
import tensorflow as tf

import keras_gen.data as kd
from reproductions import common

ROOT = pathlib.Path(__file__).resolve().parents[2]


def _epochs(ds, n):
    return [[np.asarray(b) for b in ds] for _ in range(n)]


def test_same_elements_and_order_as_a_plain_prefetch():
    x = np.arange(200, dtype="float32").reshape(100, 2)

    def base():
        return tf.data.Dataset.from_tensor_slices(x).shuffle(100, seed=5, reshuffle_each_iteration=True).batch(16)

    plain = _epochs(base().prefetch(tf.data.AUTOTUNE), 3)
    steady_ds = base().apply(kd.steady_prefetch)
    steady = _epochs(steady_ds, 3)
    assert steady_ds.options().autotune.enabled is False
    for a_epoch, b_epoch in zip(plain, steady):
        assert len(a_epoch) == len(b_epoch) == 7
        for a, b in zip(a_epoch, b_epoch):
            np.testing.assert_array_equal(a, b)
    assert not np.array_equal(steady[0][0], steady[1][0])  # still reshuffled every epoch


def test_every_pipeline_the_library_builds_has_the_autotuner_off():
    x = np.random.RandomState(0).rand(64, 28, 28, 1).astype("float32")
    pipelines = {
        "load(toy)": kd.load("toy_ring8", batch_size=32),
        "toy_dataset": kd.toy_dataset("toy_grid25", n=100, batch_size=10),
        "tanh_digit_batches": common.tanh_digit_batches(x, 16, seed=0).dataset(2),
        "tanh_digit_batches(labels)": common.tanh_digit_batches(x, 16, seed=0, labels=np.arange(64)).dataset(2),
    }
    for name, ds in pipelines.items():
        assert ds.options().autotune.enabled is False, name


def test_no_module_prefetches_with_the_autotuner():
    """A source guard: new pipelines go through `steady_prefetch` (see its docstring for why)."""
    offenders = []
    home = ROOT / "keras_gen" / "data" / "batching.py"  # where steady_prefetch itself calls prefetch
    for folder in ("keras_gen", "reproductions", "benchmarks"):
        for path in sorted((ROOT / folder).rglob("*.py")):
            for i, line in enumerate(path.read_text().splitlines(), 1):
                if ".prefetch(" in line and path != home:
                    offenders.append(f"{path.relative_to(ROOT)}:{i}: {line.strip()}")
    assert offenders == [], "\n".join(offenders)
