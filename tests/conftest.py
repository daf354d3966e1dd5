"""Test-session settings: offline, quiet, and a private data directory.

Datasets and cached models (the domain digit classifier) built by tests go to one
temporary folder per test session (shared by its xdist workers), never to the user's
~/.keras_gen, unless KERAS_GEN_TEST_DATA_DIR names a folder to reuse between runs.
"""
import os
import tempfile

os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "2")
os.environ.setdefault("MPLBACKEND", "Agg")
_DATA = os.environ.get("KERAS_GEN_TEST_DATA_DIR") or tempfile.mkdtemp(prefix="keras_gen_test_data_")
# pytest-xdist's workers (`-n 2`) start after this runs in the controller and inherit its
# environment, so they share one folder: each dataset is built once (builds take a file
# lock) and the digit classifier is cached once (written to a temporary name, then renamed).
os.environ["KERAS_GEN_TEST_DATA_DIR"] = os.environ["KERAS_GEN_DATA_DIR"] = _DATA
# Tests in subprocesses import keras_gen from this checkout.
_ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
os.environ["PYTHONPATH"] = os.pathsep.join(p for p in (_ROOT, os.environ.get("PYTHONPATH")) if p)
