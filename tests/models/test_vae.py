"""VAE: the train step against an independent NumPy computation, config and .keras
round-trips, export reloaded without keras_gen, and 2 replicas == 1 replica."""
import os
import textwrap

import keras
import numpy as np
import pytest
import tensorflow as tf

from keras_gen.errors import KerasGenError
from keras_gen.models.vae import VAE, conv_decoder, conv_encoder, mlp_decoder, mlp_encoder
from tests.helpers import run_fresh_python

ROOT = os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__))))
X = (np.random.default_rng(0).random((32, 8, 8, 1)) > 0.6).astype(np.float32)


def small_vae(**kwargs):
    keras.utils.set_random_seed(0)
    return VAE(mlp_encoder((8, 8, 1), 3, hidden=(16,)), mlp_decoder(3, (8, 8, 1), hidden=(16,)), **kwargs)


def _np_sigmoid(v):
    return 1 / (1 + np.exp(-v))


def test_train_step_loss_matches_numpy():
    model = small_vae(beta=3.0, seed=7)
    model.compile(optimizer=keras.optimizers.SGD(0.0))  # no update: metrics use the same weights
    history = model.fit(X, batch_size=32, epochs=1, shuffle=False, verbose=0).history
    mean, log_var = (t.numpy().astype(np.float64) for t in model.encoder(X))
    eps = tf.random.stateless_normal(mean.shape, seed=tf.constant([7, 0], tf.int64)).numpy()
    z = mean + np.exp(0.5 * log_var) * eps
    p = _np_sigmoid(model.decoder(z.astype(np.float32)).numpy().astype(np.float64)).reshape(32, -1)
    x = X.reshape(32, -1)
    rec = -(x * np.log(p) + (1 - x) * np.log(1 - p)).sum(axis=1)
    kl = 0.5 * (np.exp(log_var) + mean**2 - 1 - log_var).sum(axis=1)
    np.testing.assert_allclose(history["reconstruction"][0], rec.mean(), rtol=1e-4)
    np.testing.assert_allclose(history["kl"][0], kl.mean(), rtol=1e-4)
    np.testing.assert_allclose(history["loss"][0], (rec + 3.0 * kl).mean(), rtol=1e-4)


@pytest.mark.parametrize("builders", ["mlp", "conv"])
def test_one_fit_step_changes_weights(builders):
    keras.utils.set_random_seed(1)
    if builders == "mlp":
        enc, dec = mlp_encoder((8, 8, 1), 2, hidden=(8,)), mlp_decoder(2, (8, 8, 1), hidden=(8,))
    else:
        enc, dec = conv_encoder((8, 8, 1), 2, filters=(4, 8), hidden=8), conv_decoder(2, (8, 8, 1), filters=(8, 4), hidden=8)
    model = VAE(enc, dec)
    model.compile(optimizer=keras.optimizers.Adam(1e-2))
    before = [w.numpy().copy() for w in model.trainable_weights]
    history = model.fit(X, batch_size=32, epochs=1, verbose=0).history
    assert all(np.isfinite(history[k][0]) for k in ("loss", "reconstruction", "kl"))
    after = model.trainable_weights
    assert all(not np.allclose(b, a.numpy()) for b, a in zip(before, after))


def test_gaussian_likelihood_and_validation_metrics():
    model = VAE(mlp_encoder((5,), 2, hidden=(8,)), mlp_decoder(2, (5,), hidden=(8,)),
                likelihood="gaussian", decoder_log_var=-1.0)
    model.compile(optimizer="adam")
    x = np.random.default_rng(2).normal(size=(16, 5)).astype(np.float32)
    history = model.fit(x, batch_size=8, epochs=1, verbose=0, validation_data=(x,)).history
    assert {"val_loss", "val_reconstruction", "val_kl"} <= set(history)
    assert np.isfinite(history["val_loss"][0])


def test_kl_warmup_ramps_beta():
    model = small_vae(beta=4.0, kl_warmup_steps=4)
    got = [float(model.kl_weight(tf.constant(s, tf.int64))) for s in (0, 1, 3, 10)]
    np.testing.assert_allclose(got, [1.0, 2.0, 4.0, 4.0])
    assert float(small_vae(beta=2.5).kl_weight(tf.constant(0, tf.int64))) == 2.5


def test_encode_decode_generate_shapes_and_ranges():
    model = small_vae()
    mean, log_var = model.encode(X[:5])
    assert mean.shape == (5, 3) and log_var.shape == (5, 3)
    out = model.decode(np.zeros((4, 3), np.float32)).numpy()
    assert out.shape == (4, 8, 8, 1) and out.min() >= 0 and out.max() <= 1
    a, b = model.generate(6, seed=3).numpy(), model.generate(6, seed=3).numpy()
    np.testing.assert_array_equal(a, b)
    assert model(X[:2]).shape == (2, 8, 8, 1)


def test_bad_arguments_raise_one_line_errors():
    with pytest.raises(KerasGenError, match="likelihood"):
        small_vae(likelihood="poisson")
    with pytest.raises(KerasGenError, match="beta"):
        small_vae(beta=-1.0)
    with pytest.raises(KerasGenError, match="divisible"):
        conv_decoder(2, (10, 10, 1))


def test_config_round_trip_and_keras_file(tmp_path):
    model = small_vae(beta=2.0, likelihood="bernoulli", kl_warmup_steps=3, seed=4)
    model.compile(optimizer=keras.optimizers.Adam(1e-3))
    model.fit(X, batch_size=16, epochs=1, verbose=0)
    clone = VAE.from_config(model.get_config())
    assert clone.get_config() == model.get_config()
    path = str(tmp_path / "vae.keras")
    model.save(path)
    loaded = keras.models.load_model(path)
    assert isinstance(loaded, VAE) and loaded.beta == 2.0 and loaded.kl_warmup_steps == 3
    z = np.random.default_rng(0).normal(size=(3, 3)).astype(np.float32)
    np.testing.assert_allclose(loaded.decode(z).numpy(), model.decode(z).numpy(), atol=1e-6)
    loaded.fit(X, batch_size=16, epochs=1, verbose=0)  # compiled on load, trains on


@pytest.mark.slow  # a fresh TensorFlow subprocess
def test_export_reloads_without_keras_gen(tmp_path):
    model = small_vae()
    path = model.export("vae", base_dir=str(tmp_path))
    assert path.endswith(os.path.join("vae", "1"))
    np.save(tmp_path / "x.npy", X[:4])
    script = textwrap.dedent(f"""
        import json, sys
        import numpy as np, tensorflow as tf
        m = tf.saved_model.load({path!r})
        x = np.load({str(tmp_path / 'x.npy')!r})
        enc = m.signatures["encode"](x=tf.constant(x))
        dec = m.signatures["decode"](z=enc["z_mean"])
        gen = m.signatures["generate"](n=tf.constant(5), seed=tf.constant(2))
        print(json.dumps({{"sigs": sorted(m.signatures.keys()), "z_mean": enc["z_mean"].numpy().tolist(),
                          "x_mean": dec["x_mean"].numpy().tolist(), "gen_shape": list(gen["x_mean"].shape),
                          "keras_gen_loaded": "keras_gen" in sys.modules}}))
    """)
    got = run_fresh_python(script, cwd=str(tmp_path), without_keras_gen=True)
    assert {"encode", "decode", "generate", "serving_default"} <= set(got["sigs"])
    assert not got["keras_gen_loaded"]
    mean, _ = model.encode(X[:4])
    np.testing.assert_allclose(got["z_mean"], mean.numpy(), atol=1e-5)
    np.testing.assert_allclose(got["x_mean"], model.decode(mean).numpy(), atol=1e-5)
    assert got["gen_shape"] == [5, 8, 8, 1]


DISTRIBUTED = textwrap.dedent("""
    import json
    from keras_gen.training.strategy import setup_logical_cpus, get_strategy
    setup_logical_cpus(2)
    import keras, numpy as np, tensorflow as tf
    from keras_gen.models.vae import VAE, mlp_encoder, mlp_decoder

    x = (np.random.default_rng(0).random((64, 6, 6, 1)) > 0.5).astype("float32")

    def train(name):
        strategy = get_strategy(name)
        with strategy.scope():
            keras.utils.set_random_seed(0)
            model = VAE(mlp_encoder((6, 6, 1), 3, hidden=(16,)), mlp_decoder(3, (6, 6, 1), hidden=(16,)),
                        beta=2.0, kl_warmup_steps=2, seed=5)
            model.compile(optimizer=keras.optimizers.Adam(1e-2))
        ds = tf.data.Dataset.from_tensor_slices(x).batch(16, drop_remainder=True)
        history = model.fit(ds, epochs=2, verbose=0).history
        return strategy.num_replicas_in_sync, [w.numpy() for w in model.trainable_weights], history["loss"]

    n1, w1, l1 = train("default")
    n2, w2, l2 = train("mirrored")
    diff = max(float(np.abs(a - b).max()) for a, b in zip(w1, w2))
    moved = max(float(np.abs(a).max()) for a in w1)
    print(json.dumps({"replicas": [n1, n2], "max_weight_diff": diff, "loss1": l1, "loss2": l2}))
""")


@pytest.mark.slow
def test_two_replicas_match_one_replica():
    got = run_fresh_python(DISTRIBUTED)
    assert got["replicas"] == [1, 2]
    assert got["max_weight_diff"] < 1e-5, got
    np.testing.assert_allclose(got["loss1"], got["loss2"], rtol=1e-5)
