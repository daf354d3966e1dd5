"""Disentanglement: the mutual information gap (MIG) of Chen et al. 2018, "Isolating
Sources of Disentanglement in Variational Autoencoders", eq. 6.

For ground-truth factors v_k and latent codes z_j (posterior means),

    MIG = (1/K) sum_k [ I(z_{j(k)}; v_k) - max_{j != j(k)} I(z_j; v_k) ] / H(v_k),
    j(k) = argmax_j I(z_j; v_k),

in [0, 1]: 1 when each factor is captured by one latent alone, 0 when its information
is spread evenly over two or more latents. Mutual information is estimated as in
disentanglement_lib: each latent is discretised into `n_bins` equal-width bins over
its range, then the plug-in (histogram) estimate is used, in nats.
"""
import numpy as np

from keras_gen.errors import KerasGenError


def discretize(latents, n_bins=20):
    """Equal-width binning of each column into `n_bins` bins: int `[n, d]` in 0..n_bins-1."""
    latents = np.asarray(latents, np.float64)
    out = np.zeros(latents.shape, np.int64)
    for j in range(latents.shape[1]):
        edges = np.histogram_bin_edges(latents[:, j], bins=n_bins)
        out[:, j] = np.clip(np.digitize(latents[:, j], edges[1:-1]), 0, n_bins - 1)
    return out


def entropy_discrete(values):
    """Plug-in entropy (nats) of a discrete sample."""
    _, counts = np.unique(values, return_counts=True)
    p = counts / counts.sum()
    return float(-(p * np.log(p)).sum())


def mutual_information_discrete(a, b):
    """Plug-in mutual information (nats) of two discrete samples.

    Formula: `sum_{i,j} p(i,j) log(p(i,j) / (p(i) p(j)))` over the joint histogram.
    """
    _, ai = np.unique(a, return_inverse=True)
    _, bi = np.unique(b, return_inverse=True)
    joint = np.zeros((ai.max() + 1, bi.max() + 1))
    np.add.at(joint, (ai, bi), 1)
    joint /= joint.sum()
    pa, pb = joint.sum(axis=1, keepdims=True), joint.sum(axis=0, keepdims=True)
    nz = joint > 0
    return float((joint[nz] * np.log(joint[nz] / (pa @ pb)[nz])).sum())


def mutual_information_matrix(latents, factors, n_bins=20):
    """`[d, K]` matrix of I(z_j; v_k) (nats) with the latents discretised."""
    codes = discretize(latents, n_bins)
    factors = np.asarray(factors)
    return np.array([[mutual_information_discrete(codes[:, j], factors[:, k]) for k in range(factors.shape[1])]
                     for j in range(codes.shape[1])])


def mutual_information_gap(latents, factors, n_bins=20, return_details=False):
    """The MIG of `latents` `[n, d]` (d >= 2) with respect to discrete `factors` `[n, K]`.

    Args:
        latents: codes, e.g. the posterior means of a VAE.
        factors: ground-truth factor values (integers or any discrete labels).
        n_bins: bins per latent for the mutual information estimate.
        return_details: also return a dict with the MI matrix, factor entropies and
            the normalised gap per factor.

    Returns:
        float MIG (and the details dict when asked).
    """
    latents, factors = np.asarray(latents), np.asarray(factors)
    if latents.ndim != 2 or factors.ndim != 2 or len(latents) != len(factors):
        raise KerasGenError(
            f"MIG needs latents [n, d] and factors [n, K] with the same n; got {latents.shape} and {factors.shape}"
        )
    if latents.shape[1] < 2:
        raise KerasGenError("MIG needs at least 2 latent dimensions")
    mi = mutual_information_matrix(latents, factors, n_bins)
    entropies = np.array([entropy_discrete(factors[:, k]) for k in range(factors.shape[1])])
    if np.any(entropies == 0):
        raise KerasGenError("a factor takes a single value; MIG is undefined for it")
    top = np.sort(mi, axis=0)[::-1]
    gaps = (top[0] - top[1]) / entropies
    mig = float(gaps.mean())
    if return_details:
        return mig, {"mutual_information": mi, "factor_entropy": entropies, "gap_per_factor": gaps,
                     "best_latent_per_factor": mi.argmax(axis=0)}
    return mig
