"""MMD² loss against a brute-force NumPy double loop; gradients; the multi-replica form."""
import textwrap

import numpy as np
import pytest
import tensorflow as tf

from keras_gen.errors import KerasGenError
from keras_gen.losses import mmd
from tests.helpers import run_fresh_python


def brute_force_mmd2(x, y, bandwidths, unbiased):
    """MMD² by explicit loops over pairs (Gretton et al. 2012, eqs. 2 and 3)."""

    def k(a, b):
        d2 = float(np.sum((a - b) ** 2))
        return sum(np.exp(-d2 / (2 * s * s)) for s in bandwidths)

    n, m = len(x), len(y)
    sxx = sum(k(x[i], x[j]) for i in range(n) for j in range(n) if not (unbiased and i == j))
    syy = sum(k(y[i], y[j]) for i in range(m) for j in range(m) if not (unbiased and i == j))
    sxy = sum(k(x[i], y[j]) for i in range(n) for j in range(m))
    if unbiased:
        return sxx / (n * (n - 1)) + syy / (m * (m - 1)) - 2 * sxy / (n * m)
    return sxx / n**2 + syy / m**2 - 2 * sxy / (n * m)


@pytest.mark.parametrize("unbiased", [False, True])
@pytest.mark.parametrize("bandwidths", [(1.0,), (0.3, 1.0, 3.0)])
def test_mmd2_matches_double_loop(unbiased, bandwidths):
    rng = np.random.default_rng(0)
    x = rng.normal(size=(9, 3))
    y = rng.normal(loc=0.5, size=(7, 3))
    got = float(mmd.mmd2(x, y, bandwidths, unbiased=unbiased))
    want = brute_force_mmd2(x, y, bandwidths, unbiased)
    np.testing.assert_allclose(got, want, rtol=1e-10)


def test_mmd2_properties():
    rng = np.random.default_rng(1)
    x = rng.normal(size=(50, 2)).astype(np.float32)
    # Same sample: exactly 0 (biased); images are flattened; 1-D input is n scalars.
    assert abs(float(mmd.mmd2(x, x))) < 1e-6
    imgs = rng.uniform(size=(6, 4, 4, 1))
    np.testing.assert_allclose(
        float(mmd.mmd2(imgs, imgs[::-1] * 0.5, (2.0,))),
        brute_force_mmd2(imgs.reshape(6, -1), imgs[::-1].reshape(6, -1) * 0.5, (2.0,), False),
        rtol=1e-10,
    )
    np.testing.assert_allclose(
        float(mmd.mmd2(x[:, 0], x[:, 1], (1.0,))),
        brute_force_mmd2(x[:, :1], x[:, 1:], (1.0,), False),
        rtol=1e-5,
    )
    # Far apart point masses: MMD² -> 2 * (number of kernels).
    far = float(mmd.mmd2(np.zeros((5, 2)), np.full((4, 2), 100.0), (1.0, 2.0)))
    np.testing.assert_allclose(far, 4.0, rtol=1e-12)
    with pytest.raises(KerasGenError, match="bandwidths"):
        mmd.mmd2(x, x, (0.0,))


def test_mmd2_gradient_matches_finite_differences():
    rng = np.random.default_rng(2)
    x = tf.constant(rng.normal(size=(6, 2)))
    y0 = rng.normal(size=(5, 2))
    y = tf.Variable(y0)
    with tf.GradientTape() as tape:
        value = mmd.mmd2(x, y, (0.5, 2.0))
    grad = tape.gradient(value, y).numpy()
    assert np.all(np.isfinite(grad))
    eps = 1e-6
    fd = np.zeros_like(y0)
    for i in range(5):
        for j in range(2):
            up, dn = y0.copy(), y0.copy()
            up[i, j] += eps
            dn[i, j] -= eps
            fd[i, j] = (brute_force_mmd2(x.numpy(), up, (0.5, 2.0), False)
                        - brute_force_mmd2(x.numpy(), dn, (0.5, 2.0), False)) / (2 * eps)
    np.testing.assert_allclose(grad, fd, rtol=1e-5, atol=1e-8)
    # Identical samples: gradient finite (the distance's sqrt is never taken) and zero.
    yv = tf.Variable(x.numpy())
    with tf.GradientTape() as tape:
        value = mmd.mmd2(x, yv)
    g = tape.gradient(value, yv).numpy()
    assert np.all(np.isfinite(g)) and np.abs(g).max() < 1e-10


def test_replica_mmd2_single_replica_is_mmd2():
    rng = np.random.default_rng(3)
    x, y = rng.normal(size=(8, 2)), rng.normal(size=(8, 2))
    loss, value = mmd.replica_mmd2(x, y, (1.0,))
    np.testing.assert_allclose(float(loss), float(mmd.mmd2(x, y, (1.0,))))
    np.testing.assert_allclose(float(value), float(loss))


_TWO_REPLICAS = textwrap.dedent(
    """
    import json
    from keras_gen.training.strategy import get_strategy, setup_logical_cpus
    setup_logical_cpus(2)
    import numpy as np
    import tensorflow as tf
    from keras_gen.losses import mmd

    rng = np.random.default_rng(4)
    x = rng.normal(size=(8, 2)).astype(np.float64)
    y0 = rng.normal(size=(8, 2)).astype(np.float64)
    strategy = get_strategy("mirrored")
    with strategy.scope():
        w = tf.Variable(np.ones((2,)), dtype=tf.float64)  # y = w * y0: a "generator"

    def step(xs, ys):
        with tf.GradientTape() as tape:
            loss, value = mmd.replica_mmd2(xs, w * ys, (0.5, 2.0))
        return tape.gradient(loss, w), value

    dist = strategy.experimental_distribute_dataset(
        tf.data.Dataset.from_tensor_slices((x, y0)).batch(8))
    xs, ys = next(iter(dist))
    grads, values = strategy.run(tf.function(step), args=(xs, ys))
    g = strategy.reduce(tf.distribute.ReduceOp.SUM, grads, axis=None)
    vals = [float(v) for v in strategy.experimental_local_results(values)]
    wv = tf.Variable(np.ones((2,)), dtype=tf.float64)
    with tf.GradientTape() as tape:
        ref = mmd.mmd2(x, wv * y0, (0.5, 2.0))
    print(json.dumps({"grad": g.numpy().tolist(), "ref_grad": tape.gradient(ref, wv).numpy().tolist(),
                      "values": vals, "ref": float(ref)}))
    """
)


@pytest.mark.slow
def test_replica_mmd2_two_replicas_equal_global_batch():
    r = run_fresh_python(_TWO_REPLICAS)
    # Each replica sees the global batch's MMD², and the summed gradients are its gradient.
    np.testing.assert_allclose(r["values"], [r["ref"]] * 2, rtol=1e-12)
    np.testing.assert_allclose(r["grad"], r["ref_grad"], rtol=1e-10)
