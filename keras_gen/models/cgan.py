"""S7: the conditional GAN (notes 003; Mirza & Osindero 2014, "Conditional Generative
Adversarial Nets").

    min_G max_D V = E_{x,y ~ p_data} log D(x | y) + E_{z ~ p(z), y ~ p_data} log(1 - D(G(z | y) | y))

G and D both receive the label y, one-hot, as a second input (`dcgan_generator(...,
condition_dim=10)`: y concatenated to z; `dcgan_discriminator(..., condition_dim=10)`:
y tiled over the image and concatenated to its channels; the MLP builders take the
same argument). Training batches are `(images, labels)`; the fakes of a step are
generated for the labels of the step's real batch, so D compares real and fake
examples of the same classes and G learns every class in the data's proportions.

Everything else (the D-then-G train step, losses, the tricks of S11, global-batch noise
and averaging, export) is `GAN`'s; this file only says how the label enters.
"""
import keras
import numpy as np
import tensorflow as tf

from keras_gen.errors import KerasGenError
from keras_gen.models.gan import GAN


def one_hot_labels(labels, num_classes):
    """Integer class ids `[batch]` (or `[batch, 1]`), or one-hot rows, as float one-hot rows."""
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
        raise KerasGenError(f"{what} must be one class id or {n} class ids, got shape {np.shape(labels)}")
    if not np.issubdtype(arr.dtype, np.integer):
        if not np.issubdtype(arr.dtype, np.floating) or np.any(arr != np.round(arr)):
            raise KerasGenError(f"{what} must be integer class ids, got dtype {arr.dtype}")
        arr = arr.astype(np.int64)
    if arr.size and (arr.min() < 0 or arr.max() >= num_classes):
        raise KerasGenError(f"{what} must be in [0, {num_classes - 1}], got values from {arr.min()} to {arr.max()}")
    return arr.astype(np.int64)


def input_width(model, index):
    """Width of a functional model's `index`-th input (None if it has no such input)."""
    inputs = model.inputs
    return inputs[index].shape[-1] if len(inputs) > index else None


@keras.saving.register_keras_serializable(package="keras_gen")
class CGAN(GAN):
    """Conditional GAN: G(z, y) and D(x, y), y a one-hot class label.

    Args:
        generator: functional model `[z, y_onehot] -> x`.
        discriminator: functional model `[x, y_onehot] -> logit`.
        num_classes: number of classes (the one-hot width both networks take).
        (the rest as `GAN`: generator_loss, label_smoothing, feature_layer, seed, ...)

    `fit` on `(images, labels)` batches; `generate(n, labels)`.
    """

    def __init__(self, generator, discriminator, num_classes=10, latent_dim=None, **kwargs):
        self.num_classes = int(num_classes)
        if self.num_classes < 2:
            raise KerasGenError(f"num_classes must be >= 2, got {num_classes}")
        self._check_networks(generator, discriminator)
        if latent_dim is None:
            latent_dim = input_width(generator, 0)
        super().__init__(generator, discriminator, latent_dim=latent_dim, **kwargs)

    def _check_networks(self, generator, discriminator):
        if len(generator.inputs) != 2 or input_width(generator, 1) != self.num_classes:
            raise KerasGenError(f"{type(self).__name__} generator must take [z, one-hot label of width "
                                f"{self.num_classes}]; build it with condition_dim={self.num_classes}")
        if len(discriminator.inputs) != 2 or input_width(discriminator, 1) != self.num_classes:
            raise KerasGenError(f"CGAN discriminator must take [x, one-hot label of width {self.num_classes}]; "
                                f"build it with condition_dim={self.num_classes}")

    def get_config(self):
        config = super().get_config()
        config["num_classes"] = self.num_classes
        return config

    # === Conditioning hooks ===
    def unpack(self, data):
        if not isinstance(data, (tuple, list)) or len(data) < 2 or data[1] is None:
            raise KerasGenError(f"{type(self).__name__} trains on (images, labels) batches")
        return data[0], one_hot_labels(data[1], self.num_classes)

    def generator_inputs(self, latents, condition=None):
        return [latents, condition]

    def discriminator_inputs(self, x, condition=None, latents=None, training=False):
        return [x, condition]

    # === Sampling and export ===
    def generate(self, n, labels=None, seed=None, batch_size=1024):
        """`n` samples of the classes `labels` (one id, `n` ids, or None for 0, 1, 2, ... in turn)."""
        labels = check_labels(labels, int(n), self.num_classes)
        onehot = np.eye(self.num_classes, dtype="float32")[labels]
        return super().generate(n, seed=seed, condition=onehot, batch_size=batch_size)

    def export_endpoints(self):
        """`generate`: (z, y one-hot) -> x; `discriminate`: (x, y one-hot) -> logits."""
        z = tf.TensorSpec((None, self.latent_dim), tf.float32, name="z")
        y = tf.TensorSpec((None, self.num_classes), tf.float32, name="y")
        x = tf.TensorSpec((None,) + tuple(self.generator.output_shape[1:]), tf.float32, name="x")
        return [
            ("generate", self.generator, [z, y], "x"),
            ("discriminate", self.discriminator, [x, y], "logits"),
        ]
