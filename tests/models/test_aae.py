"""AAE: the three phases against NumPy and in isolation, config/.keras round-trips,
export reloaded without keras_gen, 2 replicas == 1 replica."""
import os
import textwrap

import keras
import numpy as np
import pytest
import tensorflow as tf

from keras_gen.errors import KerasGenError
from keras_gen.models.aae import AAE, aggregate_posterior_moments, deterministic_encoder, latent_discriminator
from keras_gen.models.vae import mlp_decoder
from tests.helpers import run_fresh_python

ROOT = os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__))))
X = (np.random.default_rng(0).random((32, 6, 6, 1)) > 0.5).astype(np.float32)


def small_aae(**kwargs):
    keras.utils.set_random_seed(0)
    return AAE(deterministic_encoder((6, 6, 1), 2, hidden=(16,)), mlp_decoder(2, (6, 6, 1), hidden=(16,)),
               latent_discriminator(2, hidden=(16,)), **kwargs)


def _softplus(v):
    return np.logaddexp(0, v)


def test_phase_losses_match_numpy():
    model = small_aae(seed=3)
    model.compile(keras.optimizers.SGD(0.0), keras.optimizers.SGD(0.0), keras.optimizers.SGD(0.0))
    history = model.fit(X, batch_size=32, epochs=1, shuffle=False, verbose=0).history
    z = model.encoder(X).numpy()
    logits = model.decoder(z).numpy().reshape(32, -1).astype(np.float64)
    x = X.reshape(32, -1)
    rec = (np.maximum(logits, 0) - logits * x + np.log1p(np.exp(-np.abs(logits)))).sum(axis=1)
    prior = tf.random.stateless_normal((32, 2), seed=tf.constant([3, 0], tf.int64)).numpy()
    real = model.discriminator(prior).numpy()[:, 0].astype(np.float64)
    fake = model.discriminator(z).numpy()[:, 0].astype(np.float64)
    d_loss = _softplus(-real) + _softplus(fake)  # -log D(z') - log(1 - D(q(x)))
    g_loss = _softplus(-fake)  # -log D(q(x))
    np.testing.assert_allclose(history["reconstruction"][0], rec.mean(), rtol=1e-4)
    np.testing.assert_allclose(history["d_loss"][0], d_loss.mean(), rtol=1e-4)
    np.testing.assert_allclose(history["g_loss"][0], g_loss.mean(), rtol=1e-4)
    np.testing.assert_allclose(history["d_accuracy"][0], np.concatenate([real > 0, fake <= 0]).mean(), atol=1e-6)


@pytest.mark.parametrize("phase, moved", [(0, {"encoder", "decoder"}), (1, {"discriminator"}), (2, {"encoder"})])
def test_each_phase_updates_only_its_networks(phase, moved):
    model = small_aae()
    rates = [0.0, 0.0, 0.0]
    rates[phase] = 0.1
    model.compile(*[keras.optimizers.SGD(r) for r in rates])
    nets = {"encoder": model.encoder, "decoder": model.decoder, "discriminator": model.discriminator}
    before = {k: [w.numpy().copy() for w in n.trainable_weights] for k, n in nets.items()}
    model.fit(X, batch_size=32, epochs=1, verbose=0)
    changed = {k for k, n in nets.items() if any(not np.allclose(b, w.numpy()) for b, w in zip(before[k], n.trainable_weights))}
    assert changed == moved


def test_fit_changes_every_network_and_generates():
    model = small_aae()
    model.compile()
    before = [w.numpy().copy() for w in model.trainable_weights]
    history = model.fit(X, batch_size=16, epochs=1, verbose=0, validation_data=(X,)).history
    assert all(np.isfinite(v[-1]) for v in history.values())
    assert all(not np.allclose(b, a.numpy()) for b, a in zip(before, model.trainable_weights))
    assert model.generate(5, seed=1).shape == (5, 6, 6, 1) and model.encode(X[:3]).shape == (3, 2)
    mean, cov = aggregate_posterior_moments(np.random.default_rng(0).normal(size=(20_000, 2)))
    np.testing.assert_allclose(mean, 0, atol=0.03)
    np.testing.assert_allclose(cov, np.eye(2), atol=0.03)


def test_compile_needs_three_optimizers_and_likelihood_is_checked():
    model = small_aae()
    opt = keras.optimizers.Adam()
    with pytest.raises(KerasGenError, match="three different"):
        model.compile(opt, opt, keras.optimizers.Adam())
    with pytest.raises(KerasGenError, match="likelihood"):
        small_aae(likelihood="laplace")


@pytest.mark.slow  # a fresh TensorFlow subprocess
def test_config_round_trip_keras_file_and_export(tmp_path):
    model = small_aae(seed=2)
    model.compile()
    model.fit(X, batch_size=16, epochs=1, verbose=0)
    clone = AAE.from_config(model.get_config())
    assert clone.get_config() == model.get_config()
    model.save(tmp_path / "aae.keras")
    loaded = keras.models.load_model(tmp_path / "aae.keras")
    np.testing.assert_allclose(loaded.encode(X).numpy(), model.encode(X).numpy(), atol=1e-6)
    path = model.export("aae", base_dir=str(tmp_path))
    script = textwrap.dedent(f"""
        import json, sys
        import numpy as np, tensorflow as tf
        m = tf.saved_model.load({path!r})
        z = m.signatures["encode"](x=tf.ones((2, 6, 6, 1)))["z"]
        g = m.signatures["generate"](n=tf.constant(4), seed=tf.constant(0))["x_mean"]
        d = m.signatures["decode"](z=z)["x_mean"]
        print(json.dumps({{"z": z.numpy().tolist(), "g": list(g.shape), "d": list(d.shape),
                          "keras_gen_loaded": "keras_gen" in sys.modules}}))
    """)
    got = run_fresh_python(script, cwd=str(tmp_path), without_keras_gen=True)
    assert not got["keras_gen_loaded"] and got["g"] == [4, 6, 6, 1] and got["d"] == [2, 6, 6, 1]
    np.testing.assert_allclose(got["z"], model.encode(np.ones((2, 6, 6, 1), np.float32)).numpy(), atol=1e-5)


DISTRIBUTED = textwrap.dedent("""
    import json
    from keras_gen.training.strategy import setup_logical_cpus, get_strategy
    setup_logical_cpus(2)
    import keras, numpy as np, tensorflow as tf
    from keras_gen.models.aae import AAE, deterministic_encoder, latent_discriminator
    from keras_gen.models.vae import mlp_decoder

    x = (np.random.default_rng(0).random((64, 6, 6, 1)) > 0.5).astype("float32")

    def train(name):
        strategy = get_strategy(name)
        with strategy.scope():
            keras.utils.set_random_seed(0)
            model = AAE(deterministic_encoder((6, 6, 1), 2, hidden=(8,)), mlp_decoder(2, (6, 6, 1), hidden=(8,)),
                        latent_discriminator(2, hidden=(8,)), seed=1)
            model.compile(*[keras.optimizers.Adam(1e-2) for _ in range(3)])
        ds = tf.data.Dataset.from_tensor_slices(x).batch(16, drop_remainder=True)
        model.fit(ds, epochs=1, verbose=0)
        return strategy.num_replicas_in_sync, [w.numpy() for w in model.trainable_weights]

    n1, w1 = train("default")
    n2, w2 = train("mirrored")
    print(json.dumps({"replicas": [n1, n2], "max_weight_diff": max(float(np.abs(a - b).max()) for a, b in zip(w1, w2))}))
""")


@pytest.mark.slow
def test_two_replicas_match_one_replica():
    got = run_fresh_python(DISTRIBUTED)
    assert got["replicas"] == [1, 2] and got["max_weight_diff"] < 1e-5, got
