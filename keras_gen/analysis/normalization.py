"""Feature and batch normalisation (notes 002 lecture 6; notes 001, the BN section; T4).

Feature normalisation (standardisation), per input dimension i, with the training set's
mean and standard deviation:

    x~_i^r = (x_i^r - mean_i) / sigma_i

It makes the error surface of a least-squares problem rounder: gradient descent with
step 1/L (L the Hessian's largest eigenvalue) shrinks the error along eigenvector j by
(1 - lambda_j / L) per step, so the slowest direction needs about
kappa log(1/tol) steps, kappa = lambda_max / lambda_min the Hessian's condition number.

Batch normalisation (Ioffe & Szegedy 2015, "Batch Normalization: Accelerating Deep
Network Training by Reducing Internal Covariate Shift"), per unit k over a batch:

    y^k = gamma^k (x^k - mu^k) / sqrt(sigma^k + eps) + beta^k

with mu^k and sigma^k the batch mean and (biased) variance, gamma = 1 and beta = 0 at
the start. There is no batch at test time, so the moving averages replace them:

    mu_bar <- p mu_bar + (1 - p) mu^t          (the same for the variance)

Keras's `BatchNormalization(momentum=p)` is this with p = 0.99 and eps = 1e-3, moving
mean 0 and moving variance 1 at the start, and the biased batch variance in the
average. (The notes say PyTorch's p is 0.1: PyTorch's `momentum=0.1` is the weight of
the *new* value, i.e. p = 0.9 here, and PyTorch averages the unbiased variance.)
In training mode a batch of one example has mu = x and sigma = 0: every output is beta.
"""
import numpy as np

from keras_gen.errors import KerasGenError


# ---------------------------------------------------------------- feature normalisation
def standardize(train, *others, epsilon=0.0):
    """Standardises `train` and `others` with the training set's statistics (the notes' formula).

    Formula: `x~ = (x - mean_train) / sigma_train`, per column (population sigma).
    Returns `(train~, *others~, mean, sigma)`. Columns with sigma = 0 raise unless
    `epsilon` > 0 is added to sigma.
    """
    train = np.asarray(train, dtype=np.float64)
    mean, sigma = train.mean(axis=0), train.std(axis=0) + epsilon
    if np.any(sigma == 0):
        raise KerasGenError(f"columns {np.flatnonzero(sigma == 0).tolist()} are constant; pass epsilon > 0")
    scaled = [(np.asarray(x, dtype=np.float64) - mean) / sigma for x in (train,) + others]
    return (*scaled, mean, sigma)


def with_bias_column(x):
    """`[x, 1]`: the design matrix of a least-squares fit with an intercept."""
    x = np.asarray(x, dtype=np.float64)
    return np.concatenate([x, np.ones((len(x), 1))], axis=1)


def least_squares_hessian(x):
    """Hessian of f(w) = ||x w - y||^2 / (2 n): `x^T x / n`."""
    x = np.asarray(x, dtype=np.float64)
    return x.T @ x / len(x)


def condition_number(matrix):
    """lambda_max / lambda_min of a symmetric positive (semi-)definite matrix (inf if singular)."""
    eig = np.linalg.eigvalsh(np.asarray(matrix, dtype=np.float64))
    return float(eig[-1] / eig[0]) if eig[0] > 0 else float("inf")


def gradient_descent_least_squares(x, y, tol=1e-6, max_steps=100_000, learning_rate=None):
    """Gradient descent on f(w) = ||x w - y||^2 / (2 n) from w = 0, until it is close to the minimum.

    Step: `w <- w - eta x^T (x w - y) / n` with eta = 1 / lambda_max(x^T x / n) unless
    `learning_rate` is given. Stops at the first step t with
    `f(w_t) - f(w*) <= tol (f(w_0) - f(w*))` (w* by `numpy.linalg.lstsq`).

    Returns `{"steps": t or None (not reached in max_steps), "gap": [relative gap per
    step, every step up to 1,000 then every 100th], "learning_rate": eta}`.
    """
    x, y = np.asarray(x, dtype=np.float64), np.asarray(y, dtype=np.float64)
    n = len(x)
    h = least_squares_hessian(x)
    eta = 1.0 / np.linalg.eigvalsh(h)[-1] if learning_rate is None else float(learning_rate)
    w_star = np.linalg.lstsq(x, y, rcond=None)[0]
    # f(w) - f(w*) = (w - w*)^T H (w - w*) / 2 exactly (f is quadratic): d^2 per step, not n d
    w = np.zeros(x.shape[1])
    e = w - w_star
    gap0 = 0.5 * float(e @ h @ e)
    gaps, steps = [1.0], None
    xty = x.T @ y / n
    for t in range(1, max_steps + 1):
        w = w - eta * (h @ w - xty)
        e = w - w_star
        gap = 0.5 * float(e @ h @ e) / gap0
        if t <= 1000 or t % 100 == 0:
            gaps.append(gap)
        if gap <= tol:
            steps = t
            if t > 1000 and t % 100:
                gaps.append(gap)
            break
        if not np.isfinite(gap):
            break
    return {"steps": steps, "gap": gaps, "learning_rate": float(eta)}


# ---------------------------------------------------------------- batch normalisation
def batch_norm(x, gamma=1.0, beta=0.0, epsilon=1e-3, mean=None, variance=None):
    """The notes' batch normalisation in NumPy, over axis 0.

    Formula: `y = gamma (x - mu) / sqrt(sigma + eps) + beta`, with mu and sigma the
    batch mean and biased variance (training mode) or the given `mean` and `variance`
    (inference mode, the moving averages).
    """
    x = np.asarray(x, dtype=np.float64)
    mu = x.mean(axis=0) if mean is None else np.asarray(mean, dtype=np.float64)
    sigma = x.var(axis=0) if variance is None else np.asarray(variance, dtype=np.float64)
    return np.asarray(gamma) * (x - mu) / np.sqrt(sigma + epsilon) + np.asarray(beta)


def moving_average(values, momentum, initial):
    """The notes' test-time statistic after each step: `m <- p m + (1 - p) v_t`, from `initial`.

    `values` is a sequence of per-step statistics (arrays); returns the list of averages.
    """
    m = np.asarray(initial, dtype=np.float64)
    out = []
    for v in values:
        m = momentum * m + (1.0 - momentum) * np.asarray(v, dtype=np.float64)
        out.append(m)
    return out


def ioffe_szegedy_mlp(batch_norm=True, hidden=(100, 100, 100), init_std=0.01, activation="sigmoid", inputs=784,
                      classes=10, momentum=0.99, epsilon=1e-3, seed=None, name=None):
    """The network of Ioffe & Szegedy's figure 1: dense sigmoid layers, N(0, init_std^2) weights.

    `inputs -> [Dense(100) -> (BatchNormalization) -> sigmoid] x 3 -> Dense(classes)`
    (logits). With batch normalisation the dense layers before it have no bias (beta
    takes its place, as in the paper). Layer names: `dense_1..3`, `bn_1..3`,
    `sigmoid_1..3`, `logits`.
    """
    import keras

    init = keras.initializers.RandomNormal(0.0, init_std, seed=seed)
    inp = keras.Input((inputs,), name="pixels")
    x = inp
    for i, units in enumerate(hidden, start=1):
        x = keras.layers.Dense(units, use_bias=not batch_norm, kernel_initializer=init, name=f"dense_{i}")(x)
        if batch_norm:
            x = keras.layers.BatchNormalization(momentum=momentum, epsilon=epsilon, name=f"bn_{i}")(x)
        x = keras.layers.Activation(activation, name=f"{activation}_{i}")(x)
    out = keras.layers.Dense(classes, kernel_initializer=init, name="logits")(x)
    return keras.Model(inp, out, name=name or ("mlp_bn" if batch_norm else "mlp"))
