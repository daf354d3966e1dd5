"""Model bias, overfitting, mismatch and cross-validation (notes 002 lectures 1-2; T12).

The lecture's guide to a disappointing test loss:

* model bias: the model family cannot express the function: the *training* loss is
  already large (a straight line through a sine);
* overfitting: the training loss is small but the test loss large (a flexible model
  follows the noise of few points); constrain the model (fewer parameters or
  features, early stopping, regularisation) but not too much (back to model bias);
* mismatch: training and test data come from different distributions; unlike
  overfitting, more training data of the same kind does not help.

N-fold cross-validation picks the model: split the training set into N equal parts,
train on N - 1 and validate on the one left out, each part in turn; choose the model
with the lowest mean validation loss, then look at the test set once.

Epoch vs update: one update per batch, one epoch per pass over the data, so an epoch of
N examples in batches of B is `ceil(N / B)` updates (the last batch smaller), or
`floor(N / B)` when incomplete batches are dropped.

Polynomials are fitted by least squares in the Legendre basis on the training interval
(the monomials 1, x, ..., x^15 make a badly conditioned design matrix; the fitted
function is the same polynomial).
"""
import math

import numpy as np

from keras_gen.errors import KerasGenError


def steps_per_epoch(n, batch_size, drop_remainder=False):
    """Updates in one epoch of `n` examples: `ceil(n / B)`, or `floor(n / B)` dropping the remainder."""
    if n < 0 or batch_size < 1:
        raise KerasGenError(f"need n >= 0 and batch_size >= 1, got n={n}, batch_size={batch_size}")
    return n // batch_size if drop_remainder else math.ceil(n / batch_size)


def polynomial_features(x, degree, interval=(0.0, 1.0)):
    """Legendre polynomials P_0..P_degree of x mapped from `interval` to [-1, 1]: `[n, degree + 1]`."""
    lo, hi = interval
    t = 2.0 * (np.asarray(x, dtype=np.float64) - lo) / (hi - lo) - 1.0
    return np.polynomial.legendre.legvander(t, degree)


def fit_polynomial(x, y, degree, interval=(0.0, 1.0)):
    """Least-squares polynomial of `degree` through (x, y): returns its Legendre coefficients.

    Formula: `argmin_c ||Phi(x) c - y||^2` with Phi the Legendre features (minimum-norm
    solution when there are more coefficients than points).
    """
    return np.linalg.lstsq(polynomial_features(x, degree, interval), np.asarray(y, dtype=np.float64), rcond=None)[0]


def predict_polynomial(coef, x, interval=(0.0, 1.0)):
    """The polynomial with Legendre coefficients `coef` at x."""
    return polynomial_features(x, len(coef) - 1, interval) @ coef


def mse(y, y_hat):
    """Mean squared error `mean (y - y_hat)^2`."""
    y, y_hat = np.asarray(y, dtype=np.float64), np.asarray(y_hat, dtype=np.float64)
    return float(np.mean((y - y_hat) ** 2))


def k_fold_indices(n, k):
    """The notes' N-fold split of indices 0..n-1 into k contiguous parts (sizes differ by at most 1,
    the larger first): a list of `(train_indices, validation_indices)`, each part validating once.
    Shuffle the data first if its order means anything."""
    if not 2 <= k <= n:
        raise KerasGenError(f"k-fold cross-validation needs 2 <= k <= n, got k={k}, n={n}")
    sizes = [n // k + (1 if i < n % k else 0) for i in range(k)]
    folds, start = [], 0
    for size in sizes:
        val = np.arange(start, start + size)
        folds.append((np.concatenate([np.arange(0, start), np.arange(start + size, n)]), val))
        start += size
    return folds


def cross_validation_mse(x, y, degree, k, interval=(0.0, 1.0)):
    """Mean validation MSE of a degree-`degree` polynomial over the k folds of `k_fold_indices`."""
    x, y = np.asarray(x), np.asarray(y)
    losses = []
    for train, val in k_fold_indices(len(x), k):
        coef = fit_polynomial(x[train], y[train], degree, interval)
        losses.append(mse(y[val], predict_polynomial(coef, x[val], interval)))
    return float(np.mean(losses))
