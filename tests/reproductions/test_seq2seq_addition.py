"""Smoke test of seq2seq-addition with a tiny budget: the claim record, figures, models and exports."""
import json
import os

import numpy as np
import pytest

from keras_gen.errors import KerasGenError
from reproductions import seq2seq_addition as repro

# The GRU runs the LSTM's code path (RNNSeq2Seq); leaving it out keeps the test short, and
# so does leaving out the export (Seq2Seq.export is tested in tests/models/test_seq2seq.py).
TINY = dict(models="lstm,transformer", digits=2, train_size=300, validation_size=50, test_size=60, rnn_epochs=1,
            transformer_epochs=1, units=16, embedding_dim=8, d_model=16, num_heads=2, ff_dim=16, num_layers=1,
            beam_width=2, export=False)


@pytest.mark.slow
def test_tiny_run_writes_the_claim_record_figures_and_models(tmp_path):
    out = tmp_path / "run"
    m = repro.run(repro.HParams(seeds="3", out=str(out), **TINY))
    record = json.loads((out / "metrics.json").read_text())
    assert record["claims"] == m["claims"]
    ids = [c["id"] for c in record["claims"]]
    assert ids == ["T8", "T7", "T8"]
    for c in m["claims"]:
        assert c["seeds"] == [3] and isinstance(c["met"], bool)
    transformer, lstm, bias = m["claims"]
    assert transformer["value"] == pytest.approx(m["transformer_char_accuracy"]["3"])
    assert transformer["met"] == (transformer["value"] >= 0.99)
    assert lstm["met"] == (lstm["value"] >= 0.97)
    per = m["lstm_per_seed"]["3"]
    assert bias["value"] == pytest.approx(per["teacher_forced_char_accuracy"] - per["char_accuracy"])
    assert 0 <= m["majority_char_accuracy"] <= 1
    assert "gru_per_seed" not in m and "exported" not in m
    for kind in ("lstm", "transformer"):
        res = m[f"{kind}_per_seed"]["3"]
        assert len(res["validation_char_accuracy_by_epoch"]) == res["epochs"]
        # Position 1 reads only BOS in both modes: the same error.
        assert res["error_by_position_free_running"][0] == pytest.approx(res["error_by_position_teacher_forced"][0])
        assert len(res["error_by_position_free_running"]) == 3
        assert os.path.exists(out / f"{kind}_seed_3" / "model.keras")
    for png in ("learning_curves.png", "exposure_bias.png", "cross_attention.png"):
        assert (out / png).stat().st_size < 150_000
    assert record["claims_met"].endswith("/3")
    # --jobs 2 (the default): each model trained in its own process of this run (so not
    # counted as reused from an earlier run).
    assert m["reused_parts"] == []
    for kind in ("lstm", "transformer"):
        log = (out / f"{kind}_seed_3" / "process.log").read_text()
        assert f"{kind} seed 3: test char accuracy" in log


def test_majority_baseline_and_epoch_counting():
    train = np.array([[1, 2], [1, 3], [4, 3]])
    test = np.array([[1, 3], [4, 2]])
    assert repro.majority_char_accuracy(train, test) == pytest.approx(0.5)  # guesses [1, 3]
    assert repro.first_epoch_at([0.5, 0.97, 0.99], 0.97) == 2
    assert repro.first_epoch_at([0.5, 0.9], 0.97) is None
    assert repro.accuracies(np.array([[1, 2], [3, 4]]), np.array([[1, 2], [3, 5]]))[:2] == (0.75, 0.5)


def test_bad_options_are_named(tmp_path):
    with pytest.raises(KerasGenError, match="model"):
        repro.run(repro.HParams(models="lstm,rnn", out=str(tmp_path)))
    with pytest.raises(KerasGenError, match="--beam-width"):
        repro.run(repro.HParams(beam_width=0, out=str(tmp_path)))


def test_each_models_part_depends_only_on_its_own_settings():
    recipe = {"models": "lstm,gru", "digits": 3, "beam_width": 4, "rnn_epochs": 25, "units": 128,
              "transformer_epochs": 20, "d_model": 64, "dropout": 0.1}
    assert repro.part_recipe(recipe, "lstm") == {"digits": 3, "beam_width": 4, "rnn_epochs": 25, "units": 128}
    assert repro.part_recipe(recipe, "gru") == repro.part_recipe(recipe, "lstm")
    assert repro.part_recipe(recipe, "transformer") == {"digits": 3, "beam_width": 4, "transformer_epochs": 20,
                                                        "d_model": 64, "dropout": 0.1}


def test_transformer_decay_chooses_the_rate_schedule_and_is_checked(tmp_path):
    assert repro.HParams().transformer_decay == "constant"  # chosen on validation, selection seeds 0 and 1
    cosine = repro.HParams(transformer_decay="cosine")
    schedule = repro.learning_rate("transformer", cosine, 1e-3, 4)
    assert callable(schedule) and abs(float(schedule(0)) - 1e-3) < 1e-9
    assert abs(float(schedule(4)) - 0.02 * 1e-3) < 1e-9  # cosine: down to 2% over the steps
    assert repro.learning_rate("transformer", repro.HParams(transformer_decay="constant"), 1e-3, 4) == 1e-3
    # the RNNs keep their cosine decay whatever the Transformer's setting
    assert callable(repro.learning_rate("lstm", repro.HParams(transformer_decay="constant"), 3e-3, 4))
    # build() compiles with that rate
    model, _, _ = repro.build("lstm", repro.HParams(rnn_epochs=2, train_size=256), seed=0)
    assert callable(model.optimizer._learning_rate)
    assert "transformer_decay" in repro.part_recipe({"transformer_decay": "constant"}, "transformer")
    assert "transformer_decay" not in repro.part_recipe({"transformer_decay": "constant"}, "lstm")
    with pytest.raises(KerasGenError, match="unknown transformer decay 'linear'"):
        repro.run(repro.HParams(transformer_decay="linear", out=str(tmp_path)))
