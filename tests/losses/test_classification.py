"""Softmax cross-entropy and squared error (notes 002 lecture 7): values against NumPy and
Keras, gradients against the closed forms, finite differences and TensorFlow's autodiff."""
import keras
import numpy as np
import pytest
import tensorflow as tf

from keras_gen.losses.classification import (SoftmaxSquaredError, cross_entropy_logit_gradient,
                                             softmax_cross_entropy, softmax_squared_error,
                                             squared_error_logit_gradient)


def _softmax(z):
    e = np.exp(z - z.max(axis=-1, keepdims=True))
    return e / e.sum(axis=-1, keepdims=True)


def _case(seed=0, n=6, classes=4, scale=2.0):
    rng = np.random.default_rng(seed)
    logits = rng.normal(0, scale, (n, classes))
    labels = np.eye(classes)[rng.integers(0, classes, n)]
    return labels, logits


def test_loss_values_against_numpy_and_keras():
    labels, logits = _case()
    p = _softmax(logits)
    np.testing.assert_allclose(softmax_cross_entropy(labels, logits), -np.sum(labels * np.log(p), axis=1), rtol=1e-12)
    np.testing.assert_allclose(softmax_squared_error(labels, logits), np.sum((labels - p) ** 2, axis=1), rtol=1e-12)
    keras_ce = keras.losses.CategoricalCrossentropy(from_logits=True, reduction=None)(labels, logits)
    np.testing.assert_allclose(softmax_cross_entropy(labels, logits), keras_ce, rtol=1e-6)
    # Keras's MSE on the softmax output averages over the classes instead of summing
    keras_mse = keras.losses.MeanSquaredError(reduction=None)(labels, p)
    np.testing.assert_allclose(softmax_squared_error(labels, logits), 4 * keras_mse, rtol=1e-6)
    # no overflow at large logits
    assert np.isfinite(softmax_cross_entropy(np.eye(3)[[0]], np.array([[-1e4, 0.0, 1e4]]))).all()


def _autodiff(fn, labels, logits):
    z = tf.constant(logits, tf.float64)
    with tf.GradientTape() as tape:
        tape.watch(z)
        loss = tf.reduce_sum(fn(tf.constant(labels, tf.float64), z))
    return tape.gradient(loss, z).numpy()


def _finite_differences(fn, labels, logits, h=1e-6):
    grad = np.zeros_like(logits)
    for idx in np.ndindex(*logits.shape):
        up, down = logits.copy(), logits.copy()
        up[idx] += h
        down[idx] -= h
        grad[idx] = (np.sum(fn(labels, up)) - np.sum(fn(labels, down))) / (2 * h)
    return grad


@pytest.mark.parametrize("loss, formula", [(softmax_cross_entropy, cross_entropy_logit_gradient),
                                           (softmax_squared_error, squared_error_logit_gradient)])
def test_logit_gradients_equal_the_closed_forms(loss, formula):
    labels, logits = _case(seed=1)
    np.testing.assert_allclose(formula(labels, logits), _autodiff(loss, labels, logits), rtol=1e-9, atol=1e-12)
    np.testing.assert_allclose(formula(labels, logits), _finite_differences(
        lambda y, z: loss(y, z).numpy(), labels, logits), rtol=1e-5, atol=1e-8)


def test_at_saturated_logits_cross_entropy_keeps_its_gradient_and_squared_error_loses_it():
    # The softmax puts ~all its mass on class 2 while the label is class 0, margin m.
    for m in (5.0, 10.0, 20.0):
        logits = np.array([[0.0, 0.0, m, 0.0]])
        labels = np.eye(4)[[0]]
        ce_grad = cross_entropy_logit_gradient(labels, logits)
        se_grad = squared_error_logit_gradient(labels, logits)
        np.testing.assert_allclose(ce_grad, _autodiff(softmax_cross_entropy, labels, logits), atol=1e-12)
        np.testing.assert_allclose(se_grad, _autodiff(softmax_squared_error, labels, logits), atol=1e-12)
        # closed forms at the limit: CE -> (-1, 0, 1, 0); SE -> every entry O(e^-m)
        q = np.exp(-m) / (1 + 3 * np.exp(-m))  # softmax of a 0 logit
        np.testing.assert_allclose(ce_grad[0], [q - 1, q, 1 - 3 * q, q], atol=1e-12)
        assert np.linalg.norm(ce_grad) > 1.4 - 5 * q
        assert np.linalg.norm(se_grad) < 10 * np.exp(-m)
        # the loss itself is large: ~2 for SE (the wrong class at 1, the right at 0), ~m for CE
        assert softmax_squared_error(labels, logits).numpy()[0] == pytest.approx(2.0, abs=10 * q)
        assert softmax_cross_entropy(labels, logits).numpy()[0] == pytest.approx(m, rel=0.01)


def test_softmax_squared_error_loss_class_sparse_labels_and_config():
    labels, logits = _case(seed=2)
    ids = labels.argmax(axis=1)
    dense = SoftmaxSquaredError()(labels, logits)
    sparse = SoftmaxSquaredError(sparse=True)(ids, logits)
    assert float(dense) == pytest.approx(float(np.mean(np.sum((labels - _softmax(logits)) ** 2, axis=1))), rel=1e-6)
    assert float(sparse) == pytest.approx(float(dense), rel=1e-6)
    clone = keras.saving.deserialize_keras_object(keras.saving.serialize_keras_object(SoftmaxSquaredError(sparse=True)))
    assert isinstance(clone, SoftmaxSquaredError) and clone.sparse and clone.get_config()["name"] == "softmax_squared_error"
