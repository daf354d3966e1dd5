"""The lecture notes' optimiser update rules (002, lectures 4-5) as NumPy reference rules.

Each rule holds the state of one parameter vector and maps (theta^t, g^t) to theta^{t+1}
exactly as the notes write it, so Keras's optimizers can be checked against it (and the
places where Keras departs from the notes asserted; see tests/analysis/test_optimizers.py):

    SGD        theta^{t+1} = theta^t - eta g^t
    Momentum   m^0 = 0,  m^{t+1} = lambda m^t - eta g^t,  theta^{t+1} = theta^t + m^{t+1}
    Adagrad    sigma^t = sqrt(1/(t+1) sum_{j<=t} (g^j)^2),  theta^{t+1} = theta^t - eta g^t / sigma^t
    RMSProp    sigma^0 = |g^0|,  sigma^t = sqrt(alpha (sigma^{t-1})^2 + (1 - alpha) (g^t)^2),
               theta^{t+1} = theta^t - eta g^t / sigma^t
    Adam       "RMSProp + momentum": theta^{t+1} = theta^t - eta m^t / sigma^t (the notes' variant),
               with Kingma & Ba's (2015) moving averages and bias corrections (below)

All operations are element-wise (one sigma_i per parameter). A rule's `learning_rate` may
be a number or a function of the update index t = 0, 1, ... (e.g. a
`keras_gen.training.WarmupDecay`), the notes' learning-rate scheduling eta^t.

Where Keras differs (keras 3.x source, `keras/src/optimizers/`):

* `keras.optimizers.SGD(momentum=lambda)` is the notes' momentum exactly.
* `keras.optimizers.Adagrad` sums instead of averaging, starts the sum at
  `initial_accumulator_value = 0.1` and adds epsilon inside the root:
  theta -= lr g^t / sqrt(0.1 + sum_j (g^j)^2 + eps). Its steps shrink like 1/sqrt(t) for a
  constant gradient (Duchi et al. 2011); the notes' root-mean-square keeps them at eta.
* `keras.optimizers.RMSprop` starts from sigma^2 = 0 (not (g^0)^2) and adds epsilon inside
  the root, so its first step is eta / sqrt(1 - alpha) (3.16 eta for rho = 0.9) where the
  notes' is eta.
* `keras.optimizers.Adam` folds the bias corrections into the rate and adds "epsilon hat"
  outside the uncorrected root: theta -= lr sqrt(1 - beta_2^t) / (1 - beta_1^t) m / (sqrt(v) + eps),
  which is Kingma & Ba's rule with eps replaced by eps / sqrt(1 - beta_2^t): 32x larger at the
  first step (beta_2 = 0.999), the same once t >> 1 / (1 - beta_2).

`KerasAdagrad`, `KerasRMSprop` and `KerasAdam` below write Keras's formulas out the same
way, so a test checks Keras against them and the notes' rules against the difference.
"""
import numpy as np

from keras_gen.errors import KerasGenError


def _rate(learning_rate, t):
    """eta^t: the learning rate of update t (a number, or a function of t)."""
    value = learning_rate(t) if callable(learning_rate) else learning_rate
    return float(np.asarray(value))


class Rule:
    """One optimiser rule over a parameter vector: `step(theta, g) -> theta_next`.

    Holds its state (moving averages, the update count t) between steps; `reset()`
    forgets it. Subclasses implement `_update(g, eta, t) -> delta` (theta_next = theta + delta).
    """

    name = "rule"

    def __init__(self, learning_rate):
        if not callable(learning_rate) and not float(learning_rate) > 0:
            raise KerasGenError(f"{type(self).__name__} needs learning_rate > 0, got {learning_rate!r}")
        self.learning_rate = learning_rate
        self.reset()

    def reset(self):
        self.t = 0

    def step(self, theta, g):
        """theta^{t+1} from theta^t and the gradient g^t at it; advances t."""
        theta = np.asarray(theta, dtype=np.float64)
        g = np.asarray(g, dtype=np.float64)
        if theta.shape != g.shape:
            raise KerasGenError(f"{type(self).__name__}.step: theta {theta.shape} and gradient {g.shape} "
                                "differ in shape")
        delta = self._update(g, _rate(self.learning_rate, self.t), self.t)
        self.t += 1
        return theta + delta

    def _update(self, g, eta, t):
        raise NotImplementedError

    def get_config(self):
        return {"learning_rate": self.learning_rate}


class SGD(Rule):
    """Plain gradient descent. Formula: theta^{t+1} = theta^t - eta^t g^t."""

    name = "sgd"

    def _update(self, g, eta, t):
        return -eta * g


class Momentum(Rule):
    """Gradient descent with momentum, as lecture 4 writes it.

    Formula:
        m^0 = 0
        m^{t+1} = lambda m^t - eta^t g^t
        theta^{t+1} = theta^t + m^{t+1}

    (`keras.optimizers.SGD(learning_rate=eta, momentum=lambda)` is this rule exactly.)
    """

    name = "momentum"

    def __init__(self, learning_rate, momentum=0.9):
        if not 0.0 <= float(momentum) < 1.0:
            raise KerasGenError(f"Momentum needs 0 <= momentum < 1, got {momentum!r}")
        self.momentum = float(momentum)
        super().__init__(learning_rate)

    def reset(self):
        super().reset()
        self.m = 0.0

    def _update(self, g, eta, t):
        self.m = self.momentum * self.m - eta * g
        return self.m

    def get_config(self):
        return {**super().get_config(), "momentum": self.momentum}


class Adagrad(Rule):
    """Adagrad as lecture 5 writes it: the root mean square of all past gradients.

    Formula (element-wise):
        sigma^t = sqrt( 1/(t+1) sum_{j=0..t} (g^j)^2 )
        theta^{t+1} = theta^t - eta^t / (sigma^t + epsilon) g^t

    The notes have no epsilon (`epsilon=0`, the default); a zero gradient then gives a
    zero step where sigma is also 0. Duchi et al. (2011) and Keras divide by the root of
    the *sum* instead (see the module docstring and `KerasAdagrad`).
    """

    name = "adagrad"

    def __init__(self, learning_rate, epsilon=0.0):
        self.epsilon = float(epsilon)
        super().__init__(learning_rate)

    def reset(self):
        super().reset()
        self.sum_sq = 0.0

    def _update(self, g, eta, t):
        self.sum_sq = self.sum_sq + g**2
        sigma = np.sqrt(self.sum_sq / (t + 1))
        return -eta * _safe_divide(g, sigma + self.epsilon)

    def get_config(self):
        return {**super().get_config(), "epsilon": self.epsilon}


class RMSProp(Rule):
    """RMSProp as lecture 5 writes it: an exponential moving root mean square, started at |g^0|.

    Formula (element-wise):
        sigma^0 = |g^0|
        sigma^t = sqrt( alpha (sigma^{t-1})^2 + (1 - alpha) (g^t)^2 )      t >= 1
        theta^{t+1} = theta^t - eta^t / (sigma^t + epsilon) g^t

    so the first step is eta sign(g^0). Keras starts from 0 (see `KerasRMSprop`).
    """

    name = "rmsprop"

    def __init__(self, learning_rate, alpha=0.9, epsilon=0.0):
        if not 0.0 <= float(alpha) < 1.0:
            raise KerasGenError(f"RMSProp needs 0 <= alpha < 1, got {alpha!r}")
        self.alpha = float(alpha)
        self.epsilon = float(epsilon)
        super().__init__(learning_rate)

    def reset(self):
        super().reset()
        self.sigma_sq = None

    def _update(self, g, eta, t):
        if self.sigma_sq is None:
            self.sigma_sq = g**2
        else:
            self.sigma_sq = self.alpha * self.sigma_sq + (1.0 - self.alpha) * g**2
        return -eta * _safe_divide(g, np.sqrt(self.sigma_sq) + self.epsilon)

    def get_config(self):
        return {**super().get_config(), "alpha": self.alpha, "epsilon": self.epsilon}


class Adam(Rule):
    """Adam (Kingma & Ba 2015, algorithm 1): the notes' "RMSProp + momentum".

    Formula (element-wise; t counts from 0, the paper's step is t + 1):
        m^t = beta_1 m^{t-1} + (1 - beta_1) g^t,        m^{-1} = 0
        v^t = beta_2 v^{t-1} + (1 - beta_2) (g^t)^2,    v^{-1} = 0
        m_hat = m^t / (1 - beta_1^{t+1}),  v_hat = v^t / (1 - beta_2^{t+1})
        theta^{t+1} = theta^t - eta^t m_hat / (sqrt(v_hat) + epsilon)

    i.e. the notes' variant theta -= eta m / sigma with sigma = sqrt(v_hat) an RMSProp
    average (started at 0 and bias-corrected) and m a momentum average of the gradients.
    Keras uses "epsilon hat" instead (see `KerasAdam`).
    """

    name = "adam"

    def __init__(self, learning_rate, beta_1=0.9, beta_2=0.999, epsilon=1e-7):
        for label, b in (("beta_1", beta_1), ("beta_2", beta_2)):
            if not 0.0 <= float(b) < 1.0:
                raise KerasGenError(f"Adam needs 0 <= {label} < 1, got {b!r}")
        self.beta_1, self.beta_2, self.epsilon = float(beta_1), float(beta_2), float(epsilon)
        super().__init__(learning_rate)

    def reset(self):
        super().reset()
        self.m = 0.0
        self.v = 0.0

    def _update(self, g, eta, t):
        self.m = self.beta_1 * self.m + (1.0 - self.beta_1) * g
        self.v = self.beta_2 * self.v + (1.0 - self.beta_2) * g**2
        m_hat = self.m / (1.0 - self.beta_1 ** (t + 1))
        v_hat = self.v / (1.0 - self.beta_2 ** (t + 1))
        return -eta * m_hat / (np.sqrt(v_hat) + self.epsilon)

    def get_config(self):
        return {**super().get_config(), "beta_1": self.beta_1, "beta_2": self.beta_2, "epsilon": self.epsilon}


# ---------------------------------------------------------------- Keras's formulas, written out
class KerasAdagrad(Adagrad):
    """Keras's Adagrad written out (Duchi et al. 2011 with an initial accumulator).

    Formula:  a^t = a_0 + sum_{j<=t} (g^j)^2,  theta^{t+1} = theta^t - eta^t g^t / sqrt(a^t + epsilon)
    with Keras's defaults a_0 = 0.1, epsilon = 1e-7.
    """

    name = "keras_adagrad"

    def __init__(self, learning_rate, initial_accumulator_value=0.1, epsilon=1e-7):
        self.initial_accumulator_value = float(initial_accumulator_value)
        super().__init__(learning_rate, epsilon)

    def _update(self, g, eta, t):
        self.sum_sq = self.sum_sq + g**2
        return -eta * g / np.sqrt(self.initial_accumulator_value + self.sum_sq + self.epsilon)

    def get_config(self):
        return {**super().get_config(), "initial_accumulator_value": self.initial_accumulator_value}


class KerasRMSprop(RMSProp):
    """Keras's RMSprop written out (no momentum, not centred).

    Formula:  v^t = rho v^{t-1} + (1 - rho) (g^t)^2 with v^{-1} = 0,
              theta^{t+1} = theta^t - eta^t g^t / sqrt(v^t + epsilon)
    (Keras's defaults rho = 0.9, epsilon = 1e-7).
    """

    name = "keras_rmsprop"

    def __init__(self, learning_rate, rho=0.9, epsilon=1e-7):
        super().__init__(learning_rate, alpha=rho, epsilon=epsilon)

    def _update(self, g, eta, t):
        previous = 0.0 if self.sigma_sq is None else self.sigma_sq
        self.sigma_sq = self.alpha * previous + (1.0 - self.alpha) * g**2
        return -eta * g / np.sqrt(self.sigma_sq + self.epsilon)


class KerasAdam(Adam):
    """Keras's Adam written out: bias corrections in the rate, "epsilon hat" outside the root.

    Formula:  eta_t = eta^t sqrt(1 - beta_2^{t+1}) / (1 - beta_1^{t+1}),
              theta^{t+1} = theta^t - eta_t m^t / (sqrt(v^t) + epsilon)
    (Kingma & Ba section 2's "efficient" ordering; equal to `Adam` with epsilon replaced
    by epsilon / sqrt(1 - beta_2^{t+1})).
    """

    name = "keras_adam"

    def _update(self, g, eta, t):
        self.m = self.beta_1 * self.m + (1.0 - self.beta_1) * g
        self.v = self.beta_2 * self.v + (1.0 - self.beta_2) * g**2
        eta_t = eta * np.sqrt(1.0 - self.beta_2 ** (t + 1)) / (1.0 - self.beta_1 ** (t + 1))
        return -eta_t * self.m / (np.sqrt(self.v) + self.epsilon)


def _safe_divide(g, sigma):
    """g / sigma, with 0 where sigma is 0 (then g is 0 too for the notes' rules)."""
    sigma = np.asarray(sigma, dtype=np.float64)
    out = np.zeros(np.broadcast(g, sigma).shape)
    np.divide(g, sigma, out=out, where=sigma != 0)
    return out


def trajectory(rule, grad_fn, theta0, steps):
    """Runs `rule` from `theta0` for `steps` updates; returns the iterates [steps + 1, n].

    `grad_fn(theta)` is the gradient at theta. The rule is reset first.
    """
    if int(steps) < 0:
        raise KerasGenError(f"trajectory needs steps >= 0, got {steps}")
    rule.reset()
    theta = np.asarray(theta0, dtype=np.float64)
    path = [theta]
    for _ in range(int(steps)):
        theta = rule.step(theta, grad_fn(theta))
        path.append(theta)
    return np.stack(path)
