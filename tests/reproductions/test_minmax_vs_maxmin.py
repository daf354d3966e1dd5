"""Smoke test of the minmax-vs-maxmin reproduction (C13) with a tiny budget."""
import os

import numpy as np
import pytest

from keras_gen.errors import KerasGenError
from reproductions import minmax_vs_maxmin as mm


def test_closed_form_maps():
    lr = 0.3
    sim = mm.simultaneous(0.6, -0.2, lr, 40)
    r = np.hypot(sim[:, 0], sim[:, 1])
    assert np.allclose(r[1:] / r[:-1], np.sqrt(1 + lr**2), rtol=1e-12)
    alt = mm.alternating(0.6, -0.2, lr, 40)
    q = mm.invariant(alt, lr)
    assert np.allclose(q, q[0], rtol=1e-12)
    # One alternating step by hand: x = 0.6 + 0.3*0.2 = 0.66, y = -0.2 + 0.3*0.66 = -0.002.
    assert alt[1] == pytest.approx([0.66, -0.002])
    assert mm.minmax_maxmin(lambda x, y: (x - y) ** 2, np.linspace(-1, 1, 21)) == (pytest.approx(1.0), pytest.approx(0.0))


def test_run_tiny(tmp_path):
    m = mm.run(mm.HParams(steps=40, lr=0.2, grid_points=41, out=str(tmp_path / "run")))
    assert m["simultaneous_radius_growth_per_step"] == pytest.approx(np.sqrt(1 + 0.2**2), rel=1e-12)
    assert m["simultaneous_final_radius"] > 1.4 * m["initial_radius"]  # 1.0198^40 = 2.2
    lo, hi = m["alternating_radius_bounds_theory"]
    assert lo - 1e-12 <= m["alternating_radius_min"] <= m["alternating_radius_max"] <= hi + 1e-12
    assert m["alternating_radius_min"] > 0.8 * m["initial_radius"]  # never approaches (0, 0)
    # Keras fit with two SGD optimizers reproduces the closed-form iterates (float32).
    assert m["keras_simultaneous_max_rel_diff"] < 1e-5 and m["keras_alternating_max_abs_diff"] < 1e-5
    assert (m["squared_difference_minmax"], m["squared_difference_maxmin"]) == (1.0, 0.0)
    assert m["bilinear_minmax"] == pytest.approx(0.0, abs=1e-12) and m["bilinear_maxmin"] == pytest.approx(0.0, abs=1e-12)
    for name in ("metrics.json", "trajectories.png"):
        assert os.path.getsize(tmp_path / "run" / name) > 0
    with pytest.raises(KerasGenError, match="lr"):
        mm.run(mm.HParams(lr=2.5, out=str(tmp_path / "bad")))
