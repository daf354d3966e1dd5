"""FGAN (S11): fit, one step recomputed from the paper's objective, config, saving, errors."""
import numpy as np
import pytest
import keras
import tensorflow as tf

from keras_gen.errors import KerasGenError
from keras_gen.models import FGAN
from tests.models.gan_helpers import tiny_players, toy_data, toy_dataset


def _weights(model):
    return [w.numpy().copy() for w in model.weights]


@pytest.mark.parametrize("divergence", ["kl", "reverse_kl", "js", "pearson", "gan"])
def test_fit_step_gives_finite_metrics_and_changes_both_players(divergence):
    keras.utils.set_random_seed(0)
    g, d = tiny_players()
    model = FGAN(generator=g, discriminator=d, divergence=divergence, seed=3)
    model.compile()
    g0, d0 = _weights(g), _weights(d)
    hist = model.fit(toy_dataset(), epochs=1, verbose=0).history
    assert set(hist) == {"d_loss", "g_loss", "divergence_estimate"}
    assert all(np.isfinite(v[-1]) for v in hist.values())
    assert hist["divergence_estimate"][-1] == pytest.approx(-hist["d_loss"][-1], rel=1e-6)
    assert all(np.any(a != b) for a, b in zip(g0, _weights(g)))
    assert all(np.any(a != b) for a, b in zip(d0, _weights(d)))


# The paper's objective written naively (Nowozin et al. 2016, Table 2), independent of
# keras_gen.losses.fgan: (g_f, f*).
NAIVE = {
    "kl": (lambda v: v, lambda t: tf.exp(t - 1.0)),
    "reverse_kl": (lambda v: -tf.exp(-v), lambda t: -1.0 - tf.math.log(-t)),
    "pearson": (lambda v: v, lambda t: t * t / 4.0 + t),
    "js": (lambda v: tf.math.log(2.0) - tf.math.log(1.0 + tf.exp(-v)), lambda t: -tf.math.log(2.0 - tf.exp(t))),
}


@pytest.mark.parametrize("divergence,g_loss", [("kl", "non_saturating"), ("reverse_kl", "minimax"),
                                               ("pearson", "minimax"), ("js", "non_saturating")])
def test_one_step_ascends_then_descends_the_variational_objective(divergence, g_loss):
    keras.utils.set_random_seed(1)
    g, d = tiny_players()
    model = FGAN(generator=g, discriminator=d, divergence=divergence, generator_loss=g_loss, seed=5)
    lr = 0.05
    model.compile(d_optimizer=keras.optimizers.SGD(lr), g_optimizer=keras.optimizers.SGD(lr))
    x = toy_data(8)
    g_ref, d_ref = keras.models.clone_model(g), keras.models.clone_model(d)
    g_ref.set_weights(g.get_weights())
    d_ref.set_weights(d.get_weights())
    z_d = model.sample_latents(8, model.step_seed(0))
    z_g = model.sample_latents(8, model.step_seed(1))
    act, conj = NAIVE[divergence]

    with tf.GradientTape() as tape:  # D maximises F = E_P[g_f(V)] - E_Q[f*(g_f(V))]
        objective = tf.reduce_mean(act(d_ref(x))) - tf.reduce_mean(conj(act(d_ref(g_ref(z_d)))))
        loss = -objective
    for w, gr in zip(d_ref.trainable_variables, tape.gradient(loss, d_ref.trainable_variables)):
        w.assign_sub(lr * gr)
    with tf.GradientTape() as tape:
        t = act(d_ref(g_ref(z_g)))
        loss = tf.reduce_mean(-t) if g_loss == "non_saturating" else tf.reduce_mean(-conj(t))
    for w, gr in zip(g_ref.trainable_variables, tape.gradient(loss, g_ref.trainable_variables)):
        w.assign_sub(lr * gr)

    model.train_on_batch(x)
    for a, b in zip(d.get_weights() + g.get_weights(), d_ref.get_weights() + g_ref.get_weights()):
        np.testing.assert_allclose(a, b, rtol=1e-5, atol=1e-6)


def test_config_round_trip():
    g, d = tiny_players()
    model = FGAN(generator=g, discriminator=d, divergence="pearson", generator_loss="minimax", seed=7, name="f")
    clone = FGAN.from_config(model.get_config())
    assert clone.get_config() == model.get_config()
    assert clone.divergence == "pearson" and clone.generator_loss_name == "minimax" and clone.seed == 7


def test_keras_save_and_load(tmp_path):
    keras.utils.set_random_seed(2)
    g, d = tiny_players()
    model = FGAN(generator=g, discriminator=d, divergence="reverse_kl", seed=2)
    model.compile(d_optimizer=keras.optimizers.Adam(1e-3), g_optimizer=keras.optimizers.Adam(2e-3))
    model.fit(toy_dataset(), epochs=1, verbose=0)
    path = str(tmp_path / "fgan.keras")
    model.save(path)
    loaded = keras.models.load_model(path)
    assert isinstance(loaded, FGAN) and loaded.divergence == "reverse_kl"
    np.testing.assert_allclose(loaded.generate(10, seed=4), model.generate(10, seed=4), rtol=1e-6)
    np.testing.assert_allclose(loaded.discriminator(toy_data(5)).numpy(), d(toy_data(5)).numpy(), rtol=1e-6)
    assert int(loaded.g_optimizer.iterations) == 4
    hist = loaded.fit(toy_dataset(), epochs=1, verbose=0).history
    assert all(np.isfinite(v[-1]) for v in hist.values())


def test_bad_arguments_raise_one_line_errors():
    g, d = tiny_players()
    with pytest.raises(KerasGenError, match="f-divergence 'hellinger'"):
        FGAN(generator=g, discriminator=d, divergence="hellinger")
    with pytest.raises(KerasGenError, match="f-GAN generator loss 'feature_matching'"):
        FGAN(generator=g, discriminator=d, generator_loss="feature_matching")
