"""C1: the group-meeting autoencoder (S1) reconstructs Bach piano rolls far better than
trivial baselines, and its three figures (reconstructions, codes, weights) can be drawn.

Trains the exact 23,616-parameter S1 autoencoder with `fit` on the bundled chorales
(`bach_piano_roll/frames` by default; `--rows staves`, or your own folder with
`--midi-dir`, or a `.npy` array of rolls with `--data`), once per seed, and evaluates
on held-out pieces:

* `mse` and note `precision` / `recall` / `f1` (a key counts as sounding when the
  reconstruction exceeds 0.5);
* the baselines `baseline_all_zeros_mse` (predict silence) and
  `baseline_per_key_mean_mse` (predict each key's training-set frequency), and
  `mse_over_per_key_mean` (the target of the notes: <= 0.6).

Writes `metrics.json`, `reconstructions.png`, `codes.png`, `weights.png` (from the
first seed's model), TensorBoard logs in `logs/`, per-seed checkpoints, and exports the
first seed's model to `saved_models/group_meeting_autoencoder/<version>/` (signatures
`serving_default` = reconstruct, `encode`, `decode`). Killed runs resume: finished seeds
are reused and the running one continues from its last epoch (`BackupAndRestore`).
"""
import dataclasses
import json
import os
import shutil
import time

import numpy as np

from reproductions import common

NAME = "group-meeting-autoencoder"
EXPORT_NAME = "group_meeting_autoencoder"


def _field(default, help_text):
    return dataclasses.field(default=default, metadata={"help": help_text})


@dataclasses.dataclass
class HParams:
    epochs: int = _field(3, "passes over the training rolls per seed")
    batch_size: int = _field(64, "global batch size (split across replicas under --strategy mirrored)")
    learning_rate: float = _field(3e-3, "Adam's initial learning rate (cosine-decayed to 2%% over training)")
    l1: float = _field(1e-5, "weight of the activity L1 penalty on the 44-unit code")
    l2: float = _field(1e-5, "weight of the L2 penalty on every kernel")
    initialization: str = _field("recipe", "recipe (trains) or glorot (Keras defaults: the final ReLU dies)")
    rows: str = _field("frames", "frames (two consecutive eighth-note frames) or staves (S+A over T+B)")
    seed: int = _field(0, "first seed; seeds seed .. seed+n_seeds-1 are trained")
    n_seeds: int = _field(3, "how many seeds to train and evaluate")
    out: str = _field("runs/group-meeting-autoencoder", "output folder (metrics.json, figures, logs, checkpoints)")
    strategy: str = _field("default", "default, mirrored or multiworker")
    midi_dir: str = _field("", "train on your own folder of MIDI/MusicXML files instead of the chorales")
    data: str = _field("", "train on a .npy array of rolls [n, 2, 88] or [n, 2, 88, 1] (last 10%% held out)")
    data_dir: str = _field("", "dataset folder (default: $KERAS_GEN_DATA_DIR or ~/.keras_gen/datasets)")
    export_dir: str = _field("saved_models", "TF-Serving model base folder")
    export: bool = _field(True, "export the first seed's model as a SavedModel")


# The fields that change what a seed's training produces.
TRAINING_FIELDS = ("epochs", "batch_size", "learning_rate", "l1", "l2", "initialization", "rows",
                   "strategy", "midi_dir", "data")


# ---------------------------------------------------------------- data
def load_data(hp):
    """Returns `(train, test, source)`: float32 rolls `[n, 2, 88, 1]` and a description."""
    from keras_gen import data
    from keras_gen.data import piano_roll
    from keras_gen.errors import KerasGenError, MissingFileError, unknown_name

    if hp.rows not in piano_roll.ROWS:
        raise unknown_name("rows", hp.rows, piano_roll.ROWS)
    if hp.midi_dir and hp.data:
        raise KerasGenError("give either --midi-dir or --data, not both")
    if hp.midi_dir:
        train, test, report = data.piano_roll_arrays_from_folder(hp.midi_dir, rows=hp.rows)
        print(report.summary())
        return train, test, {"source": "midi_dir", **report.as_dict()}
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
        if x.min() < 0 or x.max() > 1:
            raise KerasGenError(f"{hp.data} has values in [{x.min():g}, {x.max():g}]; piano rolls must be in [0, 1]")
        if len(x) < 10:
            raise KerasGenError(f"{hp.data} has {len(x)} rolls; need at least 10 (the last 10% are held out)")
        n_test = len(x) // 10
        return x[:-n_test], x[-n_test:], {"source": hp.data}
    name = f"bach_piano_roll/{hp.rows}"
    ddir = hp.data_dir or None
    return data.load_arrays(name, "train", ddir), data.load_arrays(name, "test", ddir), {"source": name}


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
def train_one(hp, seed, train, out):
    """Trains one seed (resuming if interrupted); returns the trained model."""
    import keras
    import tensorflow as tf
    from keras_gen.data import steady_prefetch

    from keras_gen.models.autoencoder import group_meeting_autoencoder
    from keras_gen.training import get_strategy, jit_compile_for

    seed_dir = os.path.join(out, f"seed_{seed}")
    final = os.path.join(seed_dir, "model.keras")
    # What the trained weights depend on; an earlier run's files are reused (finished
    # model) or resumed (BackupAndRestore) only if these match.
    recipe = {k: getattr(hp, k) for k in TRAINING_FIELDS}
    recipe_path = os.path.join(seed_dir, "training.json")
    if os.path.exists(recipe_path):
        with open(recipe_path, encoding="utf-8") as f:
            previous = json.load(f)
        if previous != recipe:
            changed = sorted(k for k in recipe if previous.get(k) != recipe[k])
            print(f"seed {seed}: {seed_dir} was trained with other settings ({', '.join(changed)}); "
                  f"moving it to {seed_dir}.old and training afresh")
            shutil.rmtree(seed_dir + ".old", ignore_errors=True)
            os.replace(seed_dir, seed_dir + ".old")
    os.makedirs(seed_dir, exist_ok=True)
    with open(recipe_path, "w", encoding="utf-8") as f:
        json.dump(recipe, f, indent=2)
    if os.path.exists(final):  # finished in an earlier (interrupted) run: reuse it
        print(f"seed {seed}: reusing the finished model {final}")
        return keras.models.load_model(final)
    common.seed_everything(seed)
    strategy = get_strategy(hp.strategy)
    steps_per_epoch = int(np.ceil(len(train) / hp.batch_size))
    with strategy.scope():
        model = group_meeting_autoencoder(l1=hp.l1, l2=hp.l2, initialization=hp.initialization)
        schedule = keras.optimizers.schedules.CosineDecay(
            hp.learning_rate, decay_steps=max(1, hp.epochs * steps_per_epoch), alpha=0.02
        )
        # The compiled MSE and the regularisers are Keras losses: Keras scales them per
        # replica, so N replicas at global batch B make the update of one at B.
        model.compile(optimizer=keras.optimizers.Adam(schedule), loss="mse", jit_compile=jit_compile_for(strategy))
    ds = (
        tf.data.Dataset.from_tensor_slices((train, train))
        .shuffle(len(train), seed=seed, reshuffle_each_iteration=True)
        .batch(hp.batch_size)
        .apply(steady_prefetch)
    )
    callbacks = [
        keras.callbacks.BackupAndRestore(os.path.join(seed_dir, "backup")),
        keras.callbacks.ModelCheckpoint(os.path.join(seed_dir, "checkpoint.weights.h5"), save_weights_only=True),
        keras.callbacks.TensorBoard(os.path.join(out, "logs", f"seed_{seed}")),
        keras.callbacks.TerminateOnNaN(),
    ]
    print(f"seed {seed}: training {hp.epochs} epochs of {steps_per_epoch} steps "
          f"({strategy.num_replicas_in_sync} replica(s))")
    history = model.fit(ds, epochs=hp.epochs, callbacks=callbacks, shuffle=False, verbose="auto")
    losses = history.history.get("loss", [])
    if losses and not np.isfinite(losses[-1]):
        raise RuntimeError(f"seed {seed}: the loss became {losses[-1]}; lower --learning-rate")
    model.save(final)
    return model


def evaluate(model, test):
    pred = model.predict(test, batch_size=4096, verbose=0)
    return {"mse": float(np.mean((pred - test) ** 2)), **note_scores(pred, test)}, pred


def draw_figures(model, test, pred, out, n=48):
    from keras_gen import plots
    from keras_gen.models.autoencoder import encoder

    # A stretch of consecutive held-out samples from the middle of the test set.
    start = max(0, len(test) // 2 - n // 2)
    sl = slice(start, start + n)
    codes = encoder(model).predict(test[sl], verbose=0)
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
    seed = 0
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
    from keras_gen.errors import KerasGenError

    started = time.time()
    if hp.epochs < 1 or hp.batch_size < 1 or hp.n_seeds < 1:
        raise KerasGenError("--epochs, --batch-size and --n-seeds must be at least 1")
    if not (hp.learning_rate > 0):
        raise KerasGenError(f"--learning-rate must be > 0, got {hp.learning_rate}")
    if hp.l1 < 0 or hp.l2 < 0:
        raise KerasGenError("--l1 and --l2 must be >= 0")
    from keras_gen.errors import unknown_name
    from keras_gen.models.autoencoder import INITIALIZATIONS
    from keras_gen.training.strategy import STRATEGIES

    # Check names before anything slow (building data, training) happens.
    if hp.strategy not in STRATEGIES:
        raise unknown_name("strategy", hp.strategy, STRATEGIES)
    if hp.initialization not in INITIALIZATIONS:
        raise unknown_name("initialization", hp.initialization, INITIALIZATIONS)
    out = common.prepare_out(hp.out)
    train, test, source = load_data(hp)
    print(f"data: {source['source']}: {len(train)} training and {len(test)} held-out rolls, "
          f"note density {train.mean():.4f}")
    metrics = {"data": source, "n_train": len(train), "n_test": len(test)}
    metrics.update(baselines(train, test))
    seeds = list(range(hp.seed, hp.seed + hp.n_seeds))
    per_seed = {}
    first_model = first_pred = None
    for seed in seeds:
        t0 = time.time()
        model = train_one(hp, seed, train, out)
        scores, pred = evaluate(model, test)
        scores["mse_over_per_key_mean"] = scores["mse"] / metrics["baseline_per_key_mean_mse"]
        scores["train_seconds"] = round(time.time() - t0, 1)
        per_seed[str(seed)] = scores
        print(f"seed {seed}: mse {scores['mse']:.5f} ({scores['mse_over_per_key_mean']:.3f} x per-key mean), "
              f"precision {scores['precision']:.3f} recall {scores['recall']:.3f} f1 {scores['f1']:.3f}")
        if first_model is None:
            first_model, first_pred = model, pred
    first = per_seed[str(seeds[0])]
    metrics.update({k: first[k] for k in ("mse", "precision", "recall", "f1", "mse_over_per_key_mean")})
    metrics["seeds"] = seeds
    metrics["per_seed"] = per_seed
    metrics["worst_mse_over_per_key_mean"] = max(s["mse_over_per_key_mean"] for s in per_seed.values())
    metrics["worst_f1"] = min(s["f1"] for s in per_seed.values())
    metrics["params"] = int(first_model.count_params())
    metrics["figures"] = draw_figures(first_model, test, first_pred, out)
    if hp.export:
        metrics["saved_model"] = export_model(first_model, base_dir=hp.export_dir)
        print(f"exported {metrics['saved_model']}")
    record = common.write_metrics(out, metrics, hp, started)
    common.print_metrics(NAME, record, [
        "mse", "baseline_per_key_mean_mse", "baseline_all_zeros_mse", "mse_over_per_key_mean",
        "precision", "recall", "f1", "worst_mse_over_per_key_mean", "worst_f1", "seconds",
    ])
    print(f"wrote {os.path.join(out, 'metrics.json')} and {', '.join(metrics['figures'])}")
    return record
