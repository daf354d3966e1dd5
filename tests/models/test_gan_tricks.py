"""S11 tricks on the GAN: one-sided label smoothing, feature matching, a spectrally normalised D."""
import numpy as np
import pytest
import keras
import tensorflow as tf

from keras_gen.errors import KerasGenError
from keras_gen.layers import SpectralNorm
from keras_gen.models import GAN, mlp_generator, spectral_normalize
from tests.models.gan_helpers import tiny_players, toy_data, toy_dataset


def _weights(model):
    return [w.numpy().copy() for w in model.weights]


def _copy(model):
    ref = keras.models.clone_model(model)
    ref.set_weights(model.get_weights())
    return ref


def _sgd_step(variables, loss_fn, lr):
    with tf.GradientTape() as tape:
        loss = loss_fn()
    for w, gr in zip(variables, tape.gradient(loss, variables)):
        w.assign_sub(lr * gr)


def _log_sigmoid(t):  # written as the paper writes it: log D
    return tf.math.log(tf.sigmoid(t))


@pytest.mark.parametrize("smoothing", [0.0, 0.1, 0.3])
def test_label_smoothing_step_is_the_smoothed_minimax_game(smoothing):
    """D's target for real data is 1 - s (fakes 0); G's step is the usual non-saturating one."""
    keras.utils.set_random_seed(0)
    g, d = tiny_players()
    gan = GAN(generator=g, discriminator=d, label_smoothing=smoothing, seed=5)
    lr = 0.1
    gan.compile(d_optimizer=keras.optimizers.SGD(lr), g_optimizer=keras.optimizers.SGD(lr))
    x = toy_data(8)
    g_ref, d_ref = _copy(g), _copy(d)
    z_d = gan.sample_latents(8, gan.step_seed(0))
    z_g = gan.sample_latents(8, gan.step_seed(1))
    t = 1.0 - smoothing

    def d_loss():
        p_real = tf.sigmoid(d_ref(x))
        real = -(t * tf.math.log(p_real) + (1 - t) * tf.math.log(1 - p_real))
        return tf.reduce_mean(real) - tf.reduce_mean(tf.math.log(1 - tf.sigmoid(d_ref(g_ref(z_d)))))

    _sgd_step(d_ref.trainable_variables, d_loss, lr)
    _sgd_step(g_ref.trainable_variables, lambda: -tf.reduce_mean(_log_sigmoid(d_ref(g_ref(z_g)))), lr)
    logs = gan.train_on_batch(x, return_dict=True)
    for a, b in zip(d.get_weights() + g.get_weights(), d_ref.get_weights() + g_ref.get_weights()):
        np.testing.assert_allclose(a, b, rtol=1e-5, atol=1e-6)
    assert set(logs) == {"d_loss", "g_loss", "d_real", "d_fake"}


def test_r1_step_adds_half_gamma_squared_slope_on_real_data():
    """D's loss is the minimax loss + gamma/2 ||grad_x D(x)||^2 (x real); G's step is unchanged."""
    keras.utils.set_random_seed(0)
    g, d = tiny_players()
    gamma, lr = 2.0, 0.1
    gan = GAN(generator=g, discriminator=d, r1_weight=gamma, seed=5)
    gan.compile(d_optimizer=keras.optimizers.SGD(lr), g_optimizer=keras.optimizers.SGD(lr))
    x = tf.constant(toy_data(8))
    g_ref, d_ref = _copy(g), _copy(d)
    z_d = gan.sample_latents(8, gan.step_seed(0))
    z_g = gan.sample_latents(8, gan.step_seed(1))

    def d_loss():
        with tf.GradientTape() as inner:
            inner.watch(x)
            total = tf.reduce_sum(d_ref(x))
        slope = tf.reduce_sum(tf.square(inner.gradient(total, x)), axis=1)
        minimax = -tf.reduce_mean(_log_sigmoid(d_ref(x))) - tf.reduce_mean(tf.math.log(1 - tf.sigmoid(d_ref(g_ref(z_d)))))
        return minimax + 0.5 * gamma * tf.reduce_mean(slope)

    _sgd_step(d_ref.trainable_variables, d_loss, lr)
    _sgd_step(g_ref.trainable_variables, lambda: -tf.reduce_mean(_log_sigmoid(d_ref(g_ref(z_g)))), lr)
    logs = gan.train_on_batch(x, return_dict=True)
    for a, b in zip(d.get_weights() + g.get_weights(), d_ref.get_weights() + g_ref.get_weights()):
        np.testing.assert_allclose(a, b, rtol=1e-5, atol=1e-6)
    assert set(logs) == {"d_loss", "g_loss", "d_real", "d_fake", "r1_penalty"} and logs["r1_penalty"] > 0
    clone = GAN.from_config(gan.get_config())
    assert clone.r1_weight == gamma and "r1_penalty" in clone.metric_names
    assert "r1_penalty" not in GAN(generator=g, discriminator=d).metric_names


def _feature_model(d, name):
    return keras.Model(d.input, d.get_layer(name).output)


def test_feature_matching_step_matches_the_mean_features_of_real_data():
    keras.utils.set_random_seed(1)
    g, d = tiny_players(hidden=(8, 6))
    gan = GAN(generator=g, discriminator=d, generator_loss="feature_matching", feature_layer="hidden1_lrelu",
              label_smoothing=0.2, seed=5)
    lr = 0.1
    gan.compile(d_optimizer=keras.optimizers.SGD(lr), g_optimizer=keras.optimizers.SGD(lr))
    x = toy_data(8)
    g_ref, d_ref = _copy(g), _copy(d)
    z_d = gan.sample_latents(8, gan.step_seed(0))
    z_g = gan.sample_latents(8, gan.step_seed(1))

    def d_loss():  # smoothing 0.2 in D's loss
        p_real = tf.sigmoid(d_ref(x))
        real = -(0.8 * tf.math.log(p_real) + 0.2 * tf.math.log(1 - p_real))
        return tf.reduce_mean(real) - tf.reduce_mean(tf.math.log(1 - tf.sigmoid(d_ref(g_ref(z_d)))))

    _sgd_step(d_ref.trainable_variables, d_loss, lr)
    features = _feature_model(d_ref, "hidden1_lrelu")  # after D's update, as in the step

    def g_loss():  # Salimans et al. 2016: || E f(x) - E f(G(z)) ||^2
        diff = tf.reduce_mean(features(x), axis=0) - tf.reduce_mean(features(g_ref(z_g)), axis=0)
        return tf.reduce_sum(tf.square(diff))

    want_g_loss = float(g_loss())
    _sgd_step(g_ref.trainable_variables, g_loss, lr)
    logs = gan.train_on_batch(x, return_dict=True)
    for a, b in zip(d.get_weights() + g.get_weights(), d_ref.get_weights() + g_ref.get_weights()):
        np.testing.assert_allclose(a, b, rtol=1e-5, atol=1e-6)
    assert logs["g_loss"] == pytest.approx(want_g_loss, rel=1e-5)
    assert set(logs) == {"d_loss", "g_loss", "d_real", "d_fake"}


def test_feature_matching_fit_gives_finite_metrics_and_changes_both_players():
    keras.utils.set_random_seed(2)
    g, d = tiny_players()
    gan = GAN(generator=g, discriminator=d, generator_loss="feature_matching", feature_layer="hidden0", seed=3)
    gan.compile()
    g0, d0 = _weights(g), _weights(d)
    hist = gan.fit(toy_dataset(), epochs=1, verbose=0).history
    assert set(hist) == {"d_loss", "g_loss", "d_real", "d_fake"}
    assert all(np.isfinite(v[-1]) for v in hist.values())
    assert all(np.any(a != b) for a, b in zip(g0, _weights(g)))
    assert all(np.any(a != b) for a, b in zip(d0, _weights(d)))
    # The feature network shares D's variables: the model holds each weight once.
    assert len({id(w) for w in gan.weights}) == len(gan.weights) == len(g.weights) + len(d.weights)


def test_feature_matching_on_a_conditional_discriminator_uses_discriminator_inputs():
    """D with inputs [x, y]: the feature network is fed what D is fed (the hook's output)."""
    x_in, y_in = keras.Input((2,), name="x"), keras.Input((2,), name="y")
    h = keras.layers.Concatenate(name="x_y")([x_in, y_in])
    h = keras.layers.LeakyReLU(0.2, name="hidden0_lrelu")(keras.layers.Dense(8, name="hidden0")(h))
    d = keras.Model([x_in, y_in], keras.layers.Dense(1, name="logit")(h))
    g = mlp_generator(2, 3, (8,))

    class Conditional(GAN):
        def generator_inputs(self, latents, condition=None):
            return latents

        def discriminator_inputs(self, x, condition=None, latents=None, training=False):
            return [x, condition]

    gan = Conditional(generator=g, discriminator=d, generator_loss="feature_matching", feature_layer="hidden0_lrelu")
    gan.compile()
    x = toy_data(16)
    y = np.eye(2, dtype="float32")[np.arange(16) % 2]
    hist = gan.fit(tf.data.Dataset.from_tensor_slices((x, y)).batch(8), epochs=1, verbose=0).history
    assert all(np.isfinite(v[-1]) for v in hist.values())


def test_spectrally_normalised_discriminator_trains_and_is_saved(tmp_path):
    keras.utils.set_random_seed(3)
    g, d = tiny_players()
    d_sn = spectral_normalize(d)
    gan = GAN(generator=g, discriminator=d_sn, label_smoothing=0.1, seed=2)
    gan.compile(d_optimizer=keras.optimizers.Adam(1e-3), g_optimizer=keras.optimizers.Adam(2e-3))
    w0 = _weights(d_sn)
    hist = gan.fit(toy_dataset(), epochs=1, verbose=0).history
    assert all(np.isfinite(v[-1]) for v in hist.values())
    assert all(np.any(a != b) for a, b in zip(w0, _weights(d_sn)))  # kernels, biases and u
    path = str(tmp_path / "gan_sn.keras")
    gan.save(path)
    loaded = keras.models.load_model(path)
    assert isinstance(loaded.discriminator.get_layer("hidden0"), SpectralNorm)
    assert loaded.label_smoothing == pytest.approx(0.1)
    for a, b in zip(loaded.discriminator.weights, d_sn.weights):
        np.testing.assert_array_equal(a.numpy(), b.numpy())
    np.testing.assert_allclose(loaded.discriminator(toy_data(5)).numpy(), d_sn(toy_data(5)).numpy(), rtol=1e-6)
    loaded.fit(toy_dataset(), epochs=1, verbose=0)


def test_feature_matching_gan_config_round_trip_and_save(tmp_path):
    g, d = tiny_players()
    gan = GAN(generator=g, discriminator=spectral_normalize(d), generator_loss="feature_matching",
              feature_layer="hidden0_lrelu", label_smoothing=0.25, seed=7, name="fm_gan")
    config = gan.get_config()
    assert config["label_smoothing"] == 0.25 and config["feature_layer"] == "hidden0_lrelu"
    clone = GAN.from_config(gan.get_config())
    assert clone.get_config() == gan.get_config()
    gan.compile()
    gan.fit(toy_dataset(), epochs=1, verbose=0)
    path = str(tmp_path / "fm.keras")
    gan.save(path)
    loaded = keras.models.load_model(path)
    assert loaded.generator_loss_name == "feature_matching" and loaded.feature_layer == "hidden0_lrelu"
    np.testing.assert_allclose(loaded.generate(6, seed=1), gan.generate(6, seed=1), rtol=1e-6)
    hist = loaded.fit(toy_dataset(), epochs=1, verbose=0).history
    assert all(np.isfinite(v[-1]) for v in hist.values())


def test_bad_arguments_raise_one_line_errors():
    g, d = tiny_players()
    for bad in (1.0, -0.1, 1.5):
        with pytest.raises(KerasGenError, match="label_smoothing must be in"):
            GAN(generator=g, discriminator=d, label_smoothing=bad)
    with pytest.raises(KerasGenError, match="feature_layer 'hidden9' is not a layer.*hidden0, hidden0_lrelu, logit"):
        GAN(generator=g, discriminator=d, generator_loss="feature_matching", feature_layer="hidden9")
    with pytest.raises(KerasGenError, match="feature_layer= is required"):
        GAN(generator=g, discriminator=d, generator_loss="feature_matching")
    with pytest.raises(KerasGenError, match="only used with"):
        GAN(generator=g, discriminator=d, feature_layer="hidden0")
    with pytest.raises(KerasGenError, match="generator loss 'hinge'.*feature_matching"):
        GAN(generator=g, discriminator=d, generator_loss="hinge")
    for bad in (-1.0, float("nan")):
        with pytest.raises(KerasGenError, match="r1_weight must be >= 0"):
            GAN(generator=g, discriminator=d, r1_weight=bad)
