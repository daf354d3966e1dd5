"""Test-session settings: offline, quiet, and a private data directory.

Datasets and cached models (the domain digit classifier) built by tests go to one
temporary folder per test session (shared by its xdist workers), never to the user's
~/.keras_gen, unless KERAS_GEN_TEST_DATA_DIR names a folder to reuse between runs.
"""
import json
import os
import tempfile


def _pin_xdist_worker():
    """Gives each pytest-xdist worker its own share of the CPUs (`-n 2` on 2 cores: one each).

    TensorFlow sizes its thread pools from the CPUs a process may use. Unpinned, two
    workers each run pools as wide as the machine and compete for it. Pinned, a worker
    cannot borrow the other's core once that one has run out of work, so the heaviest
    test files must start first (`pytest_collection_modifyitems` below). `.ci/run` on a
    fresh clone, 2 free cores (CPU-s, wall s): unpinned 2,243 and 1,258; pinned 2,111
    and 1,275; pinned with the heaviest files first 2,023 and 1,164. Runs before TensorFlow is
    imported; subprocesses started by a test inherit their worker's CPUs.
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
# No XLA in the tests' short runs (`keras_gen.training.xla_enabled`): compiling each run's
# train step cost about half of a reproduction smoke test's CPU time (gan-tricks and
# dcgan-mnist smoke tests on one core: 136 CPU-s with XLA, 72 without). The XLA path keeps
# its own tests: tests/training/test_xla_families.py (every model family, XLA on) and the
# group-meeting autoencoder's run (the main job, XLA on). Set KERAS_GEN_XLA=on to run
# every test with XLA.
os.environ.setdefault("KERAS_GEN_XLA", "off")
_DATA = os.environ.get("KERAS_GEN_TEST_DATA_DIR") or tempfile.mkdtemp(prefix="keras_gen_test_data_")
# pytest-xdist's workers (`-n 2`) start after this runs in the controller and inherit its
# environment, so they share one folder: each dataset is built once (builds take a file
# lock) and the digit classifier is cached once (written to a temporary name, then renamed).
os.environ["KERAS_GEN_TEST_DATA_DIR"] = os.environ["KERAS_GEN_DATA_DIR"] = _DATA
# Tests in subprocesses import keras_gen from this checkout.
_ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
os.environ["PYTHONPATH"] = os.pathsep.join(p for p in (_ROOT, os.environ.get("PYTHONPATH")) if p)


def pytest_collection_modifyitems(session, config, items):
    """Runs the heaviest test files first, so that the last files to run are short ones.

    `pytest -n 2 --dist loadfile` hands out whole files in collection order to whichever
    worker is free; a 100-second file collected last would leave one core idle for most
    of that time (pytest.ini turns off xdist's own reordering, which puts the files with
    the most tests first). `file_costs.json` holds each file's seconds in one run of the
    default `-n 2` command (its tests' `--durations=0` summed per file; each worker pinned
    to one core, so close to CPU seconds); a file missing from it counts as one second, or 20 if it has a test marked
    slow. The order only changes how long the run takes, never what it
    tests; tests within a file keep their order.
    """
    with open(os.path.join(os.path.dirname(os.path.abspath(__file__)), "file_costs.json"), encoding="utf-8") as f:
        costs = json.load(f)
    slow_files = {item.nodeid.split("::")[0] for item in items if item.get_closest_marker("slow")}

    def cost(item):
        name = item.nodeid.split("::")[0]
        return costs.get(name, 20.0 if name in slow_files else 1.0)

    items.sort(key=lambda item: -cost(item))
