"""Smoke test of batch-norm-digits (T4) with a tiny budget."""
import json
import os

import pytest

from keras_gen.errors import KerasGenError
from reproductions import batch_norm_digits as repro


@pytest.mark.slow
def test_batch_norm_digits_tiny_run(tmp_path):
    out = tmp_path / "run"
    hp = repro.HParams(steps=40, eval_every=20, sweep_learning_rates="0.5", bn_learning_rate=0.5,
                       plain_learning_rate=0.5, seeds="3", check_steps=4, wine_max_steps=3000, out=str(out))
    m = repro.run(hp)
    claims = {c["metric"]: c for c in m["claims"]}
    assert len(m["claims"]) == 9
    # the formula checks hold whatever the budget
    for metric in ("moving_average_max_rel_error", "inference_max_rel_error", "batch_of_one_beta_error_relative"):
        assert claims[metric]["met"], claims[metric]
    assert claims["batch_of_one_beta_error_relative"]["baselines"]["inference_mean_abs_deviation_from_beta"]["value"] > 0.01
    assert claims["wine_condition_number_ratio"]["value"] > 1e3 and claims["wine_gd_steps_standardised"]["met"]
    assert m["wine"]["raw"]["gd_steps"] is None  # not within 3,000 steps
    run = m["runs"]["bn"]["3"]
    assert run["steps"] == [0, 20, 40] and len(run["sigmoid_input_percentiles"]) == 3
    assert 0.0 <= claims["bn_test_accuracy"]["value"] <= 1.0
    record = json.loads((out / "metrics.json").read_text())
    assert record["seeds"] == [3] and record["claims"][0]["id"] == "T4"
    for name in ("figure1.png", "learning_rates.png", "feature_normalisation.png"):
        assert 1000 < os.path.getsize(out / name) < 150_000


def test_bad_options_are_one_line_errors(tmp_path):
    with pytest.raises(KerasGenError, match="--momentum must be < 1"):
        repro.run(repro.HParams(momentum=1.0, out=str(tmp_path)))
    with pytest.raises(KerasGenError, match="--bn-learning-rate must be > 0"):
        repro.run(repro.HParams(bn_learning_rate=0.0, out=str(tmp_path)))
