"""Smoke test of gnn-cora with a tiny budget: the claim record, figures, the saved and exported models."""
import json
import os

import pytest

from keras_gen.errors import KerasGenError
from reproductions import gnn_cora as repro


@pytest.mark.slow
def test_cora_tiny_run(tmp_path):
    out, saved = tmp_path / "run", tmp_path / "saved"
    hp = repro.HParams(seeds="3,4", models="gcn,mlp", jobs=1, gcn_epochs=3, figure="pca", out=str(out), export_dir=str(saved))
    m = repro.run(hp)
    record = json.loads((out / "metrics.json").read_text())
    assert record["seeds"] == [3, 4] and record["evaluate_on"] == "test"
    for kind in ("gcn", "mlp"):
        acc = m[f"{kind}_test_accuracy"]
        assert set(acc) == {"3", "4"} and all(0.0 <= v <= 1.0 for v in acc.values())
        assert m["per_seed"][kind]["3"]["epochs"] == 3
    assert m["majority_class_accuracy"] == pytest.approx(0.319)  # 319 of the 1,000 test papers are Neural_Networks
    gcn = next(c for c in record["claims"] if c["metric"] == "gcn_test_accuracy" and c["op"] == ">=")
    assert gcn["id"] == "T9" and gcn["target"] == 0.805 and gcn["seeds"] == [3, 4]
    assert gcn["value"] == pytest.approx(m["gcn_mean_test_accuracy"]) and gcn["met"] == (gcn["value"] >= 0.805)
    assert gcn["baselines"]["majority_class"] == pytest.approx(0.319) and gcn["baselines"]["paper"] == 0.815
    uses_graph = next(c for c in record["claims"] if c["metric"] == "gcn_test_accuracy" and c["op"] == ">")
    assert uses_graph["target"] == pytest.approx(m["mlp_mean_test_accuracy"])
    for name in ("hidden_pca.png", "validation_curves.png"):
        assert 0 < os.path.getsize(out / name) < 150_000
    assert os.path.isfile(out / "gcn_seed_3" / "model.keras")
    assert os.path.isdir(m["export_paths"]["gcn"]) and m["export_paths"]["gcn"].endswith("gnn_cora_gcn/1")
    again = repro.export(str(out), base_dir=str(saved))  # the CLI's `keras-gen export gnn-cora --from OUT`
    assert again.split(", ")[0].endswith("gnn_cora_gcn/2")


def test_selection_runs_report_validation_and_make_no_claims(tmp_path):
    hp = repro.HParams(seeds="5", models="gcn", gcn_epochs=2, evaluate_on="validation", figure="pca", export=False,
                       out=str(tmp_path / "sel"))
    m = repro.run(hp)
    assert m["claims"] == [] and m["gcn_validation_accuracy"]["5"] == m["per_seed"]["gcn"]["5"]["val_accuracy"]


def test_bad_options_are_one_line(tmp_path):
    with pytest.raises(KerasGenError, match="--gat-dropout must be < 1"):
        repro.run(repro.HParams(gat_dropout=1.0, out=str(tmp_path)))
    with pytest.raises(KerasGenError, match="use --strategy default"):
        repro.run(repro.HParams(strategy="mirrored", out=str(tmp_path)))
    with pytest.raises(KerasGenError, match="no trained model"):
        repro.export(str(tmp_path / "nothing"))
