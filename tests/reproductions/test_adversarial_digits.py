"""Smoke test of adversarial-digits with a tiny budget; its options' errors."""
import json
import os

import pytest

from keras_gen.errors import KerasGenError, UnknownNameError
from reproductions import adversarial_digits as repro

TINY = dict(seeds="3", n_train=200, n_eval=30, softmax_epochs=1, cnn_epochs=1, adv_epochs=1, cnn_width=4, steps=2,
            targeted_steps=2, adv_steps=1, linf_curve="0.1", l2_curve="1")


@pytest.mark.slow
def test_tiny_run_writes_the_claim_record_figures_and_resumes(tmp_path, capsys):
    out = tmp_path / "run"
    m = repro.run(repro.HParams(out=str(out), **TINY))
    record = json.loads((out / "metrics.json").read_text())
    assert record["seeds"] == [3] and record["split"] == "test" and record["n_eval"] == 30
    claims = record["claims"]
    assert [c["metric"] for c in claims] == ["softmax_fgsm_error_rate", "cnn_pgd_linf_accuracy",
                                             "cnn_targeted_linf_success_rate", "cnn_targeted_l2_success_rate",
                                             "robust_cnn_pgd_linf_accuracy"]
    for c in claims:
        assert c["id"] == "T11" and set(c) >= {"statement", "value", "sd", "seeds", "target", "op", "met", "baselines"}
        assert c["value"] == pytest.approx(record[c["metric"]]["3"])
        assert c["met"] == {">=": c["value"] >= c["target"], "<=": c["value"] <= c["target"]}[c["op"]]
        assert c["baselines"], c["metric"]  # every claim names its trivial baseline
    # the claims' budgets are points of the curves even when the curve options leave them out
    per_seed = record["per_seed"]["3"]
    assert per_seed["cnn"]["curves"]["linf"]["epsilon"] == [0.1, 0.3]
    assert per_seed["cnn"]["curves"]["l2"]["epsilon"] == [1.0, 3.0]
    assert per_seed["robust_cnn"]["curves"]["l2"]["epsilon"] == [3.0]  # the claim budget only
    for model in ("softmax", "cnn", "robust_cnn"):
        for key in ("clean_accuracy", "pgd_linf_accuracy", "noise_linf_accuracy", "pgd_l2_accuracy"):
            assert 0.0 <= record[f"{model}_{key}"]["3"] <= 1.0
    assert [row["model"] for row in record["table_adversarial_training"]] == ["cnn", "robust_cnn"]
    assert record["table_attacks"][0]["clean_accuracy"]["value"] == pytest.approx(record["softmax_clean_accuracy"]["3"])
    for name in ("accuracy_vs_epsilon.png", "adversarial_examples.png"):
        size = os.path.getsize(out / name)
        assert 5_000 < size < 150_000, (name, size)
    assert m["claims_met"] == record["claims_met"]
    # a second run reuses the finished seed
    capsys.readouterr()
    again = repro.run(repro.HParams(out=str(out), **TINY))
    assert "seed_3: finished in an earlier run" in capsys.readouterr().out
    assert again["cnn_pgd_linf_accuracy"] == record["cnn_pgd_linf_accuracy"]


def test_bad_options_fail_before_training(tmp_path):
    cases = [
        (dict(linf_curve="0.1,a"), KerasGenError, "--linf-curve must be comma-separated numbers"),
        (dict(l2_curve="1,-2"), KerasGenError, "--l2-curve must be positive finite numbers"),
        (dict(split="train"), UnknownNameError, "unknown split 'train'"),
        (dict(adv_start="pretrained"), UnknownNameError, "unknown adv start 'pretrained'"),
        (dict(steps=0), KerasGenError, "--steps must be >= 1"),
    ]
    for changes, error, message in cases:
        with pytest.raises(error, match=message):
            repro.run(repro.HParams(out=str(tmp_path / "bad"), **changes))
    assert not os.path.exists(tmp_path / "bad" / "metrics.json")
