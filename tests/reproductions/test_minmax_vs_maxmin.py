"""minmax-vs-maxmin (C13): the closed-form maps, claims that a convergent method fails, a tiny run."""
import os

import numpy as np
import pytest

from keras_gen.errors import KerasGenError
from reproductions import common
from reproductions import minmax_vs_maxmin as mm
from tests.reproductions.claim_checks import check_claims


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
    extra = mm.extragradient(0.6, -0.2, lr, 40)
    re = np.hypot(extra[:, 0], extra[:, 1])
    assert np.allclose(re[1:] / re[:-1], np.sqrt(1 - lr**2 + lr**4), rtol=1e-12)
    # One extragradient step by hand: look-ahead (0.66, -0.02), then x = 0.6 + 0.3*0.02, y = -0.2 + 0.3*0.66.
    assert extra[1] == pytest.approx([0.606, -0.002])
    assert mm.minmax_maxmin(lambda x, y: (x - y) ** 2, np.linspace(-1, 1, 21)) == (pytest.approx(1.0), pytest.approx(0.0))


def test_claims_fail_for_a_convergent_method():
    hp = mm.HParams(steps=200)
    sim, alt = mm.simultaneous(1.0, 0.5, hp.lr, 200), mm.alternating(1.0, 0.5, hp.lr, 200)
    extra = mm.extragradient(1.0, 0.5, hp.lr, 200)
    gaps = {"bilinear": 0.0, "squared_difference": 1.0}
    claims = mm.claims_for(sim, alt, extra, hp, gaps)
    check_claims({"claims": claims})
    assert [c["met"] for c in claims] == [True, True, True]
    # Extragradient in place of the two gradient plays, and x*y in place of (x - y)^2: all fail.
    claims = mm.claims_for(extra, extra, extra, hp, {"bilinear": 0.0, "squared_difference": 0.0})
    assert [c["met"] for c in claims] == [False, False, False]


@pytest.mark.slow
def test_run_tiny(tmp_path, capsys):
    out = tmp_path / "run"
    hp = mm.HParams(steps=40, lr=0.2, grid_points=41, out=str(out))
    m = mm.run(hp)
    check_claims(m)
    assert m["claims_met"] == "3/3"
    assert m["simultaneous_radius_growth_per_step"] == pytest.approx(np.sqrt(1 + 0.2**2), rel=1e-12)
    lo, hi = m["alternating_radius_bounds_theory"]
    assert lo - 1e-12 <= m["alternating_radius_min"] <= m["alternating_radius_max"] <= hi + 1e-12
    # Keras fit with two SGD optimizers reproduces the closed-form iterates (float32).
    assert m["keras_simultaneous_max_rel_diff"] < 1e-5 and m["keras_alternating_max_abs_diff"] < 1e-5
    assert (m["squared_difference_minmax"], m["squared_difference_maxmin"]) == (1.0, 0.0)
    assert 5_000 < os.path.getsize(out / "trajectories.png") < 150_000
    capsys.readouterr()
    assert mm.run(hp)["claims"] == m["claims"]
    assert "keras: finished in an earlier run" in capsys.readouterr().out


def test_options_are_checked(tmp_path):
    with pytest.raises(KerasGenError, match="--lr must be < 2"):
        common.validate(mm.HParams(lr=2.5))
    with pytest.raises(KerasGenError, match="equilibrium"):
        mm.run(mm.HParams(x0=0.0, y0=0.0, out=str(tmp_path / "bad")))


@pytest.mark.slow
def test_two_workers_through_the_launcher_make_one_process_trajectories(tmp_path):
    """`keras-gen launch --workers 2`: the dummy step data splits (one row per replica), and the
    players' steps are one process's bit for bit (each replica's gradient of V / 2 is an exact
    half; the summed halves are V's gradient)."""
    import json

    from tests.distributed.launched import launch_two_workers

    hp = mm.HParams(steps=40, lr=0.2, grid_points=41, seeds="3", out=str(tmp_path / "single"))
    single = mm.run(hp)
    m = launch_two_workers(mm.NAME, ["--steps", "40", "--lr", "0.2", "--grid-points", "41", "--seeds", "3"],
                           tmp_path / "launched")
    assert m["claims"] == single["claims"]
    paths = [json.loads((tmp_path / run / "keras" / "result.json").read_text()) for run in ("single", "launched")]
    assert paths[0] == paths[1] and len(paths[0]["alternating"]) == 41
    for key in ("keras_simultaneous_max_abs_diff", "keras_alternating_max_abs_diff"):
        assert m[key] == single[key]
