"""2 workers of a MultiWorkerMirroredStrategy cluster (processes on loopback ports) make
exactly the updates of one process, for S1, DCGAN with R1, WGAN with clipping, WGAN-GP,
VAE, InfoGAN and GMMN (its MMD on the samples gathered from every worker) on shuffled
full-batch pipelines; and Keras's unpatched code still fails
where `keras_gen.training.multiworker` patches it or `steps_per_execution_for` avoids it
(when it stops failing, drop the patch)."""
import json
import os
import subprocess
import sys

import numpy as np
import pytest

from keras_gen.launch import free_ports, tf_configs
from tests.distributed.equal_script import KINDS
from tests.helpers import ROOT


@pytest.mark.slow
def test_two_workers_equal_one_process_and_keras_still_needs_the_patches(tmp_path):
    env = dict(os.environ, TF_CPP_MIN_LOG_LEVEL="2", PYTHONPATH=ROOT)
    cmd = [sys.executable, "-m", "tests.distributed.equal_script", str(tmp_path)]
    procs = [subprocess.Popen(cmd, env=dict(env, TF_CONFIG=c), cwd=ROOT, stdout=subprocess.PIPE,
                              stderr=subprocess.PIPE, text=True) for c in tf_configs(free_ports(2))]
    procs.append(subprocess.Popen(cmd, env=env, cwd=ROOT, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True))
    try:
        for p in procs:
            _, err = p.communicate(timeout=1500)
            assert p.returncode == 0, err[-3000:]
    finally:
        for p in procs:
            if p.poll() is None:
                p.kill()
    record = json.loads((tmp_path / "worker0" / "record.json").read_text())
    assert record["replicas"] == 2
    failures = record["original_failures"]
    # keras-team/keras#20585: if these stop failing, Keras fixed them; drop the patches.
    assert failures["symbolic_build"] and "PerReplica" in failures["symbolic_build"], failures
    assert failures["scalar_log_reduce"] and "Invalid reduction dimension" in failures["scalar_log_reduce"], failures
    # steps_per_execution > 1 across workers (keras_gen.training.steps_per_execution_for keeps
    # it at 1 there): if this stops failing, Keras fixed it; allow more steps per call again.
    spe = record["steps_per_execution_failure"]
    assert spe and ("placeholder" in spe or "destinations can not be empty" in spe), spe
    for kind in KINDS:
        single = np.load(tmp_path / "single" / f"{kind}.npz")
        initial = np.load(tmp_path / "single" / f"{kind}_initial.npz")
        moved = max(float(np.max(np.abs(single[a] - initial[b]))) for a, b in zip(single.files, initial.files)
                    if single[a].dtype.kind == "f")
        assert moved > 1e-3, (kind, moved)  # training really changed the weights
        for worker in ("worker0", "worker1"):
            other = np.load(tmp_path / worker / f"{kind}.npz")
            assert len(other.files) == len(single.files), (kind, worker)
            for a, b in zip(single.files, other.files):
                np.testing.assert_allclose(other[b], single[a], rtol=0, atol=1e-5, err_msg=f"{kind} {worker} {a}")
