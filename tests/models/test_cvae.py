"""CVAE: label conditioning in the train step, generate(n, label), config and .keras
round-trips, export reloaded without keras_gen."""
import textwrap

import keras
import numpy as np
import pytest
import tensorflow as tf

from keras_gen.errors import KerasGenError
from keras_gen.models.cvae import CVAE
from keras_gen.models.vae import mlp_decoder, mlp_encoder
from tests.helpers import run_fresh_python

RNG = np.random.default_rng(0)
X = (RNG.random((32, 6, 6, 1)) > 0.5).astype(np.float32)
Y = RNG.integers(0, 3, 32)


def small_cvae(**kwargs):
    keras.utils.set_random_seed(0)
    return CVAE(mlp_encoder((6, 6, 1), 2, hidden=(16,), condition_dim=3),
                mlp_decoder(2, (6, 6, 1), hidden=(16,), condition_dim=3), num_classes=3, **kwargs)


def test_train_step_loss_matches_numpy_with_the_label():
    model = small_cvae(beta=1.5, seed=2)
    model.compile(optimizer=keras.optimizers.SGD(0.0))
    history = model.fit(X, Y, batch_size=32, epochs=1, shuffle=False, verbose=0).history
    onehot = np.eye(3, dtype=np.float32)[Y]
    mean, log_var = (t.numpy().astype(np.float64) for t in model.encoder([X, onehot]))
    eps = tf.random.stateless_normal(mean.shape, seed=tf.constant([2, 0], tf.int64)).numpy()
    z = (mean + np.exp(0.5 * log_var) * eps).astype(np.float32)
    logits = model.decoder([z, onehot]).numpy().astype(np.float64).reshape(32, -1)
    x = X.reshape(32, -1)
    rec = (np.maximum(logits, 0) - logits * x + np.log1p(np.exp(-np.abs(logits)))).sum(axis=1)
    kl = 0.5 * (np.exp(log_var) + mean**2 - 1 - log_var).sum(axis=1)
    np.testing.assert_allclose(history["loss"][0], (rec + 1.5 * kl).mean(), rtol=1e-4)


def test_one_fit_step_changes_weights_and_label_matters():
    model = small_cvae()
    model.compile(optimizer=keras.optimizers.Adam(1e-2))
    before = [w.numpy().copy() for w in model.trainable_weights]
    history = model.fit(X, np.eye(3)[Y], batch_size=16, epochs=1, verbose=0).history  # one-hot labels work too
    assert all(np.isfinite(history[k][-1]) for k in ("loss", "reconstruction", "kl"))
    assert all(not np.allclose(b, a.numpy()) for b, a in zip(before, model.trainable_weights))
    a = model.generate(4, label=0, seed=1).numpy()
    b = model.generate(4, label=2, seed=1).numpy()
    assert a.shape == (4, 6, 6, 1) and not np.allclose(a, b)
    np.testing.assert_array_equal(a, model.generate(4, label=[0, 0, 0, 0], seed=1).numpy())


def test_fits_under_a_strategy_as_without_one():
    # Under any strategy Keras first builds the model symbolically on the batch's x alone,
    # unless every layer is already built; the CVAE needs (images, labels), so its sampler
    # must count as built (the 2-worker cvae-mnist run failed there: "CVAE batches must be
    # (images, labels)"). One local replica: the same updates as no strategy.
    weights = []
    for strategy in (None, tf.distribute.MirroredStrategy(["CPU:0"])):
        if strategy is None:
            model = small_cvae(seed=2)
            model.compile(optimizer=keras.optimizers.SGD(0.1))
        else:
            with strategy.scope():
                model = small_cvae(seed=2)
                model.compile(optimizer=keras.optimizers.SGD(0.1))
        data = tf.data.Dataset.from_tensor_slices((X, Y)).batch(16, drop_remainder=True)
        model.fit(data, epochs=1, verbose=0)
        weights.append([w.numpy() for w in model.trainable_weights])
    for a, b in zip(*weights):
        np.testing.assert_allclose(a, b, rtol=1e-5, atol=1e-6)


def test_bad_inputs_raise_one_line_errors():
    with pytest.raises(KerasGenError, match="condition_dim=3"):
        CVAE(mlp_encoder((6, 6, 1), 2, hidden=(4,)), mlp_decoder(2, (6, 6, 1), hidden=(4,), condition_dim=3),
             num_classes=3)
    model = small_cvae()
    with pytest.raises(KerasGenError, match="labels must be in"):
        model.generate(2, label=3)
    with pytest.raises(KerasGenError, match="2 labels for n=3"):
        model.generate(3, label=[0, 1])


def test_config_round_trip_and_keras_file(tmp_path):
    model = small_cvae(beta=2.0, kl_warmup_steps=5)
    model.compile(optimizer="adam")
    model.fit(X, Y, batch_size=16, epochs=1, verbose=0)
    clone = CVAE.from_config(model.get_config())
    assert clone.get_config() == model.get_config() and clone.num_classes == 3
    model.save(tmp_path / "cvae.keras")
    loaded = keras.models.load_model(tmp_path / "cvae.keras")
    assert isinstance(loaded, CVAE)
    np.testing.assert_allclose(loaded.generate(3, 1, seed=4).numpy(), model.generate(3, 1, seed=4).numpy(), atol=1e-6)


@pytest.mark.slow  # a fresh TensorFlow subprocess
def test_export_reloads_without_keras_gen(tmp_path):
    model = small_cvae()
    path = model.export("cvae", base_dir=str(tmp_path))
    script = textwrap.dedent(f"""
        import json, sys
        import numpy as np, tensorflow as tf
        m = tf.saved_model.load({path!r})
        g = m.signatures["generate"](label=tf.constant([0, 1, 2], tf.int32), seed=tf.constant(5))["x_mean"]
        z = m.signatures["encode"](x=tf.zeros((2, 6, 6, 1)), label=tf.constant([1, 2], tf.int32))["z_mean"]
        d = m.signatures["decode"](z=tf.zeros((2, 2)), label=tf.constant([1, 2], tf.int32))["x_mean"]
        print(json.dumps({{"sigs": sorted(m.signatures.keys()), "g": list(g.shape), "z": list(z.shape),
                          "d": d.numpy().tolist(), "keras_gen_loaded": "keras_gen" in sys.modules}}))
    """)
    got = run_fresh_python(script, cwd=str(tmp_path), without_keras_gen=True)
    assert {"generate", "encode", "decode"} <= set(got["sigs"]) and not got["keras_gen_loaded"]
    assert got["g"] == [3, 6, 6, 1] and got["z"] == [2, 2]
    np.testing.assert_allclose(got["d"], model.decode(np.zeros((2, 2), np.float32), [1, 2]).numpy(), atol=1e-6)
