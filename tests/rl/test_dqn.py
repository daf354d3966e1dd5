"""keras_gen.rl.dqn: replay buffer, schedule, Huber TD update by hand in NumPy, target sync, save/load."""
import gymnasium as gym
import keras
import numpy as np
import pytest

from keras_gen.errors import KerasGenError
from keras_gen.rl.dqn import (
    DQN,
    ReplayBuffer,
    dense_forward_fn,
    evaluate_greedy,
    huber,
    linear_epsilon,
    td_targets,
    train_dqn,
)


def mlp(n_obs=4, hidden=3, n_actions=2, seed=0):
    keras.utils.set_random_seed(seed)
    inputs = keras.Input((n_obs,))
    h = keras.layers.Dense(hidden, activation="relu")(inputs)
    return keras.Model(inputs, keras.layers.Dense(n_actions)(h))


def random_batch(rng, n=8, n_obs=4, n_actions=2, reward_scale=3.0):
    return {
        "observation": rng.normal(size=(n, n_obs)).astype("float32"),
        "action": rng.integers(0, n_actions, n).astype("int32"),
        "reward": (reward_scale * rng.normal(size=n)).astype("float32"),
        "next_observation": rng.normal(size=(n, n_obs)).astype("float32"),
        "terminated": (rng.random(n) < 0.3).astype("float32"),
    }


def np_forward(weights, x):
    w1, b1, w2, b2 = weights
    pre = x @ w1 + b1
    h = np.maximum(pre, 0.0)
    return pre, h, h @ w2 + b2


def test_replay_buffer_stores_overwrites_and_samples():
    buf = ReplayBuffer(5, (2,), seed=0)
    with pytest.raises(KerasGenError, match="empty replay buffer"):
        buf.sample(1)
    buf.add([0.0, 0.5], 1, 2.0, [1.0, 1.5], True)  # one transition
    obs = np.arange(12, dtype="float32").reshape(6, 2) + 10  # then a batch of 6: overwrites the oldest
    buf.add(obs, np.arange(6), np.arange(6) * 1.0, obs + 100, np.zeros(6))
    assert len(buf) == 5 and buf.position == 2
    # Ring order: slots 0, 1 hold batch rows 4, 5; slots 2..4 hold rows 1..3; the single one is gone.
    np.testing.assert_array_equal(buf.observation, obs[[4, 5, 1, 2, 3]])
    np.testing.assert_array_equal(buf.action, [4, 5, 1, 2, 3])
    sample = buf.sample(200)
    assert set(sample) == {"observation", "action", "reward", "next_observation", "terminated"}
    assert sample["action"].dtype == np.int32 and sample["observation"].dtype == np.float32
    assert set(sample["action"].tolist()) == {1, 2, 3, 4, 5}  # uniform over what is stored
    np.testing.assert_array_equal(sample["next_observation"], sample["observation"] + 100)  # rows stay together
    np.testing.assert_array_equal(sample["reward"], sample["action"].astype("float32"))
    a, b = ReplayBuffer(5, (2,), seed=3), ReplayBuffer(5, (2,), seed=3)
    for x in (a, b):
        x.add(obs, np.arange(6), np.arange(6) * 1.0, obs + 100, np.zeros(6))
    np.testing.assert_array_equal(a.sample(20)["action"], b.sample(20)["action"])  # same seed, same draws
    with pytest.raises(KerasGenError, match=r"observations must have shape \(2,\)"):
        buf.add(np.zeros((3, 3)), [0, 0, 0], [0, 0, 0], np.zeros((3, 3)), [0, 0, 0])


def test_linear_epsilon_formula():
    assert linear_epsilon(0, 1.0, 0.04, 8000) == 1.0
    assert linear_epsilon(4000, 1.0, 0.04, 8000) == pytest.approx(0.52)
    assert linear_epsilon(8000, 1.0, 0.04, 8000) == pytest.approx(0.04)
    assert linear_epsilon(50_000, 1.0, 0.04, 8000) == pytest.approx(0.04)
    assert linear_epsilon(10, 1.0, 0.1, 0) == pytest.approx(0.1)


def test_huber_and_td_targets_against_numpy():
    x = np.array([-3.0, -1.0, -0.2, 0.0, 0.4, 1.0, 2.5], "float32")
    for delta in (1.0, 0.5):
        expected = np.where(np.abs(x) <= delta, 0.5 * x**2, delta * (np.abs(x) - 0.5 * delta))
        np.testing.assert_allclose(huber(x, delta).numpy(), expected, rtol=1e-6)
    rng = np.random.default_rng(0)
    r, d = rng.normal(size=5), (rng.random(5) < 0.5).astype("float32")
    qt, qo = rng.normal(size=(5, 3)), rng.normal(size=(5, 3))
    np.testing.assert_allclose(td_targets(r, d, qt, 0.9).numpy(), r + 0.9 * (1 - d) * qt.max(1), rtol=1e-6)
    double = r + 0.9 * (1 - d) * qt[np.arange(5), qo.argmax(1)]
    np.testing.assert_allclose(td_targets(r, d, qt, 0.9, next_q_online=qo).numpy(), double, rtol=1e-6)


@pytest.mark.parametrize("double_q", [False, True])
def test_one_train_step_equals_the_huber_td_update_by_hand(double_q):
    lr, gamma, delta = 0.1, 0.9, 0.5
    model = DQN(mlp(), gamma=gamma, target_update_period=100, huber_delta=delta, double_q=double_q)
    model.compile(optimizer=keras.optimizers.SGD(lr))
    rng = np.random.default_rng(1)
    model.train_on_batch(random_batch(rng))  # update 0 syncs the target first; later ones must not
    target_weights = [w + rng.normal(size=w.shape).astype("float32") for w in model.q_network.get_weights()]
    model.target_network.set_weights(target_weights)  # a target that differs from the online network
    online = [w.astype(np.float64) for w in model.q_network.get_weights()]
    batch = random_batch(rng)

    # NumPy: y from the target network, Huber loss of y - Q(s, a), its gradient by backprop.
    x, a = batch["observation"].astype(np.float64), batch["action"]
    _, _, next_target = np_forward(target_weights, batch["next_observation"].astype(np.float64))
    if double_q:
        _, _, next_online = np_forward(online, batch["next_observation"].astype(np.float64))
        next_value = next_target[np.arange(8), next_online.argmax(1)]
    else:
        next_value = next_target.max(1)
    y = batch["reward"] + gamma * (1 - batch["terminated"]) * next_value
    pre, h, q = np_forward(online, x)
    err = y - q[np.arange(8), a]
    assert np.any(np.abs(err) > delta) and np.any(np.abs(err) <= delta)  # both branches of the Huber loss
    loss = np.mean(np.where(np.abs(err) <= delta, 0.5 * err**2, delta * (np.abs(err) - 0.5 * delta)))
    g_q = np.zeros_like(q)
    g_q[np.arange(8), a] = -np.clip(err, -delta, delta) / 8
    w1, b1, w2, b2 = online
    g_w2, g_b2 = h.T @ g_q, g_q.sum(0)
    g_pre = (g_q @ w2.T) * (pre > 0)
    g_w1, g_b1 = x.T @ g_pre, g_pre.sum(0)
    expected = [w - lr * g for w, g in zip(online, (g_w1, g_b1, g_w2, g_b2))]

    model.reset_metrics()
    logs = model.train_on_batch(batch, return_dict=True)
    assert logs["loss"] == pytest.approx(loss, rel=1e-5)
    for got, want in zip(model.q_network.get_weights(), expected):
        np.testing.assert_allclose(got, want, rtol=1e-5, atol=1e-6)
    for got, want in zip(model.target_network.get_weights(), target_weights):  # not synced at update 1
        np.testing.assert_array_equal(got, want)


def test_target_network_syncs_every_c_updates():
    model = DQN(mlp(), target_update_period=3)
    model.compile(optimizer=keras.optimizers.SGD(0.05))
    rng = np.random.default_rng(2)
    snapshots = []
    for _ in range(5):
        snapshots.append(model.q_network.get_weights())  # online weights before update k
        model.train_on_batch(random_batch(rng))
        for got, want in zip(model.target_network.get_weights(), snapshots[3 if len(snapshots) > 3 else 0]):
            np.testing.assert_array_equal(got, want)  # synced before updates 0 and 3
    assert not np.allclose(model.q_network.get_weights()[0], model.target_network.get_weights()[0])
    model.sync_target()
    for got, want in zip(model.target_network.get_weights(), model.q_network.get_weights()):
        np.testing.assert_array_equal(got, want)


def test_train_burst_and_fit_make_the_same_updates_as_train_on_batch():
    rng = np.random.default_rng(3)
    batches = [random_batch(rng) for _ in range(6)]
    stacked = {k: np.stack([b[k] for b in batches]) for k in batches[0]}
    results = []
    for how in ("train_on_batch", "burst", "fit"):
        model = DQN(mlp(seed=5), target_update_period=4)
        model.compile(optimizer=keras.optimizers.Adam(1e-2), jit_compile=how == "burst")
        if how == "train_on_batch":
            for b in batches:
                model.train_on_batch(b)
        elif how == "burst":
            model.train_burst(stacked)
        else:
            flat = {k: np.concatenate([b[k] for b in batches]) for k in batches[0]}
            model.fit(flat, batch_size=8, epochs=1, shuffle=False, verbose=0)
        results.append(model.q_network.get_weights() + model.target_network.get_weights())
    for other in results[1:]:
        for got, want in zip(other, results[0]):
            np.testing.assert_allclose(got, want, rtol=1e-4, atol=1e-6)
    assert not np.allclose(results[0][0], mlp(seed=5).get_weights()[0])  # something was learnt


def test_config_round_trip_and_keras_save_load(tmp_path):
    model = DQN(mlp(), gamma=0.95, target_update_period=7, huber_delta=2.0, double_q=True, name="dqn")
    model.compile(optimizer=keras.optimizers.Adam(1e-3))
    model.train_on_batch(random_batch(np.random.default_rng(4)))
    config = model.get_config()
    clone = DQN.from_config(config)
    assert (clone.gamma, clone.target_update_period, clone.huber_delta, clone.double_q) == (0.95, 7, 2.0, True)
    assert clone.get_config() == config
    model.save(tmp_path / "dqn.keras")
    loaded = keras.models.load_model(tmp_path / "dqn.keras")
    assert isinstance(loaded, DQN) and loaded.optimizer is not None
    obs = np.random.default_rng(5).normal(size=(3, 4)).astype("float32")
    np.testing.assert_allclose(loaded(obs), model(obs), rtol=1e-6)
    for got, want in zip(loaded.target_network.get_weights(), model.target_network.get_weights()):
        np.testing.assert_array_equal(got, want)


def test_dense_forward_fn_matches_the_network():
    net = mlp(hidden=16, n_actions=3)
    obs = np.random.default_rng(6).normal(size=(5, 4)).astype("float32")
    np.testing.assert_allclose(dense_forward_fn(net)(obs), net(obs), rtol=1e-5, atol=1e-6)
    inputs = keras.Input((6, 1))
    conv = keras.Model(inputs, keras.layers.Dense(2)(keras.layers.Flatten()(keras.layers.Conv1D(2, 3)(inputs))))
    assert dense_forward_fn(conv) is None


def test_evaluate_greedy_plays_the_greedy_policy_on_seeded_episodes():
    net = mlp()
    net.set_weights([np.zeros_like(w) for w in net.get_weights()[:-1]] + [np.array([1.0, 0.0], "float32")])
    returns = evaluate_greedy(net, lambda: gym.make("CartPole-v1"), episodes=4, seed=100)
    expected = []
    for i in range(4):  # always push left (action 0), by hand
        env = gym.make("CartPole-v1")
        env.reset(seed=100 + i)
        total, done = 0.0, False
        while not done:
            _, r, terminated, truncated, _ = env.step(0)
            total, done = total + r, terminated or truncated
        expected.append(total)
    assert returns.tolist() == expected and max(expected) < 20


def test_train_dqn_runs_the_loop_and_checks_the_environment():
    model = DQN(mlp(hidden=8), target_update_period=4)
    model.compile(optimizer=keras.optimizers.Adam(1e-3), jit_compile=True)
    env = gym.make("CartPole-v1")
    history = train_dqn(model, env, 300, batch_size=16, learning_starts=100, train_frequency=50, gradient_steps=4,
                        epsilon_decay_steps=200, seed=0)
    assert history["burst_steps"] == [100, 150, 200, 250, 300] and len(history["loss"]) == 5
    ends = history["episode_end_steps"]
    assert sum(history["episode_returns"]) <= 300 and ends == sorted(ends)
    assert int(model.optimizer.iterations) == 20
    with pytest.raises(KerasGenError, match="the environment has 2 actions, the Q-network 3 outputs"):
        three = DQN(mlp(n_actions=3))
        three.compile()
        train_dqn(three, env, 10)
