"""Linear probes: how much of a label a representation makes linearly readable (C10).

`linear_probe_accuracy` fits a multinomial logistic regression (softmax regression with
an L2 penalty) on training features and reports the test accuracy. It is how
representation-learning papers (BiGAN among them) compare encoders: the same probe on
the learned code, on raw pixels and on a random projection of the same size.

The fit is a deterministic full-batch L-BFGS on the convex objective

    L(W, b) = -1/n sum_i log softmax(x_i W + b)[y_i] + (l2 / 2) ||W||^2,

over standardised features (mean 0, variance 1 per feature on the training set; the
bias is not penalised), so the result depends on the data alone, not on a seed or a
learning rate. Runs in NumPy/SciPy: no TensorFlow graph, no extra dependency.
"""
import numpy as np
from scipy import optimize, special

from keras_gen.errors import KerasGenError


def _check(features, labels, what):
    features = np.asarray(features, dtype=np.float64)
    labels = np.asarray(labels)
    if features.ndim < 2 or len(features) != len(labels) or len(features) == 0:
        raise KerasGenError(f"{what}: features must be [n, ...] with one label each, got {features.shape} and "
                            f"{labels.shape}")
    if not np.all(np.isfinite(features)):
        raise KerasGenError(f"{what}: features contain NaN or inf")
    if not np.issubdtype(labels.dtype, np.integer):
        raise KerasGenError(f"{what}: labels must be integer class ids, got dtype {labels.dtype}")
    return features.reshape(len(features), -1), labels.astype(np.int64)


class LogisticProbe:
    """Multinomial logistic regression with an L2 penalty, fitted by L-BFGS.

    Args:
        l2: penalty weight on W (per example, as in the formula above).
        max_iter: L-BFGS iterations.
    """

    def __init__(self, l2=1e-3, max_iter=500):
        if float(l2) < 0:
            raise KerasGenError(f"l2 must be >= 0, got {l2}")
        self.l2 = float(l2)
        self.max_iter = int(max_iter)

    def _standardize(self, x):
        return (x - self.mean_) / self.scale_

    def fit(self, features, labels):
        x, y = _check(features, labels, "probe training data")
        self.mean_ = x.mean(0)
        self.scale_ = x.std(0)
        self.scale_[self.scale_ == 0] = 1.0  # constant features stay 0
        x = self._standardize(x)
        n, d = x.shape
        k = int(y.max()) + 1
        onehot = np.eye(k)[y]

        def objective(theta):
            w, b = theta[: d * k].reshape(d, k), theta[d * k:]
            logits = x @ w + b
            log_p = logits - special.logsumexp(logits, axis=1, keepdims=True)
            loss = -np.sum(onehot * log_p) / n + 0.5 * self.l2 * np.sum(w * w)
            err = (np.exp(log_p) - onehot) / n
            grad_w = x.T @ err + self.l2 * w
            return loss, np.concatenate([grad_w.ravel(), err.sum(0)])

        result = optimize.minimize(objective, np.zeros(d * k + k), jac=True, method="L-BFGS-B",
                                   options={"maxiter": self.max_iter})
        self.coef_ = result.x[: d * k].reshape(d, k)
        self.intercept_ = result.x[d * k:]
        self.loss_ = float(result.fun)
        return self

    def predict_proba(self, features):
        x, _ = _check(features, np.zeros(len(features), np.int64), "probe inputs")
        return special.softmax(self._standardize(x) @ self.coef_ + self.intercept_, axis=1)

    def predict(self, features):
        return self.predict_proba(features).argmax(1)

    def score(self, features, labels):
        """Accuracy on (features, labels)."""
        _, y = _check(features, labels, "probe test data")
        return float(np.mean(self.predict(features) == y))


def linear_probe_accuracy(train_features, train_labels, test_features, test_labels, l2=1e-3, max_iter=500):
    """Test accuracy of a `LogisticProbe` fitted on the training features."""
    probe = LogisticProbe(l2=l2, max_iter=max_iter).fit(train_features, train_labels)
    return probe.score(test_features, test_labels)


def random_projection(features, dim, seed=0):
    """Features projected on `dim` random Gaussian directions (the baseline of equal size).

    Formula: `x R / sqrt(dim)`, R `[d, dim]` with N(0, 1) entries (Johnson-Lindenstrauss).
    """
    x = np.asarray(features, dtype=np.float64).reshape(len(features), -1)
    r = np.random.RandomState(seed).normal(size=(x.shape[1], int(dim)))
    return x @ r / np.sqrt(int(dim))
