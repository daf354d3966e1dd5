"""reproductions.common: the pieces several reproductions share."""
import json
import os
import sys

import pytest

from keras_gen.errors import KerasGenError, MissingFileError, UnknownNameError
from reproductions import common


def test_parse_int_list():
    assert common.parse_int_list("0, 1,2", "seeds") == [0, 1, 2]
    assert common.parse_int_list("7,", "seeds") == [7]
    with pytest.raises(KerasGenError, match="--seeds must be comma-separated integers, got '0,a'"):
        common.parse_int_list("0,a", "seeds")
    with pytest.raises(KerasGenError, match="--seeds names nothing"):
        common.parse_int_list(" , ", "seeds")
    with pytest.raises(KerasGenError, match="--n-seeds names nothing"):
        common.parse_int_list("", "n_seeds")


def test_parse_choice_list():
    choices = ("baseline", "label_smoothing")
    assert common.parse_choice_list("baseline, label_smoothing", "settings", choices, "setting") == list(choices)
    with pytest.raises(UnknownNameError, match="unknown setting 'dropout'; choose one of: baseline, label_smoothing"):
        common.parse_choice_list("baseline,dropout", "settings", choices, "setting")
    with pytest.raises(KerasGenError, match="--settings names nothing"):
        common.parse_choice_list("", "settings", choices, "setting")


def test_export_saved_run_names_the_missing_model(tmp_path):
    with pytest.raises(MissingFileError) as info:
        common.export_saved_run(str(tmp_path), "gan.keras", "dcgan_mnist", "dcgan-mnist")
    assert str(info.value) == (f"no trained model at {tmp_path / 'gan.keras'}; "
                               f"run `keras-gen reproduce dcgan-mnist --out {tmp_path}` first")


def test_tanh_digit_batches_scale_keep_labels_and_reshuffle_every_epoch():
    import numpy as np

    x = np.linspace(0.0, 1.0, 70, dtype="float32").reshape(70, 1, 1, 1)
    y = np.arange(70, dtype="int32")
    batches = common.tanh_digit_batches(x, 32, seed=3, labels=y)
    assert batches.steps_per_epoch == 2  # the incomplete batch is dropped
    epochs = [list(batches.dataset(2, start_epoch=0))[:2], list(batches.dataset(2, start_epoch=0))[2:]]
    orders = [np.concatenate([b[1].numpy() for b in e]) for e in epochs]
    assert len(set(orders[0])) == 64 and not np.array_equal(orders[0], orders[1])  # a new order each epoch
    for e in epochs:
        for images, labels in e:
            np.testing.assert_allclose(images.numpy().ravel(), x.ravel()[labels.numpy()] * 2 - 1, rtol=1e-6)
    # A run resumed at epoch 1 sees epoch 1's batches, not epoch 0's again.
    resumed = np.concatenate([b[1].numpy() for b in batches.dataset(2, start_epoch=1)])
    np.testing.assert_array_equal(resumed, orders[1])
    images_only = list(common.tanh_digit_batches(x, 32, seed=3).dataset(1))
    np.testing.assert_array_equal(images_only[0].numpy(), epochs[0][0][0].numpy())  # same seeded order


def test_adam_hold_then_cosine_is_a_fresh_adam_with_the_schedule():
    from keras_gen.training import HoldThenCosine

    a = common.adam_hold_then_cosine(1e-3, 100, 0.5)
    b = common.adam_hold_then_cosine(1e-3, 100, 0.5)
    assert a is not b and a.beta_1 == 0.5
    schedule = a._learning_rate  # Keras 3 keeps the schedule object there
    assert isinstance(schedule, HoldThenCosine) and schedule.get_config() == HoldThenCosine(1e-3, 100, 0.5).get_config()
    assert float(schedule(0)) == pytest.approx(1e-3) and float(schedule(100)) == pytest.approx(0.05e-3)


# ---------------------------------------------------------------- options, claims, Run
import dataclasses  # noqa: E402


@dataclasses.dataclass
class _HP(common.CommonHParams):
    epochs: int = common.field(3, "epochs")
    convs: int = common.field(0, "extra layers", low=0)
    learning_rate: float = common.field(1e-3, "rate")
    dropout: float = common.field(0.5, "dropout", below=1)
    model: str = common.field("gan", "which", choices=("gan", "wgan"))
    models: str = common.field("gan,wgan", "which ones", choices=("gan", "wgan"), multi=True)
    flag: bool = common.field(True, "a switch")


def test_common_names_match_the_library():
    from keras_gen import training

    assert common.STRATEGIES == training.STRATEGIES
    assert common.PRECISIONS == training.PRECISIONS


def test_validate_accepts_defaults_and_names_every_bad_option():
    common.validate(_HP())
    cases = [
        (dict(epochs=0), "--epochs must be >= 1, got 0"),
        (dict(convs=-1), "--convs must be >= 0, got -1"),
        (dict(learning_rate=0.0), "--learning-rate must be > 0, got 0.0"),
        (dict(learning_rate=float("nan")), "--learning-rate must be a finite number, got nan"),
        (dict(dropout=1.0), "--dropout must be < 1, got 1.0"),
        (dict(dropout=-0.1), "--dropout must be >= 0, got -0.1"),
        (dict(epochs=2.5), "--epochs must be an integer, got 2.5"),
        (dict(epochs="3"), "--epochs must be a number, got '3'"),
        (dict(flag="yes"), "--flag must be true or false, got 'yes'"),
        (dict(model="vae"), "unknown model 'vae'; choose one of: gan, wgan"),
        (dict(models="gan,vae"), "unknown model 'vae'; choose one of: gan, wgan"),
        (dict(strategy="tpu"), "unknown strategy 'tpu'; choose one of: default, mirrored, multiworker"),
        (dict(precision="float16"), "unknown precision 'float16'; choose one of: float32, mixed_bfloat16, mixed_float16"),
        (dict(seeds="1,a"), "--seeds must be comma-separated integers, got '1,a'"),
        (dict(seeds="1,1"), "--seeds repeats a seed: '1,1'"),
        (dict(seeds="-1"), "--seeds must be non-negative integers, got '-1'"),
    ]
    for changes, message in cases:
        with pytest.raises(KerasGenError) as info:
            common.validate(dataclasses.replace(_HP(), **changes))
        assert str(info.value) == message, changes


def test_every_reproduction_default_validates():
    import importlib

    from reproductions import REPRODUCTIONS

    for name, (module, _) in REPRODUCTIONS.items():
        common.validate(importlib.import_module(module).HParams())


def test_claim_mean_sd_and_verdicts():
    c = common.claim("C5", "WGAN-GP covers every mode", "modes_covered", {10: 8, 11: 7, 12: 8}, target=8)
    assert c["value"] == pytest.approx(23 / 3) and c["sd"] == pytest.approx(0.57735026919)
    assert c["seeds"] == [10, 11, 12] and c["met"] is False and c["op"] == ">="
    assert set(c) >= {"id", "statement", "metric", "value", "sd", "seeds", "target", "op", "met", "baselines"}
    # every=True: one seed below the target fails the claim even when the mean passes
    c = common.claim("C9", "s", "acc", {0: 0.95, 1: 0.75}, target=0.8, every=True)
    assert c["value"] == pytest.approx(0.85) and c["met"] is False
    assert common.claim("C9", "s", "acc", {0: 0.95, 1: 0.75}, target=0.8)["met"] is True
    # intervals, strict ops, seed-free values, NaN never passes
    assert common.claim("T10", "s", "return", {0: -26.0, 1: -24.0}, target=[-30, -20], op="in")["met"] is True
    assert common.claim("T10", "s", "return", {0: -36.0}, target=[-30, -20], op="in")["met"] is False
    assert common.claim("C3", "s", "err", 1e-9, target=1e-6, op="<")["seeds"] == []
    assert common.claim("C3", "s", "err", float("nan"), target=1e-6, op="<")["met"] is False
    assert common.claim("C1", "s", "x", 2.0, target=2.0, op=">")["met"] is False
    with pytest.raises(KerasGenError, match="unknown op '=='"):
        common.claim("C1", "s", "x", 1.0, target=1.0, op="==")
    with pytest.raises(KerasGenError, match="op 'in' needs target"):
        common.claim("C1", "s", "x", 1.0, target=1.0, op="in")


def test_run_caches_finished_parts_and_moves_changed_recipes(tmp_path, capsys):
    hp = _HP(out=str(tmp_path / "run"), seeds="3,4")
    r = common.Run("demo", hp)
    assert r.seeds == [3, 4] and r.chief and r.out == str(tmp_path / "run")
    calls = []
    assert r.cached("seed_3", lambda: calls.append(1) or {"x": 1.5}) == {"x": 1.5}
    assert common.Run("demo", hp).cached("seed_3", lambda: calls.append(1) or {"x": 9}) == {"x": 1.5}
    assert len(calls) == 1  # the second run reused the finished part
    # Another recipe (a training option changed) computes afresh and keeps the old folder.
    r2 = common.Run("demo", dataclasses.replace(hp, epochs=5))
    assert r2.cached("seed_3", lambda: {"x": 2.0}) == {"x": 2.0}
    assert (tmp_path / "run" / "seed_3.old" / "result.json").exists()
    assert "was computed with other settings (epochs)" in capsys.readouterr().out
    # Options that do not change results (seeds, out, strategy) keep the cache.
    r3 = common.Run("demo", dataclasses.replace(hp, epochs=5, seeds="3"))
    assert r3.cached("seed_3", lambda: {"x": 7.0}) == {"x": 2.0}
    # The claim record names the parts taken from earlier runs (their time is not in `seconds`).
    assert r3.reused_parts == ["seed_3"] and r2.reused_parts == [] and r.reused_parts == []
    assert r3.finish({}, [])["reused_parts"] == ["seed_3"]


def test_run_finish_writes_the_claim_record(tmp_path):
    import json

    r = common.Run("demo", _HP(out=str(tmp_path), seeds="10,11"))
    claims = [common.claim("S4", "s", "is", {10: 8.1, 11: 8.3}, target=8.0)]
    record = r.finish({"inception_score": 8.2}, claims)
    on_disk = json.loads((tmp_path / "metrics.json").read_text())
    assert on_disk["claims"][0]["met"] is True and on_disk["claims_met"] == "1/1"
    assert on_disk["seeds"] == [10, 11] and on_disk["hparams"]["epochs"] == 3
    assert on_disk["machine"]["cpu_cores"] >= 1 and "tensorflow" in on_disk["versions"]
    assert record["inception_score"] == 8.2


def test_command_repeats_the_run():
    hp = dataclasses.replace(_HP(), epochs=7, flag=False, models="gan", out="/tmp/x")
    assert common.command("demo", hp) == "keras-gen reproduce demo --epochs 7 --models gan --no-flag"
    assert common.command("demo", _HP()) == "keras-gen reproduce demo"


def test_one_device_only_names_the_reason_and_the_fix(monkeypatch, capsys):
    monkeypatch.delenv("TF_CONFIG", raising=False)
    monkeypatch.delenv("SLURM_JOB_ID", raising=False)
    common.one_device_only("demo", _HP(strategy="default"), "needs one device")  # no error
    with pytest.raises(KerasGenError, match=r"^demo needs one device; --strategy must be default or multiworker, "
                                            r"got 'mirrored' \(use --strategy default\)$"):
        common.one_device_only("demo", _HP(strategy="mirrored"), "needs one device")


def _cluster(index, chief=False):
    cluster = {"worker": ["127.0.0.1:1", "127.0.0.1:2"], **({"chief": ["127.0.0.1:3"]} if chief else {})}
    return json.dumps({"cluster": cluster, "task": {"type": "worker", "index": index}})


def test_one_device_only_runs_on_the_chief_and_releases_the_other_workers(monkeypatch, capsys):
    from keras_gen.errors import NothingToDo

    monkeypatch.delenv("SLURM_JOB_ID", raising=False)
    monkeypatch.setenv("TF_CONFIG", _cluster(0))
    hp = _HP(strategy="multiworker")
    common.one_device_only("demo", hp, "needs one device")
    assert hp.strategy == "default"  # the chief runs it alone: metrics.json records one replica
    assert "demo needs one device: --strategy multiworker runs it on the chief alone" in capsys.readouterr().out
    for config in (_cluster(1), _cluster(0, chief=True)):  # worker 1; worker 0 of a cluster with a chief task
        monkeypatch.setenv("TF_CONFIG", config)
        hp = _HP(strategy="multiworker")
        with pytest.raises(NothingToDo, match=r"^demo needs one device: the chief runs it alone; worker [01] has "
                                              r"nothing to do$"):
            common.one_device_only("demo", hp, "needs one device")
        assert hp.strategy == "multiworker"
    monkeypatch.delenv("TF_CONFIG")
    monkeypatch.setenv("SLURM_JOB_ID", "7")
    monkeypatch.setenv("SLURM_PROCID", "1")
    with pytest.raises(NothingToDo, match="worker 1 has nothing to do"):
        common.one_device_only("demo", _HP(strategy="multiworker"), "needs one device")
    monkeypatch.setenv("SLURM_PROCID", "0")
    common.one_device_only("demo", _HP(strategy="multiworker"), "needs one device")
    monkeypatch.setenv("TF_CONFIG", "{not json")
    with pytest.raises(KerasGenError, match="TF_CONFIG must be JSON with a task type and index"):
        common.one_device_only("demo", _HP(strategy="multiworker"), "needs one device")


def test_a_released_worker_exits_0_with_one_line_and_writes_nothing(monkeypatch, capsys, tmp_path):
    from keras_gen import cli

    monkeypatch.setenv("TF_CONFIG", _cluster(1))
    out = tmp_path / "run"
    assert cli.main(["reproduce", "graph-spectra-karate", "--strategy", "multiworker", "--out", str(out)]) == 0
    printed = capsys.readouterr()
    assert printed.out.strip() == ("keras-gen: graph-spectra-karate trains on the whole graph at once, on one "
                                   "device: the chief runs it alone; worker 1 has nothing to do")
    assert not out.exists() and "error" not in printed.err


class _FakePartsRun(common.Run):
    """A Run whose part processes are small Python scripts instead of `keras-gen reproduce`."""

    scripts = {}

    def part_command(self, hp):
        return [sys.executable, "-c", self.scripts[hp.seeds]]


def _write_part(out, key, recipe, marker):
    """Python code that stores a finished part the way `cached` does."""
    return (f"import json, os, time; d = os.path.join({str(out)!r}, {key!r}); os.makedirs(d, exist_ok=True); "
            f"json.dump({recipe!r}, open(os.path.join(d, 'recipe.json'), 'w')); "
            f"json.dump({{'marker': {marker!r}}}, open(os.path.join(d, 'result.json'), 'w')); print('part done')")


def test_compute_in_processes_runs_the_missing_parts_then_cached_reuses_them(tmp_path, capsys):
    out = tmp_path / "run"
    hp = _HP(out=str(out), seeds="3,4,5")
    r = _FakePartsRun("demo", hp)
    assert r.cached("seed_3", lambda: {"marker": "in-process"}) == {"marker": "in-process"}  # already finished
    recipe = common._jsonable(r.recipe)
    _FakePartsRun.scripts = {s: _write_part(out, f"seed_{s}", recipe, f"process {s}") for s in ("4", "5")}
    _FakePartsRun.scripts["3"] = "raise SystemExit('a finished part must not run again')"
    parts = [(f"seed_{s}", r.recipe, dataclasses.replace(hp, seeds=str(s))) for s in r.seeds]
    r.compute_in_processes(parts, jobs=2)
    printed = capsys.readouterr().out
    assert "computing 2 parts in 2 processes" in printed and printed.count("finished in") == 2
    assert (out / "seed_4" / "process.log").read_text().strip() == "part done"
    assert [r.cached(f"seed_{s}", lambda: {"marker": "recomputed"}) for s in r.seeds] == [
        {"marker": "in-process"}, {"marker": "process 4"}, {"marker": "process 5"}]
    # Parts computed by this run's processes are not "reused" (their time is in `seconds`).
    assert r.reused_parts == ["seed_3"] and r.process_parts == {"seed_4", "seed_5"}
    # Nothing to do, one job, or one part: no process is started.
    r.compute_in_processes(parts, jobs=2)
    r.compute_in_processes([("seed_9", r.recipe, dataclasses.replace(hp, seeds="9"))], jobs=4)
    r.compute_in_processes([(f"seed_{s}", r.recipe, dataclasses.replace(hp, seeds=str(s))) for s in (8, 9)], jobs=1)
    assert "computing" not in capsys.readouterr().out and not (out / "seed_9").exists()
    # A process may compute several parts (a tuple of keys): it runs unless all are finished.
    _FakePartsRun.scripts = {"6,7": _write_part(out, "seed_6", recipe, "p6") + "; " +
                             _write_part(out, "seed_7", recipe, "p7"),
                             "3,8": _write_part(out, "seed_8", recipe, "p8"),
                             "3,4": "raise SystemExit('finished parts must not run again')"}
    r.compute_in_processes([(("seed_4", "seed_6", "seed_7"), r.recipe, dataclasses.replace(hp, seeds="6,7")),
                            (("seed_3", "seed_8"), r.recipe, dataclasses.replace(hp, seeds="3,8")),
                            (("seed_3", "seed_4"), r.recipe, dataclasses.replace(hp, seeds="3,4"))], jobs=2)
    assert r.process_parts == {"seed_4", "seed_5", "seed_6", "seed_7", "seed_8"}  # seed_3 was done before
    assert r.cached("seed_7", lambda: {"marker": "recomputed"}) == {"marker": "p7"}


def test_compute_in_processes_stops_the_others_when_one_fails(tmp_path):
    import time

    out = tmp_path / "run"
    hp = _HP(out=str(out), seeds="3,4")
    r = _FakePartsRun("demo", hp)
    pid_file = tmp_path / "sleeper.pid"
    _FakePartsRun.scripts = {
        "3": f"import os, time; open({str(pid_file)!r}, 'w').write(str(os.getpid())); time.sleep(120)",
        "4": "import sys, time; time.sleep(1); print('I0000 noise'); print('keras-gen: error: --units is bad'); "
             "sys.exit(2)",
    }
    started = time.time()
    with pytest.raises(KerasGenError) as info:
        r.compute_in_processes([(f"seed_{s}", r.recipe, dataclasses.replace(hp, seeds=str(s))) for s in (3, 4)], 2)
    assert time.time() - started < 60
    message = str(info.value)
    assert "\n" not in message and message.startswith("seed_4: its process failed (exit status 2): ")
    assert "keras-gen: error: --units is bad" in message and str(out / "seed_4" / "process.log") in message
    pid = int(pid_file.read_text())
    with pytest.raises(ProcessLookupError):  # the sleeper was stopped and reaped
        os.kill(pid, 0)
