"""S10: BiGAN (notes 000; Donahue, Krähenbühl & Darrell 2017, "Adversarial Feature
Learning"; Dumoulin et al. 2017, ALI, is the same model).

An encoder E: x -> z stands beside the generator G: z -> x. The discriminator judges
*pairs*: (x, E(x)) for real data against (G(z), z) for generated data,

    min_{G,E} max_D V = E_x log D(x, E(x)) + E_z log(1 - D(G(z), z)).

At the optimum E and G invert each other, so E(x) is a representation of x learned
without labels (notes 000: "BiGAN gives the GAN representation learning").

Losses to minimise, per example (averaged over the global batch):

    D:      minimax loss with real = (x, E(x)), fake = (G(z), z)
    G, E:   the non-saturating form of the same game with the labels swapped, as in
            the paper's code:  -log D(G(z), z) - log(1 - D(x, E(x)))

G and E are updated together by `g_optimizer` (one "generator" step for both).

Builders for 28x28 digits (`bigan_encoder`, `bigan_discriminator`): the encoder is a
DCGAN-style stack of strided convolutions (LeakyReLU, BatchNorm) ending in a linear
code; the discriminator reads x through strided convolutions and z through a dense
layer, joins them and outputs one logit. Dropout in D (the paper used it) keeps D from
memorising the 4,500 training digits.
"""
import keras
import numpy as np
import tensorflow as tf

from keras_gen.errors import KerasGenError
from keras_gen.models.dcgan import _check_shape, _norm
from keras_gen.models.gan import GAN, _variables

LEAK = 0.2


# === Builders ===
def bigan_encoder(image_shape=(28, 28, 1), latent_dim=50, width=32, name="bigan_encoder"):
    """E: image -> z (linear), strided convolutions with BatchNorm and LeakyReLU."""
    image_shape = tuple(image_shape)
    n, _ = _check_shape(image_shape)
    x = keras.Input(image_shape, name="x")
    h, channels = x, int(width)
    for i in range(n):
        h = keras.layers.Conv2D(channels, 4, strides=2, padding="same", use_bias=(i == 0), name=f"encoder_down{i}_conv")(h)
        if i > 0:
            h = _norm("batch", f"encoder_down{i}_bn")(h)
        h = keras.layers.LeakyReLU(negative_slope=LEAK, name=f"encoder_down{i}_lrelu")(h)
        channels *= 2
    h = keras.layers.Flatten(name="encoder_flatten")(h)
    z = keras.layers.Dense(latent_dim, name="code")(h)
    return keras.Model(x, z, name=name)


def bigan_discriminator(image_shape=(28, 28, 1), latent_dim=50, width=32, joint_units=256, dropout=0.2,
                        name="bigan_discriminator"):
    """D: [x, z] -> one logit. x through strided convolutions, z through a dense layer,
    then a joint dense layer. No batch statistics (LeakyReLU and dropout only), so real and
    fake pairs are judged one by one."""
    image_shape = tuple(image_shape)
    n, _ = _check_shape(image_shape)
    x = keras.Input(image_shape, name="x")
    z = keras.Input((latent_dim,), name="z")
    h, channels = x, int(width)
    for i in range(n):
        h = keras.layers.Conv2D(channels, 4, strides=2, padding="same", name=f"x_down{i}_conv")(h)
        h = keras.layers.LeakyReLU(negative_slope=LEAK, name=f"x_down{i}_lrelu")(h)
        h = keras.layers.Dropout(dropout, name=f"x_down{i}_dropout")(h)
        channels *= 2
    hx = keras.layers.Flatten(name="x_flatten")(h)
    hz = keras.layers.Dense(joint_units, name="z_dense")(z)
    hz = keras.layers.LeakyReLU(negative_slope=LEAK, name="z_lrelu")(hz)
    hz = keras.layers.Dropout(dropout, name="z_dropout")(hz)
    h = keras.layers.Concatenate(name="joint")([hx, hz])
    h = keras.layers.Dense(joint_units, name="joint_dense")(h)
    h = keras.layers.LeakyReLU(negative_slope=LEAK, name="joint_lrelu")(h)
    h = keras.layers.Dropout(dropout, name="joint_dropout")(h)
    logit = keras.layers.Dense(1, name="logit")(h)
    return keras.Model([x, z], logit, name=name)


# === Model ===
@keras.saving.register_keras_serializable(package="keras_gen")
class BiGAN(GAN):
    """BiGAN: G, E and a discriminator of (x, z) pairs.

    Args:
        generator: functional model `z -> x`.
        discriminator: functional model `[x, z] -> logit`.
        encoder: functional model `x -> z`, z of G's input width.
        (the rest as `GAN`; `generator_loss` applies to G's half of the G/E loss)

    Metrics: d_loss, g_loss (G's and E's loss together), e_loss (E's part),
    d_real = mean D(x, E(x)), d_fake = mean D(G(z), z).
    """

    metric_names = ("d_loss", "g_loss", "e_loss", "d_real", "d_fake")

    def __init__(self, generator, discriminator, encoder, **kwargs):
        if not isinstance(encoder, keras.Model):
            raise KerasGenError("encoder must be a keras.Model")
        super().__init__(generator, discriminator, **kwargs)
        if encoder.output_shape[-1] != self.latent_dim or tuple(encoder.input_shape[1:]) != tuple(
                generator.output_shape[1:]):
            raise KerasGenError(f"encoder must map G's samples {generator.output_shape[1:]} to z of width "
                                f"{self.latent_dim}, got {encoder.input_shape[1:]} -> {encoder.output_shape[1:]}")
        if len(discriminator.inputs) != 2 or discriminator.inputs[1].shape[-1] != self.latent_dim:
            raise KerasGenError(f"BiGAN discriminator must take [x, z] with z of width {self.latent_dim}")
        self.encoder = encoder

    def get_config(self):
        config = super().get_config()
        config["encoder"] = keras.saving.serialize_keras_object(self.encoder)
        return config

    @classmethod
    def from_config(cls, config):
        config = dict(config)
        config["encoder"] = keras.saving.deserialize_keras_object(config["encoder"])
        return super().from_config(config)

    # === Hooks ===
    @property
    def g_trainable_variables(self):
        return _variables(self.generator.trainable_variables, self.encoder.trainable_variables)

    def discriminator_inputs(self, x, condition=None, latents=None, training=False):
        # real data comes with its code E(x); a fake G(z) with the z it was made from
        z = self.encoder(x, training=training) if latents is None else latents
        return [x, z]

    def generator_loss(self, fake_out, batch):
        g_loss, logs = super().generator_loss(fake_out, batch)
        real_out = self.discriminate(batch["x_real"], batch["condition"], None, training=True)
        # E wants D to call (x, E(x)) fake: -log(1 - D(x, E(x))) = softplus(logit)
        e_loss = tf.nn.softplus(tf.reshape(real_out, [tf.shape(real_out)[0], -1])[:, 0])
        logs["e_loss"] = e_loss
        return g_loss + e_loss, logs

    # === Representation and export ===
    def encode(self, x, batch_size=1024):
        """E(x) for images x (inference mode) as a NumPy array `[n, latent_dim]`."""
        x = np.asarray(x, dtype="float32")
        if tuple(x.shape[1:]) != tuple(self.encoder.input_shape[1:]):
            raise KerasGenError(f"encode expects images of shape {self.encoder.input_shape[1:]}, got {x.shape[1:]}")
        return np.concatenate([keras.ops.convert_to_numpy(self.encoder(x[s:s + batch_size], training=False))
                               for s in range(0, max(len(x), 1), batch_size)])

    def export_tracked(self):
        return [self.generator, self.discriminator, self.encoder]

    def export_endpoints(self):
        """`generate`: z -> x; `encode`: x -> z; `discriminate`: (x, z) -> logits."""
        z = tf.TensorSpec((None, self.latent_dim), tf.float32, name="z")
        x = tf.TensorSpec((None,) + tuple(self.generator.output_shape[1:]), tf.float32, name="x")
        return [
            ("generate", self.generator, [z], "x"),
            ("encode", self.encoder, [x], "z"),
            ("discriminate", self.discriminator, [x, z], "logits"),
        ]
