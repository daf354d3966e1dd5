"""C2: at the GAN's equilibrium the discriminator outputs 1/2 on real and on generated data.

Notes 000/001: for a fixed G the best D is p_data / (p_data + p_g); when the game reaches
p_g = p_data that is 1/2 everywhere. This trains a vanilla `GAN` (S3: D step then G step,
minimax D loss, non-saturating G loss) with `fit` on the 1-D Gaussian N(4, 0.5^2)
(`toy_gaussian_1d`), small MLPs for G and D, one run per seed, with a learning rate that
decays at the end so the players settle instead of orbiting the equilibrium. At the end
it measures, on fresh samples:

* `mean_d_real` = mean D(x), x ~ p_data (held-out split), and `mean_d_fake` = mean D(G(z));
  the claim holds for a seed when both are within 0.5 +- `tolerance` (`equilibrium`);
* how close p_g is: the mean and std of G(z) and the exact 1-D Wasserstein-1 distance to
  the held-out data (`w1_to_data`);
* the largest |D(x) - 0.5| over the data's central 99.7% (x in 4 +- 1.5).

Writes `metrics.json` (per seed under `per_seed`, and the headline numbers of every seed)
and `equilibrium.png` (per seed: p_data, a histogram of p_g, and D(x) over x, with the 1/2
line).
"""
import dataclasses
import time

import numpy as np

from reproductions import common

NAME = "gan-1d-equilibrium"
TOY = "toy_gaussian_1d"


def _field(default, help_text):
    return dataclasses.field(default=default, metadata={"help": help_text})


@dataclasses.dataclass
class HParams:
    steps: int = _field(4000, "generator iterations (one D step and one G step each)")
    batch_size: int = _field(256, "global batch size")
    learning_rate: float = _field(1e-3, "Adam's learning rate for D and G (beta_1 = 0.5)")
    decay_start: float = _field(0.5, "fraction of training after which the learning rate decays (cosine) to 1%")
    hidden: int = _field(32, "units of each of the two hidden layers of G and D")
    latent_dim: int = _field(4, "size of z ~ N(0, I)")
    eval_samples: int = _field(5000, "real (held-out) and generated samples for the final measurements")
    tolerance: float = _field(0.05, "the claim: |mean D - 0.5| <= tolerance on real and on generated data")
    seed: int = _field(0, "first seed; seeds seed .. seed+n_seeds-1 are trained")
    n_seeds: int = _field(3, "how many seeds")
    out: str = _field("runs/gan-1d-equilibrium", "output folder")
    strategy: str = _field("default", "default, mirrored or multiworker")


def _schedule(hp):
    import keras

    hold = int(hp.steps * hp.decay_start)
    decay = keras.optimizers.schedules.CosineDecay(hp.learning_rate, max(hp.steps - hold, 1), alpha=0.01)

    class HoldThenCosine(keras.optimizers.schedules.LearningRateSchedule):
        def __call__(self, step):
            step = keras.ops.cast(step, "float32")
            return keras.ops.where(step < hold, hp.learning_rate, decay(keras.ops.maximum(step - hold, 0.0)))

    return HoldThenCosine()


def train_one(hp, seed):
    """Trains one GAN; returns it."""
    import keras

    from keras_gen.data.toys import toy_dataset
    from keras_gen.models import GAN, mlp_discriminator, mlp_generator
    from keras_gen.training import get_strategy, jit_compile_for

    common.seed_everything(seed)
    strategy = get_strategy(hp.strategy)
    with strategy.scope():
        # The networks know the data's scale (mean 4, std 0.5): see keras_gen.models.mlp_gan.
        scale = {"data_mean": 4.0, "data_std": 0.5}
        gan = GAN(generator=mlp_generator(1, hp.latent_dim, (hp.hidden, hp.hidden), **scale),
                  discriminator=mlp_discriminator(1, (hp.hidden, hp.hidden), **scale), seed=seed)
        gan.compile(d_optimizer=keras.optimizers.Adam(_schedule(hp), beta_1=0.5),
                    g_optimizer=keras.optimizers.Adam(_schedule(hp), beta_1=0.5),
                    jit_compile=jit_compile_for(strategy))
    ds = toy_dataset(TOY, seed=seed, batch_size=hp.batch_size, repeat=True, drop_remainder=True)
    epochs = 10
    gan.fit(ds, epochs=epochs, steps_per_epoch=max(hp.steps // epochs, 1), verbose=2)
    return gan


def evaluate(gan, hp, seed, real):
    """The C2 numbers for one trained GAN."""
    from keras_gen.metrics import wasserstein_1d

    fake = gan.generate(hp.eval_samples, seed=10_000 + seed)
    d_real = _prob(gan, real)
    d_fake = _prob(gan, fake)
    centre = np.linspace(4 - 1.5, 4 + 1.5, 301, dtype=np.float32)[:, None]
    out = {
        "mean_d_real": float(d_real.mean()),
        "mean_d_fake": float(d_fake.mean()),
        "max_abs_d_minus_half_central": float(np.max(np.abs(_prob(gan, centre) - 0.5))),
        "fake_mean": float(fake.mean()),
        "fake_std": float(fake.std()),
        "w1_to_data": float(wasserstein_1d(real[:, 0], fake[:, 0])),
    }
    out["equilibrium"] = bool(abs(out["mean_d_real"] - 0.5) <= hp.tolerance
                              and abs(out["mean_d_fake"] - 0.5) <= hp.tolerance)
    return out, fake


def _prob(gan, x):
    import keras

    logits = keras.ops.convert_to_numpy(gan.discriminator(np.asarray(x, np.float32), training=False))
    return 1.0 / (1.0 + np.exp(-logits[:, 0]))


def plot(results, path):
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    from keras_gen import plots

    fig, axes = plt.subplots(1, len(results), figsize=(4.2 * len(results), 3.4), squeeze=False)
    xs = np.linspace(1.5, 6.5, 400)
    p_data = np.exp(-0.5 * ((xs - 4) / 0.5) ** 2) / (0.5 * np.sqrt(2 * np.pi))
    for ax, (seed, fake, d_curve, m) in zip(axes[0], results):
        ax.plot(xs, p_data, "k-", label="p_data")
        ax.hist(fake[:, 0], bins=60, range=(1.5, 6.5), density=True, alpha=0.45, color="tab:orange", label="p_g")
        ax.plot(xs, d_curve, "tab:blue", label="D(x)")
        ax.axhline(0.5, color="tab:blue", ls=":", lw=1)
        ax.set_ylim(0, 1.05)
        ax.set_title(f"seed {seed}: E D(x)={m['mean_d_real']:.3f}, E D(G(z))={m['mean_d_fake']:.3f}", fontsize=8)
        ax.set_xlabel("x")
    axes[0][0].legend(fontsize=8)
    return plots.save(fig, path)


def run(hp):
    started = time.time()
    out = common.prepare_out(hp.out)
    from keras_gen.data.toys import toy_arrays

    real = toy_arrays(TOY, "test")[: hp.eval_samples]
    per_seed, figures = {}, []
    for seed in range(hp.seed, hp.seed + hp.n_seeds):
        gan = train_one(hp, seed)
        m, fake = evaluate(gan, hp, seed, real)
        per_seed[str(seed)] = m
        xs = np.linspace(1.5, 6.5, 400, dtype=np.float32)[:, None]
        figures.append((seed, fake, _prob(gan, xs), m))
        print(f"seed {seed}: mean D(x) = {m['mean_d_real']:.4f}, mean D(G(z)) = {m['mean_d_fake']:.4f}, "
              f"W1 = {m['w1_to_data']:.4f}, equilibrium: {m['equilibrium']}")
    plot(figures, f"{out}/equilibrium.png")
    metrics = {
        "seeds": list(range(hp.seed, hp.seed + hp.n_seeds)),
        "mean_d_real": {s: v["mean_d_real"] for s, v in per_seed.items()},
        "mean_d_fake": {s: v["mean_d_fake"] for s, v in per_seed.items()},
        "w1_to_data": {s: v["w1_to_data"] for s, v in per_seed.items()},
        "equilibrium_all_seeds": all(v["equilibrium"] for v in per_seed.values()),
        "worst_abs_d_minus_half": max(max(abs(v["mean_d_real"] - 0.5), abs(v["mean_d_fake"] - 0.5))
                                      for v in per_seed.values()),
        "per_seed": per_seed,
    }
    record = common.write_metrics(out, metrics, hp, started)
    common.print_metrics(NAME, record, ["equilibrium_all_seeds", "worst_abs_d_minus_half", "seconds"])
    return record
