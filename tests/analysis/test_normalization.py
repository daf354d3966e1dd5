"""Feature and batch normalisation against independent computations (scikit-learn, NumPy,
closed forms) and Keras's BatchNormalization against the notes' formulas."""
import keras
import numpy as np
import pytest

from keras_gen.analysis.normalization import (batch_norm, condition_number, gradient_descent_least_squares,
                                              ioffe_szegedy_mlp, least_squares_hessian, moving_average, standardize,
                                              with_bias_column)
from keras_gen.errors import KerasGenError


def test_standardize_equals_scikit_learns_scaler_fitted_on_train():
    from sklearn.preprocessing import StandardScaler

    rng = np.random.default_rng(0)
    train, test = rng.normal(5, [1, 100, 0.01], (50, 3)), rng.normal(5, [1, 100, 0.01], (20, 3))
    tr, te, mean, sigma = standardize(train, test)
    scaler = StandardScaler().fit(train)
    np.testing.assert_allclose(tr, scaler.transform(train), atol=1e-12)
    np.testing.assert_allclose(te, scaler.transform(test), atol=1e-12)
    np.testing.assert_allclose(mean, scaler.mean_) and np.testing.assert_allclose(sigma, scaler.scale_)
    with pytest.raises(KerasGenError, match=r"columns \[1\] are constant"):
        standardize(np.c_[train[:, 0], np.ones(50)])


def test_condition_number_of_the_least_squares_hessian_is_the_squared_condition_of_x():
    rng = np.random.default_rng(1)
    x = with_bias_column(rng.normal(0, [1, 30, 0.1], (40, 3)))
    assert condition_number(least_squares_hessian(x)) == pytest.approx(np.linalg.cond(x) ** 2, rel=1e-8)
    assert condition_number(np.diag([4.0, 2.0, 0.5])) == 8.0
    assert condition_number(np.diag([1.0, 0.0])) == float("inf")


def test_gradient_descent_steps_match_the_closed_form_on_a_diagonal_problem():
    # H = diag(lam): error along axis i shrinks by (1 - lam_i / L) per step, from w = 0 to w* = 1,
    # so the relative gap after t steps is sum lam_i (1 - lam_i/L)^(2t) / sum lam_i.
    lam = np.array([5.0, 1.0, 0.2, 0.05])
    n = len(lam)
    x = np.sqrt(n) * np.diag(np.sqrt(lam))
    y = x @ np.ones(n)
    tol = 1e-4
    gap = lambda t: np.sum(lam * (1 - lam / lam.max()) ** (2 * t)) / lam.sum()  # noqa: E731
    expected = next(t for t in range(1, 10_000) if gap(t) <= tol)
    result = gradient_descent_least_squares(x, y, tol=tol)
    assert result["steps"] == expected
    assert result["learning_rate"] == pytest.approx(1 / lam.max())
    np.testing.assert_allclose(result["gap"][:50], [gap(t) for t in range(50)], rtol=1e-9)
    assert gradient_descent_least_squares(x, y, tol=tol, max_steps=expected - 1)["steps"] is None
    # the slowest direction sets the pace: about kappa log(1/tol) steps
    assert expected <= condition_number(np.diag(lam)) * np.log(1 / tol)


def test_keras_batch_normalization_is_the_notes_formula_in_both_modes():
    rng = np.random.default_rng(2)
    x = rng.normal(3.0, 2.0, (16, 5)).astype("float32")
    layer = keras.layers.BatchNormalization(momentum=0.9, epsilon=1e-3)
    layer.build((None, 5))
    gamma, beta = rng.normal(1, 0.3, 5), rng.normal(0, 1, 5)
    mean, var = rng.normal(0, 1, 5), rng.uniform(0.5, 2, 5)
    layer.set_weights([g.astype("float32") for g in (gamma, beta, mean, var)])
    # inference: the moving averages
    np.testing.assert_allclose(layer(x, training=False), batch_norm(x, gamma, beta, 1e-3, mean, var), atol=1e-5)
    # training: the batch's mean and biased variance, and one step of the moving averages
    np.testing.assert_allclose(layer(x, training=True), batch_norm(x, gamma, beta, 1e-3), atol=1e-5)
    np.testing.assert_allclose(layer.moving_mean.numpy(), moving_average([x.mean(0)], 0.9, mean)[0], atol=1e-6)
    np.testing.assert_allclose(layer.moving_variance.numpy(), moving_average([x.var(0)], 0.9, var)[0], atol=1e-6)


def test_a_batch_of_one_in_training_mode_outputs_beta():
    rng = np.random.default_rng(3)
    layer = keras.layers.BatchNormalization()
    layer.build((None, 4))
    beta = rng.normal(0, 1, 4).astype("float32")
    layer.set_weights([rng.normal(1, 0.5, 4).astype("float32"), beta, np.zeros(4, "float32"), np.ones(4, "float32")])
    one = rng.normal(0, 3, (1, 4)).astype("float32")
    # (x - x) / sqrt(0 + eps) = 0; Keras computes x * inv + (beta - mean * inv): float32 rounding only
    np.testing.assert_allclose(layer(one, training=True).numpy()[0], beta, rtol=0, atol=1e-5)
    assert np.abs(layer(one, training=False).numpy()[0] - beta).min() > 1e-3  # inference: moving averages


def test_moving_averages_after_sgd_steps_follow_the_recursion():
    # Three SGD steps of the figure-1 network: each BN layer's moving mean/variance equals the
    # notes' recursion applied to the batch statistics a NumPy forward pass computes.
    rng = np.random.default_rng(4)
    model = ioffe_szegedy_mlp(hidden=(6, 5, 4), inputs=8, classes=3, momentum=0.8, init_std=0.5, seed=4)
    model.compile(keras.optimizers.SGD(0.5), keras.losses.SparseCategoricalCrossentropy(from_logits=True))
    stats = {i: ([], []) for i in (1, 2, 3)}
    for _ in range(3):
        x, y = rng.normal(size=(10, 8)), rng.integers(0, 3, 10)
        h = x
        for i in (1, 2, 3):
            z = h @ model.get_layer(f"dense_{i}").get_weights()[0]
            stats[i][0].append(z.mean(0))
            stats[i][1].append(z.var(0))
            gamma, beta = model.get_layer(f"bn_{i}").get_weights()[:2]
            h = 1 / (1 + np.exp(-batch_norm(z, gamma, beta, 1e-3)))
        model.train_on_batch(x.astype("float32"), y)
    for i in (1, 2, 3):
        bn = model.get_layer(f"bn_{i}")
        k = bn.moving_mean.shape[0]
        np.testing.assert_allclose(bn.moving_mean.numpy(), moving_average(stats[i][0], 0.8, np.zeros(k))[-1], atol=1e-5)
        np.testing.assert_allclose(bn.moving_variance.numpy(), moving_average(stats[i][1], 0.8, np.ones(k))[-1],
                                   atol=1e-5)


def test_ioffe_szegedy_mlp_layers_init_and_saving(tmp_path):
    bn = ioffe_szegedy_mlp(seed=0)
    plain = ioffe_szegedy_mlp(batch_norm=False, seed=0)
    assert [l.name for l in bn.layers][1:4] == ["dense_1", "bn_1", "sigmoid_1"]
    assert bn.get_layer("dense_1").use_bias is False and plain.get_layer("dense_1").use_bias is True
    assert np.std(plain.get_layer("dense_1").get_weights()[0]) == pytest.approx(0.01, rel=0.02)
    # 784*100 + 100*100*2 + 100*10 + 10 weights; BN adds 4 per unit, the plain net 1 bias per unit
    assert bn.count_params() == 784 * 100 + 2 * 100 * 100 + 1010 + 3 * 400
    assert plain.count_params() == 784 * 100 + 2 * 100 * 100 + 1010 + 300
    path = tmp_path / "bn.keras"
    bn.save(path)
    x = np.random.default_rng(5).uniform(size=(4, 784)).astype("float32")
    np.testing.assert_allclose(keras.models.load_model(path)(x), bn(x), atol=1e-6)
    assert keras.Model.from_config(bn.get_config()).count_params() == bn.count_params()
