"""Adversarial losses against NumPy formulas written with explicit sigmoids and logs."""
import numpy as np
import pytest
import tensorflow as tf

from keras_gen.losses import gan as L


def _sigmoid(x):
    return 1.0 / (1.0 + np.exp(-x))


RNG = np.random.RandomState(0)
REAL = RNG.normal(size=(7, 1)).astype("float64") * 3
FAKE = RNG.normal(size=(7, 1)).astype("float64") * 3


def test_minimax_discriminator_loss_matches_formula():
    got = L.minimax_discriminator_loss(REAL, FAKE).numpy()
    want = -np.log(_sigmoid(REAL[:, 0])) - np.log(1 - _sigmoid(FAKE[:, 0]))
    np.testing.assert_allclose(got, want, rtol=1e-10)
    # Its mean is -V(D, G).
    v = np.mean(np.log(_sigmoid(REAL))) + np.mean(np.log(1 - _sigmoid(FAKE)))
    np.testing.assert_allclose(got.mean(), -v, rtol=1e-10)


def test_minimax_discriminator_loss_with_label_smoothing():
    t = 0.9
    got = L.minimax_discriminator_loss(REAL, FAKE, real_label=t).numpy()
    p = _sigmoid(REAL[:, 0])
    want = -(t * np.log(p) + (1 - t) * np.log(1 - p)) - np.log(1 - _sigmoid(FAKE[:, 0]))
    np.testing.assert_allclose(got, want, rtol=1e-10)


def test_generator_losses_match_formula():
    np.testing.assert_allclose(L.minimax_generator_loss(FAKE).numpy(), np.log(1 - _sigmoid(FAKE[:, 0])), rtol=1e-10)
    np.testing.assert_allclose(L.non_saturating_generator_loss(FAKE).numpy(), -np.log(_sigmoid(FAKE[:, 0])), rtol=1e-10)


def test_wasserstein_losses_match_formula():
    np.testing.assert_allclose(L.wasserstein_critic_loss(REAL, FAKE).numpy(), FAKE[:, 0] - REAL[:, 0])
    np.testing.assert_allclose(L.wasserstein_generator_loss(FAKE).numpy(), -FAKE[:, 0])


def test_losses_are_stable_for_extreme_logits():
    big = tf.constant([[-200.0], [200.0]], tf.float32)
    for value in (
        L.minimax_discriminator_loss(big, big),
        L.minimax_generator_loss(big),
        L.non_saturating_generator_loss(big),
    ):
        assert np.all(np.isfinite(value.numpy()))
    # -log D(G(z)) for a logit of -200 is 200, not inf.
    np.testing.assert_allclose(L.non_saturating_generator_loss(big).numpy(), [200.0, 0.0], atol=1e-6)
    with tf.GradientTape() as tape:
        tape.watch(big)
        loss = tf.reduce_sum(L.minimax_discriminator_loss(big, big))
    assert np.all(np.isfinite(tape.gradient(loss, big).numpy()))


def test_non_saturating_gradient_does_not_vanish_when_d_wins():
    # When D confidently rejects fakes (logit -10), the minimax G gradient is ~sigmoid(-10)
    # while the non-saturating one is ~1: the reason S3 prefers it.
    f = tf.constant([[-10.0]])
    with tf.GradientTape(persistent=True) as tape:
        tape.watch(f)
        mm = tf.reduce_sum(L.minimax_generator_loss(f))
        ns = tf.reduce_sum(L.non_saturating_generator_loss(f))
    assert abs(tape.gradient(mm, f).numpy()[0, 0]) == pytest.approx(_sigmoid(-10.0), rel=1e-4)
    assert abs(tape.gradient(ns, f).numpy()[0, 0]) == pytest.approx(1 - _sigmoid(-10.0), rel=1e-4)


def test_per_example_averages_trailing_axes():
    x = RNG.normal(size=(3, 2, 2)).astype("float32")
    np.testing.assert_allclose(L.per_example(x).numpy(), x.reshape(3, -1).mean(1), rtol=1e-6)
    with pytest.raises(ValueError):
        L.per_example(tf.constant(1.0))
