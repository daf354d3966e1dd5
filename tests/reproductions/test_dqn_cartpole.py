"""Smoke test of dqn-cartpole with a tiny budget, and its SavedModel reloaded without keras_gen."""
import json

import numpy as np
import pytest

from keras_gen.errors import KerasGenError
from reproductions import dqn_cartpole as repro
from tests.helpers import run_fresh_python


@pytest.mark.slow
def test_run_writes_the_claim_record_figure_and_a_servable_q_network(tmp_path):
    import keras

    import keras_gen.rl  # noqa: F401 - registers DQN

    out, export_dir = tmp_path / "run", tmp_path / "saved_models"
    hp = repro.HParams(seeds="3", total_steps=600, hidden=16, learning_starts=200, train_frequency=200,
                       gradient_steps=4, target_update_period=4, epsilon_decay_steps=400, eval_episodes=3,
                       validate_every=400, validation_episodes=2, buffer_size=1000, out=str(out),
                       export_dir=str(export_dir))
    m = repro.run(hp)
    on_disk = json.loads((out / "metrics.json").read_text())
    assert on_disk["claims"] == m["claims"] and len(m["claims"]) == 1
    claim = m["claims"][0]
    assert claim["id"] == "T10" and claim["metric"] == "share_of_seeds_solved" and claim["seeds"] == [3]
    assert claim["op"] == ">=" and claim["target"] == 1.0  # ceil(2/3 of 1 seed) = 1 of 1
    solved = m["greedy_mean_return"]["3"] >= 475
    assert claim["value"] == float(solved) and claim["met"] == solved and m["seeds_solved"] == int(solved)
    assert set(claim["baselines"]) == {"random_policy_mean_return", "untrained_greedy_mean_return",
                                       "final_network_seeds_solved"}
    res = json.loads((out / "seed_3" / "result.json").read_text())
    assert len(res["greedy_returns"]) == 3
    assert res["greedy_mean_return"] == pytest.approx(np.mean(res["greedy_returns"]))
    assert res["burst_steps"] == [200, 400, 600] and res["curve"]["steps"] == [400]
    assert res["kept_network"] == "best" and res["kept_step"] == 400  # the one validated network
    assert len(res["final_greedy_returns"]) == 3
    assert 9 <= m["random_policy_mean_return"] <= 60  # CartPole's random policy: ~22 steps
    assert 10_000 < (out / "learning_curves.png").stat().st_size < 150_000

    # serving_default: observations [b, 4] -> Q-values [b, 2], in a process that cannot import keras_gen.
    model = keras.models.load_model(out / "seed_3" / "dqn.keras")
    obs = np.random.default_rng(0).normal(size=(5, 4)).astype("float32")
    expected = np.asarray(model(obs))
    assert m["exported_seed"] == 3 and m["export_path"] == str(export_dir / "dqn_cartpole" / "1")
    got = run_fresh_python(f"""
        import json, numpy as np, tensorflow as tf
        sig = tf.saved_model.load({m["export_path"]!r}).signatures["serving_default"]
        obs = np.array({obs.tolist()!r}, np.float32)
        out = sig(observation=tf.constant(obs))
        print(json.dumps({{"keys": sorted(out), "q": out["q_values"].numpy().tolist()}}))
    """, without_keras_gen=True)
    assert got["keys"] == ["q_values"]
    np.testing.assert_allclose(np.array(got["q"]), expected, rtol=1e-5, atol=1e-6)
    # `keras-gen export dqn-cartpole --from OUT` exports the same network again.
    again = repro.export(str(out), base_dir=str(export_dir))
    assert again == str(export_dir / "dqn_cartpole" / "2")


def test_options_are_checked(tmp_path):
    with pytest.raises(KerasGenError, match="--gamma must be <= 1"):
        repro.run(repro.HParams(gamma=1.5, out=str(tmp_path)))
    with pytest.raises(KerasGenError, match="--learning-rate must be > 0"):
        repro.run(repro.HParams(learning_rate=0.0, out=str(tmp_path)))
