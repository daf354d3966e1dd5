"""S5 and S6: Wasserstein GANs, with weight clipping (`WGAN`) or a gradient penalty (`WGANGP`).

Both reuse the adversarial core's train step (`keras_gen.models.gan.AdversarialModel`);
only the losses, the Lipschitz constraint and the defaults differ.

WGAN (Arjovsky et al. 2017, Algorithm 1; the rules of notes 003):
    critic without a final sigmoid, losses without a log:
        L_critic = E f(G(z)) - E f(x),   L_G = -E f(G(z))
    n_critic = 5 critic updates per generator update, each followed by clipping every
    critic weight to [-c, c] (c = 0.01); RMSProp (lr 5e-5), no momentum.

WGAN-GP (Gulrajani et al. 2017, Algorithm 1):
    L_critic = E f(G(z)) - E f(x) + lambda E (||grad f(x_hat)||_2 - 1)^2,
    x_hat = alpha x + (1 - alpha) G(z), alpha ~ U[0, 1] per example; lambda = 10,
    n_critic = 5, Adam(lr 1e-4, beta_1 = 0, beta_2 = 0.9). The penalty is per example,
    so the critic must not use batch statistics (no BatchNorm; LayerNorm or none).

Departure from the papers' boxes, as in most implementations: the n_critic critic
updates of one step reuse the step's real batch (each with fresh z and alpha), so one
`fit` step is one generator iteration and a dataset batch is one batch of real data.
"""
import keras
import tensorflow as tf

from keras_gen.errors import KerasGenError
from keras_gen.losses import gan as gan_losses
from keras_gen.losses import penalties
from keras_gen.models.gan import PENALTY_STREAM, AdversarialModel, replica_rows


@keras.saving.register_keras_serializable(package="keras_gen")
class WGAN(AdversarialModel):
    """S5: Wasserstein GAN with weight clipping.

    Args:
        clip_value: c, the critic's weights are clipped to [-c, c] after every update.
        n_critic: critic updates per generator update (5).
        (the rest as `AdversarialModel`; `discriminator` is the critic, linear output)

    Metrics: d_loss, g_loss, w_estimate = mean f(x) - mean f(G(z)) (the critic's
    estimate of the Wasserstein-1 distance, up to the Lipschitz constant).
    """

    metric_names = ("d_loss", "g_loss", "w_estimate")

    def __init__(self, generator, discriminator, clip_value=0.01, n_critic=5, **kwargs):
        if clip_value is not None and float(clip_value) <= 0:
            raise KerasGenError(f"clip_value must be positive, got {clip_value}")
        super().__init__(generator, discriminator, n_critic=n_critic, **kwargs)
        self.clip_value = None if clip_value is None else float(clip_value)

    def default_optimizers(self):
        return (
            keras.optimizers.RMSprop(learning_rate=5e-5),
            keras.optimizers.RMSprop(learning_rate=5e-5),
        )

    def get_config(self):
        config = super().get_config()
        config["clip_value"] = self.clip_value
        return config

    def discriminator_loss(self, real_out, fake_out, batch):
        loss = gan_losses.wasserstein_critic_loss(real_out, fake_out)
        return loss, {"w_estimate": -loss}

    def generator_loss(self, fake_out, batch):
        return gan_losses.wasserstein_generator_loss(fake_out), {}

    def after_discriminator_update(self):
        if self.clip_value is not None:
            penalties.clip_weights(self.discriminator.trainable_variables, self.clip_value)


@keras.saving.register_keras_serializable(package="keras_gen")
class WGANGP(WGAN):
    """S6: Wasserstein GAN with a gradient penalty instead of clipping.

    Args:
        gp_weight: lambda (10).
        n_critic: critic updates per generator update (5).
        (the rest as `AdversarialModel`)

    Metrics: d_loss (including the penalty), g_loss, w_estimate, gp (the mean penalty
    before weighting).
    """

    metric_names = ("d_loss", "g_loss", "w_estimate", "gp")

    def __init__(self, generator, discriminator, gp_weight=10.0, n_critic=5, **kwargs):
        kwargs.pop("clip_value", None)
        super().__init__(generator, discriminator, clip_value=None, n_critic=n_critic, **kwargs)
        self.gp_weight = float(gp_weight)

    def default_optimizers(self):
        return (
            keras.optimizers.Adam(learning_rate=1e-4, beta_1=0.0, beta_2=0.9),
            keras.optimizers.Adam(learning_rate=1e-4, beta_1=0.0, beta_2=0.9),
        )

    def get_config(self):
        config = super().get_config()
        config.pop("clip_value", None)
        config["gp_weight"] = self.gp_weight
        return config

    def discriminator_loss(self, real_out, fake_out, batch):
        wasserstein = gan_losses.wasserstein_critic_loss(real_out, fake_out)
        seed = tf.random.experimental.stateless_fold_in(batch["seed"], PENALTY_STREAM)
        alpha = replica_rows(
            lambda b: penalties.interpolation_weights(b, seed, dtype=batch["x_real"].dtype),
            tf.shape(batch["x_real"])[0],
        )
        condition, latents = batch["condition"], batch["latents"]
        gp = penalties.gradient_penalty(
            lambda x: self.discriminate(x, condition, latents, training=True),
            batch["x_real"], tf.stop_gradient(batch["x_fake"]), alpha,
        )
        return wasserstein + self.gp_weight * gp, {"w_estimate": -wasserstein, "gp": gp}
