"""Smoke test of batch-norm-digits (T4) with a tiny budget."""
import json
import os

import pytest

from keras_gen.errors import KerasGenError
from reproductions import batch_norm_digits as repro


TINY = dict(steps=40, eval_every=20, sweep_learning_rates="0.5", bn_learning_rate=0.5, plain_learning_rate=0.5,
            seeds="3", check_steps=4, wine_max_steps=3000)


@pytest.fixture(scope="module")
def tiny(tmp_path_factory):
    """One process's run of TINY: (its --out, its record); the 2-worker test compares with it."""
    out = tmp_path_factory.mktemp("batch_norm_digits") / "run"
    return out, repro.run(repro.HParams(out=str(out), **TINY))


@pytest.mark.slow
def test_batch_norm_digits_tiny_run(tiny):
    out, m = tiny
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


@pytest.mark.slow
@pytest.mark.extended
def test_two_workers_through_the_launcher_train_one_network_with_global_batch_statistics(tiny, tmp_path):
    """`keras-gen launch --workers 2`: each network is built in the strategy's scope and its BN
    layers synchronised, so the two workers normalise every step's 30 + 30 digits with the
    statistics of the global batch of 60, as one process does (unsynchronised layers would
    normalise each half by itself: another step). Keras all-reduces them as E x^2 - (E x)^2
    from split sums, so the numbers are one process's to float32 rounding; measured: losses
    3e-7 and sigmoid-input percentiles 4e-6 relative apart, accuracies equal (the
    tolerances leave 25x room). The moving-average check trains with `train_on_batch`,
    which hands each worker the whole batch: one process's numbers, its float32 error
    measures equal to 1e-6 (their claims' targets are 1e-5)."""
    import numpy as np

    from tests.distributed.launched import launch_two_workers

    _, single = tiny
    args = [a for k, v in TINY.items() for a in (f"--{k.replace('_', '-')}", str(v))]
    m = launch_two_workers(repro.NAME, args, tmp_path / "launched")
    for variant in ("bn", "plain"):
        one, two = single["runs"][variant]["3"], m["runs"][variant]["3"]
        np.testing.assert_allclose(two["test_accuracy"], one["test_accuracy"], rtol=0, atol=1e-4, err_msg=variant)
        np.testing.assert_allclose(two["train_loss"], one["train_loss"], rtol=1e-5, err_msg=variant)
        np.testing.assert_allclose(two["sigmoid_input_percentiles"], one["sigmoid_input_percentiles"], rtol=1e-4,
                                   atol=1e-6, err_msg=variant)
    for key, value in single["moving_average_checks"]["3"].items():
        assert m["moving_average_checks"]["3"][key] == pytest.approx(value, rel=1e-5, abs=1e-6), key
    assert m["wine"] == single["wine"]
