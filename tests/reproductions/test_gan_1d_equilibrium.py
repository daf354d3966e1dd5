"""Smoke test of gan-1d-equilibrium with a tiny budget."""
import json

import numpy as np

from reproductions import gan_1d_equilibrium as repro


def test_run_writes_metrics_and_figure(tmp_path):
    hp = repro.HParams(steps=60, batch_size=64, eval_samples=400, n_seeds=1, seed=3, out=str(tmp_path / "run"))
    m = repro.run(hp)
    seed = m["per_seed"]["3"]
    for key in ("mean_d_real", "mean_d_fake", "w1_to_data", "fake_mean", "fake_std", "max_abs_d_minus_half_central"):
        assert np.isfinite(seed[key]), key
    assert 0 < seed["mean_d_real"] < 1 and 0 < seed["mean_d_fake"] < 1
    assert seed["equilibrium"] == (abs(seed["mean_d_real"] - 0.5) <= 0.05 and abs(seed["mean_d_fake"] - 0.5) <= 0.05)
    assert m["mean_d_real"]["3"] == seed["mean_d_real"] and m["equilibrium_all_seeds"] == seed["equilibrium"]
    on_disk = json.loads((tmp_path / "run" / "metrics.json").read_text())
    assert on_disk["hparams"]["steps"] == 60 and on_disk["per_seed"]["3"]["w1_to_data"] == seed["w1_to_data"]
    assert (tmp_path / "run" / "equilibrium.png").stat().st_size > 10_000
