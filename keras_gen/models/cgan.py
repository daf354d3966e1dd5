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
from keras_gen.layers.condition import check_labels, one_hot_labels
from keras_gen.models.gan import GAN


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
