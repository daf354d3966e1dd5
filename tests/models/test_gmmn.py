"""GMMN (S16): the MMD² training step, learning a 1-D Gaussian, config, export, 2 replicas."""
import os
import textwrap

import keras
import numpy as np
import pytest
import tensorflow as tf

from keras_gen.errors import KerasGenError
from keras_gen.models.gmmn import GMMN
from tests.helpers import run_fresh_python

ROOT = os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__))))


def mlp(latent_dim=3, data_dim=2, width=16, seed=0):
    keras.utils.set_random_seed(seed)
    z = keras.Input((latent_dim,), name="z")
    h = keras.layers.Dense(width, activation="relu", name="hidden")(z)
    return keras.Model(z, keras.layers.Dense(data_dim, name="output")(h), name="generator")


def test_train_step_loss_is_the_batch_mmd2():
    model = GMMN(mlp(), bandwidths=(0.5, 2.0), unbiased=False, seed=3)
    model.compile(optimizer=keras.optimizers.SGD(0.0))  # no update: compare the loss alone
    x = np.random.default_rng(0).normal(size=(32, 2)).astype("float32")
    logs = model.train_on_batch(x, return_dict=True)
    # The step's noise is stateless: z for step 0 from (seed, step) = (3, 0).
    z = tf.random.stateless_normal([32, 3], seed=tf.constant([3, 0], tf.int64))
    y = model.generator(z).numpy()
    d2 = ((np.concatenate([x, y])[:, None] - np.concatenate([x, y])[None]) ** 2).sum(-1)
    k = np.exp(-d2 / (2 * 0.25)) + np.exp(-d2 / (2 * 4.0))
    want = k[:32, :32].mean() + k[32:, 32:].mean() - 2 * k[:32, 32:].mean()
    np.testing.assert_allclose(logs["mmd2"], want, rtol=1e-5)


def test_one_fit_step_changes_weights():
    model = GMMN(mlp(), seed=0)
    model.compile()
    before = [w.numpy().copy() for w in model.generator.trainable_weights]
    x = np.random.default_rng(1).normal(size=(64, 2)).astype("float32") + 3.0
    history = model.fit(x, batch_size=64, epochs=1, verbose=0).history
    assert np.isfinite(history["mmd2"][0]) and history["mmd2"][0] > 0
    after = model.generator.trainable_weights
    assert all(not np.allclose(a, b.numpy()) for a, b in zip(before, after))


def test_learns_a_1d_gaussian():
    # G(z) = a z + b with z ~ N(0, 1): the MMD minimiser is a = +-0.5, b = 4 (the toy).
    keras.utils.set_random_seed(0)
    z = keras.Input((1,))
    gen = keras.Model(z, keras.layers.Dense(1, kernel_initializer="ones", name="affine")(z))
    model = GMMN(gen, bandwidths=(0.25, 0.5, 1.0, 2.0, 4.0), seed=1)
    model.compile(optimizer=keras.optimizers.Adam(0.05))
    from keras_gen.data import toy_dataset

    ds = toy_dataset("toy_gaussian_1d", n=8192, seed=0, batch_size=256, drop_remainder=True)
    model.fit(ds, epochs=8, verbose=0)
    a, b = (w.numpy().ravel()[0] for w in gen.get_layer("affine").weights)
    assert abs(b - 4.0) < 0.1, (a, b)
    assert abs(abs(a) - 0.5) < 0.1, (a, b)
    samples = model.generate(2000, seed=0)
    assert samples.shape == (2000, 1)
    assert abs(samples.mean() - 4.0) < 0.1 and abs(samples.std() - 0.5) < 0.1


def test_config_round_trip_and_keras_file(tmp_path):
    model = GMMN(mlp(), bandwidths=(0.1, 1.0), unbiased=False, seed=7)
    model.compile(optimizer=keras.optimizers.Adam(1e-3))
    config = model.get_config()
    clone = GMMN.from_config(config)
    assert clone.bandwidths == (0.1, 1.0) and clone.unbiased is False and clone.seed == 7
    assert clone.latent_dim == 3
    path = str(tmp_path / "gmmn.keras")
    model.save(path)
    loaded = keras.saving.load_model(path)
    assert isinstance(loaded, GMMN) and loaded.bandwidths == (0.1, 1.0)
    np.testing.assert_allclose(loaded.generate(10, seed=4), model.generate(10, seed=4), atol=1e-6)
    loaded.fit(np.zeros((16, 2), "float32"), batch_size=16, epochs=1, verbose=0)


def test_bad_arguments():
    with pytest.raises(KerasGenError, match="bandwidths"):
        GMMN(mlp(), bandwidths=(-1.0,))
    with pytest.raises(KerasGenError, match="keras.Model"):
        GMMN(lambda z: z)
    with pytest.raises(KerasGenError, match="loss="):
        GMMN(mlp()).compile(loss="mse")


def test_export_reloads_without_keras_gen(tmp_path):
    model = GMMN(mlp(), seed=0)
    path = model.export("gmmn", base_dir=str(tmp_path))
    assert path.endswith(os.path.join("gmmn", "1"))
    z = np.random.default_rng(0).normal(size=(5, 3)).astype("float32")
    np.save(tmp_path / "z.npy", z)
    script = textwrap.dedent(f"""
        import json, sys
        import numpy as np, tensorflow as tf
        m = tf.saved_model.load({path!r})
        out = m.signatures["generate"](z=tf.constant(np.load({str(tmp_path / 'z.npy')!r})))
        print(json.dumps({{"x": out["x"].numpy().tolist(), "keras_gen_loaded": "keras_gen" in sys.modules}}))
    """)
    got = run_fresh_python(script, cwd=str(tmp_path), without_keras_gen=True)
    assert not got["keras_gen_loaded"]
    np.testing.assert_allclose(got["x"], model.generator(z).numpy(), atol=1e-5)


DISTRIBUTED = textwrap.dedent("""
    import json
    from keras_gen.training.strategy import setup_logical_cpus, get_strategy
    setup_logical_cpus(2)
    import keras, numpy as np, tensorflow as tf
    from keras_gen.models.gmmn import GMMN

    x = np.random.default_rng(0).normal(size=(64, 2)).astype("float32")

    def train(name):
        strategy = get_strategy(name)
        with strategy.scope():
            keras.utils.set_random_seed(0)
            z = keras.Input((3,))
            h = keras.layers.Dense(16, activation="relu")(z)
            model = GMMN(keras.Model(z, keras.layers.Dense(2)(h)), bandwidths=(0.5, 2.0), seed=5)
            model.compile(optimizer=keras.optimizers.Adam(1e-2))
        ds = tf.data.Dataset.from_tensor_slices(x).batch(16, drop_remainder=True)
        history = model.fit(ds, epochs=2, verbose=0).history
        return strategy.num_replicas_in_sync, [w.numpy() for w in model.trainable_weights], history["mmd2"]

    n1, w1, l1 = train("default")
    n2, w2, l2 = train("mirrored")
    diff = max(float(np.abs(a - b).max()) for a, b in zip(w1, w2))
    print(json.dumps({"replicas": [n1, n2], "max_weight_diff": diff, "loss1": l1, "loss2": l2}))
""")


@pytest.mark.slow
def test_two_replicas_match_one_replica():
    got = run_fresh_python(DISTRIBUTED)
    assert got["replicas"] == [1, 2]
    assert got["max_weight_diff"] < 1e-5, got
    np.testing.assert_allclose(got["loss1"], got["loss2"], rtol=1e-5)
