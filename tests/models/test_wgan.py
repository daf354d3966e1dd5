"""WGAN (S5) and WGAN-GP (S6): defaults, n_critic, clipping, the penalised critic step, saving, export."""
import numpy as np
import pytest
import keras
import tensorflow as tf

from keras_gen.errors import KerasGenError
from keras_gen.losses import penalties
from keras_gen.models import WGAN, WGANGP
from keras_gen.models.gan import PENALTY_STREAM
from tests.models.gan_helpers import tiny_players, toy_data, toy_dataset


def test_wgan_defaults_follow_the_rules():
    g, d = tiny_players()
    wgan = WGAN(generator=g, discriminator=d)
    wgan.compile()
    assert wgan.n_critic == 5 and wgan.clip_value == 0.01
    assert isinstance(wgan.d_optimizer, keras.optimizers.RMSprop)
    assert isinstance(wgan.g_optimizer, keras.optimizers.RMSprop)
    g, d = tiny_players()
    gp = WGANGP(generator=g, discriminator=d)
    gp.compile()
    assert gp.n_critic == 5 and gp.gp_weight == 10.0 and gp.clip_value is None
    for opt in (gp.d_optimizer, gp.g_optimizer):
        assert isinstance(opt, keras.optimizers.Adam)
        assert float(opt.beta_1) == 0.0 and float(opt.beta_2) == 0.9
    with pytest.raises(KerasGenError, match="clip_value"):
        WGAN(generator=g, discriminator=d, clip_value=-1)


def test_wgan_clips_after_every_critic_update_and_runs_n_critic_steps():
    g, d = tiny_players()
    wgan = WGAN(generator=g, discriminator=d, clip_value=0.05, n_critic=3)
    # A large learning rate would push weights far outside [-c, c] without clipping.
    wgan.compile(d_optimizer=keras.optimizers.RMSprop(0.5), g_optimizer=keras.optimizers.RMSprop(1e-3))
    g0 = [w.numpy().copy() for w in g.weights]
    hist = wgan.fit(toy_dataset(), epochs=1, verbose=0).history
    assert set(hist) == {"d_loss", "g_loss", "w_estimate"}
    assert np.isfinite(hist["d_loss"][-1]) and hist["w_estimate"][-1] == pytest.approx(-hist["d_loss"][-1], rel=1e-5)
    for w in d.trainable_variables:
        assert np.max(np.abs(w.numpy())) <= 0.05 + 1e-7
    assert max(np.max(np.abs(w.numpy())) for w in d.trainable_variables) == pytest.approx(0.05)
    assert int(wgan.d_optimizer.iterations) == 3 * 4 and int(wgan.g_optimizer.iterations) == 4
    assert all(np.any(a != b.numpy()) for a, b in zip(g0, g.weights))


def test_wgangp_one_step_is_algorithm_1_of_gulrajani_et_al():
    """n_critic critic steps on f(G(z)) - f(x) + 10 (||grad f(x_hat)|| - 1)^2, then one G step."""
    g, d = tiny_players()
    lr, n_critic = 0.05, 2
    model = WGANGP(generator=g, discriminator=d, n_critic=n_critic, seed=9)
    model.compile(d_optimizer=keras.optimizers.SGD(lr), g_optimizer=keras.optimizers.SGD(lr))
    x = toy_data(8)
    g_ref = keras.models.clone_model(g)
    g_ref.set_weights(g.get_weights())
    d_ref = keras.models.clone_model(d)
    d_ref.set_weights(d.get_weights())
    for k in range(n_critic):
        seed = model.step_seed(k)
        z = model.sample_latents(8, seed)
        alpha = penalties.interpolation_weights(8, tf.random.experimental.stateless_fold_in(seed, PENALTY_STREAM)).numpy()
        fake = g_ref(z).numpy()
        x_hat = tf.constant(alpha[:, None] * x + (1 - alpha[:, None]) * fake)
        with tf.GradientTape() as tape:
            with tf.GradientTape() as inner:
                inner.watch(x_hat)
                s = tf.reduce_sum(d_ref(x_hat))
            grad = inner.gradient(s, x_hat)
            gp = tf.reduce_mean((tf.norm(grad, axis=1) - 1.0) ** 2)
            loss = tf.reduce_mean(d_ref(fake)) - tf.reduce_mean(d_ref(x)) + 10.0 * gp
        for w, gr in zip(d_ref.trainable_variables, tape.gradient(loss, d_ref.trainable_variables)):
            w.assign_sub(lr * gr)
    z = model.sample_latents(8, model.step_seed(n_critic))
    with tf.GradientTape() as tape:
        loss = -tf.reduce_mean(d_ref(g_ref(z)))
    for w, gr in zip(g_ref.trainable_variables, tape.gradient(loss, g_ref.trainable_variables)):
        w.assign_sub(lr * gr)

    logs = model.train_on_batch(x, return_dict=True)
    assert set(logs) == {"d_loss", "g_loss", "w_estimate", "gp"} and logs["gp"] > 0
    for a, b in zip(d.get_weights() + g.get_weights(), d_ref.get_weights() + g_ref.get_weights()):
        np.testing.assert_allclose(a, b, rtol=1e-5, atol=1e-6)


def test_config_round_trip_and_keras_save_load(tmp_path):
    for cls, extra in ((WGAN, {"clip_value": 0.02, "n_critic": 2}), (WGANGP, {"gp_weight": 5.0, "n_critic": 2})):
        g, d = tiny_players()
        model = cls(generator=g, discriminator=d, seed=4, **extra)
        clone = cls.from_config(model.get_config())
        assert clone.get_config() == model.get_config()
        model.compile()
        model.fit(toy_dataset(), epochs=1, verbose=0)
        path = str(tmp_path / f"{cls.__name__}.keras")
        model.save(path)
        loaded = keras.models.load_model(path)
        assert type(loaded) is cls and loaded.n_critic == 2
        np.testing.assert_allclose(loaded.generate(6, seed=1), model.generate(6, seed=1), rtol=1e-6)
        assert int(loaded.d_optimizer.iterations) == 8
