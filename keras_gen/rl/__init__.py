"""T10: reinforcement learning (notes 001): tabular methods in NumPy and DQN in Keras.

`keras_gen.rl.tabular`: dynamic programming (policy evaluation, value and policy
iteration) on a gymnasium toy-text transition table, Monte Carlo and TD(0) prediction,
Q-learning, Sarsa and Sarsa(lambda). `keras_gen.rl.dqn`: the deep Q-network of Mnih et
al. (2015) as a `keras.Model` with a `train_step`, its replay buffer, epsilon schedule
and the acting loop. `keras_gen.rl.envs`: small environments with known values.
"""
from keras_gen.rl.envs import RandomWalkEnv  # noqa: F401
from keras_gen.rl.tabular import (  # noqa: F401
    EpisodeLog,
    TabularMDP,
    epsilon_greedy_policy,
    greedy_path,
    greedy_policy,
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

# The DQN half needs TensorFlow (a 5 s import); the tabular half does not. Load it on
# first use: `from keras_gen.rl import DQN` works, `import keras_gen.rl` stays light.
_DQN_NAMES = ("DQN", "ReplayBuffer", "dense_forward_fn", "evaluate_greedy", "huber", "linear_epsilon", "td_targets",
              "train_dqn")


def __getattr__(name):
    if name in _DQN_NAMES:
        from keras_gen.rl import dqn

        return getattr(dqn, name)
    raise AttributeError(f"module 'keras_gen.rl' has no attribute {name!r}")
