"""Second-order analysis of a loss: the exact Hessian, Hessian-vector products, sharpness.

Lecture 3 of the notes (002) classifies a point where the gradient vanishes by the
second-order Taylor expansion of the loss around it:

    L(theta) ~ L(theta') + (theta - theta')^T g + 1/2 (theta - theta')^T H (theta - theta')

With g = 0, the Hessian H decides: all eigenvalues positive -> a local minimum, all
negative -> a local maximum, both signs -> a saddle point, which is left along an
eigenvector u of a negative eigenvalue lambda (L(theta' + s u) ~ L(theta') + s^2 lambda / 2
decreases). This module computes what that needs for any TensorFlow/Keras loss:

* `hessian_matrix(loss_fn, variables)`: the exact [n, n] matrix by nested `tf.GradientTape`s
  (for small n: toys, a linear model, a few hundred weights);
* `make_hvp(loss_fn, variables)`: v -> H v without forming H (double back-propagation,
  about the cost of two gradients), so networks with many weights can be analysed;
* `power_iteration(matvec, ...)` and `lanczos_eigenvalues(matvec, ...)`: the largest
  eigenvalues from products alone; `sharpness(...)`, the largest Hessian eigenvalue
  of a model's loss on data, is what Cohen et al. (2021), "Gradient descent on neural
  networks typically occurs at the edge of stability", track over training;
* `classify_critical_point(h)` and `escape_direction(h)`: the lecture's rules;
* `SharpnessTracker`: a Keras callback recording the sharpness during `fit`.

Variables are flattened in the order given (each one row-major), so vectors and
matrices here are indexed like `flatten(variables)`.
"""
import collections

import keras
import numpy as np
import tensorflow as tf

from keras_gen.errors import KerasGenError

EigenResult = collections.namedtuple("EigenResult", ["eigenvalue", "eigenvector", "iterations", "residual"])
EigenResult.__doc__ = """An eigenpair found by `power_iteration`.

eigenvalue: the Rayleigh quotient v^T A v at the last unit vector v; eigenvector: v (NumPy);
iterations: matrix-vector products used; residual: ||A v - eigenvalue v|| (0 for an exact pair)."""


# ---------------------------------------------------------------- flat vectors
def flatten(tensors):
    """Concatenates tensors (or variables), each flattened row-major, into one vector."""
    return tf.concat([tf.reshape(t, [-1]) for t in tensors], axis=0)


def unflatten(vector, like):
    """Splits a flat `vector` into tensors shaped like the tensors or variables in `like`."""
    sizes = [int(np.prod(v.shape)) for v in like]
    parts = tf.split(vector, sizes)
    return [tf.reshape(p, v.shape) for p, v in zip(parts, like)]


def num_parameters(variables):
    """n: the length of `flatten(variables)`."""
    return int(sum(int(np.prod(v.shape)) for v in variables))


def _check_variables(variables):
    variables = list(variables)
    if not variables:
        raise KerasGenError("no variables to differentiate with respect to")
    return variables


def _gradients(loss_fn, variables):
    with tf.GradientTape() as tape:
        loss = loss_fn()
    grads = tape.gradient(loss, variables, unconnected_gradients=tf.UnconnectedGradients.ZERO)
    return loss, grads


# ---------------------------------------------------------------- exact Hessian
def gradient(loss_fn, variables):
    """The flat gradient g = dL/dtheta of `loss_fn()` (a scalar) at the current variables."""
    variables = _check_variables(variables)
    _, grads = _gradients(loss_fn, variables)
    return flatten(grads)


def hessian_matrix(loss_fn, variables):
    """The exact Hessian H_ij = d^2 L / dtheta_i dtheta_j of `loss_fn()`, shape [n, n].

    Formula: H = d/dtheta (dL/dtheta)^T, the Jacobian of the gradient, computed by an
    outer `tf.GradientTape` around the inner tape that gives the gradient. Memory and
    time grow as n^2: meant for small parameter counts; use `make_hvp` otherwise.

    Args:
        loss_fn: a callable with no arguments returning the scalar loss; it must read
            `variables` (tf.Variables, e.g. `model.trainable_variables`).
        variables: the parameters theta, flattened in this order.

    Returns:
        A symmetric [n, n] tensor in the variables' dtype (float64 variables give an
        exact-to-rounding matrix).
    """
    variables = _check_variables(variables)
    with tf.GradientTape() as outer:
        _, grads = _gradients(loss_fn, variables)
        flat = flatten(grads)
    jac = outer.jacobian(flat, variables, unconnected_gradients=tf.UnconnectedGradients.ZERO)
    n = flat.shape[0]
    return tf.concat([tf.reshape(j, [n, -1]) for j in jac], axis=1)


def hessian_vector_product(loss_fn, variables, vector):
    """H v for a flat `vector` v, without forming H.

    Formula: H v = d/dtheta (g(theta)^T v) with v held constant (Pearlmutter 1994),
    i.e. the gradient of the gradient's dot product with v: two backward passes.
    """
    variables = _check_variables(variables)
    vector = tf.convert_to_tensor(vector, dtype=variables[0].dtype)
    pieces = unflatten(vector, variables)
    with tf.GradientTape() as outer:
        _, grads = _gradients(loss_fn, variables)
        dot = tf.add_n([tf.reduce_sum(g * tf.cast(p, g.dtype)) for g, p in zip(grads, pieces)])
    hv = outer.gradient(dot, variables, unconnected_gradients=tf.UnconnectedGradients.ZERO)
    return flatten(hv)


def make_hvp(loss_fn, variables, jit_compile=False):
    """A compiled `v -> H v` (a `tf.function` of one flat vector) for repeated products.

    `loss_fn` is traced once, so it must read the variables' current values (not
    Python copies of them): the product is always taken at the current weights.
    """
    variables = _check_variables(variables)
    n = num_parameters(variables)

    @tf.function(input_signature=[tf.TensorSpec([n], variables[0].dtype)], jit_compile=jit_compile)
    def hvp(v):
        return hessian_vector_product(loss_fn, variables, v)

    return hvp


# ---------------------------------------------------------------- eigenvalues
def power_iteration(matvec, dim=None, v0=None, iterations=200, tol=1e-6, seed=0, dtype="float64"):
    """The dominant eigenpair (largest |eigenvalue|) of a symmetric operator by power iteration.

    Formula: v_{k+1} = A v_k / ||A v_k||, eigenvalue = v_k^T A v_k (the Rayleigh quotient);
    stops when the residual ||A v_k - lambda_k v_k|| <= tol * |lambda_k|. The error of the
    eigenvalue then is at most of the order tol^2 |lambda| for a symmetric A. Converges
    geometrically with ratio |lambda_2 / lambda_1|; when two eigenvalues of opposite sign
    share the largest magnitude (the lecture's toy: +-2) there is no dominant one and it
    does not converge -- use the exact Hessian and `numpy.linalg.eigh` there.

    Args:
        matvec: v -> A v on flat vectors (NumPy or tensors), e.g. `make_hvp(...)`.
        dim: n, when no `v0` is given.
        v0: the start vector (e.g. the last eigenvector, to warm-start a tracker);
            default: a seeded random normal vector.
        iterations: the most products to use.
        tol: the relative residual at which to stop.

    Returns:
        `EigenResult(eigenvalue, eigenvector, iterations, residual)`.
    """
    if v0 is None:
        if dim is None:
            raise KerasGenError("power_iteration needs dim or v0")
        v0 = np.random.default_rng(seed).standard_normal(int(dim))
    v = np.asarray(v0, dtype=np.float64).reshape(-1)
    norm = np.linalg.norm(v)
    if not np.isfinite(norm) or norm == 0:
        raise KerasGenError("power_iteration: the start vector must be finite and non-zero")
    v = v / norm
    eig, residual = 0.0, np.inf
    for k in range(1, int(iterations) + 1):
        w = np.asarray(matvec(tf.constant(v, dtype=dtype)), dtype=np.float64)
        eig = float(v @ w)
        residual = float(np.linalg.norm(w - eig * v))
        w_norm = np.linalg.norm(w)
        if not np.isfinite(w_norm):
            raise KerasGenError("power_iteration: the operator returned a non-finite vector (NaN loss?)")
        if w_norm == 0:
            return EigenResult(0.0, v, k, 0.0)  # A v = 0: v is an eigenvector of eigenvalue 0
        if residual <= tol * abs(eig):
            return EigenResult(eig, v, k, residual)
        v = w / w_norm
    return EigenResult(eig, v, int(iterations), residual)


def largest_eigenvalue(matvec, dim=None, v0=None, iterations=200, tol=1e-6, seed=0, dtype="float64"):
    """The largest (most positive) eigenvalue of a symmetric operator, by power iteration.

    Power iteration finds the eigenvalue of largest magnitude mu. If mu < 0, every
    eigenvalue of A - mu I is >= 0 and its dominant one is lambda_max - mu, so a second
    power iteration on the shifted operator gives lambda_max.
    """
    first = power_iteration(matvec, dim, v0, iterations, tol, seed, dtype)
    if first.eigenvalue >= 0:
        return first
    mu = first.eigenvalue

    def shifted(v):
        return np.asarray(matvec(v), dtype=np.float64) - mu * np.asarray(v, dtype=np.float64)

    second = power_iteration(shifted, len(first.eigenvector), None, iterations, tol, seed + 1, dtype)
    return EigenResult(second.eigenvalue + mu, second.eigenvector, first.iterations + second.iterations,
                       second.residual)


def lanczos_eigenvalues(matvec, dim, k=1, which="LA", tol=0.0, dtype="float64", seed=0):
    """The k extreme eigenvalues of a symmetric operator by the Lanczos method (ARPACK).

    `scipy.sparse.linalg.eigsh` on a `LinearOperator` wrapping `matvec`: `which="LA"`
    gives the largest (algebraic), `"SA"` the smallest, `"LM"` the largest in magnitude.
    Converges in fewer products than power iteration when the top eigenvalues are close.

    Returns:
        The eigenvalues (ascending, NumPy) and their eigenvectors as columns.
    """
    from scipy.sparse.linalg import LinearOperator, eigsh

    dim = int(dim)
    if not 1 <= k < dim:
        raise KerasGenError(f"lanczos_eigenvalues needs 1 <= k < dim, got k={k}, dim={dim}")

    def mv(v):
        return np.asarray(matvec(tf.constant(np.asarray(v).reshape(-1), dtype=dtype)), dtype=np.float64)

    op = LinearOperator((dim, dim), matvec=mv, dtype=np.float64)
    v0 = np.random.default_rng(seed).standard_normal(dim)
    values, vectors = eigsh(op, k=k, which=which, tol=tol, v0=v0)
    order = np.argsort(values)
    return values[order], vectors[:, order]


# ---------------------------------------------------------------- the lecture's rules
def classify_critical_point(h, tol=1e-8):
    """"minimum", "maximum", "saddle" or "degenerate" for a Hessian `h` at a zero gradient.

    Lecture 3: H positive definite (all eigenvalues > 0) -> local minimum; negative
    definite -> local maximum; eigenvalues of both signs -> saddle point. With a zero
    eigenvalue (|lambda| <= tol * max |lambda|) and no sign change, second order cannot
    decide: "degenerate".
    """
    eig = np.linalg.eigvalsh(np.asarray(h, dtype=np.float64))
    scale = max(float(np.max(np.abs(eig))), 1e-300)
    pos, neg = np.any(eig > tol * scale), np.any(eig < -tol * scale)
    if pos and neg:
        return "saddle"
    if np.any(np.abs(eig) <= tol * scale):
        return "degenerate"
    return "minimum" if pos else "maximum"


def escape_direction(h):
    """The unit eigenvector u of the most negative eigenvalue lambda of `h`, and lambda.

    Lecture 3: at a saddle (g = 0) the loss along theta' + s u is L(theta') + s^2 lambda / 2
    to second order, lower on both sides; this is the "most expensive" way out the
    notes name, since it needs H's eigenvectors. Returns (u, lambda); lambda >= 0 means
    there is no descent direction of second order.
    """
    eig, vecs = np.linalg.eigh(np.asarray(h, dtype=np.float64))
    return vecs[:, 0], float(eig[0])


# ---------------------------------------------------------------- models
def model_loss_fn(model, loss, x, y, training=False):
    """A `loss_fn` for the functions above: the mean `loss(y, model(x))` over all of (x, y).

    `loss` is a Keras loss (name, function or `keras.losses.Loss`) reduced to the mean
    over examples. The model runs in inference mode by default (dropout off, batch
    norm on its moving statistics), so the loss is a fixed function of the weights.
    """
    loss_obj = keras.losses.get(loss) if isinstance(loss, str) else loss
    x = tf.convert_to_tensor(x)
    y = tf.convert_to_tensor(y)

    def loss_fn():
        value = loss_obj(y, model(x, training=training))
        return tf.reduce_mean(value)

    return loss_fn


def sharpness(model, loss, x, y, iterations=100, tol=1e-4, v0=None, seed=0):
    """The largest eigenvalue of the Hessian of `model`'s mean loss on (x, y) w.r.t. its trainable weights.

    The "sharpness" of Cohen et al. (2021): gradient descent at step size eta is stable
    on a quadratic only while it is below 2/eta. Computed by `largest_eigenvalue` on
    Hessian-vector products (float32 models give about 1e-4 relative precision).

    Returns:
        `EigenResult` (pass its eigenvector as `v0` next time to start warm).
    """
    variables = model.trainable_variables
    hvp = make_hvp(model_loss_fn(model, loss, x, y), variables)
    return largest_eigenvalue(hvp, num_parameters(variables), v0=v0, iterations=iterations, tol=tol, seed=seed,
                              dtype=variables[0].dtype)


class SharpnessTracker(keras.callbacks.Callback):
    """Records the sharpness (largest Hessian eigenvalue of the loss on fixed data) during `fit`.

    Every `every` training batches (and at the start of training) it runs a warm-started
    power iteration on Hessian-vector products of `loss(y, model(x))` and appends
    `(step, sharpness, loss)` to `self.history` -- the curve of Cohen et al. (2021)
    figure 1, where full-batch gradient descent's sharpness rises to 2/eta and hovers there.

    Args:
        x, y: the data whose loss is analysed (usually the whole training set).
        loss: a Keras loss (name or object), e.g. `"mse"`.
        every: batches between measurements.
        iterations, tol: the power iteration's budget and relative-residual stop.

    Like Keras's own callbacks it holds data and is not saved with a model, so it has
    no config to serialise.
    """

    def __init__(self, x, y, loss="mse", every=10, iterations=50, tol=1e-3, seed=0):
        super().__init__()
        if int(every) < 1 or int(iterations) < 1:
            raise KerasGenError(f"SharpnessTracker needs every >= 1 and iterations >= 1, got {every}, {iterations}")
        self.x, self.y = x, y
        self.loss = loss
        self.every = int(every)
        self.iterations = int(iterations)
        self.tol = float(tol)
        self.seed = int(seed)
        self.history = []
        self._step = 0
        self._hvp = None
        self._loss_fn = None
        self._v = None

    def measure(self):
        """Measures now; returns (sharpness, loss) and appends them to `history`."""
        if self._hvp is None:
            self._loss_fn = model_loss_fn(self.model, self.loss, self.x, self.y)
            self._hvp = make_hvp(self._loss_fn, self.model.trainable_variables)
        n = num_parameters(self.model.trainable_variables)
        res = largest_eigenvalue(self._hvp, n, v0=self._v, iterations=self.iterations, tol=self.tol,
                                 seed=self.seed, dtype=self.model.trainable_variables[0].dtype)
        self._v = res.eigenvector
        loss = float(self._loss_fn())
        self.history.append((self._step, float(res.eigenvalue), loss))
        return float(res.eigenvalue), loss

    @property
    def eigenvector(self):
        """The top eigenvector found by the last measurement (None before the first)."""
        return self._v

    def on_train_begin(self, logs=None):
        if not self.history:
            self.measure()

    def on_train_batch_end(self, batch, logs=None):
        self._step += 1
        if self._step % self.every == 0:
            self.measure()
