"""GAN (S3) and the adversarial core: train step, metrics, config, saving, export."""
import numpy as np
import pytest
import keras
import tensorflow as tf

from keras_gen.errors import KerasGenError
from keras_gen.models import GAN, dcgan_discriminator, dcgan_generator
from tests.models.gan_helpers import tiny_players, toy_data, toy_dataset


def _weights(model):
    return [w.numpy().copy() for w in model.weights]


def test_fit_step_gives_finite_metrics_and_changes_both_players():
    g, d = tiny_players()
    gan = GAN(generator=g, discriminator=d, seed=3)
    gan.compile()
    g0, d0 = _weights(g), _weights(d)
    hist = gan.fit(toy_dataset(), epochs=1, verbose=0).history
    assert set(hist) == {"d_loss", "g_loss", "d_real", "d_fake"}
    assert all(np.isfinite(v[-1]) for v in hist.values())
    assert 0 < hist["d_real"][-1] < 1 and 0 < hist["d_fake"][-1] < 1
    assert all(np.any(a != b) for a, b in zip(g0, _weights(g)))
    assert all(np.any(a != b) for a, b in zip(d0, _weights(d)))
    assert int(gan.g_optimizer.iterations) == 4 and int(gan.d_optimizer.iterations) == 4


@pytest.mark.parametrize("g_loss, reuse_fakes", [("non_saturating", False), ("minimax", False),
                                                 ("non_saturating", True)])
def test_one_step_is_the_algorithm_of_goodfellow_et_al(g_loss, reuse_fakes):
    """One train step with SGD = a D step on the minimax loss, then a G step, recomputed by hand.

    reuse_fakes=True: G steps on the D step's z (G(z_d), through the updated D), not on fresh z_g.
    """
    g, d = tiny_players()
    start = g.get_weights(), d.get_weights()
    gan = GAN(generator=g, discriminator=d, generator_loss=g_loss, seed=5, reuse_fakes=reuse_fakes)
    lr = 0.1
    gan.compile(d_optimizer=keras.optimizers.SGD(lr), g_optimizer=keras.optimizers.SGD(lr))
    x = toy_data(8)
    g_ref = keras.models.clone_model(g)
    g_ref.set_weights(g.get_weights())
    d_ref = keras.models.clone_model(d)
    d_ref.set_weights(d.get_weights())
    z_d = gan.sample_latents(8, gan.step_seed(0))  # the step's seeds at iteration 0
    z_g = z_d if reuse_fakes else gan.sample_latents(8, gan.step_seed(1))

    def log_sigmoid(t):  # written as the paper writes it: log D
        return tf.math.log(tf.sigmoid(t))

    with tf.GradientTape() as tape:
        v = tf.reduce_mean(log_sigmoid(d_ref(x))) + tf.reduce_mean(tf.math.log(1 - tf.sigmoid(d_ref(g_ref(z_d)))))
        loss = -v
    for w, gr in zip(d_ref.trainable_variables, tape.gradient(loss, d_ref.trainable_variables)):
        w.assign_sub(lr * gr)
    with tf.GradientTape() as tape:
        p = tf.sigmoid(d_ref(g_ref(z_g)))
        loss = tf.reduce_mean(-tf.math.log(p)) if g_loss == "non_saturating" else tf.reduce_mean(tf.math.log(1 - p))
    for w, gr in zip(g_ref.trainable_variables, tape.gradient(loss, g_ref.trainable_variables)):
        w.assign_sub(lr * gr)

    gan.train_on_batch(x)
    for a, b in zip(d.get_weights() + g.get_weights(), d_ref.get_weights() + g_ref.get_weights()):
        np.testing.assert_allclose(a, b, rtol=1e-5, atol=1e-6)
    if reuse_fakes:  # and that differs from the default's G step from the same start
        g.set_weights(start[0])
        d.set_weights(start[1])
        default = GAN(generator=g, discriminator=d, seed=5)
        default.compile(d_optimizer=keras.optimizers.SGD(lr), g_optimizer=keras.optimizers.SGD(lr))
        default.train_on_batch(x)
        np.testing.assert_allclose(d.get_weights()[0], d_ref.get_weights()[0], rtol=1e-5, atol=1e-6)  # same D step
        assert max(np.abs(a - b).max() for a, b in zip(g.get_weights(), g_ref.get_weights())) > 1e-4  # other G step


def test_reuse_fakes_trains_with_fit_and_the_r1_penalty():
    g, d = tiny_players()
    gan = GAN(generator=g, discriminator=d, seed=3, reuse_fakes=True, r1_weight=1.0)
    gan.compile()
    g0 = _weights(g)
    hist = gan.fit(toy_dataset(), epochs=1, verbose=0).history
    assert all(np.isfinite(v[-1]) for v in hist.values()) and "r1_penalty" in hist
    assert all(np.any(a != b) for a, b in zip(g0, _weights(g)))
    assert int(gan.g_optimizer.iterations) == 4 and int(gan.d_optimizer.iterations) == 4


def test_noise_differs_between_steps_and_updates():
    g, d = tiny_players()
    gan = GAN(generator=g, discriminator=d, seed=1)
    gan.compile()
    z0 = gan.sample_latents(4, gan.step_seed(0)).numpy()
    z1 = gan.sample_latents(4, gan.step_seed(1)).numpy()
    gan.train_on_batch(toy_data(4))
    z0_next = gan.sample_latents(4, gan.step_seed(0)).numpy()
    assert not np.allclose(z0, z1) and not np.allclose(z0, z0_next)


def test_bad_arguments_raise_one_line_errors():
    g, d = tiny_players()
    with pytest.raises(KerasGenError, match="generator loss"):
        GAN(generator=g, discriminator=d, generator_loss="hinge")
    with pytest.raises(KerasGenError, match="n_critic"):
        GAN(generator=g, discriminator=d, n_critic=0)
    with pytest.raises(KerasGenError, match="reuse_fakes"):
        GAN(generator=g, discriminator=d, reuse_fakes="yes")
    gan = GAN(generator=g, discriminator=d)
    opt = keras.optimizers.Adam()
    with pytest.raises(KerasGenError, match="two different"):
        gan.compile(d_optimizer=opt, g_optimizer=opt)
    with pytest.raises(KerasGenError, match="d_optimizer"):
        gan.compile(optimizer="adam")


def test_config_round_trip():
    g, d = tiny_players()
    gan = GAN(generator=g, discriminator=d, generator_loss="minimax", seed=7, name="toy_gan", reuse_fakes=True)
    clone = GAN.from_config(gan.get_config())
    assert clone.get_config() == gan.get_config()
    assert clone.latent_dim == 3 and clone.seed == 7 and clone.generator_loss_name == "minimax"
    assert clone.reuse_fakes and not GAN(generator=g, discriminator=d).reuse_fakes


def test_keras_save_and_load(tmp_path):
    g, d = tiny_players()
    gan = GAN(generator=g, discriminator=d, seed=2)
    gan.compile(d_optimizer=keras.optimizers.Adam(1e-3), g_optimizer=keras.optimizers.Adam(2e-3))
    gan.fit(toy_dataset(), epochs=1, verbose=0)
    path = str(tmp_path / "gan.keras")
    gan.save(path)
    loaded = keras.models.load_model(path)
    assert isinstance(loaded, GAN)
    np.testing.assert_allclose(loaded.generate(10, seed=4), gan.generate(10, seed=4), rtol=1e-6)
    np.testing.assert_allclose(loaded.discriminator(toy_data(5)).numpy(), d(toy_data(5)).numpy(), rtol=1e-6)
    assert float(loaded.g_optimizer.learning_rate) == pytest.approx(2e-3)
    assert int(loaded.g_optimizer.iterations) == 4  # optimizer state travels too
    loaded.fit(toy_dataset(), epochs=1, verbose=0)  # and training resumes


def test_generate_is_reproducible_and_uses_inference_mode():
    gan = GAN(generator=dcgan_generator(latent_dim=8, width=4), discriminator=dcgan_discriminator(width=4))
    a, b = gan.generate(3, seed=1), gan.generate(3, seed=1)
    assert a.shape == (3, 28, 28, 1) and np.all(np.abs(a) <= 1)
    np.testing.assert_array_equal(a, b)
    assert not np.allclose(a, gan.generate(3, seed=2))
