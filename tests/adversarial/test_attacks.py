"""keras_gen.adversarial attacks against closed forms and NumPy, per example."""
import keras
import numpy as np
import pytest
import tensorflow as tf

from keras_gen import adversarial
from keras_gen.errors import KerasGenError, UnknownNameError

N_CLASSES = 4


def _images(n=12, seed=0):
    """Digits-like inputs [n, 6, 6, 1] in [0, 1] with many pixels exactly 0 or 1 (so clipping matters)."""
    rng = np.random.default_rng(seed)
    x = rng.uniform(-0.5, 1.5, (n, 6, 6, 1))
    return np.clip(x, 0.0, 1.0).astype("float32"), rng.integers(0, N_CLASSES, n)


def _softmax_regression(seed=0, activation=None, scale=1.0):
    """A linear classifier: logits = flatten(x) W + b, with known random weights."""
    rng = np.random.default_rng(seed)
    inputs = keras.Input((6, 6, 1))
    h = keras.layers.Flatten()(inputs)
    dense = keras.layers.Dense(N_CLASSES, activation=activation, name="logits")
    model = keras.Model(inputs, dense(h))
    w = (rng.normal(size=(36, N_CLASSES)) * scale).astype("float32")
    b = (rng.normal(size=N_CLASSES) * 0.1).astype("float32")
    dense.set_weights([w, b])
    return model, w, b


def _cnn(seed=0):
    keras.utils.set_random_seed(seed)
    inputs = keras.Input((6, 6, 1))
    h = keras.layers.Conv2D(4, 3, activation="relu", padding="same")(inputs)
    h = keras.layers.Flatten()(keras.layers.MaxPooling2D()(h))
    h = keras.layers.Dense(8, activation="tanh")(h)
    return keras.Model(inputs, keras.layers.Dense(N_CLASSES)(h))


def _np_softmax(z):
    z = z - z.max(axis=1, keepdims=True)
    e = np.exp(z)
    return e / e.sum(axis=1, keepdims=True)


def _np_norms(d, norm):
    flat = d.reshape(len(d), -1).astype(np.float64)
    return np.abs(flat).max(1) if norm == "linf" else np.sqrt((flat ** 2).sum(1))


# ---------------------------------------------------------------- budgets and range
@pytest.mark.parametrize("norm,eps", [("linf", 0.1), ("linf", 0.3), ("l2", 0.5), ("l2", 2.0)])
def test_pgd_stays_within_budget_per_example_and_in_range(norm, eps):
    x, y = _images(16)
    model = _cnn()
    for targeted in (False, True):
        x_adv = adversarial.pgd(model, x, y, eps, norm=norm, steps=6, targeted=targeted, from_logits=True, seed=3)
        assert x_adv.shape == x.shape and x_adv.dtype == np.float32
        norms = _np_norms(x_adv - x, norm)
        assert np.all(norms <= eps * (1 + 1e-5) + 1e-6), norms.max()
        assert x_adv.min() >= 0.0 and x_adv.max() <= 1.0
        # the attack used its budget: it is not a no-op (L-inf: some pixel moved by ~epsilon)
        assert norms.max() > 0.5 * eps


def test_fgsm_moves_every_unclipped_pixel_by_epsilon():
    x, y = _images(16)
    x_adv = adversarial.fgsm(_cnn(), x, y, 0.2, from_logits=True)
    d = np.abs(x_adv - x)
    assert d.max() <= 0.2 + 1e-6 and x_adv.min() >= 0.0 and x_adv.max() <= 1.0
    inside = (x > 0.2) & (x < 0.8)  # far from the box edges the clip does nothing
    np.testing.assert_allclose(d[inside], 0.2, atol=1e-6)


def test_random_perturbation_and_ball_sampling_respect_the_norms():
    x, _ = _images(64)
    for norm, eps in (("linf", 0.25), ("l2", 1.5)):
        noise = adversarial.random_perturbation(x, eps, norm=norm, clip_range=None, seed=1)
        np.testing.assert_allclose(_np_norms(noise - x, norm), eps, rtol=1e-5)  # exactly on the sphere
        clipped = adversarial.random_perturbation(x, eps, norm=norm, seed=1)
        assert clipped.min() >= 0 and clipped.max() <= 1 and np.all(_np_norms(clipped - x, norm) <= eps * (1 + 1e-5))
        start = adversarial.random_in_ball(tf.constant([64, 6, 6, 1]), eps, norm, tf.constant([0, 5])).numpy()
        norms = _np_norms(start, norm)
        assert np.all(norms <= eps * (1 + 1e-5))
        # uniform in the ball of 36 dimensions: the norm is mostly near the radius (median eps * 0.5^(1/36))
        assert np.median(norms) > 0.9 * eps if norm == "l2" else norms.min() > 0.8 * eps


def test_project_against_numpy():
    rng = np.random.default_rng(2)
    d = rng.normal(size=(5, 3, 3, 1)).astype("float32") * np.array([0.01, 0.1, 1, 10, 100], "float32")[:, None, None, None]
    eps = 0.7
    np.testing.assert_allclose(adversarial.project(d, eps, "linf").numpy(), np.clip(d, -eps, eps))
    norms = np.sqrt((d.reshape(5, -1) ** 2).sum(1))
    expected = d * np.minimum(1.0, eps / norms)[:, None, None, None]
    np.testing.assert_allclose(adversarial.project(d, eps, "l2").numpy(), expected, rtol=1e-5)
    np.testing.assert_allclose(adversarial.perturbation_norms(d, "l2").numpy(), norms, rtol=1e-5)
    np.testing.assert_allclose(adversarial.perturbation_norms(d, "linf").numpy(), np.abs(d).reshape(5, -1).max(1))


# ---------------------------------------------------------------- closed forms
def test_fgsm_on_softmax_regression_equals_the_closed_form():
    """grad_x CE(W^T x + b, y) = W (p - e_y), so x_adv = clip(x + eps sign(W (p - e_y)))."""
    x, y = _images(20)
    model, w, b = _softmax_regression()
    eps = 0.1
    p = _np_softmax(x.reshape(20, -1) @ w + b)
    grad = (p - np.eye(N_CLASSES)[y]) @ w.T
    expected_unclipped = x + eps * np.sign(grad).reshape(x.shape)
    np.testing.assert_allclose(adversarial.fgsm(model, x, y, eps, from_logits=True, clip_range=None),
                               expected_unclipped, atol=1e-6)
    np.testing.assert_allclose(adversarial.fgsm(model, x, y, eps, from_logits=True),
                               np.clip(expected_unclipped, 0, 1), atol=1e-6)


def test_fgsm_on_two_class_linear_model_is_the_sign_of_the_weight_difference():
    """With two classes, grad_x CE(x, y) = p_other (w_other - w_y): the step is sign(w_other - w_y)."""
    rng = np.random.default_rng(4)
    inputs = keras.Input((10,))
    dense = keras.layers.Dense(2)
    model = keras.Model(inputs, dense(inputs))
    w = rng.normal(size=(10, 2)).astype("float32")
    dense.set_weights([w, np.zeros(2, "float32")])
    x = rng.uniform(0.3, 0.7, (6, 10)).astype("float32")
    y = np.array([0, 1, 0, 1, 1, 0])
    x_adv = adversarial.fgsm(model, x, y, 0.05, from_logits=True)
    for i in range(6):
        np.testing.assert_allclose(x_adv[i], x[i] + 0.05 * np.sign(w[:, 1 - y[i]] - w[:, y[i]]), atol=1e-6)
    # the targeted step towards class t is the opposite of the untargeted step away from it
    x_t = adversarial.fgsm(model, x, 1 - y, 0.05, targeted=True, from_logits=True)
    np.testing.assert_allclose(x_t, x_adv, atol=1e-6)


def test_pgd_one_step_without_random_start_is_fgsm():
    x, y = _images(16)
    model = _cnn()
    for targeted in (False, True):
        fg = adversarial.fgsm(model, x, y, 0.15, targeted=targeted, from_logits=True)
        pg = adversarial.pgd(model, x, y, 0.15, norm="linf", steps=1, step_size=0.15, random_start=False,
                             targeted=targeted, from_logits=True)
        np.testing.assert_array_equal(pg, fg)


def test_l2_pgd_normalises_each_example_by_its_own_gradient():
    """Two examples whose gradients differ by ~1e4 in scale both move the full step epsilon."""
    def model(x):  # logits [0, 3 sum(x^2)]: the gradient scales with x
        s = 3.0 * tf.reduce_sum(tf.square(tf.reshape(x, [tf.shape(x)[0], -1])), axis=1)
        return tf.stack([tf.zeros_like(s), s], axis=1)

    x = np.stack([np.full((4, 4, 1), 1e-4), np.full((4, 4, 1), 0.5)]).astype("float32")
    y = np.array([1, 1])  # untargeted: away from class 1, i.e. shrink sum(x^2)
    eps = 0.05
    x_adv = adversarial.pgd(model, x, y, eps, norm="l2", steps=1, step_size=eps, random_start=False,
                            from_logits=True, clip_range=None)
    np.testing.assert_allclose(_np_norms(x_adv - x, "l2"), [eps, eps], rtol=1e-5)
    # the direction is -x / ||x||: each pixel of an example moves by -eps / 4
    np.testing.assert_allclose(x_adv - x, np.full_like(x, -eps / 4), atol=1e-6)
    # the per-example step direction has unit norm whatever the gradient's scale
    g = tf.constant(np.stack([np.full((3,), 1e-8), np.full((3,), 1e4)]), tf.float32)
    np.testing.assert_allclose(np.linalg.norm(adversarial.step_direction(g, "l2").numpy(), axis=1), [1, 1], rtol=1e-5)


def test_targeted_steps_raise_the_target_probability():
    x, y = _images(32)
    model, w, b = _softmax_regression(scale=0.5)
    target = (y + 1) % N_CLASSES
    p0 = _np_softmax(x.reshape(32, -1) @ w + b)[np.arange(32), target]
    x_fg = adversarial.fgsm(model, x, target, 1e-3, targeted=True, from_logits=True, clip_range=None)
    p1 = _np_softmax(x_fg.reshape(32, -1) @ w + b)[np.arange(32), target]
    assert np.all(p1 > p0)
    # the untargeted step on the same labels lowers it: the targeted sign is the opposite one
    x_un = adversarial.fgsm(model, x, target, 1e-3, from_logits=True, clip_range=None)
    assert np.all(_np_softmax(x_un.reshape(32, -1) @ w + b)[np.arange(32), target] < p0)
    # targeted PGD (both norms) raises the target's probability of a CNN for every example
    cnn = _cnn()
    before = tf.nn.softmax(cnn(x)).numpy()[np.arange(32), target]
    for norm, eps in (("linf", 0.3), ("l2", 1.0)):
        x_pgd = adversarial.pgd(cnn, x, target, eps, norm=norm, steps=10, targeted=True, from_logits=True, seed=0)
        assert np.all(tf.nn.softmax(cnn(x_pgd)).numpy()[np.arange(32), target] > before)


def test_the_notes_targeted_loss_also_pushes_away_from_the_true_class():
    """J = -e(target) + e(true): on a linear model its gradient is W (e_t - e_y) (the p terms cancel)."""
    x, y = _images(20)
    model, w, b = _softmax_regression()
    target = (y + 2) % N_CLASSES
    x_adv = adversarial.fgsm(model, x, target, 0.05, targeted=True, true_labels=y, from_logits=True, clip_range=None)
    grad = (np.eye(N_CLASSES)[target] - np.eye(N_CLASSES)[y]) @ w.T
    np.testing.assert_allclose(x_adv, x + 0.05 * np.sign(grad).reshape(x.shape), atol=1e-6)


def test_attack_objective_against_numpy():
    rng = np.random.default_rng(5)
    z = rng.normal(size=(6, N_CLASSES)).astype("float32")
    y, t = rng.integers(0, N_CLASSES, 6), rng.integers(0, N_CLASSES, 6)
    ce = lambda labels: -np.log(_np_softmax(z.astype(np.float64))[np.arange(6), labels])  # noqa: E731
    np.testing.assert_allclose(adversarial.attack_objective(z, y).numpy(), ce(y), rtol=1e-5)
    np.testing.assert_allclose(adversarial.attack_objective(z, t, targeted=True).numpy(), -ce(t), rtol=1e-5)
    np.testing.assert_allclose(adversarial.attack_objective(z, t, targeted=True, true_labels=y).numpy(),
                               ce(y) - ce(t), rtol=1e-5, atol=1e-6)


# ---------------------------------------------------------------- logits or probabilities
def test_probability_outputs_attack_through_the_logits_before_the_softmax():
    x, y = _images(20)
    logits_model, w, b = _softmax_regression(scale=8.0)
    prob_model, _, _ = _softmax_regression(scale=8.0, activation="softmax")
    expected = adversarial.pgd(logits_model, x, y, 0.2, steps=5, from_logits=True, seed=1)
    for from_logits in ("auto", False):
        np.testing.assert_allclose(adversarial.pgd(prob_model, x, y, 0.2, steps=5, from_logits=from_logits, seed=1),
                                   expected, atol=1e-6)


def test_the_logits_keep_the_gradient_where_log_probabilities_lose_it():
    """Logits [-40, 40]: p_0 = e^-80 ~ 2e-35 is below log(p)'s floor of 1e-30, so -log p_1 has a
    zero gradient; the logits before the softmax still give the direction (p - e_1) W < 0."""
    inputs = keras.Input((1,))
    dense = keras.layers.Dense(2, activation="softmax")
    prob_model = keras.Model(inputs, dense(inputs))
    dense.set_weights([np.array([[-40.0, 40.0]], "float32"), np.zeros(2, "float32")])
    x, y = np.array([[1.0]], "float32"), np.array([1])
    np.testing.assert_allclose(adversarial.fgsm(prob_model, x, y, 0.1), [[0.9]], atol=1e-6)
    np.testing.assert_array_equal(adversarial.fgsm(lambda v: prob_model(v), x, y, 0.1), x)  # the fallback's limit


def test_probability_callables_fall_back_to_log_probabilities():
    x, y = _images(20)
    cnn = _cnn()

    def probs(v):  # a plain function: no layers to look into
        return tf.nn.softmax(cnn(v, training=False))

    expected = adversarial.pgd(cnn, x, y, 0.1, steps=4, from_logits=True, seed=2)
    for from_logits in ("auto", False):
        np.testing.assert_allclose(adversarial.pgd(probs, x, y, 0.1, steps=4, from_logits=from_logits, seed=2),
                                   expected, atol=1e-5)
    # logits (rows not summing to one) are detected as logits by "auto"
    np.testing.assert_array_equal(adversarial.pgd(cnn, x, y, 0.1, steps=4, seed=2), expected)


def test_results_do_not_depend_on_the_batch_size():
    x, y = _images(21)
    cnn = _cnn()
    a = adversarial.fgsm(cnn, x, y, 0.1, batch_size=4)
    np.testing.assert_array_equal(a, adversarial.fgsm(cnn, x, y, 0.1, batch_size=256))
    b = adversarial.pgd(cnn, x, y, 1.0, norm="l2", steps=3, random_start=False, batch_size=5)
    np.testing.assert_allclose(b, adversarial.pgd(cnn, x, y, 1.0, norm="l2", steps=3, random_start=False), atol=1e-6)
    # a random start repeats for the same seed and differs for another
    c = adversarial.pgd(cnn, x, y, 0.1, steps=1, seed=7)
    np.testing.assert_array_equal(c, adversarial.pgd(cnn, x, y, 0.1, steps=1, seed=7))
    assert not np.array_equal(c, adversarial.pgd(cnn, x, y, 0.1, steps=1, seed=8))


# ---------------------------------------------------------------- bad input
def test_bad_input_gets_one_line_errors():
    x, y = _images(4)
    cnn = _cnn()
    bad_x = x.copy()
    bad_x[1, 2, 2, 0] = np.nan
    cases = [
        (lambda: adversarial.pgd(cnn, x[0, :, 0, 0], y[:1], 0.1), KerasGenError, r"x has shape \[6\]"),
        (lambda: adversarial.fgsm(cnn, x, y[:3], 0.1), KerasGenError, r"labels has shape \[3\]; expected \[4\]"),
        (lambda: adversarial.fgsm(cnn, bad_x, y, 0.1), KerasGenError, "x contains NaN"),
        (lambda: adversarial.pgd(cnn, x, y, -0.1), KerasGenError, "epsilon must be >= 0, got -0.1"),
        (lambda: adversarial.pgd(cnn, x, y, float("nan")), KerasGenError, "epsilon must be finite"),
        (lambda: adversarial.pgd(cnn, x, y, 0.1, norm="l1"), UnknownNameError, "unknown norm 'l1'; choose one of: l2, linf"),
        (lambda: adversarial.pgd(cnn, x, y, 0.1, steps=0), KerasGenError, "steps must be an integer >= 1"),
        (lambda: adversarial.pgd(cnn, x, y, 0.1, step_size=0.0), KerasGenError, "step_size must be > 0"),
        (lambda: adversarial.fgsm(cnn, x * 255, y, 0.1), KerasGenError, "outside clip_range"),
        (lambda: adversarial.fgsm(cnn, x, y + 10, 0.1), KerasGenError, r"labels must lie in \[0, 3\]"),
        (lambda: adversarial.fgsm(cnn, x, y + 0.5, 0.1), KerasGenError, "labels must be integer class indices"),
        (lambda: adversarial.fgsm(cnn, x, y, 0.1, from_logits="yes"), KerasGenError, "from_logits must be"),
        (lambda: adversarial.fgsm(lambda v: tf.reduce_sum(v, [1, 2, 3]), x, y, 0.1), KerasGenError,
         r"the classifier returns shape \[1\]"),
        (lambda: adversarial.fgsm("model", x, y, 0.1), KerasGenError, "model must be a Keras classifier"),
        (lambda: adversarial.random_perturbation(x, 0.1, norm="l3"), UnknownNameError, "unknown norm"),
        (lambda: adversarial.fgsm(cnn, np.array(["a"] * 4).reshape(4, 1), y, 0.1), KerasGenError, "x has dtype"),
    ]
    for call, error, message in cases:
        with pytest.raises(error, match=message) as info:
            call()
        assert "\n" not in str(info.value)
