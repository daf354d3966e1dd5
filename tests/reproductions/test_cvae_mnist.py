"""Smoke test of cvae-mnist with a tiny budget."""
import json
import os

import pytest

from reproductions import cvae_mnist


@pytest.mark.slow
def test_cvae_mnist_tiny_run(tmp_path, monkeypatch):
    monkeypatch.setenv("KERAS_GEN_DATA_DIR", str(tmp_path / "data"))
    hp = cvae_mnist.HParams(hidden=32, epochs=2, warmup_epochs=1, patience=1, n_per_class=5, iwae_k=20,
                            n_train=400, classifier_epochs=1, out=str(tmp_path / "run"))
    metrics = cvae_mnist.run(hp)
    assert 0.0 <= metrics["generated_accuracy"] <= 1.0 and metrics["n_generated"] == 50
    assert sum(sum(row) for row in metrics["confusion_requested_vs_classified"]) == 50
    assert metrics["classifier_test_accuracy"] > 0.5  # a real classifier, even after one epoch
    assert 100 < metrics["test_iwae_nll"] <= metrics["test_negative_elbo"] + 0.5
    for name in ("metrics.json", "samples_by_class.png", "confusion.png", "cvae.keras"):
        assert os.path.exists(tmp_path / "run" / name), name
    saved = json.loads((tmp_path / "run" / "metrics.json").read_text())
    assert set(saved["generated_accuracy_per_class"]) == {str(c) for c in range(10)}
