"""gmmn (C11): the evaluation against an independent MMD², claims that trivial generators fail, a tiny run."""
import json

import numpy as np
import pytest

from keras_gen.data import toy_arrays, toy_distribution
from keras_gen.metrics import mmd2
from reproductions import gmmn as repro
from tests.reproductions.claim_checks import check_claims


def test_evaluation_floor_and_trivial_generators():
    hp = repro.HParams(eval_samples=500, eval_repeats=2)
    train, test = toy_arrays("toy_ring8", "train"), toy_arrays("toy_ring8", "test")
    real = toy_arrays("toy_ring8", "validation")
    scores, first = repro.evaluate_toy(lambda n, rep: real[rep * n:(rep + 1) * n], hp, 2, train, test)
    # The floor is the real-vs-real statistic, recomputed independently here.
    rng = np.random.default_rng(10_000 + 2)
    held = test[rng.choice(len(test), 500, replace=False)]
    np.testing.assert_allclose(scores["per_repeat"]["mmd2_floor"][0],
                               mmd2(train[:500], held, repro.floats(hp.bandwidths, "b"), unbiased=False), rtol=1e-9)
    assert 0.5 < scores["ratio_to_floor"] < 2.0 and scores["modes_covered"] == 8
    base = repro.toy_baselines(hp, train, test)
    assert base["fitted_gaussian"]["ratio_to_floor"] > 10 and base["fitted_gaussian"]["modes_covered"] == 0
    assert base["uniform_ring"]["modes_covered"] == 8 and base["uniform_ring"]["high_quality_share"] < 0.15
    assert base["one_mode"]["modes_covered"] == 1

    def seed(ratio, modes, hq):
        return {"ratio_to_floor": ratio, "modes_covered": modes, "high_quality_share": hq,
                "untrained": {"ratio_to_floor": 500.0, "modes_covered": 0, "high_quality_share": 0.0}}

    claims = repro.claims_for({10: seed(1.2, 8, 0.9), 11: seed(1.5, 8, 0.8)}, base, 8)
    check_claims({"claims": claims})
    assert [c["met"] for c in claims] == [True, True, True]
    # The trivial generators, scored as if trained: every one fails at least one claim.
    for name, b in base.items():
        trivial = {10: seed(b["ratio_to_floor"], b["modes_covered"], b["high_quality_share"])}
        assert not all(c["met"] for c in repro.claims_for(trivial, base, 8)), name


@pytest.mark.slow
def test_run_tiny_claims_figures_resume(tmp_path, capsys):
    out = tmp_path / "run"
    hp = repro.HParams(steps=20, batch_size=64, hidden=32, eval_samples=300, eval_repeats=2, steps_per_execution=10,
                       digits_steps=10, digits_batch_size=50, seeds="2", out=str(out))
    m = repro.run(hp)
    check_claims(m)
    assert [c["metric"] for c in m["claims"]] == ["ratio_to_floor", "modes_covered", "high_quality_share"]
    seed = m["per_seed"]["2"]
    for key in ("mmd2_heldout", "mmd2_floor"):
        assert np.isfinite(seed[key]) and seed[key] > 0, key
    assert m["ratio_to_floor"]["2"] == pytest.approx(seed["mmd2_heldout"] / seed["mmd2_floor"])
    assert seed["untrained"]["ratio_to_floor"] > 1 and len(seed["per_repeat"]["mmd2_floor"]) == 2
    assert m["digits_mmd2_floor"] < m["digits_mmd2_fitted_gaussian"] and np.isfinite(m["digits_mmd2_heldout"]["2"])
    on_disk = json.loads((out / "metrics.json").read_text())
    assert on_disk["hparams"]["steps"] == 20 and on_disk["claims"] == m["claims"]
    for name in ("toy_samples.png", "toy_training.png", "digits_samples.png"):
        assert 5_000 < (out / name).stat().st_size < 150_000, name
    capsys.readouterr()
    assert repro.run(hp)["claims"] == m["claims"]
    printed = capsys.readouterr().out
    assert "seed_2: finished in an earlier run" in printed and "digits_seed_2: finished in an earlier run" in printed
