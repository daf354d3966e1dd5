"""aae-mnist: a tiny run, its claim record, resume and export; whitening; a claim the plain AE cannot pass."""
import json
import os

import numpy as np
import pytest

from reproductions import aae_mnist


def _tiny(tmp_path, **kw):
    return aae_mnist.HParams(hidden=16, epochs=2, patience=1, grid_every=1, n_train=300, seeds="3",
                             out=str(tmp_path / "run"), export_dir=str(tmp_path / "saved_models"), **kw)


@pytest.mark.slow
def test_aae_mnist_tiny_run(tmp_path, capsys):
    m = aae_mnist.run(_tiny(tmp_path))
    s = m["per_seed"]["3"]
    for key in ("aae_code_mmd2", "ae_code_mmd2", "whitened_ae_code_mmd2", "prior_mmd2_floor",
                "aae_test_reconstruction", "ae_test_reconstruction"):
        assert np.isfinite(s[key]), key
    assert abs(s["prior_mmd2_floor"]) < 0.02  # two samples of the same prior, 1,000 each
    assert s["aae_over_ae_code_mmd2"] == pytest.approx(s["aae_code_mmd2"] / s["ae_code_mmd2"])
    assert np.asarray(s["aae_code_cov"]).shape == (2, 2) and s["aae_epochs_run"] == s["ae_epochs_run"] == 2
    (s15,) = m["claims"]
    assert s15["id"] == "S15" and s15["op"] == "<" and s15["target"] == 1.0 and s15["seeds"] == [3]
    assert s15["met"] == (s["aae_over_ae_code_mmd2"] < 1.0)
    assert s15["baselines"]["plain_autoencoder"] == 1.0
    assert s15["baselines"]["prior_floor"]["value"] == pytest.approx(s["prior_mmd2_floor"] / s["ae_code_mmd2"])
    for name in ("metrics.json", "aggregate_posterior.png", "samples.png", "latent_manifold.png",
                 "seed_3/model.keras", "seed_3/ae_codes.npy", "seed_3/grids/samples_epoch0001.png"):
        assert os.path.exists(tmp_path / "run" / name), name
    assert json.loads((tmp_path / "run" / "metrics.json").read_text())["claims"] == m["claims"]
    assert os.path.exists(os.path.join(m["export_path"], "saved_model.pb"))
    again = aae_mnist.export(str(tmp_path / "run"), base_dir=str(tmp_path / "saved_models"))
    assert again.endswith(os.path.join("aae_mnist", "2"))
    capsys.readouterr()
    rerun = aae_mnist.run(_tiny(tmp_path, export=False))
    assert rerun["per_seed"] == m["per_seed"]
    assert capsys.readouterr().out.count("finished in an earlier run") == 1


def test_whitened_codes_have_zero_mean_and_identity_covariance():
    rng = np.random.default_rng(0)
    codes = rng.normal(size=(400, 3)) @ np.array([[2.0, 0.5, 0.0], [0.0, 1.0, 0.3], [0.0, 0.0, 0.2]]) + 5.0
    w = aae_mnist.whiten(codes)
    np.testing.assert_allclose(w.mean(0), 0.0, atol=1e-12)
    np.testing.assert_allclose(np.cov(w, rowvar=False), np.eye(3), atol=1e-12)


def test_the_claim_fails_without_the_adversary_and_for_one_bad_seed():
    def seed(aae, ae=0.3):
        return {"aae_over_ae_code_mmd2": aae / ae, "aae_code_mmd2": aae, "ae_code_mmd2": ae,
                "whitened_ae_code_mmd2": 0.01, "prior_mmd2_floor": 0.001}

    assert not aae_mnist.claims({1: seed(0.3), 2: seed(0.3)})[0]["met"]  # no better than the plain AE
    assert not aae_mnist.claims({1: seed(0.05), 2: seed(0.4)})[0]["met"]
    assert aae_mnist.claims({1: seed(0.05), 2: seed(0.1)})[0]["met"]
