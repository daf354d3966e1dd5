"""S11 tricks under MirroredStrategy: 2 replicas at global batch B make the update of 1 replica.

Spectral normalisation (the power-iteration vector u is a mirrored non-trainable
variable updated in every training call), feature matching (a loss of global-batch
means, gathered across replicas), one-sided label smoothing, the f-GAN losses and R1
(a per-example penalty; on the DCGAN D it runs through synchronized BatchNorm).
Runs in a subprocess: the 2 logical CPU devices must exist before TensorFlow initialises.
"""
import json

import pytest

from tests.helpers import run_fresh_python

# R1 on the DCGAN pair is also compared across 2 workers (tests/distributed/test_multiworker.py);
# the MLP variants of spectral normalisation, feature matching and R1 repeat the DCGAN
# variants' code on smaller networks. Those four cases (~40 s on 2 cores) run with
# `pytest -m extended`, to keep the default run under 20 minutes.
DEFAULT_CASES = ("wgangp_sn_mlp", "gan_sn_dcgan", "gan_feature_matching_dcgan", "fgan_kl_mlp")
EXTENDED_CASES = ("gan_sn_mlp", "gan_feature_matching_mlp", "gan_r1_mlp", "gan_r1_dcgan")

SCRIPT = """
import json, os
from keras_gen.training.strategy import get_strategy, setup_logical_cpus
setup_logical_cpus(2)
import numpy as np, tensorflow as tf, keras
from keras_gen.models import (GAN, FGAN, WGANGP, dcgan_discriminator, dcgan_generator, mlp_discriminator,
                              mlp_generator, spectral_normalize)
from tests.models.replica_check import compare, sgd, train

def players(kind):
    if kind == "dcgan_sn":
        return dcgan_generator(latent_dim=4, width=4), spectral_normalize(dcgan_discriminator(width=4))
    d = mlp_discriminator(2, (8, 8))
    return mlp_generator(2, 3, (8, 8)), (spectral_normalize(d) if kind == "mlp_sn" else d)

def builder(cls, kind, **kw):
    return lambda: cls(*players(kind), seed=11, **kw)

rng = np.random.RandomState(0)
points = rng.normal(size=(24, 2)).astype("float32")
images = rng.uniform(-1, 1, size=(24, 28, 28, 1)).astype("float32")
cases = {
    "gan_sn_mlp": (builder(GAN, "mlp_sn"), points, 0.1),
    "wgangp_sn_mlp": (builder(WGANGP, "mlp_sn", n_critic=2), points, 0.01),
    "gan_sn_dcgan": (builder(GAN, "dcgan_sn"), images, 0.05),
    "gan_feature_matching_mlp": (builder(GAN, "mlp", generator_loss="feature_matching", feature_layer="hidden1_lrelu",
                                         label_smoothing=0.1), points, 0.1),
    "gan_feature_matching_dcgan": (builder(GAN, "dcgan_sn", generator_loss="feature_matching",
                                           feature_layer="down1_lrelu"), images, 0.002),
    "fgan_kl_mlp": (builder(FGAN, "mlp", divergence="kl"), points, 0.02),
    "gan_r1_mlp": (builder(GAN, "mlp", r1_weight=1.0), points, 0.1),
    "gan_r1_dcgan": (lambda: GAN(dcgan_generator(latent_dim=4, width=4), dcgan_discriminator(width=4), seed=11,
                                 r1_weight=1.0), images, 0.02),
}
mirrored = get_strategy("mirrored")
out = {"replicas": mirrored.num_replicas_in_sync}
for name in json.loads(os.environ["CASES"]):
    build, data, lr = cases[name]
    # Every weight (spectral norm's u too) must agree; "moved" is measured on trainable ones.
    out[name] = compare(build, data, mirrored, optimizer=sgd(lr), seed=7)  # seed 7: the same initial weights and u
if os.environ.get("ADAM") == "1":
    _, _, logs, _ = train(builder(GAN, "mlp_sn", generator_loss="feature_matching", feature_layer="hidden0_lrelu"),
                          mirrored, points, optimizer=lambda: keras.optimizers.Adam(1e-2), seed=7)
    out["adam_mirrored_finite"] = all(np.isfinite(v) for v in logs.values())
print(json.dumps(out))
"""


def _check(names, adam):
    out = run_fresh_python(SCRIPT, timeout=900, env_extra={"CASES": json.dumps(names), "ADAM": "1" if adam else "0"})
    assert out["replicas"] == 2
    if adam:
        assert out["adam_mirrored_finite"]
    assert set(names) <= set(out), (names, sorted(out))
    for name in names:
        res = out[name]
        assert res["max_change"] > 1e-3, name  # the weights really moved
        # float32 round-off (summation order differs across replicas, e.g. synchronized
        # BatchNorm's all-reduce) grows with how far the weights move.
        assert res["max_abs_diff"] < 1e-5 * max(1.0, res["max_change"]), (name, res)
        for key, value in res["logs1"].items():
            assert abs(value - res["logs2"][key]) < 1e-4 * max(1.0, abs(value)), (name, key, res)


@pytest.mark.slow
def test_two_replicas_equal_one_replica_with_gan_tricks():
    _check(DEFAULT_CASES, adam=True)


@pytest.mark.extended
def test_two_replicas_equal_one_replica_with_the_mlp_and_r1_variants():
    _check(EXTENDED_CASES, adam=False)
