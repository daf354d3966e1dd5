"""Train-step throughput of the GAN core (and the S1 autoencoder) against this machine's peak.

For each model's `fit` train step: examples/s and achieved GFLOP/s, beside the float32
matmul and conv2d peaks measured in the same run. The machine's speed drifts 2-3x within
minutes, so every round measures the peaks and every model once, alternating, and the
medians over `--rounds` are printed, with each model's GFLOP/s as a share of the conv2d
peak of its own round.

FLOPs are counted per layer by `keras_gen.analysis.count_macs` (the formulas of notes
001, walked over each network's layer graph; one multiply-accumulate = 2 FLOPs, as in the
matmul peak's 2 n^3):

    Conv2D            c_in c_out k_w k_h / g per output position  (= c_in c_out l_w l_h k_w k_h / (s_w s_h g), 'same')
    Conv2DTranspose   c_in c_out l_w l_h k_w k_h                 (l = input size)
    Dense             c_in c_out
    (normalisation and activations are element-wise and left out)

and per train step from the forward cost F of each network, with a backward pass
costing 2F (gradient for the inputs and for the weights):

    GAN     D step: G forward, D forward + backward on real and fake  -> F_G + 6 F_D
            G step: G forward + backward, D forward + input gradient    -> 3 F_G + 2 F_D
    WGAN    n_critic D steps and one G step as above (clipping is element-wise)
    WGAN-GP each critic step adds the penalty: D forward and input gradient on x_hat,
            and their backward (double backprop, ~2x)                   -> + 6 F_D
    AE      forward + backward                                          -> 3 F

What makes the steps fast without changing their results: XLA (`jit_compile=True`),
`steps_per_execution` (several steps per compiled call), and an in-memory repeated
`tf.data` pipeline of one cached batch, which is never the bottleneck.

    PYTHONPATH=. python benchmarks/train_throughput.py [--rounds 3] [--seconds 4] [--models dcgan28,...]

Each round compiles and times every model (about 8 minutes per round for all six on 2
busy cores; dcgan32 is the slowest); use --models to time a subset.
"""
import argparse
import time

import numpy as np

MODELS = ("dcgan28", "dcgan28_repro", "dcgan32", "wgan_gp_ring", "wgan_piano_roll", "autoencoder")


# ---------------------------------------------------------------- FLOP counting
def forward_macs(model):
    """Multiply-accumulates of one example's forward pass through `model` (notes 001)."""
    from keras_gen.analysis import count_macs

    return count_macs(model)


def step_flops(kind, g=None, d=None, ae=None, n_critic=1, penalty=False):
    """FLOPs of one train step per example (see the module docstring)."""
    if kind == "ae":
        return 2 * 3 * forward_macs(ae)
    fg, fd = forward_macs(g), forward_macs(d)
    d_step = fg + 6 * fd + (6 * fd if penalty else 0)
    g_step = 3 * fg + 2 * fd
    return 2 * (n_critic * d_step + g_step)


# ---------------------------------------------------------------- peaks
def _time_fn(fn, seconds):
    fn().numpy()  # trace + compile
    n, start = 0, time.perf_counter()
    while n < 3 or time.perf_counter() - start < seconds:
        fn().numpy()
        n += 1
    return (time.perf_counter() - start) / n


def matmul_peak(seconds, n=1024):
    import tensorflow as tf

    a = tf.random.normal([n, n])
    b = tf.random.normal([n, n])
    f = tf.function(lambda: tf.reduce_sum(tf.matmul(a, b)), jit_compile=True)
    return 2 * n**3 / _time_fn(f, seconds) / 1e9


def conv2d_peak(seconds, batch=64, size=14, c=128, k=5):
    import tensorflow as tf

    x = tf.random.normal([batch, size, size, c])
    w = tf.random.normal([k, k, c, c])
    f = tf.function(lambda: tf.reduce_sum(tf.nn.conv2d(x, w, 1, "SAME")), jit_compile=True)
    return 2 * batch * size * size * c * c * k * k / _time_fn(f, seconds) / 1e9


# ---------------------------------------------------------------- models
def build(name, batch):
    """(compiled model, one batch of data, FLOPs per example per step)."""
    import keras

    from keras_gen.models import (GAN, WGAN, WGANGP, dcgan_discriminator, dcgan_generator, group_meeting_autoencoder,
                                  mlp_discriminator, mlp_generator, piano_roll_critic, piano_roll_generator)

    rng = np.random.RandomState(0)
    if name in ("dcgan28", "dcgan28_repro", "dcgan32"):
        # The library's default width 64; dcgan28_repro is the dcgan-mnist reproduction's (G 64, D 32).
        shape = (32, 32, 3) if name == "dcgan32" else (28, 28, 1)
        d_width = 32 if name == "dcgan28_repro" else 64
        g, d = dcgan_generator(shape, width=64), dcgan_discriminator(shape, width=d_width)
        model = GAN(generator=g, discriminator=d)
        x = rng.uniform(-1, 1, (batch,) + shape).astype("float32")
        flops = step_flops("gan", g, d)
    elif name == "wgan_gp_ring":
        g, d = mlp_generator(2, 8, (128,) * 3), mlp_discriminator(2, (128,) * 3)
        model = WGANGP(generator=g, discriminator=d)
        x = rng.normal(size=(batch, 2)).astype("float32")
        flops = step_flops("gan", g, d, n_critic=5, penalty=True)
    elif name == "wgan_piano_roll":
        g, d = piano_roll_generator(), piano_roll_critic()
        model = WGAN(generator=g, discriminator=d)
        x = (rng.uniform(size=(batch, 2, 88, 1)) < 0.04).astype("float32")
        flops = step_flops("gan", g, d, n_critic=5)
    elif name == "autoencoder":
        model = group_meeting_autoencoder()
        x = (rng.uniform(size=(batch, 2, 88, 1)) < 0.04).astype("float32")
        flops = step_flops("ae", ae=model)
        model.compile(optimizer=keras.optimizers.Adam(1e-3), loss="mse", jit_compile=True, steps_per_execution=20)
        return model, (x, x), flops
    else:
        raise ValueError(f"unknown model {name!r}; choose from {MODELS}")
    model.compile(jit_compile=True, steps_per_execution=20)
    return model, x, flops


def time_model(model, batch_data, seconds):
    """Seconds per train step of `fit` on a cached, repeated batch (after a warm-up call)."""
    import tensorflow as tf

    from keras_gen.data import steady_prefetch

    # steady_prefetch: with the autotuner on, whole fit calls could run their steps serialised
    ds = tf.data.Dataset.from_tensors(batch_data).cache().repeat().apply(steady_prefetch)
    model.fit(ds, epochs=1, steps_per_epoch=40, verbose=0)  # trace + compile
    steps = 40
    start = time.perf_counter()
    model.fit(ds, epochs=1, steps_per_epoch=steps, verbose=0)
    per_step = (time.perf_counter() - start) / steps
    steps = max(40, int(seconds / per_step) // 20 * 20)
    start = time.perf_counter()
    model.fit(ds, epochs=1, steps_per_epoch=steps, verbose=0)
    return (time.perf_counter() - start) / steps


def main(argv=None):
    p = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    p.add_argument("--rounds", type=int, default=3)
    p.add_argument("--seconds", type=float, default=4.0, help="time per measurement")
    p.add_argument("--batch", type=int, default=64)
    p.add_argument("--models", default=",".join(MODELS))
    args = p.parse_args(argv)
    names = [n for n in args.models.split(",") if n]
    built = {n: build(n, args.batch) for n in names}
    rows = {n: [] for n in names}
    peaks = {"matmul": [], "conv2d": []}
    for r in range(args.rounds):
        peaks["matmul"].append(matmul_peak(args.seconds))
        peaks["conv2d"].append(conv2d_peak(args.seconds))
        for n in names:
            model, data, flops = built[n]
            sec = time_model(model, data, args.seconds)
            gflops = flops * args.batch / sec / 1e9
            rows[n].append((args.batch / sec, gflops, gflops / peaks["conv2d"][-1]))
        print(f"round {r + 1}/{args.rounds}: matmul {peaks['matmul'][-1]:.1f} GFLOP/s, conv2d {peaks['conv2d'][-1]:.1f} "
              + ", ".join(f"{n} {rows[n][-1][1]:.1f}" for n in names), flush=True)
    print(f"\nfloat32 peaks (median of {args.rounds}): matmul 1024^3 {np.median(peaks['matmul']):.1f} GFLOP/s, "
          f"conv2d 64x14x14x128 k5 {np.median(peaks['conv2d']):.1f} GFLOP/s")
    print(f"{'model (batch ' + str(args.batch) + ')':<24}{'MFLOP/example':>14}{'examples/s':>12}{'GFLOP/s':>10}"
          f"{'% conv2d peak':>15}")
    for n in names:
        arr = np.array(rows[n])
        print(f"{n:<24}{built[n][2] / 1e6:>14.1f}{np.median(arr[:, 0]):>12.0f}{np.median(arr[:, 1]):>10.1f}"
              f"{100 * np.median(arr[:, 2]):>14.0f}%")


if __name__ == "__main__":
    main()
