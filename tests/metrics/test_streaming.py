"""Streaming Keras metrics equal the batch functions on all the rows they saw."""
import os
import subprocess
import sys
import textwrap

import keras
import numpy as np
import pytest
import tensorflow as tf

from keras_gen.errors import KerasGenError
from keras_gen.metrics import frechet_distance, inception_score, mmd2
from keras_gen.metrics.streaming import FrechetDistance, InceptionScore, MeanMMD2


def _features(seed, n=90, d=6):
    rng = np.random.default_rng(seed)
    fa = rng.normal(size=(n, d)) @ rng.normal(size=(d, d)) + 3.0
    fb = rng.normal(loc=3.5, scale=1.2, size=(n + 17, d))
    return fa.astype(np.float32), fb.astype(np.float32)


def test_streaming_fid_equals_the_batch_one_eager_and_in_a_tf_function():
    fa, fb = _features(0)
    expected = frechet_distance(fa, fb)
    metric = FrechetDistance(num_features=6)
    assert np.isnan(float(metric.result()))  # nothing seen yet
    for i in range(0, len(fa), 32):
        metric.update_state(fa[i : i + 32])  # side a alone
    for i in range(0, len(fb), 25):
        metric.update_state(None, fb[i : i + 25])  # side b alone
    assert float(metric.result()) == pytest.approx(expected, rel=1e-9)

    metric.reset_state()
    update = tf.function(metric.update_state)
    for i in range(0, len(fb), 30):
        update(fa[i : i + 30] if i < len(fa) else fa[:0], fb[i : i + 30])
    assert float(metric.result()) == pytest.approx(expected, rel=1e-9)


def test_streaming_fid_inside_compile_and_evaluate():
    keras.utils.set_random_seed(0)
    x = np.random.default_rng(1).normal(size=(128, 5)).astype("float32")
    y = (x * 2.0 + 1.0).astype("float32")
    model = keras.Sequential([keras.Input((5,)), keras.layers.Dense(5)])
    model.compile(loss="mse", metrics=[FrechetDistance(num_features=5)])
    result = model.evaluate(x, y, batch_size=32, verbose=0, return_dict=True)
    expected = frechet_distance(y, model.predict(x, verbose=0))
    assert result["frechet_distance"] == pytest.approx(expected, rel=1e-5)


def test_streaming_fid_with_a_feature_extractor_and_config_round_trip():
    extractor = keras.Sequential([keras.Input((4,)), keras.layers.Dense(3, kernel_initializer="ones")])
    metric = FrechetDistance(num_features=3, feature_extractor=extractor, name="fid_dense")
    xa, xb = _features(2, n=40, d=4)
    metric.update_state(xa, xb)
    expected = frechet_distance(extractor(xa).numpy(), extractor(xb).numpy())
    assert float(metric.result()) == pytest.approx(expected, rel=1e-6)
    clone = FrechetDistance.from_config(metric.get_config())
    assert clone.name == "fid_dense" and clone.num_features == 3
    clone.update_state(xa, xb)
    assert float(clone.result()) == pytest.approx(expected, rel=1e-6)
    restored = keras.saving.deserialize_keras_object(keras.saving.serialize_keras_object(metric))
    assert isinstance(restored, FrechetDistance)
    with pytest.raises(KerasGenError, match="expected 3"):
        FrechetDistance(num_features=3).update_state(np.zeros((2, 5), "float32"))


def test_streaming_inception_score_equals_the_one_split_score():
    rng = np.random.default_rng(3)
    logits = rng.normal(scale=3.0, size=(200, 10)).astype("float32")
    probs = tf.nn.softmax(logits).numpy()
    metric = InceptionScore(num_classes=10)
    for i in range(0, 200, 64):
        metric.update_state(probs[i : i + 64])
    assert float(metric.result()) == pytest.approx(inception_score(probs, splits=1)[0], rel=1e-6)
    from_logits = InceptionScore(num_classes=10, from_logits=True)
    from_logits.update_state(None, logits)  # compile-style (y_true, y_pred)
    assert float(from_logits.result()) == pytest.approx(float(metric.result()), rel=1e-6)
    one_hot = InceptionScore(num_classes=4)
    one_hot.update_state(np.eye(4, dtype="float32"))
    assert float(one_hot.result()) == pytest.approx(4.0)
    assert InceptionScore.from_config(metric.get_config()).num_classes == 10


def test_mean_mmd2_is_the_mean_of_per_batch_unbiased_mmd2():
    rng = np.random.default_rng(4)
    xs = [rng.normal(size=(20, 3)) for _ in range(3)]
    ys = [rng.normal(loc=0.4, size=(25, 3)) for _ in range(3)]
    metric = MeanMMD2(bandwidths=(0.5, 2.0))
    for x, y in zip(xs, ys):
        metric.update_state(x, y)
    expected = np.mean([mmd2(x, y, bandwidths=(0.5, 2.0)) for x, y in zip(xs, ys)])
    assert float(metric.result()) == pytest.approx(expected, rel=1e-10)
    assert MeanMMD2.from_config(metric.get_config()).bandwidths == (0.5, 2.0)


_TWO_REPLICAS = """
from keras_gen.training.strategy import setup_logical_cpus
setup_logical_cpus(2)
import numpy as np, tensorflow as tf
from keras_gen.metrics import frechet_distance
from keras_gen.metrics.streaming import FrechetDistance
rng = np.random.default_rng(0)
fa = (rng.normal(size=(96, 4)) @ rng.normal(size=(4, 4)) + 2.0).astype("float32")
fb = rng.normal(loc=1.0, size=(96, 4)).astype("float32")
strategy = tf.distribute.MirroredStrategy(["/cpu:0", "/cpu:1"])
assert strategy.num_replicas_in_sync == 2
with strategy.scope():
    metric = FrechetDistance(num_features=4)
ds = strategy.experimental_distribute_dataset(tf.data.Dataset.from_tensor_slices((fa, fb)).batch(32))
@tf.function
def step(a, b):
    strategy.run(metric.update_state, args=(a, b))
for a, b in ds:
    step(a, b)
print("RESULT", float(metric.result()), frechet_distance(fa, fb))
"""


def test_streaming_fid_sums_across_two_replicas():
    env = dict(os.environ, TF_CPP_MIN_LOG_LEVEL="2", PYTHONPATH=os.getcwd())
    out = subprocess.run([sys.executable, "-c", textwrap.dedent(_TWO_REPLICAS)], capture_output=True,
                         text=True, env=env, timeout=300)
    assert out.returncode == 0, out.stderr[-2000:]
    line = [l for l in out.stdout.splitlines() if l.startswith("RESULT")][0]
    streamed, batch = map(float, line.split()[1:])
    assert streamed == pytest.approx(batch, rel=1e-9)
