"""Adversarial attacks on any Keras classifier: FGSM and PGD under L-infinity and L2 budgets (T11).

The lecture notes (002, Lecture 23) pose an attack as an optimisation over the input x
near the original x0, with e the cross-entropy between the classifier's output y and a
one-hot label:

    untargeted:  maximise  e(y(x), y_true)                       s.t.  d(x0, x) <= epsilon
    targeted:    minimise  L(x) = -e(y(x), y_true) + e(y(x), y_target)   s.t.  d(x0, x) <= epsilon

with d the L2 norm (root of the sum of squares) or the L-infinity norm (the largest
change of any pixel, "closer to what a human perceives") of x - x0. The usual targeted
attack (Kurakin et al. 2017; Madry et al. 2018) keeps only e(y(x), y_target); the notes'
extra term -e(y(x), y_true) is used when `true_labels` are given.

Every function here ascends one objective J per example (descending a loss is ascending
its negative), so the sign of a targeted step cannot come out wrong:

    J_i = e_i(y_true)                                  untargeted
    J_i = -e_i(y_target)   [+ e_i(y_true)]             targeted  [the notes' L(x), negated]

* FGSM (Goodfellow et al. 2015): one step of size epsilon along sign(grad_x J).
* PGD (Madry et al. 2018): a random start in the ball, then `steps` steps

      x <- clip_[lo, hi]( x0 + Proj_epsilon( x + alpha * s(grad_x J) - x0 ) )

  with s(g) = sign(g) and Proj the coordinate clip to [-epsilon, epsilon] for L-infinity,
  and s(g) = g / ||g||_2 and Proj(d) = d * min(1, epsilon / ||d||_2) for L2.

Three bugs of public attack libraries that this module avoids (and its tests pin down):
norms, normalisation and projection are taken **per example** (over all axes but the
first), never over the whole batch; targeted steps descend the target's loss; every
iterate is clipped to the valid pixel range `clip_range`. Projecting first and clipping
second keeps both constraints: x0 lies in the box, so clipping a coordinate only moves it
towards x0 and never increases |x - x0|. The loss is summed, not averaged, over the
batch, so an example's gradient does not depend on the batch size, and the classifier
runs with `training=False` (dropout off, batch-norm statistics frozen), so no example's
perturbation depends on another's.

**Logits or probabilities.** `from_logits=True` means the classifier returns logits,
`False` probabilities (rows summing to 1), `"auto"` (default) decides: a Keras model
whose output layer applies a softmax gives probabilities, anything else is checked batch
by batch (non-negative rows summing to 1 are probabilities). For probabilities the
attacks use the logits before the softmax when the output layer is a
`Dense(..., activation="softmax")`, a `Softmax` or an `Activation("softmax")` layer of a
functional or Sequential model (same weights, exact); otherwise they take
log(max(p, 1e-30)), which equals the logits up to a per-example constant (the
cross-entropy ignores it) as long as no probability falls below 1e-30. Below that the
floor cuts the gradient: a digit classified with a logit margin above ~70 gets a zero
gradient from log p (a masked gradient, not robustness), but not from the logits.

References: Goodfellow, Shlens and Szegedy 2015, "Explaining and harnessing adversarial
examples"; Kurakin, Goodfellow and Bengio 2017, "Adversarial examples in the physical
world"; Madry et al. 2018, "Towards deep learning models resistant to adversarial
attacks".
"""
import collections
import math

import keras
import numpy as np
import tensorflow as tf

from keras_gen.errors import KerasGenError, unknown_name

NORMS = ("linf", "l2")
DEFAULT_CLIP_RANGE = (0.0, 1.0)
_TINY = 1e-12  # smallest norm divided by: a zero gradient gives a zero step, never NaN
_LOG_FLOOR = 1e-30  # log(p) of a probability output is taken at >= this


# ---------------------------------------------------------------- per-example geometry
def _flat(t):
    return tf.reshape(t, [tf.shape(t)[0], -1])


def _per_example(values, like):
    """`[n]` values broadcast against `like` `[n, ...]`."""
    return tf.reshape(values, tf.concat([tf.shape(values), tf.ones([tf.rank(like) - 1], tf.int32)], 0))


def perturbation_norms(delta, norm):
    """The norm of every example's perturbation: `[n, ...] -> [n]`.

    Formula: `||d_i||_inf = max_j |d_ij|`, `||d_i||_2 = sqrt(sum_j d_ij^2)` over all
    axes but the first.
    """
    flat = _flat(tf.convert_to_tensor(delta))
    if norm == "linf":
        return tf.reduce_max(tf.abs(flat), axis=1)
    if norm == "l2":
        return tf.sqrt(tf.reduce_sum(tf.square(flat), axis=1))
    raise unknown_name("norm", norm, NORMS)


def step_direction(grad, norm):
    """The steepest-ascent direction of unit norm, per example.

    Formula: `sign(g)` for L-infinity; `g_i / max(||g_i||_2, 1e-12)` for L2 (each example
    by its own norm: a batch-wide norm would shrink the step of every example whose
    gradient is small next to another's). A zero gradient gives a zero direction.
    """
    grad = tf.convert_to_tensor(grad)
    if norm == "linf":
        return tf.sign(grad)
    if norm == "l2":
        norms = tf.sqrt(tf.reduce_sum(tf.square(_flat(grad)), axis=1))
        return grad / _per_example(tf.maximum(norms, _TINY), grad)
    raise unknown_name("norm", norm, NORMS)


def project(delta, epsilon, norm):
    """The nearest point of the epsilon-ball, per example.

    Formula: `clip(d, -epsilon, epsilon)` for L-infinity; `d_i * min(1, epsilon /
    ||d_i||_2)` for L2 (a perturbation already inside its ball is unchanged).
    """
    delta = tf.convert_to_tensor(delta)
    epsilon = tf.cast(epsilon, delta.dtype)
    if norm == "linf":
        return tf.clip_by_value(delta, -epsilon, epsilon)
    if norm == "l2":
        norms = tf.sqrt(tf.reduce_sum(tf.square(_flat(delta)), axis=1))
        scale = tf.minimum(1.0, epsilon / tf.maximum(norms, _TINY))
        return delta * _per_example(scale, delta)
    raise unknown_name("norm", norm, NORMS)


def random_in_ball(shape, epsilon, norm, seed):
    """Uniform random points of the epsilon-ball (PGD's random start), per example.

    L-infinity: every coordinate uniform on [-epsilon, epsilon]. L2: a uniform direction
    (a normalised Gaussian) times the radius epsilon * u^(1/d), u ~ U(0, 1), d the number
    of coordinates: the radius distribution of a uniform point of the d-ball.

    Args:
        seed: a stateless seed, a pair of integers (or int tensors).
    """
    if norm == "linf":
        return tf.random.stateless_uniform(shape, seed, -1.0, 1.0) * epsilon
    if norm == "l2":
        seeds = tf.random.experimental.stateless_split(seed, 2)
        direction = step_direction(tf.random.stateless_normal(shape, seeds[0]), "l2")
        d = tf.cast(tf.reduce_prod(shape[1:]), tf.float32)
        u = tf.random.stateless_uniform(shape[:1], seeds[1])
        return direction * _per_example(epsilon * tf.pow(u, 1.0 / d), direction)
    raise unknown_name("norm", norm, NORMS)


def on_sphere(shape, epsilon, norm, seed):
    """Random perturbations of norm exactly epsilon, per example (the random-noise baseline).

    L-infinity: epsilon times random signs (every pixel moves by epsilon, the largest
    random change the budget allows); L2: epsilon times a uniform direction.
    """
    if norm == "linf":
        return epsilon * tf.sign(tf.random.stateless_uniform(shape, seed, -1.0, 1.0))
    if norm == "l2":
        return epsilon * step_direction(tf.random.stateless_normal(shape, seed), "l2")
    raise unknown_name("norm", norm, NORMS)


# ---------------------------------------------------------------- logits of any classifier
def _call(model, x):
    if isinstance(model, keras.layers.Layer):
        return model(x, training=False)
    return model(x)


def _is_softmax(fn):
    return fn is keras.activations.softmax or getattr(fn, "__name__", None) == "softmax"


def _pre_softmax(model):
    """A function x -> logits before `model`'s final softmax layer, or None if not found."""
    try:
        history = model.outputs[0]._keras_history
        layer = history.operation
        node = layer._inbound_nodes[history.node_index]
        features_tensor = node.input_tensors[0]
        if len(model.outputs) != 1:
            return None
    except (AttributeError, IndexError, TypeError, ValueError):
        return None
    if isinstance(layer, keras.layers.Dense) and _is_softmax(layer.activation) \
            and getattr(layer, "quantization_mode", None) is None:
        features = keras.Model(model.inputs, features_tensor)

        def dense_logits(x):
            h = features(x, training=False)
            z = tf.matmul(tf.cast(h, layer.kernel.dtype), layer.kernel)
            return z + layer.bias if layer.use_bias else z

        return dense_logits
    if isinstance(layer, keras.layers.Softmax) or (
            isinstance(layer, keras.layers.Activation) and _is_softmax(layer.activation)):
        features = keras.Model(model.inputs, features_tensor)
        return lambda x: features(x, training=False)
    return None


def _applies_softmax(model):
    try:
        layer = model.outputs[0]._keras_history.operation
    except (AttributeError, IndexError, TypeError):
        return False
    return (isinstance(layer, keras.layers.Softmax) or _is_softmax(getattr(layer, "activation", None)))


def logits_function(model, from_logits="auto"):
    """`x -> logits [n, classes]` (float32) of a classifier returning logits or probabilities.

    Args:
        model: a Keras model or any callable `x -> [n, classes]` outputs.
        from_logits: True (the outputs are logits), False (probabilities) or "auto"
            (see the module docstring).

    Returns:
        A function of a batch of inputs. For probabilities it returns the logits before
        the model's softmax layer when it can find them, else `log(max(p, 1e-30))`
        (equal to the logits up to a per-example constant, which the cross-entropy
        ignores).
    """
    if from_logits not in (True, False, "auto"):
        raise KerasGenError(f"from_logits must be True, False or 'auto', got {from_logits!r}")
    if from_logits is True:
        return lambda x: tf.cast(_call(model, x), tf.float32)
    probabilities = from_logits is False or _applies_softmax(model)
    if probabilities:
        pre = _pre_softmax(model)
        if pre is not None:
            return lambda x: tf.cast(pre(x), tf.float32)
        return lambda x: tf.math.log(tf.maximum(tf.cast(_call(model, x), tf.float32), _LOG_FLOOR))

    def auto(x):
        out = tf.cast(_call(model, x), tf.float32)
        looks_like_probabilities = tf.logical_and(
            tf.reduce_all(out >= 0.0), tf.reduce_all(tf.abs(tf.reduce_sum(out, axis=-1) - 1.0) < 1e-3))
        return tf.where(looks_like_probabilities, tf.math.log(tf.maximum(out, _LOG_FLOOR)), out)

    return auto


# ---------------------------------------------------------------- the objective and its gradient
def attack_objective(logits, labels, targeted=False, true_labels=None):
    """The per-example objective J that every attack step ascends: `[n]`.

    Formula (e = softmax cross-entropy on the logits):
        untargeted:  J_i = e(logits_i, labels_i)
        targeted:    J_i = -e(logits_i, labels_i)                  (labels = the targets)
                     J_i = -e(logits_i, labels_i) + e(logits_i, true_labels_i)
                                                   (with `true_labels`: minus the notes' L(x))
    """
    logits = tf.cast(logits, tf.float32)
    ce = tf.nn.sparse_softmax_cross_entropy_with_logits(labels=tf.cast(labels, tf.int32), logits=logits)
    if not targeted:
        return ce
    objective = -ce
    if true_labels is not None:
        objective += tf.nn.sparse_softmax_cross_entropy_with_logits(
            labels=tf.cast(true_labels, tf.int32), logits=logits)
    return objective


def input_gradient(logits_fn, x, labels, targeted=False, true_labels=None):
    """`grad_x J_i` for every example: the gradient of the *summed* objective (shape of x)."""
    with tf.GradientTape() as tape:
        tape.watch(x)
        objective = attack_objective(logits_fn(x), labels, targeted, true_labels)
        total = tf.reduce_sum(objective)
    return tape.gradient(total, x)


def _clip(x, clip_range):
    if clip_range is None:
        return x
    return tf.clip_by_value(x, clip_range[0], clip_range[1])


# ---------------------------------------------------------------- the attacks on tensors
def fgsm_tensor(logits_fn, x, labels, epsilon, targeted=False, true_labels=None, clip_range=DEFAULT_CLIP_RANGE):
    """FGSM on a batch of tensors (graph-friendly; no input checks). See `fgsm`."""
    x = tf.cast(x, tf.float32)
    grad = input_gradient(logits_fn, x, labels, targeted, true_labels)
    return tf.stop_gradient(_clip(x + epsilon * tf.sign(grad), clip_range))


def pgd_tensor(logits_fn, x, labels, epsilon, norm="linf", steps=40, step_size=None, random_start=True,
               targeted=False, true_labels=None, clip_range=DEFAULT_CLIP_RANGE, seed=(0, 0), start=None):
    """PGD on a batch of tensors (graph-friendly; no input checks). See `pgd`.

    `epsilon`, `steps` and `step_size` may be tensors; `seed` is a stateless seed pair
    (it may hold tensors, e.g. a step counter). `start`, if given, is the perturbation
    to start from (projected onto the ball) instead of a random one.
    """
    if norm not in NORMS:
        raise unknown_name("norm", norm, NORMS)
    x0 = tf.cast(x, tf.float32)
    epsilon = tf.cast(epsilon, tf.float32)
    steps = tf.cast(steps, tf.int32)
    alpha = 2.5 * epsilon / tf.cast(steps, tf.float32) if step_size is None else tf.cast(step_size, tf.float32)
    if start is not None:
        x_adv = _clip(x0 + project(tf.cast(start, tf.float32), epsilon, norm), clip_range)
    elif random_start:
        x_adv = _clip(x0 + random_in_ball(tf.shape(x0), epsilon, norm, seed), clip_range)
    else:
        x_adv = x0

    def body(i, x_k):
        grad = input_gradient(logits_fn, x_k, labels, targeted, true_labels)
        x_next = x_k + alpha * step_direction(grad, norm)
        return i + 1, _clip(x0 + project(x_next - x0, epsilon, norm), clip_range)

    _, x_adv = tf.while_loop(lambda i, _: i < steps, body, (tf.constant(0), x_adv))
    return tf.stop_gradient(x_adv)


# ---------------------------------------------------------------- the attacks on arrays
# The traced attacks of the last few classifiers, so repeated calls (an accuracy-vs-epsilon
# curve) trace once. Entries hold the model, so its id cannot be reused while cached; the
# oldest is dropped beyond `_CACHE_SIZE` models.
_CACHE_SIZE = 8
_COMPILED = collections.OrderedDict()  # id(model) -> (model, {settings: function})


def _compiled(model, key, make):
    entry = _COMPILED.pop(id(model), None)
    if entry is None or entry[0] is not model:
        entry = (model, {})
    _COMPILED[id(model)] = entry
    while len(_COMPILED) > _CACHE_SIZE:
        _COMPILED.popitem(last=False)
    if key not in entry[1]:
        entry[1][key] = make()
    return entry[1][key]


def _check_number(name, value, low=None, above=None):
    if isinstance(value, bool) or not isinstance(value, (int, float, np.integer, np.floating)):
        raise KerasGenError(f"{name} must be a number, got {value!r}")
    if not math.isfinite(float(value)):
        raise KerasGenError(f"{name} must be finite, got {value!r}")
    if low is not None and value < low:
        raise KerasGenError(f"{name} must be >= {low:g}, got {value!r}")
    if above is not None and not value > above:
        raise KerasGenError(f"{name} must be > {above:g}, got {value!r}")
    return float(value)


def _check_labels(name, labels, n):
    y = np.asarray(labels.numpy() if tf.is_tensor(labels) else labels)
    if y.ndim != 1 or len(y) != n:
        raise KerasGenError(f"{name} has shape {list(y.shape)}; expected [{n}] class indices, one per example")
    if y.size and not np.issubdtype(y.dtype, np.integer):
        if not (np.issubdtype(y.dtype, np.floating) and np.all(np.isfinite(y)) and np.all(y == np.round(y))):
            raise KerasGenError(f"{name} must be integer class indices, got dtype {y.dtype}")
    return y.astype(np.int32)


def _check_x(x, clip_range):
    """x as a finite float32 array [n, ...] inside `clip_range` (a checked pair or None)."""
    arr = np.asarray(x.numpy() if tf.is_tensor(x) else x)
    if not (np.issubdtype(arr.dtype, np.number) or arr.dtype == np.bool_):
        raise KerasGenError(f"x has dtype {arr.dtype}; expected numbers")
    arr = arr.astype(np.float32)
    if arr.ndim < 2:
        raise KerasGenError(f"x has shape {list(arr.shape)}; expected a batch [n, ...] of at least 2 dimensions")
    if not np.all(np.isfinite(arr)):
        raise KerasGenError("x contains NaN or infinite values")
    if clip_range is not None:
        if len(clip_range) != 2 or not float(clip_range[0]) < float(clip_range[1]):
            raise KerasGenError(f"clip_range must be (low, high) with low < high, got {clip_range!r}")
        clip_range = (float(clip_range[0]), float(clip_range[1]))
        if arr.size and (arr.min() < clip_range[0] - 1e-6 or arr.max() > clip_range[1] + 1e-6):
            raise KerasGenError(f"x ranges from {arr.min():.4g} to {arr.max():.4g}, outside clip_range "
                                f"{list(clip_range)}; rescale x or pass the valid range (clip_range=None: no clip)")
    return arr, clip_range


def _check_inputs(model, x, labels, epsilon, norm, clip_range, from_logits, true_labels=None):
    if not callable(model):
        raise KerasGenError(f"model must be a Keras classifier or a callable, got {type(model).__name__}")
    if norm not in NORMS:
        raise unknown_name("norm", norm, NORMS)
    if from_logits not in (True, False, "auto"):
        raise KerasGenError(f"from_logits must be True, False or 'auto', got {from_logits!r}")
    epsilon = _check_number("epsilon", epsilon, low=0)
    arr, clip_range = _check_x(x, clip_range)
    y = _check_labels("labels", labels, len(arr))
    t = None if true_labels is None else _check_labels("true_labels", true_labels, len(arr))
    return arr, y, t, epsilon, clip_range


def _check_classes(logits_fn, arr, y, t):
    """Runs the classifier once on the first example: logits [1, k] with k >= 2 and labels < k."""
    out = logits_fn(tf.constant(arr[:1]))
    if out.shape.rank != 2 or out.shape[-1] < 2:
        raise KerasGenError(f"the classifier returns shape {list(out.shape)}; attacks need [n, classes] "
                            f"scores with classes >= 2")
    k = int(out.shape[-1])
    for name, lab in (("labels", y), ("true_labels", t)):
        if lab is not None and lab.size and (lab.min() < 0 or lab.max() >= k):
            raise KerasGenError(f"{name} must lie in [0, {k - 1}] for a {k}-class classifier, "
                                f"got {lab.min()}..{lab.max()}")


def _batched(fn, arr, y, t, batch_size):
    if len(arr) == 0:
        return arr.copy()
    outs = []
    for b, start in enumerate(range(0, len(arr), batch_size)):
        sl = slice(start, start + batch_size)
        outs.append(fn(tf.constant(arr[sl]), tf.constant(y[sl]),
                       None if t is None else tf.constant(t[sl]), tf.constant(b, tf.int32)).numpy())
    return np.concatenate(outs).reshape(arr.shape)


def fgsm(model, x, labels, epsilon, *, targeted=False, true_labels=None, from_logits="auto",
         clip_range=DEFAULT_CLIP_RANGE, batch_size=256):
    """Fast gradient sign method (Goodfellow et al. 2015), untargeted or targeted, L-infinity.

    Formula:
        x_adv = clip_[lo, hi]( x + epsilon * sign(grad_x J(x)) )

    with J the objective of `attack_objective`: the cross-entropy of the true label
    (untargeted: move away from it) or minus the cross-entropy of the target (targeted:
    move towards it). Every pixel moves by epsilon before the clip, so
    `||x_adv - x||_inf <= epsilon` for every example.

    Args:
        model: a Keras classifier (or callable) mapping x to `[n, classes]` logits or
            probabilities (`from_logits`).
        x: inputs `[n, ...]` within `clip_range`.
        labels: `[n]` integer classes: the true classes, or the targets when `targeted`.
        epsilon: the L-infinity budget, >= 0.
        targeted: make the classifier output `labels` instead of avoiding them.
        true_labels: with `targeted`, also move away from these (the notes' L(x)).
        from_logits: True, False or "auto" (module docstring).
        clip_range: the valid input range `(low, high)`, or None for no clip.
        batch_size: examples per gradient computation (the result does not depend on it).

    Returns:
        float32 NumPy array of x's shape: the adversarial examples.

    Raises:
        KerasGenError: one line naming a bad argument (shape, NaN, epsilon < 0, labels,
            an x outside clip_range, a classifier without [n, classes] outputs).
    """
    arr, y, t, epsilon, clip_range = _check_inputs(model, x, labels, epsilon, "linf", clip_range, from_logits,
                                                   true_labels)
    batch_size = int(_check_number("batch_size", batch_size, low=1))
    logits_fn = _compiled(model, ("logits", from_logits), lambda: logits_function(model, from_logits))
    _check_classes(logits_fn, arr, y, t)

    def make():
        @tf.function(reduce_retracing=True)
        def step(xb, yb, tb, eps):
            return fgsm_tensor(logits_fn, xb, yb, eps, targeted, tb, clip_range)
        return step

    step = _compiled(model, ("fgsm", from_logits, bool(targeted), clip_range), make)
    return _batched(lambda xb, yb, tb, b: step(xb, yb, tb, tf.constant(epsilon)), arr, y, t, batch_size)


def pgd(model, x, labels, epsilon, *, norm="linf", steps=40, step_size=None, random_start=True, targeted=False,
        true_labels=None, from_logits="auto", clip_range=DEFAULT_CLIP_RANGE, seed=0, batch_size=256):
    """Projected gradient descent (Madry et al. 2018) under an L-infinity or L2 budget, per example.

    Formula:
        x^0     = clip(x + u),  u uniform in the epsilon-ball      (random_start; else x^0 = x)
        x^{k+1} = clip( x + Proj_epsilon( x^k + alpha * s(grad J(x^k)) - x ) )

    s(g) = sign(g), Proj = coordinate clip to [-epsilon, epsilon] (L-infinity);
    s(g) = g / ||g||_2, Proj(d) = d min(1, epsilon / ||d||_2) (L2); norms per example.
    With `steps=1`, `step_size=epsilon`, no random start and L-infinity this is `fgsm`.
    The last iterate is returned.

    Args:
        model, x, labels, targeted, true_labels, from_logits, clip_range, batch_size: as
            in `fgsm`.
        epsilon: the budget (>= 0) in `norm`.
        norm: "linf" or "l2".
        steps: gradient steps (>= 1).
        step_size: alpha; default 2.5 * epsilon / steps (Madry et al.'s choice, enough
            to cross the ball from the random start).
        random_start: start from a uniform point of the ball (`random_in_ball`).
        seed: integer seed of the random start (batch b uses the stateless seed
            (seed, b), so the result repeats for the same seed and batch_size).

    Returns:
        float32 NumPy array of x's shape with `||x_adv_i - x_i|| <= epsilon` per example
        and every value in `clip_range`.

    Raises:
        KerasGenError / UnknownNameError: one line naming a bad argument (an unknown
            norm, steps < 1, a step_size <= 0, and those of `fgsm`).
    """
    arr, y, t, epsilon, clip_range = _check_inputs(model, x, labels, epsilon, norm, clip_range, from_logits,
                                                   true_labels)
    if isinstance(steps, bool) or not isinstance(steps, (int, np.integer)) or steps < 1:
        raise KerasGenError(f"steps must be an integer >= 1, got {steps!r}")
    if step_size is not None:
        step_size = _check_number("step_size", step_size, above=0)
    seed = int(_check_number("seed", seed, low=0))
    batch_size = int(_check_number("batch_size", batch_size, low=1))
    logits_fn = _compiled(model, ("logits", from_logits), lambda: logits_function(model, from_logits))
    _check_classes(logits_fn, arr, y, t)

    def make():
        @tf.function(reduce_retracing=True)
        def attack(xb, yb, tb, eps, alpha, n_steps, seed_pair):
            return pgd_tensor(logits_fn, xb, yb, eps, norm, n_steps, alpha, random_start, targeted, tb, clip_range,
                              seed_pair)
        return attack

    attack = _compiled(model, ("pgd", from_logits, norm, bool(random_start), bool(targeted), clip_range), make)
    alpha = 2.5 * epsilon / steps if step_size is None else step_size
    return _batched(
        lambda xb, yb, tb, b: attack(xb, yb, tb, tf.constant(epsilon, tf.float32), tf.constant(alpha, tf.float32),
                                     tf.constant(steps, tf.int32), tf.stack([tf.constant(seed, tf.int32), b])),
        arr, y, t, batch_size)


def random_perturbation(x, epsilon, *, norm="linf", clip_range=DEFAULT_CLIP_RANGE, seed=0):
    """Random noise of the attacks' budget: the baseline an attack must beat.

    Formula: `clip(x + epsilon * u)` with u random signs (L-infinity: every pixel moves
    by epsilon) or a uniform unit direction (L2), per example; the clip may shorten it,
    as it does the attacks'.

    Returns:
        float32 NumPy array of x's shape.
    """
    if norm not in NORMS:
        raise unknown_name("norm", norm, NORMS)
    epsilon = _check_number("epsilon", epsilon, low=0)
    arr, clip_range = _check_x(x, clip_range)
    seed = int(_check_number("seed", seed, low=0))
    noise = on_sphere(tf.shape(arr), tf.constant(epsilon, tf.float32), norm, tf.constant([seed, 0]))
    return _clip(tf.constant(arr) + noise, clip_range).numpy()
