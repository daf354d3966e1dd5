"""S9: InfoGAN (notes 003; Chen et al. 2016, "InfoGAN: Interpretable Representation
Learning by Information Maximizing Generative Adversarial Nets").

G's input is split into incompressible noise z and latent codes c: here one categorical
code with `num_categories` values (one-hot) and `num_continuous` codes ~ U[-1, 1].
Without any labels, G is pushed to keep c recoverable from G(z, c), i.e. to maximise
the mutual information I(c; G(z, c)), through its variational lower bound

    L_I(G, Q) = E_{c ~ p(c), x ~ G(z, c)} log Q(c | x) + H(c)  <=  I(c; G(z, c)),

    min_{G,Q} max_D  V(D, G) - lambda L_I(G, Q)

Q shares D's body and has its own last layer (notes 003: "Q and D share one network,
only the last layer is separate"): build D with
`dcgan_discriminator(..., heads={"code_logits": 10, "code_mean": 2})`. Q(c | x) is a
softmax over the categories and, for the continuous codes, a Gaussian with mean
`code_mean` and unit variance (the paper's factored Gaussian with a fixed sigma), so
per example

    -log Q(c | x) = CE(c_cat, code_logits) + 0.5 ||c_cont - code_mean||^2 + const.

Losses to minimise (per example, averaged over the global batch like every loss here):

    D and Q:  minimax GAN loss + lambda info_loss(G(z, c))     (D's body learns Q too)
    G:        GAN generator loss + lambda info_loss(G(z, c))

    info_loss = CE(c_cat, code_logits) + lambda_cont 0.5 ||c_cont - code_mean||^2

`continuous_weight` = lambda_cont / lambda: the paper keeps lambda = 1 for the discrete
code and makes it "smaller" for continuous codes (its section 5), so that the continuous
term does not outweigh the categorical one.

`info_warmup_steps` and `info_ramp_steps` schedule lambda over G iterations: 0 for the
first `info_warmup_steps` (G first learns the data alone), then linearly up to
`info_weight` over `info_ramp_steps`. With lambda > 0 from the first step, the category
is fixed while G's samples are still blobs, and it tends to encode what tells blobs
apart (thickness, slant) rather than the digit; started later, it splits digits that
are already formed. The schedule reads the G optimizer's iteration count, so a resumed
`fit` continues it.

`noise_std` scales the incompressible noise: G sees sigma z with z ~ N(0, I) (sigma = 1
is the paper). A small sigma (ClusterGAN, Mukherjee et al. 2019, uses 0.1) keeps the
one-hot category the dominant part of G's input, which helps the category become the
data's discrete factor. The exported `generate(z, codes)` applies sigma itself: callers
always draw z ~ N(0, I).

`mi_lower_bound` reports log(num_categories) - CE, the categorical part of L_I
(its maximum, log 10 = 2.303 nats, means the category is always recovered).

The data's labels, if the dataset has any, are ignored: InfoGAN is unsupervised.
"""
import keras
import numpy as np
import tensorflow as tf

from keras_gen.errors import KerasGenError
from keras_gen.models.acgan import class_accuracy, class_cross_entropy
from keras_gen.layers.condition import check_labels
from keras_gen.models.cgan import input_width
from keras_gen.models.gan import CONDITION_STREAM, LATENT_STREAM, GAN

CATEGORICAL_HEAD = "code_logits"
CONTINUOUS_HEAD = "code_mean"


def gaussian_code_nll(codes, means):
    """Per-example `0.5 ||c - mu||^2`: -log N(c; mu, I) without its constant (`[batch]`)."""
    return 0.5 * tf.reduce_sum(tf.square(codes - means), axis=-1)


@keras.saving.register_keras_serializable(package="keras_gen")
class InfoGAN(GAN):
    """InfoGAN with one categorical and `num_continuous` uniform codes.

    Args:
        generator: functional model `[z, codes] -> x`, codes of width
            `num_categories + num_continuous` (one-hot category first, then the
            continuous codes); e.g. `dcgan_generator(latent_dim=62, condition_dim=12)`.
        discriminator: functional model `x -> {"logit", "code_logits", "code_mean"}`
            (`code_mean` may be absent when num_continuous = 0).
        num_categories: values of the categorical code (10).
        num_continuous: number of continuous codes ~ U[-1, 1] (2).
        info_weight: lambda (1, as in the paper for discrete codes).
        continuous_weight: lambda_cont / lambda, the relative weight of the continuous
            codes' term (1; the paper: "smaller" than the discrete code's).
        noise_std: sigma, G's input is (sigma z, codes) with z ~ N(0, I) (1 = the paper).
        info_warmup_steps: G iterations with lambda = 0 (0 = the paper).
        info_ramp_steps: G iterations over which lambda then rises linearly to info_weight
            (lambda = info_weight * clip((t - warmup) / ramp, 0, 1) at G iteration t).
        (the rest as `GAN`)

    Metrics: d_loss, g_loss, d_real, d_fake, info_loss (-log Q(c|G(z,c)) up to a
    constant), mi_lower_bound (categorical part of L_I, nats), code_accuracy (Q recovers
    the category of G(z, c)), info_weight (the scheduled lambda).
    """

    metric_names = ("d_loss", "g_loss", "d_real", "d_fake", "info_loss", "mi_lower_bound", "code_accuracy",
                    "info_weight")

    def __init__(self, generator, discriminator, num_categories=10, num_continuous=2, info_weight=1.0,
                 continuous_weight=1.0, noise_std=1.0, info_warmup_steps=0, info_ramp_steps=0, latent_dim=None,
                 **kwargs):
        self.num_categories = int(num_categories)
        self.num_continuous = int(num_continuous)
        if self.num_categories < 2 or self.num_continuous < 0:
            raise KerasGenError(f"InfoGAN needs num_categories >= 2 and num_continuous >= 0, got "
                                f"{num_categories} and {num_continuous}")
        if float(info_weight) < 0:
            raise KerasGenError(f"info_weight must be >= 0, got {info_weight}")
        self.info_weight = float(info_weight)
        if not float(continuous_weight) >= 0:
            raise KerasGenError(f"continuous_weight must be >= 0, got {continuous_weight}")
        if not float(noise_std) > 0:
            raise KerasGenError(f"noise_std must be > 0, got {noise_std}")
        self.continuous_weight = float(continuous_weight)
        self.noise_std = float(noise_std)
        for name, value in (("info_warmup_steps", info_warmup_steps), ("info_ramp_steps", info_ramp_steps)):
            if int(value) != value or value < 0:
                raise KerasGenError(f"{name} must be an integer >= 0, got {value}")
        self.info_warmup_steps, self.info_ramp_steps = int(info_warmup_steps), int(info_ramp_steps)
        self.code_dim = self.num_categories + self.num_continuous
        if len(generator.inputs) != 2 or input_width(generator, 1) != self.code_dim:
            raise KerasGenError(f"InfoGAN generator must take [z, codes of width {self.code_dim}]; build it with "
                                f"condition_dim={self.code_dim}")
        outputs = discriminator.output
        wanted = {"logit": 1, CATEGORICAL_HEAD: self.num_categories}
        if self.num_continuous:
            wanted[CONTINUOUS_HEAD] = self.num_continuous
        if not isinstance(outputs, dict) or any(k not in outputs or outputs[k].shape[-1] != v for k, v in wanted.items()):
            heads = {k: v for k, v in wanted.items() if k != "logit"}
            raise KerasGenError(f"InfoGAN discriminator must return {sorted(wanted)} with widths {wanted}; "
                                f"build it with heads={heads}")
        if latent_dim is None:
            latent_dim = input_width(generator, 0)
        super().__init__(generator, discriminator, latent_dim=latent_dim, **kwargs)

    def get_config(self):
        config = super().get_config()
        config.update(num_categories=self.num_categories, num_continuous=self.num_continuous,
                      info_weight=self.info_weight, continuous_weight=self.continuous_weight,
                      noise_std=self.noise_std, info_warmup_steps=self.info_warmup_steps,
                      info_ramp_steps=self.info_ramp_steps)
        return config

    # === Hooks ===
    def unpack(self, data):
        x = data[0] if isinstance(data, (tuple, list)) else data
        return x, None  # unsupervised: labels, if any, are not used

    def sample_latents(self, batch_size, seed):
        """{"z": N(0, I), "codes": [one-hot category ~ uniform, continuous ~ U[-1, 1]]}."""
        z = tf.random.stateless_normal([batch_size, self.latent_dim],
                                       seed=tf.random.experimental.stateless_fold_in(seed, LATENT_STREAM))
        code_seed = tf.random.experimental.stateless_fold_in(seed, CONDITION_STREAM)
        category = tf.random.stateless_uniform([batch_size], seed=code_seed, minval=0, maxval=self.num_categories,
                                               dtype=tf.int32)
        continuous = tf.random.stateless_uniform([batch_size, self.num_continuous],
                                                 seed=tf.random.experimental.stateless_fold_in(code_seed, 1),
                                                 minval=-1.0, maxval=1.0)
        return {"z": z, "codes": tf.concat([tf.one_hot(category, self.num_categories), continuous], axis=-1)}

    def generator_inputs(self, latents, condition=None):
        # `condition` (from generate(codes=...)) replaces the sampled codes.
        return [self.noise_std * latents["z"], latents["codes"] if condition is None else condition]

    def info_loss(self, fake_out, codes):
        """(per-example info_loss, its categorical cross-entropy part); info_loss is
        -log Q(c | G(z, c)) up to a constant when continuous_weight = 1."""
        category = codes[:, :self.num_categories]
        ce = class_cross_entropy(category, fake_out[CATEGORICAL_HEAD])
        loss = ce
        if self.num_continuous:
            loss = loss + self.continuous_weight * gaussian_code_nll(codes[:, self.num_categories:],
                                                                     fake_out[CONTINUOUS_HEAD])
        return loss, ce

    def scheduled_info_weight(self):
        """lambda at the current G iteration (a scalar tensor): see info_warmup_steps."""
        if not (self.info_warmup_steps or self.info_ramp_steps):
            return tf.constant(self.info_weight, tf.float32)
        it = self.g_optimizer.iterations if self.g_optimizer is not None else 0
        t = tf.cast(it, tf.float32) - float(self.info_warmup_steps)
        if self.info_ramp_steps:
            fraction = tf.clip_by_value(t / float(self.info_ramp_steps), 0.0, 1.0)
        else:
            fraction = tf.cast(t >= 0.0, tf.float32)
        return self.info_weight * fraction

    def _info_logs(self, fake_out, codes, weight):
        loss, ce = self.info_loss(fake_out, codes)
        logs = {"info_loss": loss, "mi_lower_bound": float(np.log(self.num_categories)) - ce,
                "code_accuracy": class_accuracy(codes[:, :self.num_categories], fake_out[CATEGORICAL_HEAD]),
                "info_weight": weight * tf.ones_like(loss)}
        return loss, logs

    def discriminator_loss(self, real_out, fake_out, batch):
        loss, logs = GAN.discriminator_loss(self, real_out["logit"], fake_out["logit"], batch)
        weight = self.scheduled_info_weight()
        info, info_logs = self._info_logs(fake_out, batch["latents"]["codes"], weight)
        logs.update(info_logs)
        return loss + weight * info, logs

    def generator_loss(self, fake_out, batch):
        loss, logs = GAN.generator_loss(self, fake_out["logit"], batch)
        info, _ = self.info_loss(fake_out, batch["latents"]["codes"])
        return loss + self.scheduled_info_weight() * info, logs

    # === Sampling, inference and export ===
    def codes(self, n, categorical=None, continuous=None, seed=0):
        """Code rows `[n, num_categories + num_continuous]` for `generate`.

        Args:
            categorical: one category, `n` categories, or None (0, 1, 2, ... in turn).
            continuous: `[n, num_continuous]` values, one row for all, or None
                (uniform draws from `seed`).
        """
        cats = check_labels(categorical, int(n), self.num_categories, what="categorical codes")
        if continuous is None:
            cont = np.random.RandomState(seed).uniform(-1, 1, (int(n), self.num_continuous))
        else:
            cont = np.asarray(continuous, dtype="float32")
            if cont.ndim == 1:
                cont = np.tile(cont, (int(n), 1))
            if cont.shape != (int(n), self.num_continuous) or not np.all(np.isfinite(cont)):
                raise KerasGenError(f"continuous codes must be finite with shape ({n}, {self.num_continuous}), "
                                    f"got {np.shape(continuous)}")
        return np.concatenate([np.eye(self.num_categories)[cats], cont], axis=1).astype("float32")

    def generate(self, n, codes=None, seed=None, batch_size=1024):
        """`n` samples; `codes` is a `[n, code_dim]` array (see `codes()`), a dict
        {"categorical": ..., "continuous": ...} for `codes()`, or None (sampled codes)."""
        if isinstance(codes, dict):
            unknown = set(codes) - {"categorical", "continuous"}
            if unknown:
                raise KerasGenError(f"unknown code names {sorted(unknown)}; use 'categorical' and 'continuous'")
            codes = self.codes(n, seed=0 if seed is None else seed, **codes)
        elif codes is not None:
            codes = np.asarray(codes, dtype="float32")
            if codes.shape != (int(n), self.code_dim):
                raise KerasGenError(f"codes must have shape ({n}, {self.code_dim}), got {codes.shape}")
        return super().generate(n, seed=seed, condition=codes, batch_size=batch_size)

    def infer_codes(self, x, batch_size=1024):
        """Q's estimate for images x: (category probabilities `[n, K]`, continuous means `[n, C]`)."""
        probs, means = [], []
        for start in range(0, len(x), batch_size):
            out = self.discriminator(np.asarray(x[start:start + batch_size], "float32"), training=False)
            probs.append(keras.ops.convert_to_numpy(tf.nn.softmax(out[CATEGORICAL_HEAD])))
            if self.num_continuous:
                means.append(keras.ops.convert_to_numpy(out[CONTINUOUS_HEAD]))
        probs = np.concatenate(probs)
        means = np.concatenate(means) if means else np.zeros((len(probs), 0), "float32")
        return probs, means

    def export_endpoints(self):
        """`generate`: (z ~ N(0, I), codes) -> x, noise_std applied inside; `discriminate`:
        x -> logits; `infer_codes`: x -> (categorical_probs, continuous_mean)."""
        z = tf.TensorSpec((None, self.latent_dim), tf.float32, name="z")
        c = tf.TensorSpec((None, self.code_dim), tf.float32, name="codes")
        x = tf.TensorSpec((None,) + tuple(self.generator.output_shape[1:]), tf.float32, name="x")
        d, g, n_cont, sigma = self.discriminator, self.generator, self.num_continuous, self.noise_std

        def infer(images):
            out = d(images, training=False)
            result = {"categorical_probs": tf.nn.softmax(out[CATEGORICAL_HEAD])}
            if n_cont:
                result["continuous_mean"] = out[CONTINUOUS_HEAD]
            return result

        return [
            ("generate", lambda noise, codes: g([sigma * noise, codes], training=False), [z, c], "x"),
            ("discriminate", lambda images: d(images, training=False)["logit"], [x], "logits"),
            ("infer_codes", infer, [x], "codes"),
        ]
