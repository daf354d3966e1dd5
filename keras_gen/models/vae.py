"""S12/S13: the variational autoencoder and beta-VAE (notes 001, 004).

    encoder        x -> (z_mean, z_log_var)           q(z|x) = N(mu, diag sigma^2)
    sampler        z = mu + sigma * eps, eps ~ N(0, I)  (reparameterisation)
    decoder        z -> logits (Bernoulli) or means (Gaussian)   p(x|z)
    prior          p(z) = N(0, I)

    loss = reconstruction(x, decoder(z)) + beta * KL(q(z|x) || p(z))

`reconstruction` is the negative log-likelihood of x under p(x|z): Bernoulli for binary
data (`likelihood="bernoulli"`, the decoder outputs logits), Gaussian with a fixed
variance exp(`decoder_log_var`) for real-valued data (`likelihood="gaussian"`, the
decoder outputs means). The KL is the closed form (`keras_gen.losses.vae.gaussian_kl`).
beta = 1 is the VAE (Kingma & Welling 2014), beta > 1 the beta-VAE (Higgins et al. 2017).
`kl_warmup_steps` ramps beta linearly from 0 over the first steps (Sonderby et al. 2016,
"deterministic warm-up"), which keeps more latent units active.

Distribution: the per-example loss is averaged over the *global* batch and eps is drawn
for the global batch from `(seed, step)` (see `keras_gen.layers.sampling`), so N replicas
at global batch B take the same step as one replica at B.

The encoder and decoder are ordinary functional models; `mlp_encoder`/`mlp_decoder` and
`conv_encoder`/`conv_decoder` build them. A conditional VAE (`keras_gen.models.cvae`)
reuses this class with a label fed to both networks.
"""
import math

import keras
import numpy as np
import tensorflow as tf

from keras_gen.errors import KerasGenError, unknown_name
from keras_gen.layers.sampling import GaussianSampler
from keras_gen.losses.vae import bernoulli_reconstruction, gaussian_kl, gaussian_reconstruction
from keras_gen.training.precision import to_float32
from keras_gen.training.strategy import apply_gradients, global_mean

LIKELIHOODS = ("bernoulli", "gaussian")
# eps for validation batches comes from this stateless stream (never a training step).
_EVAL_STEP = -1


# === Encoder and decoder builders ===
def _inputs_with_condition(main, condition_dim, features):
    """Concatenates a one-hot condition to `features` when `condition_dim` > 0."""
    if not condition_dim:
        return main, features
    y = keras.Input((condition_dim,), name="condition")
    return [main, y], keras.layers.Concatenate(name="concat_condition")([features, y])


def _gaussian_head(h, latent_dim):
    mean = keras.layers.Dense(latent_dim, name="z_mean")(h)
    log_var = keras.layers.Dense(latent_dim, name="z_log_var")(h)
    return [mean, log_var]


def mlp_encoder(input_shape, latent_dim, hidden=(512, 256), activation="relu", condition_dim=0, name="encoder"):
    """x (any shape) -> flatten -> Dense(hidden...) -> (z_mean, z_log_var).

    With `condition_dim` > 0 the model takes `[x, y]`, y a one-hot `[b, condition_dim]`
    concatenated to the flattened image.
    """
    x = keras.Input(tuple(input_shape), name="x")
    h = keras.layers.Flatten(name="encoder_flatten")(x)
    inputs, h = _inputs_with_condition(x, condition_dim, h)
    for i, units in enumerate(hidden):
        h = keras.layers.Dense(units, activation=activation, name=f"encoder_dense_{i}")(h)
    return keras.Model(inputs, _gaussian_head(h, latent_dim), name=name)


def mlp_decoder(latent_dim, output_shape, hidden=(256, 512), activation="relu", condition_dim=0, name="decoder"):
    """z -> Dense(hidden...) -> Dense(prod(output_shape)) -> reshape; outputs logits/means."""
    z = keras.Input((latent_dim,), name="z")
    inputs, h = _inputs_with_condition(z, condition_dim, z)
    for i, units in enumerate(hidden):
        h = keras.layers.Dense(units, activation=activation, name=f"decoder_dense_{i}")(h)
    h = keras.layers.Dense(int(np.prod(output_shape)), name="decoder_output")(h)
    out = keras.layers.Reshape(tuple(output_shape), name="decoder_reshape")(h)
    return keras.Model(inputs, out, name=name)


def conv_encoder(input_shape, latent_dim, filters=(32, 64), kernel_size=4, hidden=256, condition_dim=0,
                 name="encoder"):
    """x [h, w, c] -> Conv2D(f, stride 2, ReLU) per filter -> Dense(hidden) -> (z_mean, z_log_var)."""
    x = keras.Input(tuple(input_shape), name="x")
    h = x
    for i, f in enumerate(filters):
        h = keras.layers.Conv2D(f, kernel_size, strides=2, padding="same", activation="relu",
                                name=f"encoder_conv_{i}")(h)
    h = keras.layers.Flatten(name="encoder_flatten")(h)
    inputs, h = _inputs_with_condition(x, condition_dim, h)
    if hidden:
        h = keras.layers.Dense(hidden, activation="relu", name="encoder_dense")(h)
    return keras.Model(inputs, _gaussian_head(h, latent_dim), name=name)


def conv_decoder(latent_dim, output_shape, filters=(64, 32), kernel_size=4, hidden=256, condition_dim=0,
                 name="decoder"):
    """z -> Dense(hidden) -> Dense to a [h/2^n, w/2^n, filters[0]] grid -> Conv2DTranspose(f, stride 2)
    per filter -> Conv2D(c, 3) logits/means. `h` and `w` must be divisible by 2^len(filters)."""
    height, width, channels = output_shape
    scale = 2 ** len(filters)
    if height % scale or width % scale:
        raise KerasGenError(f"conv_decoder output {output_shape} is not divisible by 2^{len(filters)} = {scale}")
    z = keras.Input((latent_dim,), name="z")
    inputs, h = _inputs_with_condition(z, condition_dim, z)
    if hidden:
        h = keras.layers.Dense(hidden, activation="relu", name="decoder_dense")(h)
    grid = (height // scale, width // scale, filters[0])
    h = keras.layers.Dense(int(np.prod(grid)), activation="relu", name="decoder_grid")(h)
    h = keras.layers.Reshape(grid, name="decoder_reshape")(h)
    for i, f in enumerate(filters):
        h = keras.layers.Conv2DTranspose(f, kernel_size, strides=2, padding="same", activation="relu",
                                         name=f"decoder_deconv_{i}")(h)
    out = keras.layers.Conv2D(channels, 3, padding="same", name="decoder_output")(h)
    return keras.Model(inputs, out, name=name)


# === Model ===
@keras.saving.register_keras_serializable(package="keras_gen")
class VAE(keras.Model):
    """Variational autoencoder with a `train_step` override (S12), beta-VAE via `beta` (S13).

    Args:
        encoder: functional model x -> [z_mean, z_log_var].
        decoder: functional model z -> logits (Bernoulli) or means (Gaussian), shaped like x.
        beta: weight of the KL term (1: VAE; > 1: beta-VAE).
        likelihood: "bernoulli" (binary data, decoder logits) or "gaussian".
        decoder_log_var: fixed log variance of the Gaussian likelihood.
        kl_warmup_steps: steps over which the KL weight ramps linearly from 0 to beta.
        seed: seed of the reparameterisation noise.

    Metrics: `loss` (reconstruction + weight * KL), `reconstruction`, `kl`
    (per-example means; at beta = 1 after warm-up, `loss` is the negative ELBO).
    """

    def __init__(self, encoder, decoder, beta=1.0, likelihood="bernoulli", decoder_log_var=0.0,
                 kl_warmup_steps=0, seed=0, **kwargs):
        super().__init__(**kwargs)
        if likelihood not in LIKELIHOODS:
            raise unknown_name("likelihood", likelihood, LIKELIHOODS)
        if not (isinstance(beta, (int, float)) and beta >= 0 and math.isfinite(beta)):
            raise KerasGenError(f"beta must be a finite number >= 0, got {beta!r}")
        if int(kl_warmup_steps) < 0:
            raise KerasGenError(f"kl_warmup_steps must be >= 0, got {kl_warmup_steps!r}")
        # === Layers ===
        self.encoder = encoder
        self.decoder = decoder
        self.sampler = GaussianSampler(seed=seed, name="sampler", dtype="float32")  # sampling in float32
        # === Config ===
        self.beta = float(beta)
        self.likelihood = likelihood
        self.decoder_log_var = float(decoder_log_var)
        self.kl_warmup_steps = int(kl_warmup_steps)
        self.seed = int(seed)
        self.latent_dim = int(encoder.outputs[0].shape[-1])
        self.loss_tracker = keras.metrics.Mean(name="loss")
        self.reconstruction_tracker = keras.metrics.Mean(name="reconstruction")
        self.kl_tracker = keras.metrics.Mean(name="kl")
        self.built = True

    # --- hooks a conditional model overrides ---
    def _unpack(self, data):
        """(x, condition) from a batch: x alone, or the first item of (x, y[, w])."""
        if isinstance(data, (tuple, list)):
            return data[0], None
        return data, None

    def _encoder_inputs(self, x, condition):
        return x

    def _decoder_inputs(self, z, condition):
        return z

    # --- the model's maths ---
    def _output_mean(self, decoder_out):
        return tf.sigmoid(decoder_out) if self.likelihood == "bernoulli" else decoder_out

    def reconstruction_loss(self, x, decoder_out):
        """-log p(x | z) per example, from the decoder's logits or means."""
        if self.likelihood == "bernoulli":
            return bernoulli_reconstruction(x, decoder_out)
        return gaussian_reconstruction(x, decoder_out, self.decoder_log_var)

    def log_likelihood(self, x, decoder_out):
        """log p(x | z) per example (for importance-sampled likelihoods)."""
        return -self.reconstruction_loss(x, decoder_out)

    def kl_weight(self, step):
        """beta, ramped linearly from 0 over the first `kl_warmup_steps` steps."""
        if not self.kl_warmup_steps:
            return tf.constant(self.beta, tf.float32)
        ramp = tf.minimum(1.0, tf.cast(step + 1, tf.float32) / float(self.kl_warmup_steps))
        return self.beta * ramp

    def _terms(self, data, step, training):
        x, condition = self._unpack(data)
        # float32 from the networks on (mixed precision): sampler, likelihood and KL.
        mean, log_var = to_float32(self.encoder(self._encoder_inputs(x, condition), training=training))
        z = self.sampler([mean, log_var], step=step)
        decoder_out = to_float32(self.decoder(self._decoder_inputs(z, condition), training=training))
        return self.reconstruction_loss(x, decoder_out), gaussian_kl(mean, log_var)

    def _regularization(self):
        if not self.losses:
            return 0.0
        ctx = tf.distribute.get_replica_context()
        replicas = ctx.num_replicas_in_sync if ctx is not None else 1
        return tf.add_n(self.losses) / replicas

    def _record(self, rec, kl, weight):
        self.loss_tracker.update_state(rec + weight * kl)
        self.reconstruction_tracker.update_state(rec)
        self.kl_tracker.update_state(kl)
        return {m.name: m.result() for m in self.metrics}

    def train_step(self, data):
        step = self.optimizer.iterations
        weight = self.kl_weight(step)
        with tf.GradientTape() as tape:
            rec, kl = self._terms(data, step, training=True)
            loss = global_mean(rec + weight * kl) + self._regularization()
        apply_gradients(self.optimizer, loss, self.trainable_variables, tape)
        return self._record(rec, kl, weight)

    def test_step(self, data):
        rec, kl = self._terms(data, tf.constant(_EVAL_STEP, tf.int64), training=False)
        return self._record(rec, kl, tf.constant(self.beta, tf.float32))

    @property
    def metrics(self):
        return [self.loss_tracker, self.reconstruction_tracker, self.kl_tracker]

    def compile(self, optimizer="adam", **kwargs):
        """Compiles and builds the optimizer's slots now (inside the caller's strategy scope)."""
        super().compile(optimizer=optimizer, **kwargs)
        self.optimizer.build(self.trainable_variables)

    def get_compile_config(self):
        if not self.compiled:
            return None
        return {"optimizer": keras.saving.serialize_keras_object(self.optimizer)}

    def compile_from_config(self, config):
        self.compile(optimizer=keras.saving.deserialize_keras_object(config["optimizer"]))

    def call(self, inputs, training=False):
        """Reconstruction: the decoder's mean at the posterior mean of z."""
        x, condition = self._unpack(inputs)
        mean, _ = self.encoder(self._encoder_inputs(x, condition), training=training)
        return self._output_mean(self.decoder(self._decoder_inputs(mean, condition), training=training))

    # === Public API ===
    def encode(self, x):
        """(z_mean, z_log_var) of q(z|x)."""
        mean, log_var = self.encoder(tf.convert_to_tensor(x, tf.float32), training=False)
        return mean, log_var

    def decode(self, z):
        """The mean of p(x|z): probabilities (Bernoulli) or means (Gaussian)."""
        return self._output_mean(self.decoder(tf.convert_to_tensor(z, tf.float32), training=False))

    def generate(self, n, seed=None):
        """n samples' means E[x|z], z ~ N(0, I) (seeded when `seed` is given)."""
        z = _prior_sample(n, self.latent_dim, seed)
        return self.decode(z)

    def export(self, name="vae", base_dir="saved_models", version=None, overwrite=False):
        """SavedModel with signatures `encode` (x -> z_mean, z_log_var; also serving_default),
        `decode` (z -> x_mean), `generate` (n, seed -> x_mean) and `reconstruct` (x -> x_mean)."""
        from keras_gen.export import export_endpoints

        x_spec = tf.TensorSpec((None,) + tuple(self.encoder.inputs[0].shape[1:]), tf.float32, name="x")
        z_spec = tf.TensorSpec((None, self.latent_dim), tf.float32, name="z")
        n_spec = tf.TensorSpec((), tf.int32, name="n")
        seed_spec = tf.TensorSpec((), tf.int32, name="seed")

        def encode(x):
            mean, log_var = self.encoder(x, training=False)
            return {"z_mean": mean, "z_log_var": log_var}

        def decode(z):
            return {"x_mean": self._output_mean(self.decoder(z, training=False))}

        def generate(n, seed):
            z = tf.random.stateless_normal(tf.stack([n, self.latent_dim]), seed=tf.stack([seed, 0]))
            return {"x_mean": self._output_mean(self.decoder(z, training=False))}

        def reconstruct(x):
            return {"x_mean": self(x, training=False)}

        return export_endpoints(
            name,
            [("encode", encode, [x_spec], None), ("decode", decode, [z_spec], None),
             ("generate", generate, [n_spec, seed_spec], None), ("reconstruct", reconstruct, [x_spec], None)],
            base_dir=base_dir, version=version, overwrite=overwrite,
        )

    # === Config ===
    def get_config(self):
        return {
            "name": self.name,
            "trainable": self.trainable,
            "encoder": keras.saving.serialize_keras_object(self.encoder),
            "decoder": keras.saving.serialize_keras_object(self.decoder),
            "beta": self.beta,
            "likelihood": self.likelihood,
            "decoder_log_var": self.decoder_log_var,
            "kl_warmup_steps": self.kl_warmup_steps,
            "seed": self.seed,
        }

    @classmethod
    def from_config(cls, config):
        config = dict(config)
        config["encoder"] = keras.saving.deserialize_keras_object(config["encoder"])
        config["decoder"] = keras.saving.deserialize_keras_object(config["decoder"])
        return cls(**config)


def export_functions(name, endpoints, track=(), base_dir="saved_models", version=None, overwrite=False):
    """`keras_gen.export.export_endpoints` for functions returning dicts of tensors.

    Args:
        endpoints: list of `(signature_name, fn, input_signature)`; the first one is also
            `serving_default`.
        track: ignored (kept for callers written against an earlier version: the export
            archive finds the variables the functions use by itself).
    """
    from keras_gen.export import export_endpoints

    del track
    return export_endpoints(name, [(n, fn, sig, None) for n, fn, sig in endpoints], base_dir=base_dir,
                            version=version, overwrite=overwrite)


def _prior_sample(n, latent_dim, seed=None):
    if seed is None:
        return tf.random.normal((int(n), latent_dim))
    return tf.random.stateless_normal((int(n), latent_dim), seed=(int(seed), 0))
