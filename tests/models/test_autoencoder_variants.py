"""S2 autoencoder variants: plain compile/fit, noise in training only, the penalties'
values against their formulas, config/.keras round-trips, export reload."""
import textwrap

import keras
import numpy as np
import pytest

from keras_gen.errors import KerasGenError
from keras_gen.models.autoencoder_variants import (
    MaskingNoise,
    conv_autoencoder,
    dense_autoencoder,
    denoising_autoencoder,
    encoder_of,
    regularized_autoencoder,
    sparse_autoencoder,
)
from tests.helpers import run_fresh_python

X = np.random.default_rng(0).random((32, 8, 8, 1)).astype(np.float32)
BUILDERS = {
    "dense": lambda: dense_autoencoder((8, 8, 1), code_dim=4, hidden=(16,), seed=0),
    "denoising_gaussian": lambda: denoising_autoencoder((8, 8, 1), "gaussian", 0.3, code_dim=4, hidden=(16,), seed=0),
    "denoising_masking": lambda: denoising_autoencoder((8, 8, 1), "masking", 0.3, code_dim=4, hidden=(16,), seed=0),
    "conv": lambda: conv_autoencoder((8, 8, 1), filters=(4, 8), code_dim=4, seed=0),
    "sparse": lambda: sparse_autoencoder((8, 8, 1), activity_l1=1e-3, code_dim=4, hidden=(16,)),
    "regularized": lambda: regularized_autoencoder((8, 8, 1), l2=1e-3, dropout=0.2, code_dim=4, hidden=(16,), seed=0),
}


@pytest.mark.parametrize("kind", sorted(BUILDERS))
def test_fit_step_and_round_trips(kind, tmp_path):
    keras.utils.set_random_seed(0)
    model = BUILDERS[kind]()
    model.compile(optimizer=keras.optimizers.Adam(1e-2), loss="mse")
    before = [w.numpy().copy() for w in model.trainable_weights]
    history = model.fit(X, X, batch_size=16, epochs=1, verbose=0).history
    assert np.isfinite(history["loss"][0])
    assert all(not np.allclose(b, a.numpy()) for b, a in zip(before, model.trainable_weights))
    assert model(X[:2]).shape == (2, 8, 8, 1) and encoder_of(model)(X[:2]).shape == (2, 4)
    clone = keras.Model.from_config(model.get_config())
    assert [l.__class__ for l in clone.layers] == [l.__class__ for l in model.layers]
    model.save(tmp_path / "ae.keras")
    loaded = keras.models.load_model(tmp_path / "ae.keras")
    np.testing.assert_allclose(loaded.predict(X, verbose=0), model.predict(X, verbose=0), atol=1e-6)


@pytest.mark.parametrize("kind", ["denoising_gaussian", "denoising_masking", "regularized"])
def test_noise_and_dropout_act_in_training_only(kind):
    keras.utils.set_random_seed(0)
    model = BUILDERS[kind]()
    inference = model(X, training=False).numpy()
    np.testing.assert_array_equal(inference, model(X, training=False).numpy())
    assert not np.allclose(inference, model(X, training=True).numpy())


def test_masking_noise_zeroes_a_fraction_without_rescaling():
    x = np.ones((200, 50), np.float32) * 0.7
    layer = MaskingNoise(0.3, seed=1)
    y = layer(x, training=True).numpy()
    assert set(np.unique(y)) <= {0.0, np.float32(0.7)}
    assert abs((y == 0).mean() - 0.3) < 0.01
    np.testing.assert_array_equal(layer(x, training=False).numpy(), x)
    with pytest.raises(KerasGenError, match="rate"):
        MaskingNoise(1.0)


def test_penalties_match_their_formulas():
    sparse = sparse_autoencoder((8, 8, 1), activity_l1=1e-2, code_dim=4, hidden=(16,))
    sparse(X)
    h = encoder_of(sparse)(X).numpy()
    # Keras 3 divides an activity regulariser by the batch size
    np.testing.assert_allclose(float(sum(sparse.losses)), 1e-2 * np.abs(h).sum() / len(X), rtol=1e-5)
    reg = regularized_autoencoder((8, 8, 1), l2=1e-3, dropout=0.0, code_dim=4, hidden=(16,))
    kernels = [w.numpy() for w in reg.weights if "kernel" in w.path]
    np.testing.assert_allclose(float(sum(reg.losses)), 1e-3 * sum((k**2).sum() for k in kernels), rtol=1e-5)
    l1 = dense_autoencoder((8, 8, 1), code_dim=4, hidden=(16,), l1=1e-3)
    np.testing.assert_allclose(float(sum(l1.losses)), 1e-3 * sum(np.abs(k).sum() for k in
                                                                  [w.numpy() for w in l1.weights if "kernel" in w.path]),
                               rtol=1e-5)


def test_denoising_learns_to_undo_the_noise():
    """Trained on noisy inputs, the DAE reconstructs clean digits-like data better than the noise."""
    rng = np.random.default_rng(1)
    protos = (rng.random((4, 64)) > 0.5).astype(np.float32)
    clean = protos[rng.integers(0, 4, 512)].reshape(-1, 8, 8, 1)
    keras.utils.set_random_seed(0)
    model = denoising_autoencoder((8, 8, 1), "masking", 0.3, code_dim=8, hidden=(32,), seed=0)
    model.compile(optimizer=keras.optimizers.Adam(1e-2), loss="mse")
    model.fit(clean, clean, batch_size=64, epochs=15, verbose=0)
    corrupted = clean * (rng.random(clean.shape) >= 0.3)
    denoised = model.predict(corrupted, verbose=0)
    assert np.mean((denoised - clean) ** 2) < 0.25 * np.mean((corrupted - clean) ** 2)


def test_bad_arguments():
    with pytest.raises(KerasGenError, match="noise"):
        denoising_autoencoder((8, 8, 1), noise="salt")
    with pytest.raises(KerasGenError, match="divisible"):
        conv_autoencoder((10, 10, 1))
    with pytest.raises(KerasGenError, match="l2"):
        regularized_autoencoder((8, 8, 1), l2=-1.0)


@pytest.mark.slow  # a fresh TensorFlow subprocess
def test_export_reloads_without_keras_gen(tmp_path):
    import tensorflow as tf

    from keras_gen.export import export_endpoints

    def endpoint(net, key):  # a closure: default arguments would become signature inputs
        return lambda x: {key: net(x, training=False)}

    paths = {}
    for kind in ("denoising_masking", "conv"):
        model = BUILDERS[kind]()
        spec = tf.TensorSpec((None, 8, 8, 1), tf.float32, name="x")
        paths[kind] = export_endpoints(kind, [("reconstruct", model, [spec], "x_rec"),
                                              ("encode", endpoint(encoder_of(model), "code"), [spec], None)],
                                       base_dir=str(tmp_path))
        np.save(tmp_path / f"{kind}.npy", model.predict(X[:3], verbose=0))
    script = textwrap.dedent(f"""
        import json, sys
        import numpy as np, tensorflow as tf
        x = tf.constant(np.random.default_rng(0).random((32, 8, 8, 1)).astype(np.float32)[:3])
        out = {{}}
        for kind, path in {paths!r}.items():
            m = tf.saved_model.load(path)
            out[kind] = float(np.abs(m.signatures["reconstruct"](x=x)["x_rec"].numpy() - np.load(kind + ".npy")).max())
            out[kind + "_code"] = list(m.signatures["encode"](x=x)["code"].shape)
        out["keras_gen_loaded"] = "keras_gen" in sys.modules
        print(json.dumps(out))
    """)
    got = run_fresh_python(script, cwd=str(tmp_path), without_keras_gen=True)
    assert not got["keras_gen_loaded"]
    assert got["denoising_masking"] < 1e-5 and got["conv"] < 1e-5
    assert got["conv_code"] == [3, 4]
