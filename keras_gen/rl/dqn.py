"""T10: the deep Q-network (Mnih et al., "Human-level control through deep reinforcement
learning", Nature 2015) as a Keras model, with its replay buffer, epsilon schedule and
acting loop.

The notes (001) say only that DQN "fits the value function with a deep network". Mnih et
al.'s algorithm box, which `DQN.train_step` and `train_dqn` follow:

    for every environment step t:
        a_t = random with probability epsilon_t, else argmax_a Q(s_t, a; theta)
        play a_t, store (s_t, a_t, r_t, s_{t+1}, terminated) in the replay memory D
        every `train_frequency` steps, `gradient_steps` times:
            sample a minibatch of transitions uniformly from D
            y = r + gamma (1 - terminated) max_a' Q(s', a'; theta^-)      (target network)
            descend  mean_i huber(y_i - Q(s_i, a_i; theta))              (the "error clipping")
            every C updates: theta^- <- theta

The Huber loss with delta = 1 is the paper's clipping of the TD error to [-1, 1] in the
gradient. A transition cut by a time limit (gymnasium's `truncated`) is not terminal:
its target still bootstraps from s' (Pardo et al., "Time limits in reinforcement
learning", 2018), so the replay memory stores `terminated` only.

Training is Keras's: `DQN.train_step` makes one update from one replay batch (a dict
`observation, action, reward, next_observation, terminated`), so `fit` or
`train_on_batch` on replay batches trains the Q-network; `DQN.train_burst` runs n
train steps in one compiled loop (the same updates, without Keras's per-call overhead),
and the acting loop `train_dqn` is a thin driver around it. Acting calls the network once per step; for the small MLPs
DQN uses on classic control a NumPy copy of the weights (`dense_forward_fn`) does that
~50x faster than a TensorFlow call, and is refreshed after every training burst.
"""
import copy

from keras_gen import require_tensorflow

require_tensorflow()

import numpy as np  # noqa: E402
import keras  # noqa: E402
import tensorflow as tf  # noqa: E402

from keras_gen.errors import KerasGenError  # noqa: E402
from keras_gen.training.strategy import apply_gradients, global_mean  # noqa: E402

TRANSITION_KEYS = ("observation", "action", "reward", "next_observation", "terminated")


# ---------------------------------------------------------------- replay memory
class ReplayBuffer:
    """A ring buffer of transitions, sampled uniformly (with replacement), in NumPy.

    Args:
        capacity: transitions kept; the oldest are overwritten first.
        observation_shape: shape of one observation.
        seed: seed of the sampling generator (or a `np.random.Generator`).

    `add` takes one transition or a batch (leading axis); `sample(n)` returns a dict of
    arrays with the keys of `TRANSITION_KEYS` (`action` int32, the rest float32).
    """

    def __init__(self, capacity, observation_shape, seed=None):
        if int(capacity) < 1:
            raise KerasGenError(f"capacity must be >= 1, got {capacity}")
        self.capacity = int(capacity)
        self.observation_shape = tuple(int(d) for d in observation_shape)
        self.observation = np.zeros((self.capacity,) + self.observation_shape, np.float32)
        self.next_observation = np.zeros_like(self.observation)
        self.action = np.zeros(self.capacity, np.int32)
        self.reward = np.zeros(self.capacity, np.float32)
        self.terminated = np.zeros(self.capacity, np.float32)
        self.rng = np.random.default_rng(seed)
        self.position = 0  # where the next transition goes
        self.size = 0

    def __len__(self):
        return self.size

    def add(self, observation, action, reward, next_observation, terminated):
        """Stores one transition, or a batch of them along the first axis."""
        observation = np.asarray(observation, np.float32)
        single = observation.shape == self.observation_shape
        if not single and observation.shape[1:] != self.observation_shape:
            raise KerasGenError(f"observations must have shape {self.observation_shape} (or [n, ...]), "
                                f"got {observation.shape}")
        batch = {
            "observation": observation,
            "action": np.asarray(action, np.int32),
            "reward": np.asarray(reward, np.float32),
            "next_observation": np.asarray(next_observation, np.float32),
            "terminated": np.asarray(terminated, np.float32),
        }
        if single:
            batch = {k: v[None] for k, v in batch.items()}
        n = len(batch["observation"])
        idx = (self.position + np.arange(n)) % self.capacity
        for key, value in batch.items():
            getattr(self, key)[idx] = value
        self.position = int((self.position + n) % self.capacity)
        self.size = int(min(self.size + n, self.capacity))

    def sample(self, batch_size):
        """`batch_size` transitions drawn uniformly with replacement, as a dict of arrays."""
        if self.size == 0:
            raise KerasGenError("cannot sample from an empty replay buffer")
        idx = self.rng.integers(0, self.size, size=int(batch_size))
        return {key: getattr(self, key)[idx] for key in TRANSITION_KEYS}


# ---------------------------------------------------------------- pure functions
def linear_epsilon(step, initial=1.0, final=0.05, decay_steps=10_000):
    """The exploration rate of Mnih et al.: linear from `initial` to `final`, then constant.

    Formula:
        epsilon_t = final + (initial - final) * max(0, 1 - t / decay_steps)
    """
    if decay_steps <= 0:
        return float(final)
    return float(final + (initial - final) * max(0.0, 1.0 - float(step) / float(decay_steps)))


def huber(x, delta=1.0):
    """The Huber function, elementwise (the TD-error clipping of Mnih et al. for delta = 1).

    Formula:
        huber(x) = x^2 / 2                     if |x| <= delta
                   delta (|x| - delta / 2)      otherwise
    Its derivative is x clipped to [-delta, delta].
    """
    x = tf.convert_to_tensor(x)
    abs_x = tf.abs(x)
    quadratic = tf.minimum(abs_x, delta)
    return 0.5 * tf.square(quadratic) + delta * (abs_x - quadratic)


def td_targets(reward, terminated, next_q_target, gamma, next_q_online=None):
    """The bootstrapped targets y of a batch of transitions (no gradient flows through them).

    Formula:
        y = r + gamma (1 - terminated) max_a' Q_target(s', a')                      (DQN)
        y = r + gamma (1 - terminated) Q_target(s', argmax_a' Q_online(s', a'))     (double DQN,
                                                                 van Hasselt et al. 2016)
    """
    if next_q_online is None:
        next_value = tf.reduce_max(next_q_target, axis=-1)
    else:
        best = tf.argmax(next_q_online, axis=-1, output_type=tf.int32)
        next_value = tf.gather(next_q_target, best, axis=-1, batch_dims=1)
    reward = tf.cast(reward, next_value.dtype)
    terminated = tf.cast(terminated, next_value.dtype)
    return tf.stop_gradient(reward + gamma * (1.0 - terminated) * next_value)


# ---------------------------------------------------------------- the model
@keras.saving.register_keras_serializable(package="keras_gen")
class DQN(keras.Model):
    """Deep Q-network: an online Q-network, its target copy, and the Huber TD update.

    Args:
        q_network: a Keras model mapping observations `[b, ...]` to Q-values
            `[b, n_actions]`. The target network is a clone with the same weights.
        gamma: discount.
        target_update_period: C, in updates: the target network copies the online one
            before every update whose index (counting from 0) is a multiple of C.
        huber_delta: delta of the Huber loss (Mnih et al.: 1).
        double_q: use the double-DQN target (van Hasselt et al. 2016); off in the paper.
        **kwargs: `keras.Model` arguments.

    `compile(optimizer=...)` (default Adam(1e-3)); then `fit`/`train_on_batch` on replay
    batches, dicts with the keys `observation, action, reward, next_observation,
    terminated`. `model(observations)` returns the online network's Q-values.

    Formula (one `train_step` on a batch of B transitions):
        y_i = r_i + gamma (1 - d_i) max_a' Q(s'_i, a'; theta^-)
        L(theta) = (1 / B) sum_i huber(y_i - Q(s_i, a_i; theta))
    """

    def __init__(self, q_network, gamma=0.99, target_update_period=1000, huber_delta=1.0, double_q=False, **kwargs):
        super().__init__(**kwargs)
        if not isinstance(q_network, keras.Model):
            raise KerasGenError("q_network must be a keras.Model mapping observations to Q-values")
        if not 0.0 <= float(gamma) <= 1.0:
            raise KerasGenError(f"gamma must be in [0, 1], got {gamma}")
        if int(target_update_period) < 1:
            raise KerasGenError(f"target_update_period must be >= 1, got {target_update_period}")
        if not float(huber_delta) > 0:
            raise KerasGenError(f"huber_delta must be > 0, got {huber_delta}")
        # === Layers ===
        self.q_network = q_network
        self.target_network = keras.models.clone_model(q_network)
        self.target_network.trainable = False
        self.target_network.set_weights(q_network.get_weights())
        # === Config ===
        self.gamma = float(gamma)
        self.target_update_period = int(target_update_period)
        self.huber_delta = float(huber_delta)
        self.double_q = bool(double_q)
        self.loss_tracker = keras.metrics.Mean(name="loss")
        self.q_tracker = keras.metrics.Mean(name="q")
        self.built = True

    @property
    def n_actions(self):
        return int(self.q_network.output_shape[-1])

    # === Keras plumbing ===
    def call(self, observations, training=False):
        """Q(s, .; theta) of the online network, `[b, n_actions]`."""
        return self.q_network(observations, training=training)

    @property
    def metrics(self):
        return [self.loss_tracker, self.q_tracker]

    def compile(self, optimizer=None, **kwargs):
        """Sets the optimizer (default Adam(1e-3)) and builds it against the online weights."""
        if kwargs.get("loss") is not None:
            raise KerasGenError("DQN's loss is the Huber TD loss; pass huber_delta= to the model, not loss=")
        kwargs.pop("loss", None)
        optimizer = keras.optimizers.get(optimizer) if optimizer is not None else keras.optimizers.Adam(1e-3)
        super().compile(optimizer=optimizer, **kwargs)
        with self.distribute_strategy.scope():
            self.optimizer.build(self.q_network.trainable_variables)

    def get_compile_config(self):
        if self.optimizer is None:
            return {}
        return {"optimizer": keras.saving.serialize_keras_object(self.optimizer), "jit_compile": bool(self.jit_compile)}

    def compile_from_config(self, config):
        if config:
            self.compile(optimizer=keras.saving.deserialize_keras_object(config["optimizer"]),
                         jit_compile=config.get("jit_compile", False))

    def get_config(self):
        config = super().get_config()
        config.update(
            q_network=keras.saving.serialize_keras_object(self.q_network),
            gamma=self.gamma,
            target_update_period=self.target_update_period,
            huber_delta=self.huber_delta,
            double_q=self.double_q,
        )
        return config

    @classmethod
    def from_config(cls, config):
        config = copy.deepcopy(config)  # deserialising consumes the nested config
        config["q_network"] = keras.saving.deserialize_keras_object(config["q_network"])
        return cls(**config)

    # === Target network ===
    def sync_target(self):
        """theta^- <- theta (eagerly, outside training)."""
        for target, online in zip(self.target_network.weights, self.q_network.weights):
            target.assign(online)

    def _sync_target_every_period(self):
        # Branch-free (XLA-friendly): every target weight takes the online value when the
        # update index is a multiple of C and keeps its own otherwise.
        due = tf.equal(tf.math.floormod(self.optimizer.iterations, self.target_update_period), 0)
        for target, online in zip(self.target_network.weights, self.q_network.weights):
            target.assign(tf.where(due, online, target))

    # === Training ===
    def unpack(self, data):
        """The transition dict from a `fit` element (`x` or `(x,)`)."""
        if isinstance(data, (tuple, list)):
            data = data[0]
        missing = [k for k in TRANSITION_KEYS if k not in data]
        if missing:
            raise KerasGenError(f"a DQN batch is a dict with {', '.join(TRANSITION_KEYS)}; "
                                f"missing {', '.join(missing)}")
        return data

    def train_step(self, data):
        batch = self.unpack(data)
        self._sync_target_every_period()
        next_q_target = self.target_network(batch["next_observation"], training=False)
        next_q_online = self.q_network(batch["next_observation"], training=False) if self.double_q else None
        y = td_targets(batch["reward"], batch["terminated"], next_q_target, self.gamma, next_q_online)
        action = tf.cast(tf.reshape(batch["action"], [-1]), tf.int32)
        with tf.GradientTape() as tape:
            q = self.q_network(batch["observation"], training=True)
            q_taken = tf.gather(q, action, axis=-1, batch_dims=1)
            per_example = huber(y - q_taken, self.huber_delta)
            loss = global_mean(per_example)
        apply_gradients(self.optimizer, loss, self.q_network.trainable_variables, tape)
        self.loss_tracker.update_state(per_example)
        self.q_tracker.update_state(q_taken)
        return {m.name: m.result() for m in self.metrics}

    def train_burst(self, batches):
        """`n` consecutive `train_step`s in one compiled call; `batches` holds `[n, B, ...]` arrays.

        The same updates as `n` calls of `train_on_batch` on `batches[i]` (tested), without
        Keras's ~1-2 ms of Python and dispatch per call, which for a 256-unit MLP on a CPU
        costs more than the update itself. The loop runs in one `tf.function` (XLA-compiled
        when the model was compiled with `jit_compile`). Returns the metrics as floats.
        """
        if self.optimizer is None:
            raise KerasGenError("compile the DQN before training it")
        if self.distribute_strategy.num_replicas_in_sync > 1:
            raise KerasGenError("train_burst runs on one device; under a distribution strategy use fit()")
        batches = self.unpack(batches)
        if getattr(self, "_burst_function", None) is None:
            self._burst_function = tf.function(self._burst, jit_compile=bool(self.jit_compile))
        logs = self._burst_function({k: tf.convert_to_tensor(batches[k]) for k in TRANSITION_KEYS})
        return {k: float(v) for k, v in logs.items()}

    def _burst(self, batches):
        n = tf.shape(batches["reward"])[0]

        def body(i):
            self.train_step({k: v[i] for k, v in batches.items()})
            return (i + 1,)

        tf.while_loop(lambda i: i < n, body, (tf.constant(0),))
        return {m.name: m.result() for m in self.metrics}

    def test_step(self, data):
        raise KerasGenError("DQN has no evaluate(); score it with keras_gen.rl.evaluate_greedy on fresh episodes")

    # === Acting and export ===
    def greedy_actions(self, observations):
        """argmax_a Q(s, a) of a batch of observations, as a NumPy int array."""
        q = self.q_network(np.asarray(observations, np.float32), training=False)
        return np.asarray(keras.ops.argmax(q, axis=-1))

    def export_endpoints(self):
        """`serving_default`: observations `[b, ...]` -> Q-values `[b, n_actions]` (the online network)."""
        spec = [tf.TensorSpec((None,) + tuple(self.q_network.input_shape[1:]), tf.float32, name="observation")]
        return [("serving_default", self.q_network, spec, "q_values")]

    def export(self, name="dqn", base_dir="saved_models", version=None, overwrite=False):
        """A TF-Serving SavedModel of the Q-network (`keras_gen.export.export_endpoints`)."""
        from keras_gen.export import export_endpoints

        return export_endpoints(name, self.export_endpoints(), base_dir=base_dir, version=version,
                                overwrite=overwrite)


# ---------------------------------------------------------------- acting
_ACTIVATIONS = {
    "linear": lambda x: x,
    "relu": lambda x: np.maximum(x, 0.0),
    "tanh": np.tanh,
}


def dense_forward_fn(q_network):
    """A NumPy copy of a network made only of Dense layers: `f(observations) -> Q-values`.

    For the acting loop, which calls the network once per environment step (a
    TensorFlow call costs ~1 ms on a CPU, this ~20 us). The weights are copied now:
    call again after training to refresh. It computes in float64, so where two Q-values
    agree to float32 rounding its argmax may differ from the float32 network's. Returns
    None for any other architecture (inputs of rank > 1, other layers or activations);
    callers then use the Keras model.
    """
    layers = [layer for layer in q_network.layers if not isinstance(layer, keras.layers.InputLayer)]
    if not layers or len(q_network.input_shape) != 2:
        return None
    params = []
    for layer in layers:
        if not isinstance(layer, keras.layers.Dense):
            return None
        activation = keras.activations.serialize(layer.activation)
        activation = activation if isinstance(activation, str) else activation.get("config", {}).get("name")
        if activation not in _ACTIVATIONS:
            return None
        weights = [w.astype(np.float64) for w in layer.get_weights()]
        params.append((weights[0], weights[1] if layer.use_bias else 0.0, _ACTIVATIONS[activation]))

    def forward(observations):
        h = np.asarray(observations, np.float64)
        for kernel, bias, activation in params:
            h = activation(h @ kernel + bias)
        return h

    return forward


def _q_function(model):
    """The fastest `observations -> Q-values` NumPy function for `model` (a DQN or a Q-network)."""
    network = model.q_network if isinstance(model, DQN) else model
    numpy_fn = dense_forward_fn(network)
    if numpy_fn is not None:
        return numpy_fn
    compiled = tf.function(lambda x: network(x, training=False), reduce_retracing=True)
    return lambda obs: compiled(tf.convert_to_tensor(np.asarray(obs, np.float32))).numpy()


def evaluate_greedy(model, make_env, episodes=100, seed=0, max_steps=None):
    """Returns of the greedy policy argmax_a Q(s, a) over fresh, seeded evaluation episodes.

    The `episodes` environments (`make_env()` each, reset with seeds `seed, seed + 1,
    ...`) are played in lock step, one batched Q evaluation per step, each until its
    first episode ends (terminated, truncated by the environment's time limit, or
    `max_steps`).

    Returns:
        The undiscounted returns, `[episodes]`.
    """
    q_fn = _q_function(model)
    envs = [make_env() for _ in range(int(episodes))]
    obs = np.stack([np.asarray(env.reset(seed=int(seed) + i)[0], np.float32) for i, env in enumerate(envs)])
    returns = np.zeros(len(envs))
    active = np.ones(len(envs), bool)
    t = 0
    while active.any() and (max_steps is None or t < max_steps):
        idx = np.flatnonzero(active)
        actions = np.argmax(q_fn(obs[idx]), axis=-1)
        for i, a in zip(idx, actions):
            o, r, terminated, truncated, _ = envs[i].step(int(a))
            returns[i] += r
            obs[i] = o
            if terminated or truncated:
                active[i] = False
        t += 1
    for env in envs:
        env.close()
    return returns


def train_dqn(model, env, total_steps, buffer=None, batch_size=64, learning_starts=1_000, train_frequency=256,
              gradient_steps=128, epsilon_initial=1.0, epsilon_final=0.04, epsilon_decay_steps=8_000, seed=0,
              on_burst=None):
    """The acting loop of Mnih et al. around `model.train_burst` (see the module docstring).

    Args:
        model: a compiled `DQN`.
        env: a gymnasium environment with a discrete action space (one, not vectorised).
        total_steps: environment steps.
        buffer: a `ReplayBuffer` (default: 100,000 transitions, seeded from `seed`).
        batch_size: transitions per update.
        learning_starts: no update before this many steps.
        train_frequency, gradient_steps: after every `train_frequency` steps (once
            `learning_starts` steps have been played), `gradient_steps` updates.
        epsilon_initial, epsilon_final, epsilon_decay_steps: `linear_epsilon`.
        seed: seeds the environment's first reset, its action space and the agent's
            exploration.
        on_burst: optional `on_burst(step, history)` called after every training burst
            (e.g. to log or to evaluate on separate episodes).

    Returns:
        History dict: `episode_returns` and `episode_end_steps` (training episodes, with
        exploration), `loss` and `q` (mean over each burst) with `burst_steps`.
    """
    if not isinstance(model, DQN) or model.optimizer is None:
        raise KerasGenError("train_dqn needs a compiled keras_gen.rl.DQN")
    if not hasattr(env.action_space, "n"):
        raise KerasGenError(f"DQN needs a discrete action space, got {env.action_space}")
    if env.action_space.n != model.n_actions:
        raise KerasGenError(f"the environment has {env.action_space.n} actions, the Q-network "
                            f"{model.n_actions} outputs")
    rng = np.random.default_rng([int(seed), 1])
    if buffer is None:
        buffer = ReplayBuffer(100_000, env.observation_space.shape, seed=[int(seed), 2])
    q_fn = _q_function(model)
    history = {"episode_returns": [], "episode_end_steps": [], "loss": [], "q": [], "burst_steps": []}
    obs, _ = env.reset(seed=int(seed))
    episode_return = 0.0
    for step in range(1, int(total_steps) + 1):
        epsilon = linear_epsilon(step - 1, epsilon_initial, epsilon_final, epsilon_decay_steps)
        if rng.random() < epsilon:
            action = int(rng.integers(model.n_actions))
        else:
            action = int(np.argmax(q_fn(np.asarray(obs, np.float32)[None])[0]))
        next_obs, reward, terminated, truncated, _ = env.step(action)
        buffer.add(obs, action, reward, next_obs, terminated)  # truncation is not terminal
        episode_return += reward
        obs = next_obs
        if terminated or truncated:
            history["episode_returns"].append(episode_return)
            history["episode_end_steps"].append(step)
            episode_return = 0.0
            obs, _ = env.reset()
        if step % train_frequency == 0 and step >= learning_starts:
            model.reset_metrics()
            # All the burst's batches drawn at once: the memory does not change during it.
            sample = buffer.sample(int(gradient_steps) * int(batch_size))
            logs = model.train_burst({k: v.reshape((int(gradient_steps), int(batch_size)) + v.shape[1:])
                                      for k, v in sample.items()})
            history["loss"].append(float(logs["loss"]))
            history["q"].append(float(logs["q"]))
            history["burst_steps"].append(step)
            q_fn = _q_function(model)  # act with the new weights
            if on_burst is not None:
                on_burst(step, history)
    return history
