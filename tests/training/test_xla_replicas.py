"""XLA with 2 MirroredStrategy replicas (logical CPUs) still fails, which is why
`jit_compile_for` compiles only single-replica steps. When this test fails, XLA works
across replicas: let `jit_compile_for` return True there too (and rerun the 2-replica tests).

Runs in a subprocess: the 2 logical CPU devices must exist before TensorFlow initialises.
"""
import pytest

from tests.helpers import run_fresh_python

SCRIPT = """
import json
from keras_gen.training.strategy import setup_logical_cpus
setup_logical_cpus(2)
import keras, numpy as np, tensorflow as tf
from keras_gen.models import group_meeting_autoencoder
from keras_gen.training import jit_compile_for

mirrored = tf.distribute.MirroredStrategy(["/cpu:0", "/cpu:1"])
x = (np.random.RandomState(0).uniform(size=(16, 2, 88, 1)) < 0.1).astype("float32")
out = {"jit_compile_for": jit_compile_for(mirrored), "single": jit_compile_for(tf.distribute.get_strategy())}
with mirrored.scope():  # variables created in scope, on each device
    model = group_meeting_autoencoder()
    model.compile(optimizer="adam", loss="mse", jit_compile=True)
try:
    model.fit(x, x, batch_size=8, epochs=1, verbose=0)
    out["error"] = None
except Exception as err:
    out["error"] = f"{type(err).__name__}: {err}"
print(json.dumps(out))
"""


@pytest.mark.slow
def test_xla_under_two_mirrored_replicas_still_fails_on_cpu():
    out = run_fresh_python(SCRIPT, timeout=900, env_extra={"KERAS_GEN_XLA": "on"}, own_process=True)
    assert out["jit_compile_for"] is False and out["single"] is True
    assert out["error"] is not None, "XLA now works with 2 replicas: let jit_compile_for compile them too"
    assert "InvalidArgumentError" in out["error"] and "located in device" in out["error"], out["error"][:2000]
