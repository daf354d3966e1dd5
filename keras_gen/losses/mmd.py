"""Differentiable squared maximum mean discrepancy (MMD²), the GMMN loss (S16, notes 001).

Formula (Li, Swersky & Zemel 2015, "Generative Moment Matching Networks", eq. 2;
the biased V-statistic, which the notes write):

    MMD²(X, Y) = 1/N² sum_{i,i'} k(x_i, x_i') - 2/(NM) sum_{i,j} k(x_i, y_j)
                 + 1/M² sum_{j,j'} k(y_j, y_j')
    k(x, y)    = sum_s exp(-||x - y||² / (2 s²))      (s over `bandwidths`)

`unbiased=True` leaves the diagonal terms i = i' and j = j' out of the within-sample
sums (Gretton et al. 2012, eq. 3). A sum of Gaussian kernels of several bandwidths is
characteristic and sees several length scales at once, as the GMMN paper uses.

MMD² is not a mean of per-example losses: it couples every pair of examples, so the
usual "average over the global batch" rule of `tf.distribute` does not apply.
`replica_mmd2` therefore gathers both samples from all replicas (a differentiable
`all_gather`: its gradient all-reduces and keeps each replica's rows), computes the
MMD² of the global batch on every replica, and returns it divided by the replica count
as the loss. Summing the replicas' gradients (what the optimizer does) then gives
exactly the gradient of the global batch's MMD², whatever the number of replicas.
"""
import tensorflow as tf

# For data of unit scale (toys, standardised features). Images need larger ones
# (Li et al. used 2..80 for 784-d pixels in [0, 1]).
DEFAULT_BANDWIDTHS = (0.05, 0.1, 0.2, 0.5, 1.0, 2.0, 5.0)


def _flatten(x):
    x = tf.convert_to_tensor(x)
    if x.dtype not in (tf.float32, tf.float64):
        x = tf.cast(x, tf.float32)
    if x.shape.rank == 1:
        return x[:, None]
    if x.shape.rank is not None and x.shape.rank > 2:
        return tf.reshape(x, [tf.shape(x)[0], -1])
    return x


def squared_distances(x, y):
    """`[n, m]` matrix of ||x_i - y_j||², clipped at 0 against rounding."""
    xx = tf.reduce_sum(tf.square(x), axis=1)
    yy = tf.reduce_sum(tf.square(y), axis=1)
    d2 = xx[:, None] + yy[None, :] - 2.0 * tf.matmul(x, y, transpose_b=True)
    return tf.maximum(d2, 0.0)


def gaussian_kernel(x, y, bandwidths=DEFAULT_BANDWIDTHS):
    """`[n, m]` kernel matrix `sum_s exp(-||x_i - y_j||² / (2 s²))`."""
    bandwidths = _check_bandwidths(bandwidths)
    x = _flatten(x)
    y = tf.cast(_flatten(y), x.dtype)
    d2 = squared_distances(x, y)
    gammas = tf.constant([1.0 / (2.0 * float(s) ** 2) for s in bandwidths], d2.dtype)
    return tf.reduce_sum(tf.exp(-d2[None, :, :] * gammas[:, None, None]), axis=0)


def _check_bandwidths(bandwidths):
    if isinstance(bandwidths, (int, float)):
        bandwidths = (bandwidths,)
    bandwidths = tuple(float(s) for s in bandwidths)
    if not bandwidths or min(bandwidths) <= 0:
        from keras_gen.errors import KerasGenError

        raise KerasGenError(f"bandwidths must be positive numbers, got {bandwidths}")
    return bandwidths


def mmd2(x, y, bandwidths=DEFAULT_BANDWIDTHS, unbiased=False):
    """Squared MMD between samples x `[n, ...]` and y `[m, ...]` (scalar tensor).

    Args:
        x, y: samples, first axis the batch; other axes are flattened.
        bandwidths: one or several Gaussian kernel widths s (the kernels are summed).
        unbiased: leave out the i = i' and j = j' terms (can then be < 0).
    """
    bandwidths = _check_bandwidths(bandwidths)
    x = _flatten(x)
    y = tf.cast(_flatten(y), x.dtype)
    z = tf.concat([x, y], axis=0)
    k = gaussian_kernel(z, z, bandwidths)  # one matrix for the three blocks
    n = tf.shape(x)[0]
    kxx, kyy, kxy = k[:n, :n], k[n:, n:], k[:n, n:]
    nf = tf.cast(n, k.dtype)
    mf = tf.cast(tf.shape(y)[0], k.dtype)
    if unbiased:
        diag = float(len(bandwidths))  # k(x, x) = number of kernels
        xx = (tf.reduce_sum(kxx) - nf * diag) / (nf * (nf - 1.0))
        yy = (tf.reduce_sum(kyy) - mf * diag) / (mf * (mf - 1.0))
    else:
        xx = tf.reduce_sum(kxx) / (nf * nf)
        yy = tf.reduce_sum(kyy) / (mf * mf)
    return xx + yy - 2.0 * tf.reduce_sum(kxy) / (nf * mf)


def replica_mmd2(x, y, bandwidths=DEFAULT_BANDWIDTHS, unbiased=False):
    """`(loss, value)` for training on this replica's slices x, y of a global batch.

    `value` is the MMD² of the global batch (both samples gathered from all replicas);
    `loss = value / num_replicas`, so the replicas' summed gradients are the gradient
    of `value`. With one replica (or outside `strategy.run`) both equal `mmd2(x, y)`.
    Gradients flow to y (and x) through the gather; x is usually real data.
    """
    ctx = tf.distribute.get_replica_context()
    n_replicas = 1 if ctx is None else ctx.num_replicas_in_sync
    if n_replicas > 1:
        # tf.identity places each value on this replica's device: all_gather takes its
        # destination from the tensor's device, and a batch that enters the step as a
        # function input has none (MultiWorkerMirroredStrategy then fails with
        # "destinations can not be empty", seen on gmmn's 2-D toy data)
        x, y = ctx.all_gather([tf.identity(_flatten(x)), tf.identity(_flatten(y))], axis=0)
    value = mmd2(x, y, bandwidths, unbiased)
    return value / float(n_replicas), value
