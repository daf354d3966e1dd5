"""Smoke test of long-term-dependencies with a tiny budget: the claim record and the figure."""
import json

import numpy as np
import pytest

from keras_gen.errors import KerasGenError
from reproductions import long_term_dependencies as repro


@pytest.mark.slow
def test_tiny_run_writes_the_claim_record_and_the_figure(tmp_path):
    out = tmp_path / "run"
    hp = repro.HParams(seeds="3", out=str(out), length=6, units=4, gradient_batch=8, train_length=5, train_size=64,
                       steps=4, batch_size=16)
    m = repro.run(hp)
    record = json.loads((out / "metrics.json").read_text())
    assert record["claims"] == m["claims"] and record["seeds"] == [3]
    assert [c["id"] for c in m["claims"]] == ["T7", "T7", "T7", "T7"]
    vanishing, gap, gates, learning = m["claims"]
    assert vanishing["value"] == pytest.approx(m["reach_rnn_noise_1"]["3"])
    assert vanishing["met"] == (vanishing["value"] <= -6)
    assert gap["value"] == pytest.approx(m["reach_lstm_noise_1"]["3"] - m["reach_rnn_noise_1"]["3"])
    assert gates["met"] == (gates["value"] <= 1)
    assert learning["baselines"]["chance"] == 0.25 and 0 <= learning["value"] <= 1
    for kind in ("rnn", "lstm", "gru"):
        runs = m[f"{kind}_gradient_norms"]
        assert set(runs) == {"noise_1", "noise_0"}
        norms = runs["noise_1"]["3"]["state"]
        assert len(norms) == 6 and all(v > 0 for v in norms)
        assert m[f"reach_{kind}_noise_1"]["3"] == pytest.approx(np.log10(norms[0] / norms[-1]))
    assert (out / "gradient_reach.png").stat().st_size < 150_000


def test_reach_and_unknown_model(tmp_path):
    assert repro.reach([1e-3, 0.1, 10.0]) == pytest.approx(-4.0)
    with pytest.raises(KerasGenError, match="model"):
        repro.run(repro.HParams(models="rnn,transformer", out=str(tmp_path)))
