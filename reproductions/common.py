"""What every reproduction does the same way: options, seeds, output folders, resume, the claim record.

A reproduction module defines

    @dataclasses.dataclass
    class HParams(common.CommonHParams):      # seeds, out, strategy, precision, deterministic
        epochs: int = common.field(60, "passes over the training digits")
        learning_rate: float = common.field(2e-4, "Adam's learning rate", above=0)

    def run(hp):
        r = common.Run(NAME, hp)              # checks every option, one strategy per process
        for seed in r.seeds:                  # report seeds: took no part in choosing anything
            res = r.cached(f"seed_{seed}", lambda: train_and_score(r, seed))   # skipped when done
        claims = [common.claim("C5", "...", "modes_covered", values, target=8, op=">=", every=True)]
        return r.finish(metrics, claims)      # metrics.json (claims, seconds, hparams, versions)

Seeds. `REPORT_SEEDS` (10, 11, 12) are the default `--seeds` of every reproduction: the
numbers it reports. Choices made by looking at results (defaults, epochs, variants) are
made on validation data with `SELECTION_SEEDS` (0, 1; the defaults chosen before the
validation splits existed were tuned on seeds 0-2 too), never on report seeds.
"""
import dataclasses
import hashlib
import json
import math
import os
import platform
import random
import shutil
import sys
import time

import numpy as np

REPORT_SEEDS = "10,11,12"
SELECTION_SEEDS = "0,1"
STRATEGIES = ("default", "mirrored", "multiworker")
PRECISIONS = ("float32", "mixed_bfloat16", "mixed_float16")


def versions():
    """Library versions recorded in every metrics.json."""
    import keras
    import tensorflow as tf

    import keras_gen

    return {
        "python": platform.python_version(),
        "tensorflow": tf.__version__,
        "keras": keras.__version__,
        "keras_gen": keras_gen.__version__,
        "numpy": np.__version__,
    }


def seed_everything(seed):
    """Seeds Python, NumPy, TensorFlow and Keras (`keras.utils.set_random_seed`)."""
    import keras

    random.seed(seed)
    np.random.seed(seed)
    keras.utils.set_random_seed(seed)


def prepare_out(out):
    """Creates the output folder and returns its absolute path."""
    out = os.path.abspath(out)
    os.makedirs(out, exist_ok=True)
    return out


def write_metrics(out, metrics, hp, started):
    """Writes `<out>/metrics.json`: the metrics, `seconds`, `hparams` and `versions`."""
    record = dict(metrics)
    record.setdefault("seconds", round(time.time() - started, 1))
    record["hparams"] = dataclasses.asdict(hp)
    record["versions"] = versions()
    path = os.path.join(out, "metrics.json")
    with open(path, "w", encoding="utf-8") as f:
        json.dump(_jsonable(record), f, indent=2, sort_keys=False)
    return record


def _jsonable(x):
    if isinstance(x, dict):
        return {str(k): _jsonable(v) for k, v in x.items()}
    if isinstance(x, (list, tuple)):
        return [_jsonable(v) for v in x]
    if isinstance(x, np.generic):
        return x.item()
    if isinstance(x, np.ndarray):
        return x.tolist()
    if isinstance(x, float) and not np.isfinite(x):
        return str(x)  # JSON has no inf/nan; keep them readable
    return x


def tanh_digit_batches(x, batch_size, seed, labels=None):
    """Digits `x` in [0, 1] for a generator with a tanh output, as the digit GANs train on them.

    Scaled to [-1, 1] (paired with `labels` if given), full batches of `batch_size`, in an
    order that is a pure function of (seed, epoch) (`keras_gen.data.EpochBatches`): a new
    order every epoch, the same under every strategy, and a resumed run continues with
    the batches an uninterrupted one would have seen.
    """
    from keras_gen.data import EpochBatches

    scaled = (np.asarray(x, np.float32) * 2.0 - 1.0)
    return EpochBatches(scaled if labels is None else (scaled, np.asarray(labels)), batch_size, seed)


def adam_hold_then_cosine(learning_rate, total_steps, decay_fraction, beta_1=0.5):
    """A fresh `Adam(beta_1=0.5)` whose rate is held, then cosine-decays to 5% (`HoldThenCosine`).

    The DCGAN paper's optimizer (Adam(2e-4, beta_1 = 0.5)) with the decay over the last
    `decay_fraction` of `total_steps` that the digit GANs use so their samples settle.
    Call once per player: two players never share an optimizer.
    """
    import keras

    from keras_gen.training import HoldThenCosine

    return keras.optimizers.Adam(HoldThenCosine(learning_rate, total_steps, decay_fraction), beta_1=beta_1)


def fit_digit_gan(r, key, build, x, epochs, batch_size, learning_rate, decay_fraction, seed, labels=None,
                  grid_every=10, grid_kwargs=None, model_file="model.keras", g_learning_rate=None):
    """Trains an adversarial model on digits `x` in [0, 1] (scaled to [-1, 1]) as the digit GANs do.

    `build()` returns the uncompiled model (called inside `r.strategy`'s scope); both
    players get `adam_hold_then_cosine(learning_rate, ...)` (G `g_learning_rate` if given).
    `grid_every=0` writes no sample grids. Training goes through
    `r.fit` (resumes an interrupted run; TensorBoard in `<out>/logs/<key>`, with the
    `SampleGrid` of `grid_kwargs` logged there as images). The trained model is saved
    as `<out>/<key>/<model_file>`; when that file exists (a finished part of an earlier
    run), it is loaded instead of training again. Returns `(model, history)`.
    """
    import keras

    import keras_gen.models  # noqa: F401 - registers the classes for loading
    from keras_gen.training import SampleGrid, jit_compile_for

    folder = r.key_dir(key)
    path = os.path.join(folder, model_file)
    if os.path.exists(path):
        print(f"{key}: reusing the trained model {path}")
        return keras.models.load_model(path), {}
    seed_everything(seed)
    steps = epochs * (len(x) // batch_size)
    with r.strategy.scope():
        model = build()
        model.compile(d_optimizer=adam_hold_then_cosine(learning_rate, steps, decay_fraction),
                      g_optimizer=adam_hold_then_cosine(g_learning_rate or learning_rate, steps, decay_fraction),
                      jit_compile=jit_compile_for(r.strategy))
    ds = tanh_digit_batches(x, batch_size, seed, labels=labels)
    callbacks = []
    if grid_every:
        callbacks.append(SampleGrid(os.path.join(folder, "grids"), every=grid_every, n=100, ncols=10, seed=seed,
                                    log_dir=os.path.join(r.out, "logs", key), **dict(grid_kwargs or {})))
    history = r.fit(model, ds, key=key, epochs=epochs, callbacks=callbacks)
    model.save(path)
    return model, history


def load_part_model(r, key, model_file="model.keras"):
    """The model a finished part saved as `<out>/<key>/<model_file>`."""
    import keras

    import keras_gen.models  # noqa: F401 - registers the classes for loading

    return keras.models.load_model(os.path.join(r.out, key, model_file))


def export_saved_run(out, filename, export_name, reproduction_name, base_dir="saved_models", version=None):
    """Loads the model a run saved as `<out>/<filename>` and exports it again.

    Calls the model's own `.export(export_name, base_dir=..., version=...)` (its named
    signatures) and returns the exported folder; what `keras-gen export NAME --from OUT`
    does for a reproduction that saved one `.keras` file.

    Raises:
        MissingFileError: `<out>/<filename>` does not exist (the run was not made).
    """
    import keras

    import keras_gen.models  # noqa: F401 - registers the classes for loading
    from keras_gen.errors import MissingFileError

    path = os.path.join(out, filename)
    if not os.path.exists(path):
        raise MissingFileError(
            f"no trained model at {path}; run `keras-gen reproduce {reproduction_name} --out {out}` first")
    return keras.models.load_model(path).export(export_name, base_dir=base_dir, version=version)


def _comma_items(text, option_name):
    """The non-empty, stripped items of a comma-separated option value."""
    from keras_gen.errors import KerasGenError

    items = [s.strip() for s in str(text).split(",") if s.strip()]
    if not items:
        raise KerasGenError(f"--{option_name.replace('_', '-')} names nothing")
    return items


def parse_int_list(text, option_name):
    """`"0, 1,2"` -> `[0, 1, 2]`: the comma-separated integers of the option `--option_name`.

    Raises:
        KerasGenError: the value names nothing or an item is not an integer.
    """
    from keras_gen.errors import KerasGenError

    items = _comma_items(text, option_name)
    try:
        return [int(s) for s in items]
    except ValueError:
        raise KerasGenError(f"--{option_name.replace('_', '-')} must be comma-separated integers, "
                            f"got {text!r}") from None


def one_device_only(name, hp, why):
    """Keeps a reproduction that cannot use replicas on one device, before any strategy is built.

    `why` says what keeps it on one device (a whole graph as one batch, a sequential
    acting loop, full-batch Hessians), in the words `f"{name} {why}"`.

    * `--strategy default`: nothing to do.
    * `--strategy multiworker` (every host of a cluster runs the same command, e.g. through
      `keras-gen launch`): the chief runs the reproduction alone on its own device, as
      `--strategy default` (`hp.strategy` is set to it, so metrics.json records one
      replica), and says so; every other worker raises `NothingToDo` (the CLI prints its
      line and exits 0) and writes nothing.
    * `--strategy mirrored` (one process asked to spread over its devices): a one-line
      error naming the reason and the fix.
    """
    from keras_gen.errors import KerasGenError, NothingToDo

    if hp.strategy == "default":
        return
    if hp.strategy == "multiworker":
        from keras_gen.training.cluster import environment_task

        task_type, task_id, chief = environment_task()
        if not chief:
            raise NothingToDo(f"{name} {why}: the chief runs it alone; {task_type} {task_id} has nothing to do")
        print(f"{name} {why}: --strategy multiworker runs it on the chief alone, without replicas "
              "(the other workers end at once)", flush=True)
        hp.strategy = "default"
        return
    raise KerasGenError(f"{name} {why}; --strategy must be default or multiworker, got {hp.strategy!r} "
                        "(use --strategy default)")


def parse_choice_list(text, option_name, choices, kind):
    """`"a, b"` -> `["a", "b"]`: comma-separated names of the option `--option_name`, each one of `choices`.

    Raises:
        KerasGenError: the value names nothing.
        UnknownNameError: an item is not in `choices` (the message calls it a `kind` and lists them).
    """
    from keras_gen.errors import unknown_name

    items = _comma_items(text, option_name)
    for s in items:
        if s not in choices:
            raise unknown_name(kind, s, choices)
    return items


def print_metrics(name, metrics, keys=None):
    """One readable block of the headline numbers."""
    keys = keys or [k for k, v in metrics.items() if isinstance(v, (int, float))]
    print(f"== {name} ==")
    for k in keys:
        v = metrics[k]
        print(f"  {k:<36} {v:.6g}" if isinstance(v, float) else f"  {k:<36} {v}")


# ---------------------------------------------------------------- options
def field(default, help_text, *, low=None, high=None, above=None, below=None, choices=None, multi=False):
    """A `HParams` field: its default, its `--help` text, and the values it accepts.

    `common.validate` checks every field from these, so each reproduction states its
    ranges once and gets the same one-line errors:

    * `low` / `high`: inclusive bounds; `above` / `below`: exclusive ones. Integers
      default to `low=1` (sizes, counts, epochs); floats default to `low=0` and must be
      finite; a field whose name ends in `learning_rate` defaults to `above=0`.
    * `choices`: the names a string may take; with `multi=True` the value is a
      comma-separated list of them (`--models gan,wgan`).
    """
    meta = {"help": help_text, "checked": True}
    for key, value in (("low", low), ("high", high), ("above", above), ("below", below)):
        if value is not None:
            meta[key] = value
    if choices is not None:
        meta["choices"] = tuple(choices)
        meta["multi"] = bool(multi)
    return dataclasses.field(default=default, metadata=meta)


@dataclasses.dataclass
class CommonHParams:
    """The options every reproduction has (its own `HParams` subclasses this)."""

    seeds: str = field(REPORT_SEEDS, "comma-separated report seeds; one run each (choices were made on other seeds)")
    out: str = field("", "output folder (default: runs/<name>)")
    strategy: str = field("default", "default, mirrored or multiworker (see keras-gen launch)", choices=STRATEGIES)
    precision: str = field("float32", "float32, mixed_bfloat16 or mixed_float16", choices=PRECISIONS)
    deterministic: bool = field(False, "TensorFlow op determinism (GPU runs repeat to the bit; slower)")


def _flag(name):
    return "--" + name.replace("_", "-")


def _bounds(f):
    meta = dict(f.metadata)
    default = f.default
    if not meta.get("checked") or isinstance(default, bool) or not isinstance(default, (int, float)):
        return meta  # a field not declared with `field` gets the type and finiteness checks only
    if isinstance(default, int) and not any(k in meta for k in ("low", "above")):
        meta["low"] = 1
    if isinstance(default, float) and not any(k in meta for k in ("low", "above")):
        meta["above" if f.name.endswith("learning_rate") else "low"] = 0.0
    return meta


def validate(hp):
    """Checks every option of `hp` against its field's metadata (see `field`).

    Raises:
        KerasGenError: one line naming the option, its value and what it must be.
        UnknownNameError: a name (or an item of a list) that is not among its choices.
    """
    from keras_gen.errors import KerasGenError, unknown_name

    for f in dataclasses.fields(hp):
        value = getattr(hp, f.name)
        default = f.default if f.default is not dataclasses.MISSING else None
        flag = _flag(f.name)
        meta = _bounds(f)
        if isinstance(default, bool):
            if not isinstance(value, (bool, np.bool_)):
                raise KerasGenError(f"{flag} must be true or false, got {value!r}")
            continue
        if isinstance(default, (int, float)):
            if isinstance(value, bool) or not isinstance(value, (int, float, np.integer, np.floating)):
                raise KerasGenError(f"{flag} must be a number, got {value!r}")
            if isinstance(default, int) and float(value) != int(value):
                raise KerasGenError(f"{flag} must be an integer, got {value!r}")
            if not math.isfinite(float(value)):
                raise KerasGenError(f"{flag} must be a finite number, got {value!r}")
            if "low" in meta and value < meta["low"]:
                raise KerasGenError(f"{flag} must be >= {meta['low']:g}, got {value!r}")
            if "above" in meta and not value > meta["above"]:
                raise KerasGenError(f"{flag} must be > {meta['above']:g}, got {value!r}")
            if "high" in meta and value > meta["high"]:
                raise KerasGenError(f"{flag} must be <= {meta['high']:g}, got {value!r}")
            if "below" in meta and not value < meta["below"]:
                raise KerasGenError(f"{flag} must be < {meta['below']:g}, got {value!r}")
            continue
        if f.name == "seeds":
            seeds = parse_int_list(value, f.name)
            if len(set(seeds)) != len(seeds):
                raise KerasGenError(f"{flag} repeats a seed: {value!r}")
            if min(seeds) < 0:
                raise KerasGenError(f"{flag} must be non-negative integers, got {value!r}")
            continue
        if "choices" in meta:
            kind = f.name.replace("_", " ").rstrip("s") if meta.get("multi") else f.name.replace("_", " ")
            if meta.get("multi"):
                parse_choice_list(value, f.name, meta["choices"], kind)
            elif value not in meta["choices"]:
                raise unknown_name(kind, value, meta["choices"])
    return hp


# ---------------------------------------------------------------- the claim record
OPS = (">=", "<=", ">", "<", "in")


def _holds(value, op, target):
    if op == ">=":
        return value >= target
    if op == "<=":
        return value <= target
    if op == ">":
        return value > target
    if op == "<":
        return value < target
    lo, hi = target
    return lo <= value <= hi


def claim(id, statement, metric, values, target, op=">=", baselines=None, every=False, note=None):
    """One entry of a metrics.json's `claims` list (the shape CONVENTIONS.md fixes).

    Args:
        id: the claim's id in SPEC.md (C5, S4, T10, ...).
        statement: the claim in one English sentence, as tested.
        metric: what `value` is (a metrics.json key, or a short description).
        values: `{seed: value}` over the report seeds (or one number for a seed-free
            computation such as a closed form); `value` is their mean, `sd` their sample
            standard deviation (0 for one value).
        target, op: the pass condition `value op target`; op is one of `OPS` (`in`
            takes `target = [lo, hi]`, inclusive).
        baselines: `{name: number or {"value", "sd"}}` the value is compared with.
        every: the claim holds only if every seed's value meets the condition (the
            mean is still reported); otherwise the mean must.
        note: one sentence a reader needs (what the paper reported, a departure).
    """
    from keras_gen.errors import KerasGenError

    if op not in OPS:
        raise KerasGenError(f"claim {id}: unknown op {op!r}; one of {', '.join(OPS)}")
    if op == "in" and not (isinstance(target, (list, tuple)) and len(target) == 2):
        raise KerasGenError(f"claim {id}: op 'in' needs target [lo, hi], got {target!r}")
    if isinstance(values, dict):
        seeds = [int(s) if str(s).lstrip("-").isdigit() else s for s in values]
        vals = [float(v) for v in values.values()]
    else:
        seeds, vals = [], [float(values)]
    if not vals:
        raise KerasGenError(f"claim {id}: no values")
    finite = [v for v in vals if math.isfinite(v)]
    value = float(np.mean(vals)) if len(finite) == len(vals) else float("nan")
    sd = float(np.std(vals, ddof=1)) if len(vals) > 1 and len(finite) == len(vals) else 0.0
    if every:
        met = all(math.isfinite(v) and _holds(v, op, target) for v in vals)
    else:
        met = math.isfinite(value) and _holds(value, op, target)
    record = {
        "id": id, "statement": statement, "metric": metric, "value": value, "sd": sd, "seeds": seeds,
        "target": list(target) if op == "in" else target, "op": op, "met": bool(met),
        "baselines": dict(baselines or {}),
    }
    if len(vals) > 1:
        record["per_seed"] = dict(zip([str(s) for s in seeds], vals))
        record["every_seed"] = bool(every)
    if note:
        record["note"] = note
    return record


def mean_sd(values):
    """`{"value": mean, "sd": sample sd}` of numbers (a baseline with its spread)."""
    vals = [float(v) for v in (values.values() if isinstance(values, dict) else values)]
    return {"value": float(np.mean(vals)), "sd": float(np.std(vals, ddof=1)) if len(vals) > 1 else 0.0}


# ---------------------------------------------------------------- the run
# Fields that never change what a run computes: a finished key computed under other
# values of these is still reused.
NON_RECIPE_FIELDS = ("seeds", "out", "strategy", "export", "export_dir", "data_dir", "deterministic", "jobs")


class Run:
    """One run of a reproduction: checked options, seeds, one strategy, folders, resume.

    * `seeds`: the `--seeds` as integers.
    * `strategy`: `keras_gen.training.get_strategy(hp.strategy)`, one per process
      (creating a second MultiWorkerMirroredStrategy breaks its collective).
    * `chief`: whether this process writes the outputs. Under multi-worker training
      every worker runs the same code (collectives need all of them), but only the
      chief writes to `--out`; the others write to a private folder that `finish`
      deletes. `out` and `export_dir` point to the right place for this process.
    * `cached(key, compute)`: a finished part of the run (a seed, a configuration) is
      stored in `<out>/<key>/result.json` beside the recipe it was computed with, and
      reused when the same command runs again; a changed recipe moves the old folder
      to `<key>.old` and computes afresh.
    * `fit(...)`: `model.fit` that resumes an interrupted training (`BackupAndRestore`
      in `<out>/<key>/backup`) and logs to TensorBoard (`<out>/logs/<key>`).
    * `finish(metrics, claims)`: writes `metrics.json` and returns it.
    """

    def __init__(self, name, hp, recipe_fields=None):
        validate(hp)
        from keras_gen import training

        self.name = name
        self.hp = hp
        self.started = time.time()
        self.reused_parts = []  # parts taken from earlier runs (their time is not in `seconds`)
        self.process_parts = set()  # parts computed by this run's processes (`compute_in_processes`)
        self.seeds = parse_int_list(hp.seeds, "seeds")
        training.configure(precision=hp.precision, deterministic=hp.deterministic)
        training.xla_enabled()  # a bad KERAS_GEN_XLA is a one-line error before any work
        self.strategy = training.get_strategy(hp.strategy)
        self.chief = training.is_chief(self.strategy)
        self.final_out = os.path.abspath(hp.out or os.path.join("runs", name))
        self.out = training.write_dir(self.final_out, self.strategy)
        os.makedirs(self.out, exist_ok=True)
        export_dir = getattr(hp, "export_dir", "saved_models")
        self.export_dir = export_dir if self.chief else os.path.join(self.out, "saved_models")
        fields = recipe_fields or [f.name for f in dataclasses.fields(hp) if f.name not in NON_RECIPE_FIELDS]
        self.recipe = {k: getattr(hp, k) for k in fields}

    # === folders ===
    def path(self, *parts):
        """`<out>/<parts...>`, its folder created."""
        p = os.path.join(self.out, *parts)
        os.makedirs(os.path.dirname(p), exist_ok=True)
        return p

    def key_dir(self, key, recipe=None):
        """`<out>/<key>/`, created if needed.

        With a `recipe` (a dict of the settings the part depends on), an existing folder
        made with another recipe is first moved to `<key>.old` (its results would be
        stale). `cached` passes the run's recipe; `fit` and the helpers called inside a
        cached part pass none and use the folder as it is.
        """
        folder = os.path.join(self.out, key)
        recipe_path = os.path.join(folder, "recipe.json")
        if recipe is not None:
            recipe = _jsonable(recipe)
            if os.path.exists(recipe_path):
                with open(recipe_path, encoding="utf-8") as f:
                    previous = json.load(f)
                if previous != recipe:
                    changed = sorted(k for k in set(recipe) | set(previous) if previous.get(k) != recipe.get(k))
                    print(f"{key}: {folder} was computed with other settings ({', '.join(changed)}); "
                          f"moving it to {folder}.old and starting afresh")
                    shutil.rmtree(folder + ".old", ignore_errors=True)
                    os.replace(folder, folder + ".old")
        os.makedirs(folder, exist_ok=True)
        if not os.path.exists(recipe_path):
            _write_json(recipe_path, self.recipe if recipe is None else recipe)
        return folder

    # === resume ===
    def cached(self, key, compute, recipe=None):
        """`compute()` (a JSON-able dict), or its stored result from an earlier run of the same recipe.

        `recipe` (default: the run's recipe, every option but `NON_RECIPE_FIELDS`) is what
        the part depends on; a stored result of another recipe is moved aside and
        computed afresh. Call `fit` and other helpers that write into `<out>/<key>/`
        inside `compute`.

        Under multi-worker training every worker decides from its own folder, then all
        take the common answer (`training.agree`): the part is reused only if every
        worker has it, else every worker computes it again (its collectives need all of
        them).
        """
        from keras_gen import training

        folder = self.key_dir(key, self.recipe if recipe is None else recipe)
        path = os.path.join(folder, "result.json")
        if not self.chief and not os.path.exists(path):
            # A finished run deleted this worker's private folder; the chief's copy (same
            # machine or a shared file system) holds the same numbers.
            chief_path = os.path.join(self.final_out, key, "result.json")
            chief_recipe = os.path.join(self.final_out, key, "recipe.json")
            if os.path.exists(chief_path) and os.path.exists(chief_recipe):
                with open(chief_recipe, encoding="utf-8") as f:
                    if json.load(f) == _jsonable(self.recipe if recipe is None else recipe):
                        path = chief_path
        have = training.agree([int(os.path.exists(path))], self.strategy, op="MIN")[0]
        if have:
            with open(path, encoding="utf-8") as f:
                if key in self.process_parts:
                    print(f"{key}: computed by a process of this run; reading {path}")
                else:
                    print(f"{key}: finished in an earlier run; reusing {path}")
                    self.reused_parts.append(key)
                return json.load(f)
        result = compute()
        _write_json(os.path.join(folder, "result.json"), _jsonable(result))
        return result

    def finished(self, key, recipe=None):
        """Whether `<out>/<key>/result.json` holds a result computed with `recipe` (default: the run's)."""
        folder = os.path.join(self.out, key)
        try:
            with open(os.path.join(folder, "recipe.json"), encoding="utf-8") as f:
                same = json.load(f) == _jsonable(self.recipe if recipe is None else recipe)
        except (OSError, ValueError):
            return False
        return same and os.path.exists(os.path.join(folder, "result.json"))

    def part_command(self, hp):
        """The command line (a list) of a process that runs this reproduction with options `hp` (`--out` is this run's)."""
        return [sys.executable, "-m", "keras_gen.cli", *command_args(self.name, hp)[1:], "--out", self.final_out]

    def compute_in_processes(self, parts, jobs):
        """Computes independent parts of this run in up to `jobs` processes at once, one core each.

        `parts` is a list of `(key, recipe, hp)`: `hp` the options of a `keras-gen
        reproduce` run that computes the part `key` (with `recipe`) and stores it in this
        run's `--out`; `key` may be a tuple of keys one process computes together (it
        runs unless all are finished), and then `recipe` may be a function of the key. Parts already finished are skipped; the caller then goes on as
        usual and `cached` reuses every part. Each process runs TensorFlow with one
        intra-op thread and writes its output to `<out>/<key>/process.log`. A failed
        process stops the others and is a one-line error naming its log; finished parts
        stay finished, so the same command continues. Does nothing (the caller computes
        the parts itself) with `jobs` <= 1, one part to do, or a distribution strategy.
        """
        import subprocess

        from keras_gen.errors import KerasGenError

        todo = []  # (keys, the keys not finished yet, hp)
        for key, recipe, hp in parts:
            keys = (key,) if isinstance(key, str) else tuple(key)
            fresh = tuple(k for k in keys if not self.finished(k, recipe(k) if callable(recipe) else recipe))
            if fresh:
                todo.append((keys, fresh, hp))
        if jobs <= 1 or len(todo) <= 1 or self.hp.strategy != "default":
            return
        env = dict(os.environ, TF_NUM_INTRAOP_THREADS="1", TF_NUM_INTEROP_THREADS="2", PYTHONUNBUFFERED="1")
        env.setdefault("TF_CPP_MIN_LOG_LEVEL", "1")
        print(f"[{self.name}] computing {len(todo)} parts in {min(jobs, len(todo))} processes; each logs to "
              f"<out>/<part>/process.log")
        running, pending = {}, list(todo)
        try:
            while pending or running:
                while pending and len(running) < jobs:
                    keys, fresh, hp = pending.pop(0)
                    key = keys[0] if len(keys) == 1 else f"{keys[0]}..{keys[-1]}"
                    hp = dataclasses.replace(hp, out=self.final_out)
                    log_path = self.path(keys[0], "process.log")
                    log = open(log_path, "w", encoding="utf-8")
                    argv = self.part_command(hp)
                    proc = subprocess.Popen(argv, stdout=log, stderr=subprocess.STDOUT, env=env)
                    running[proc] = (key, fresh, log, log_path, time.time())
                    print(f"[{self.name}] {key}: started ({' '.join(argv[3:])})", flush=True)
                for proc in list(running):
                    if proc.poll() is None:
                        continue
                    key, fresh, log, log_path, t0 = running.pop(proc)
                    log.close()
                    if proc.returncode != 0:
                        raise KerasGenError(f"{key}: its process failed (exit status {proc.returncode}): "
                                            f"{_last_error_line(log_path)} (log: {log_path}); the parts finished so "
                                            "far are kept: run the same command again to continue")
                    self.process_parts.update(fresh)
                    print(f"[{self.name}] {key}: finished in {time.time() - t0:.0f} s", flush=True)
                time.sleep(0.5)
        finally:
            for proc in running:
                proc.terminate()
            for proc, (_, _, log, _, _) in running.items():
                try:
                    proc.wait(timeout=30)
                except subprocess.TimeoutExpired:
                    proc.kill()
                log.close()

    def resume_epoch(self, key):
        """The epoch `fit(..., key=key)` continues from: 0, or the last epoch its backup finished.

        All workers of a cluster must resume at the same epoch; a mismatch (a worker lost
        its backup folder) is a one-line error telling how to start that part afresh.
        """
        from keras_gen import training
        from keras_gen.errors import KerasGenError

        backup = os.path.join(self.key_dir(key), "backup")
        lo, hi = (int(v) for v in (training.agree([training.backup_epoch(backup)], self.strategy, op="MIN")[0],
                                   training.agree([training.backup_epoch(backup)], self.strategy, op="MAX")[0]))
        if lo != hi:
            raise KerasGenError(f"{key}: the workers' backups stopped at different epochs ({lo} and {hi}); "
                                f"delete {os.path.join(self.final_out, key)} (and the workers' .worker-* copies) to "
                                "start it afresh")
        return lo

    def fit(self, model, data, key, epochs, callbacks=(), tensorboard=True, **fit_kwargs):
        """`model.fit(data, epochs=epochs, ...)` that resumes where an interrupted run stopped.

        `data` is a `tf.data.Dataset`, or (better) a `keras_gen.data.EpochBatches`:
        then each epoch's order is a pure function of (seed, epoch), the dataset starts
        at the epoch the backup resumes from, and a resumed run sees exactly the batches
        an uninterrupted one would have (the model's weights, both optimizers' states and
        step counters come back through `BackupAndRestore`, so stateless noise and
        schedules continue too). Returns the `History.history` dict of the epochs run by
        this call.
        """
        import keras

        from keras_gen.data import EpochBatches

        folder = self.key_dir(key)
        cbs = [keras.callbacks.BackupAndRestore(os.path.join(folder, "backup"))]
        if tensorboard:
            cbs.append(keras.callbacks.TensorBoard(os.path.join(self.out, "logs", key)))
        cbs += [keras.callbacks.TerminateOnNaN(), *callbacks]
        fit_kwargs.setdefault("verbose", 2)
        fit_kwargs.setdefault("shuffle", False)  # a dataset brings its own order
        if isinstance(data, EpochBatches):
            start = self.resume_epoch(key)
            if start:
                print(f"{key}: resuming at epoch {start + 1} of {epochs}")
            fit_kwargs["steps_per_epoch"] = data.steps_per_epoch
            data = data.dataset(epochs, start_epoch=start)
        history = model.fit(data, epochs=epochs, callbacks=cbs, **fit_kwargs)
        return history.history

    # === the end ===
    def finish(self, metrics, claims, headline=None):
        """Writes `<out>/metrics.json` (metrics, `claims`, `seeds`, `seconds`, hparams, versions).

        Returns the record. On a non-chief worker nothing lands in `--out`: its private
        folder is deleted.
        """
        from keras_gen.training import jit_compile_for

        record = {"claims": list(claims), "seeds": self.seeds, **dict(metrics)}
        record.setdefault("seconds", round(time.time() - self.started, 1))
        # The parts taken from an earlier run are not in `seconds` (RESULTS.md says so).
        record["reused_parts"] = list(self.reused_parts)
        record["claims_met"] = f"{sum(c['met'] for c in record['claims'])}/{len(record['claims'])}"
        record["strategy"] = {"name": self.hp.strategy, "replicas": int(self.strategy.num_replicas_in_sync)}
        record["precision"] = self.hp.precision
        record["deterministic"] = bool(self.hp.deterministic)
        record["xla"] = bool(jit_compile_for(self.strategy))  # KERAS_GEN_XLA=off, or more than one replica
        record["hparams"] = dataclasses.asdict(self.hp)
        record["command"] = command(self.name, self.hp)
        record["finished"] = time.strftime("%Y-%m-%dT%H:%M:%S%z")
        record["versions"] = versions()
        record["machine"] = machine()
        record = _jsonable(record)
        _write_json(os.path.join(self.out, "metrics.json"), record)
        print_claims(self.name, record["claims"])
        if headline:
            print_metrics(self.name, record, headline)
        if self.chief:
            print(f"wrote {os.path.join(self.out, 'metrics.json')}")
        else:
            shutil.rmtree(self.out, ignore_errors=True)
        return record


def _last_error_line(path):
    """The last line of a log that looks like an error (else its last line)."""
    try:
        with open(path, encoding="utf-8", errors="replace") as f:
            lines = [ln.strip() for ln in f if ln.strip()]
    except OSError:
        return "no log"
    for ln in reversed(lines):
        if "error" in ln.lower() and not ln.startswith(("I0000", "W0000")):
            return ln
    return lines[-1] if lines else "no output"


def command(name, hp):
    """The `keras-gen reproduce` command line that repeats this run (options that differ from the defaults)."""
    return " ".join(command_args(name, hp))


def command_args(name, hp):
    """`command` as a list of arguments."""
    parts = ["keras-gen", "reproduce", name]
    for f in dataclasses.fields(hp):
        value = getattr(hp, f.name)
        default = f.default if f.default is not dataclasses.MISSING else None
        if f.name == "out" or value == default:
            continue
        flag = _flag(f.name)
        if isinstance(default, bool):
            parts.append(flag if value else "--no-" + flag[2:])
        else:
            parts += [flag, str(value)]
    return parts


def machine():
    """Cores and accelerators of this machine (recorded in metrics.json)."""
    import tensorflow as tf

    return {
        "cpu_cores": os.cpu_count(),
        "platform": platform.platform(),
        "gpus": [d.name for d in tf.config.list_physical_devices("GPU")],
    }


def _write_json(path, obj):
    tmp = f"{path}.{os.getpid()}.tmp"
    with open(tmp, "w", encoding="utf-8") as f:
        json.dump(_jsonable(obj), f, indent=2)
    os.replace(tmp, path)


def print_claims(name, claims):
    """One line per claim: id, verdict, value +- sd against the target."""
    for c in claims:
        verdict = "met" if c["met"] else "NOT MET"
        target = f"[{c['target'][0]:g}, {c['target'][1]:g}]" if c["op"] == "in" else f"{c['target']:g}"
        spread = f" +- {c['sd']:.4g}" if c.get("sd") else ""
        print(f"[{name}] {c['id']} {verdict}: {c['metric']} = {c['value']:.4g}{spread} "
              f"(target {c['op']} {target}; seeds {c['seeds']})")
