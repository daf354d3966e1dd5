"""Feature matching (Salimans et al. 2016) against NumPy."""
import numpy as np
import tensorflow as tf

from keras_gen.losses import feature_matching_loss, replica_feature_matching_loss

RNG = np.random.RandomState(0)


def np_feature_matching(real, fake):
    real = real.reshape(len(real), -1)
    fake = fake.reshape(len(fake), -1)
    return float(np.sum((real.mean(axis=0) - fake.mean(axis=0)) ** 2))


def test_matches_numpy_on_flat_and_image_features():
    for shape_r, shape_f in (((6, 4), (6, 4)), ((5, 3, 3, 2), (7, 3, 3, 2)), ((4,), (4,))):
        real, fake = RNG.normal(size=shape_r), RNG.normal(size=shape_f) + 0.3
        got = float(feature_matching_loss(real, fake))
        assert np.isclose(got, np_feature_matching(real, fake), rtol=1e-10)


def test_zero_for_equal_means_and_gradient_pulls_fake_mean_to_real_mean():
    real = RNG.normal(size=(8, 3))
    fake = real[::-1] + 0.0  # same rows in another order: same mean
    assert abs(float(feature_matching_loss(real, fake))) < 1e-20
    fake = tf.Variable(RNG.normal(size=(4, 3)))
    with tf.GradientTape() as tape:
        loss = feature_matching_loss(real, fake)
    grad = tape.gradient(loss, fake).numpy()
    # d/d fake_j of ||m_r - m_f||^2 = -2 (m_r - m_f) / M for every row j.
    want = -2.0 * (real.mean(0) - fake.numpy().mean(0)) / 4
    np.testing.assert_allclose(grad, np.tile(want, (4, 1)), rtol=1e-10)


def test_replica_wrapper_is_the_plain_loss_on_one_replica():
    real, fake = RNG.normal(size=(6, 5)), RNG.normal(size=(6, 5))
    loss, value = replica_feature_matching_loss(real, fake)
    assert np.isclose(float(loss), np_feature_matching(real, fake))
    assert np.isclose(float(value), float(loss))
