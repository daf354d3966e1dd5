"""S17: the Bernoulli restricted Boltzmann machine, trained by contrastive divergence.

Model (notes 001; Hinton 2002, "Training products of experts by minimizing contrastive
divergence"; Hinton 2010, "A practical guide to training RBMs"):

    E(v, h) = -sum_ij v_i W_ij h_j - sum_i b_i v_i - sum_j c_j h_j,   v, h binary
    p(v, h) = exp(-E(v, h)) / Z
    p(h_j = 1 | v) = sigmoid(c_j + sum_i v_i W_ij)
    p(v_i = 1 | h) = sigmoid(b_i + sum_j W_ij h_j)
    F(v) = -sum_i b_i v_i - sum_j softplus(c_j + sum_i v_i W_ij)    (free energy)
    p(v) = exp(-F(v)) / Z

Log-likelihood gradient:  d log p(v) / d W_ij = <v_i h_j>_data - <v_i h_j>_model.

`train_step` estimates the model term with Gibbs chains (v -> h -> v ...):
- CD-k (`persistent=False`): chains start at the batch and run k steps;
- PCD-k (`persistent=True`; Tieleman 2008): `n_chains` chains persist across updates.
As in Hinton's guide, the statistics use p(h | v) rather than sampled h (less noise,
same expectation), and the chain's final visible state is the sampled one. The
optimizer *minimises*, so it is handed minus the CD estimate:

    grad_W = -( <v p(h|v)>_data - <v p(h|v)>_chains ),  likewise for b and c.

Distribution: the data statistics are sums over the replica's rows divided by the
*global* batch, and the Gibbs noise is stateless, drawn for the global batch from
(`seed`, step, Gibbs step) with each replica keeping its rows, so N replicas at global
batch B make the update of one replica at batch B (CD-k; persistent chains are a
single set of chains, so PCD runs on one replica only).
"""
import itertools

import keras
import numpy as np
import tensorflow as tf

from keras_gen.errors import KerasGenError
from keras_gen.training.strategy import replica_rows


def _replica_slice_uniform(local_shape, seed):
    """Uniform [0, 1) noise of `local_shape` for this replica's rows of the global batch."""
    local_shape = tf.convert_to_tensor(local_shape, tf.int32)
    return replica_rows(
        lambda b: tf.random.stateless_uniform(tf.concat([[b], local_shape[1:]], axis=0), seed=seed), local_shape[0]
    )


@keras.saving.register_keras_serializable(package="keras_gen")
class RBM(keras.Model):
    """Bernoulli-Bernoulli RBM with CD-k / PCD-k in `train_step`.

    Args:
        n_visible: number of visible units (inputs are flattened to this size).
        n_hidden: number of hidden units.
        k: Gibbs steps per update (CD-k / PCD-k).
        persistent: persistent chains (PCD) instead of chains restarted at the data.
        n_chains: number of persistent chains (PCD only).
        init_std: standard deviation of the initial weights (biases start at 0).
        seed: seed of the initial weights and of the stateless Gibbs noise.
        **kwargs: `keras.Model` arguments.

    `compile(optimizer=...)` (default SGD(0.05, momentum=0.5)), then `fit` on binary
    (or [0, 1]) data `v` `[b, ...]`. Metrics: `reconstruction_error` (mean squared error
    of the one-step mean reconstruction p(v | h ~ p(h | v))) and `free_energy_gap`
    (mean F(data) - mean F(chains)).
    """

    def __init__(self, n_visible, n_hidden, k=1, persistent=False, n_chains=100, init_std=0.01, seed=0, **kwargs):
        # Float32 under any global policy: the Gibbs sampling and CD statistics are
        # hand-written matrix products on float32 weights, with nothing to gain from a
        # low-precision copy (mixed precision leaves the RBM alone).
        kwargs.setdefault("dtype", "float32")
        super().__init__(**kwargs)
        for name, value in (("n_visible", n_visible), ("n_hidden", n_hidden), ("k", k), ("n_chains", n_chains)):
            if int(value) != value or int(value) < 1:
                raise KerasGenError(f"{name} must be a positive integer, got {value!r}")
        # === Config ===
        self.n_visible = int(n_visible)
        self.n_hidden = int(n_hidden)
        self.k = int(k)
        self.persistent = bool(persistent)
        self.n_chains = int(n_chains)
        self.init_std = float(init_std)
        self.seed = int(seed)
        # === Weights ===
        self.W = self.add_weight(
            shape=(self.n_visible, self.n_hidden), name="W",
            initializer=keras.initializers.RandomNormal(stddev=self.init_std, seed=self.seed),
        )
        self.b = self.add_weight(shape=(self.n_visible,), name="visible_bias", initializer="zeros")
        self.c = self.add_weight(shape=(self.n_hidden,), name="hidden_bias", initializer="zeros")
        self.chains = None
        if self.persistent:
            # PCD chains start at p(v) = 1/2 per pixel, sampled with a fixed seed.
            start = (np.random.default_rng(self.seed).random((self.n_chains, self.n_visible)) < 0.5)
            self.chains = self.add_weight(
                shape=(self.n_chains, self.n_visible), name="persistent_chains", trainable=False,
                initializer=keras.initializers.Constant(start.astype("float32")),
            )
        self.reconstruction_tracker = keras.metrics.Mean(name="reconstruction_error")
        self.gap_tracker = keras.metrics.Mean(name="free_energy_gap")
        self.built = True

    # === The model's maths ===
    def _flat(self, v):
        v = tf.convert_to_tensor(v)
        v = tf.reshape(tf.cast(v, self.W.dtype), [-1, self.n_visible])
        return v

    def hidden_probs(self, v):
        """p(h = 1 | v), `[b, n_hidden]`."""
        return tf.sigmoid(tf.matmul(self._flat(v), self.W) + self.c)

    def visible_probs(self, h):
        """p(v = 1 | h), `[b, n_visible]`."""
        return tf.sigmoid(tf.matmul(h, self.W, transpose_b=True) + self.b)

    def free_energy(self, v):
        """F(v) = -b.v - sum_j softplus(c_j + (v W)_j), `[b]`; p(v) = exp(-F(v)) / Z."""
        v = self._flat(v)
        return -tf.linalg.matvec(v, self.b) - tf.reduce_sum(tf.nn.softplus(tf.matmul(v, self.W) + self.c), axis=1)

    def energy(self, v, h):
        """E(v, h) per example, `[b]`."""
        v = self._flat(v)
        return -tf.reduce_sum(tf.matmul(v, self.W) * h, 1) - tf.linalg.matvec(v, self.b) - tf.linalg.matvec(h, self.c)

    def gibbs(self, v, steps, seed, return_hidden_probs=False):
        """`steps` Gibbs sweeps v -> h -> v from `v` with stateless noise from `seed` [2].

        Returns the sampled visible state (and p(h | v) of it when asked).
        """
        v = self._flat(v)
        shape_h = tf.stack([tf.shape(v)[0], self.n_hidden])
        shape_v = tf.shape(v)
        for t in range(int(steps)):
            s = tf.random.experimental.stateless_fold_in(seed, t)
            uh = _replica_slice_uniform(shape_h, tf.random.experimental.stateless_fold_in(s, 0))
            uv = _replica_slice_uniform(shape_v, tf.random.experimental.stateless_fold_in(s, 1))
            h = tf.cast(uh < self.hidden_probs(v), v.dtype)
            v = tf.cast(uv < self.visible_probs(h), v.dtype)
        if return_hidden_probs:
            return v, self.hidden_probs(v)
        return v

    def cd_gradients(self, v_data, v_model, global_batch=None, n_model=None):
        """The CD estimate of d mean log p(v) / d (W, b, c): data minus chain statistics.

        `<v p(h|v)>` averaged over `v_data` (divided by `global_batch`, default its
        length) minus the same over `v_model` (divided by `n_model`).
        """
        v_data, v_model = self._flat(v_data), self._flat(v_model)
        nd = tf.cast(tf.shape(v_data)[0] if global_batch is None else global_batch, v_data.dtype)
        nm = tf.cast(tf.shape(v_model)[0] if n_model is None else n_model, v_data.dtype)
        hd, hm = self.hidden_probs(v_data), self.hidden_probs(v_model)
        dW = tf.matmul(v_data, hd, transpose_a=True) / nd - tf.matmul(v_model, hm, transpose_a=True) / nm
        db = tf.reduce_sum(v_data, 0) / nd - tf.reduce_sum(v_model, 0) / nm
        dc = tf.reduce_sum(hd, 0) / nd - tf.reduce_sum(hm, 0) / nm
        return dW, db, dc

    # === Keras plumbing ===
    def call(self, v, training=False):
        """Mean reconstruction p(v | h = p(h | v)) (deterministic)."""
        return self.visible_probs(self.hidden_probs(v))

    @property
    def metrics(self):
        return [self.reconstruction_tracker, self.gap_tracker]

    def compile(self, optimizer=None, **kwargs):
        """Compiles; builds the optimizer's slots now (inside the caller's strategy scope)."""
        if kwargs.get("loss") is not None:
            raise KerasGenError("RBM trains by contrastive divergence; do not pass loss=")
        kwargs.pop("loss", None)
        optimizer = keras.optimizers.SGD(0.05, momentum=0.5) if optimizer is None else optimizer
        super().compile(optimizer=optimizer, **kwargs)
        with self.distribute_strategy.scope():
            self.optimizer.build([self.W, self.b, self.c])

    def get_compile_config(self):
        if not self.compiled:
            return None
        return {"optimizer": keras.saving.serialize_keras_object(self.optimizer)}

    def compile_from_config(self, config):
        if config:
            self.compile(optimizer=keras.saving.deserialize_keras_object(config["optimizer"]))

    def train_step(self, data):
        v0 = self._flat(data[0] if isinstance(data, (tuple, list)) else data)
        ctx = tf.distribute.get_replica_context()
        replicas = ctx.num_replicas_in_sync if ctx is not None else 1
        if self.persistent and replicas > 1:
            raise KerasGenError("persistent CD keeps one set of chains: train it on one replica (CD-k distributes)")
        local = tf.shape(v0)[0]
        global_batch = local * replicas
        seed = tf.stack([tf.constant(self.seed, tf.int64), tf.cast(self.optimizer.iterations, tf.int64)])

        # Positive phase: <v h>_data with h ~ p(h | v0) via its probabilities.
        # Negative phase: k Gibbs sweeps from the data (CD) or the persistent chains (PCD).
        if self.persistent:
            v_model = self.gibbs(self.chains, self.k, seed)
            self.chains.assign(v_model)
            n_model = self.n_chains
        else:
            v_model = self.gibbs(v0, self.k, seed)
            n_model = global_batch
        dW, db, dc = self.cd_gradients(v0, v_model, global_batch, n_model)
        # The optimizer minimises: hand it minus the log-likelihood gradient estimate.
        optimizer = self.optimizer
        if isinstance(optimizer, keras.optimizers.LossScaleOptimizer):
            # CD's updates are statistics, not backpropagated gradients: nothing to unscale.
            optimizer = optimizer.inner_optimizer
        optimizer.apply([-dW, -db, -dc], [self.W, self.b, self.c])

        recon = tf.reduce_mean(tf.square(v0 - self(v0)), axis=1)
        self.reconstruction_tracker.update_state(recon)
        self.gap_tracker.update_state(tf.reduce_mean(self.free_energy(v0)) - tf.reduce_mean(self.free_energy(v_model)))
        return {m.name: m.result() for m in self.metrics}

    def test_step(self, data):
        v0 = self._flat(data[0] if isinstance(data, (tuple, list)) else data)
        self.reconstruction_tracker.update_state(tf.reduce_mean(tf.square(v0 - self(v0)), axis=1))
        return {"reconstruction_error": self.reconstruction_tracker.result()}

    # === Evaluation ===
    def pseudo_log_likelihood(self, v, batch_size=32):
        """Exact pseudo-log-likelihood sum_i log p(v_i | v_-i) per example (natural log).

        p(v_i | v_-i) = sigmoid(F(v with bit i flipped) - F(v)), summed over all bits
        (Besag 1975); `v` must be binary. Returns a NumPy array `[n]`.
        """
        v = np.asarray(v, np.float32).reshape(-1, self.n_visible)
        W, b, c = (np.asarray(keras.ops.convert_to_numpy(t), np.float64) for t in (self.W, self.b, self.c))
        out = []
        for start in range(0, len(v), batch_size):
            vb = v[start:start + batch_size].astype(np.float64)
            pre = vb @ W + c  # [n, h]
            sign = 1.0 - 2.0 * vb  # +1 where the bit turns on, -1 where it turns off
            # F(flip_i) - F(v) = -sign_i b_i - sum_j [softplus(pre_j + sign_i W_ij) - softplus(pre_j)]
            flipped = pre[:, None, :] + sign[:, :, None] * W[None, :, :]  # [n, v, h]
            delta = -sign * b - (np.logaddexp(0, flipped) - np.logaddexp(0, pre)[:, None, :]).sum(-1)
            out.append(-np.logaddexp(0, -delta).sum(1))  # log sigmoid(delta)
        return np.concatenate(out)

    def log_partition(self):
        """Exact log Z by enumerating the smaller layer (at most 20 units)."""
        W, b, c = (np.asarray(keras.ops.convert_to_numpy(t), np.float64) for t in (self.W, self.b, self.c))
        if min(self.n_visible, self.n_hidden) > 20:
            raise KerasGenError("log_partition enumerates 2^min(n_visible, n_hidden) states; too many units")
        if self.n_visible <= self.n_hidden:
            v = np.array(list(itertools.product([0.0, 1.0], repeat=self.n_visible)))
            neg_f = v @ b + np.logaddexp(0, v @ W + c).sum(1)
        else:
            h = np.array(list(itertools.product([0.0, 1.0], repeat=self.n_hidden)))
            neg_f = h @ c + np.logaddexp(0, h @ W.T + b).sum(1)
        m = neg_f.max()
        return float(m + np.log(np.exp(neg_f - m).sum()))

    def log_likelihood(self, v):
        """Exact log p(v) = -F(v) - log Z per example (small RBMs only, see `log_partition`)."""
        return -keras.ops.convert_to_numpy(self.free_energy(v)).astype(np.float64) - self.log_partition()

    def sample(self, n, steps=1000, seed=0, init=None):
        """`n` visible samples after `steps` Gibbs sweeps from `init` (default: random bits).

        Returns `(samples, means)`: the binary states and p(v | h) of the last sweep
        (the means are what figures usually show).
        """
        rng = np.random.default_rng(seed)
        v = (rng.random((int(n), self.n_visible)) < 0.5).astype("float32") if init is None else init
        v = self.gibbs(v, max(int(steps) - 1, 0), tf.constant([int(seed), 7], tf.int64))
        h = tf.cast(tf.random.stateless_uniform([int(n), self.n_hidden], seed=[int(seed), 8]) < self.hidden_probs(v),
                    v.dtype)
        means = self.visible_probs(h)
        samples = tf.cast(tf.random.stateless_uniform(tf.shape(means), seed=[int(seed), 9]) < means, means.dtype)
        return samples.numpy(), means.numpy()

    def export(self, name="rbm", base_dir="saved_models", version=None, overwrite=False):
        """SavedModel with signatures `hidden_probs` (v -> p(h|v)), `visible_probs`
        (h -> p(v|h)), `free_energy` (v -> F(v)) and `reconstruct` (v -> mean reconstruction)."""
        from keras_gen.models.vae import export_functions

        v_spec = tf.TensorSpec((None, self.n_visible), tf.float32, name="v")
        h_spec = tf.TensorSpec((None, self.n_hidden), tf.float32, name="h")
        return export_functions(
            name,
            [
                ("hidden_probs", lambda v: {"p_h": self.hidden_probs(v)}, [v_spec]),
                ("visible_probs", lambda h: {"p_v": self.visible_probs(h)}, [h_spec]),
                ("free_energy", lambda v: {"free_energy": self.free_energy(v)}, [v_spec]),
                ("reconstruct", lambda v: {"v_mean": self(v)}, [v_spec]),
            ],
            track=[self], base_dir=base_dir, version=version, overwrite=overwrite,
        )

    # === Config ===
    def get_config(self):
        config = super().get_config()
        config.update(
            n_visible=self.n_visible, n_hidden=self.n_hidden, k=self.k, persistent=self.persistent,
            n_chains=self.n_chains, init_std=self.init_std, seed=self.seed,
        )
        return config
