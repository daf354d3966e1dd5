"""Smoke test of critical-points-and-sharpness (T1-T3) with a tiny budget, and its closed forms."""
import json
import os

import numpy as np
import pytest

from keras_gen.errors import KerasGenError, UnknownNameError
from reproductions import critical_points_and_sharpness as cps

TINY = dict(train_digits=120, hidden=8, gd_steps=20, measure_every=10, power_iterations=5, sgd_max_epochs=2,
            quad_steps=12, digits_epochs=1, digits_train=256, digits_rates="0.1", seeds="10")


def test_toy_closed_forms():
    assert cps.toy_loss(0.0, 0.0) == 1.0
    u = np.array([1.0, 1.0]) / np.sqrt(2)
    s = 0.5
    assert cps.toy_loss(*(s * u)) == pytest.approx((1 - s**2 / 2) ** 2)
    np.testing.assert_allclose(cps.toy_hessian_closed_form(0.0, 0.0), [[0, -2], [-2, 0]])
    # A zero gradient stays zero: plain GD from the origin never leaves.
    steps, path = cps._toy_descent([0.0, 0.0], 0.1, 0.0, max_steps=50)
    assert steps == 51 and np.all(path == 0.0)


def test_quadratic_and_decades():
    m, loss, grad = cps.quadratic(100.0)
    th = np.array([1.0, 2.0])
    assert loss(th) == pytest.approx(0.5 * (1 + 100 * 4))
    np.testing.assert_allclose(grad(th), [1.0, 200.0])
    m_rot, loss_rot, _ = cps.quadratic(100.0, rotated=True)
    np.testing.assert_allclose(np.linalg.eigvalsh(m_rot), [1.0, 100.0])
    assert abs(m_rot[0, 1]) > 1  # mixed axes
    assert cps.decades(100.0, 1.0) == pytest.approx(2.0)
    assert cps.decades(1.0, 0.0) == cps.LOSS_FLOOR_DECADES
    assert cps.decades(1.0, np.inf) == -np.inf
    x = np.arange(2 * 28 * 28, dtype=np.float32).reshape(2, 28, 28, 1)
    p = cps.pooled(x)
    assert p.shape == (2, 196) and p[0, 0] == pytest.approx((0 + 1 + 28 + 29) / 4)


@pytest.mark.slow
def test_run_tiny(tmp_path):
    out = tmp_path / "run"
    m = cps.run(cps.HParams(out=str(out), **TINY))
    with open(out / "metrics.json", encoding="utf-8") as f:
        record = json.load(f)
    assert record["claims"] == m["claims"]
    ids = [c["id"] for c in record["claims"]]
    assert ids == ["T1", "T1", "T1", "T2", "T2", "T2", "T3", "T3"]
    for c in record["claims"]:
        assert set(c) >= {"id", "statement", "metric", "value", "sd", "seeds", "target", "op", "met", "baselines"}
    # T1 is computed exactly whatever the budget: the tape's Hessian, the escape step, power iteration.
    t1 = record["claims"][:3]
    assert all(c["met"] for c in t1)
    assert record["saddle"]["toy_hessian_at_origin"] == [[0.0, -2.0], [-2.0, 0.0]]
    assert record["saddle"]["toy_critical_point"] == "saddle"
    assert record["saddle"]["toy_loss_after_gd_from_origin"] == 1.0
    assert record["saddle"]["least_squares_power_rel_error"] < 1e-6
    # The edge-of-stability record: curves, and SGD ran against GD's final loss.
    eos = record["edge_of_stability"]["per_seed"]["10"]
    assert eos["gd_steps"] == [0, 10, 20] and len(eos["gd_sharpness"]) == 3
    assert all(np.isfinite(eos["gd_sharpness"])) and eos["sgd_final_sharpness"] > 0
    assert record["claims"][4]["target"] == [0.95, 1.05] and record["claims"][4]["op"] == "in"
    # The optimisers: the quadratic sweep on the selection starts, the digits sweep on validation.
    q = record["quadratic"]
    assert set(q["per_optimizer"]) == set(cps.OPTIMIZERS)
    assert len(q["sweep_selection_seeds"]["sgd"]) == len(cps.QUAD_RATES)
    for v in q["per_optimizer"].values():
        assert v["keras_vs_written_out_max_diff"] < 1e-4  # Keras follows its written-out formula
    d = record["digits"]
    assert d["sweep_validation_seed"] == 0 and set(d["sweep"]["adam"]) == {"0.1"}
    assert len(d["per_seed"]["10"]["sgd"]["curve"]) >= 2
    assert record["quadratic_rotated"]["rotated"] is True
    for name in ("saddle.png", "edge_of_stability.png", "quadratic.png", "digits_optimizers.png"):
        size = os.path.getsize(out / name)
        assert 0 < size <= 150_000, (name, size)
    # A rerun reuses every finished part.
    again = cps.run(cps.HParams(out=str(out), **TINY))
    assert again["edge_of_stability"]["per_seed"]["10"]["gd_sharpness"] == eos["gd_sharpness"]


def test_bad_options_fail_in_one_line(tmp_path):
    with pytest.raises(KerasGenError, match="--strategy must be default"):
        cps.run(cps.HParams(out=str(tmp_path / "a"), strategy="mirrored"))
    with pytest.raises(UnknownNameError, match="unknown part 'hessian'"):
        cps.run(cps.HParams(out=str(tmp_path / "b"), parts="saddle,hessian"))
    with pytest.raises(KerasGenError, match="--digits-rates must be positive"):
        cps.run(cps.HParams(out=str(tmp_path / "c"), digits_rates="0.1,-1"))
    with pytest.raises(KerasGenError, match="--eta must be > 0"):
        cps.run(cps.HParams(out=str(tmp_path / "d"), eta=0.0))
