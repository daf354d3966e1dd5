"""Smoke test of the optimal-discriminator reproduction (C3) with a tiny budget."""
import json
import os

import numpy as np
import pytest

from reproductions import optimal_discriminator as od


def test_optimal_discriminator_formula_and_value_by_hand():
    p_data, p_g = np.array([0.5, 0.5, 0.0]), np.array([0.0, 0.5, 0.5])
    assert list(od.optimal_discriminator(p_data, p_g)) == [1.0, 0.5, 0.0]
    # V(G, D*) = 0.5 log 1 + 0.5 log 0.5 + 0.5 log 0.5 + 0.5 log 1 = -log 2; JS = log 2 / 2.
    v = od.value(p_data, p_g, *od.log_optimal_discriminator(p_data, p_g))
    assert v == pytest.approx(-np.log(2))
    assert v == pytest.approx(2 * (np.log(2) / 2) - 2 * np.log(2))


def test_run_tiny(tmp_path):
    hp = od.HParams(grid_points=2001, samples=2000, epochs=3, batch_size=500, out=str(tmp_path / "run"))
    m = od.run(hp)
    assert m["identity_max_abs_error"] <= 1e-6
    assert len(m["pairs"]) == len(od.PAIRS)
    assert next(r for r in m["pairs"] if r["pair"] == "equal")["js"] == pytest.approx(0.0, abs=1e-12)
    assert next(r for r in m["pairs"] if r["pair"] == "nearly_disjoint")["js"] == pytest.approx(np.log(2), abs=1e-6)
    # D* maximises V(G, .) pointwise, so no trained D can beat it.
    assert m["v_at_trained_d"] <= m["v_at_d_star"] + 1e-12
    assert 0.0 <= m["d_mean_abs_error_on_support"] <= m["d_max_abs_error_on_support"] <= 1.0
    for name in ("metrics.json", "d_vs_dstar.png", "identity.png"):
        assert os.path.getsize(tmp_path / "run" / name) > 0
    with open(tmp_path / "run" / "metrics.json", encoding="utf-8") as f:
        saved = json.load(f)
    assert saved["hparams"]["samples"] == 2000 and saved["identity_max_abs_error"] == m["identity_max_abs_error"]
