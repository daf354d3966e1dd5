"""S5: the group's "wgan-5000": a WGAN trained for 5,000 generator iterations on piano rolls.

Trains a `WGAN` (S5 rules: linear critic output, no log, critic weights clipped to
[-0.01, 0.01] after every critic update, 5 critic updates per generator update, RMSProp
5e-5) with `fit` on the two-frame [2, 88, 1] Bach piano-roll samples
(`bach_piano_roll/frames`), with the generator and critic of
`keras_gen.models.piano_roll_gan`, for `generator_iterations` generator updates.

The generator outputs note-on probabilities; a sample is the roll thresholded at 0.5
(`threshold`). On `n_samples` samples against the held-out real rolls:

* `pitch_histogram_tv`: total-variation distance between the samples' pitch histogram
  (share of sounding notes on each of the 88 keys) and the real one;
* `random_roll_pitch_histogram_tv`: the same for a density-matched random roll (every
  key on independently with the real rolls' note density, drawn with `seed`); the claim
  is `pitch_histogram_tv < random_roll_pitch_histogram_tv` (`closer_than_random`);
* `notes_per_frame_tv` (and the random roll's): the same distance between histograms of
  the number of sounding notes per frame (0..12+);
* `sample_density` against `real_density` (share of keys on).

Writes `metrics.json`, `samples.png` (real rolls beside generated ones, pitch upwards),
`histograms.png` (pitch and notes-per-frame histograms: samples, real, random roll)
and `training.png` (the critic's Wasserstein estimate per epoch).
"""
import dataclasses
import time

import numpy as np

from reproductions import common

NAME = "wgan-piano-roll"
MAX_NOTES = 12  # notes-per-frame histogram: 0 .. 11, and 12 or more


def _field(default, help_text):
    return dataclasses.field(default=default, metadata={"help": help_text})


@dataclasses.dataclass
class HParams:
    generator_iterations: int = _field(5000, "generator updates (the notes' wgan-5000)")
    n_critic: int = _field(5, "critic updates per generator update")
    batch_size: int = _field(64, "global batch size")
    learning_rate: float = _field(5e-5, "RMSProp's learning rate (critic and generator)")
    clip_value: float = _field(0.01, "critic weights are clipped to [-c, c] after every update")
    latent_dim: int = _field(64, "size of z ~ N(0, I)")
    threshold: float = _field(0.5, "a generated key sounds when its probability exceeds this")
    n_samples: int = _field(2000, "generated samples for the histograms")
    epochs: int = _field(10, "the iterations are split into this many fit epochs (logging only)")
    seed: int = _field(0, "seed of the weights, the noise, the data order and the random roll")
    out: str = _field("runs/wgan-piano-roll", "output folder")
    strategy: str = _field("default", "default, mirrored or multiworker")
    data_dir: str = _field("", "dataset folder (default: $KERAS_GEN_DATA_DIR or ~/.keras_gen/datasets)")


# ---------------------------------------------------------------- statistics
def pitch_histogram(rolls):
    """Share of sounding notes on each of the 88 keys (sums to 1; uniform if silent)."""
    counts = np.asarray(rolls, np.float64).reshape(-1, 88).sum(0)
    total = counts.sum()
    return counts / total if total > 0 else np.full(88, 1.0 / 88)


def notes_per_frame_histogram(rolls):
    """Distribution of the number of sounding keys per frame (0 .. MAX_NOTES, last bin open)."""
    per_frame = np.asarray(rolls).reshape(-1, 88).sum(1).astype(int)
    return np.bincount(np.minimum(per_frame, MAX_NOTES), minlength=MAX_NOTES + 1) / len(per_frame)


def total_variation(p, q):
    """TV(p, q) = 1/2 sum |p - q|."""
    return 0.5 * float(np.abs(np.asarray(p) - np.asarray(q)).sum())


def random_rolls(n, density, seed):
    """Density-matched random rolls: every key of every frame on with probability `density`."""
    rng = np.random.default_rng(seed)
    return (rng.random((n, 2, 88, 1)) < density).astype(np.float32)


# ---------------------------------------------------------------- training
def train(hp):
    import keras
    import tensorflow as tf
    from keras_gen.data import steady_prefetch

    from keras_gen import data
    from keras_gen.models import WGAN, piano_roll_critic, piano_roll_generator
    from keras_gen.training import get_strategy, jit_compile_for

    common.seed_everything(hp.seed)
    x_train = data.load_arrays("bach_piano_roll/frames", "train", hp.data_dir or None)
    strategy = get_strategy(hp.strategy)
    with strategy.scope():
        wgan = WGAN(generator=piano_roll_generator(hp.latent_dim), discriminator=piano_roll_critic(),
                    clip_value=hp.clip_value, n_critic=hp.n_critic, seed=hp.seed)
        wgan.compile(d_optimizer=keras.optimizers.RMSprop(hp.learning_rate),
                     g_optimizer=keras.optimizers.RMSprop(hp.learning_rate),
                     jit_compile=jit_compile_for(strategy))
    ds = (tf.data.Dataset.from_tensor_slices(x_train).cache()
          .shuffle(len(x_train), seed=hp.seed, reshuffle_each_iteration=True).repeat()
          .batch(hp.batch_size, drop_remainder=True).apply(steady_prefetch))
    epochs = max(1, min(hp.epochs, hp.generator_iterations))
    steps = hp.generator_iterations // epochs
    history = wgan.fit(ds, epochs=epochs, steps_per_epoch=steps, verbose=2).history
    return wgan, history, x_train


def evaluate(wgan, hp, x_train):
    from keras_gen import data

    x_test = data.load_arrays("bach_piano_roll/frames", "test", hp.data_dir or None)
    probs = wgan.generate(hp.n_samples, seed=hp.seed + 1)
    samples = (probs > hp.threshold).astype(np.float32)
    density = float(x_train.mean())
    rand = random_rolls(hp.n_samples, density, hp.seed)
    real_pitch, real_npf = pitch_histogram(x_test), notes_per_frame_histogram(x_test)
    m = {
        "pitch_histogram_tv": total_variation(pitch_histogram(samples), real_pitch),
        "random_roll_pitch_histogram_tv": total_variation(pitch_histogram(rand), real_pitch),
        "notes_per_frame_tv": total_variation(notes_per_frame_histogram(samples), real_npf),
        "random_roll_notes_per_frame_tv": total_variation(notes_per_frame_histogram(rand), real_npf),
        "soft_pitch_histogram_tv": total_variation(pitch_histogram(probs), real_pitch),
        "sample_density": float(samples.mean()),
        "real_density": density,
        "silent_sample_share": float(np.mean(samples.reshape(len(samples), -1).sum(1) == 0)),
        "n_samples": int(hp.n_samples),
        "n_real_test": int(len(x_test)),
    }
    m["closer_than_random"] = bool(m["pitch_histogram_tv"] < m["random_roll_pitch_histogram_tv"])
    hists = {"samples": (pitch_histogram(samples), notes_per_frame_histogram(samples)),
             "real (held out)": (real_pitch, real_npf),
             "random roll": (pitch_histogram(rand), notes_per_frame_histogram(rand))}
    return m, samples, x_test, hists


# ---------------------------------------------------------------- figures
def plot_samples(real, samples, path, n=32):
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    from keras_gen import plots

    fig, axes = plt.subplots(1, 2, figsize=(12, 4.5), sharey=True)
    for ax, rolls, title in ((axes[0], real[:n], "real (held out)"), (axes[1], samples[:n], "WGAN samples")):
        img = np.asarray(rolls)[..., 0].reshape(-1, 88).T  # pitch up, frames right
        ax.imshow(img, aspect="auto", origin="lower", cmap="gray_r", interpolation="nearest")
        for k in range(2, img.shape[1], 2):
            ax.axvline(k - 0.5, color="tab:blue", lw=0.3, alpha=0.4)
        ax.set_title(f"{title}: {n} two-frame samples")
        ax.set_xlabel("frame (pairs separated by lines)")
    axes[0].set_ylabel("key (0 = A0)")
    return plots.save(fig, path)


def plot_histograms(hists, metrics, path):
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    from keras_gen import plots

    fig, axes = plt.subplots(1, 2, figsize=(12, 3.8))
    styles = {"samples": "tab:orange", "real (held out)": "k", "random roll": "tab:gray"}
    for name, (pitch, npf) in hists.items():
        axes[0].plot(np.arange(88), pitch, color=styles[name], label=name, lw=1.2)
        axes[1].plot(np.arange(MAX_NOTES + 1), npf, "o-", color=styles[name], label=name, ms=3)
    axes[0].set_title(f"pitch histogram: TV(samples, real) = {metrics['pitch_histogram_tv']:.3f}, "
                      f"TV(random, real) = {metrics['random_roll_pitch_histogram_tv']:.3f}", fontsize=9)
    axes[0].set_xlabel("key (0 = A0, 39 = middle C)")
    axes[1].set_title(f"notes per frame: TV(samples, real) = {metrics['notes_per_frame_tv']:.3f}", fontsize=9)
    axes[1].set_xlabel(f"sounding keys per frame ({MAX_NOTES} = {MAX_NOTES} or more)")
    axes[0].legend(fontsize=8)
    return plots.save(fig, path)


def plot_training(history, path):
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    from keras_gen import plots

    fig, ax = plt.subplots(figsize=(5, 3))
    ax.plot(np.arange(1, len(history["w_estimate"]) + 1), history["w_estimate"], "o-")
    ax.set_xlabel("epoch")
    ax.set_ylabel("critic's W estimate")
    return plots.save(fig, path)


def run(hp):
    started = time.time()
    out = common.prepare_out(hp.out)
    wgan, history, x_train = train(hp)
    m, samples, x_test, hists = evaluate(wgan, hp, x_train)
    m["generator_iterations"] = int(wgan.g_optimizer.iterations.numpy())
    m["critic_iterations"] = int(wgan.d_optimizer.iterations.numpy())
    m["final_w_estimate"] = float(history["w_estimate"][-1])
    m["w_estimate_per_epoch"] = [float(v) for v in history["w_estimate"]]
    plot_samples(x_test, samples, f"{out}/samples.png")
    plot_histograms(hists, m, f"{out}/histograms.png")
    plot_training(history, f"{out}/training.png")
    record = common.write_metrics(out, m, hp, started)
    common.print_metrics(NAME, record, ["generator_iterations", "pitch_histogram_tv", "random_roll_pitch_histogram_tv",
                                        "closer_than_random", "notes_per_frame_tv", "random_roll_notes_per_frame_tv",
                                        "sample_density", "real_density", "seconds"])
    return record
