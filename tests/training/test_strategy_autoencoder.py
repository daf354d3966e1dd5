"""Distribution: 2 MirroredStrategy replicas at global batch B make the update of 1 at B."""
import os
import subprocess
import sys

import numpy as np
import pytest

from keras_gen.errors import KerasGenError

SCRIPT = r"""
import sys
import numpy as np
from keras_gen.training.strategy import setup_logical_cpus
setup_logical_cpus(2)  # before TensorFlow initialises
import keras
import tensorflow as tf
from keras_gen.models.autoencoder import group_meeting_autoencoder
from keras_gen.training import get_strategy, jit_compile_for

rng = np.random.default_rng(0)
x = (rng.random((96, 2, 88, 1)) < 0.1).astype("float32")
results = {}
for name in ("default", "mirrored"):
    strategy = get_strategy(name)
    with strategy.scope():
        keras.utils.set_random_seed(7)
        model = group_meeting_autoencoder(l1=1e-3, l2=1e-3, initialization="glorot")
        model.compile(optimizer=keras.optimizers.Adam(1e-2), loss="mse", jit_compile=jit_compile_for(strategy))
    ds = tf.data.Dataset.from_tensor_slices((x, x)).batch(32)  # global batch 32, 3 steps
    model.fit(ds, epochs=2, verbose=0)
    results[name] = (strategy.num_replicas_in_sync, [w.numpy() for w in model.weights])
assert results["default"][0] == 1 and results["mirrored"][0] == 2, (results["default"][0], results["mirrored"][0])
diff = max(float(np.abs(a - b).max()) for a, b in zip(results["default"][1], results["mirrored"][1]))
moved = max(float(np.abs(a).max()) for a in results["default"][1])
print("MAXDIFF", diff, "SCALE", moved)
"""


@pytest.mark.slow
def test_two_replicas_equal_one_replica(tmp_path):
    script = tmp_path / "mirror.py"
    script.write_text(SCRIPT)
    root = os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__))))
    env = dict(os.environ, TF_CPP_MIN_LOG_LEVEL="2", PYTHONPATH=root)
    out = subprocess.run([sys.executable, str(script)], capture_output=True, text=True, env=env)
    assert out.returncode == 0, out.stderr[-3000:]
    line = [l for l in out.stdout.splitlines() if l.startswith("MAXDIFF")][0].split()
    diff, scale = float(line[1]), float(line[3])
    assert scale > 0.01  # the weights really trained
    assert diff <= 1e-5, f"2 replicas differ from 1 replica by {diff}"


def test_unknown_strategy_is_named():
    from keras_gen.training import get_strategy, jit_compile_for

    with pytest.raises(KerasGenError, match="unknown strategy 'mirored'.*mirrored"):
        get_strategy("mirored")
