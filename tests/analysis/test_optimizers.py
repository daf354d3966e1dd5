"""The notes' optimiser rules against hand-computed steps, and Keras's optimizers against them.

Where Keras follows another formula than the notes (Adagrad, RMSprop, Adam), the test
checks Keras against its own formula written out and asserts the difference from the
notes' rule, with the numbers.
"""
import math

import keras
import numpy as np
import pytest

from keras_gen.analysis import optimizers as notes
from keras_gen.errors import KerasGenError
from keras_gen.training import WarmupDecay

THETA0 = np.array([0.5, -1.5, 2.0])
# Gradients of five steps, including a zero and sign changes.
GRADS = np.array([[0.2, -3.0, 0.01], [0.1, 1.0, 0.0], [-0.4, 2.0, 0.02], [0.3, -0.5, 0.05], [0.05, 0.7, -0.01]])


def _keras_steps(optimizer, grads=GRADS, theta0=THETA0):
    """Iterates of a Keras optimizer fed the fixed `grads` (float64 weights).

    Keras keeps the learning rate in a float32 variable and turns Python hyper-parameters
    (momentum, beta, epsilon) into float32 tensors before casting them to the weights'
    dtype, so its float64 path follows the formula with those numbers rounded to float32:
    agreement is to ~1e-7 relative (exact with dyadic values such as 0.125 and 0.875),
    while the differences from the notes asserted below are of order 1e-3 to 1.
    """
    var = keras.Variable(np.array(theta0, dtype=np.float64), dtype="float64")
    optimizer.build([var])
    path = [var.numpy().copy()]
    for g in grads:
        optimizer.apply([keras.ops.convert_to_tensor(g, dtype="float64")], [var])
        path.append(var.numpy().copy())
    return np.stack(path)


def _rule_steps(rule, grads=GRADS, theta0=THETA0):
    rule.reset()
    path, theta = [np.array(theta0, dtype=np.float64)], np.array(theta0, dtype=np.float64)
    for g in grads:
        theta = rule.step(theta, g)
        path.append(theta)
    return np.stack(path)


def test_notes_rules_one_step_by_hand():
    g = np.array([0.2, -3.0, 0.0])
    theta = np.array([1.0, 1.0, 1.0])
    np.testing.assert_allclose(notes.SGD(0.1).step(theta, g), [0.98, 1.3, 1.0])
    # Momentum: m1 = 0.9 * 0 - 0.1 g, theta1 = theta + m1; then m2 = 0.9 m1 - 0.1 g.
    mom = notes.Momentum(0.1, 0.9)
    t1 = mom.step(theta, g)
    np.testing.assert_allclose(t1, [0.98, 1.3, 1.0])
    np.testing.assert_allclose(mom.step(t1, g), t1 + 0.9 * np.array([-0.02, 0.3, 0.0]) - 0.1 * g)
    # Adagrad (notes): sigma^0 = |g^0|, so the first step is eta sign(g); a zero gradient does not move.
    ada = notes.Adagrad(0.1)
    t1 = ada.step(theta, g)
    np.testing.assert_allclose(t1, [0.9, 1.1, 1.0])
    g1 = np.array([0.4, 1.0, 0.0])
    sigma = np.sqrt((g**2 + g1**2) / 2)
    np.testing.assert_allclose(ada.step(t1, g1), t1 - 0.1 * np.divide(g1, sigma, out=np.zeros(3), where=sigma > 0))
    # RMSProp (notes): sigma^0 = |g^0|, then sigma^1 = sqrt(alpha sigma0^2 + (1 - alpha) g1^2).
    rms = notes.RMSProp(0.1, alpha=0.9)
    t1 = rms.step(theta, g)
    np.testing.assert_allclose(t1, [0.9, 1.1, 1.0])
    sigma = np.sqrt(0.9 * g**2 + 0.1 * g1**2)
    np.testing.assert_allclose(rms.step(t1, g1), t1 - 0.1 * np.divide(g1, sigma, out=np.zeros(3), where=sigma > 0))
    # Adam: m_hat = g and v_hat = g^2 after one step, so the step is eta g / (|g| + eps).
    adam = notes.Adam(0.1, epsilon=1e-8)
    np.testing.assert_allclose(adam.step(theta, g), theta - 0.1 * g / (np.abs(g) + 1e-8))


def test_keras_sgd_and_momentum_are_the_notes_rules():
    np.testing.assert_allclose(_keras_steps(keras.optimizers.SGD(0.125)), _rule_steps(notes.SGD(0.125)),
                               rtol=0, atol=1e-12)
    np.testing.assert_allclose(_keras_steps(keras.optimizers.SGD(0.125, momentum=0.875)),
                               _rule_steps(notes.Momentum(0.125, 0.875)), rtol=0, atol=1e-12)
    np.testing.assert_allclose(_keras_steps(keras.optimizers.SGD(0.1, momentum=0.9)),
                               _rule_steps(notes.Momentum(0.1, 0.9)), rtol=1e-6)


def test_keras_adagrad_differs_from_the_notes_as_stated():
    lr = 0.125
    keras_path = _keras_steps(keras.optimizers.Adagrad(lr))
    # Keras's own formula: accumulator starts at 0.1, sums, epsilon inside the root.
    np.testing.assert_allclose(keras_path, _rule_steps(notes.KerasAdagrad(lr)), rtol=1e-6)
    notes_path = _rule_steps(notes.Adagrad(lr))
    # First step: the notes move eta sign(g); Keras lr g / sqrt(0.1 + g^2 + 1e-7).
    g0 = GRADS[0]
    np.testing.assert_allclose(notes_path[1] - THETA0, -lr * np.sign(g0))
    keras_first = -lr * g0 / np.sqrt(0.1 + g0**2 + 1e-7)
    np.testing.assert_allclose(keras_path[1] - THETA0, keras_first, atol=1e-12)
    assert keras_first[0] / (notes_path[1] - THETA0)[0] == pytest.approx(0.5345, abs=1e-4)  # 0.2 / sqrt(0.14)
    # The other difference: a sum instead of a mean. Without the initial value and epsilon,
    # Keras's step at update t is the notes' divided by sqrt(t + 1).
    exact = notes.KerasAdagrad(lr, initial_accumulator_value=0.0, epsilon=0.0)
    kp, npath = _rule_steps(exact), notes_path
    for t in range(len(GRADS)):
        keras_step, notes_step = kp[t + 1] - kp[t], npath[t + 1] - npath[t]
        moving = np.abs(notes_step) > 0
        np.testing.assert_allclose(keras_step[moving] * math.sqrt(t + 1), notes_step[moving], rtol=1e-12)
    keras_zero_init = _keras_steps(keras.optimizers.Adagrad(lr, initial_accumulator_value=0.0, epsilon=1e-12))
    np.testing.assert_allclose(keras_zero_init, kp, atol=1e-5)  # Keras with a0 = 0 is that sum rule


def test_keras_rmsprop_differs_from_the_notes_as_stated():
    lr = 0.0625
    keras_path = _keras_steps(keras.optimizers.RMSprop(lr, rho=0.9))
    np.testing.assert_allclose(keras_path, _rule_steps(notes.KerasRMSprop(lr, rho=0.9)), rtol=1e-6)
    notes_path = _rule_steps(notes.RMSProp(lr, alpha=0.9))
    # Keras starts sigma^2 at 0, so its first step is lr / sqrt(1 - rho) = 3.16 lr per unit sign;
    # the notes start at |g0| and step lr.
    first_keras, first_notes = keras_path[1] - THETA0, notes_path[1] - THETA0
    np.testing.assert_allclose(first_notes, -lr * np.sign(GRADS[0]))
    np.testing.assert_allclose(first_keras[:2] / first_notes[:2], 1 / math.sqrt(0.1), rtol=1e-4)
    assert np.max(np.abs(keras_path - notes_path)) > 0.01  # the paths stay apart


def test_keras_adam_is_kingma_ba_with_epsilon_hat():
    lr, eps = 0.0625, 0.1  # a large epsilon makes the difference visible
    keras_path = _keras_steps(keras.optimizers.Adam(lr, epsilon=eps))
    np.testing.assert_allclose(keras_path, _rule_steps(notes.KerasAdam(lr, epsilon=eps)), rtol=1e-6)
    paper = _rule_steps(notes.Adam(lr, epsilon=eps))
    assert np.max(np.abs(keras_path - paper)) > 1e-3  # epsilon hat != epsilon
    # Keras's step t equals the paper's with epsilon replaced by epsilon / sqrt(1 - beta_2^(t+1))
    # (checked on the written-out rule, free of Keras's float32 rounding of beta_2).
    written_out = _rule_steps(notes.KerasAdam(lr, epsilon=eps))
    for t in range(len(GRADS)):
        rule = notes.Adam(lr, epsilon=eps)
        for j in range(t):  # the moving averages up to step t
            rule.step(np.zeros(3), GRADS[j])
        rule.epsilon = eps / math.sqrt(1 - 0.999 ** (t + 1))
        step = rule.step(np.zeros(3), GRADS[t])
        np.testing.assert_allclose(step, written_out[t + 1] - written_out[t], rtol=1e-12)
    # With the default epsilon (1e-7) they are close, yet apart where a gradient is small (0.01).
    np.testing.assert_allclose(_keras_steps(keras.optimizers.Adam(lr)), _rule_steps(notes.Adam(lr)), atol=1e-4)


def test_a_schedule_as_the_learning_rate():
    sched = WarmupDecay(0.2, warmup_steps=2, decay_steps=3, decay="cosine")
    keras_path = _keras_steps(keras.optimizers.SGD(sched))
    rates = [float(sched(t)) for t in range(len(GRADS))]
    np.testing.assert_allclose(rates, [0.1, 0.2, 0.15, 0.05, 0.0], atol=1e-7)
    ref = _rule_steps(notes.SGD(lambda t: rates[t]))
    np.testing.assert_allclose(keras_path, ref, atol=1e-7)


def test_trajectory_of_sgd_on_a_quadratic_is_geometric():
    a, lr = np.array([1.0, 10.0]), 0.05
    path = notes.trajectory(notes.SGD(lr), lambda th: a * th, [1.0, 1.0], 30)
    t = np.arange(31)[:, None]
    np.testing.assert_allclose(path, (1 - lr * a) ** t, rtol=1e-12)


def test_bad_arguments():
    with pytest.raises(KerasGenError, match="learning_rate > 0"):
        notes.SGD(0.0)
    with pytest.raises(KerasGenError, match="momentum"):
        notes.Momentum(0.1, momentum=1.0)
    with pytest.raises(KerasGenError, match="alpha"):
        notes.RMSProp(0.1, alpha=1.5)
    with pytest.raises(KerasGenError, match="beta_2"):
        notes.Adam(0.1, beta_2=1.0)
    with pytest.raises(KerasGenError, match="differ in shape"):
        notes.SGD(0.1).step(np.zeros(2), np.zeros(3))
    assert notes.Momentum(0.1, 0.5).get_config() == {"learning_rate": 0.1, "momentum": 0.5}
