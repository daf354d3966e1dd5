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


def print_metrics(name, metrics, keys=None):
    """One readable block of the headline numbers."""
    keys = keys or [k for k, v in metrics.items() if isinstance(v, (int, float))]
    print(f"== {name} ==")
    for k in keys:
        v = metrics[k]
        print(f"  {k:<36} {v:.6g}" if isinstance(v, float) else f"  {k:<36} {v}")
