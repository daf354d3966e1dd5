"""C1: the group-meeting autoencoder (S1) reconstructs Bach piano rolls far better than
trivial baselines, and its three figures (reconstructions, codes, weights) can be drawn.

Trains the exact 23,616-parameter S1 autoencoder with `fit` on the bundled chorales
(`bach_piano_roll/frames` by default; `--rows staves`, or your own folder with
`--midi-dir`, or a `.npy` array of rolls with `--data`), once per report seed, and
evaluates on the held-out test pieces:

* `mse` and note `precision` / `recall` / `f1` (a key counts as sounding when the
  reconstruction exceeds 0.5);
* the baselines `baseline_all_zeros_mse` (predict silence) and
  `baseline_per_key_mean_mse` (predict each key's training-set frequency), and
  `mse_over_per_key_mean`; claim C1: <= 0.6 for every seed (the per-key mean itself
  scores 1.0 and fails it).

The validation pieces (`load_arrays("bach_piano_roll/frames", "validation")`) give
`validation_mse_over_per_key_mean` per seed: the number to look at when changing a
default, never the test one. The defaults (3 epochs, batch 64, Adam 3e-3 with a cosine
decay to 2%, l1 = l2 = 1e-5, the "recipe" initialisation) were chosen before the
validation split existed, on seeds 0-2 (see keras_gen/models/autoencoder.py for why the
recipe initialisation: with Glorot the final ReLU dies and the model predicts silence).

Every epoch visits the training rolls in an order that is a pure function of
(seed, epoch) (`keras_gen.data.EpochBatches`, full batches of `--batch-size`), so the
numbers do not depend on `--strategy` (default, mirrored, or multiworker through
`keras-gen launch --workers N reproduce group-meeting-autoencoder`), and a killed run
resumes exactly where it stopped: finished seeds are reused, the running one continues
from its last finished epoch (weights, Adam's state, step counter and data order).

Writes `metrics.json` (claim C1), `reconstructions.png`, `codes.png`, `weights.png`
(the first seed's model), TensorBoard logs in `logs/`, each seed's `model.keras`, and
exports the first seed's model to `saved_models/group_meeting_autoencoder/<version>/`
(signatures `serving_default` = reconstruct, `encode`, `decode`). Under multi-worker
training only the chief writes any of these.
"""
import dataclasses
import json
import os

import numpy as np

from reproductions import common

NAME = "group-meeting-autoencoder"
EXPORT_NAME = "group_meeting_autoencoder"
TARGET_RATIO = 0.6


@dataclasses.dataclass
class HParams(common.CommonHParams):
    epochs: int = common.field(3, "passes over the training rolls per seed")
    batch_size: int = common.field(64, "global batch size (split across replicas and workers)")
    learning_rate: float = common.field(3e-3, "Adam's initial learning rate (cosine-decayed to 2% over training)")
    l1: float = common.field(1e-5, "weight of the activity L1 penalty on the 44-unit code")
    l2: float = common.field(1e-5, "weight of the L2 penalty on every kernel")
    initialization: str = common.field("recipe", "recipe (trains) or glorot (Keras defaults: the final ReLU dies)",
                                       choices=("recipe", "glorot"))
    rows: str = common.field("frames", "frames (two consecutive eighth-note frames) or staves (S+A over T+B)",
                             choices=("frames", "staves"))
    midi_dir: str = common.field("", "train on your own folder of MIDI/MusicXML files instead of the chorales")
    data: str = common.field("", "train on a .npy array of rolls [n, 2, 88] or [n, 2, 88, 1] (last 10% held out)")
    data_dir: str = common.field("", "dataset folder (default: $KERAS_GEN_DATA_DIR or ~/.keras_gen/datasets)")
    export_dir: str = common.field("saved_models", "TF-Serving model base folder")
    export: bool = common.field(True, "export the first seed's model as a SavedModel")


# ---------------------------------------------------------------- data
def load_data(hp):
    """Returns `(train, validation, test, source)`: float32 rolls `[n, 2, 88, 1]` (validation may be None)."""
    from keras_gen import data
    from keras_gen.data import piano_roll
    from keras_gen.errors import KerasGenError, MissingFileError

    if hp.midi_dir and hp.data:
        raise KerasGenError("give either --midi-dir or --data, not both")
    if hp.midi_dir:
        train, test, report = data.piano_roll_arrays_from_folder(hp.midi_dir, rows=hp.rows)
        print(report.summary())
        return train, None, test, {"source": "midi_dir", **report.as_dict()}
    if hp.data:
        if not os.path.isfile(hp.data):
            raise MissingFileError(f"data file not found: {hp.data}")
        try:
            x = np.load(hp.data, allow_pickle=False)
        except ValueError as err:
            raise KerasGenError(f"{hp.data} is not a .npy array of numbers: {err}") from err
        if x.ndim == 3:
            x = x[..., None]
        x = data.check_array(x, hp.data, shape=(None, 2, piano_roll.N_KEYS, 1)).astype(np.float32)
        if len(x) < 10:  # before min/max: an empty array has neither
            raise KerasGenError(f"{hp.data} has {len(x)} rolls; need at least 10 (the last 10% are held out)")
        if x.min() < 0 or x.max() > 1:
            raise KerasGenError(f"{hp.data} has values in [{x.min():g}, {x.max():g}]; piano rolls must be in [0, 1]")
        n_test = len(x) // 10
        return x[:-n_test], None, x[-n_test:], {"source": hp.data}
    name = f"bach_piano_roll/{hp.rows}"
    ddir = hp.data_dir or None
    return (data.load_arrays(name, "train", ddir), data.load_arrays(name, "validation", ddir),
            data.load_arrays(name, "test", ddir), {"source": name})


# ---------------------------------------------------------------- evaluation
def note_scores(pred, target, threshold=0.5):
    """Precision, recall and F1 of `pred > threshold` against binary `target` keys."""
    p = np.asarray(pred) > threshold
    t = np.asarray(target) > 0.5
    tp = float(np.sum(p & t))
    precision = tp / max(float(p.sum()), 1.0)
    recall = tp / max(float(t.sum()), 1.0)
    f1 = 2 * precision * recall / (precision + recall) if precision + recall > 0 else 0.0
    return {"precision": precision, "recall": recall, "f1": f1}


def baselines(train, test):
    """MSE and note scores of predicting silence and of each key's training frequency."""
    per_key = np.broadcast_to(train.mean(axis=0, keepdims=True), test.shape)
    zeros = np.zeros_like(test)
    out = {
        "baseline_all_zeros_mse": float(np.mean((zeros - test) ** 2)),
        "baseline_per_key_mean_mse": float(np.mean((per_key - test) ** 2)),
    }
    out.update({f"baseline_per_key_mean_{k}": v for k, v in note_scores(per_key, test).items()})
    return out


# ---------------------------------------------------------------- training
def train_one(r, seed, train):
    """Trains one seed under `r.strategy` (resuming if interrupted); returns the trained model."""
    import keras

    from keras_gen.data import EpochBatches
    from keras_gen.models.autoencoder import group_meeting_autoencoder
    from keras_gen.training import jit_compile_for

    hp = r.hp
    batches = EpochBatches((train, train), hp.batch_size, seed=seed)
    common.seed_everything(seed)
    with r.strategy.scope():
        model = group_meeting_autoencoder(l1=hp.l1, l2=hp.l2, initialization=hp.initialization)
        schedule = keras.optimizers.schedules.CosineDecay(
            hp.learning_rate, decay_steps=max(1, hp.epochs * batches.steps_per_epoch), alpha=0.02)
        # The compiled MSE and the regularisers are Keras losses: Keras scales them per
        # replica, so N replicas at global batch B make the update of one at B. Under
        # mixed_float16 Keras wraps the optimizer in a LossScaleOptimizer itself.
        model.compile(optimizer=keras.optimizers.Adam(schedule), loss="mse",
                      jit_compile=jit_compile_for(r.strategy))
    print(f"seed {seed}: training {hp.epochs} epochs of {batches.steps_per_epoch} steps "
          f"({r.strategy.num_replicas_in_sync} replica(s), {hp.precision})")
    history = r.fit(model, batches, key=f"seed_{seed}", epochs=hp.epochs)
    losses = history.get("loss", [])
    if losses and not np.isfinite(losses[-1]):
        raise RuntimeError(f"seed {seed}: the loss became {losses[-1]}; lower --learning-rate")
    return model


def reconstruct(model, x, batch_size=4096):
    """`model(x)` in batches on this process alone (no collectives: every worker can run it)."""
    import keras

    return np.concatenate([keras.ops.convert_to_numpy(model(x[i:i + batch_size], training=False))
                           for i in range(0, len(x), batch_size)]).astype(np.float32)


def evaluate(model, x):
    pred = reconstruct(model, x)
    return {"mse": float(np.mean((pred - x) ** 2)), **note_scores(pred, x)}, pred


def train_and_score(r, seed, train, validation, test, per_key_mse, val_per_key_mse):
    model = train_one(r, seed, train)
    model.save(os.path.join(r.key_dir(f"seed_{seed}"), "model.keras"))
    scores, _ = evaluate(model, test)
    scores["mse_over_per_key_mean"] = scores["mse"] / per_key_mse
    if validation is not None:
        val, _ = evaluate(model, validation)
        scores["validation_mse"] = val["mse"]
        scores["validation_mse_over_per_key_mean"] = val["mse"] / val_per_key_mse
    print(f"seed {seed}: mse {scores['mse']:.5f} ({scores['mse_over_per_key_mean']:.3f} x per-key mean), "
          f"precision {scores['precision']:.3f} recall {scores['recall']:.3f} f1 {scores['f1']:.3f}")
    return scores


def draw_figures(model, test, pred, out, n=48):
    from keras_gen import plots
    from keras_gen.models.autoencoder import encoder

    # A stretch of consecutive held-out samples from the middle of the test set.
    start = max(0, len(test) // 2 - n // 2)
    sl = slice(start, start + n)
    codes = reconstruct(encoder(model), test[sl])
    paths = [
        plots.piano_roll_comparison(test[sl], pred[sl], os.path.join(out, "reconstructions.png"),
                                    title="held-out piano roll and its S1 reconstruction"),
        plots.code_heatmap(codes, os.path.join(out, "codes.png"), title="encoding layer: the 44-unit codes h"),
        plots.weight_panels(
            [
                ("encoder_conv kernel", model.get_layer("encoder_conv").kernel.numpy()),
                ("code (Dense 352->44) kernel", model.get_layer("code").kernel.numpy()),
                ("decoder_dense (Dense 44->176) kernel", model.get_layer("decoder_dense").kernel.numpy()),
                ("decoder_conv kernel", model.get_layer("decoder_conv").kernel.numpy()),
            ],
            os.path.join(out, "weights.png"),
            title="S1 weights",
        ),
    ]
    return [os.path.basename(p) for p in paths]


# ---------------------------------------------------------------- export
def export_model(model, base_dir="saved_models", version=None):
    """Writes `<base_dir>/group_meeting_autoencoder/<version>/` with three signatures."""
    from keras_gen.export import export_endpoints
    from keras_gen.models.autoencoder import decoder, encoder

    return export_endpoints(
        EXPORT_NAME,
        [
            ("reconstruct", model, None, "reconstruction"),
            ("encode", encoder(model), None, "code"),
            ("decode", decoder(model), None, "reconstruction"),
        ],
        base_dir=base_dir,
        version=version,
    )


def export(from_dir, base_dir="saved_models", version=None):
    """`keras-gen export group-meeting-autoencoder --from OUT`: exports OUT's first seed."""
    import keras

    from keras_gen.errors import MissingFileError

    metrics_path = os.path.join(from_dir, "metrics.json")
    seed = int(common.REPORT_SEEDS.split(",")[0])
    if os.path.exists(metrics_path):
        with open(metrics_path, encoding="utf-8") as f:
            seed = json.load(f)["seeds"][0]
    path = os.path.join(from_dir, f"seed_{seed}", "model.keras")
    if not os.path.exists(path):
        raise MissingFileError(
            f"no trained model at {path}; run `keras-gen reproduce {NAME} --out {from_dir}` first"
        )
    return export_model(keras.models.load_model(path), base_dir=base_dir, version=version)


# ---------------------------------------------------------------- run
def run(hp):
    import keras

    import keras_gen.models  # noqa: F401 - registers the classes model.keras needs

    r = common.Run(NAME, hp)
    train, validation, test, source = load_data(hp)
    print(f"data: {source['source']}: {len(train)} training, "
          f"{0 if validation is None else len(validation)} validation and {len(test)} test rolls, "
          f"note density {train.mean():.4f}")
    metrics = {"data": source, "n_train": len(train), "n_test": len(test)}
    metrics.update(baselines(train, test))
    per_key = metrics["baseline_per_key_mean_mse"]
    val_per_key = None if validation is None else baselines(train, validation)["baseline_per_key_mean_mse"]
    per_seed = {}
    for seed in r.seeds:
        per_seed[seed] = r.cached(f"seed_{seed}", lambda seed=seed: train_and_score(
            r, seed, train, validation, test, per_key, val_per_key))
    first = per_seed[r.seeds[0]]
    metrics.update({k: first[k] for k in ("mse", "recall", "f1", "mse_over_per_key_mean")})
    metrics["note_precision"] = first["precision"]  # "precision" itself is the run's dtype policy
    metrics["per_seed"] = per_seed
    for k in ("mse", "f1", "mse_over_per_key_mean"):
        metrics[f"{k}_mean_sd"] = common.mean_sd({s: v[k] for s, v in per_seed.items()})
    metrics["worst_mse_over_per_key_mean"] = max(s["mse_over_per_key_mean"] for s in per_seed.values())
    metrics["worst_f1"] = min(s["f1"] for s in per_seed.values())
    if r.chief:
        # The first seed's model, read back outside the strategy: plain variables for
        # the figures and the SavedModel, whatever strategy trained it.
        model = keras.models.load_model(os.path.join(r.key_dir(f"seed_{r.seeds[0]}"), "model.keras"))
        metrics["params"] = int(model.count_params())
        _, pred = evaluate(model, test)
        metrics["figures"] = draw_figures(model, test, pred, r.out)
        if hp.export:
            metrics["saved_model"] = export_model(model, base_dir=r.export_dir)
            print(f"exported {metrics['saved_model']}")
    claims = [common.claim(
        "C1", "S1 reconstructs held-out chorales with an MSE at most 0.6 times that of predicting each key's "
              "training frequency, for every seed", "mse_over_per_key_mean",
        {s: v["mse_over_per_key_mean"] for s, v in per_seed.items()}, target=TARGET_RATIO, op="<=", every=True,
        baselines={"per_key_mean": 1.0, "all_zeros": metrics["baseline_all_zeros_mse"] / per_key},
        note="test split (held-out pieces); the notes' target")]
    return r.finish(metrics, claims, headline=[
        "mse", "baseline_per_key_mean_mse", "baseline_all_zeros_mse", "mse_over_per_key_mean",
        "note_precision", "recall", "f1", "worst_mse_over_per_key_mean", "worst_f1", "seconds"])
