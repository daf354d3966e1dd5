"""Constraints on a discriminator: gradient penalty (S6), weight clipping (S5), R1.

References: Gulrajani et al. 2017, "Improved Training of Wasserstein GANs" (the
gradient penalty, Algorithm 1); Arjovsky et al. 2017, "Wasserstein GAN" (clipping);
Mescheder et al. 2018, "Which Training Methods for GANs do actually Converge?" (R1).
"""
import tensorflow as tf


def safe_norm(x, axis=-1):
    """Euclidean norm that is finite, with a finite (zero) gradient, at x = 0.

    `sqrt` has an infinite derivative at 0, so `sqrt(sum(x^2))` gives NaN gradients
    when a critic's input gradient vanishes (a dead or constant critic). The double
    `where` keeps the square root away from 0 without adding an epsilon, so for any
    non-zero x the value is exactly the norm.
    """
    sq = tf.reduce_sum(tf.square(x), axis=axis)
    positive = sq > 0
    safe_sq = tf.where(positive, sq, tf.ones_like(sq))
    return tf.where(positive, tf.sqrt(safe_sq), tf.zeros_like(sq))


def interpolation_weights(batch_size, seed, dtype=tf.float32):
    """One weight per example, `alpha ~ U[0, 1]`, from a stateless seed (shape `[batch]`)."""
    return tf.random.stateless_uniform([batch_size], seed=seed, minval=0.0, maxval=1.0, dtype=dtype)


def interpolate(real, fake, alpha):
    """`x_hat_i = alpha_i x_i + (1 - alpha_i) x~_i`, one alpha per example."""
    real = tf.convert_to_tensor(real)
    fake = tf.convert_to_tensor(fake, dtype=real.dtype)
    alpha = tf.reshape(tf.cast(alpha, real.dtype), [-1] + [1] * (real.shape.rank - 1))
    return alpha * real + (1.0 - alpha) * fake


def gradient_penalty(critic, real, fake, alpha, target=1.0):
    """Per-example gradient penalty of WGAN-GP.

    Formula:
        x_hat_i = alpha_i x_i + (1 - alpha_i) G(z_i),  alpha_i ~ U[0, 1]
        gp_i    = (|| grad_x critic(x_hat_i) ||_2 - target)^2

    Args:
        critic: callable mapping a batch of inputs to per-example scores (e.g. a
            bound Keras model, `lambda x: D(x, training=True)`). Each score must
            depend on its own example only (no batch statistics), as the paper says.
        real, fake: batches of the same shape.
        alpha: per-example interpolation weights, shape `[batch]`, drawn from U[0, 1]
            (`interpolation_weights`); passed in so a distributed train step can draw
            them for the global batch.
        target: the norm the gradient is pulled towards (1 for a 1-Lipschitz critic).

    Returns:
        `[batch]` penalties (multiply by lambda = 10 and average over the global batch).
        Differentiable with respect to the critic's weights (double backprop).
    """
    x_hat = interpolate(real, fake, alpha)
    with tf.GradientTape() as tape:
        tape.watch(x_hat)
        scores = critic(x_hat)
        # Summing per-example scores gives each example's own input gradient.
        total = tf.reduce_sum(scores)
    grads = tape.gradient(total, x_hat)
    grads = tf.reshape(grads, [tf.shape(grads)[0], -1])
    return tf.square(safe_norm(grads, axis=1) - target)


def clip_weights(variables, clip_value):
    """Clips every variable to `[-c, c]` in place (WGAN, after each critic update).

    Returns the list of assign ops (eager: already applied).
    """
    c = float(clip_value)
    return [v.assign(tf.clip_by_value(v, -c, c)) for v in variables]


def r1_penalty(discriminator, real):
    """Per-example R1 penalty (Mescheder et al. 2018): `||grad_x D(x_i)||^2` on real data.

    Formula:
        R1_i = || d D(x_i) / d x_i ||_2^2        (D's logit, x_i real)

    The D loss adds `gamma / 2 * R1_i`: it penalises D's slope on the data, which keeps
    the non-saturating GAN from oscillating around its equilibrium and D from
    memorising a small training set.

    Args:
        discriminator: callable mapping a batch of inputs to per-example logits
            (e.g. `lambda x: D(x, training=True)`). With BatchNorm in D the gradient also
            runs through the batch statistics (as in any R1 on such a network).
        real: a batch of real inputs.

    Returns:
        `[batch]` squared gradient norms, differentiable with respect to D's weights.
    """
    real = tf.convert_to_tensor(real)
    with tf.GradientTape() as tape:
        tape.watch(real)
        # The sum is taken inside the tape: each example's gradient is its own.
        total = tf.reduce_sum(discriminator(real))
    grads = tape.gradient(total, real)
    return tf.reduce_sum(tf.square(tf.reshape(grads, [tf.shape(grads)[0], -1])), axis=1)
