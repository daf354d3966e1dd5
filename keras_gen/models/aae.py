"""S15: the adversarial autoencoder (notes 001: "replace the KL term by a GAN on the code";
Makhzani et al. 2016, "Adversarial Autoencoders", section 2).

    encoder         x -> z = q(x)              (deterministic; the aggregate posterior q(z))
    decoder         z -> logits / means        p(x | z)
    discriminator   z -> logit                 D(z): prior sample (real) or code (fake)?
    prior           p(z) = N(0, I)

Each training step runs the paper's three phases on the same batch, in order:

1. reconstruction: encoder and decoder minimise the reconstruction loss
   (Bernoulli or Gaussian negative log-likelihood, `keras_gen.losses.vae`);
2. regularisation, discriminator: D learns to tell prior samples z' ~ p(z) (label 1)
   from codes q(x) (label 0) with the minimax loss (`keras_gen.losses.gan`);
3. regularisation, generator: the encoder, as the generator of codes, minimises the
   non-saturating loss -log D(q(x)), pulling the aggregate posterior onto the prior.

Three optimizers (`compile(optimizer=, d_optimizer=, g_optimizer=)`), all built in
`compile` inside the strategy scope. Losses are averaged over the global batch and the
prior samples drawn for the global batch from `(seed, step)`, as in `VAE`.
"""
import keras
import numpy as np
import tensorflow as tf

from keras_gen.errors import KerasGenError, unknown_name
from keras_gen.layers.sampling import replica_slice_normal
from keras_gen.losses.gan import minimax_discriminator_loss, non_saturating_generator_loss
from keras_gen.losses.vae import bernoulli_reconstruction, gaussian_reconstruction
from keras_gen.export import export_endpoints
from keras_gen.models.vae import LIKELIHOODS, _prior_sample
from keras_gen.training.precision import loss_scaled, to_float32
from keras_gen.training.strategy import apply_gradients, global_mean


# === Builders ===
def deterministic_encoder(input_shape, latent_dim, hidden=(512, 512), activation="relu", name="encoder"):
    """x -> flatten -> Dense(hidden...) -> z (linear): the AAE's deterministic encoder."""
    x = keras.Input(tuple(input_shape), name="x")
    h = keras.layers.Flatten(name="encoder_flatten")(x)
    for i, units in enumerate(hidden):
        h = keras.layers.Dense(units, activation=activation, name=f"encoder_dense_{i}")(h)
    return keras.Model(x, keras.layers.Dense(latent_dim, name="code")(h), name=name)


def latent_discriminator(latent_dim, hidden=(256, 256), name="discriminator"):
    """z -> Dense(hidden..., LeakyReLU) -> one logit (prior sample vs code)."""
    z = keras.Input((latent_dim,), name="z")
    h = z
    for i, units in enumerate(hidden):
        h = keras.layers.Dense(units, name=f"discriminator_dense_{i}")(h)
        h = keras.layers.LeakyReLU(0.2, name=f"discriminator_lrelu_{i}")(h)
    return keras.Model(z, keras.layers.Dense(1, name="logit")(h), name=name)


# === Model ===
@keras.saving.register_keras_serializable(package="keras_gen")
class AAE(keras.Model):
    """Adversarial autoencoder with a three-phase `train_step`.

    Args:
        encoder: functional model x -> z.
        decoder: functional model z -> logits (Bernoulli) or means (Gaussian).
        discriminator: functional model z -> logit.
        likelihood: "bernoulli" or "gaussian" reconstruction loss.
        decoder_log_var: fixed log variance of the Gaussian likelihood.
        seed: seed of the prior samples.

    Metrics: `reconstruction`, `d_loss`, `g_loss`, `d_accuracy` (share of prior samples
    and codes D classifies right; 0.5 when q(z) matches the prior as far as D can tell).
    """

    def __init__(self, encoder, decoder, discriminator, likelihood="bernoulli", decoder_log_var=0.0, seed=0,
                 **kwargs):
        super().__init__(**kwargs)
        if likelihood not in LIKELIHOODS:
            raise unknown_name("likelihood", likelihood, LIKELIHOODS)
        # === Layers ===
        self.encoder = encoder
        self.decoder = decoder
        self.discriminator = discriminator
        # === Config ===
        self.likelihood = likelihood
        self.decoder_log_var = float(decoder_log_var)
        self.seed = int(seed)
        self.latent_dim = int(encoder.outputs[0].shape[-1])
        self.d_optimizer = self.g_optimizer = None
        self.trackers = {n: keras.metrics.Mean(name=n) for n in ("reconstruction", "d_loss", "g_loss", "d_accuracy")}
        self.built = True

    def compile(self, optimizer=None, d_optimizer=None, g_optimizer=None, **kwargs):
        """Sets the reconstruction, discriminator and generator (encoder) optimizers
        (three distinct objects; Adam by default) and builds them in scope."""
        opts = [keras.optimizers.get(o) if o is not None else keras.optimizers.Adam(1e-3)
                for o in (optimizer, d_optimizer, g_optimizer)]
        if len({id(o) for o in opts}) < 3:
            raise KerasGenError("optimizer, d_optimizer and g_optimizer must be three different optimizer objects")
        super().compile(optimizer=opts[0], **kwargs)
        # mixed_float16: each of the three optimizers scales its loss (keras_gen.training.precision).
        self.optimizer = loss_scaled(self.optimizer, self.encoder, self.decoder)
        self.d_optimizer = loss_scaled(opts[1], self.discriminator)
        self.g_optimizer = loss_scaled(opts[2], self.encoder)
        with self.distribute_strategy.scope():
            self.optimizer.build(self.autoencoder_variables)
            self.d_optimizer.build(self.discriminator.trainable_variables)
            self.g_optimizer.build(self.encoder.trainable_variables)

    @property
    def autoencoder_variables(self):
        return self.encoder.trainable_variables + self.decoder.trainable_variables

    def reconstruction_loss(self, x, decoder_out):
        if self.likelihood == "bernoulli":
            return bernoulli_reconstruction(x, decoder_out)
        return gaussian_reconstruction(x, decoder_out, self.decoder_log_var)

    def _output_mean(self, decoder_out):
        return tf.sigmoid(decoder_out) if self.likelihood == "bernoulli" else decoder_out

    def train_step(self, data):
        x = data[0] if isinstance(data, (tuple, list)) else data
        # Prior samples for this step's global batch, drawn before any optimizer moves
        # the step counter.
        prior = replica_slice_normal(tf.stack([tf.shape(x)[0], self.latent_dim]), self.seed,
                                     tf.identity(self.optimizer.iterations))
        # 1. reconstruction phase
        with tf.GradientTape() as tape:
            rec = self.reconstruction_loss(x, to_float32(self.decoder(self.encoder(x, training=True), training=True)))
            loss = global_mean(rec)
        variables = self.autoencoder_variables
        apply_gradients(self.optimizer, loss, variables, tape)
        # 2. regularisation phase, discriminator: prior samples are "real", codes "fake"
        codes = self.encoder(x, training=True)
        with tf.GradientTape() as tape:
            real_logits = to_float32(self.discriminator(prior, training=True))
            fake_logits = to_float32(self.discriminator(codes, training=True))
            d_per_example = minimax_discriminator_loss(real_logits, fake_logits)
            d_loss = global_mean(d_per_example)
        variables = self.discriminator.trainable_variables
        apply_gradients(self.d_optimizer, d_loss, variables, tape)
        # 3. regularisation phase, generator: the encoder makes codes D takes for prior samples
        with tf.GradientTape() as tape:
            g_per_example = non_saturating_generator_loss(to_float32(self.discriminator(self.encoder(x, training=True),
                                                                                        training=True)))
            g_loss = global_mean(g_per_example)
        variables = self.encoder.trainable_variables
        apply_gradients(self.g_optimizer, g_loss, variables, tape)

        correct = tf.concat([tf.cast(real_logits > 0, tf.float32), tf.cast(fake_logits <= 0, tf.float32)], axis=0)
        self.trackers["reconstruction"].update_state(rec)
        self.trackers["d_loss"].update_state(d_per_example)
        self.trackers["g_loss"].update_state(g_per_example)
        self.trackers["d_accuracy"].update_state(correct)
        return {n: m.result() for n, m in self.trackers.items()}

    def test_step(self, data):
        x = data[0] if isinstance(data, (tuple, list)) else data
        rec = self.reconstruction_loss(x, self.decoder(self.encoder(x, training=False), training=False))
        self.trackers["reconstruction"].update_state(rec)
        return {"reconstruction": self.trackers["reconstruction"].result()}

    @property
    def metrics(self):
        return list(self.trackers.values())

    def call(self, inputs, training=False):
        """Reconstruction: the decoder's mean at the code of x."""
        return self._output_mean(self.decoder(self.encoder(inputs, training=training), training=training))

    # === Public API ===
    def encode(self, x):
        """The code z = q(x)."""
        return self.encoder(tf.convert_to_tensor(x, tf.float32), training=False)

    def decode(self, z):
        """The mean of p(x|z)."""
        return self._output_mean(self.decoder(tf.convert_to_tensor(z, tf.float32), training=False))

    def generate(self, n, seed=None):
        """n samples' means, z ~ N(0, I) (the prior the codes were matched to)."""
        return self.decode(_prior_sample(n, self.latent_dim, seed))

    def export(self, name="aae", base_dir="saved_models", version=None, overwrite=False):
        """SavedModel with signatures `encode` (x -> z), `decode` (z -> x_mean), `generate`
        (n, seed -> x_mean)."""
        x_spec = tf.TensorSpec((None,) + tuple(self.encoder.inputs[0].shape[1:]), tf.float32, name="x")
        z_spec = tf.TensorSpec((None, self.latent_dim), tf.float32, name="z")

        def encode(x):
            return {"z": self.encoder(x, training=False)}

        def decode(z):
            return {"x_mean": self._output_mean(self.decoder(z, training=False))}

        def generate(n, seed):
            z = tf.random.stateless_normal(tf.stack([n, self.latent_dim]), seed=tf.stack([seed, 0]))
            return decode(z)

        n_spec, seed_spec = tf.TensorSpec((), tf.int32, name="n"), tf.TensorSpec((), tf.int32, name="seed")
        return export_endpoints(
            name,
            [("encode", encode, [x_spec], None), ("decode", decode, [z_spec], None),
             ("generate", generate, [n_spec, seed_spec], None)],
            base_dir=base_dir, version=version, overwrite=overwrite,
        )

    # === Config ===
    def get_compile_config(self):
        if self.d_optimizer is None:
            return None
        return {k: keras.saving.serialize_keras_object(o) for k, o in
                (("optimizer", self.optimizer), ("d_optimizer", self.d_optimizer), ("g_optimizer", self.g_optimizer))}

    def compile_from_config(self, config):
        if config:
            self.compile(**{k: keras.saving.deserialize_keras_object(v) for k, v in config.items()})

    def get_config(self):
        return {
            "name": self.name,
            "trainable": self.trainable,
            "encoder": keras.saving.serialize_keras_object(self.encoder),
            "decoder": keras.saving.serialize_keras_object(self.decoder),
            "discriminator": keras.saving.serialize_keras_object(self.discriminator),
            "likelihood": self.likelihood,
            "decoder_log_var": self.decoder_log_var,
            "seed": self.seed,
        }

    @classmethod
    def from_config(cls, config):
        config = dict(config)
        for key in ("encoder", "decoder", "discriminator"):
            config[key] = keras.saving.deserialize_keras_object(config[key])
        return cls(**config)


def aggregate_posterior_moments(codes):
    """Mean and covariance of codes `[n, d]` (to compare with the prior's 0 and I)."""
    codes = np.asarray(codes, np.float64)
    return codes.mean(axis=0), np.cov(codes, rowvar=False)
