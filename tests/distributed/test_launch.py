"""`keras-gen launch`: worker commands and TF_CONFIGs, prefixed output and exit status; on
S1 (group-meeting-autoencoder, 6 chorales): 2 workers sharing one --out write one
metrics.json and one export with the single-process numbers; a killed worker makes the
other end with a one-line error within 60 s, and the same launch then resumes to the
final weights of an uninterrupted run."""
import json
import os
import signal
import subprocess
import sys
import time

import keras
import numpy as np
import pytest

from keras_gen.errors import KerasGenError
from keras_gen.launch import free_ports, launch, tf_configs, worker_command
from tests.helpers import ROOT

ARGS = ["--epochs", "2", "--seeds", "0,1", "--batch-size", "16", "--learning-rate", "0.01"]


def test_worker_command_adds_the_strategy_and_refuses_another():
    cmd = worker_command(["reproduce", "gmmn", "--epochs", "1"])
    assert cmd[:3] == [sys.executable, "-m", "keras_gen.cli"]
    assert cmd[3:] == ["reproduce", "gmmn", "--epochs", "1", "--strategy", "multiworker"]
    assert worker_command(["reproduce", "gmmn", "--strategy=multiworker"])[-1] == "--strategy=multiworker"
    with pytest.raises(KerasGenError, match="--strategy multiworker, got --strategy mirrored"):
        worker_command(["reproduce", "gmmn", "--strategy", "mirrored"])
    with pytest.raises(KerasGenError, match="launch runs `reproduce NAME"):
        worker_command(["list"])


def test_tf_configs_describe_one_cluster_on_free_loopback_ports():
    ports = free_ports(3)
    assert len(set(ports)) == 3
    configs = [json.loads(c) for c in tf_configs(ports)]
    for i, c in enumerate(configs):
        assert c["cluster"] == {"worker": [f"127.0.0.1:{p}" for p in ports]}
        assert c["task"] == {"type": "worker", "index": i}


def test_failing_workers_give_prefixed_output_and_their_status(capsys, monkeypatch):
    monkeypatch.setenv("PYTHONPATH", ROOT)
    status = launch(2, ["reproduce", "group-meeting-autoencoder", "--epochs", "0"])
    out, err = capsys.readouterr()
    assert status == 2  # the workers' own exit status for a user error
    assert "[launch] worker 0: pid" in out and "(chief)" in out
    # Both workers reject the option, but the launcher stops the others as soon as the first
    # one exits, so on a busy machine only the first may get to print its line.
    lines = [f"[worker {i}] keras-gen: error: --epochs must be >= 1, got 0" for i in (0, 1)]
    assert any(line in err for line in lines), err
    assert "stopping the other workers" in err


def _rolls(path):
    from keras_gen.data import piano_roll

    rolls = []
    for p in piano_roll.bach_chorale_paths()[:6]:
        _, parsed, error = piano_roll.parse_file(p)
        assert error is None, error
        rolls.append(piano_roll.two_row_samples(parsed, "frames"))
    np.save(path, np.concatenate(rolls)[..., None].astype(np.float32))
    return str(path)


def _cli(args, **kwargs):
    env = dict(os.environ, TF_CPP_MIN_LOG_LEVEL="2", PYTHONPATH=ROOT, **kwargs.pop("env", {}))
    return subprocess.Popen([sys.executable, "-m", "keras_gen.cli", *args], env=env, cwd=ROOT,
                            stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True, **kwargs)


def _finish(proc, timeout=1200):
    out, err = proc.communicate(timeout=timeout)
    assert proc.returncode == 0, (out[-2000:], err[-3000:])
    return out, err


def _weights(out, seed):
    import keras_gen.models  # noqa: F401 - registers CentreTap and the other classes model.keras names

    model = keras.models.load_model(os.path.join(out, f"seed_{seed}", "model.keras"))
    return model.get_weights()


@pytest.fixture(scope="module")
def single(tmp_path_factory):
    """The uninterrupted single-process run every launch is compared with."""
    base = tmp_path_factory.mktemp("single")
    data = _rolls(base / "rolls.npy")
    out = base / "run"
    from keras_gen import cli

    # In this process (the launched runs are the ones that need their own processes).
    status = cli.main(["reproduce", "group-meeting-autoencoder", *ARGS, "--data", data, "--out", str(out),
                       "--export-dir", str(base / "saved_models")])
    assert status == 0
    return data, str(out), json.loads((out / "metrics.json").read_text())


def _launch_args(data, out, export_dir):
    return ["launch", "--workers", "2", "reproduce", "group-meeting-autoencoder", *ARGS, "--data", data,
            "--out", out, "--export-dir", export_dir]


@pytest.mark.slow
def test_two_workers_sharing_out_write_once_and_equal_one_process(single, tmp_path):
    data, single_out, single_metrics = single
    out = str(tmp_path / "run")
    stdout, _ = _finish(_cli(_launch_args(data, out, str(tmp_path / "saved_models"))))
    assert "[worker 1]" in stdout and "[worker 0] wrote" in stdout
    found = [os.path.join(d, f) for d, _, files in os.walk(tmp_path) for f in files if f == "metrics.json"]
    assert found == [os.path.join(out, "metrics.json")]
    assert os.listdir(tmp_path / "saved_models" / "group_meeting_autoencoder") == ["1"]
    assert not [d for d in os.listdir(out) if d.startswith(".worker")]  # the private folder is gone
    metrics = json.loads((tmp_path / "run" / "metrics.json").read_text())
    assert metrics["strategy"] == {"name": "multiworker", "replicas": 2}
    for seed in ("0", "1"):
        for key in ("mse", "f1", "validation_mse") if "validation_mse" in metrics["per_seed"][seed] else ("mse", "f1"):
            assert metrics["per_seed"][seed][key] == pytest.approx(single_metrics["per_seed"][seed][key], abs=1e-6)
        for a, b in zip(_weights(out, seed), _weights(single_out, seed)):
            np.testing.assert_allclose(a, b, rtol=0, atol=1e-5)
    assert metrics["claims"][0]["value"] == pytest.approx(single_metrics["claims"][0]["value"], abs=1e-6)


@pytest.mark.slow
def test_killed_worker_ends_the_other_and_the_launch_resumes(single, tmp_path):
    data, single_out, single_metrics = single
    out = str(tmp_path / "run")
    args = ["reproduce", "group-meeting-autoencoder", *ARGS, "--data", data, "--out", out, "--export-dir",
            str(tmp_path / "saved_models"), "--strategy", "multiworker"]
    workers = [_cli(args, env={"TF_CONFIG": c}) for c in tf_configs(free_ports(2))]
    # Worker 1's backup of seed 0's first epoch: then it is training epoch 2.
    record = os.path.join(out, ".worker-worker-1", "seed_0", "backup", "training_metadata.json")
    deadline = time.time() + 900
    while not os.path.exists(record) and time.time() < deadline and workers[1].poll() is None:
        time.sleep(0.05)
    assert os.path.exists(record), workers[1].communicate()[1][-3000:]
    workers[1].send_signal(signal.SIGKILL)
    killed_at = time.time()
    try:
        _, err = workers[0].communicate(timeout=60)
    except subprocess.TimeoutExpired:
        workers[0].kill()
        pytest.fail("the surviving worker did not end within 60 s of the other's death")
    workers[1].wait()
    assert time.time() - killed_at < 60
    assert workers[0].returncode == 3, err[-3000:]
    lines = [line for line in err.splitlines() if line.startswith("keras-gen: error:")]
    assert len(lines) == 1 and "lost another worker" in lines[0], err[-3000:]
    assert "Traceback" not in err

    stdout, _ = _finish(_cli(_launch_args(data, out, str(tmp_path / "saved_models"))))
    assert "resuming at epoch" in stdout or "reusing" in stdout, stdout[-3000:]
    metrics = json.loads((tmp_path / "run" / "metrics.json").read_text())
    for seed in ("0", "1"):
        assert metrics["per_seed"][seed]["mse"] == pytest.approx(single_metrics["per_seed"][seed]["mse"], abs=1e-6)
        for a, b in zip(_weights(out, seed), _weights(single_out, seed)):
            np.testing.assert_allclose(a, b, rtol=0, atol=1e-5)


def test_launch_names_an_unknown_reproduction_once(capsys):
    from keras_gen import cli

    assert cli.main(["launch", "--workers", "2", "reproduce", "nope"]) == 2
    err = capsys.readouterr().err
    assert err.count("unknown reproduction 'nope'") == 1 and "[worker" not in err
