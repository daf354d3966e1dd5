"""Gradient penalty and weight clipping against closed forms and NumPy."""
import numpy as np
import tensorflow as tf
import keras

from keras_gen.losses import penalties as P


def test_gradient_penalty_of_linear_critic_is_exact():
    rng = np.random.RandomState(1)
    w = rng.normal(size=(5,)).astype("float32")
    real = rng.normal(size=(4, 5)).astype("float32")
    fake = rng.normal(size=(4, 5)).astype("float32")
    alpha = rng.uniform(size=(4,)).astype("float32")
    wt = tf.constant(w)
    gp = P.gradient_penalty(lambda x: tf.linalg.matvec(x, wt), real, fake, alpha).numpy()
    # D(x) = w.x has gradient w everywhere: every example's penalty is (||w|| - 1)^2.
    want = (np.linalg.norm(w.astype("float64")) - 1.0) ** 2
    np.testing.assert_allclose(gp, np.full(4, want), rtol=1e-6)


def test_gradient_penalty_of_quadratic_critic_matches_numpy():
    # D(x) = 0.5 ||x||^2 has gradient x_hat; checks the interpolation too.
    rng = np.random.RandomState(2)
    real = rng.normal(size=(6, 2, 3)).astype("float32")
    fake = rng.normal(size=(6, 2, 3)).astype("float32")
    alpha = rng.uniform(size=(6,)).astype("float32")
    gp = P.gradient_penalty(lambda x: 0.5 * tf.reduce_sum(tf.square(x), axis=[1, 2]), real, fake, alpha).numpy()
    x_hat = alpha[:, None, None] * real + (1 - alpha[:, None, None]) * fake
    want = (np.linalg.norm(x_hat.reshape(6, -1), axis=1) - 1.0) ** 2
    np.testing.assert_allclose(gp, want, rtol=1e-5)


def test_gradient_penalty_is_finite_with_zero_input_gradient():
    # A constant critic has a zero input gradient; sqrt would give NaN gradients here.
    # Here the input gradient is w * 0 = 0: d gp / d w goes through the norm at 0.
    w = tf.Variable(3.0)
    real = tf.ones((3, 2))
    with tf.GradientTape() as tape:
        gp = P.gradient_penalty(lambda x: w * tf.reduce_sum(0.0 * x, axis=1), real, -real, tf.fill([3], 0.5))
        loss = tf.reduce_mean(gp)
    np.testing.assert_allclose(gp.numpy(), [1.0, 1.0, 1.0])
    grad = tape.gradient(loss, w)
    assert grad is not None and np.isfinite(grad.numpy())
    x = tf.zeros((2, 3))
    with tf.GradientTape() as tape:
        tape.watch(x)
        n = tf.reduce_sum(P.safe_norm(x))
    np.testing.assert_array_equal(tape.gradient(n, x).numpy(), np.zeros((2, 3)))


def test_gradient_penalty_differentiates_with_respect_to_critic_weights():
    # D(x) = a * w.x: gp = (|a| ||w|| - 1)^2, d gp / d a = 2 (|a| ||w|| - 1) ||w|| sign(a).
    w = tf.constant([3.0, 4.0])
    a = tf.Variable(0.5)
    with tf.GradientTape() as tape:
        gp = P.gradient_penalty(lambda x: a * tf.linalg.matvec(x, w), tf.ones((2, 2)), tf.zeros((2, 2)), tf.fill([2], 0.3))
        loss = tf.reduce_mean(gp)
    np.testing.assert_allclose(loss.numpy(), (0.5 * 5 - 1) ** 2, rtol=1e-6)
    np.testing.assert_allclose(tape.gradient(loss, a).numpy(), 2 * (0.5 * 5 - 1) * 5, rtol=1e-6)


def test_interpolation_weights_are_uniform_per_example():
    a = P.interpolation_weights(20000, tf.constant([1, 2], tf.int64)).numpy()
    assert a.shape == (20000,) and a.min() >= 0 and a.max() <= 1
    # U[0, 1]: mean 1/2, variance 1/12 (a normal draw, the keras.io bug, fails both).
    assert abs(a.mean() - 0.5) < 0.01 and abs(a.var() - 1 / 12) < 0.003
    np.testing.assert_array_equal(a, P.interpolation_weights(20000, tf.constant([1, 2], tf.int64)).numpy())


def test_interpolate_uses_one_weight_per_example():
    real = np.ones((2, 2, 2), "float32")
    fake = np.zeros((2, 2, 2), "float32")
    out = P.interpolate(real, fake, [0.25, 0.75]).numpy()
    np.testing.assert_allclose(out[0], 0.25)
    np.testing.assert_allclose(out[1], 0.75)


def test_clip_weights():
    layer = keras.layers.Dense(3)
    layer.build((None, 4))
    layer.kernel.assign(np.linspace(-1, 1, 12).reshape(4, 3).astype("float32"))
    before = layer.kernel.numpy().copy()
    P.clip_weights(layer.trainable_variables, 0.1)
    np.testing.assert_allclose(layer.kernel.numpy(), np.clip(before, -0.1, 0.1))


# === R1 (Mescheder et al. 2018) ===
def test_r1_of_linear_and_quadratic_critics_is_exact():
    rng = np.random.RandomState(3)
    w = rng.normal(size=(5,)).astype("float32")
    x = rng.normal(size=(4, 5)).astype("float32")
    linear = P.r1_penalty(lambda v: tf.linalg.matvec(v, tf.constant(w)), x)
    np.testing.assert_allclose(linear.numpy(), np.full(4, np.sum(w ** 2)), rtol=1e-6)  # ||w||^2 for every x
    # D(x) = 0.5 ||x||^2 -> grad = x, R1 = ||x||^2; on images the gradient is reshaped per example
    images = rng.normal(size=(3, 4, 4, 2)).astype("float32")
    quadratic = P.r1_penalty(lambda v: 0.5 * tf.reduce_sum(tf.square(v), axis=[1, 2, 3]), images)
    np.testing.assert_allclose(quadratic.numpy(), np.sum(images.reshape(3, -1) ** 2, axis=1), rtol=1e-5)


def test_r1_differentiates_with_respect_to_discriminator_weights():
    keras.utils.set_random_seed(0)
    d = keras.Sequential([keras.Input((3,)), keras.layers.Dense(4, activation="tanh"), keras.layers.Dense(1)])
    x = np.random.RandomState(1).normal(size=(6, 3)).astype("float32")
    with tf.GradientTape() as tape:
        penalty = tf.reduce_mean(P.r1_penalty(lambda v: d(v)[:, 0], x))
    hidden, out = d.layers
    grads = tape.gradient(penalty, [hidden.kernel, hidden.bias, out.kernel, out.bias])
    assert all(float(tf.reduce_max(tf.abs(g))) > 0 for g in grads[:3])  # double backprop reaches the weights
    assert grads[3] is None  # the slope does not depend on the last bias
