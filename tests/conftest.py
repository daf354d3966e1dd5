"""Test-session settings: offline, quiet, and a private data directory.

Datasets and cached models (the domain digit classifier) built by tests go to one
temporary folder per test session, never to the user's ~/.keras_gen, unless
KERAS_GEN_TEST_DATA_DIR names a folder to reuse between runs.
"""
import os
import tempfile

os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "2")
os.environ.setdefault("MPLBACKEND", "Agg")
os.environ["KERAS_GEN_DATA_DIR"] = os.environ.get("KERAS_GEN_TEST_DATA_DIR") or tempfile.mkdtemp(
    prefix="keras_gen_test_data_"
)
# Tests in subprocesses import keras_gen from this checkout.
_ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
os.environ["PYTHONPATH"] = os.pathsep.join(p for p in (_ROOT, os.environ.get("PYTHONPATH")) if p)
