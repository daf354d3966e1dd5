"""Annealed importance sampling (AIS) of a Bernoulli RBM's partition function, and test log-likelihoods.

An RBM's log-likelihood log p(v) = -F(v) - log Z needs its partition function Z, a sum
over 2^(n_visible) or 2^(n_hidden) states. AIS (Neal 2001) estimates it by moving
importance weights along a path of distributions from a base model A whose Z_A is known
to the RBM B. For RBMs this is Salakhutdinov & Murray 2008, "On the quantitative
analysis of deep belief networks", section 3; the base model A is the "base-rate" RBM:
no weights, no hidden biases, visible biases b_A (the log-odds of the training pixel
frequencies), i.e. independent Bernoulli pixels.

Formula:

    p*_beta(v) = exp((1 - beta) b_A.v + beta b.v) prod_j (1 + exp(beta (c_j + (v W)_j)))
                                                        (hidden units summed out)
    0 = beta_0 < beta_1 < ... < beta_K = 1,   p*_0 = Z_A p_A,  p*_1 = exp(-F_B(v))
    log Z_A = sum_i softplus(b_A,i) + n_hidden log 2

    v_1 ~ p_A;  v_{k+1} ~ T_k(. | v_k)  (one Gibbs sweep leaving p_beta_k invariant:
        h_j ~ sigmoid(beta_k (c_j + (v W)_j)),
        v_i ~ sigmoid((1 - beta_k) b_A,i + beta_k (b_i + (W h)_i)))
    log w = sum_{k=1..K} [log p*_beta_k(v_k) - log p*_beta_{k-1}(v_k)]
    Z_B / Z_A ~= (1/M) sum_m w_m        (M chains; unbiased for Z, so log Z is biased low)

The estimate of Z is unbiased, so the estimate of log Z is on average a little low and
a log-likelihood computed from it a little high (Jensen); more temperatures and chains
shrink both the bias and the spread. `ais_log_partition` runs `n_runs` independent sets
of chains and reports the spread of their estimates beside the pooled one.

Everything here is NumPy in float64 (the weights are sums of thousands of terms).
"""
import numpy as np

from keras_gen.errors import KerasGenError

# Salakhutdinov & Murray (2008) anneal with 14,500 temperatures: 500 evenly spaced in
# [0, 0.5), 4,000 in [0.5, 0.9), 10,000 in [0.9, 1]; the distributions change fastest
# near beta = 1, where the weights matter most.
_SCHEDULE = ((0.5, 500), (0.9, 4_000), (1.0, 10_000))


def annealing_schedule(n_temperatures):
    """`n_temperatures` + 1 inverse temperatures 0 = beta_0 < ... < beta_K = 1.

    Spaced as Salakhutdinov & Murray (2008): the intermediate distributions are split
    over [0, 0.5), [0.5, 0.9) and [0.9, 1] in the proportions 500 : 4,000 : 10,000
    (`n_temperatures` = 14,500 gives their schedule), each piece evenly spaced.
    """
    n = int(n_temperatures)
    if n < 3:
        raise KerasGenError(f"AIS needs at least 3 temperatures, got {n_temperatures!r}")
    total = sum(m for _, m in _SCHEDULE)
    counts = [max(1, int(round(n * m / total))) for _, m in _SCHEDULE]
    counts[-1] = n - sum(counts[:-1])
    pieces, lo = [], 0.0
    for (hi, _), m in zip(_SCHEDULE, counts):
        pieces.append(np.linspace(lo, hi, m, endpoint=False))
        lo = hi
    return np.concatenate(pieces + [np.array([1.0])])


def base_rate_visible_bias(data, pseudo_count=1.0):
    """Log-odds of the smoothed pixel frequencies of binary `data` `[n, ...]`: the base-rate model.

    Formula: `p_i = (sum_n v_ni + a) / (n + 2a)`, `b_A,i = log(p_i / (1 - p_i))` with
    `a = pseudo_count` (so a pixel never on in `data` keeps a finite bias).
    """
    p = independent_bernoulli_probabilities(data, pseudo_count)
    return np.log(p) - np.log1p(-p)


def independent_bernoulli_probabilities(data, pseudo_count=1.0):
    """Smoothed per-pixel frequencies `(sum_n v_ni + a) / (n + 2a)` of binary `data` (flattened per row)."""
    x = _binary_rows(data, "data")
    if not pseudo_count > 0:
        raise KerasGenError(f"pseudo_count must be > 0, got {pseudo_count!r}")
    return (x.sum(0) + pseudo_count) / (len(x) + 2.0 * pseudo_count)


def independent_bernoulli_log_likelihood(train, test, pseudo_count=1.0):
    """Exact log-likelihood (nats) of each row of `test` under independent Bernoulli pixels fitted to `train`.

    The trivial model of binary images: every pixel on with its (smoothed) training
    frequency, no interactions. Formula: `log p(v) = sum_i v_i log p_i + (1 - v_i) log(1 - p_i)`.
    Returns `[n_test]`.
    """
    p = independent_bernoulli_probabilities(train, pseudo_count)
    v = _binary_rows(test, "test")
    if v.shape[1] != p.shape[0]:
        raise KerasGenError(f"test rows have {v.shape[1]} pixels, train rows {p.shape[0]}")
    return v @ np.log(p) + (1.0 - v) @ np.log1p(-p)


def _binary_rows(x, name):
    x = np.asarray(x, np.float64)
    if x.ndim < 2 or len(x) == 0:
        raise KerasGenError(f"{name} must be a non-empty batch [n, ...] of binary vectors, got shape {list(x.shape)}")
    x = x.reshape(len(x), -1)
    if not np.all((x == 0) | (x == 1)):
        raise KerasGenError(f"{name} must be binary (0 or 1 everywhere)")
    return x


def _rbm_parameters(rbm):
    """(W [v, h], b [v], c [h]) as float64 arrays, from an `RBM` or a tuple."""
    if isinstance(rbm, (tuple, list)):
        W, b, c = rbm
    else:
        import keras

        W, b, c = (keras.ops.convert_to_numpy(t) for t in (rbm.W, rbm.b, rbm.c))
    W, b, c = (np.asarray(t, np.float64) for t in (W, b, c))
    if W.ndim != 2 or b.shape != (W.shape[0],) or c.shape != (W.shape[1],):
        raise KerasGenError(f"RBM parameters must be W [v, h], b [v], c [h]; got {W.shape}, {b.shape}, {c.shape}")
    return W, b, c


def _softplus(x):
    """log(1 + e^x), stable for large |x|."""
    return np.maximum(x, 0.0) + np.log1p(np.exp(-np.abs(x)))


def _sigmoid(x):
    return 1.0 / (1.0 + np.exp(-x))


def ais_log_partition(rbm, base_visible_bias=None, n_temperatures=10_000, n_chains=100, n_runs=3, seed=0):
    """AIS estimate of log Z of a Bernoulli RBM (see the module docstring for the formula).

    Args:
        rbm: a `keras_gen.models.RBM`, or its parameters `(W [v, h], b [v], c [h])`.
        base_visible_bias: visible biases b_A of the base-rate model `[v]` (use
            `base_rate_visible_bias(train)`); default zeros (uniform pixels).
        n_temperatures: intermediate distributions K (`annealing_schedule`).
        n_chains: AIS chains per run.
        n_runs: independent runs (their estimates' spread is reported); the pooled
            estimate uses all `n_runs * n_chains` chains.
        seed: seed of the chains (NumPy `default_rng`).

    Returns:
        dict: `log_z` (pooled estimate), `log_z_runs` (one per run), `log_z_sd` (sample
        sd over runs), `log_z_se` (delta-method standard error of the pooled estimate
        from the spread of its weights), `log_z_base` (exact log Z_A), `log_weights`
        `[n_runs * n_chains]`, and the settings.
    """
    W, b, c = _rbm_parameters(rbm)
    n_v, n_h = W.shape
    b_a = np.zeros(n_v) if base_visible_bias is None else np.asarray(base_visible_bias, np.float64).reshape(-1)
    if b_a.shape != (n_v,) or not np.all(np.isfinite(b_a)):
        raise KerasGenError(f"base_visible_bias must be {n_v} finite numbers, got shape {list(b_a.shape)}")
    for name, value in (("n_chains", n_chains), ("n_runs", n_runs)):
        if int(value) != value or int(value) < 1:
            raise KerasGenError(f"{name} must be a positive integer, got {value!r}")
    betas = annealing_schedule(n_temperatures)
    m = int(n_chains) * int(n_runs)
    rng = np.random.default_rng(seed)

    with _one_blas_thread():
        log_w = _anneal(W, b, c, b_a, betas, m, rng)

    log_z_base = float(_softplus(b_a).sum() + n_h * np.log(2.0))
    runs = log_w.reshape(int(n_runs), int(n_chains))
    log_z_runs = log_z_base + _log_mean_exp(runs, axis=1)
    pooled = log_z_base + float(_log_mean_exp(log_w))
    # Delta method: var(log mean w) ~= var(w) / (M mean(w)^2), with w scaled by its max.
    w = np.exp(log_w - log_w.max())
    se = float(w.std(ddof=1) / (np.sqrt(m) * w.mean())) if m > 1 else float("nan")
    return {
        "log_z": pooled,
        "log_z_runs": log_z_runs.tolist(),
        "log_z_sd": float(np.std(log_z_runs, ddof=1)) if n_runs > 1 else 0.0,
        "log_z_se": se,
        "log_z_base": log_z_base,
        "log_weights": log_w,
        "n_temperatures": int(len(betas) - 1),
        "n_chains": int(n_chains),
        "n_runs": int(n_runs),
        "seed": int(seed),
    }


def _anneal(W, b, c, b_a, betas, m, rng):
    """The log importance weights `[m]` of `m` AIS chains along `betas`."""
    n_v, n_h = W.shape
    # Gibbs sampling in float32 (its noise dwarfs rounding); the weights accumulate in float64
    # from the same activations, so each increment is exact for the state it is computed at.
    W32, bias_v, bias_a = W.astype(np.float32), (b - b_a).astype(np.float32), b_a.astype(np.float32)
    b32, c32 = b.astype(np.float32), c.astype(np.float32)
    # v_1 ~ p_A (independent pixels); hidden units of A are uniform and summed out.
    v = (rng.random((m, n_v), dtype=np.float32) < _sigmoid(bias_a)).astype(np.float32)
    log_w = np.zeros(m)
    for k in range(1, len(betas)):
        lo, hi = betas[k - 1], betas[k]
        act32 = v @ W32 + c32  # [m, h]
        act = act32.astype(np.float64)
        # log p*_hi(v_k) - log p*_lo(v_k); the (1 - beta) b_A.v + beta b.v terms give (hi - lo)(b - b_A).v
        log_w += (hi - lo) * (v @ bias_v).astype(np.float64) + (_softplus(hi * act) - _softplus(lo * act)).sum(1)
        if k < len(betas) - 1:
            # one Gibbs sweep leaving p_hi invariant: v_{k+1} ~ T_k(. | v_k)
            p_h = _sigmoid(np.float32(hi) * act32)
            h = (rng.random((m, n_h), dtype=np.float32) < p_h).astype(np.float32)
            p_v = _sigmoid(np.float32(1.0 - hi) * bias_a + np.float32(hi) * (b32 + h @ W32.T))
            v = (rng.random((m, n_v), dtype=np.float32) < p_v).astype(np.float32)
    return log_w


def _one_blas_thread():
    """One BLAS thread while annealing: its matrices (a few hundred rows) are too small for
    threads to pay; on 2 shared cores they cost 4x the CPU time for no speed-up (measured)."""
    try:
        from threadpoolctl import threadpool_limits
    except ImportError:  # scikit-learn brings it; without it, BLAS keeps its threads
        import contextlib

        return contextlib.nullcontext()
    return threadpool_limits(limits=1, user_api="blas")


def _log_mean_exp(x, axis=None):
    x = np.asarray(x, np.float64)
    top = np.max(x, axis=axis, keepdims=True)
    out = top + np.log(np.mean(np.exp(x - top), axis=axis, keepdims=True))
    return out.squeeze() if axis is None else np.squeeze(out, axis=axis)


def rbm_free_energy(rbm, v):
    """F(v) = -b.v - sum_j softplus(c_j + (v W)_j) per row of binary `v`, float64 `[n]`."""
    W, b, c = _rbm_parameters(rbm)
    x = _binary_rows(v, "v")
    if x.shape[1] != W.shape[0]:
        raise KerasGenError(f"v rows have {x.shape[1]} pixels, the RBM {W.shape[0]} visible units")
    return -(x @ b) - _softplus(x @ W + c).sum(1)


def ais_log_likelihood(rbm, v, base_visible_bias=None, n_temperatures=10_000, n_chains=100, n_runs=3, seed=0):
    """Per-row log p(v) = -F(v) - log Z with log Z estimated by `ais_log_partition`.

    Returns `(log_likelihood [n], ais)`: the per-row estimates (from the pooled log Z)
    and the `ais_log_partition` record, with `mean_log_likelihood_runs` added: the mean
    log-likelihood of `v` from each run's log Z (their spread is the AIS spread).
    """
    ais = ais_log_partition(rbm, base_visible_bias, n_temperatures, n_chains, n_runs, seed)
    neg_f = -rbm_free_energy(rbm, v)
    ais = dict(ais)
    ais["mean_log_likelihood_runs"] = [float(neg_f.mean() - z) for z in ais["log_z_runs"]]
    return neg_f - ais["log_z"], ais
