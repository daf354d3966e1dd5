"""S11: f-GAN, adversarial training on a chosen f-divergence (Nowozin et al. 2016).

The adversarial core's train step (`keras_gen.models.gan.AdversarialModel`) with the
f-GAN losses of `keras_gen.losses.fgan` (Algorithm 1 of the paper with alternating
steps, as the GAN):

    D (the variational function V, raw outputs v):
        loss_i = -(g_f(V(x_i)) - f*(g_f(V(G(z_i)))))
    G:  "non_saturating"  loss_i = -g_f(V(G(z_i)))          (the paper's Section 3.2)
        "minimax"         loss_i = -f*(g_f(V(G(z_i))))       (the saddle objective)

D must output raw values (no final activation): the output activation g_f of the
chosen divergence is part of the loss.
"""
import keras

from keras_gen.errors import unknown_name
from keras_gen.losses import fgan as fgan_losses
from keras_gen.models.gan import AdversarialModel


@keras.saving.register_keras_serializable(package="keras_gen")
class FGAN(AdversarialModel):
    """f-GAN: G and D play the variational f-divergence game.

    Args:
        divergence: one of `keras_gen.losses.F_DIVERGENCES`: "kl", "reverse_kl", "js",
            "pearson" or "gan" (the original GAN as an f-GAN).
        generator_loss: "non_saturating" (maximise E g_f(V(G(z))), the paper's practical
            choice) or "minimax" (minimise E -f*(g_f(V(G(z))))).
        (the rest as `AdversarialModel`; `discriminator` outputs raw values v)

    Metrics: d_loss, g_loss, divergence_estimate = mean g_f(V(x)) - mean f*(g_f(V(G(z)))),
    D's variational lower bound on D_f(P_data || P_G) (= -d_loss).
    Default optimizers: Adam(2e-4, beta_1=0.5) for both.
    """

    metric_names = ("d_loss", "g_loss", "divergence_estimate")

    def __init__(self, generator, discriminator, divergence="js", generator_loss="non_saturating", **kwargs):
        fgan_losses.get_divergence(divergence)  # raises on an unknown name
        if generator_loss not in fgan_losses.FGAN_GENERATOR_LOSSES:
            raise unknown_name("f-GAN generator loss", generator_loss, fgan_losses.FGAN_GENERATOR_LOSSES)
        super().__init__(generator, discriminator, **kwargs)
        self.divergence = divergence
        self.generator_loss_name = generator_loss

    def get_config(self):
        config = super().get_config()
        config.update(divergence=self.divergence, generator_loss=self.generator_loss_name)
        return config

    def discriminator_loss(self, real_out, fake_out, batch):
        loss = fgan_losses.fgan_discriminator_loss(real_out, fake_out, self.divergence)
        return loss, {"divergence_estimate": -loss}

    def generator_loss(self, fake_out, batch):
        return fgan_losses.fgan_generator_loss(fake_out, self.divergence, self.generator_loss_name), {}
