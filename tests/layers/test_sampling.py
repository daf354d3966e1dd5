"""GaussianSampler: the reparameterisation z = mu + sigma * eps."""
import keras
import numpy as np
import tensorflow as tf

from keras_gen.layers.sampling import GaussianSampler, replica_slice_normal


def test_samples_have_the_requested_moments():
    mean = np.tile([[1.5, -2.0]], (40_000, 1)).astype(np.float32)
    log_var = np.tile([[np.log(0.25), np.log(4.0)]], (40_000, 1)).astype(np.float32)
    z = GaussianSampler(seed=3)([mean, log_var], step=7).numpy()
    np.testing.assert_allclose(z.mean(axis=0), [1.5, -2.0], atol=0.03)
    np.testing.assert_allclose(z.var(axis=0), [0.25, 4.0], rtol=0.03)


def test_gradients_flow_through_mean_and_log_var():
    mean = tf.constant([[0.3, -0.2]])
    log_var = tf.constant([[0.1, -0.4]])
    sampler = GaussianSampler(seed=0)
    with tf.GradientTape() as tape:
        tape.watch([mean, log_var])
        z = sampler([mean, log_var], step=0)
        total = tf.reduce_sum(z)
    d_mean, d_log_var = tape.gradient(total, [mean, log_var])
    np.testing.assert_allclose(d_mean.numpy(), [[1.0, 1.0]])
    eps = (z - mean) / tf.exp(0.5 * log_var)
    # dz/dlog_var = 0.5 * sigma * eps
    np.testing.assert_allclose(d_log_var.numpy(), (0.5 * tf.exp(0.5 * log_var) * eps).numpy(), rtol=1e-6)


def test_step_noise_is_a_function_of_seed_and_step():
    zeros = np.zeros((4, 3), np.float32)
    a = GaussianSampler(seed=1)([zeros, zeros], step=5).numpy()
    b = GaussianSampler(seed=1)([zeros, zeros], step=5).numpy()
    c = GaussianSampler(seed=1)([zeros, zeros], step=6).numpy()
    d = GaussianSampler(seed=2)([zeros, zeros], step=5).numpy()
    np.testing.assert_array_equal(a, b)
    assert not np.allclose(a, c) and not np.allclose(a, d)


def test_single_replica_slice_is_the_global_draw():
    eps = replica_slice_normal((6, 2), seed=4, step=9).numpy()
    expected = tf.random.stateless_normal((6, 2), seed=tf.constant([4, 9], tf.int64)).numpy()
    np.testing.assert_array_equal(eps, expected)


def test_config_round_trip():
    layer = GaussianSampler(seed=11, name="s")
    clone = GaussianSampler.from_config(layer.get_config())
    assert clone.seed == 11 and clone.name == "s"
    restored = keras.saving.deserialize_keras_object(keras.saving.serialize_keras_object(layer))
    assert isinstance(restored, GaussianSampler) and restored.seed == 11
