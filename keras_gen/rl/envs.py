"""Small environments with known answers, in gymnasium's toy-text layout (a transition table `P`)."""
import gymnasium as gym
import numpy as np

from keras_gen.errors import KerasGenError

LEFT, RIGHT = 0, 1


class RandomWalkEnv(gym.Env):
    """Sutton & Barto's random walk (Example 6.2): a row of states between two terminals.

    States `0 .. n + 1`; `0` and `n + 1` are terminal, the walk starts in the middle
    (`(n + 1) // 2`, C of A-E for n = 5). Action 0 moves left, action 1 right; entering
    the right terminal pays +1, every other step 0. Under the uniformly random policy,
    with gamma = 1, the value of state i is the probability of leaving on the right:

    Formula:
        V(i) = i / (n + 1),   i = 1 .. n     (1/6, ..., 5/6 for n = 5)

    The terminals keep a self-loop flagged `terminated` in `P` (as gymnasium's
    FrozenLake does), so the table is complete.
    """

    metadata = {"render_modes": []}

    def __init__(self, n=5):
        if int(n) < 1:
            raise KerasGenError(f"the random walk needs n >= 1 non-terminal states, got {n}")
        self.n = int(n)
        n_states = self.n + 2
        self.observation_space = gym.spaces.Discrete(n_states)
        self.action_space = gym.spaces.Discrete(2)
        self.start_state = (self.n + 1) // 2
        self.P = {}
        for s in range(n_states):
            if s in (0, n_states - 1):
                self.P[s] = {a: [(1.0, s, 0.0, True)] for a in (LEFT, RIGHT)}
                continue
            self.P[s] = {}
            for a, s_next in ((LEFT, s - 1), (RIGHT, s + 1)):
                terminal = s_next in (0, n_states - 1)
                self.P[s][a] = [(1.0, s_next, 1.0 if s_next == n_states - 1 else 0.0, terminal)]
        self.initial_state_distrib = np.zeros(n_states)
        self.initial_state_distrib[self.start_state] = 1.0
        self.s = self.start_state

    def reset(self, *, seed=None, options=None):
        super().reset(seed=seed)
        self.s = self.start_state
        return self.s, {}

    def step(self, action):
        _, s_next, reward, terminated = self.P[self.s][int(action)][0]
        self.s = s_next
        return s_next, reward, terminated, False, {}

    def true_values(self):
        """`V(i) = i / (n + 1)` for the uniformly random policy (0 at the terminals)."""
        v = np.arange(self.n + 2) / (self.n + 1)
        v[[0, -1]] = 0.0
        return v
