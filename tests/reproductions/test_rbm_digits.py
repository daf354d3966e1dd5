"""Smoke test of rbm-digits with a tiny budget."""
import json

import numpy as np

from reproductions import rbm_digits as repro


def test_run_writes_metrics_and_figures(tmp_path):
    hp = repro.HParams(n_hidden=16, epochs=2, batch_size=100, gibbs_steps=5, n_samples=10, seed=1,
                       out=str(tmp_path / "run"), data_dir=str(tmp_path / "data"))
    m = repro.run(hp)
    assert [h["epoch"] for h in m["history"]] == [0, 1, 2]
    for h in m["history"]:
        assert np.isfinite(h["pseudo_log_likelihood"]) and h["pseudo_log_likelihood"] < 0
        assert 0 < h["reconstruction_error"] < 1
    assert m["pll_initial"] == m["history"][0]["pseudo_log_likelihood"]
    assert m["pll_final"] == m["history"][-1]["pseudo_log_likelihood"]
    assert m["pll_improved"] == (m["pll_final"] > m["pll_initial"])
    assert m["reconstruction_improved"] == (m["reconstruction_error_final"] < m["reconstruction_error_initial"])
    # Even two epochs of CD-1 make reconstructions better than the untrained RBM's.
    assert m["reconstruction_improved"]
    # The independent-pixel baseline, recomputed here: mean log-likelihood of test digits.
    train, test = repro.binarised_digits(hp)
    p = (train.sum(0) + 1) / (len(train) + 2)
    want = np.mean((test * np.log(p) + (1 - test) * np.log(1 - p)).sum(1))
    np.testing.assert_allclose(m["pll_independent_pixels"], want, rtol=1e-6)
    on_disk = json.loads((tmp_path / "run" / "metrics.json").read_text())
    assert on_disk["hparams"]["n_hidden"] == 16 and on_disk["pll_final"] == m["pll_final"]
    for name in ("curves.png", "filters.png", "samples.png", "reconstructions.png"):
        assert (tmp_path / "run" / name).stat().st_size > 5_000, name
