"""C5/C6: on a ring of 8 Gaussians, GAN vs WGAN vs WGAN-GP at equal budgets.

The notes (001, 002, 003) say vanilla GANs suffer mode collapse / mode dropping and that
WGAN (no sigmoid, no log, clipping, RMSProp) and WGAN-GP train more stably. This trains
the three on `toy_ring8` (8 modes on a circle of radius 2, std 0.02) with

* the same players: MLPs with 3 hidden layers of 128 units (ReLU in G, LeakyReLU(0.2)
  in D, no normalisation), z ~ N(0, I_8);
* the same budget: 5,000 generator iterations at batch 256 (WGAN and WGAN-GP take
  `n_critic` = 5 critic steps per iteration, their papers' recipe);
* each method's own documented optimizer family: GAN Adam(beta_1 = 0.5) (DCGAN), WGAN
  RMSProp with clipping to [-0.01, 0.01] (Arjovsky et al. 2017), WGAN-GP Adam(beta_1 =
  0, beta_2 = 0.9) with lambda = 10 (Gulrajani et al. 2017); one schedule for all: the
  rate decays (cosine) to 1% over the run (over the critic's 5x more updates for the
  critic) so the samples settle;
* each method's own best learning rate from one sweep, the same for all: 5e-5, 2e-4,
  1e-3, 5e-3 (log-spaced by 4.5x; 5e-5 is WGAN's paper rate, 2e-4 DCGAN's, 1e-3 the
  rate this reproduction used before for GAN and WGAN-GP), trained with the selection
  seed 0 and judged on the VALIDATION split by the biased MMD² between 2,500 samples and
  the 5,000 validation points (Gaussian kernels of widths 0.05 to 5, summed: it
  penalises missing modes and samples off the modes alike). The sweep's numbers are in
  metrics.json (`sweep`) and `sweep.png`.

Before this, WGAN got RMSProp(5e-5) without decay while GAN and WGAN-GP got 1e-3 with
decay, and covered 0 modes: that measured the choice of rate, not the method.

Reported on the report seeds with the chosen rates, from 2,500 samples per run:
`modes_covered` (of 8; a mode is covered with at least 5% of its fair share n/8 of
high-quality samples, `keras_gen.metrics.modes_covered(min_share=0.05)`),
`high_quality_share` (samples within 3 sigma of a mode) and the MMD² to the TEST split
beside the real-vs-real floor (train split vs test split, same sizes). The trivial
generators are scored the same way: one Gaussian fitted to the data (no modes), the
ring's radius without its modes (`uniform_ring_samples`: it covers most or all modes by
the 5% rule with only ~6% high-quality samples, which is why both numbers are needed),
and a generator collapsed onto one mode.

Claims (each may fail; the statements say what is measured):
* C5: the vanilla GAN drops modes: it covers fewer than 8 modes on average;
* C5: WGAN-GP covers all 8 modes with >= 70% high-quality samples in every seed;
* C5: WGAN-GP covers more modes than the vanilla GAN (mean over seeds, paired);
* C6: WGAN (clipping, RMSProp) covers more modes than the vanilla GAN.

Cost: 12 sweep runs and 9 report runs of 5,000 generator iterations each (WGAN and
WGAN-GP: 25,000 critic updates). The old recipe's 9 runs took ~5 min on a quiet 2-core
machine, so ~12 min is expected for the 21; on the machine shared by ~8 engineers where
this was written (load average up to 25 on 2 cores) one run took 550-930 s wall for the
GAN and 1,280-1,800 s for WGAN (260-420 s for WGAN and WGAN-GP once the load dropped),
and the full default run did not fit in the session.
Every run is a cached part, so a rerun skips finished ones and `--seeds` can grow without
repeating the sweep.

Measured (the sweep: selection seed 0, VALIDATION split; MMD² to the 5,000 validation
points, modes covered, high-quality share):

    method  5e-5               2e-4               1e-3               5e-3
    gan     1.909  0/8  0.004  2.188  0/8  0.000  0.036  8/8  0.943  0.508  5/8  0.942
    wgan    1.104  0/8  0.002  0.462  0/8  0.003  0.441  0/8  0.004  0.402  0/8  0.004
    wgan_gp 1.145  0/8  0.000  0.344  0/8  0.006  0.010  8/8  0.867  0.025  8/8  0.771

No method covers a mode at 5e-5 or 2e-4 with this schedule. WGAN with clipping to 0.01
and RMSProp covers no mode at any rate of the sweep (its MMD² falls with the rate, so
5e-3 is chosen): the earlier "WGAN 0 modes" was not only its rate. Chosen: GAN 1e-3,
WGAN 5e-3, WGAN-GP 1e-3.

Report seeds 10, 11, 12 (TEST split, 2,500 samples per run; `keras-gen reproduce
gan-vs-wgan-gp-ring`; 4 of 5 claims met):

    method    modes covered     high-quality share        MMD² to test
    gan       3, 6, 6           0.888, 0.684, 0.892       1.078, 0.511, 0.184
    wgan      0, 0, 0           0.005, 0.004, 0.005       0.412, 0.490, 0.454
    wgan_gp   8, 8, 8           0.841, 0.880, 0.812       0.0082, 0.0085, 0.0098
    real (train split)  8       0.989                     0.0048 (the floor)
    fitted Gaussian     0       0.002                     0.496
    uniform ring        7       0.066                     0.295
    one mode            1       0.990                     4.722

C5 met: GAN 5.0 +- 1.7 modes (< 8), WGAN-GP 8 modes in every seed with 84.5 +- 3.4%
high-quality samples (>= 70%), WGAN-GP - GAN +3.0 +- 1.7 modes. C6 NOT MET: WGAN -
GAN -5.0 +- 1.7 modes: the clipped critic spreads its samples over the ring's disc
(MMD² 0.45, near the fitted Gaussian's 0.50) and covers no mode at any rate tried.
Wall time (2026-12-02, 2 cores, each process on one core beside another run): the last
2 sweep runs and the 9 report runs took 2,034 s (seeds 10, 11) and 1,313 s (seed 12)
in two processes, merged by rerunning the default command, which reused every part
(4 s); per run 111-113 s (GAN), 251-257 s (WGAN), 361-376 s (WGAN-GP) of one core. The
first 10 sweep runs were made in an earlier session under heavy load.

Writes `metrics.json`, `scatter.png` (samples of every method and report seed over the
modes) and `sweep.png` (validation MMD² over the learning rate per method).
"""
import dataclasses

import numpy as np

from reproductions import common

NAME = "gan-vs-wgan-gp-ring"
TOY = "toy_ring8"
MODELS = ("gan", "wgan", "wgan_gp")
HQ_TARGET = 0.7
# Fields that decide what a training run computes; the rest only choose which runs happen
# (every run's method, rate and seed are in its key).
RECIPE = ("steps", "batch_size", "hidden", "latent_dim", "n_critic", "clip_value", "gp_weight", "eval_samples",
          "min_share", "bandwidths", "steps_per_execution", "precision")


@dataclasses.dataclass
class HParams(common.CommonHParams):
    steps: int = common.field(5000, "generator iterations for every method")
    batch_size: int = common.field(256, "global batch size")
    hidden: int = common.field(128, "units of each of the 3 hidden layers of G and D")
    latent_dim: int = common.field(8, "size of z ~ N(0, I)")
    n_critic: int = common.field(5, "WGAN and WGAN-GP: critic steps per generator iteration")
    clip_value: float = common.field(0.01, "WGAN: critic weights are clipped to [-c, c]", above=0)
    gp_weight: float = common.field(10.0, "WGAN-GP: lambda of the gradient penalty")
    learning_rates: str = common.field("5e-5,2e-4,1e-3,5e-3", "the sweep: initial learning rates tried for every "
                                       "method (one value: no sweep)")
    selection_seeds: str = common.field("0", "seeds of the sweep (never report seeds)")
    models: str = common.field("gan,wgan,wgan_gp", "comma-separated subset of gan, wgan, wgan_gp", choices=MODELS,
                               multi=True)
    eval_samples: int = common.field(2500, "generated samples per run for the measurements (<= 5,000)", high=5000)
    min_share: float = common.field(0.05, "a mode is covered with >= min_share of its fair share n/8 of "
                                    "high-quality samples", above=0, high=1)
    bandwidths: str = common.field("0.05,0.1,0.2,0.5,1,2,5", "Gaussian kernel widths of the MMD² (summed)")
    steps_per_execution: int = common.field(25, "train steps per tf.function call (speed only)")


def floats(text, option):
    """Comma-separated positive numbers of `--option`."""
    from keras_gen.errors import KerasGenError

    items = common._comma_items(text, option)
    try:
        values = [float(s) for s in items]
    except ValueError:
        raise KerasGenError(f"--{option.replace('_', '-')} must be comma-separated numbers, got {text!r}") from None
    if not all(np.isfinite(v) and v > 0 for v in values):
        raise KerasGenError(f"--{option.replace('_', '-')} must be positive numbers, got {text!r}")
    return values


def build(kind, hp, seed, learning_rate, strategy):
    """The compiled model `kind` with initial rate `learning_rate` (call in `strategy`'s scope)."""
    import keras

    from keras_gen.models import GAN, WGAN, WGANGP, mlp_discriminator, mlp_generator
    from keras_gen.training import HoldThenCosine, jit_compile_for, steps_per_execution_for

    hidden = (hp.hidden,) * 3
    g, d = mlp_generator(2, hp.latent_dim, hidden), mlp_discriminator(2, hidden)

    def schedule(updates):  # cosine from the first step (decay_fraction 1) to 1%
        return HoldThenCosine(learning_rate, updates, decay_fraction=1.0, alpha=0.01)

    d_updates = hp.steps * (1 if kind == "gan" else hp.n_critic)
    if kind == "gan":
        model = GAN(generator=g, discriminator=d, seed=seed)
        d_opt, g_opt = (keras.optimizers.Adam(schedule(n), beta_1=0.5) for n in (d_updates, hp.steps))
    elif kind == "wgan":
        model = WGAN(generator=g, discriminator=d, clip_value=hp.clip_value, n_critic=hp.n_critic, seed=seed)
        d_opt, g_opt = (keras.optimizers.RMSprop(schedule(n)) for n in (d_updates, hp.steps))
    else:
        model = WGANGP(generator=g, discriminator=d, gp_weight=hp.gp_weight, n_critic=hp.n_critic, seed=seed)
        d_opt, g_opt = (keras.optimizers.Adam(schedule(n), beta_1=0.0, beta_2=0.9) for n in (d_updates, hp.steps))
    epochs = min(10, hp.steps)
    model.compile(d_optimizer=d_opt, g_optimizer=g_opt, jit_compile=jit_compile_for(strategy),
                  steps_per_execution=steps_per_execution_for(strategy, min(hp.steps_per_execution,
                                                                            hp.steps // epochs)))
    return model


def evaluate(samples, heldout, hp):
    """Modes covered, high-quality share, and MMD² to the held-out points, of any samples."""
    from keras_gen.data.toys import toy_distribution
    from keras_gen.metrics import high_quality_share, mmd2, modes_covered

    dist = toy_distribution(TOY)
    finite = bool(np.all(np.isfinite(samples)))  # a run that diverged scores no modes and no MMD² (None)
    return {
        "modes_covered": modes_covered(samples, dist.centers, dist.sigma, min_share=hp.min_share) if finite else 0,
        "high_quality_share": high_quality_share(samples, dist.centers, dist.sigma) if finite else 0.0,
        "mmd2": mmd2(samples, heldout, floats(hp.bandwidths, "bandwidths"), unbiased=False) if finite else None,
    }


def _mean_mmd2(runs):
    """Mean MMD² over runs; inf when a run diverged (its MMD² is None)."""
    values = [v["mmd2"] for v in runs]
    return float("inf") if any(v is None for v in values) else float(np.mean(values))


def train_and_score(r, hp, kind, learning_rate, seed, split, key):
    """Trains one model (resumable) and scores 2,500 samples against `split`; saves them."""
    import time

    from keras_gen.data.toys import toy_arrays, toy_dataset

    t = time.time()
    common.seed_everything(seed)
    with r.strategy.scope():
        model = build(kind, hp, seed, learning_rate, r.strategy)
    ds = toy_dataset(TOY, seed=seed, batch_size=hp.batch_size, repeat=True, drop_remainder=True)
    epochs = min(10, hp.steps)
    r.fit(model, ds, key=key, epochs=epochs, steps_per_epoch=hp.steps // epochs)
    x = model.generate(hp.eval_samples, seed=10_000 + seed)
    np.save(f"{r.key_dir(key)}/samples.npy", x)
    out = evaluate(x, toy_arrays(TOY, split), hp)
    out["seconds"] = round(time.time() - t, 1)
    print(f"{key}: modes {out['modes_covered']}/8, high-quality {out['high_quality_share']:.3f}, "
          f"MMD² ({split}) {out['mmd2']} ({out['seconds']} s)")
    return out


def baselines(hp):
    """The trivial generators and real data, scored like a trained model on the test split."""
    from keras_gen.data.toys import toy_arrays, toy_distribution
    from keras_gen.metrics import fitted_gaussian_samples, uniform_ring_samples

    dist = toy_distribution(TOY)
    train, test = toy_arrays(TOY, "train"), toy_arrays(TOY, "test")
    n = hp.eval_samples
    rng = np.random.default_rng(5)
    samples = {
        "real_train_split": train[:n],  # the floor: what a perfect generator scores
        "fitted_gaussian": fitted_gaussian_samples(train, n, seed=5),
        "uniform_ring": uniform_ring_samples(dist.centers, dist.sigma, n, seed=5),
        "one_mode": (dist.centers[0] + dist.sigma * rng.standard_normal((n, 2))).astype(np.float32),
    }
    return {name: evaluate(x, test, hp) for name, x in samples.items()}


def select(sweep, kinds, rates):
    """`{kind: rate}` with the lowest mean validation MMD² over the selection seeds."""
    best = {}
    for kind in kinds:
        means = {lr: _mean_mmd2(sweep[kind][f"{lr:g}"].values()) for lr in rates}
        best[kind] = min(rates, key=lambda lr: (means[lr], lr))
    return best


def claims_for(results, base):
    """The C5/C6 claim record from `{kind: {seed: scores}}` on test and the baselines."""
    def values(kind, key):
        return {s: v[key] for s, v in results[kind].items()}

    def mode_baselines():
        return {name: b["modes_covered"] for name, b in base.items()}

    claims = []
    if "gan" in results:
        claims.append(common.claim(
            "C5", "A vanilla GAN drops modes of the ring: fewer than 8 of 8 modes covered on average",
            "gan_modes_covered", values("gan", "modes_covered"), target=8, op="<",
            baselines={**{f"{k}_modes_covered": common.mean_sd(values(k, "modes_covered")) for k in results
                          if k != "gan"}, **mode_baselines()}))
    if "wgan_gp" in results:
        claims.append(common.claim(
            "C5", "WGAN-GP covers all 8 modes in every seed", "wgan_gp_modes_covered",
            values("wgan_gp", "modes_covered"), target=8, op=">=", every=True, baselines=mode_baselines(),
            note="the uniform ring covers most modes too: read it with the next claim"))
        claims.append(common.claim(
            "C5", f"WGAN-GP puts >= {HQ_TARGET:.0%} of its samples within 3 sigma of a mode in every seed",
            "wgan_gp_high_quality_share", values("wgan_gp", "high_quality_share"), target=HQ_TARGET, op=">=",
            every=True, baselines={name: b["high_quality_share"] for name, b in base.items()}))
    for kind, cid, text in (("wgan_gp", "C5", "WGAN-GP"), ("wgan", "C6", "WGAN (clipping, RMSProp)")):
        if kind in results and "gan" in results:
            seeds = [s for s in results[kind] if s in results["gan"]]
            diff = {s: results[kind][s]["modes_covered"] - results["gan"][s]["modes_covered"] for s in seeds}
            claims.append(common.claim(
                cid, f"{text} covers more modes than the vanilla GAN (mean paired difference over seeds > 0)",
                f"{kind}_minus_gan_modes_covered", diff, target=0, op=">",
                baselines={"equal_methods": 0}))
    return claims


def plot_samples(samples, kinds, seeds, path):
    import matplotlib.pyplot as plt

    from keras_gen import plots
    from keras_gen.data.toys import toy_distribution

    centers = toy_distribution(TOY).centers
    fig, axes = plt.subplots(len(kinds), len(seeds), figsize=(2.4 * len(seeds), 2.4 * len(kinds)), squeeze=False)
    for i, kind in enumerate(kinds):
        for j, seed in enumerate(seeds):
            ax = axes[i][j]
            x, m, lr = samples[(kind, seed)]
            ax.scatter(x[:, 0], x[:, 1], s=1, alpha=0.3, color="tab:orange", rasterized=True)
            ax.scatter(centers[:, 0], centers[:, 1], s=20, marker="x", color="k")
            ax.set_xlim(-3, 3)
            ax.set_ylim(-3, 3)
            ax.set_aspect("equal")
            ax.set_title(f"{kind} lr {lr:g} seed {seed}\n{m['modes_covered']}/8, hq {m['high_quality_share']:.2f}",
                         fontsize=7)
            ax.tick_params(labelsize=5)
    return plots.save(fig, path, dpi=80)


def plot_sweep(sweep, kinds, rates, best, path):
    import matplotlib.pyplot as plt

    from keras_gen import plots

    fig, ax = plt.subplots(figsize=(4.5, 3.2))
    for kind in kinds:
        means = [_mean_mmd2(sweep[kind][f"{lr:g}"].values()) for lr in rates]
        means = [m if np.isfinite(m) else np.nan for m in means]  # a diverged rate leaves a gap
        line, = ax.loglog(rates, means, "o-", label=kind)
        ax.loglog([best[kind]], [means[rates.index(best[kind])]], "*", ms=12, color=line.get_color())
    ax.set_xlabel("initial learning rate")
    ax.set_ylabel("MMD² to the validation split")
    ax.set_title("the sweep (selection seeds); * = chosen", fontsize=8)
    ax.legend(fontsize=7)
    return plots.save(fig, path, dpi=90)


def run(hp):
    r = common.Run(NAME, hp, recipe_fields=RECIPE)
    kinds = common.parse_choice_list(hp.models, "models", MODELS, "model")
    rates = floats(hp.learning_rates, "learning_rates")
    selection = common.parse_int_list(hp.selection_seeds, "selection_seeds")
    from keras_gen.errors import KerasGenError

    if set(selection) & set(r.seeds):
        raise KerasGenError(f"--selection-seeds and --seeds must differ, both have {sorted(set(selection) & set(r.seeds))}")

    # === The sweep: every method, every rate, selection seeds, validation split ===
    sweep = {kind: {} for kind in kinds}
    for kind in kinds:
        for lr in rates:
            sweep[kind][f"{lr:g}"] = {}
            if len(rates) == 1:
                continue  # nothing to choose
            for s in selection:
                key = f"sweep_{kind}_lr{lr:g}_seed_{s}"
                sweep[kind][f"{lr:g}"][s] = r.cached(
                    key, lambda: train_and_score(r, hp, kind, lr, s, "validation", key))
    best = select(sweep, kinds, rates) if len(rates) > 1 else {kind: rates[0] for kind in kinds}
    print("chosen learning rates: " + ", ".join(f"{k} {v:g}" for k, v in best.items()))

    # === Report seeds, test split ===
    results, samples = {kind: {} for kind in kinds}, {}
    for kind in kinds:
        for seed in r.seeds:
            key = f"{kind}_lr{best[kind]:g}_seed_{seed}"
            results[kind][seed] = r.cached(key, lambda: train_and_score(r, hp, kind, best[kind], seed, "test", key))
            samples[(kind, seed)] = (np.load(f"{r.key_dir(key)}/samples.npy"), results[kind][seed], best[kind])
    base = r.cached("baselines", lambda: baselines(hp))
    plot_samples(samples, kinds, r.seeds, f"{r.out}/scatter.png")
    if len(rates) > 1:
        plot_sweep(sweep, kinds, rates, best, f"{r.out}/sweep.png")

    metrics = {"learning_rates": {k: best[k] for k in kinds}, "sweep": sweep,
               "sweep_rule": "lowest mean MMD² to the validation split over the selection seeds",
               "selection_seeds": selection}
    for kind in kinds:
        for stat in ("modes_covered", "high_quality_share", "mmd2"):
            per = {s: (np.nan if v[stat] is None else v[stat]) for s, v in results[kind].items()}
            spread = common.mean_sd(per)
            metrics[f"{kind}_{stat}"] = per
            metrics[f"{kind}_mean_{stat}"], metrics[f"{kind}_sd_{stat}"] = spread["value"], spread["sd"]
    metrics["baselines"] = base
    metrics["mmd2_floor"] = base["real_train_split"]["mmd2"]
    metrics["per_run"] = results
    headline = [f"{k}_mean_{s}" for k in kinds for s in ("modes_covered", "high_quality_share")]
    return r.finish(metrics, claims_for(results, base), headline=headline + ["seconds"])
