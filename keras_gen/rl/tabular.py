"""T10: tabular reinforcement learning in NumPy (Sutton & Barto, *Reinforcement Learning:
An Introduction*, 2nd ed., 2018, chapters 4-6 and 12).

The notes (001, reinforcement learning) separate *model-based* methods, which plan with the
transition function P and reward function R, from *model-free* ones, which learn from
interaction; and Monte Carlo, which updates after a complete episode, from temporal
difference (TD), which updates in the middle of one. Both kinds run here on one object,
`TabularMDP`, read from a gymnasium toy-text environment's transition table
`env.unwrapped.P`:

    P[s][a] = [(probability, next_state, reward, terminated), ...]

Model-based (dynamic programming, on the arrays of the table):

    policy_evaluation   V_pi = (I - gamma P_pi)^-1 r_pi              (an exact linear solve)
    value_iteration     V <- max_a [R(s, a) + gamma sum_s' P(s'|s, a) V(s')]
    policy_iteration    evaluate pi exactly, then pi <- greedy(Q_pi), until pi is stable
                        (or epsilon-greedy(Q_pi): the best epsilon-soft policy)

Model-free (sampling transitions from the same table, an episode step cap `max_steps`:
`CliffWalking-v1` has none, and an epsilon-greedy agent may wander for long):

    mc_prediction       V(s) <- V(s) + alpha (G_t - V(s))                  after the episode
    td0_prediction      V(s) <- V(s) + alpha (r + gamma V(s') - V(s))      every step
    q_learning          Q(s, a) <- Q(s, a) + alpha (r + gamma max_a' Q(s', a') - Q(s, a))
    sarsa               Q(s, a) <- Q(s, a) + alpha (r + gamma Q(s', a') - Q(s, a)),  a' ~ pi(s')
    sarsa_lambda        the Sarsa TD error applied to every pair by its eligibility trace

A transition flagged `terminated` ends the episode and has no successor value
(`V(terminal) = 0`). The episode step cap truncates: learning stops there without
treating the last state as terminal.

The epsilon-greedy policy (Sutton & Barto, section 5.4) takes a uniformly random action
with probability epsilon and a greedy one otherwise; ties among greedy actions are broken
uniformly at random, and `epsilon_greedy_policy` returns exactly these probabilities,
so dynamic programming can evaluate the policy an agent followed.
"""
import numpy as np

from keras_gen.errors import KerasGenError

DEFAULT_MAX_STEPS = 10_000


class TabularMDP:
    """A finite MDP from a gymnasium transition table: arrays for planning, a sampler for learning.

    Args:
        P: `P[s][a] = [(probability, next_state, reward, terminated), ...]` for every
            state `s` in `range(n_states)` and action `a` in `range(n_actions)` (the
            layout of gymnasium's toy-text environments, `env.unwrapped.P`).
        initial_distribution: probabilities of the start states, `[n_states]`.

    Attributes:
        n_states, n_actions: sizes.
        continuation: `[S, A, S]`, `P(s' | s, a)` restricted to transitions that do not
            terminate (a terminating transition contributes its reward only).
        termination: `[S, A]`, the probability that taking `a` in `s` ends the episode.
        rewards: `[S, A]`, the expected immediate reward `R(s, a)`.
        initial_distribution: `[S]`.

    Formula (the Bellman expectation equation these arrays encode):
        Q_pi(s, a) = R(s, a) + gamma * sum_s' continuation[s, a, s'] * V_pi(s')
    """

    def __init__(self, P, initial_distribution):
        try:
            n_states = len(P)
            n_actions = len(P[0])
        except (TypeError, KeyError) as err:
            kind = type(P).__name__
            raise KerasGenError(f"P must map every state 0..S-1 to every action 0..A-1, got {kind}") from err
        self.n_states, self.n_actions = int(n_states), int(n_actions)
        self.continuation = np.zeros((n_states, n_actions, n_states))
        self.termination = np.zeros((n_states, n_actions))
        self.rewards = np.zeros((n_states, n_actions))
        # Per (s, a): cumulative probabilities and outcomes as plain Python values, so
        # sampling one step costs a few list look-ups (the agents' inner loop).
        self._outcomes = []
        for s in range(n_states):
            row = []
            for a in range(n_actions):
                try:
                    outcomes = P[s][a]
                except (KeyError, IndexError) as err:
                    raise KerasGenError(f"P has no entry for state {s}, action {a}") from err
                total, cumulative, results = 0.0, [], []
                for prob, s_next, reward, terminated in outcomes:
                    prob, s_next, reward, terminated = float(prob), int(s_next), float(reward), bool(terminated)
                    if not 0 <= s_next < n_states:
                        raise KerasGenError(f"P[{s}][{a}] leads to state {s_next}, outside 0..{n_states - 1}")
                    self.rewards[s, a] += prob * reward
                    if terminated:
                        self.termination[s, a] += prob
                    else:
                        self.continuation[s, a, s_next] += prob
                    total += prob
                    cumulative.append(total)
                    results.append((s_next, reward, terminated))
                if not np.isclose(total, 1.0, atol=1e-6):
                    raise KerasGenError(f"P[{s}][{a}]'s probabilities sum to {total:.6g}, not 1")
                row.append((cumulative, results))
            self._outcomes.append(row)
        init = np.asarray(initial_distribution, dtype=np.float64).reshape(-1)
        if init.shape != (n_states,) or np.any(init < 0) or not np.isclose(init.sum(), 1.0, atol=1e-6):
            raise KerasGenError(f"initial_distribution must be {n_states} probabilities summing to 1")
        self.initial_distribution = init
        self._initial_cumulative = np.cumsum(init).tolist()

    @classmethod
    def from_env(cls, env):
        """The MDP of a gymnasium toy-text environment (`env.unwrapped.P`, its start distribution)."""
        unwrapped = getattr(env, "unwrapped", env)
        if not hasattr(unwrapped, "P"):
            raise KerasGenError(f"{type(unwrapped).__name__} has no transition table P "
                                "(a toy-text environment has one)")
        init = getattr(unwrapped, "initial_state_distrib", None)
        if init is None:
            raise KerasGenError(f"{type(unwrapped).__name__} has no initial_state_distrib")
        return cls(unwrapped.P, init)

    @property
    def deterministic(self):
        """Whether every (state, action) has exactly one outcome."""
        return all(len(results) == 1 for row in self._outcomes for _, results in row)

    def reset(self, rng):
        """A start state drawn from `initial_distribution` with `rng` (a `np.random.Generator`)."""
        return _draw(self._initial_cumulative, rng.random())

    def step(self, s, a, rng):
        """`(next_state, reward, terminated)` of taking action `a` in state `s`."""
        cumulative, results = self._outcomes[s][a]
        if len(results) == 1:
            return results[0]
        return results[_draw(cumulative, rng.random())]


def _draw(cumulative, u):
    for i, c in enumerate(cumulative):
        if u < c:
            return i
    return len(cumulative) - 1  # u within rounding of 1


def _as_mdp(env_or_mdp):
    return env_or_mdp if isinstance(env_or_mdp, TabularMDP) else TabularMDP.from_env(env_or_mdp)


def _check_gamma(gamma):
    if not 0.0 <= float(gamma) <= 1.0:
        raise KerasGenError(f"gamma must be in [0, 1], got {gamma}")
    return float(gamma)


def _policy_matrix(mdp, policy):
    """A policy as `[S, A]` probabilities: from action indices `[S]` or probabilities `[S, A]`."""
    policy = np.asarray(policy)
    if policy.ndim == 1:
        if policy.shape[0] != mdp.n_states or not np.issubdtype(policy.dtype, np.integer):
            raise KerasGenError(f"a deterministic policy must be {mdp.n_states} integer actions, got {policy.shape} "
                                f"{policy.dtype}")
        if policy.min() < 0 or policy.max() >= mdp.n_actions:
            raise KerasGenError(f"policy actions must be in 0..{mdp.n_actions - 1}")
        return np.eye(mdp.n_actions)[policy]
    if policy.shape != (mdp.n_states, mdp.n_actions):
        raise KerasGenError(f"a stochastic policy must have shape ({mdp.n_states}, {mdp.n_actions}), "
                            f"got {policy.shape}")
    if np.any(policy < 0) or not np.allclose(policy.sum(axis=1), 1.0, atol=1e-6):
        raise KerasGenError("every row of a stochastic policy must be probabilities summing to 1")
    return policy.astype(np.float64)


# ---------------------------------------------------------------- policies
def epsilon_greedy_policy(q, epsilon):
    """The epsilon-greedy policy of action values `q` `[S, A]`, as probabilities `[S, A]`.

    Formula:
        pi(a|s) = epsilon / A + (1 - epsilon) * [a in argmax Q(s, .)] / |argmax Q(s, .)|

    Ties among maximising actions share the greedy probability equally, exactly as the
    agents here break them.
    """
    q = np.asarray(q, dtype=np.float64)
    if not 0.0 <= epsilon <= 1.0:
        raise KerasGenError(f"epsilon must be in [0, 1], got {epsilon}")
    best = q == q.max(axis=1, keepdims=True)
    greedy = best / best.sum(axis=1, keepdims=True)
    return epsilon / q.shape[1] + (1.0 - epsilon) * greedy


def greedy_policy(q):
    """`argmax_a Q(s, a)` per state (the lowest action index among ties), `[S]` int."""
    return np.asarray(q).argmax(axis=1)


def uniform_policy(mdp):
    """The uniformly random policy, `[S, A]`."""
    return np.full((mdp.n_states, mdp.n_actions), 1.0 / mdp.n_actions)


# ---------------------------------------------------------------- dynamic programming
def policy_evaluation(env_or_mdp, policy, gamma):
    """The exact state values of `policy` by one linear solve of the Bellman equation.

    Formula:
        V_pi = (I - gamma P_pi)^-1 r_pi,
        P_pi[s, s'] = sum_a pi(a|s) continuation[s, a, s'],   r_pi[s] = sum_a pi(a|s) R(s, a)

    With gamma = 1 the matrix is invertible only when the policy ends the episode with
    probability 1 from every state (a *proper* policy; an epsilon-greedy policy with
    epsilon > 0 on CliffWalking is one).

    Args:
        env_or_mdp: a `TabularMDP` or a toy-text gymnasium environment.
        policy: `[S]` actions or `[S, A]` probabilities.
        gamma: discount in [0, 1].

    Returns:
        `V_pi`, `[S]`.

    Raises:
        KerasGenError: the policy never ends the episode from some state (gamma = 1).
    """
    mdp = _as_mdp(env_or_mdp)
    gamma = _check_gamma(gamma)
    pi = _policy_matrix(mdp, policy)
    p_pi = np.einsum("sa,sat->st", pi, mdp.continuation)
    r_pi = np.sum(pi * mdp.rewards, axis=1)
    a = np.eye(mdp.n_states) - gamma * p_pi
    # A policy that can loop forever without reward leaves (I - P_pi) singular or so
    # ill-conditioned that the solve returns garbage rather than failing: check both.
    if np.linalg.cond(a) > 1e12:
        raise KerasGenError("the policy does not end the episode from every state; its values are infinite "
                            "(use gamma < 1 or a policy that terminates)")
    return np.linalg.solve(a, r_pi)


def q_from_v(env_or_mdp, v, gamma):
    """Action values from state values: `Q(s, a) = R(s, a) + gamma sum_s' continuation[s, a, s'] V(s')`."""
    mdp = _as_mdp(env_or_mdp)
    return mdp.rewards + _check_gamma(gamma) * mdp.continuation @ np.asarray(v, dtype=np.float64)


def value_iteration(env_or_mdp, gamma, theta=1e-10, max_iterations=100_000):
    """Value iteration (Sutton & Barto, section 4.4) and the greedy policy of its values.

    Formula:
        V_{k+1}(s) = max_a [R(s, a) + gamma sum_s' continuation[s, a, s'] V_k(s')]
        until max_s |V_{k+1}(s) - V_k(s)| < theta;  pi(s) = argmax_a Q(s, a)

    Returns:
        `(V, policy, iterations)`: values `[S]`, greedy actions `[S]` (lowest index among
        ties), sweeps made.

    Raises:
        KerasGenError: no convergence within `max_iterations` sweeps.
    """
    mdp = _as_mdp(env_or_mdp)
    gamma = _check_gamma(gamma)
    v = np.zeros(mdp.n_states)
    for it in range(1, int(max_iterations) + 1):
        q = mdp.rewards + gamma * mdp.continuation @ v
        v_new = q.max(axis=1)
        delta = np.max(np.abs(v_new - v))
        v = v_new
        if delta < theta:
            q = mdp.rewards + gamma * mdp.continuation @ v
            return v, greedy_policy(q), it
    raise KerasGenError(f"value iteration did not converge within {max_iterations} sweeps (gamma = {gamma})")


def policy_iteration(env_or_mdp, gamma, policy=None, epsilon=0.0, max_iterations=1_000, tol=1e-9):
    """Policy iteration (Sutton & Barto, section 4.3): exact evaluation, greedy improvement.

    Formula:
        V_pi = (I - gamma P_pi)^-1 r_pi;   g(s) = argmax_a Q_pi(s, a)
        pi'(a|s) = epsilon / A + (1 - epsilon) [a = g(s)]
        stop when no state's greedy action can be improved by more than `tol`.

    With `epsilon = 0` this is policy iteration; with `epsilon > 0` it is policy
    iteration within the epsilon-soft policies (section 5.4), whose fixed point is the
    best epsilon-greedy policy: what on-policy Sarsa with a fixed epsilon converges to.
    The current greedy action is kept when it is among the maximisers, so ties cannot
    make the loop cycle. The default start is the uniformly random policy, which ends
    the episode from every state on the grid worlds here (needed when gamma = 1).

    Returns:
        `(V, greedy, iterations)`: values `[S]` of the final policy, its greedy actions
        `[S]` (the policy is `epsilon_greedy_policy` of them), improvements made.
    """
    mdp = _as_mdp(env_or_mdp)
    gamma = _check_gamma(gamma)
    if not 0.0 <= float(epsilon) <= 1.0:
        raise KerasGenError(f"epsilon must be in [0, 1], got {epsilon}")
    soft = float(epsilon) / mdp.n_actions
    pi = uniform_policy(mdp) if policy is None else _policy_matrix(mdp, policy)
    current = None if policy is None or np.ndim(policy) == 2 else np.asarray(policy)
    for it in range(1, int(max_iterations) + 1):
        v = policy_evaluation(mdp, pi, gamma)
        q = mdp.rewards + gamma * mdp.continuation @ v
        new = greedy_policy(q)
        if current is not None:
            keep = q[np.arange(mdp.n_states), current] >= q.max(axis=1) - tol
            new = np.where(keep, current, new)
            if np.array_equal(new, current):
                return v, current, it
        current = new
        pi = soft + (1.0 - float(epsilon)) * _policy_matrix(mdp, current)
    raise KerasGenError(f"policy iteration did not settle within {max_iterations} improvements")


# ---------------------------------------------------------------- single updates
def q_learning_update(q, s, a, reward, s_next, terminated, alpha, gamma):
    """One Q-learning update of `q` in place (Watkins 1989; Sutton & Barto eq. 6.8).

    Formula:
        Q(s, a) <- Q(s, a) + alpha [r + gamma max_a' Q(s', a') - Q(s, a)],
        the max term dropped when the transition terminates.

    `q` is anything indexed `q[s][a]` (a NumPy array or a list of lists).
    Returns the TD error.
    """
    target = reward if terminated else reward + gamma * max(q[s_next])
    delta = target - q[s][a]
    q[s][a] += alpha * delta
    return delta


def sarsa_update(q, s, a, reward, s_next, a_next, terminated, alpha, gamma):
    """One Sarsa update of `q` in place (Rummery & Niranjan 1994; Sutton & Barto eq. 6.7).

    Formula:
        Q(s, a) <- Q(s, a) + alpha [r + gamma Q(s', a') - Q(s, a)],
        a' the action the policy takes next; Q(s', a') dropped when the transition terminates.

    Returns the TD error.
    """
    target = reward if terminated else reward + gamma * q[s_next][a_next]
    delta = target - q[s][a]
    q[s][a] += alpha * delta
    return delta


def sarsa_lambda_update(q, traces, s, a, reward, s_next, a_next, terminated, alpha, gamma, lam,
                        trace="accumulating"):
    """One step of tabular Sarsa(lambda) on arrays `q` and `traces` `[S, A]`, in place.

    Sutton & Barto, 1st ed. fig. 7.11 (2nd ed. section 12.7 with one-hot features):

    Formula:
        delta = r + gamma Q(s', a') - Q(s, a)      (Q(s', a') dropped at termination)
        E(s, a) <- E(s, a) + 1   (accumulating)   or   E(s, a) <- 1   (replacing)
        Q <- Q + alpha delta E;   E <- gamma lambda E

    Returns the TD error.
    """
    target = reward if terminated else reward + gamma * q[s_next, a_next]
    delta = target - q[s, a]
    if trace == "accumulating":
        traces[s, a] += 1.0
    elif trace == "replacing":
        traces[s, a] = 1.0
    else:
        raise KerasGenError(f"unknown trace {trace!r}; choose one of: accumulating, replacing")
    q += alpha * delta * traces
    traces *= gamma * lam
    return delta


# ---------------------------------------------------------------- control
class EpisodeLog:
    """What a learning agent returns: its table and one entry per episode.

    Attributes:
        q: learnt action values `[S, A]`.
        returns: undiscounted sum of rewards of every episode as it was played (the
            *online* return of Sutton & Barto's figure 6.4), `[episodes]`.
        lengths: steps of every episode, `[episodes]`.
        truncated: episodes cut by the step cap.
    """

    def __init__(self, q, returns, lengths, truncated):
        self.q = np.asarray(q, dtype=np.float64)
        self.returns = np.asarray(returns, dtype=np.float64)
        self.lengths = np.asarray(lengths, dtype=np.int64)
        self.truncated = int(truncated)


def _epsilon_greedy_action(row, epsilon, n_actions, rng):
    # The same distribution as `epsilon_greedy_policy`: explore uniformly with prob.
    # epsilon, else a maximising action, ties broken uniformly.
    if rng.random() < epsilon:
        return int(rng.random() * n_actions)
    best = max(row)
    ties = [a for a in range(n_actions) if row[a] == best]
    return ties[0] if len(ties) == 1 else ties[int(rng.random() * len(ties))]


def _check_control(mdp, episodes, alpha, epsilon, gamma, max_steps):
    if int(episodes) < 1:
        raise KerasGenError(f"episodes must be >= 1, got {episodes}")
    if not 0.0 < float(alpha) <= 1.0:
        raise KerasGenError(f"alpha must be in (0, 1], got {alpha}")
    if not 0.0 <= float(epsilon) <= 1.0:
        raise KerasGenError(f"epsilon must be in [0, 1], got {epsilon}")
    if int(max_steps) < 1:
        raise KerasGenError(f"max_steps must be >= 1, got {max_steps}")
    return _check_gamma(gamma)


def _initial_q(mdp, q):
    if q is None:
        return [[0.0] * mdp.n_actions for _ in range(mdp.n_states)]
    q = np.asarray(q, dtype=np.float64)
    if q.shape != (mdp.n_states, mdp.n_actions):
        raise KerasGenError(f"initial q must have shape ({mdp.n_states}, {mdp.n_actions}), got {q.shape}")
    return q.tolist()


def q_learning(env_or_mdp, episodes, alpha=0.5, epsilon=0.1, gamma=1.0, seed=None, max_steps=DEFAULT_MAX_STEPS,
               q=None):
    """Q-learning (off-policy TD control; Sutton & Barto section 6.5) with an epsilon-greedy behaviour.

    Formula (every step, a ~ epsilon-greedy(Q)(s)):
        Q(s, a) <- Q(s, a) + alpha [r + gamma max_a' Q(s', a') - Q(s, a)]

    Args:
        env_or_mdp: a `TabularMDP` or toy-text gymnasium environment.
        episodes: episodes to play.
        alpha, epsilon, gamma: step size, exploration rate, discount (the defaults are
            Example 6.6's).
        seed: seed of the agent's `np.random.Generator` (or a Generator).
        max_steps: step cap per episode (truncation, not termination).
        q: initial values `[S, A]` (default zeros).

    Returns:
        An `EpisodeLog`.
    """
    mdp = _as_mdp(env_or_mdp)
    gamma = _check_control(mdp, episodes, alpha, epsilon, gamma, max_steps)
    rng = np.random.default_rng(seed)
    table, n_actions = _initial_q(mdp, q), mdp.n_actions
    returns, lengths, truncated = [], [], 0
    for _ in range(int(episodes)):
        s, total, t, done = mdp.reset(rng), 0.0, 0, False
        while not done and t < max_steps:
            a = _epsilon_greedy_action(table[s], epsilon, n_actions, rng)
            s_next, r, done = mdp.step(s, a, rng)
            q_learning_update(table, s, a, r, s_next, done, alpha, gamma)
            s, total, t = s_next, total + r, t + 1
        truncated += not done
        returns.append(total)
        lengths.append(t)
    return EpisodeLog(table, returns, lengths, truncated)


def sarsa(env_or_mdp, episodes, alpha=0.5, epsilon=0.1, gamma=1.0, seed=None, max_steps=DEFAULT_MAX_STEPS, q=None):
    """Sarsa (on-policy TD control; Sutton & Barto section 6.4) with an epsilon-greedy policy.

    Formula (a' ~ epsilon-greedy(Q)(s') chosen before the update, then taken):
        Q(s, a) <- Q(s, a) + alpha [r + gamma Q(s', a') - Q(s, a)]

    Arguments and result as `q_learning`.
    """
    mdp = _as_mdp(env_or_mdp)
    gamma = _check_control(mdp, episodes, alpha, epsilon, gamma, max_steps)
    rng = np.random.default_rng(seed)
    table, n_actions = _initial_q(mdp, q), mdp.n_actions
    returns, lengths, truncated = [], [], 0
    for _ in range(int(episodes)):
        s = mdp.reset(rng)
        a = _epsilon_greedy_action(table[s], epsilon, n_actions, rng)
        total, t, done = 0.0, 0, False
        while not done and t < max_steps:
            s_next, r, done = mdp.step(s, a, rng)
            a_next = 0 if done else _epsilon_greedy_action(table[s_next], epsilon, n_actions, rng)
            sarsa_update(table, s, a, r, s_next, a_next, done, alpha, gamma)
            s, a, total, t = s_next, a_next, total + r, t + 1
        truncated += not done
        returns.append(total)
        lengths.append(t)
    return EpisodeLog(table, returns, lengths, truncated)


def sarsa_lambda(env_or_mdp, episodes, alpha=0.5, epsilon=0.1, gamma=1.0, lam=0.9, trace="accumulating", seed=None,
                 max_steps=DEFAULT_MAX_STEPS, q=None):
    """Tabular Sarsa(lambda) with eligibility traces, reset to 0 at every episode start.

    Formula (every step; see `sarsa_lambda_update`):
        delta = r + gamma Q(s', a') - Q(s, a);  E(s, a) += 1 (or = 1);
        Q <- Q + alpha delta E;  E <- gamma lambda E

    lambda = 0 is one-step Sarsa; lambda = 1 with gamma = 1 approaches Monte Carlo
    control. Arguments and result as `sarsa`, plus `lam` and `trace`
    ("accumulating" or "replacing").
    """
    mdp = _as_mdp(env_or_mdp)
    gamma = _check_control(mdp, episodes, alpha, epsilon, gamma, max_steps)
    if not 0.0 <= float(lam) <= 1.0:
        raise KerasGenError(f"lam must be in [0, 1], got {lam}")
    if trace not in ("accumulating", "replacing"):
        raise KerasGenError(f"unknown trace {trace!r}; choose one of: accumulating, replacing")
    rng = np.random.default_rng(seed)
    table = np.asarray(_initial_q(mdp, q))
    n_actions = mdp.n_actions
    returns, lengths, truncated = [], [], 0
    for _ in range(int(episodes)):
        traces = np.zeros_like(table)
        s = mdp.reset(rng)
        a = _epsilon_greedy_action(table[s].tolist(), epsilon, n_actions, rng)
        total, t, done = 0.0, 0, False
        while not done and t < max_steps:
            s_next, r, done = mdp.step(s, a, rng)
            a_next = 0 if done else _epsilon_greedy_action(table[s_next].tolist(), epsilon, n_actions, rng)
            sarsa_lambda_update(table, traces, s, a, r, s_next, a_next, done, alpha, gamma, lam, trace)
            s, a, total, t = s_next, a_next, total + r, t + 1
        truncated += not done
        returns.append(total)
        lengths.append(t)
    return EpisodeLog(table, returns, lengths, truncated)


def greedy_path(env_or_mdp, q, start=None, max_steps=1_000):
    """The states visited by the greedy policy of `q` from `start`, in a deterministic MDP.

    Ties take the lowest action index (`greedy_policy`). Stops at termination, at a
    revisited state (the greedy policy loops) or after `max_steps`.

    Returns:
        `(states, reaches_terminal)`: the states from `start` on, and whether the last
        step terminated the episode (the terminal transition's target is included).
    """
    mdp = _as_mdp(env_or_mdp)
    if not mdp.deterministic:
        raise KerasGenError("greedy_path needs a deterministic MDP (one outcome per state and action)")
    if start is None:
        start = int(np.argmax(mdp.initial_distribution))
    actions = greedy_policy(q)
    states, seen = [int(start)], {int(start)}
    rng = np.random.default_rng(0)  # unused by a deterministic step
    for _ in range(int(max_steps)):
        s_next, _, done = mdp.step(states[-1], int(actions[states[-1]]), rng)
        states.append(int(s_next))
        if done:
            return states, True
        if s_next in seen:
            return states, False
        seen.add(s_next)
    return states, False


# ---------------------------------------------------------------- prediction
def _check_prediction(mdp, episodes, alpha, gamma, max_steps):
    if int(episodes) < 1:
        raise KerasGenError(f"episodes must be >= 1, got {episodes}")
    if alpha is not None and not callable(alpha) and not 0.0 < float(alpha) <= 1.0:
        raise KerasGenError(f"alpha must be in (0, 1], None (sample averages) or a function of the visit count, "
                            f"got {alpha}")
    if int(max_steps) < 1:
        raise KerasGenError(f"max_steps must be >= 1, got {max_steps}")
    return _check_gamma(gamma)


def _step_size(alpha, count):
    if alpha is None:
        return 1.0 / count
    return float(alpha(count)) if callable(alpha) else alpha


def _sample_episode(mdp, pi_cumulative, rng, max_steps):
    """[(s, a, r, terminated)...] of one episode under a policy given as cumulative probabilities."""
    s, steps, done = mdp.reset(rng), [], False
    while not done and len(steps) < max_steps:
        a = _draw(pi_cumulative[s], rng.random())
        s_next, r, done = mdp.step(s, a, rng)
        steps.append((s, a, r, s_next, done))
        s = s_next
    return steps


def mc_prediction(env_or_mdp, policy, episodes, gamma=1.0, alpha=None, first_visit=True, seed=None,
                  max_steps=DEFAULT_MAX_STEPS):
    """Monte Carlo prediction of V_pi (Sutton & Barto sections 5.1 and 6.2): updates after each episode.

    Formula (G_t = r_{t+1} + gamma G_{t+1}, computed backwards from the episode's end):
        V(s_t) <- V(s_t) + alpha (G_t - V(s_t))
        alpha = 1 / N(s_t) (the sample average of the returns) when `alpha` is None;
        alpha(N(s_t)) when `alpha` is a function of the visit count.

    With `first_visit`, only a state's first visit in an episode counts. An episode cut
    by `max_steps` contributes its truncated returns (biased; keep the cap high).

    Returns:
        `V`, `[S]` (0 for states never visited).
    """
    mdp = _as_mdp(env_or_mdp)
    gamma = _check_prediction(mdp, episodes, alpha, gamma, max_steps)
    pi_cumulative = np.cumsum(_policy_matrix(mdp, policy), axis=1).tolist()
    rng = np.random.default_rng(seed)
    v, counts = np.zeros(mdp.n_states), np.zeros(mdp.n_states)
    for _ in range(int(episodes)):
        steps = _sample_episode(mdp, pi_cumulative, rng, max_steps)
        first = {}
        for t, (s, *_rest) in enumerate(steps):
            first.setdefault(s, t)
        g = 0.0
        for t in range(len(steps) - 1, -1, -1):
            s, _, r, _, _ = steps[t]
            g = r + gamma * g
            if first_visit and first[s] != t:
                continue
            counts[s] += 1
            v[s] += _step_size(alpha, counts[s]) * (g - v[s])
    return v


def td0_prediction(env_or_mdp, policy, episodes, alpha=0.1, gamma=1.0, seed=None, max_steps=DEFAULT_MAX_STEPS,
                   v=None):
    """TD(0) prediction of V_pi (Sutton & Barto section 6.1): updates in the middle of an episode.

    Formula (every step):
        V(s) <- V(s) + alpha (r + gamma V(s') - V(s)),  V(s') dropped at termination
        alpha = 1 / N(s) (visits so far) when `alpha` is None; alpha(N(s)) when it is a
        function of the visit count (e.g. `lambda n: n ** -0.7`, a Robbins-Monro schedule:
        TD(0) with 1 / N(s) converges slowly, as its early targets bootstrap from poor values).

    Args:
        v: initial values `[S]` (default zeros; the book's random walk starts at 0.5).

    Returns:
        `V`, `[S]`.
    """
    mdp = _as_mdp(env_or_mdp)
    gamma = _check_prediction(mdp, episodes, alpha, gamma, max_steps)
    pi_cumulative = np.cumsum(_policy_matrix(mdp, policy), axis=1).tolist()
    rng = np.random.default_rng(seed)
    values = np.zeros(mdp.n_states) if v is None else np.array(v, dtype=np.float64)
    if values.shape != (mdp.n_states,):
        raise KerasGenError(f"initial v must have shape ({mdp.n_states},), got {values.shape}")
    counts = np.zeros(mdp.n_states)
    for _ in range(int(episodes)):
        s, t, done = mdp.reset(rng), 0, False
        while not done and t < max_steps:
            a = _draw(pi_cumulative[s], rng.random())
            s_next, r, done = mdp.step(s, a, rng)
            counts[s] += 1
            target = r if done else r + gamma * values[s_next]
            values[s] += _step_size(alpha, counts[s]) * (target - values[s])
            s, t = s_next, t + 1
    return values
