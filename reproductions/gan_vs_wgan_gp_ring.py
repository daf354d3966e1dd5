"""C5/C6: on a ring of 8 Gaussians, vanilla GANs drop modes; WGAN(-GP) is more stable.

Trains three models with `fit` on `toy_ring8` (8 modes on a circle of radius 2, std
0.02), with the same MLP players (3 hidden layers; no normalisation) and the same number
of generator iterations, for 3 seeds each:

* `gan`: S3, minimax D loss + non-saturating G loss, Adam(lr, beta_1 = 0.5), 1 D step;
* `wgan`: S5, weight clipping to [-0.01, 0.01] after every critic step, 5 critic steps,
  RMSProp(5e-5) -- the paper's recipe, unchanged;
* `wgan_gp`: S6, lambda = 10, 5 critic steps, Adam(lr, beta_1 = 0, beta_2 = 0.9).

GAN and WGAN-GP learning rates decay (cosine, to 1%) over training so the samples
settle on the modes; WGAN keeps the paper's constant rate.

Measured on 2,500 samples per run (`keras_gen.metrics`): `modes_covered` (of 8; a mode is
covered when at least `min_share` of its fair share n/8 of the samples are
high-quality samples at it) and `high_quality_share` (samples within 3 sigma of a mode).
The claim as tested: WGAN-GP covers 8/8 modes with >= 70% high-quality samples for
every seed (`wgan_gp_claim`); the vanilla GAN's and WGAN's numbers are reported as
measured, whatever they are.

Writes `metrics.json` (`modes_covered` and `high_quality_share` per model and seed,
plus means) and `scatter.png` (one panel per model and seed, samples over the modes).
"""
import dataclasses
import time

import numpy as np

from reproductions import common

NAME = "gan-vs-wgan-gp-ring"
TOY = "toy_ring8"
MODELS = ("gan", "wgan", "wgan_gp")


def _field(default, help_text):
    return dataclasses.field(default=default, metadata={"help": help_text})


@dataclasses.dataclass
class HParams:
    steps: int = _field(5000, "generator iterations for every model")
    batch_size: int = _field(256, "global batch size")
    hidden: int = _field(128, "units of each of the 3 hidden layers of G and D")
    latent_dim: int = _field(8, "size of z ~ N(0, I)")
    gan_learning_rate: float = _field(1e-3, "GAN: Adam's initial learning rate (beta_1 = 0.5), cosine-decayed to 1%")
    wgan_learning_rate: float = _field(5e-5, "WGAN: RMSProp's learning rate (constant, the paper's)")
    clip_value: float = _field(0.01, "WGAN: critic weights are clipped to [-c, c]")
    wgan_gp_learning_rate: float = _field(1e-3, "WGAN-GP: Adam's initial learning rate (0, 0.9), cosine-decayed to 1%")
    gp_weight: float = _field(10.0, "WGAN-GP: lambda")
    n_critic: int = _field(5, "WGAN and WGAN-GP: critic steps per generator step")
    models: str = _field("gan,wgan,wgan_gp", "comma-separated subset of gan, wgan, wgan_gp")
    eval_samples: int = _field(2500, "generated samples per run for the measurements")
    min_share: float = _field(0.05, "a mode is covered with >= min_share * n/8 high-quality samples")
    seed: int = _field(0, "first seed; seeds seed .. seed+n_seeds-1 are trained")
    n_seeds: int = _field(3, "how many seeds")
    out: str = _field("runs/gan-vs-wgan-gp-ring", "output folder")
    strategy: str = _field("default", "default, mirrored or multiworker")


def build(kind, hp, seed):
    """The compiled model `kind` (in the current strategy scope)."""
    import keras

    from keras_gen.models import GAN, WGAN, WGANGP, mlp_discriminator, mlp_generator

    hidden = (hp.hidden,) * 3
    g, d = mlp_generator(2, hp.latent_dim, hidden), mlp_discriminator(2, hidden)

    def decayed(lr, updates):
        return keras.optimizers.schedules.CosineDecay(lr, updates, alpha=0.01)

    if kind == "gan":
        model = GAN(generator=g, discriminator=d, seed=seed)
        opts = [keras.optimizers.Adam(decayed(hp.gan_learning_rate, hp.steps), beta_1=0.5) for _ in range(2)]
    elif kind == "wgan":
        model = WGAN(generator=g, discriminator=d, clip_value=hp.clip_value, n_critic=hp.n_critic, seed=seed)
        opts = [keras.optimizers.RMSprop(hp.wgan_learning_rate) for _ in range(2)]
    elif kind == "wgan_gp":
        model = WGANGP(generator=g, discriminator=d, gp_weight=hp.gp_weight, n_critic=hp.n_critic, seed=seed)
        opts = [keras.optimizers.Adam(decayed(hp.wgan_gp_learning_rate, hp.steps * (hp.n_critic if i == 0 else 1)),
                                      beta_1=0.0, beta_2=0.9) for i in range(2)]
    else:
        from keras_gen.errors import unknown_name

        raise unknown_name("model", kind, MODELS)
    return model, opts


def train_one(kind, hp, seed):
    from keras_gen.data.toys import toy_dataset
    from keras_gen.training import get_strategy, jit_compile_for

    common.seed_everything(seed)
    strategy = get_strategy(hp.strategy)
    with strategy.scope():
        model, (d_opt, g_opt) = build(kind, hp, seed)
        model.compile(d_optimizer=d_opt, g_optimizer=g_opt, jit_compile=jit_compile_for(strategy))
    ds = toy_dataset(TOY, seed=seed, batch_size=hp.batch_size, repeat=True, drop_remainder=True)
    epochs = 5 if hp.steps >= 5 else 1
    model.fit(ds, epochs=epochs, steps_per_epoch=max(hp.steps // epochs, 1), verbose=2)
    return model


def evaluate(samples, hp):
    from keras_gen.data.toys import toy_distribution
    from keras_gen.metrics import high_quality_share, modes_covered

    dist = toy_distribution(TOY)
    min_count = max(1, int(np.ceil(hp.min_share * len(samples) / dist.n_modes)))
    return {
        "modes_covered": modes_covered(samples, dist.centers, dist.sigma, min_count=min_count),
        "high_quality_share": high_quality_share(samples, dist.centers, dist.sigma),
    }


def plot(samples, path):
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    from keras_gen import plots
    from keras_gen.data.toys import toy_distribution

    centers = toy_distribution(TOY).centers
    kinds = sorted({k for k, _ in samples}, key=MODELS.index)
    seeds = sorted({s for _, s in samples})
    fig, axes = plt.subplots(len(kinds), len(seeds), figsize=(3 * len(seeds), 3 * len(kinds)), squeeze=False)
    for i, kind in enumerate(kinds):
        for j, seed in enumerate(seeds):
            ax = axes[i][j]
            x, m = samples[(kind, seed)]
            ax.scatter(x[:, 0], x[:, 1], s=1, alpha=0.3, color="tab:orange")
            ax.scatter(centers[:, 0], centers[:, 1], s=25, marker="x", color="k")
            ax.set_xlim(-3, 3)
            ax.set_ylim(-3, 3)
            ax.set_aspect("equal")
            ax.set_title(f"{kind} seed {seed}: {m['modes_covered']}/8, hq {m['high_quality_share']:.2f}", fontsize=8)
            ax.tick_params(labelsize=6)
    return plots.save(fig, path)


def run(hp):
    started = time.time()
    out = common.prepare_out(hp.out)
    kinds = common.parse_choice_list(hp.models, "models", MODELS, "model")
    seeds = list(range(hp.seed, hp.seed + hp.n_seeds))
    results, samples = {k: {} for k in kinds}, {}
    for kind in kinds:
        for seed in seeds:
            t = time.time()
            model = train_one(kind, hp, seed)
            x = model.generate(hp.eval_samples, seed=10_000 + seed)
            m = evaluate(x, hp)
            m["seconds"] = round(time.time() - t, 1)
            results[kind][str(seed)] = m
            samples[(kind, seed)] = (x, m)
            print(f"{kind} seed {seed}: modes covered {m['modes_covered']}/8, "
                  f"high-quality share {m['high_quality_share']:.3f} ({m['seconds']} s)")
    plot(samples, f"{out}/scatter.png")
    metrics = {"seeds": seeds}
    for kind in kinds:
        metrics[f"{kind}_modes_covered"] = {s: v["modes_covered"] for s, v in results[kind].items()}
        metrics[f"{kind}_high_quality_share"] = {s: v["high_quality_share"] for s, v in results[kind].items()}
        metrics[f"{kind}_mean_modes_covered"] = float(np.mean([v["modes_covered"] for v in results[kind].values()]))
        metrics[f"{kind}_mean_high_quality_share"] = float(np.mean([v["high_quality_share"] for v in results[kind].values()]))
    if "wgan_gp" in kinds:
        metrics["wgan_gp_claim"] = all(v["modes_covered"] == 8 and v["high_quality_share"] >= 0.7
                                       for v in results["wgan_gp"].values())
    metrics["per_run"] = results
    record = common.write_metrics(out, metrics, hp, started)
    keys = [k for k in record if k.endswith("_mean_modes_covered") or k.endswith("_mean_high_quality_share")]
    common.print_metrics(NAME, record, keys + [k for k in ("wgan_gp_claim", "seconds") if k in record])
    return record
