"""What every reproduction does the same way: output folder, seeds, metrics.json."""
import dataclasses
import json
import os
import platform
import random
import time

import numpy as np


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


def tanh_digits_dataset(x, batch_size, seed, labels=None):
    """Digits `x` in [0, 1] for a generator with a tanh output, as the digit GANs train on them.

    Scaled to [-1, 1] (paired with `labels` if given), cached in memory, reshuffled every
    epoch from `seed`, full batches of `batch_size`, prefetched. The cache comes before the
    shuffle: after it, every epoch would replay the first epoch's batches in one order.
    """
    import tensorflow as tf
    from keras_gen.data import steady_prefetch

    scaled = x * 2.0 - 1.0
    ds = tf.data.Dataset.from_tensor_slices(scaled if labels is None else (scaled, labels))
    return (ds.cache().shuffle(len(x), seed=seed, reshuffle_each_iteration=True)
            .batch(batch_size, drop_remainder=True).apply(steady_prefetch))


def adam_hold_then_cosine(learning_rate, total_steps, decay_fraction, beta_1=0.5):
    """A fresh `Adam(beta_1=0.5)` whose rate is held, then cosine-decays to 5% (`HoldThenCosine`).

    The DCGAN paper's optimizer (Adam(2e-4, beta_1 = 0.5)) with the decay over the last
    `decay_fraction` of `total_steps` that the digit GANs use so their samples settle.
    Call once per player: two players never share an optimizer.
    """
    import keras

    from keras_gen.training import HoldThenCosine

    return keras.optimizers.Adam(HoldThenCosine(learning_rate, total_steps, decay_fraction), beta_1=beta_1)


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
