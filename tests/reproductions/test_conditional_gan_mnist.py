"""Smoke tests of cgan-mnist and acgan-mnist with tiny budgets."""
import json
import os

import pytest

from reproductions import acgan_mnist, cgan_mnist


@pytest.mark.slow
@pytest.mark.parametrize("module", [cgan_mnist, acgan_mnist], ids=["cgan", "acgan"])
def test_tiny_run(module, tmp_path, monkeypatch):
    monkeypatch.setenv("KERAS_GEN_DATA_DIR", str(tmp_path / "data"))
    kind = module.NAME.split("-")[0]
    hp = module.HParams(epochs=1, g_width=4, d_width=4, latent_dim=8, n_per_class=5, classifier_epochs=1, n_train=320,
                        grid_every=1, out=str(tmp_path / "run"), export_dir=str(tmp_path / "saved_models"))
    m = module.run(hp)
    assert m["n_generated"] == 50 and 0.0 <= m["generated_accuracy"] <= 1.0
    assert sum(map(sum, m["confusion_requested_vs_classified"])) == 50
    assert min(m["generated_accuracy_per_class"].values()) == m["min_class_accuracy"]
    assert m["classifier_test_accuracy"] > 0.5  # a real classifier, even after one epoch
    for name in ("metrics.json", "samples_by_class.png", "confusion.png", "samples_epoch0001.png", f"{kind}.keras"):
        assert os.path.exists(tmp_path / "run" / name), name
    assert os.path.exists(os.path.join(m["export_path"], "saved_model.pb"))
    again = module.export(str(tmp_path / "run"), base_dir=str(tmp_path / "saved_models"))
    assert again.endswith(os.path.join(f"{kind}_mnist", "2"))
    saved = json.loads((tmp_path / "run" / "metrics.json").read_text())
    assert saved["hparams"]["epochs"] == 1 and set(saved["generated_accuracy_per_class"]) == {str(c) for c in range(10)}
