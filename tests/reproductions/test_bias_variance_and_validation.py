"""Smoke test of bias-variance-and-validation (T12) with a tiny budget."""
import json
import math
import os

import pytest

from keras_gen.errors import KerasGenError
from reproductions import bias_variance_and_validation as repro


@pytest.mark.slow
def test_bias_variance_tiny_run(tmp_path):
    out = tmp_path / "run"
    m = repro.run(repro.HParams(seeds="5", max_degree=12, n_test=300, big_n="200", out=str(out)))
    claims = {c["metric"]: c for c in m["claims"]}
    assert len(m["claims"]) == 7 and claims["steps_mismatches"]["value"] == 0 and claims["steps_mismatches"]["met"]
    seed = m["per_seed"]["5"]
    assert len(seed["train_mse"]) == 13 and seed["train_mse"][12] <= seed["train_mse"][1]  # nested least squares
    assert seed["cv_degree"] == min(range(13), key=lambda d: seed["cv_mse"][d])
    assert claims["cv_choice_test_ratio"]["value"] >= 1.0  # the test favourite is the minimum
    assert m["mismatch_floor"] == pytest.approx(0.09 + 1 - math.cos(math.pi / 4))
    rows = m["epochs_vs_updates"]["rows"]
    assert {(r["n"], r["batch_size"], r["drop_remainder"]): r["formula"] for r in rows}[(3500, 60, True)] == 58
    record = json.loads((out / "metrics.json").read_text())
    assert record["seeds"] == [5] and all(set(c) >= {"id", "value", "target", "op", "met"} for c in record["claims"])
    for name in ("fits.png", "mse_by_degree.png", "mismatch.png"):
        assert 1000 < os.path.getsize(out / name) < 150_000


def test_bad_options_are_one_line_errors(tmp_path):
    with pytest.raises(KerasGenError, match="--big-n must be comma-separated integers"):
        repro.run(repro.HParams(big_n="300,lots", out=str(tmp_path)))
    with pytest.raises(KerasGenError, match="--noise must be > 0"):
        repro.run(repro.HParams(noise=0.0, out=str(tmp_path)))


@pytest.mark.slow
@pytest.mark.extended
def test_two_workers_through_the_launcher_count_the_same_steps(tmp_path):
    """`keras-gen launch --workers 2`: the epochs-vs-updates models are built in the strategy's
    scope, so the two workers train one model per (N, B) on global batches of B, the last
    smaller batch split between them: fit still runs ceil(N / B) (floor with drop_remainder)
    steps per epoch. The regression part is NumPy: the same numbers as one process's."""
    from reproductions import common
    from tests.distributed.launched import launch_two_workers

    hp = repro.HParams(seeds="5", max_degree=12, n_test=300, big_n="200")
    m = launch_two_workers(repro.NAME, ["--seeds", "5", "--max-degree", "12", "--n-test", "300", "--big-n", "200"],
                           tmp_path / "launched")
    assert m["per_seed"]["5"] == common._jsonable(repro.one_seed(hp, 5))  # as metrics.json stores it
    rows = m["epochs_vs_updates"]["rows"]
    assert len(rows) == 13 and m["epochs_vs_updates"]["mismatches"] == 0
    for r in rows:
        assert r["fit_steps_per_epoch"] == [r["formula"]] * 2 and r["optimizer_iterations"] == 2 * r["formula"], r
