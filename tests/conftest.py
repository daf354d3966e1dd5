"""Test-session settings: offline, quiet, and a private data directory.

Datasets and cached models (the domain digit classifier) built by tests go to one
temporary folder per test session (shared by its xdist workers), never to the user's
~/.keras_gen, unless KERAS_GEN_TEST_DATA_DIR names a folder to reuse between runs.
"""
import os
import tempfile


def _pin_xdist_worker():
    """Gives each pytest-xdist worker its own share of the CPUs (`-n 2` on 2 cores: one each).

    TensorFlow sizes its thread pools from the CPUs a process may use. Unpinned, two
    workers each run pools as wide as the machine and fight over it: on 2 cores the whole
    run took 2,243 CPU-s for 1,142 s of wall time; pinned, each TensorFlow works single-
    threaded on its own core and the same tests cost less CPU time. Runs before TensorFlow
    is imported; subprocesses started by a test inherit their worker's CPUs.
    """
    worker = os.environ.get("PYTEST_XDIST_WORKER", "")
    count = int(os.environ.get("PYTEST_XDIST_WORKER_COUNT", "0") or 0)
    if not worker.startswith("gw") or count < 2 or not hasattr(os, "sched_setaffinity"):
        return
    cpus = sorted(os.sched_getaffinity(0))
    if len(cpus) < count:
        return
    os.sched_setaffinity(0, cpus[int(worker[2:]) % count::count])


_pin_xdist_worker()
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
