"""Feature matching, a generator loss on an intermediate layer of D (S11).

Reference: Salimans et al. 2016, "Improved Techniques for Training GANs", Section 3.1:
G matches the expected features of real data on an intermediate layer f of D instead
of maximising D's output,

    loss = || E_x f(x) - E_z f(G(z)) ||_2^2

(features flattened to one vector per example; the squared norm sums over features).

Like MMD² (`keras_gen.losses.mmd`), this is a function of batch means, not a mean of
per-example losses, so under `tf.distribute` it needs the means of the *global* batch.
`replica_feature_matching_loss` gathers both feature batches from all replicas (a
differentiable `all_gather`), computes the loss on the global batch on every replica and
returns it divided by the replica count: the replicas' summed gradients are then the
gradient of the global batch's loss, whatever the number of replicas.
"""
import tensorflow as tf


def _flatten(features):
    features = tf.convert_to_tensor(features)
    if not features.dtype.is_floating:
        features = tf.cast(features, tf.float32)
    if features.shape.rank == 1:
        return features[:, None]
    if features.shape.rank is None or features.shape.rank > 2:
        return tf.reshape(features, [tf.shape(features)[0], -1])
    return features


def feature_matching_loss(real_features, fake_features):
    """Squared distance between the batch means of real and fake features (scalar).

    Formula: `|| 1/N sum_i f(x_i) - 1/M sum_j f(G(z_j)) ||_2^2`.

    Args:
        real_features: `[N, ...]` features of real data (axes after the first flattened).
        fake_features: `[M, ...]` features of generated data, same feature shape.
    """
    real = _flatten(real_features)
    fake = tf.cast(_flatten(fake_features), real.dtype)
    diff = tf.reduce_mean(real, axis=0) - tf.reduce_mean(fake, axis=0)
    return tf.reduce_sum(tf.square(diff))


def replica_feature_matching_loss(real_features, fake_features):
    """`(loss, value)` for training on this replica's slices of a global batch.

    `value` is `feature_matching_loss` of the global batch (both feature batches gathered
    from all replicas); `loss = value / num_replicas`, so the replicas' summed gradients
    are the gradient of `value`. With one replica (or outside `strategy.run`) both equal
    `feature_matching_loss(real_features, fake_features)`.
    """
    real = _flatten(real_features)
    fake = tf.cast(_flatten(fake_features), real.dtype)
    ctx = tf.distribute.get_replica_context()
    n_replicas = 1 if ctx is None else ctx.num_replicas_in_sync
    if n_replicas > 1:
        real, fake = ctx.all_gather([real, fake], axis=0)
    value = feature_matching_loss(real, fake)
    return value / float(n_replicas), value
