"""WGAN with weight clipping (issue 14, item 7): 2 MirroredStrategy replicas (logical CPUs)
at global batch B make exactly the update of one replica at B, the clipping included.

Runs in a subprocess: the 2 logical CPU devices must exist before TensorFlow initialises.
"""
import pytest

from tests.helpers import run_fresh_python

SCRIPT = """
import json
from keras_gen.training.strategy import get_strategy, setup_logical_cpus
setup_logical_cpus(2)
import numpy as np, tensorflow as tf
from keras_gen.models import WGAN, mlp_discriminator, mlp_generator
from tests.models.replica_check import compare, sgd

def build():
    # clip_value 0.05 with lr 0.05: the critic's weights reach the clip in the first steps.
    return WGAN(mlp_generator(2, 3, (8, 8)), mlp_discriminator(2, (8, 8)), clip_value=0.05, n_critic=2, seed=11)

data = np.random.RandomState(0).normal(size=(24, 2)).astype("float32")
mirrored = get_strategy("mirrored")
res = compare(build, data, mirrored, optimizer=sgd(0.05))
tf.random.set_seed(0)
with mirrored.scope():
    model = build()
    model.compile(d_optimizer=sgd(0.05)(), g_optimizer=sgd(0.05)())
model.fit(tf.data.Dataset.from_tensor_slices(data).batch(8, drop_remainder=True), epochs=1, verbose=0)
res["critic_max_abs"] = max(float(np.max(np.abs(w.numpy()))) for w in model.discriminator.trainable_weights)
res["replicas"] = mirrored.num_replicas_in_sync
print(json.dumps(res))
"""


@pytest.mark.slow
def test_wgan_with_clipping_two_replicas_equal_one_replica():
    out = run_fresh_python(SCRIPT, timeout=900)
    assert out["replicas"] == 2
    assert out["max_change"] > 1e-3, out
    assert out["max_abs_diff"] < 1e-5, out
    assert out["critic_max_abs"] <= 0.05 + 1e-7  # clipped on every replica
    for key, value in out["logs1"].items():
        assert abs(value - out["logs2"][key]) < 1e-4 * max(1.0, abs(value)), key
