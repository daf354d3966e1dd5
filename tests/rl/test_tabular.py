"""keras_gen.rl.tabular against linear solves, hand computations and closed forms."""
import gymnasium as gym
import numpy as np
import pytest

from keras_gen.errors import KerasGenError
from keras_gen.rl import (
    RandomWalkEnv,
    TabularMDP,
    epsilon_greedy_policy,
    greedy_path,
    mc_prediction,
    policy_evaluation,
    policy_iteration,
    q_from_v,
    q_learning,
    q_learning_update,
    sarsa,
    sarsa_lambda,
    sarsa_lambda_update,
    sarsa_update,
    td0_prediction,
    uniform_policy,
    value_iteration,
)
from keras_gen.rl.tabular import _epsilon_greedy_action

START, GOAL = 36, 47
CLIFF_EDGE_PATH = [36] + list(range(24, 36)) + [47]  # up, 11 x right, down


def cliff():
    return TabularMDP.from_env(gym.make("CliffWalking-v1"))


def bellman_optimality_backup(P, v, gamma):
    """max_a sum_outcomes p (r + gamma V(s') [not terminated]), straight from the P dict."""
    out = np.zeros(len(P))
    for s in P:
        out[s] = max(sum(p * (r + (0.0 if done else gamma * v[s2])) for p, s2, r, done in P[s][a]) for a in P[s])
    return out


def test_mdp_arrays_read_the_transition_table():
    mdp = cliff()
    assert (mdp.n_states, mdp.n_actions) == (48, 4) and mdp.deterministic
    assert mdp.rewards[START, 1] == -100 and mdp.continuation[START, 1, START] == 1  # right from S: the cliff
    assert mdp.rewards[START, 0] == -1 and mdp.continuation[START, 0, 24] == 1
    assert mdp.termination[35, 2] == 1 and mdp.continuation[35, 2].sum() == 0  # down into the goal ends it
    np.testing.assert_allclose(mdp.continuation.sum(axis=2) + mdp.termination, 1.0)
    assert mdp.reset(np.random.default_rng(0)) == START
    with pytest.raises(KerasGenError, match="has no transition table P"):
        TabularMDP.from_env(gym.make("CartPole-v1"))
    with pytest.raises(KerasGenError, match=r"P\[0\]\[0\]'s probabilities sum to 0.5"):
        TabularMDP({0: {0: [(0.5, 0, 0.0, True)]}}, [1.0])


@pytest.mark.parametrize("env_id, kwargs, gamma", [
    ("CliffWalking-v1", {}, 1.0),
    ("CliffWalking-v1", {"is_slippery": True}, 0.95),
    ("FrozenLake-v1", {}, 0.9),
])
def test_value_iteration_values_equal_the_linear_solve_for_its_policy(env_id, kwargs, gamma):
    env = gym.make(env_id, **kwargs)
    v, policy, _ = value_iteration(env, gamma)
    # The values are a fixed point of the Bellman optimality backup (computed from P itself) ...
    np.testing.assert_allclose(bellman_optimality_backup(env.unwrapped.P, v, gamma), v, atol=1e-8)
    # ... and the exact value of the greedy policy it returns.
    np.testing.assert_allclose(policy_evaluation(env, policy, gamma), v, atol=1e-6)


def test_value_iteration_on_the_cliff_is_the_shortest_path():
    v, policy, _ = value_iteration(cliff(), 1.0)
    assert v[START] == pytest.approx(-13.0)  # 13 steps of -1 along the cliff edge
    assert greedy_path(cliff(), q_from_v(cliff(), v, 1.0))[0] == CLIFF_EDGE_PATH


@pytest.mark.parametrize("env_id, kwargs, gamma", [("CliffWalking-v1", {}, 1.0), ("FrozenLake-v1", {}, 0.9)])
def test_policy_iteration_agrees_with_value_iteration(env_id, kwargs, gamma):
    env = gym.make(env_id, **kwargs)
    v_vi, _, _ = value_iteration(env, gamma)
    v_pi, policy, iterations = policy_iteration(env, gamma)
    assert iterations > 1
    np.testing.assert_allclose(v_pi, v_vi, atol=1e-6)
    q = q_from_v(env, v_vi, gamma)
    np.testing.assert_allclose(q[np.arange(len(policy)), policy], v_vi, atol=1e-6)  # every action optimal


def test_policy_evaluation_is_the_closed_form_on_the_random_walk_and_rejects_endless_policies():
    walk = RandomWalkEnv(5)
    v = policy_evaluation(walk, uniform_policy(TabularMDP.from_env(walk)), 1.0)
    np.testing.assert_allclose(v[1:6], np.arange(1, 6) / 6)
    # Walking into the left wall from the start never ends an episode: infinite cost.
    always_left = np.full(48, 3)
    with pytest.raises(KerasGenError, match="does not end the episode from every state"):
        policy_evaluation(cliff(), always_left, 1.0)
    assert policy_evaluation(cliff(), always_left, 0.5)[START] == pytest.approx(-2.0)  # -1 / (1 - 0.5)


def test_one_q_learning_update_equals_the_formula():
    rng = np.random.default_rng(0)
    q = rng.normal(size=(6, 3))
    before = q.copy()
    delta = q_learning_update(q, 2, 1, -1.0, 4, False, 0.5, 0.9)
    expected = before[2, 1] + 0.5 * (-1.0 + 0.9 * before[4].max() - before[2, 1])
    assert q[2, 1] == pytest.approx(expected)
    assert delta == pytest.approx(-1.0 + 0.9 * before[4].max() - before[2, 1])
    mask = np.ones_like(q, bool)
    mask[2, 1] = False
    np.testing.assert_array_equal(q[mask], before[mask])
    q_learning_update(q, 3, 0, 2.0, 4, True, 0.25, 0.9)  # terminal: no successor value
    assert q[3, 0] == pytest.approx(before[3, 0] + 0.25 * (2.0 - before[3, 0]))


def test_one_sarsa_update_equals_the_formula():
    rng = np.random.default_rng(1)
    q = rng.normal(size=(6, 3))
    before = q.copy()
    sarsa_update(q, 2, 1, -1.0, 4, 0, False, 0.5, 0.9)  # a' = 0, not the greedy action in general
    assert q[2, 1] == pytest.approx(before[2, 1] + 0.5 * (-1.0 + 0.9 * before[4, 0] - before[2, 1]))
    assert before[4, 0] != before[4].max()  # so the test tells Sarsa from Q-learning
    sarsa_update(q, 5, 2, -100.0, 0, 1, True, 0.5, 0.9)
    assert q[5, 2] == pytest.approx(before[5, 2] + 0.5 * (-100.0 - before[5, 2]))


def test_sarsa_lambda_update_by_hand_with_a_revisit():
    alpha, gamma, lam = 0.5, 0.9, 0.8
    # Transitions chosen by hand: (0, 1) -> (0, 0) -> (0, 1) again (a revisit), then the end.
    for trace in ("accumulating", "replacing"):
        q, e = np.zeros((2, 2)), np.zeros((2, 2))
        q[1, 1] = 0.3
        sarsa_lambda_update(q, e, 0, 1, 0.0, 0, 0, False, alpha, gamma, lam, trace)
        # delta1 = 0 + 0.9 * Q(0,0)=0 - 0 = 0: nothing moves; E(0,1) = 1 then decays.
        np.testing.assert_allclose(q, [[0, 0], [0, 0.3]])
        np.testing.assert_allclose(e, [[0, gamma * lam], [0, 0]])
        d2 = sarsa_lambda_update(q, e, 0, 0, 1.0, 1, 1, False, alpha, gamma, lam, trace)
        assert d2 == pytest.approx(1.0 + gamma * 0.3)
        np.testing.assert_allclose(q, [[alpha * d2, alpha * d2 * gamma * lam], [0, 0.3]])
        # Revisit (0, 1): an accumulating trace adds 1 to (gamma lam)^2, a replacing one resets to 1.
        q_before, e_before = q.copy(), e.copy()
        d3 = sarsa_lambda_update(q, e, 0, 1, -1.0, 1, 1, True, alpha, gamma, lam, trace)
        assert d3 == pytest.approx(-1.0 - q_before[0, 1])
        e01 = e_before[0, 1] + 1.0 if trace == "accumulating" else 1.0
        assert e_before[0, 1] == pytest.approx((gamma * lam) ** 2)
        expected_q = q_before + alpha * d3 * np.array([[e_before[0, 0], e01], [0, 0]])
        np.testing.assert_allclose(q, expected_q)
        np.testing.assert_allclose(e, gamma * lam * np.array([[e_before[0, 0], e01], [0, 0]]))


def chain(n=3, reward=1.0):
    """0 -> 1 -> ... -> n-1 -> end (one action), +reward on the last step."""
    P = {s: {0: [(1.0, s + 1, 0.0, False)]} for s in range(n - 1)}
    P[n - 1] = {0: [(1.0, n - 1, reward, True)]}
    init = np.zeros(n)
    init[0] = 1.0
    return TabularMDP(P, init)


def test_sarsa_lambda_on_a_chain_equals_the_hand_computation():
    alpha, gamma, lam = 0.5, 0.9, 0.7
    log = sarsa_lambda(chain(3), 1, alpha=alpha, epsilon=0.0, gamma=gamma, lam=lam, seed=0)
    # Episode 1: the only non-zero TD error is the last one (delta = 1), seen by E = (gl)^2, gl, 1.
    gl = gamma * lam
    np.testing.assert_allclose(log.q[:, 0], [alpha * gl**2, alpha * gl, alpha])
    assert log.returns.tolist() == [1.0] and log.lengths.tolist() == [3]
    # Episode 2 from those values, by hand.
    q = [alpha * gl**2, alpha * gl, alpha]
    d1 = gamma * q[1] - q[0]
    e = [1.0, 0.0, 0.0]
    q = [q[0] + alpha * d1, q[1], q[2]]
    e = [gl, 0.0, 0.0]
    d2 = gamma * q[2] - q[1]
    e = [e[0], 1.0, 0.0]
    q = [q[i] + alpha * d2 * e[i] for i in range(3)]
    e = [gl * x for x in e]
    d3 = 1.0 - q[2]
    e = [e[0], e[1], 1.0]
    q = [q[i] + alpha * d3 * e[i] for i in range(3)]
    log2 = sarsa_lambda(chain(3), 2, alpha=alpha, epsilon=0.0, gamma=gamma, lam=lam, seed=0)
    np.testing.assert_allclose(log2.q[:, 0], q)
    # lambda = 0 is one-step Sarsa.
    np.testing.assert_allclose(sarsa_lambda(chain(3), 2, alpha=alpha, epsilon=0.0, gamma=gamma, lam=0.0).q,
                               sarsa(chain(3), 2, alpha=alpha, epsilon=0.0, gamma=gamma).q)


def test_epsilon_greedy_probabilities_match_the_formula_and_the_agent():
    q = np.array([[1.0, 3.0, 3.0, 0.0], [2.0, 0.0, 0.0, 0.0]])
    pi = epsilon_greedy_policy(q, 0.2)
    np.testing.assert_allclose(pi, [[0.05, 0.45, 0.45, 0.05], [0.85, 0.05, 0.05, 0.05]])
    rng = np.random.default_rng(0)
    n = 40_000
    counts = np.bincount([_epsilon_greedy_action(q[0].tolist(), 0.2, 4, rng) for _ in range(n)], minlength=4)
    # Binomial sd of a share near 0.45 with 40,000 draws is 0.0025: 0.01 is four of them.
    np.testing.assert_allclose(counts / n, pi[0], atol=0.01)


def test_episode_step_cap_truncates_an_endless_policy():
    q0 = np.full((48, 4), -1e6)
    q0[:, 3] = 0.0  # greedy: walk into the left wall from the start, forever
    log = q_learning(cliff(), 2, epsilon=0.0, seed=0, max_steps=7, q=q0)
    assert log.lengths.tolist() == [7, 7] and log.truncated == 2 and log.returns.tolist() == [-7.0, -7.0]


def test_q_learning_and_sarsa_find_their_paths_on_the_cliff():
    mdp = cliff()
    ql = q_learning(mdp, 500, seed=3)
    sa = sarsa(mdp, 500, seed=3)
    assert greedy_path(mdp, ql.q) == (CLIFF_EDGE_PATH, True)
    path, reached = greedy_path(mdp, sa.q)
    edge = set(range(25, 35))  # the cells right above the cliff
    assert reached and len(path) > len(CLIFF_EDGE_PATH) and len(set(path) & edge) < 10  # a safer detour
    assert ql.returns[-100:].mean() < sa.returns[-100:].mean()  # the book's point: Q-learning falls more
    assert q_learning(mdp, 20, seed=3).returns.tolist() == ql.returns[:20].tolist()  # seeded


def test_random_walk_prediction_converges_to_the_linear_solve():
    walk = RandomWalkEnv(5)
    mdp = TabularMDP.from_env(walk)
    pi = uniform_policy(mdp)
    truth = policy_evaluation(mdp, pi, 1.0)
    np.testing.assert_allclose(truth, walk.true_values(), atol=1e-12)
    mc = mc_prediction(mdp, pi, 3000, seed=0)
    td = td0_prediction(mdp, pi, 3000, alpha=lambda n: n ** -0.7, seed=0)
    # Seeded, so deterministic; 0.03 is about 3 standard errors of 3,000 episodes' estimates.
    np.testing.assert_allclose(mc[1:6], truth[1:6], atol=0.03)
    np.testing.assert_allclose(td[1:6], truth[1:6], atol=0.03)
    early = td0_prediction(mdp, pi, 5, alpha=0.1, seed=0)
    assert np.abs(early[1:6] - truth[1:6]).max() > 0.1  # the check can fail: a short run is far off


def test_options_are_checked():
    with pytest.raises(KerasGenError, match="gamma must be in"):
        value_iteration(cliff(), 1.5)
    with pytest.raises(KerasGenError, match="alpha must be in"):
        sarsa(cliff(), 1, alpha=0.0)
    with pytest.raises(KerasGenError, match="unknown trace 'dutch'"):
        sarsa_lambda(cliff(), 1, trace="dutch")
    with pytest.raises(KerasGenError, match="policy must be 48 integer actions"):
        policy_evaluation(cliff(), np.zeros(47, int), 1.0)


def test_epsilon_soft_policy_iteration_finds_the_best_epsilon_greedy_policy():
    mdp = cliff()
    v, greedy, _ = policy_iteration(mdp, 1.0, epsilon=0.1)
    pi = epsilon_greedy_policy(np.eye(4)[greedy], 0.1)
    np.testing.assert_allclose(policy_evaluation(mdp, pi, 1.0), v, atol=1e-6)
    q = q_from_v(mdp, v, 1.0)
    np.testing.assert_allclose(q[np.arange(48), greedy], q.max(axis=1), atol=1e-6)  # a fixed point
    # Better than the epsilon-greedy policy of the optimal values (Q-learning's limit), worse than greedy.
    v_star, _, _ = value_iteration(mdp, 1.0)
    q_star_eps = policy_evaluation(mdp, epsilon_greedy_policy(q_from_v(mdp, v_star, 1.0), 0.1), 1.0)
    assert q_star_eps[START] < v[START] < v_star[START] == -13.0
