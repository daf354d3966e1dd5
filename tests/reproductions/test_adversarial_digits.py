"""Smoke test of adversarial-digits with a tiny budget; its options' errors."""
import json
import os

import pytest

from keras_gen.errors import KerasGenError, UnknownNameError
from reproductions import adversarial_digits as repro

TINY = dict(seeds="3", n_train=200, n_eval=30, softmax_epochs=1, cnn_epochs=1, adv_epochs=1, cnn_width=4, steps=2,
            targeted_steps=2, adv_steps=1, linf_curve="0.1", l2_curve="1")


@pytest.fixture(scope="module")
def tiny(tmp_path_factory):
    """One process's run of TINY: (its --out, its record); the 2-worker test compares with it."""
    out = tmp_path_factory.mktemp("adversarial_digits") / "run"
    return out, repro.run(repro.HParams(out=str(out), **TINY))


@pytest.mark.slow
def test_tiny_run_writes_the_claim_record_figures_and_resumes(tiny, capsys):
    out, m = tiny
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


@pytest.mark.slow
@pytest.mark.extended
def test_two_workers_through_the_launcher_train_each_classifier_once(tiny, tmp_path):
    """`keras-gen launch --workers 2`: the three classifiers (the robust CNN inside
    `AdversarialTraining`) are built in the strategy's scope and trained as one model on
    global batches of 64 split in two (200 digits: 32 + 32 per step, 4 + 4 in the last), so
    the numbers are one process's up to float32 rounding of the split batch means. Measured:
    every accuracy and rate equal, the one confidence 7e-8 apart (rtol 1e-4 leaves room for
    other thread counts; a flipped digit would move a rate by 1/30, far outside it). Longer
    runs amplify the rounding through PGD's sign steps as a change of thread count does: with
    the full training set, adversarial training moved the robust CNN's clean accuracy by
    0.5 points under 2 workers and by 0.4 in one process run with 1 thread instead of 2."""
    import numpy as np

    from tests.distributed.launched import launch_two_workers

    _, single = tiny
    args = [a for k, v in TINY.items() for a in (f"--{k.replace('_', '-')}", str(v))]
    m = launch_two_workers(repro.NAME, args, tmp_path / "launched")
    one, two = single["per_seed"]["3"], m["per_seed"]["3"]
    for model in ("softmax", "cnn", "robust_cnn"):
        assert two[model]["clean_accuracy"] == one[model]["clean_accuracy"], model
        for norm in ("linf", "l2"):
            assert two[model]["curves"][norm] == one[model]["curves"][norm], (model, norm)
        fgsm = two[model]["fgsm"]
        assert fgsm["error_rate"] == one[model]["fgsm"]["error_rate"]
        np.testing.assert_allclose(fgsm["wrong_class_confidence"], one[model]["fgsm"]["wrong_class_confidence"],
                                   rtol=1e-4)
    assert two["cnn"]["targeted"] == one["cnn"]["targeted"]
