"""S3: the adversarial core (`AdversarialModel`) and the vanilla `GAN`.

`AdversarialModel` holds a generator G and a discriminator (or critic) D, two optimizers,
and a `train_step` that reads like the algorithm box of Goodfellow et al. (2014):

    for each batch of real x:
        repeat n_critic times:                     # 1 for the GAN, 5 for WGAN(-GP)
            z ~ p(z);  x~ = G(z)
            update D on  mean_i d_loss(D(x_i), D(x~_i))     (+ penalties)
            after_discriminator_update()           # WGAN: clip D's weights
        z ~ p(z)                                   # reuse_fakes: the last D update's z
        update G on  mean_i g_loss(D(G(z_i)))

Subclasses change the game through small hooks and never copy the step:

    sample_latents(batch_size, seed)        what G is fed (z; conditional GANs add labels
                                            or codes)  -- drawn for the *global* batch
    generator_inputs(latents, condition)    how latents and a condition enter G
    discriminator_inputs(x, condition, latents, training)   what D sees (x; (x, y); (x, z))
    discriminator_loss(real_out, fake_out, batch) -> (per-example loss, metrics)
    generator_loss(fake_out, batch)               -> (per-example loss, metrics)
    after_discriminator_update()            e.g. weight clipping
    d_trainable_variables / g_trainable_variables  (e.g. an encoder or Q head joins one side)
    metric_names                            the `keras.metrics.Mean` trackers fit shows

Distribution (S-wide rule): losses are per-example and averaged over the *global*
batch (`global_mean`), so summed replica gradients equal the single-replica gradient.
Noise is stateless: the latents (and any interpolation weights) of a step are drawn
for the whole global batch from a seed made of (`seed`, step, purpose), and each
replica keeps its own rows. N replicas at global batch B therefore make exactly the
update of one replica at batch B (tested with 2 logical CPUs). This assumes the global
batch splits evenly across replicas (batch with `drop_remainder=True`).
"""
import numpy as np
import keras
import tensorflow as tf

from keras_gen.errors import KerasGenError, unknown_name
from keras_gen.losses import gan as gan_losses
from keras_gen.losses import penalties
from keras_gen.losses.feature_matching import replica_feature_matching_loss
from keras_gen.models.feature_network import feature_network
from keras_gen.training.precision import loss_scaled, to_float32
from keras_gen.training.strategy import apply_gradients, global_mean, replica_rows  # noqa: F401 (replica_rows re-exported)

# Fold-in constants that separate the random streams of one update.
LATENT_STREAM = 0
PENALTY_STREAM = 1
CONDITION_STREAM = 2


def _variables(*parts):
    out, seen = [], set()
    for part in parts:
        for v in part:
            key = id(v)
            if key not in seen:
                seen.add(key)
                out.append(v)
    return out


@keras.saving.register_keras_serializable(package="keras_gen")
class AdversarialModel(keras.Model):
    """Two-player model: D step(s) then a G step per batch (see the module docstring).

    Args:
        generator: a Keras model G mapping `generator_inputs(...)` to samples.
        discriminator: a Keras model D mapping `discriminator_inputs(...)` to logits
            (or critic scores), shape `[batch, 1]` or `[batch]`.
        latent_dim: size of z; by default read from G's (single) input.
        n_critic: discriminator updates per generator update.
        seed: seed of the stateless noise (with the step counter).
        reuse_fakes: if True, the G update reuses the fakes G(z) of the last D update
            (and its z) instead of drawing fresh ones: G's forward pass runs once per
            batch instead of twice, with its activations kept for G's backward pass (the
            D output is computed again with the updated D). Saves ~15% of a step when G
            is the heavier network (dcgan-mnist: 81 vs 95 ms on one CPU core); False is
            the algorithm box above.
        **kwargs: `keras.Model` arguments (`name`, ...).

    Call `compile(d_optimizer=..., g_optimizer=...)` (defaults per subclass), then `fit`
    on a dataset of real batches (`x` or `(x, y)`).
    """

    metric_names = ("d_loss", "g_loss")

    def __init__(self, generator, discriminator, latent_dim=None, n_critic=1, seed=0, reuse_fakes=False, **kwargs):
        super().__init__(**kwargs)
        if not isinstance(generator, keras.Model) or not isinstance(discriminator, keras.Model):
            raise KerasGenError("generator and discriminator must be keras.Model instances")
        if int(n_critic) < 1:
            raise KerasGenError(f"n_critic must be >= 1, got {n_critic}")
        self.generator = generator
        self.discriminator = discriminator
        if latent_dim is None:
            shape = generator.input_shape
            if not (isinstance(shape, tuple) and isinstance(shape[-1], int)):
                raise KerasGenError("cannot infer latent_dim from a generator with several inputs; pass latent_dim=")
            latent_dim = shape[-1]
        self.latent_dim = int(latent_dim)
        self.n_critic = int(n_critic)
        self.seed = int(seed)
        if not isinstance(reuse_fakes, (bool, np.bool_)):
            raise KerasGenError(f"reuse_fakes must be True or False, got {reuse_fakes!r}")
        self.reuse_fakes = bool(reuse_fakes)
        self.trackers = {name: keras.metrics.Mean(name=name) for name in self.metric_names}
        self.d_optimizer = None
        self.g_optimizer = None
        # The sub-networks are functional models, already built; `call` runs G.
        self.built = True

    # === Keras plumbing ===
    def call(self, inputs, training=False):
        """G(inputs): lets `fit`/`predict` build and run the model."""
        return self.generator(inputs, training=training)

    @property
    def metrics(self):
        return list(self.trackers.values())

    def default_optimizers(self):
        """(d_optimizer, g_optimizer) used when `compile` is given none."""
        return (
            keras.optimizers.Adam(learning_rate=2e-4, beta_1=0.5),
            keras.optimizers.Adam(learning_rate=2e-4, beta_1=0.5),
        )

    def compile(self, d_optimizer=None, g_optimizer=None, **kwargs):
        """Sets the two optimizers and builds them against their variables in scope.

        Building here, inside `strategy.scope()`, is what keeps two optimizers working
        under `MirroredStrategy` (otherwise slots are created lazily in a replica
        context and fit fails; keras-team/keras#19246).
        """
        if kwargs.get("loss") is not None or kwargs.get("optimizer") is not None:
            raise KerasGenError("adversarial models take d_optimizer= and g_optimizer=, not optimizer=/loss=")
        kwargs.pop("optimizer", None)
        super().compile(optimizer=None, **kwargs)
        d_default, g_default = self.default_optimizers()
        d_opt = keras.optimizers.get(d_optimizer) if d_optimizer is not None else d_default
        g_opt = keras.optimizers.get(g_optimizer) if g_optimizer is not None else g_default
        if d_opt is g_opt:
            raise KerasGenError("d_optimizer and g_optimizer must be two different optimizer objects")
        # mixed_float16: each player's optimizer scales its loss (keras_gen.training.precision).
        self.d_optimizer = loss_scaled(d_opt, self.discriminator)
        self.g_optimizer = loss_scaled(g_opt, self.generator)
        with self.distribute_strategy.scope():
            self.d_optimizer.build(self.d_trainable_variables)
            self.g_optimizer.build(self.g_trainable_variables)

    def get_compile_config(self):
        if self.d_optimizer is None:
            return {}
        return {
            "d_optimizer": keras.saving.serialize_keras_object(self.d_optimizer),
            "g_optimizer": keras.saving.serialize_keras_object(self.g_optimizer),
            "jit_compile": bool(self.jit_compile),
        }

    def compile_from_config(self, config):
        if not config:
            return
        self.compile(
            d_optimizer=keras.saving.deserialize_keras_object(config["d_optimizer"]),
            g_optimizer=keras.saving.deserialize_keras_object(config["g_optimizer"]),
            jit_compile=config.get("jit_compile", False),
        )

    def get_config(self):
        config = super().get_config()
        config.update(
            generator=keras.saving.serialize_keras_object(self.generator),
            discriminator=keras.saving.serialize_keras_object(self.discriminator),
            latent_dim=self.latent_dim,
            n_critic=self.n_critic,
            seed=self.seed,
            reuse_fakes=self.reuse_fakes,
        )
        return config

    @classmethod
    def from_config(cls, config):
        config = dict(config)
        config["generator"] = keras.saving.deserialize_keras_object(config["generator"])
        config["discriminator"] = keras.saving.deserialize_keras_object(config["discriminator"])
        return cls(**config)

    # === Hooks (override in subclasses) ===
    @property
    def d_trainable_variables(self):
        return _variables(self.discriminator.trainable_variables)

    @property
    def g_trainable_variables(self):
        return _variables(self.generator.trainable_variables)

    def unpack(self, data):
        """(x_real, condition) from a dataset element: `x`, `(x,)` or `(x, y, ...)`."""
        if isinstance(data, (tuple, list)):
            return data[0], (data[1] if len(data) > 1 else None)
        return data, None

    def sample_latents(self, batch_size, seed):
        """Latents for a batch of `batch_size` rows from a stateless `seed` (z ~ N(0, I))."""
        seed = tf.random.experimental.stateless_fold_in(seed, LATENT_STREAM)
        return tf.random.stateless_normal([batch_size, self.latent_dim], seed=seed)

    def generator_inputs(self, latents, condition=None):
        return latents

    def discriminator_inputs(self, x, condition=None, latents=None, training=False):
        """What D is shown for samples `x`: x; (x, y) for CGAN; (x, z or E(x)) for BiGAN.

        `latents` is None for real data and the generator's latents for fakes;
        `training` is the mode of any network run here (BiGAN's encoder).
        """
        return x

    def discriminate(self, x, condition=None, latents=None, training=False):
        """D's output for samples `x` (with the condition/latents D is shown)."""
        x, condition, latents = tf.nest.map_structure(
            lambda t: tf.convert_to_tensor(t, tf.float32) if isinstance(t, np.ndarray) else t, (x, condition, latents))
        # float32 out: losses, penalties and metrics never see bfloat16/float16 logits.
        return to_float32(self.discriminator(self.discriminator_inputs(x, condition, latents, training=training),
                                             training=training))

    def discriminator_loss(self, real_out, fake_out, batch):
        """(per-example D loss `[batch]`, dict of per-example metric values)."""
        raise NotImplementedError

    def generator_loss(self, fake_out, batch):
        """(per-example G loss `[batch]`, dict of per-example metric values)."""
        raise NotImplementedError

    def after_discriminator_update(self):
        """Runs after every D update (WGAN clips the critic's weights here)."""

    # === Noise ===
    def step_seed(self, update):
        """Stateless seed of one update of this step: (seed, G iteration, update index)."""
        it = self.g_optimizer.iterations if self.g_optimizer is not None else tf.constant(0, tf.int64)
        base = tf.stack([tf.constant(self.seed, tf.int64), tf.cast(it, tf.int64)])
        return tf.random.experimental.stateless_fold_in(base, update)

    # === Training ===
    def _track(self, values):
        for name, value in values.items():
            self.trackers[name].update_state(value)

    def _apply(self, optimizer, loss, variables, tape):
        apply_gradients(optimizer, loss, variables, tape)

    def train_step(self, data):
        x_real, condition = self.unpack(data)
        local_batch = tf.shape(x_real)[0]

        # reuse_fakes: this tape records G's forward pass of the last D update, which the
        # G update then differentiates (D's own work is not recorded on it).
        g_tape = tf.GradientTape() if self.reuse_fakes else None

        # --- D step(s): ascend V on real data and fresh fakes ---
        for k in range(self.n_critic):
            seed = self.step_seed(k)
            latents = replica_rows(lambda b, s=seed: self.sample_latents(b, s), local_batch)
            batch = {"x_real": x_real, "condition": condition, "latents": latents, "seed": seed}
            keep = g_tape is not None and k == self.n_critic - 1
            if keep:
                with g_tape:
                    x_fake = to_float32(self.generator(self.generator_inputs(latents, condition), training=True))
            with tf.GradientTape() as tape:
                if not keep:
                    x_fake = to_float32(self.generator(self.generator_inputs(latents, condition), training=True))
                batch["x_fake"] = x_fake
                real_out = self.discriminate(x_real, condition, None, training=True)
                fake_out = self.discriminate(x_fake, condition, latents, training=True)
                d_per_example, d_logs = self.discriminator_loss(real_out, fake_out, batch)
                d_loss = global_mean(d_per_example)
            self._apply(self.d_optimizer, d_loss, self.d_trainable_variables, tape)
            self.after_discriminator_update()
            self._track(dict(d_loss=d_per_example, **d_logs))

        # --- G step: D fixed, descend the G loss on fresh latents (or the last D update's) ---
        if g_tape is None:
            seed = self.step_seed(self.n_critic)
            latents = replica_rows(lambda b, s=seed: self.sample_latents(b, s), local_batch)
            batch = {"x_real": x_real, "condition": condition, "latents": latents, "seed": seed}
            tape = tf.GradientTape()
            with tape:
                x_fake = to_float32(self.generator(self.generator_inputs(latents, condition), training=True))
                batch["x_fake"] = x_fake
        else:
            tape = g_tape
        with tape:
            fake_out = self.discriminate(x_fake, condition, latents, training=True)
            g_per_example, g_logs = self.generator_loss(fake_out, batch)
            g_loss = global_mean(g_per_example)
        self._apply(self.g_optimizer, g_loss, self.g_trainable_variables, tape)
        self._track(dict(g_loss=g_per_example, **g_logs))
        return {name: t.result() for name, t in self.trackers.items()}

    def test_step(self, data):
        raise KerasGenError(f"{type(self).__name__} has no evaluate(); use keras_gen.metrics on generate() samples")

    # === Sampling and export ===
    def generate(self, n, seed=None, condition=None, batch_size=1024):
        """`n` samples G(z) as a NumPy array (inference mode), z from `sample_latents`."""
        if seed is None:
            seed = np.random.randint(0, 2**31 - 1)
        latents = self.sample_latents(int(n), tf.constant([int(seed), 0], tf.int64))
        out = []
        for start in range(0, int(n), batch_size):
            part = tf.nest.map_structure(lambda t: t[start:start + batch_size], latents)
            cond = None if condition is None else tf.nest.map_structure(
                lambda t: tf.convert_to_tensor(t[start:start + batch_size], tf.float32), condition)
            out.append(keras.ops.convert_to_numpy(
                self.generator(self.generator_inputs(part, cond), training=False)))
        return np.concatenate(out, axis=0)

    def export_endpoints(self):
        """The `(signature, fn, input_signature, output)` list `export` writes.

        `generate`: z -> x through G; `discriminate`: x -> logits through D.
        """
        z_spec = [tf.TensorSpec((None, self.latent_dim), tf.float32, name="z")]
        x_spec = [tf.TensorSpec((None,) + tuple(self.generator.output_shape[1:]), tf.float32, name="x")]
        return [
            ("generate", self.generator, z_spec, "x"),
            ("discriminate", self.discriminator, x_spec, "logits"),
        ]

    def export(self, name, base_dir="saved_models", version=None, overwrite=False):
        """Writes a TF-Serving SavedModel `<base_dir>/<name>/<version>/` (see export_endpoints)."""
        from keras_gen.export import export_endpoints

        return export_endpoints(name, self.export_endpoints(), base_dir=base_dir, version=version, overwrite=overwrite,
                                track=self.export_tracked())

    def export_tracked(self):
        """The networks whose variables the exported endpoints use."""
        return [self.generator, self.discriminator]


@keras.saving.register_keras_serializable(package="keras_gen")
class GAN(AdversarialModel):
    """S3: the vanilla GAN, minimax D loss and a selectable G loss; S11's tricks.

    Args:
        generator_loss: "non_saturating" (`-log D(G(z))`, the practical choice),
            "minimax" (`log(1 - D(G(z)))`, the game as written; saturates early) or
            "feature_matching" (Salimans et al. 2016: `||E f(x) - E f(G(z))||²` over the
            layer `feature_layer` of D, means over the global batch).
        label_smoothing: s in [0, 1), one-sided label smoothing (Salimans et al. 2016):
            real data gets the target 1 - s in D's loss; fakes keep 0, G is unchanged.
        feature_layer: name of the layer of D whose (flattened) activations feature
            matching compares; required by, and only used with, "feature_matching".
        r1_weight: gamma >= 0 of the R1 penalty (Mescheder et al. 2018): D's loss adds
            `gamma / 2 ||grad_x D(x)||^2` on real x (0 = off). Keeps D from memorising a
            small data set; the metric `r1_penalty` (mean squared slope) shows it.
        (the rest as `AdversarialModel`)

    Metrics: d_loss, g_loss, d_real = mean D(x), d_fake = mean D(G(z)) (probabilities).
    Default optimizers: Adam(2e-4, beta_1=0.5) for both (Radford et al. 2016).
    """

    metric_names = ("d_loss", "g_loss", "d_real", "d_fake")

    def __init__(self, generator, discriminator, generator_loss="non_saturating", label_smoothing=0.0,
                 feature_layer=None, r1_weight=0.0, **kwargs):
        choices = tuple(gan_losses.GENERATOR_LOSSES) + ("feature_matching",)
        if generator_loss not in choices:
            raise unknown_name("generator loss", generator_loss, choices)
        if not 0.0 <= float(label_smoothing) < 1.0:
            raise KerasGenError(f"label_smoothing must be in [0, 1), got {label_smoothing}")
        if (generator_loss == "feature_matching") != (feature_layer is not None):
            raise KerasGenError("feature_layer= is required by, and only used with, generator_loss='feature_matching'")
        if not float(r1_weight) >= 0.0:
            raise KerasGenError(f"r1_weight must be >= 0, got {r1_weight}")
        self.r1_weight = float(r1_weight)
        if self.r1_weight:
            self.metric_names = type(self).metric_names + ("r1_penalty",)
        super().__init__(generator, discriminator, **kwargs)
        self.generator_loss_name = generator_loss
        self.label_smoothing = float(label_smoothing)
        self.feature_layer = feature_layer
        # Built once; shares D's layers and weights (saved with D, not twice).
        self._features = None if feature_layer is None else feature_network(discriminator, feature_layer)

    def get_config(self):
        config = super().get_config()
        config["generator_loss"] = self.generator_loss_name
        config["label_smoothing"] = self.label_smoothing
        config["feature_layer"] = self.feature_layer
        config["r1_weight"] = self.r1_weight
        return config

    def discriminator_loss(self, real_out, fake_out, batch):
        loss = gan_losses.minimax_discriminator_loss(real_out, fake_out, real_label=1.0 - self.label_smoothing)
        logs = {
            "d_real": tf.sigmoid(gan_losses.per_example(real_out)),
            "d_fake": tf.sigmoid(gan_losses.per_example(fake_out)),
        }
        if self.r1_weight:
            condition = batch["condition"]

            def logit(x):
                out = self.discriminate(x, condition, None, training=True)
                return out["logit"] if isinstance(out, dict) else out

            penalty = penalties.r1_penalty(logit, batch["x_real"])
            loss = loss + 0.5 * self.r1_weight * penalty
            logs["r1_penalty"] = penalty
        return loss, logs

    def generator_loss(self, fake_out, batch):
        if self._features is None:
            return gan_losses.GENERATOR_LOSSES[self.generator_loss_name](fake_out), {}
        condition = batch["condition"]
        real = self._features(self.discriminator_inputs(batch["x_real"], condition, None, training=True), training=True)
        fake = self._features(self.discriminator_inputs(batch["x_fake"], condition, batch["latents"], training=True),
                              training=True)
        _, value = replica_feature_matching_loss(tf.stop_gradient(real), fake)
        # `value` is the loss of the global batch, on every replica. Repeated over the
        # local rows, `global_mean` turns it into value / num_replicas: the replicas'
        # summed gradients are then the gradient of `value` (see replica_feature_matching_loss).
        return value * tf.ones([tf.shape(fake)[0]], value.dtype), {}
