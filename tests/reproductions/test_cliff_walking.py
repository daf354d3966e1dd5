"""Smoke test of cliff-walking with a tiny budget (few runs, few episodes)."""
import json

import numpy as np
import pytest

from keras_gen.errors import KerasGenError
from reproductions import cliff_walking as repro


def test_run_writes_the_claim_record_and_figure(tmp_path):
    out = tmp_path / "run"
    hp = repro.HParams(runs=3, episodes=60, last_episodes=20, seeds="5,6", out=str(out))
    m = repro.run(hp)
    on_disk = json.loads((out / "metrics.json").read_text())
    assert on_disk["claims"] == m["claims"] and len(m["claims"]) == 6
    for c in m["claims"]:
        assert c["id"] == "T10" and c["seeds"] == [5, 6] and set(c["per_seed"]) == {"5", "6"}
        assert isinstance(c["met"], bool) and np.isfinite(c["value"])
    sarsa, qlearn = m["claims"][0], m["claims"][1]
    assert sarsa["metric"] == "sarsa_online_return_41_60" and sarsa["target"] == [-30, -20] and sarsa["op"] == "in"
    assert qlearn["baselines"]["optimal_greedy"] == -13.0
    # The claimed numbers are the per-seed run averages, recomputed here from the cached runs.
    for seed in (5, 6):
        res = json.loads((out / f"seed_{seed}" / "result.json").read_text())
        curve = np.array(res["sarsa"]["mean_curve"])
        assert len(curve) == 60 and sarsa["per_seed"][str(seed)] == pytest.approx(curve[40:].mean())
        assert len(res["q_learning"]["dp_epsilon_greedy_return_per_run"]) == 3
    assert m["optimal_return"] == -13.0 and m["epsilon_greedy_of_optimal_q_return"] == pytest.approx(-50.8, abs=0.01)
    assert m["runs_per_seed"] == 3 and m["hparams"]["alpha"] == 0.5
    assert 20_000 < (out / "cliff_walking.png").stat().st_size < 150_000


def test_options_are_checked(tmp_path):
    with pytest.raises(KerasGenError, match="--alpha must be <= 1"):
        repro.run(repro.HParams(alpha=1.5, out=str(tmp_path)))
    with pytest.raises(KerasGenError, match="--runs must be >= 1"):
        repro.run(repro.HParams(runs=0, out=str(tmp_path)))
