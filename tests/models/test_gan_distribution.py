"""N replicas at global batch B make exactly the update of one replica at batch B (GAN, WGAN-GP).

Runs in a subprocess: the 2 logical CPU devices must exist before TensorFlow initialises.
"""
import pytest

from tests.helpers import run_fresh_python

SCRIPT = """
import json
from keras_gen.training.strategy import get_strategy, setup_logical_cpus
setup_logical_cpus(2)
import numpy as np, tensorflow as tf, keras
from keras_gen.models import GAN, WGANGP, mlp_generator, mlp_discriminator, dcgan_generator, dcgan_discriminator
from tests.models.replica_check import compare, sgd, train

def players(kind):
    if kind == "dcgan":
        return dcgan_generator(latent_dim=4, width=4), dcgan_discriminator(width=4)
    return mlp_generator(2, 3, (8, 8)), mlp_discriminator(2, (8, 8))

def builder(cls, kind, **kw):
    return lambda: cls(*players(kind), seed=11, **kw)

rng = np.random.RandomState(0)
cases = {"gan_mlp": (builder(GAN, "mlp"), rng.normal(size=(24, 2)).astype("float32"), 0.1),
         "gan_mlp_reuse_fakes": (builder(GAN, "mlp", reuse_fakes=True),
                                 rng.normal(size=(24, 2)).astype("float32"), 0.1),
         "wgangp_mlp": (builder(WGANGP, "mlp", n_critic=2), rng.normal(size=(24, 2)).astype("float32"), 0.01),
         "gan_dcgan": (builder(GAN, "dcgan"), rng.uniform(-1, 1, size=(24, 28, 28, 1)).astype("float32"), 0.1)}
# Compared with SGD: Adam's m / sqrt(v) turns the float round-off of near-zero gradients
# (the summation order differs across replicas) into lr-sized steps, so its weights can
# differ by ~1e-4 from run to run even on one replica. Adam under 2 replicas is checked
# separately below (optimizers built in scope: fit must run and give finite losses).
mirrored = get_strategy("mirrored")
out = {"replicas": mirrored.num_replicas_in_sync}
for name, (build, data, lr) in cases.items():
    out[name] = compare(build, data, mirrored, optimizer=sgd(lr))
_, _, logs, _ = train(builder(WGANGP, "mlp"), mirrored, cases["wgangp_mlp"][1],
                      optimizer=lambda: keras.optimizers.Adam(1e-2))
out["adam_mirrored_finite"] = all(np.isfinite(v) for v in logs.values())
print(json.dumps(out))
"""


@pytest.mark.slow
def test_two_replicas_equal_one_replica_at_the_same_global_batch():
    out = run_fresh_python(SCRIPT, timeout=600)
    assert out["replicas"] == 2
    assert out["adam_mirrored_finite"]
    for name in ("gan_mlp", "gan_mlp_reuse_fakes", "wgangp_mlp", "gan_dcgan"):
        res = out[name]
        assert res["max_change"] > 1e-3, name  # the weights really moved
        assert res["max_abs_diff"] < 1e-5, (name, res)
        for key, value in res["logs1"].items():
            assert abs(value - res["logs2"][key]) < 1e-4 * max(1.0, abs(value)), (name, key)
