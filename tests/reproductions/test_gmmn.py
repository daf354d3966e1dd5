"""Smoke test of the gmmn reproduction with a tiny budget."""
import json

import numpy as np

from keras_gen.data import toy_arrays
from keras_gen.metrics import mmd2
from reproductions import gmmn as repro


def test_run_writes_metrics_and_figures(tmp_path):
    hp = repro.HParams(steps=100, batch_size=64, hidden=32, eval_samples=300, eval_repeats=2, steps_per_execution=10,
                       digits_steps=10, digits_batch_size=50, seed=2, out=str(tmp_path / "run"),
                       data_dir=str(tmp_path / "data"))
    m = repro.run(hp)
    for key in ("mmd2_heldout", "mmd2_floor", "mmd2_heldout_untrained", "digits_mmd2_heldout", "digits_mmd2_floor"):
        assert np.isfinite(m[key]) and m[key] > 0, key
    # Even 100 updates move the generator towards the data.
    assert m["mmd2_heldout"] < m["mmd2_heldout_untrained"]
    assert m["ratio_to_floor"] == m["mmd2_heldout"] / m["mmd2_floor"]
    assert m["within_2x_floor"] == (m["ratio_to_floor"] <= 2.0)
    assert len(m["per_repeat"]["mmd2_floor"]) == 2
    # The floor is the real-vs-real statistic, recomputed independently here.
    train, test = toy_arrays("toy_ring8", "train"), toy_arrays("toy_ring8", "test")
    rng = np.random.default_rng(10_000 + 2)
    held = test[rng.choice(len(test), 300, replace=False)]
    np.testing.assert_allclose(m["per_repeat"]["mmd2_floor"][0],
                               mmd2(train[:300], held, m["bandwidths"], unbiased=False), rtol=1e-9)
    assert 0 <= m["modes_covered"] <= 8 and 0 <= m["high_quality_share"] <= 1
    on_disk = json.loads((tmp_path / "run" / "metrics.json").read_text())
    assert on_disk["hparams"]["steps"] == 100 and on_disk["mmd2_floor"] == m["mmd2_floor"]
    for name in ("toy_samples.png", "toy_training.png", "digits_samples.png"):
        assert (tmp_path / "run" / name).stat().st_size > 5_000, name
