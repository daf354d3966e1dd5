"""Small shared pieces of the GAN model tests (tiny MLP players, data, a fresh-process runner)."""
import json
import os
import subprocess
import sys
import textwrap

import numpy as np
import tensorflow as tf

from keras_gen.models import mlp_discriminator, mlp_generator

ROOT = os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__))))


def tiny_players(data_dim=2, latent_dim=3, hidden=(8,)):
    return mlp_generator(data_dim, latent_dim, hidden), mlp_discriminator(data_dim, hidden)


def toy_data(n=64, dim=2, seed=0):
    return np.random.RandomState(seed).normal(size=(n, dim)).astype("float32") + 2.0


def toy_dataset(batch=16, n=64, dim=2):
    return tf.data.Dataset.from_tensor_slices(toy_data(n, dim)).batch(batch, drop_remainder=True)


def run_fresh_python(code, timeout=300, env_extra=None):
    """Runs `code` in a new interpreter (TF not yet initialised); returns the JSON it prints last."""
    env = dict(os.environ, TF_CPP_MIN_LOG_LEVEL="2", PYTHONPATH=ROOT)
    env.update(env_extra or {})
    proc = subprocess.run([sys.executable, "-c", textwrap.dedent(code)], capture_output=True, text=True,
                          timeout=timeout, env=env, cwd=ROOT)
    assert proc.returncode == 0, proc.stderr[-3000:]
    return json.loads(proc.stdout.strip().splitlines()[-1])
