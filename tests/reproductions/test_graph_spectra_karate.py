"""Smoke test of graph-spectra-karate with a tiny budget: the claim record, the exact spectra, the figures."""
import json
import os

import pytest

from keras_gen.errors import UnknownNameError
from reproductions import graph_spectra_karate as repro


@pytest.mark.slow
def test_karate_tiny_run(tmp_path):
    out = tmp_path / "run"
    m = repro.run(repro.HParams(seeds="3,4", models="gcn,sage", steps=5, out=str(out)))
    record = json.loads((out / "metrics.json").read_text())
    assert record["seeds"] == [3, 4] and record["node_features"].startswith("identity")
    # the seed-free spectra are exact whatever the budget
    assert m["algebraic_connectivity"] == pytest.approx(0.4685252267, abs=1e-9)
    assert m["fiedler_split_misplaced_members"] == [3, 9] and m["modularity_split_misplaced_members"] == [9]
    assert m["parseval_max_relative_error"] < 1e-12 and m["inverse_max_abs_error"] < 1e-12
    assert m["harmonic_function_correct"] == 31
    claims = {c["metric"]: c for c in record["claims"]}
    for key in ("algebraic_connectivity", "modularity_split_errors", "fiedler_split_errors",
                "parseval_max_relative_error", "inverse_max_abs_error"):
        assert claims[key]["met"] and claims[key]["id"] == "T9"
    gcn = claims["gcn_correct"]
    assert gcn["every_seed"] and gcn["seeds"] == [3, 4] and gcn["target"] == 31 and gcn["op"] == ">="
    assert gcn["value"] == pytest.approx((m["gcn_correct"]["3"] + m["gcn_correct"]["4"]) / 2)
    assert gcn["met"] == (min(m["gcn_correct"].values()) >= 31)
    assert gcn["baselines"] == {"harmonic_function": 31, "one_faction_for_all": 16}
    for seed in ("3", "4"):
        assert 0 <= m["sage_correct"][seed] <= 32
        assert len(m["per_seed"]["gcn"][seed]["misclassified_members"]) == 32 - m["gcn_correct"][seed]
    for name in ("karate_spectrum.png", "karate_gnn.png"):
        assert 0 < os.path.getsize(out / name) < 150_000


def test_unknown_model_is_one_line(tmp_path):
    with pytest.raises(UnknownNameError, match="unknown model 'gin'"):
        repro.run(repro.HParams(models="gcn,gin", out=str(tmp_path)))
