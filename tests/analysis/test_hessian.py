"""keras_gen.analysis.hessian against closed forms and finite differences (float64)."""
import keras
import numpy as np
import pytest
import tensorflow as tf

from keras_gen.analysis import hessian as H
from keras_gen.errors import KerasGenError


def _quadratic(eigenvalues, seed=0):
    """L = theta^T A theta / 2 + b^T theta with A = Q diag(eigenvalues) Q^T (Q random orthogonal)."""
    rng = np.random.default_rng(seed)
    n = len(eigenvalues)
    q, _ = np.linalg.qr(rng.standard_normal((n, n)))
    a = q @ np.diag(eigenvalues) @ q.T
    b = rng.standard_normal(n)
    theta = tf.Variable(rng.standard_normal(n), dtype=tf.float64)
    a_t, b_t = tf.constant(a), tf.constant(b)

    def loss_fn():
        return 0.5 * tf.tensordot(theta, tf.linalg.matvec(a_t, theta), 1) + tf.tensordot(b_t, theta, 1)

    return a, theta, loss_fn


def test_toy_saddle_matches_the_lecture():
    # L = (y - w1 w2 x)^2 with x = y = 1 (lecture 3).
    w = tf.Variable([0.0, 0.0], dtype=tf.float64)

    def loss_fn():
        return (1.0 - w[0] * w[1] * 1.0) ** 2

    np.testing.assert_allclose(H.gradient(loss_fn, [w]).numpy(), [0.0, 0.0], atol=1e-12)
    h = H.hessian_matrix(loss_fn, [w]).numpy()
    np.testing.assert_allclose(h, [[0.0, -2.0], [-2.0, 0.0]], atol=1e-12)
    np.testing.assert_allclose(np.linalg.eigvalsh(h), [-2.0, 2.0], atol=1e-12)
    assert H.classify_critical_point(h) == "saddle"
    u, lam = H.escape_direction(h)
    assert lam == pytest.approx(-2.0, abs=1e-12)
    np.testing.assert_allclose(np.abs(u), [2**-0.5, 2**-0.5], atol=1e-12)
    assert u[0] * u[1] > 0  # along (1, 1) or (-1, -1)
    # Away from the origin: [[2 w2^2, 4 w1 w2 - 2], [4 w1 w2 - 2, 2 w1^2]].
    w.assign([0.3, -1.7])
    w1, w2 = 0.3, -1.7
    np.testing.assert_allclose(H.hessian_matrix(loss_fn, [w]).numpy(),
                               [[2 * w2**2, 4 * w1 * w2 - 2], [4 * w1 * w2 - 2, 2 * w1**2]], atol=1e-12)
    np.testing.assert_allclose(H.gradient(loss_fn, [w]).numpy(),
                               [-2 * w2 * (1 - w1 * w2), -2 * w1 * (1 - w1 * w2)], atol=1e-12)


def test_hessian_hvp_and_eigenvalues_of_a_quadratic_form():
    eig = np.array([5.0, 3.0, 1.0, 0.5, -0.25, -2.0])
    a, theta, loss_fn = _quadratic(eig)
    np.testing.assert_allclose(H.hessian_matrix(loss_fn, [theta]).numpy(), a, atol=1e-12)
    v = np.random.default_rng(1).standard_normal(len(eig))
    hvp = H.make_hvp(loss_fn, [theta])
    np.testing.assert_allclose(hvp(tf.constant(v)).numpy(), a @ v, atol=1e-12)
    np.testing.assert_allclose(H.hessian_vector_product(loss_fn, [theta], v).numpy(), a @ v, atol=1e-12)
    top = H.power_iteration(hvp, dim=len(eig), iterations=2000, tol=1e-10)
    assert top.eigenvalue == pytest.approx(5.0, abs=1e-6)
    assert top.residual <= 1e-9
    np.testing.assert_allclose(a @ top.eigenvector, 5.0 * top.eigenvector, atol=1e-8)
    values, _ = H.lanczos_eigenvalues(hvp, len(eig), k=2, which="LA")
    np.testing.assert_allclose(values, [3.0, 5.0], atol=1e-6)
    values, _ = H.lanczos_eigenvalues(hvp, len(eig), k=1, which="SA")
    np.testing.assert_allclose(values, [-2.0], atol=1e-6)


def test_largest_eigenvalue_shifts_past_a_dominant_negative_one():
    eig = np.array([-6.0, -1.0, 0.5, 2.0])
    a, theta, loss_fn = _quadratic(eig, seed=3)
    hvp = H.make_hvp(loss_fn, [theta])
    dominant = H.power_iteration(hvp, dim=4, iterations=2000, tol=1e-10)
    assert dominant.eigenvalue == pytest.approx(-6.0, abs=1e-6)  # largest in magnitude
    largest = H.largest_eigenvalue(hvp, dim=4, iterations=2000, tol=1e-10)
    assert largest.eigenvalue == pytest.approx(2.0, abs=1e-6)  # largest algebraically


def test_power_iteration_fails_to_converge_without_a_dominant_eigenvalue():
    # The toy's +-2: no dominant eigenvalue, the Rayleigh quotient is not an eigenvalue.
    h = np.array([[0.0, -2.0], [-2.0, 0.0]])
    res = H.power_iteration(lambda v: h @ np.asarray(v), v0=[1.0, 0.3], iterations=50, tol=1e-8)
    assert res.iterations == 50 and res.residual > 0.1


def test_least_squares_hessian_is_two_xtx_over_n():
    rng = np.random.default_rng(0)
    n, d = 40, 5
    x = rng.standard_normal((n, d))
    y = rng.standard_normal((n, 1))
    model = keras.Sequential([keras.Input((d,), dtype="float64"), keras.layers.Dense(1, dtype="float64")])
    loss_fn = H.model_loss_fn(model, "mse", x, y)
    xa = np.concatenate([x, np.ones((n, 1))], axis=1)  # kernel rows, then the bias
    expected = 2.0 * xa.T @ xa / n
    np.testing.assert_allclose(H.hessian_matrix(loss_fn, model.trainable_variables).numpy(), expected, atol=1e-12)
    top = np.linalg.eigvalsh(expected)[-1]
    res = H.sharpness(model, "mse", x, y, iterations=1000, tol=1e-9)
    assert res.eigenvalue == pytest.approx(top, rel=1e-6)


def test_hvp_of_a_network_matches_finite_differences_of_the_gradient():
    rng = np.random.default_rng(0)
    keras.utils.set_random_seed(0)
    model = keras.Sequential([keras.Input((3,), dtype="float64"),
                              keras.layers.Dense(4, activation="tanh", dtype="float64"),
                              keras.layers.Dense(2, dtype="float64")])
    x, y = rng.standard_normal((16, 3)), rng.standard_normal((16, 2))
    variables = model.trainable_variables
    loss_fn = H.model_loss_fn(model, "mse", x, y)
    n = H.num_parameters(variables)
    assert n == 3 * 4 + 4 + 4 * 2 + 2
    v = rng.standard_normal(n)
    theta = H.flatten(variables).numpy()

    def grad_at(t):
        for var, part in zip(variables, H.unflatten(tf.constant(t), variables)):
            var.assign(part)
        return H.gradient(loss_fn, variables).numpy()

    eps = 1e-5
    fd = (grad_at(theta + eps * v) - grad_at(theta - eps * v)) / (2 * eps)  # first-order gradients only
    grad_at(theta)
    np.testing.assert_allclose(H.make_hvp(loss_fn, variables)(tf.constant(v)).numpy(), fd, atol=1e-7)
    full = H.hessian_matrix(loss_fn, variables).numpy()
    np.testing.assert_allclose(full, full.T, atol=1e-12)
    np.testing.assert_allclose(full @ v, fd, atol=1e-7)


def test_flatten_unflatten_round_trip():
    parts = [tf.reshape(tf.range(6.0), (2, 3)), tf.constant([7.0]), tf.zeros((1, 2, 2))]
    flat = H.flatten(parts)
    assert flat.shape == (11,)
    for a, b in zip(H.unflatten(flat, parts), parts):
        np.testing.assert_array_equal(a.numpy(), b.numpy())


def test_classify_critical_point():
    assert H.classify_critical_point(np.diag([1.0, 2.0])) == "minimum"
    assert H.classify_critical_point(np.diag([-1.0, -2.0])) == "maximum"
    assert H.classify_critical_point(np.diag([-1.0, 2.0])) == "saddle"
    assert H.classify_critical_point(np.diag([0.0, 2.0])) == "degenerate"
    u, lam = H.escape_direction(np.diag([3.0, 1.0]))
    assert lam == 1.0  # no negative curvature: no second-order way down


def test_sharpness_tracker_records_during_fit():
    # A linear least-squares model has a constant Hessian: every measurement is its top eigenvalue.
    rng = np.random.default_rng(0)
    x = rng.standard_normal((64, 4)).astype("float32")
    y = rng.standard_normal((64, 2)).astype("float32")
    keras.utils.set_random_seed(0)
    model = keras.Sequential([keras.Input((4,)), keras.layers.Dense(2)])
    model.compile(optimizer=keras.optimizers.SGD(0.05), loss="mse")
    tracker = H.SharpnessTracker(x, y, "mse", every=3, iterations=300, tol=1e-6)
    model.fit(x, y, batch_size=16, epochs=2, verbose=0, shuffle=False, callbacks=[tracker])
    steps = [s for s, _, _ in tracker.history]
    assert steps == [0, 3, 6]  # start, then every 3 of the 8 batches
    xa = np.concatenate([x, np.ones((64, 1))], axis=1).astype(np.float64)
    top = np.linalg.eigvalsh(2.0 * xa.T @ xa / 64 / 2)[-1]  # "mse" also averages over the 2 outputs
    for _, sharp, loss in tracker.history:
        assert sharp == pytest.approx(top, rel=1e-4)
        assert np.isfinite(loss)
    assert tracker.history[-1][2] < tracker.history[0][2]  # the loss it records is the training loss
    v = tracker.eigenvector  # a unit eigenvector of the top eigenvalue (twice degenerate: one per output)
    h = H.hessian_matrix(H.model_loss_fn(model, "mse", x, y), model.trainable_variables).numpy()
    assert np.linalg.norm(v) == pytest.approx(1.0)
    np.testing.assert_allclose(h @ v, top * v, atol=1e-3)
    with pytest.raises(KerasGenError, match="every"):
        H.SharpnessTracker(x, y, every=0)


def test_bad_inputs_name_the_problem():
    with pytest.raises(KerasGenError, match="needs dim or v0"):
        H.power_iteration(lambda v: v)
    with pytest.raises(KerasGenError, match="non-zero"):
        H.power_iteration(lambda v: v, v0=[0.0, 0.0])
    with pytest.raises(KerasGenError, match="non-finite"):
        H.power_iteration(lambda v: np.full(2, np.nan), dim=2)
    with pytest.raises(KerasGenError, match="1 <= k < dim"):
        H.lanczos_eigenvalues(lambda v: v, dim=3, k=3)
    with pytest.raises(KerasGenError, match="no variables"):
        H.hessian_matrix(lambda: tf.constant(1.0), [])
