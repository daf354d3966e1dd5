"""T7: how far back the gradient reaches in a plain RNN, the notes' LSTM and the notes' GRU.

Notes 001: training a recurrent network computes dL/dh_n first, then dL/dh_{n-1}, ...
(backpropagation through time); long-term dependencies suffer from vanishing (and
exploding) gradients; the LSTM's and GRU's gates are the remedy. Here the task is to
name, after T steps, the class shown at step 0 (`keras_gen.data.recall`: one-hot class
plus a marker at step 0, Gaussian noise of standard deviation `noise` in the same input
units at every later step), read from the last hidden state by a Dense layer.

Two measurements, for `keras.layers.SimpleRNNCell` (tanh, Keras's defaults: orthogonal
recurrent weights), `LSTMCell` (forget-gate bias 1) and `GRUCell`, each with `units`
units, on every report seed:

1. Gradient reach at initialisation (`keras_gen.layers.gradient_norms_over_time`):
   the mean norm of dL/ds_t (s_t the whole state, (h_t, c_t) for the LSTM) of the
   cross-entropy at step T - 1, at every distance d = T - 1 - t, on 256 sequences of
   length `length`, with noisy inputs (`noise`) and with silent ones (noise 0).
   `reach_<model>` is log10 of norm(d = T - 1) / norm(d = 0): -6 means a millionth of
   the gradient gets back to the class.
2. Learning: each model trained with Adam (gradient norm clipped to 1, Pascanu et al.
   2013) on `train_size` sequences of length `train_length` for `steps` updates; test
   accuracy on 1,000 new sequences (chance: 1 / num_classes).

Claims (T7), mean over the report seeds:
* the plain RNN's gradient vanishes on noisy inputs: reach <= -6 at distance 99
  (baseline: the same RNN on silent inputs);
* the LSTM's cell state carries >= 100x more of it back: reach(LSTM) - reach(RNN) >= 2;
* gates: the LSTM's reach is set by its forget gate, not by its inputs: silence
  instead of noise changes it by <= 1 (the plain RNN's by about 10);
* the LSTM learns the task at `train_length` = 30 (test accuracy >= 0.9).

On the selection seeds 0, 1 (defaults): reach RNN -10.6 noisy / -0.6 silent, LSTM
-7.9 / -7.3, GRU <= -30 (below float32's range: z = 0.5 per step at initialisation);
test accuracy after 2,000 updates at T = 30: RNN 0.999 and 0.246, LSTM 0.229 and
0.662, GRU 0.261 and 0.731 (chance 0.25). The learning claim was kept although it
failed there: it is the notes' statement, and this budget does not support it.
186 CPU-seconds for the two seeds.

Measured with the defaults (report seeds 10, 11, 12; `keras-gen reproduce
long-term-dependencies`; 297 CPU-seconds, 53 min wall on a 2-core machine shared with
other jobs at load average ~20):
* reach, noisy inputs: RNN -10.83, -10.45, -10.83 (mean -10.70 +- 0.22); LSTM -8.72,
  -7.85, -8.76 (-8.44); GRU -19.3, -30.0, -30.1 (float32 underflow);
  silent inputs: RNN -0.59, -0.63, -0.60; LSTM -7.99, -7.41, -8.23.
* claims: RNN reach <= -6 met (-10.70); LSTM - RNN >= 2 met (2.26 +- 0.29); LSTM's
  silent-vs-noisy shift <= 1 met (0.57 +- 0.15, the RNN's 10.09); LSTM test accuracy
  >= 0.9 MISSED: 0.257, 0.533, 0.488 (0.426 +- 0.148), while the plain RNN reached
  0.252, 1.000, 1.000 and the GRU 1.000, 1.000, 0.241 (chance 0.25). At T = 30 the
  RNN's vanishing gradient (-10.7 is measured at d = 99) did not stop it on 2 of 3
  seeds; the gradient-reach claims hold, the learning claim does not at this budget.

What was tried before (selection seed 0; 1,000-1,500 updates, Adam 3e-3, 32 units):
* Distractors as 4 extra one-hot tokens through a learned embedding (noise-free
  inputs): the plain RNN recalled the first token perfectly at T = 50 and T = 100
  after 300 updates, and its gradient at distance 99 was 0.25x the one at distance 0
  at initialisation (orthogonal recurrent weights keep it); the LSTM needed 600
  updates at T = 50 (its gradient at distance 49 was 1e-4x: f = sigma(1) = 0.73 per
  step), the GRU did not learn T = 50 (z = 0.5 per step: 1e-10x). On such inputs a
  plain RNN with Keras's defaults does not lose the dependency.
* Gaussian noise distractors (this task), T = 20: noise 0.5: all three learned (the
  RNN first); noise 1: the RNN reached 52% (its gradient at distance 19 had fallen to
  6e-8x after training), the GRU 100%, the LSTM 54% with Adam 3e-3 unclipped
  (unstable: its training accuracy went up and down), T = 50, noise 1, 1,000
  updates: none learned.
"""
import dataclasses
import time

import numpy as np

from reproductions import common

NAME = "long-term-dependencies"
MODELS = ("rnn", "lstm", "gru")


@dataclasses.dataclass
class HParams(common.CommonHParams):
    models: str = common.field("rnn,lstm,gru", "comma-separated subset of rnn, lstm, gru", choices=MODELS, multi=True)
    length: int = common.field(100, "sequence length T of the gradient measurement", low=2)
    noise: float = common.field(1.0, "standard deviation of the distractor inputs")
    num_classes: int = common.field(4, "classes of the first input", low=2)
    units: int = common.field(32, "state size of every cell")
    gradient_batch: int = common.field(256, "sequences averaged in the gradient measurement")
    train_length: int = common.field(30, "sequence length of the learning experiment", low=2)
    train_size: int = common.field(8192, "training sequences")
    steps: int = common.field(2000, "Adam updates per model and seed")
    batch_size: int = common.field(64, "batch size")
    learning_rate: float = common.field(3e-3, "Adam's learning rate (gradient norm clipped to 1)")


def make_cell(kind, units, seed):
    import keras

    from keras_gen.layers import GRUCell, LSTMCell

    common.seed_everything(seed)
    if kind == "rnn":
        return keras.layers.SimpleRNNCell(units, name="rnn_cell")
    if kind == "lstm":
        return LSTMCell(units, name="lstm_cell")
    if kind == "gru":
        return GRUCell(units, name="gru_cell")
    from keras_gen.errors import unknown_name

    raise unknown_name("model", kind, MODELS)


def build(kind, hp, seed, length):
    """`(model, cell, head)`: x [b, length, classes + 1] -> RNN(cell) -> Dense(classes) logits."""
    import keras

    cell = make_cell(kind, hp.units, seed)
    head = keras.layers.Dense(hp.num_classes, name="head")
    inputs = keras.Input((length, hp.num_classes + 1))
    model = keras.Model(inputs, head(keras.layers.RNN(cell, name="rnn")(inputs)), name=kind)
    return model, cell, head


def reach(norms):
    """log10 of the gradient norm at the largest distance over the one at distance 0."""
    return float(np.log10(max(norms[0], 1e-30) / norms[-1]))


def measure_at_init(hp, kind, seed, noise):
    from keras_gen.data.recall import first_token_recall
    from keras_gen.layers import gradient_norms_over_time

    _, cell, head = build(kind, hp, seed, hp.length)
    x, y = first_token_recall(hp.gradient_batch, hp.length, hp.num_classes, noise, seed=10_000 + seed)
    norms = gradient_norms_over_time(cell, head, x, y)
    return {"state": norms["state"].tolist(), "input": norms["input"].tolist(), "reach": reach(norms["state"])}


def train_and_score(r, kind, seed):
    import keras
    import tensorflow as tf

    from keras_gen.data.recall import first_token_recall

    hp = r.hp
    started = time.time()
    x, y = first_token_recall(hp.train_size, hp.train_length, hp.num_classes, hp.noise, seed=20_000 + seed)
    xt, yt = first_token_recall(1000, hp.train_length, hp.num_classes, hp.noise, seed=30_000 + seed)
    with r.strategy.scope():
        model, _, _ = build(kind, hp, seed, hp.train_length)
        model.compile(optimizer=keras.optimizers.Adam(hp.learning_rate, clipnorm=1.0),
                      loss=keras.losses.SparseCategoricalCrossentropy(from_logits=True), metrics=["accuracy"])
    from keras_gen.data import steady_prefetch

    ds = (tf.data.Dataset.from_tensor_slices((x, y)).shuffle(len(x), seed=seed).repeat()
          .batch(hp.batch_size).apply(steady_prefetch))
    epochs = 5 if hp.steps >= 5 else 1
    history = r.fit(model, ds, key=f"{kind}_seed_{seed}", epochs=epochs, steps_per_epoch=max(hp.steps // epochs, 1))
    accuracy = float(model.evaluate(xt, yt, verbose=0, batch_size=500)[1])
    return {"test_accuracy": accuracy, "train_accuracy_by_epoch": [float(a) for a in history["accuracy"]],
            "seconds": round(time.time() - started, 1)}


def plot(measured, path, length):
    from keras_gen import plots

    colors = {"rnn": "tab:gray", "lstm": "tab:blue", "gru": "tab:green"}
    conditions = list(next(iter(measured.values())))
    fig, axes = plots.plt.subplots(1, len(conditions), figsize=(4.2 * len(conditions), 3.3), squeeze=False,
                                   sharey=True)
    for ax, condition in zip(axes[0], conditions):
        for kind, per in measured.items():
            curves = np.array([np.log10(np.maximum(run["state"], 1e-30)) for run in per[condition].values()])
            d = np.arange(length)[::-1]   # index t is distance T - 1 - t
            ax.plot(d, curves.mean(0), color=colors[kind], label=kind)
            ax.fill_between(d, curves.min(0), curves.max(0), color=colors[kind], alpha=0.2)
        title = "silent inputs after step 0" if condition == "noise_0" else f"inputs: N(0, {condition[6:]}^2) noise"
        ax.set_title(title, fontsize=9)
        ax.set_xlabel("distance d from the loss (steps)")
    # float32 underflows near 1e-30 (the GRU's curve ends there).
    axes[0][0].set_ylabel("log10 mean ||dL / ds_(T-1-d)|| (initialisation)")
    axes[0][0].legend(fontsize=8)
    return plots.save(fig, path, dpi=90)


def run(hp):
    r = common.Run(NAME, hp)
    kinds = common.parse_choice_list(hp.models, "models", MODELS, "model")
    conditions = {f"noise_{hp.noise:g}": hp.noise, "noise_0": 0.0} if hp.noise > 0 else {"noise_0": 0.0}
    measured = {kind: {c: {} for c in conditions} for kind in kinds}
    learned = {kind: {} for kind in kinds}
    for kind in kinds:
        for seed in r.seeds:
            for c, noise in conditions.items():
                measured[kind][c][seed] = r.cached(f"gradient_{kind}_{c}_seed_{seed}",
                                                   lambda: measure_at_init(hp, kind, seed, noise))
            learned[kind][seed] = r.cached(f"{kind}_seed_{seed}", lambda: train_and_score(r, kind, seed))
            print(f"{kind} seed {seed}: reach {measured[kind][next(iter(conditions))][seed]['reach']:.2f}, "
                  f"test accuracy {learned[kind][seed]['test_accuracy']:.3f}")

    noisy = next(iter(conditions))
    metrics = {"models": kinds, "chance_accuracy": 1.0 / hp.num_classes, "conditions": list(conditions)}
    for kind in kinds:
        for c in conditions:
            metrics[f"reach_{kind}_{c}"] = {s: v["reach"] for s, v in measured[kind][c].items()}
        metrics[f"{kind}_test_accuracy"] = {s: v["test_accuracy"] for s, v in learned[kind].items()}
        metrics[f"{kind}_gradient_norms"] = measured[kind]
        metrics[f"{kind}_training"] = learned[kind]

    claims = []
    distance = hp.length - 1
    if "rnn" in kinds:
        claims.append(common.claim(
            "T7", f"On noisy inputs a plain RNN's gradient vanishes: at distance {distance} less than a millionth of "
                  "it is left (log10 ratio <= -6), at initialisation",
            f"reach_rnn_{noisy}", metrics[f"reach_rnn_{noisy}"], target=-6.0, op="<=",
            baselines={"rnn_noise_free_inputs": common.mean_sd(metrics["reach_rnn_noise_0"])}))
    if "rnn" in kinds and "lstm" in kinds:
        gap = {s: metrics[f"reach_lstm_{noisy}"][s] - metrics[f"reach_rnn_{noisy}"][s] for s in r.seeds}
        claims.append(common.claim(
            "T7", f"The LSTM's cell state carries >= 100x more of the gradient back to distance {distance} than the "
                  "plain RNN's state (noisy inputs, initialisation)",
            "reach_lstm_minus_reach_rnn", gap, target=2.0, op=">=",
            baselines={"gru_minus_rnn": common.mean_sd(
                {s: metrics[f"reach_gru_{noisy}"][s] - metrics[f"reach_rnn_{noisy}"][s] for s in r.seeds})}
            if "gru" in kinds else None))
    if "lstm" in kinds and "noise_0" in conditions and len(conditions) == 2:
        shift = {s: metrics["reach_lstm_noise_0"][s] - metrics[f"reach_lstm_{noisy}"][s] for s in r.seeds}
        claims.append(common.claim(
            "T7", "Gates: the LSTM's gradient reach is set by its forget gate, not by its inputs: replacing the noise "
                  "by silence changes it by at most one order of magnitude",
            "reach_lstm_noise_0_minus_noisy", {s: abs(v) for s, v in shift.items()}, target=1.0, op="<=",
            baselines={"rnn": common.mean_sd({s: abs(metrics["reach_rnn_noise_0"][s] - metrics[f"reach_rnn_{noisy}"][s])
                                              for s in r.seeds})} if "rnn" in kinds else None))
    if "lstm" in kinds:
        claims.append(common.claim(
            "T7", f"An LSTM learns to name the first input after {hp.train_length} noisy steps (test accuracy >= 0.9)",
            "lstm_test_accuracy", metrics["lstm_test_accuracy"], target=0.9, op=">=",
            baselines={"chance": 1.0 / hp.num_classes,
                       **{f"{k}_test_accuracy": common.mean_sd(metrics[f"{k}_test_accuracy"])
                          for k in kinds if k != "lstm"}}))
    plot(measured, r.path("gradient_reach.png"), hp.length)
    headline = [f"reach_{k}_{c}" for k in kinds for c in conditions]
    for k in kinds:
        metrics[f"{k}_mean_test_accuracy"] = float(np.mean(list(metrics[f"{k}_test_accuracy"].values())))
        for c in conditions:
            metrics[f"mean_reach_{k}_{c}"] = float(np.mean(list(metrics[f"reach_{k}_{c}"].values())))
    return r.finish(metrics, claims, headline=[f"mean_{h}" for h in headline] +
                    [f"{k}_mean_test_accuracy" for k in kinds])
