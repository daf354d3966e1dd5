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

Writes `metrics.json` and `trajectories.png` (the two orbits in the (x, y) plane with the
Keras iterates overlaid, and the radius over steps).
"""
import dataclasses
import time

import numpy as np

from reproductions import common

NAME = "minmax-vs-maxmin"


def _field(default, help_text):
    return dataclasses.field(default=default, metadata={"help": help_text})


@dataclasses.dataclass
class HParams:
    lr: float = _field(0.1, "step size of both players (plain SGD, no momentum)")
    steps: int = _field(300, "gradient steps")
    x0: float = _field(1.0, "initial x (the minimising player)")
    y0: float = _field(0.5, "initial y (the maximising player)")
    grid_points: int = _field(401, "grid points per axis for the brute-force minmax / maxmin")
    seed: int = _field(0, "seed (the game is deterministic; kept for the interface)")
    out: str = _field("runs/minmax-vs-maxmin", "output folder")
    strategy: str = _field("default", "default, mirrored or multiworker")


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


def invariant(path, lr):
    """Q = x^2 + y^2 - lr x y, conserved by the alternating map."""
    return path[:, 0] ** 2 + path[:, 1] ** 2 - lr * path[:, 0] * path[:, 1]


def minmax_maxmin(v, grid):
    """(min_x max_y V, max_y min_x V) on grid x grid; V(x, y) with x on axis 0."""
    table = v(grid[:, None], grid[None, :])
    return float(table.max(axis=1).min()), float(table.min(axis=0).max())


# ---------------------------------------------------------------- Keras
def keras_trajectory(hp, mode):
    """The same game as a Keras model trained with `fit`: returns the [steps + 1, 2] path."""
    import keras
    import tensorflow as tf

    from keras_gen.training import get_strategy

    class BilinearGame(keras.Model):
        """Two players, x (minimises V = x y) and y (maximises it), one SGD optimizer each."""

        def __init__(self, mode, **kwargs):
            super().__init__(**kwargs)
            self.mode = mode
            self.x = self.add_weight((), keras.initializers.Constant(hp.x0), name="x")
            self.y = self.add_weight((), keras.initializers.Constant(hp.y0), name="y")

        def call(self, inputs=None):
            return self.x * self.y

        def compile(self, x_optimizer, y_optimizer):
            super().compile()
            self.x_optimizer, self.y_optimizer = x_optimizer, y_optimizer
            self.x_optimizer.build([self.x])
            self.y_optimizer.build([self.y])

        def train_step(self, data):
            # V's gradient for each player, from the tape (not the formula).
            with tf.GradientTape(persistent=True) as tape:
                value = self.x * self.y
            gx, gy = tape.gradient(value, self.x), tape.gradient(value, self.y)
            self.x_optimizer.apply([gx], [self.x])  # x descends V
            if self.mode == "alternating":  # y answers the new x
                with tf.GradientTape() as tape:
                    value = self.x * self.y
                gy = tape.gradient(value, self.y)
            self.y_optimizer.apply([-gy], [self.y])  # y ascends V
            return {"x": tf.identity(self.x), "y": tf.identity(self.y)}

    class Recorder(keras.callbacks.Callback):
        def on_train_begin(self, logs=None):
            self.path = [(float(self.model.x.numpy()), float(self.model.y.numpy()))]

        def on_train_batch_end(self, batch, logs=None):
            self.path.append((float(self.model.x.numpy()), float(self.model.y.numpy())))

    with get_strategy(hp.strategy).scope():
        model = BilinearGame(mode, name=f"{mode}_game")
        model.compile(keras.optimizers.SGD(hp.lr), keras.optimizers.SGD(hp.lr))
    recorder = Recorder()
    dummy = tf.data.Dataset.from_tensors(0.0).repeat()
    model.fit(dummy, steps_per_epoch=hp.steps, epochs=1, verbose=0, callbacks=[recorder], shuffle=False)
    return np.array(recorder.path)


def _figure(out, sim, alt, k_sim, k_alt, hp):
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    fig, (ax, rx) = plt.subplots(1, 2, figsize=(11, 4.8))
    ax.plot(sim[:, 0], sim[:, 1], "C3-", lw=1, label="simultaneous (spirals out)")
    ax.plot(alt[:, 0], alt[:, 1], "C0-", lw=1, label="alternating (closed orbit)")
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
    rx.set_xlabel("step")
    rx.set_ylabel("distance to the equilibrium")
    rx.legend(fontsize=8)
    fig.tight_layout()
    fig.savefig(f"{out}/trajectories.png", dpi=110)
    plt.close(fig)


def run(hp):
    from keras_gen.errors import KerasGenError

    if not 0 < hp.lr < 2:
        raise KerasGenError(f"lr must be in (0, 2) (alternating steps orbit only then), got {hp.lr}")
    if hp.x0 == 0 and hp.y0 == 0:
        raise KerasGenError("start away from the equilibrium (x0, y0) = (0, 0)")
    started = time.time()
    out = common.prepare_out(hp.out)
    common.seed_everything(hp.seed)

    sim = simultaneous(hp.x0, hp.y0, hp.lr, hp.steps)
    alt = alternating(hp.x0, hp.y0, hp.lr, hp.steps)
    k_sim = keras_trajectory(hp, "simultaneous")
    k_alt = keras_trajectory(hp, "alternating")

    r_sim, r_alt = np.hypot(sim[:, 0], sim[:, 1]), np.hypot(alt[:, 0], alt[:, 1])
    growth = r_sim[1:] / r_sim[:-1]
    q = invariant(alt, hp.lr)
    grid = np.linspace(-1.0, 1.0, hp.grid_points)
    bil_minmax, bil_maxmin = minmax_maxmin(lambda x, y: x * y, grid)
    sq_minmax, sq_maxmin = minmax_maxmin(lambda x, y: (x - y) ** 2, grid)
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
        "keras_simultaneous_max_abs_diff": float(np.max(np.abs(k_sim - sim))),
        "keras_alternating_max_abs_diff": float(np.max(np.abs(k_alt - alt))),
        "keras_simultaneous_max_rel_diff": float(np.max(np.hypot(*(k_sim - sim).T) / r_sim)),
        "bilinear_minmax": bil_minmax,
        "bilinear_maxmin": bil_maxmin,
        "squared_difference_minmax": sq_minmax,
        "squared_difference_maxmin": sq_maxmin,
        "seed": hp.seed,
    }
    _figure(out, sim, alt, k_sim, k_alt, hp)
    metrics["seconds"] = round(time.time() - started, 1)
    common.write_metrics(out, metrics, hp, started)
    common.print_metrics(NAME, metrics, [
        "initial_radius", "simultaneous_radius_growth_per_step", "sqrt_1_plus_lr2", "simultaneous_final_radius",
        "alternating_radius_min", "alternating_radius_max", "alternating_final_radius",
        "alternating_invariant_max_rel_drift", "keras_simultaneous_max_rel_diff", "keras_alternating_max_abs_diff",
        "bilinear_minmax", "bilinear_maxmin", "squared_difference_minmax", "squared_difference_maxmin", "seconds",
    ])
    return metrics


if __name__ == "__main__":
    run(HParams())
