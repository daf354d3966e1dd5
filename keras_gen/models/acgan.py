"""S8: the auxiliary-classifier GAN (notes 003; Odena, Olah & Shlens 2017, "Conditional
Image Synthesis with Auxiliary Classifier GANs").

G(z, c) draws an image of class c; D sees only the image and has two outputs: the
real/fake logit and class logits (one head each on a shared body:
`dcgan_discriminator(..., heads={"class_logits": 10})`). With

    L_S = E log P(S = real | x) + E log P(S = fake | G(z, c))     (the GAN's game)
    L_C = E log P(C = c | x)    + E log P(C = c | G(z, c))        (the class terms)

D maximises L_S + L_C and G maximises L_C - L_S (SPEC S8: L = L_GAN + E log P(c|x) +
E log P(c|G(z))). As losses to minimise, per example:

    D:  minimax GAN loss + w [CE(c, D_class(x)) + CE(c, D_class(G(z, c)))]
    G:  GAN generator loss (non-saturating by default) + w CE(c, D_class(G(z, c)))

with CE the softmax cross-entropy and w = `class_weight` (1 in the paper). As in
`CGAN`, the fakes of a step take the labels of the step's real batch. The GAN part is
`GAN`'s (so label smoothing and feature matching apply to it unchanged).
"""
import keras
import tensorflow as tf

from keras_gen.errors import KerasGenError
from keras_gen.models.cgan import CGAN, input_width
from keras_gen.models.gan import GAN

CLASS_HEAD = "class_logits"


def class_cross_entropy(onehot, logits):
    """Per-example softmax cross-entropy `-log softmax(logits)[c]` (`[batch]`)."""
    return tf.nn.softmax_cross_entropy_with_logits(labels=onehot, logits=logits)


def class_accuracy(onehot, logits):
    """Per-example 1/0: does argmax(logits) name the class of `onehot`?"""
    return tf.cast(tf.equal(tf.argmax(logits, -1), tf.argmax(onehot, -1)), logits.dtype)


@keras.saving.register_keras_serializable(package="keras_gen")
class ACGAN(CGAN):
    """Auxiliary-classifier GAN: G(z, y); D(x) -> {"logit", "class_logits"}.

    Args:
        generator: functional model `[z, y_onehot] -> x`.
        discriminator: functional model `x -> {"logit": [b, 1], "class_logits": [b, num_classes]}`.
        num_classes: number of classes.
        class_weight: w, the weight of the class terms in both players' losses.
        (the rest as `GAN`)

    Metrics: d_loss, g_loss, d_real, d_fake, class_acc_real (D's accuracy on real
    images), class_acc_fake (on generated images of the requested class).
    """

    metric_names = ("d_loss", "g_loss", "d_real", "d_fake", "class_acc_real", "class_acc_fake")

    def __init__(self, generator, discriminator, num_classes=10, class_weight=1.0, **kwargs):
        if float(class_weight) < 0:
            raise KerasGenError(f"class_weight must be >= 0, got {class_weight}")
        self.class_weight = float(class_weight)
        super().__init__(generator, discriminator, num_classes=num_classes, **kwargs)

    def _check_networks(self, generator, discriminator):
        if len(generator.inputs) != 2 or input_width(generator, 1) != self.num_classes:
            raise KerasGenError(f"ACGAN generator must take [z, one-hot label of width {self.num_classes}]; "
                                f"build it with condition_dim={self.num_classes}")
        outputs = discriminator.output
        if (len(discriminator.inputs) != 1 or not isinstance(outputs, dict) or "logit" not in outputs
                or CLASS_HEAD not in outputs or outputs[CLASS_HEAD].shape[-1] != self.num_classes):
            raise KerasGenError(f"ACGAN discriminator must take x alone and return {{'logit', '{CLASS_HEAD}'}} with "
                                f"{self.num_classes} class logits; build it with heads={{'{CLASS_HEAD}': "
                                f"{self.num_classes}}}")

    def get_config(self):
        config = super().get_config()
        config["class_weight"] = self.class_weight
        return config

    # === Hooks ===
    def discriminator_inputs(self, x, condition=None, latents=None, training=False):
        return x  # D judges the image alone; the class is its second output

    def discriminator_loss(self, real_out, fake_out, batch):
        loss, logs = GAN.discriminator_loss(self, real_out["logit"], fake_out["logit"], batch)
        y = batch["condition"]
        class_real = class_cross_entropy(y, real_out[CLASS_HEAD])
        class_fake = class_cross_entropy(y, fake_out[CLASS_HEAD])
        logs.update(class_acc_real=class_accuracy(y, real_out[CLASS_HEAD]),
                    class_acc_fake=class_accuracy(y, fake_out[CLASS_HEAD]))
        return loss + self.class_weight * (class_real + class_fake), logs

    def generator_loss(self, fake_out, batch):
        loss, logs = GAN.generator_loss(self, fake_out["logit"], batch)
        return loss + self.class_weight * class_cross_entropy(batch["condition"], fake_out[CLASS_HEAD]), logs

    # === Export ===
    def export_endpoints(self):
        """`generate`: (z, y one-hot) -> x; `discriminate`: x -> logits; `classify`: x -> class probabilities."""
        z = tf.TensorSpec((None, self.latent_dim), tf.float32, name="z")
        y = tf.TensorSpec((None, self.num_classes), tf.float32, name="y")
        x = tf.TensorSpec((None,) + tuple(self.generator.output_shape[1:]), tf.float32, name="x")
        d = self.discriminator
        return [
            ("generate", self.generator, [z, y], "x"),
            ("discriminate", lambda images: d(images, training=False)["logit"], [x], "logits"),
            ("classify", lambda images: tf.nn.softmax(d(images, training=False)[CLASS_HEAD]), [x], "probabilities"),
        ]
