"""optimal-discriminator (C3): the formulas by hand, claims that a wrong D fails, a tiny run with resume."""
import json
import os

import numpy as np
import pytest

from reproductions import optimal_discriminator as od
from tests.reproductions.claim_checks import check_claims


def test_optimal_discriminator_formula_and_value_by_hand():
    p_data, p_g = np.array([0.5, 0.5, 0.0]), np.array([0.0, 0.5, 0.5])
    assert list(od.optimal_discriminator(p_data, p_g)) == [1.0, 0.5, 0.0]
    # V(G, D*) = 0.5 log 1 + 0.5 log 0.5 + 0.5 log 0.5 + 0.5 log 1 = -log 2; JS = log 2 / 2.
    v = od.value(p_data, p_g, *od.log_optimal_discriminator(p_data, p_g))
    assert v == pytest.approx(-np.log(2))
    assert v == pytest.approx(2 * (np.log(2) / 2) - 2 * np.log(2))


def test_identity_holds_for_d_star_only():
    grid = np.linspace(-8, 8, 2001)
    rows = od.identity_check(grid)
    assert max(r["abs_error"] for r in rows) <= 1e-9
    assert next(r for r in rows if r["pair"] == "equal")["js"] == pytest.approx(0.0, abs=1e-12)
    assert next(r for r in rows if r["pair"] == "nearly_disjoint")["js"] == pytest.approx(np.log(2), abs=1e-6)

    def tilted(pmf_data, pmf_g):  # p_data / (p_data + 2 p_g): not optimal wherever p_g > 0
        with np.errstate(divide="ignore"):
            total = np.log(pmf_data + 2 * pmf_g)
            return np.log(pmf_data) - total, np.log(2 * pmf_g) - total

    for wrong in (od.constant_half, tilted):
        rows_wrong = od.identity_check(grid, wrong)
        gaps = [r["abs_error"] for r in rows_wrong if r["pair"] in ("shifted", "narrow", "mixture")]
        assert min(gaps) > 1e-3  # V(G, D) < V(G, D*) = 2 JS - 2 log 2
    # D = 1/2: V = -2 log 2 exactly, so the gap is 2 JS.
    for r, h in zip(rows, od.identity_check(grid, od.constant_half)):
        assert h["abs_error"] == pytest.approx(2 * r["js"], abs=1e-9)


def test_score_and_claims_fail_for_uninformative_discriminators():
    grid = np.linspace(-8, 8, 4001)
    comp_data, comp_g = next((c_d, c_g) for n, c_d, c_g in od.PAIRS if n == od.TRAINED_PAIR)
    p_data, p_g = od.mixture(comp_data)[0](grid), od.mixture(comp_g)[0](grid)
    d_star = od.optimal_discriminator(p_data, p_g)
    exact = od.score_discriminator(np.log(d_star) - np.log1p(-d_star), p_data, p_g, 0.01)
    assert exact["d_max_abs_error_on_support"] < 1e-9 and exact["js_ratio"] == pytest.approx(1.0, abs=1e-6)
    half = od.score_discriminator(np.zeros_like(grid), p_data, p_g, 0.01)
    assert half["js_ratio"] == pytest.approx(0.0, abs=1e-12)
    rows = od.identity_check(grid)
    base = {"d_one_half": half}
    # A "trained" D that is D* passes; one that stayed at 1/2 fails both learned claims.
    claims = od.claims_for(rows, od.identity_check(grid, od.constant_half), {0: exact, 1: exact}, base)
    check_claims({"claims": claims})
    assert [c["met"] for c in claims] == [True, True, True]
    claims = od.claims_for(rows, rows, {0: exact, 1: half}, base)
    assert [c["met"] for c in claims] == [True, False, False]


@pytest.mark.slow
def test_run_tiny_claims_figures_resume(tmp_path, capsys):
    out = tmp_path / "run"
    hp = od.HParams(grid_points=2001, samples=2000, epochs=3, batch_size=500, seeds="3", out=str(out))
    m = od.run(hp)
    check_claims(m)
    assert [c["metric"] for c in m["claims"]] == ["identity_max_abs_error", "d_mean_abs_error_on_support", "js_ratio"]
    assert m["claims"][0]["met"] and m["claims"][0]["seeds"] == []
    assert m["claims"][1]["value"] == m["per_seed"]["3"]["d_mean_abs_error_on_support"]  # one seed: its value
    # D* maximises V(G, .) pointwise, so no trained D can beat it.
    assert m["per_seed"]["3"]["v_at_trained_d"] <= m["per_seed"]["3"]["v_at_d_star"] + 1e-12
    assert 0.0 <= m["d_mean_abs_error_on_support"]["3"] <= m["d_max_abs_error_on_support"]["3"] <= 1.0
    for name in ("d_vs_dstar.png", "identity.png"):
        assert 5_000 < os.path.getsize(out / name) < 150_000, name
    assert json.loads((out / "metrics.json").read_text())["claims"] == m["claims"]
    capsys.readouterr()
    again = od.run(hp)
    assert "seed_3: finished in an earlier run" in capsys.readouterr().out
    assert again["claims"] == m["claims"]
