"""Adversarial losses as pure functions on discriminator logits (S3, S5).

Every function returns a **per-example** loss of shape `[batch]` (trailing dimensions of
the logits are averaged), so that a `train_step` can average it over the *global* batch
under `tf.distribute` (`keras_gen.training.strategy.global_mean`) and a
`keras.metrics.Mean` tracker can average it exactly across replicas. The batch mean of
the returned vector is the loss as the papers write it.

Logits are the discriminator's pre-sigmoid outputs `l`, with `D(x) = sigmoid(l)`. The
logs of the minimax game are written with `softplus`, which never overflows:

    -log D(x)       = -log sigmoid(l)     = softplus(-l)
    -log(1 - D(x))  = -log sigmoid(-l)    = softplus(l)

References: Goodfellow et al. 2014, "Generative Adversarial Nets" (minimax and
non-saturating losses); Arjovsky et al. 2017, "Wasserstein GAN" (critic losses).
"""
import tensorflow as tf


def per_example(t):
    """Mean over every axis but the first: `[batch, ...] -> [batch]`."""
    t = tf.convert_to_tensor(t)
    if t.shape.rank == 0:
        raise ValueError("adversarial losses need a batch of logits, got a scalar")
    if t.shape.rank == 1:
        return t
    return tf.reduce_mean(tf.reshape(t, [tf.shape(t)[0], -1]), axis=1)


def minimax_discriminator_loss(real_logits, fake_logits, real_label=1.0):
    """The discriminator's side of the minimax game, as a loss to minimise.

    Formula:
        loss_i = -[t log D(x_i) + (1 - t) log(1 - D(x_i))] - log(1 - D(G(z_i)))
               = t softplus(-r_i) + (1 - t) softplus(r_i) + softplus(f_i)

    with `r = real_logits`, `f = fake_logits` and the target `t = real_label` for real
    data (1 is the paper; 0.9 is one-sided label smoothing). Its batch mean is
    `-V(D, G)` of S3 (for t = 1). Real and fake batches pair up example by example, so
    they must have the same size.
    """
    r = per_example(real_logits)
    f = per_example(fake_logits)
    t = tf.cast(real_label, r.dtype) if tf.is_tensor(real_label) else tf.constant(real_label, r.dtype)
    return t * tf.nn.softplus(-r) + (1.0 - t) * tf.nn.softplus(r) + tf.nn.softplus(f)


def minimax_generator_loss(fake_logits):
    """The generator's side of the minimax game (saturates when D wins).

    Formula: `loss_i = log(1 - D(G(z_i))) = -softplus(f_i)`.
    """
    return -tf.nn.softplus(per_example(fake_logits))


def non_saturating_generator_loss(fake_logits):
    """The practical generator loss of S3: maximise log D(G(z)) instead.

    Formula: `loss_i = -log D(G(z_i)) = softplus(-f_i)`.
    """
    return tf.nn.softplus(-per_example(fake_logits))


def wasserstein_critic_loss(real_scores, fake_scores):
    """The critic's loss of WGAN (no sigmoid, no log; S5).

    Formula: `loss_i = f(G(z_i)) - f(x_i)`; its batch mean is minus the critic's estimate
    of the Wasserstein-1 distance, `W ~ E f(x) - E f(G(z))`.
    """
    return per_example(fake_scores) - per_example(real_scores)


def wasserstein_generator_loss(fake_scores):
    """The generator's loss of WGAN. Formula: `loss_i = -f(G(z_i))`."""
    return -per_example(fake_scores)


GENERATOR_LOSSES = {
    "non_saturating": non_saturating_generator_loss,
    "minimax": minimax_generator_loss,
}
