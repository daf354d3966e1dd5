"""keras_gen: the group's deep-generative-model notes as Keras 3 / TensorFlow models.

Subpackages: `keras_gen.models` (networks and trainable model families),
`keras_gen.losses` (pure loss and penalty functions), `keras_gen.metrics`
(divergences and evaluation), `keras_gen.data` (offline datasets and the loader),
`keras_gen.training` (distribution strategy helpers, callbacks), `keras_gen.export`
(TF-Serving SavedModels), `keras_gen.plots` (figures).
"""
import importlib.util as _importlib_util
import os as _os

__version__ = "0.1.0"

# keras_gen is written for the TensorFlow backend (train_step overrides, tf.data,
# tf.distribute, SavedModel export). Choose it unless the user chose something else,
# in which case say so clearly instead of failing deep inside a train step.
_os.environ.setdefault("KERAS_BACKEND", "tensorflow")
if _os.environ["KERAS_BACKEND"] != "tensorflow":
    raise ImportError(
        f"keras_gen needs the TensorFlow Keras backend, but KERAS_BACKEND="
        f"{_os.environ['KERAS_BACKEND']!r}. Unset it or set KERAS_BACKEND=tensorflow."
    )

# Check for TensorFlow without importing it (a 5 s import): subpackages import it when
# they are used, and `keras_gen.data.piano_roll`'s parsing workers stay light. The
# package itself imports without it, so that `keras-gen list` works and every other
# command says in one line what is missing; each subpackage that needs TensorFlow calls
# `require_tensorflow()` first, so library users get the same clear message.
MISSING_TENSORFLOW = (
    "keras_gen needs TensorFlow, which is not installed. Install keras_gen with the "
    "extra for your machine: pip install -e '.[cpu]' (tensorflow-cpu) or "
    "pip install -e '.[gpu]' (tensorflow with CUDA)."
)


def tensorflow_installed():
    """Whether TensorFlow can be imported (checked without importing it)."""
    try:
        return _importlib_util.find_spec("tensorflow") is not None
    except (ImportError, ValueError):  # a broken or blocked installation counts as missing
        return False


def require_tensorflow():
    """Raises `ImportError(MISSING_TENSORFLOW)` when TensorFlow is not installed."""
    if not tensorflow_installed():
        raise ImportError(MISSING_TENSORFLOW)


from keras_gen.errors import KerasGenError  # noqa: E402,F401
