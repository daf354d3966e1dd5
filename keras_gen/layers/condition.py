"""Conditions (class labels, codes) for conditional models: one-hot labels, the checks of
labels and of conditional network arguments, and feeding a condition to a conv network.

Shared by the conditional GANs (CGAN, ACGAN, InfoGAN), the CVAE and the network builders.
"""
import keras
import numpy as np

from keras_gen.errors import KerasGenError


def one_hot_labels(labels, num_classes):
    """Integer class ids `[batch]` (or `[batch, 1]`), or one-hot rows, as float one-hot rows."""
    import tensorflow as tf

    labels = tf.convert_to_tensor(labels)
    if labels.shape.rank == 2 and labels.shape[-1] == num_classes and labels.dtype.is_floating:
        return tf.cast(labels, tf.float32)
    if labels.dtype.is_floating:
        labels = tf.round(labels)
    return tf.one_hot(tf.cast(tf.reshape(labels, [-1]), tf.int32), num_classes)


def check_labels(labels, n, num_classes, what="labels"):
    """`labels` for `n` samples as an int array `[n]`: an int (all the same class), a
    sequence of n class ids, or None (classes 0, 1, ..., num_classes - 1 in turn)."""
    if labels is None:
        return np.arange(n) % num_classes
    arr = np.asarray(labels)
    if arr.ndim == 0:
        arr = np.full(n, arr)
    arr = arr.reshape(-1) if arr.ndim == 2 and arr.shape[1] == 1 else arr
    if arr.ndim != 1 or len(arr) != n:
        count = len(arr) if arr.ndim == 1 else np.shape(labels)
        raise KerasGenError(f"{what} must be one class id or {n} class ids; got {count} {what} for n={n}")
    if not np.issubdtype(arr.dtype, np.integer):
        if not np.issubdtype(arr.dtype, np.floating) or np.any(arr != np.round(arr)):
            raise KerasGenError(f"{what} must be integer class ids, got dtype {arr.dtype}")
        arr = arr.astype(np.int64)
    if arr.size and (arr.min() < 0 or arr.max() >= num_classes):
        raise KerasGenError(f"{what} must be in [0, {num_classes - 1}], got values from {arr.min()} to {arr.max()}")
    return arr.astype(np.int64)


def check_condition_dim(condition_dim):
    """`condition_dim` of a network builder as an int >= 0 (0: no condition input)."""
    if int(condition_dim) < 0:
        raise KerasGenError(f"condition_dim must be >= 0, got {condition_dim}")
    return int(condition_dim)


def check_heads(heads):
    """`heads` of a discriminator builder as a dict {name: units}, names other than "logit"."""
    heads = dict(heads or {})
    for head, units in heads.items():
        if head == "logit" or not isinstance(units, int) or units < 1:
            raise KerasGenError(f"heads must map names other than 'logit' to positive unit counts, got {head!r}: {units!r}")
    return heads


@keras.saving.register_keras_serializable(package="keras_gen")
class TileCondition(keras.layers.Layer):
    """Repeats a condition `y` `[batch, k]` over a `height x width` map: `[batch, h, w, k]`.

    Concatenated to an image's channels, every convolution of a discriminator then sees
    the label at every position (the usual way to condition a convolutional D on y).
    Nothing is learned; a copy, not an interpolation.

    Args:
        height, width: size of the map.
    """

    def __init__(self, height, width, **kwargs):
        super().__init__(**kwargs)
        self.height = int(height)
        self.width = int(width)

    def call(self, y):
        y = keras.ops.expand_dims(keras.ops.expand_dims(y, 1), 1)
        return keras.ops.tile(y, [1, self.height, self.width, 1])

    def compute_output_shape(self, input_shape):
        return (input_shape[0], self.height, self.width, input_shape[-1])

    def get_config(self):
        config = super().get_config()
        config.update(height=self.height, width=self.width)
        return config
