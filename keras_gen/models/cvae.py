"""S14: the conditional VAE (notes 001; Sohn, Lee & Yan 2015, "Learning Structured Output
Representation using Deep Conditional Generative Models").

    encoder        [x, y] -> (z_mean, z_log_var)      q(z | x, y)
    decoder        [z, y] -> logits / means           p(x | z, y)
    prior          p(z) = N(0, I), independent of y

    loss = reconstruction(x, decoder([z, y])) + beta * KL(q(z|x,y) || N(0, I))

y is the class label, one-hot (`num_classes`), concatenated to the features of both
networks (build them with `condition_dim=num_classes`: `mlp_encoder`, `conv_decoder`,
...). Because the label is given to the decoder, z is free to encode the style and
`generate(n, label)` draws digits of the requested class. Training data are
`(x, labels)` batches, labels integer class ids (or one-hot rows).

Everything else (train step, global-batch averaging, noise, metrics) is `VAE`'s.
"""
import keras
import tensorflow as tf

from keras_gen.errors import KerasGenError
from keras_gen.export import export_endpoints
from keras_gen.layers.condition import check_labels, one_hot_labels
from keras_gen.models.vae import VAE


@keras.saving.register_keras_serializable(package="keras_gen")
class CVAE(VAE):
    """Conditional VAE: `VAE` with a one-hot label fed to the encoder and the decoder.

    Args:
        encoder: functional model `[x, y_onehot] -> [z_mean, z_log_var]`.
        decoder: functional model `[z, y_onehot] -> logits/means`.
        num_classes: number of classes (the one-hot width both networks take).
        **kwargs: `VAE` arguments (beta, likelihood, decoder_log_var, kl_warmup_steps, seed).
    """

    def __init__(self, encoder, decoder, num_classes=10, **kwargs):
        for net, what in ((encoder, "encoder"), (decoder, "decoder")):
            if len(net.inputs) != 2 or net.inputs[1].shape[-1] != num_classes:
                raise KerasGenError(
                    f"CVAE {what} must take [input, one-hot label of width {num_classes}]; "
                    f"build it with condition_dim={num_classes}"
                )
        super().__init__(encoder, decoder, **kwargs)
        self.num_classes = int(num_classes)

    # === Conditioning hooks ===
    def _one_hot(self, labels):
        return one_hot_labels(labels, self.num_classes)

    def _unpack(self, data):
        if not isinstance(data, (tuple, list)) or len(data) < 2:
            raise KerasGenError("CVAE batches must be (images, labels)")
        return data[0], self._one_hot(data[1])

    def _encoder_inputs(self, x, condition):
        return [x, condition]

    def _decoder_inputs(self, z, condition):
        return [z, condition]

    # === Public API ===
    def encode(self, x, labels):
        """(z_mean, z_log_var) of q(z | x, y)."""
        return self.encoder([tf.convert_to_tensor(x, tf.float32), self._one_hot(labels)], training=False)

    def decode(self, z, labels):
        """The mean of p(x | z, y)."""
        out = self.decoder([tf.convert_to_tensor(z, tf.float32), self._one_hot(labels)], training=False)
        return self._output_mean(out)

    def generate(self, n, label, seed=None):
        """n samples of class `label` (an int, or n labels), z ~ N(0, I)."""
        labels = check_labels(label, int(n), self.num_classes)
        from keras_gen.models.vae import _prior_sample

        return self.decode(_prior_sample(n, self.latent_dim, seed), labels)

    def export(self, name="cvae", base_dir="saved_models", version=None, overwrite=False):
        """SavedModel with signatures `encode` (x, label -> z_mean, z_log_var), `decode`
        (z, label -> x_mean), `generate` (label [n] int32, seed -> x_mean)."""
        x_spec = tf.TensorSpec((None,) + tuple(self.encoder.inputs[0].shape[1:]), tf.float32, name="x")
        z_spec = tf.TensorSpec((None, self.latent_dim), tf.float32, name="z")
        label_spec = tf.TensorSpec((None,), tf.int32, name="label")
        seed_spec = tf.TensorSpec((), tf.int32, name="seed")

        def encode(x, label):
            mean, log_var = self.encoder([x, tf.one_hot(label, self.num_classes)], training=False)
            return {"z_mean": mean, "z_log_var": log_var}

        def decode(z, label):
            return {"x_mean": self._output_mean(self.decoder([z, tf.one_hot(label, self.num_classes)], training=False))}

        def generate(label, seed):
            z = tf.random.stateless_normal(tf.stack([tf.shape(label)[0], self.latent_dim]), seed=tf.stack([seed, 0]))
            return decode(z, label)

        return export_endpoints(
            name,
            [("generate", generate, [label_spec, seed_spec], None), ("encode", encode, [x_spec, label_spec], None),
             ("decode", decode, [z_spec, label_spec], None)],
            base_dir=base_dir, version=version, overwrite=overwrite,
        )

    # === Config ===
    def get_config(self):
        return {**super().get_config(), "num_classes": self.num_classes}
