"""S11 tricks under MirroredStrategy: 2 replicas at global batch B make the update of 1 replica.

Spectral normalisation (the power-iteration vector u is a mirrored non-trainable
variable updated in every training call), feature matching (a loss of global-batch
means, gathered across replicas), one-sided label smoothing and the f-GAN losses.
Runs in a subprocess: the 2 logical CPU devices must exist before TensorFlow initialises.
"""
import pytest

from tests.helpers import run_fresh_python

SCRIPT = """
import json
from keras_gen.training.strategy import setup_logical_cpus
setup_logical_cpus(2)
import numpy as np, tensorflow as tf, keras
from keras_gen.models import (GAN, FGAN, WGANGP, dcgan_discriminator, dcgan_generator, mlp_discriminator,
                              mlp_generator, spectral_normalize)

def players(kind):
    if kind == "dcgan_sn":
        return dcgan_generator(latent_dim=4, width=4), spectral_normalize(dcgan_discriminator(width=4))
    d = mlp_discriminator(2, (8, 8))
    return mlp_generator(2, 3, (8, 8)), (spectral_normalize(d) if kind == "mlp_sn" else d)

def train(cls, kind, strategy, init, data, steps=3, opt="sgd", lr=0.1, **kw):
    keras.utils.set_random_seed(7)  # the same initial weights (and u) in every run
    with strategy.scope():
        g, d = players(kind)
        if init is not None:
            g.set_weights(init[0]); d.set_weights(init[1])
        start = (g.get_weights(), d.get_weights())
        model = cls(generator=g, discriminator=d, seed=11, **kw)
        make = (lambda: keras.optimizers.Adam(1e-2)) if opt == "adam" else (lambda: keras.optimizers.SGD(lr))
        model.compile(d_optimizer=make(), g_optimizer=make())
    ds = tf.data.Dataset.from_tensor_slices(data).batch(8, drop_remainder=True).take(steps)
    hist = model.fit(ds, epochs=1, verbose=0).history
    trainable = [w.trainable for w in g.weights + d.weights]
    return start, g.get_weights() + d.get_weights(), {k: float(v[-1]) for k, v in hist.items()}, trainable

rng = np.random.RandomState(0)
points = rng.normal(size=(24, 2)).astype("float32")
images = rng.uniform(-1, 1, size=(24, 28, 28, 1)).astype("float32")
cases = {
    "gan_sn_mlp": (GAN, "mlp_sn", points, {}),
    "wgangp_sn_mlp": (WGANGP, "mlp_sn", points, {"n_critic": 2, "lr": 0.01}),
    "gan_sn_dcgan": (GAN, "dcgan_sn", images, {"lr": 0.05}),
    "gan_feature_matching_mlp": (GAN, "mlp", points, {"generator_loss": "feature_matching",
                                                      "feature_layer": "hidden1_lrelu", "label_smoothing": 0.1}),
    "gan_feature_matching_dcgan": (GAN, "dcgan_sn", images, {"generator_loss": "feature_matching",
                                                             "feature_layer": "down1_lrelu", "lr": 0.002}),
    "fgan_kl_mlp": (FGAN, "mlp", points, {"divergence": "kl", "lr": 0.02}),
}
mirrored = tf.distribute.MirroredStrategy(["/cpu:0", "/cpu:1"])
out = {"replicas": mirrored.num_replicas_in_sync}
for name, (cls, kind, data, kw) in cases.items():
    init, one, logs1, trainable = train(cls, kind, tf.distribute.get_strategy(), None, data, **kw)
    _, two, logs2, _ = train(cls, kind, mirrored, init, data, **kw)
    # Every weight (spectral norm's u too) must agree; "moved" is measured on trainable ones.
    out[name] = {"max_abs_diff": max(float(np.max(np.abs(a - b))) for a, b in zip(one, two)),
                 "max_change": max(float(np.max(np.abs(a - b)))
                                   for a, b, t in zip(one, init[0] + init[1], trainable) if t),
                 "logs1": logs1, "logs2": logs2}
_, _, logs, _ = train(GAN, "mlp_sn", mirrored, None, points, opt="adam", generator_loss="feature_matching",
                   feature_layer="hidden0_lrelu")
out["adam_mirrored_finite"] = all(np.isfinite(v) for v in logs.values())
print(json.dumps(out))
"""


@pytest.mark.slow
def test_two_replicas_equal_one_replica_with_gan_tricks():
    out = run_fresh_python(SCRIPT, timeout=900)
    assert out["replicas"] == 2
    assert out["adam_mirrored_finite"]
    for name in ("gan_sn_mlp", "wgangp_sn_mlp", "gan_sn_dcgan", "gan_feature_matching_mlp",
                 "gan_feature_matching_dcgan", "fgan_kl_mlp"):
        res = out[name]
        assert res["max_change"] > 1e-3, name  # the weights really moved
        # float32 round-off (summation order differs across replicas, e.g. synchronized
        # BatchNorm's all-reduce) grows with how far the weights move.
        assert res["max_abs_diff"] < 1e-5 * max(1.0, res["max_change"]), (name, res)
        for key, value in res["logs1"].items():
            assert abs(value - res["logs2"][key]) < 1e-4 * max(1.0, abs(value)), (name, key, res)
