"""C13: minmax != maxmin, and alternating gradient updates need not converge (notes 001).

The bilinear game V(x, y) = x * y, x minimising and y maximising, has its unique saddle
point (equilibrium) at (0, 0), yet gradient play never reaches it:

* simultaneous steps (x, y) <- (x - lr y, y + lr x) multiply the distance to the
  equilibrium by exactly sqrt(1 + lr^2) every step: the iterates spiral outwards;
* alternating steps x <- x - lr y, then y <- y + lr x (with the new x) conserve
  Q = x^2 + y^2 - lr x y (for lr < 2 an ellipse): the iterates orbit forever, the radius
  bounded between sqrt(Q / (1 + lr/2)) and sqrt(Q / (1 - lr/2)), never shrinking.

Both are run twice: in closed form (NumPy) and as a Keras model with the two players'
scalars as weights, trained with `fit` by two plain SGD optimizers (train_step does the
x step, then the y step, on V's gradients from TensorFlow); the trajectories must agree.

Minmax vs maxmin on the square [-1, 1]^2 (by brute force on a grid): for x*y both
orders give 0 (a saddle point exists, yet gradient play misses it); for V = (x - y)^2,
min_x max_y V = 1 but max_y min_x V = 0: the order of the players changes the answer,
which is why training the generator against a fixed discriminator (maxmin) is not the
GAN's minmax problem.

A convergent method is the baseline that shows the checks can fail: extragradient
(Korpelevich 1976; look ahead one simultaneous step, then step with the gradients there)
contracts the distance by sqrt(1 - lr^2 + lr^4) < 1 per step and reaches the
equilibrium.

Claims (C13), all seed-free (the game and its iterates are deterministic; `--seeds` is
accepted and changes nothing):
* simultaneous steps move away: final radius / initial radius > 1 (Keras `fit`
  iterates; closed form (1 + lr^2)^(steps/2); extragradient's ratio as the baseline);
* alternating steps do not converge: the smallest radius over the second half of the
  steps is >= 0.5 x the initial radius (Keras `fit` iterates; extragradient's as the
  baseline);
* minmax != maxmin: for V = (x - y)^2 on [-1, 1]^2, min_x max_y V - max_y min_x V >= 0.5
  (it is 1; x * y, which has a saddle point, gives 0).
`keras_*_max_abs_diff` say how far Keras `fit` is from the closed-form iterates.

Measured with the defaults (`keras-gen reproduce minmax-vs-maxmin`; 36 s wall on a machine
shared by ~8 engineers), 3 of 3 claims met: simultaneous steps grow the distance by
1.004988 per step (sqrt(1 + lr^2) = 1.004988), 1.118 -> 4.973 after 300 steps (ratio 4.448;
extragradient: 0.225); the alternating orbit stays between 1.0690 and 1.1239 (the
theoretical bounds 1.0690 and 1.1239; Q drifts by 1.5e-15 relative; late minimum / start
0.956, extragradient 0.225); minmax - maxmin of (x - y)^2 is 1.0 (x y: 0.0). Keras `fit`
matches the closed-form iterates to 1.1e-6 (relative, simultaneous) and 3.6e-7 (absolute,
alternating).

Writes `metrics.json` and `trajectories.png` (the orbits in the (x, y) plane with the
Keras iterates and extragradient overlaid, and the radius over steps).
"""
import dataclasses

import numpy as np

from reproductions import common

NAME = "minmax-vs-maxmin"
GAP_TARGET = 0.5
ORBIT_TARGET = 0.5


@dataclasses.dataclass
class HParams(common.CommonHParams):
    lr: float = common.field(0.1, "step size of both players (plain SGD, no momentum)", above=0, below=2)
    steps: int = common.field(300, "gradient steps", low=2)
    x0: float = common.field(1.0, "initial x (the minimising player)", low=-10, high=10)
    y0: float = common.field(0.5, "initial y (the maximising player)", low=-10, high=10)
    grid_points: int = common.field(401, "grid points per axis for the brute-force minmax / maxmin", low=3)


# ---------------------------------------------------------------- closed form
def simultaneous(x, y, lr, steps):
    """Trajectory [steps + 1, 2] of simultaneous gradient descent-ascent on V = x y."""
    path = [(x, y)]
    for _ in range(steps):
        x, y = x - lr * y, y + lr * x  # dV/dx = y, dV/dy = x, both at the old point
        path.append((x, y))
    return np.array(path)


def alternating(x, y, lr, steps):
    """Trajectory of alternating steps: x first, then y against the new x."""
    path = [(x, y)]
    for _ in range(steps):
        x = x - lr * y
        y = y + lr * x
        path.append((x, y))
    return np.array(path)


def extragradient(x, y, lr, steps):
    """Trajectory of extragradient: a simultaneous look-ahead step, then a step with its gradients.

    On V = x y the update is linear with |eigenvalue| sqrt(1 - lr^2 + lr^4) < 1: it converges.
    """
    path = [(x, y)]
    for _ in range(steps):
        xh, yh = x - lr * y, y + lr * x
        x, y = x - lr * yh, y + lr * xh
        path.append((x, y))
    return np.array(path)


def invariant(path, lr):
    """Q = x^2 + y^2 - lr x y, conserved by the alternating map."""
    return path[:, 0] ** 2 + path[:, 1] ** 2 - lr * path[:, 0] * path[:, 1]


def minmax_maxmin(v, grid):
    """(min_x max_y V, max_y min_x V) on grid x grid; V(x, y) with x on axis 0."""
    table = v(grid[:, None], grid[None, :])
    return float(table.max(axis=1).min()), float(table.min(axis=0).max())


# ---------------------------------------------------------------- Keras
def _game_classes():
    import keras
    import tensorflow as tf

    class BilinearGame(keras.Model):
        """Two players, x (minimises V = x y) and y (maximises it), one SGD optimizer each."""

        def __init__(self, mode, x0, y0, **kwargs):
            super().__init__(**kwargs)
            self.mode = mode
            self.x = self.add_weight((), keras.initializers.Constant(x0), name="x")
            self.y = self.add_weight((), keras.initializers.Constant(y0), name="y")
            self.built = True  # both players exist now (fit's BackupAndRestore needs a built model)

        def call(self, inputs=None):
            return self.x * self.y

        def compile(self, x_optimizer, y_optimizer):
            super().compile()
            self.x_optimizer, self.y_optimizer = x_optimizer, y_optimizer
            self.x_optimizer.build([self.x])
            self.y_optimizer.build([self.y])

        def train_step(self, data):
            # V's gradient for each player, from the tape (not the formula). V is no mean over
            # examples: every replica computes the whole of it, and the optimizers sum the
            # replicas' gradients, so each replica contributes V / replicas (exact: with one
            # replica V / 1 is V, with two the halves sum back to V's gradient bit for bit).
            replicas = tf.distribute.get_replica_context().num_replicas_in_sync
            with tf.GradientTape(persistent=True) as tape:
                value = self.x * self.y / replicas
            gx, gy = tape.gradient(value, self.x), tape.gradient(value, self.y)
            self.x_optimizer.apply([gx], [self.x])  # x descends V
            if self.mode == "alternating":  # y answers the new x
                with tf.GradientTape() as tape:
                    value = self.x * self.y / replicas
                gy = tape.gradient(value, self.y)
            self.y_optimizer.apply([-gy], [self.y])  # y ascends V
            return {"x": tf.identity(self.x), "y": tf.identity(self.y)}

    class Recorder(keras.callbacks.Callback):
        """The iterates after every step (the players' weights)."""

        def on_train_begin(self, logs=None):
            self.path = [(float(self.model.x.numpy()), float(self.model.y.numpy()))]

        def on_train_batch_end(self, batch, logs=None):
            self.path.append((float(self.model.x.numpy()), float(self.model.y.numpy())))

    return BilinearGame, Recorder


def keras_trajectory(r, hp, mode):
    """The game as a Keras model trained with `fit` (one epoch of `steps`): the [steps + 1, 2] path."""
    import keras
    import tensorflow as tf

    game_cls, recorder_cls = _game_classes()
    with r.strategy.scope():
        model = game_cls(mode, hp.x0, hp.y0, name=f"{mode}_game")
        model.compile(keras.optimizers.SGD(hp.lr), keras.optimizers.SGD(hp.lr))
    recorder = recorder_cls()
    # The step reads no data; `fit` needs steps to count. One dummy row per replica: a
    # distributed dataset must have a batch dimension to split (a scalar element makes
    # MultiWorkerMirroredStrategy fail in `get_static_batch_dim`).
    dummy = tf.data.Dataset.from_tensors(tf.zeros([r.strategy.num_replicas_in_sync])).repeat()
    # One epoch: an interrupted fit starts this (cheap) trajectory again rather than resume mid-path.
    r.fit(model, dummy, key=f"keras_{mode}", epochs=1, steps_per_epoch=hp.steps, verbose=0, callbacks=[recorder],
          shuffle=False, tensorboard=False)
    return np.array(recorder.path)


def keras_part(r, hp):
    return {mode: keras_trajectory(r, hp, mode).tolist() for mode in ("simultaneous", "alternating")}


def claims_for(sim, alt, extra, hp, gaps):
    """The C13 claims from the (Keras) simultaneous and alternating paths and the extragradient baseline."""
    def radius(path):
        return np.hypot(path[:, 0], path[:, 1])

    def late_min(path):
        return float(radius(path)[len(path) // 2:].min() / radius(path)[0])

    def growth(path):
        return float(radius(path)[-1] / radius(path)[0])

    return [
        common.claim(
            "C13", "Simultaneous gradient steps on V = x y move away from the equilibrium: final / initial "
            "distance > 1", "simultaneous_final_over_initial_radius", growth(sim), target=1.0, op=">",
            baselines={"closed_form": float((1 + hp.lr ** 2) ** (hp.steps / 2)), "extragradient": growth(extra)}),
        common.claim(
            "C13", f"Alternating gradient steps do not converge: the smallest distance to the equilibrium over the "
            f"second half of the steps is >= {ORBIT_TARGET:g} x the initial one", "alternating_late_min_radius_ratio",
            late_min(alt), target=ORBIT_TARGET, op=">=", baselines={"extragradient": late_min(extra)}),
        common.claim(
            "C13", f"minmax != maxmin: for V = (x - y)^2 on [-1, 1]^2, min_x max_y V - max_y min_x V >= {GAP_TARGET:g}",
            "squared_difference_minmax_minus_maxmin", gaps["squared_difference"], target=GAP_TARGET, op=">=",
            baselines={"bilinear_x_times_y": gaps["bilinear"]}),
    ]


def _figure(out, sim, alt, k_sim, k_alt, extra, hp):
    import matplotlib.pyplot as plt

    from keras_gen import plots

    fig, (ax, rx) = plt.subplots(1, 2, figsize=(10, 4.4))
    ax.plot(sim[:, 0], sim[:, 1], "C3-", lw=1, label="simultaneous (spirals out)")
    ax.plot(alt[:, 0], alt[:, 1], "C0-", lw=1, label="alternating (closed orbit)")
    ax.plot(extra[:, 0], extra[:, 1], "C2-", lw=1, label="extragradient (converges)")
    every = max(1, hp.steps // 40)
    ax.plot(k_sim[::every, 0], k_sim[::every, 1], "C3.", ms=4, label="Keras fit, simultaneous")
    ax.plot(k_alt[::every, 0], k_alt[::every, 1], "C0.", ms=4, label="Keras fit, alternating")
    ax.plot([0], [0], "k*", ms=12, label="equilibrium (0, 0)")
    ax.plot([hp.x0], [hp.y0], "ko", ms=5, label="start")
    ax.set_aspect("equal")
    ax.set_xlabel("x (minimises x·y)")
    ax.set_ylabel("y (maximises x·y)")
    ax.set_title(f"V(x, y) = x·y, lr = {hp.lr}")
    ax.legend(fontsize=7, loc="upper left", framealpha=0.9)
    steps = np.arange(len(sim))
    r0 = np.hypot(hp.x0, hp.y0)
    rx.semilogy(steps, np.hypot(sim[:, 0], sim[:, 1]), "C3-", label="simultaneous")
    rx.semilogy(steps, r0 * np.sqrt(1 + hp.lr**2) ** steps, "k:", label="r0 · sqrt(1 + lr²)^t")
    rx.semilogy(steps, np.hypot(alt[:, 0], alt[:, 1]), "C0-", label="alternating")
    rx.semilogy(steps, np.hypot(extra[:, 0], extra[:, 1]), "C2-", label="extragradient")
    rx.set_xlabel("step")
    rx.set_ylabel("distance to the equilibrium")
    rx.legend(fontsize=8)
    return plots.save(fig, f"{out}/trajectories.png", dpi=90)


def run(hp):
    from keras_gen.errors import KerasGenError

    if hp.x0 == 0 and hp.y0 == 0:
        raise KerasGenError("start away from the equilibrium (x0, y0) = (0, 0)")
    r = common.Run(NAME, hp)

    sim = simultaneous(hp.x0, hp.y0, hp.lr, hp.steps)
    alt = alternating(hp.x0, hp.y0, hp.lr, hp.steps)
    extra = extragradient(hp.x0, hp.y0, hp.lr, hp.steps)
    paths = r.cached("keras", lambda: keras_part(r, hp))
    k_sim, k_alt = np.array(paths["simultaneous"]), np.array(paths["alternating"])

    r_sim, r_alt = np.hypot(sim[:, 0], sim[:, 1]), np.hypot(alt[:, 0], alt[:, 1])
    growth = r_sim[1:] / r_sim[:-1]
    q = invariant(alt, hp.lr)
    grid = np.linspace(-1.0, 1.0, hp.grid_points)
    bil_minmax, bil_maxmin = minmax_maxmin(lambda x, y: x * y, grid)
    sq_minmax, sq_maxmin = minmax_maxmin(lambda x, y: (x - y) ** 2, grid)
    gaps = {"bilinear": bil_minmax - bil_maxmin, "squared_difference": sq_minmax - sq_maxmin}
    claims = claims_for(k_sim, k_alt, extra, hp, gaps)
    metrics = {
        "lr": hp.lr,
        "steps": hp.steps,
        "initial_radius": float(r_sim[0]),
        "simultaneous_radius_growth_per_step": float(np.exp(np.mean(np.log(growth)))),
        "sqrt_1_plus_lr2": float(np.sqrt(1 + hp.lr**2)),
        "simultaneous_growth_max_abs_error": float(np.max(np.abs(growth - np.sqrt(1 + hp.lr**2)))),
        "simultaneous_final_radius": float(r_sim[-1]),
        "alternating_radius_min": float(r_alt.min()),
        "alternating_radius_max": float(r_alt.max()),
        "alternating_final_radius": float(r_alt[-1]),
        "alternating_radius_bounds_theory": [float(np.sqrt(q[0] / (1 + hp.lr / 2))), float(np.sqrt(q[0] / (1 - hp.lr / 2)))],
        "alternating_invariant": float(q[0]),
        "alternating_invariant_max_rel_drift": float(np.max(np.abs(q - q[0])) / q[0]),
        "extragradient_final_radius": float(np.hypot(*extra[-1])),
        "extragradient_contraction_per_step": float(np.sqrt(1 - hp.lr**2 + hp.lr**4)),
        "keras_simultaneous_max_abs_diff": float(np.max(np.abs(k_sim - sim))),
        "keras_alternating_max_abs_diff": float(np.max(np.abs(k_alt - alt))),
        "keras_simultaneous_max_rel_diff": float(np.max(np.hypot(*(k_sim - sim).T) / r_sim)),
        "bilinear_minmax": bil_minmax,
        "bilinear_maxmin": bil_maxmin,
        "squared_difference_minmax": sq_minmax,
        "squared_difference_maxmin": sq_maxmin,
    }
    _figure(r.out, sim, alt, k_sim, k_alt, extra, hp)
    return r.finish(metrics, claims, headline=[
        "initial_radius", "simultaneous_radius_growth_per_step", "sqrt_1_plus_lr2", "simultaneous_final_radius",
        "alternating_radius_min", "alternating_radius_max", "alternating_final_radius", "extragradient_final_radius",
        "alternating_invariant_max_rel_drift", "keras_simultaneous_max_rel_diff", "keras_alternating_max_abs_diff",
        "bilinear_minmax", "bilinear_maxmin", "squared_difference_minmax", "squared_difference_maxmin", "seconds",
    ])
