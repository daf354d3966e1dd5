"""Classification losses on a softmax output, and their gradients (notes 002 lecture 7; T5).

With logits z (the network's outputs y), the softmax y'_i = exp(z_i) / sum_j exp(z_j)
and a one-hot label y^ (the notes' "y hat"), the notes compare two losses:

    cross-entropy   e = -sum_i y^_i ln y'_i
    squared error   e = sum_i (y^_i - y'_i)^2          (the notes' MSE: summed over classes)

Their gradients with respect to the logits (the softmax Jacobian is
d y'_i / d z_j = y'_i (delta_ij - y'_j)):

    cross-entropy   de/dz_j = y'_j - y^_j
    squared error   de/dz_j = 2 y'_j [(y'_j - y^_j) - sum_i (y'_i - y^_i) y'_i]

When the softmax is saturated on a wrong class (y'_k ~ 1 for k != target), the
cross-entropy gradient stays about 1 in size (y'_k - 0 and y'_t - 1), while every term
of the squared error's gradient carries a factor y'_j (1 - y'_j)-like and vanishes:
the loss is large and the surface flat, "MSE gets stuck" (the notes: 在损失比较大的时候
梯度就会趋于平缓). Keras's `mean_squared_error` on the softmax output is this loss
divided by the number of classes.

Functions take one-hot `labels` and `logits` [batch, classes] and return the per-example
loss [batch]; `SoftmaxSquaredError` is the Keras `Loss` for `compile`.
"""
import keras
import numpy as np
import tensorflow as tf


def softmax_cross_entropy(labels, logits):
    """Per-example cross-entropy of softmax(logits) against one-hot `labels`.

    Formula: `e = -sum_i y^_i ln softmax(z)_i`, computed as `-sum_i y^_i log_softmax(z)_i`
    (no overflow at large logits).
    """
    logits = tf.convert_to_tensor(logits)
    labels = tf.cast(labels, logits.dtype)
    return -tf.reduce_sum(labels * tf.nn.log_softmax(logits, axis=-1), axis=-1)


def softmax_squared_error(labels, logits):
    """Per-example squared error of softmax(logits) against one-hot `labels` (the notes' MSE).

    Formula: `e = sum_i (y^_i - softmax(z)_i)^2`.
    """
    logits = tf.convert_to_tensor(logits)
    labels = tf.cast(labels, logits.dtype)
    return tf.reduce_sum(tf.square(labels - tf.nn.softmax(logits, axis=-1)), axis=-1)


def _softmax_np(logits):
    z = np.asarray(logits, dtype=np.float64)
    z = z - z.max(axis=-1, keepdims=True)
    e = np.exp(z)
    return e / e.sum(axis=-1, keepdims=True)


def cross_entropy_logit_gradient(labels, logits):
    """d(cross-entropy)/d logits in NumPy. Formula: `y' - y^`."""
    return _softmax_np(logits) - np.asarray(labels, dtype=np.float64)


def squared_error_logit_gradient(labels, logits):
    """d(squared error)/d logits in NumPy.

    Formula: `2 y'_j [(y'_j - y^_j) - sum_i (y'_i - y^_i) y'_i]`.
    """
    p = _softmax_np(logits)
    r = p - np.asarray(labels, dtype=np.float64)
    return 2.0 * p * (r - np.sum(r * p, axis=-1, keepdims=True))


@keras.saving.register_keras_serializable(package="keras_gen")
class SoftmaxSquaredError(keras.losses.Loss):
    """The notes' MSE for classification: `sum_i (y^_i - softmax(z)_i)^2` on logits.

    `y_true` is one-hot, or integer class ids with `sparse=True`; `y_pred` are logits.
    """

    def __init__(self, sparse=False, name="softmax_squared_error", reduction="sum_over_batch_size", dtype=None):
        super().__init__(name=name, reduction=reduction, dtype=dtype)
        self.sparse = sparse

    def call(self, y_true, y_pred):
        if self.sparse:
            y_true = tf.one_hot(tf.cast(tf.reshape(y_true, [-1]), tf.int32), tf.shape(y_pred)[-1], dtype=y_pred.dtype)
        return softmax_squared_error(y_true, y_pred)

    def get_config(self):
        return {**super().get_config(), "sparse": self.sparse}
