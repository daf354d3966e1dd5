"""Every model family resumes exactly: a run stopped in its second epoch (one family by
SIGKILL of the process, the others by an exception at the same point: the same files on
disk) and rerun ends with the weights, optimizer states and step counters of an
uninterrupted run. Uses `reproductions.common.Run.fit` and `EpochBatches`, the path every
reproduction takes."""
import os
import subprocess
import sys

import numpy as np
import pytest

from tests.distributed import families, resume_script
from tests.helpers import ROOT


def _run(mode, out):
    env = dict(os.environ, TF_CPP_MIN_LOG_LEVEL="2", PYTHONPATH=ROOT)
    return subprocess.run([sys.executable, "-m", "tests.distributed.resume_script", mode, str(out)],
                          capture_output=True, text=True, env=env, cwd=ROOT, timeout=1200)


@pytest.mark.slow
def test_every_family_resumes_to_the_weights_of_an_uninterrupted_run(tmp_path):
    ref = _run("reference", tmp_path)
    assert ref.returncode == 0, ref.stderr[-3000:]
    killed = _run("interrupt", tmp_path)
    assert killed.returncode == -9, (killed.returncode, killed.stderr[-3000:])  # SIGKILL
    assert f"{resume_script.SIGKILL_KIND}: done" not in killed.stdout
    again = _run("resume", tmp_path)
    assert again.returncode == 0, again.stderr[-3000:]
    for kind in families.KINDS:
        assert f"{kind}: resuming at epoch 2 of 2" in again.stdout, (kind, again.stdout)
        a = np.load(tmp_path / "reference" / f"{kind}.npz")
        b = np.load(tmp_path / "resume" / f"{kind}.npz")
        assert len(a.files) == len(b.files), kind
        steps = 0
        for name_a, name_b in zip(a.files, b.files):
            assert name_a.split(":")[0] == name_b.split(":")[0], (kind, name_a, name_b)
            np.testing.assert_allclose(b[name_b], a[name_a], rtol=0, atol=1e-6, err_msg=f"{kind} {name_a}")
            if name_a.endswith("/iteration"):
                steps = max(steps, int(a[name_a]))
        assert steps >= 6, (kind, steps)  # 2 epochs of 3 steps (or more) were counted
