"""C14 (notes 004): VAE samples are smoother / blurrier than GAN samples.

Sharpness is measured by the variance of the Laplacian (Pech-Pacheco et al. 2000): for
each image, the variance over pixels of the 4-neighbour Laplacian response
`x[i-1,j] + x[i+1,j] + x[i,j-1] + x[i,j+1] - 4 x[i,j]` (interior pixels); blur removes
high frequencies and lowers it. Reported as the mean over images, for

* `vae_samples`: the decoder means E[x|z] of a Bernoulli VAE at prior samples (what
  VAE figures show), and `vae_binary_samples` (pixels drawn from p(x|z), for scale);
* `vae_reconstructions`: decoder means at the posterior means of test digits;
* `gan_samples`: a DCGAN generator (`keras_gen.models.dcgan`) trained here with the
  GAN core's non-saturating loss (or loaded from `--gan-generator`), rescaled from
  [-1, 1] to [0, 1];
* `real_digits`: the 500 grey-level test digits.

The VAE is the `vae-mnist` model if `--vae-dir` holds one (its `vae.keras`), else a
shorter run of the same recipe trained here. `claim_c14_holds`: the VAE samples'
sharpness is below the GAN samples' (below the real digits' when no GAN is trained).

Measured (seed 0, `--vae-dir` = the vae-mnist default run, DCGAN 10 epochs): variance
of the Laplacian 0.101 for VAE samples, 0.211 for DCGAN samples, 0.187 for real digits.

Figures: `samples.png` (rows of VAE samples, GAN samples, real digits),
`sharpness.png` (the per-image distributions).
"""
import dataclasses
import os
import time

import numpy as np

from reproductions import common

NAME = "vae-vs-gan-sharpness"


def _field(default, help_text):
    return dataclasses.field(default=default, metadata={"help": help_text})


@dataclasses.dataclass
class HParams:
    n_samples: int = _field(500, "samples per model")
    vae_dir: str = _field("", "a vae-mnist output folder with vae.keras (empty: train a VAE here)")
    vae_epochs: int = _field(60, "epochs of the VAE trained here when no --vae-dir is given")
    train_gan: bool = _field(True, "train a DCGAN here (else compare the VAE with real digits only)")
    gan_generator: str = _field("", "a saved DCGAN generator (.keras, z -> [-1, 1] images) instead of training one")
    gan_epochs: int = _field(10, "epochs of the DCGAN")
    gan_width: int = _field(32, "DCGAN width (filters of the first stage)")
    batch_size: int = _field(64, "GAN batch size")
    n_train: int = _field(0, "use only this many training digits (0 = all); for smoke tests")
    seed: int = _field(0, "seed")
    out: str = _field("runs/vae-vs-gan-sharpness", "output folder")
    strategy: str = _field("default", "default, mirrored or multiworker")
    data_dir: str = _field("", "dataset folder (default: $KERAS_GEN_DATA_DIR)")


def laplacian_variance(images):
    """Per-image variance of the 4-neighbour Laplacian over interior pixels: `[n]`.

    Formula: `Var_{i,j}(x[i-1,j] + x[i+1,j] + x[i,j-1] + x[i,j+1] - 4 x[i,j])`.
    """
    x = np.asarray(images, np.float64)
    if x.ndim == 4:
        x = x[..., 0]
    lap = x[:, :-2, 1:-1] + x[:, 2:, 1:-1] + x[:, 1:-1, :-2] + x[:, 1:-1, 2:] - 4 * x[:, 1:-1, 1:-1]
    return lap.reshape(len(x), -1).var(axis=1)


def _vae(hp, data_dir):
    import keras

    import keras_gen.models.vae  # noqa: F401 - registers VAE for loading
    from reproductions import vae_mnist

    path = os.path.join(hp.vae_dir, "vae.keras") if hp.vae_dir else ""
    if path and os.path.exists(path):
        return keras.models.load_model(path), f"loaded {path}"
    sub = vae_mnist.HParams(epochs=hp.vae_epochs, iwae_k=200, n_train=hp.n_train, seed=hp.seed,
                            out=os.path.join(hp.out, "vae"), strategy=hp.strategy, data_dir=hp.data_dir)
    vae_mnist.run(sub)
    return keras.models.load_model(os.path.join(sub.out, "vae.keras")), f"trained here ({hp.vae_epochs} epochs max)"


def _gan_samples(hp, x_train, n):
    import keras
    import tensorflow as tf
    from keras_gen.data import steady_prefetch

    if hp.gan_generator:
        generator = keras.models.load_model(hp.gan_generator)
        z = np.random.default_rng(hp.seed).normal(size=(n, generator.input_shape[-1])).astype(np.float32)
        return (generator.predict(z, verbose=0) + 1) / 2, f"loaded {hp.gan_generator}"
    from keras_gen.models.dcgan import dcgan_discriminator, dcgan_generator
    from keras_gen.models.gan import GAN
    from keras_gen.training.strategy import get_strategy

    common.seed_everything(hp.seed)
    with get_strategy(hp.strategy).scope():
        gan = GAN(dcgan_generator((28, 28, 1), latent_dim=100, width=hp.gan_width),
                  dcgan_discriminator((28, 28, 1), width=hp.gan_width), latent_dim=100, seed=hp.seed)
        gan.compile()
    ds = (tf.data.Dataset.from_tensor_slices(2 * x_train - 1).shuffle(len(x_train), seed=hp.seed)
          .batch(hp.batch_size, drop_remainder=True).apply(steady_prefetch))
    gan.fit(ds, epochs=hp.gan_epochs, shuffle=False, verbose=2)
    return (np.asarray(gan.generate(n, seed=hp.seed)) + 1) / 2, f"DCGAN trained here ({hp.gan_epochs} epochs)"


def run(hp):
    from keras_gen import plots

    from reproductions.vae_mnist import binarize, digit_splits

    started = time.time()
    out = common.prepare_out(hp.out)
    common.seed_everything(hp.seed)
    (x_train, _), _, (x_test, _) = digit_splits(hp.data_dir or None, hp.seed)
    if hp.n_train:
        x_train = x_train[: hp.n_train]
    vae, vae_source = _vae(hp, hp.data_dir)
    common.seed_everything(hp.seed)
    vae_samples = vae.generate(hp.n_samples, seed=hp.seed).numpy()
    rng = np.random.default_rng(hp.seed)
    sets = {
        "vae_samples": vae_samples,
        "vae_binary_samples": (rng.random(vae_samples.shape) < vae_samples).astype(np.float32),
        "vae_reconstructions": vae(binarize(x_test, 2_000_003)).numpy(),
        "real_digits": x_test,
    }
    gan_source = "none"
    if hp.train_gan or hp.gan_generator:
        sets["gan_samples"], gan_source = _gan_samples(hp, x_train, hp.n_samples)
    per_image = {k: laplacian_variance(v) for k, v in sets.items()}
    sharpness = {k: float(v.mean()) for k, v in per_image.items()}
    reference = "gan_samples" if "gan_samples" in sharpness else "real_digits"
    metrics = {
        "laplacian_variance": sharpness,
        "laplacian_variance_std": {k: float(v.std()) for k, v in per_image.items()},
        "vae_over_" + reference: sharpness["vae_samples"] / sharpness[reference],
        "claim_c14_holds": bool(sharpness["vae_samples"] < sharpness[reference]),
        "compared_with": reference,
        "vae_source": vae_source,
        "gan_source": gan_source,
        "n_samples": hp.n_samples,
        "seed": hp.seed,
    }
    rows = [sets["vae_samples"][:10], sets["vae_samples"][10:20]]
    if "gan_samples" in sets:
        rows += [sets["gan_samples"][:10], sets["gan_samples"][10:20]]
    rows += [x_test[::50][:10]]
    names = "VAE means (rows 1-2)" + (", DCGAN (rows 3-4)" if "gan_samples" in sets else "") + ", real (last row)"
    plots.sample_grid(np.concatenate(rows), os.path.join(out, "samples.png"), title=names)
    _sharpness_figure(per_image, os.path.join(out, "sharpness.png"))
    metrics = common.write_metrics(out, metrics, hp, started)
    print(f"== {NAME} ==")
    for k, v in sharpness.items():
        print(f"  variance of the Laplacian, {k:<22} {v:.4f}")
    print(f"  claim C14 holds (VAE samples < {reference}): {metrics['claim_c14_holds']}; {metrics['seconds']} s")
    return metrics


def _sharpness_figure(per_image, path):
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    from keras_gen import plots

    fig, ax = plt.subplots(figsize=(7, 4))
    names = list(per_image)
    ax.boxplot([per_image[k] for k in names], showfliers=False)
    ax.set_xticks(range(1, len(names) + 1))
    ax.set_xticklabels([n.replace("_", "\n") for n in names], fontsize=8)
    ax.set_ylabel("variance of the Laplacian (per image)")
    ax.set_title("sharpness: higher = more high-frequency detail")
    plots.save(fig, path)
