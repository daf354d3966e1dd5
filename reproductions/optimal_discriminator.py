"""C3: the optimal discriminator is D* = p_data / (p_data + p_g), and against it the GAN
value is V(G, D*) = 2 JS(p_data || p_g) - 2 log 2 (notes 001; Goodfellow et al., 2014,
Proposition 1 and Theorem 1).

Part 1, exact, on 1-D densities discretised on a fine grid (five pairs: equal, shifted,
narrower, a two-component mixture against a broad Gaussian, and nearly disjoint):
D* = P_data / (P_data + P_g) pointwise, V(G, D*) = sum P_data log D* + sum P_g log(1 - D*)
and JS from `keras_gen.metrics.js_divergence`; the identity holds to round-off
(`identity_max_abs_error`, must be <= 1e-6).

Part 2, learned: a small MLP discriminator trained with `fit` (binary cross-entropy, real
= 1, fake = 0, balanced) on samples of the mixture pair approaches D*. Reported on the
support (where (p_data + p_g)/2 >= `support_density`): `d_max_abs_error_on_support` and
the mass-weighted `d_mean_abs_error_on_support` of |D - D*|, and V(G, D) <= V(G, D*).

Writes `metrics.json`, `d_vs_dstar.png` (densities, D*, trained D over x, and |D - D*|)
and `identity.png` (V(G, D*) against 2 JS - 2 log 2 for the five pairs).
"""
import dataclasses
import time

import numpy as np

from reproductions import common

NAME = "optimal-discriminator"
LOG2 = float(np.log(2.0))


def _field(default, help_text):
    return dataclasses.field(default=default, metadata={"help": help_text})


@dataclasses.dataclass
class HParams:
    grid_points: int = _field(6001, "points of the x grid on [x_min, x_max]")
    x_min: float = _field(-8.0, "left end of the grid")
    x_max: float = _field(8.0, "right end of the grid")
    samples: int = _field(20000, "training samples from each of p_data and p_g")
    epochs: int = _field(40, "passes of the discriminator over the samples")
    batch_size: int = _field(500, "global batch size (half real, half generated on average)")
    learning_rate: float = _field(3e-3, "Adam's learning rate (cosine-decayed to 5%)")
    hidden: int = _field(64, "units of each of the discriminator's two hidden layers")
    support_density: float = _field(0.01, "errors of D are measured where (p_data + p_g)/2 >= this")
    seed: int = _field(0, "seed of the samples and of the initial weights")
    out: str = _field("runs/optimal-discriminator", "output folder")
    strategy: str = _field("default", "default, mirrored or multiworker")


# ---------------------------------------------------------------- densities
def normal_pdf(x, mu, sigma):
    return np.exp(-0.5 * ((x - mu) / sigma) ** 2) / (sigma * np.sqrt(2 * np.pi))


def mixture(components):
    """A density x -> sum w N(x; mu, sigma) and a sampler, for components (w, mu, sigma)."""
    weights = np.array([c[0] for c in components])

    def pdf(x):
        return sum(w * normal_pdf(x, mu, s) for w, mu, s in components)

    def sample(n, rng):
        which = rng.choice(len(components), size=n, p=weights / weights.sum())
        mus = np.array([c[1] for c in components])[which]
        sigmas = np.array([c[2] for c in components])[which]
        return mus + sigmas * rng.normal(size=n)

    return pdf, sample


# (name, p_data components, p_g components); "mixture" is the pair the discriminator learns.
PAIRS = [
    ("equal", [(1.0, 0.0, 1.0)], [(1.0, 0.0, 1.0)]),
    ("shifted", [(1.0, 0.0, 1.0)], [(1.0, 1.0, 1.0)]),
    ("narrow", [(1.0, 0.0, 1.0)], [(1.0, 3.0, 0.5)]),
    ("mixture", [(0.5, -2.0, 0.6), (0.5, 1.5, 0.8)], [(1.0, 0.5, 1.5)]),
    ("nearly_disjoint", [(1.0, -3.0, 0.3)], [(1.0, 3.0, 0.3)]),
]
TRAINED_PAIR = "mixture"


def optimal_discriminator(p_data, p_g):
    """D* = p_data / (p_data + p_g) pointwise (1/2 where both vanish; that mass is 0)."""
    total = p_data + p_g
    return np.divide(p_data, total, out=np.full_like(total, 0.5), where=total > 0)


def log_optimal_discriminator(p_data, p_g):
    """(log D*, log(1 - D*)) without forming 1 - D*, which rounds to 0 where p_g << p_data."""
    with np.errstate(divide="ignore"):
        log_total = np.log(p_data + p_g)
        return np.log(p_data) - log_total, np.log(p_g) - log_total


def value(pmf_data, pmf_g, log_d, log_one_minus_d):
    """V(G, D) = sum P_data log D + sum P_g log(1 - D) on the grid (0 log 0 = 0)."""
    real = pmf_data[pmf_data > 0] * log_d[pmf_data > 0]
    fake = pmf_g[pmf_g > 0] * log_one_minus_d[pmf_g > 0]
    return float(real.sum() + fake.sum())


def identity_check(hp, grid):
    """For every pair: JS, V(G, D*) and |V(G, D*) - (2 JS - 2 log 2)|."""
    from keras_gen.metrics import js_divergence

    rows = []
    for name, comp_data, comp_g in PAIRS:
        p_data, p_g = mixture(comp_data)[0](grid), mixture(comp_g)[0](grid)
        pmf_data, pmf_g = p_data / p_data.sum(), p_g / p_g.sum()
        js = js_divergence(pmf_data, pmf_g)
        v_star = value(pmf_data, pmf_g, *log_optimal_discriminator(pmf_data, pmf_g))
        rows.append({
            "pair": name,
            "js": js,
            "v_at_d_star": v_star,
            "two_js_minus_two_log2": 2 * js - 2 * LOG2,
            "abs_error": abs(v_star - (2 * js - 2 * LOG2)),
        })
    return rows


# ---------------------------------------------------------------- learned discriminator
def build_discriminator(hidden):
    import keras

    return keras.Sequential(
        [
            keras.Input((1,), name="x"),
            keras.layers.Dense(hidden, activation="tanh", name="hidden_1"),
            keras.layers.Dense(hidden, activation="tanh", name="hidden_2"),
            keras.layers.Dense(1, name="logit"),  # D(x) = sigmoid(logit)
        ],
        name="discriminator",
    )


def train_discriminator(hp, rng, sample_data, sample_g):
    """Fits D with binary cross-entropy on real (label 1) and generated (label 0) samples."""
    import keras
    import tensorflow as tf
    from keras_gen.data import steady_prefetch

    from keras_gen.training import get_strategy

    x = np.concatenate([sample_data(hp.samples, rng), sample_g(hp.samples, rng)]).astype("float32")[:, None]
    y = np.concatenate([np.ones(hp.samples), np.zeros(hp.samples)]).astype("float32")[:, None]
    ds = (
        tf.data.Dataset.from_tensor_slices((x, y))
        .shuffle(len(x), seed=hp.seed, reshuffle_each_iteration=True)
        .batch(hp.batch_size)
        .apply(steady_prefetch)
    )
    steps = hp.epochs * int(np.ceil(len(x) / hp.batch_size))
    strategy = get_strategy(hp.strategy)
    with strategy.scope():
        model = build_discriminator(hp.hidden)
        schedule = keras.optimizers.schedules.CosineDecay(hp.learning_rate, steps, alpha=0.05)
        model.compile(
            optimizer=keras.optimizers.Adam(schedule),
            loss=keras.losses.BinaryCrossentropy(from_logits=True),
            metrics=[keras.metrics.BinaryAccuracy(threshold=0.0, name="accuracy")],
        )
    history = model.fit(ds, epochs=hp.epochs, verbose=0, shuffle=False)  # ds shuffles itself
    return model, history.history


def _figures(out, grid, p_data, p_g, d_star, d, support, rows):
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    fig, (top, bottom) = plt.subplots(2, 1, figsize=(8, 7), sharex=True, gridspec_kw={"height_ratios": [3, 1]})
    top.fill_between(grid, p_data, alpha=0.25, color="C0", label="p_data")
    top.fill_between(grid, p_g, alpha=0.25, color="C1", label="p_g")
    top.plot(grid, d_star, "k-", lw=2, label="D* = p_data / (p_data + p_g)")
    top.plot(grid, d, "C3--", lw=2, label="trained D (fit, BCE)")
    top.set_ylabel("density / D(x)")
    top.legend(loc="upper right", fontsize=8)
    top.set_title("C3: a trained discriminator approaches D*")
    err = np.abs(d - d_star)
    bottom.plot(grid, np.where(support, err, np.nan), "C3-")
    bottom.plot(grid, np.where(support, np.nan, err), color="0.7", lw=1)
    bottom.set_ylabel("|D - D*|")
    bottom.set_xlabel("x")
    lo, hi = grid[support].min(), grid[support].max()
    top.set_xlim(lo - 1.5, hi + 1.5)
    fig.tight_layout()
    fig.savefig(f"{out}/d_vs_dstar.png", dpi=110)
    plt.close(fig)

    fig, ax = plt.subplots(figsize=(6, 4))
    xs = np.arange(len(rows))
    ax.bar(xs - 0.2, [r["v_at_d_star"] for r in rows], 0.4, label="V(G, D*) on the grid")
    ax.bar(xs + 0.2, [r["two_js_minus_two_log2"] for r in rows], 0.4, label="2 JS - 2 log 2")
    ax.axhline(-2 * LOG2, color="k", lw=0.8, ls=":")
    ax.set_xticks(xs, [r["pair"] for r in rows], fontsize=8)
    ax.set_ylabel("nats")
    ax.set_title(f"V(G, D*) = 2 JS - 2 log 2 (max error {max(r['abs_error'] for r in rows):.1e})")
    ax.legend(fontsize=8)
    fig.tight_layout()
    fig.savefig(f"{out}/identity.png", dpi=110)
    plt.close(fig)


def run(hp):
    started = time.time()
    out = common.prepare_out(hp.out)
    common.seed_everything(hp.seed)
    grid = np.linspace(hp.x_min, hp.x_max, hp.grid_points)

    rows = identity_check(hp, grid)

    comp_data, comp_g = next((c_d, c_g) for n, c_d, c_g in PAIRS if n == TRAINED_PAIR)
    (pdf_data, sample_data), (pdf_g, sample_g) = mixture(comp_data), mixture(comp_g)
    p_data, p_g = pdf_data(grid), pdf_g(grid)
    d_star = optimal_discriminator(p_data, p_g)
    rng = np.random.default_rng(hp.seed)
    model, history = train_discriminator(hp, rng, sample_data, sample_g)
    logits = model.predict(grid.astype("float32")[:, None], batch_size=4096, verbose=0)[:, 0].astype(np.float64)
    d = 1.0 / (1.0 + np.exp(-logits))
    log_d, log_one_minus_d = -np.logaddexp(0.0, -logits), -np.logaddexp(0.0, logits)

    support = 0.5 * (p_data + p_g) >= hp.support_density
    weights = (p_data + p_g)[support]
    err = np.abs(d - d_star)[support]
    pmf_data, pmf_g = p_data / p_data.sum(), p_g / p_g.sum()
    v_star = value(pmf_data, pmf_g, *log_optimal_discriminator(pmf_data, pmf_g))
    v_trained = value(pmf_data, pmf_g, log_d, log_one_minus_d)
    metrics = {
        "identity_max_abs_error": max(r["abs_error"] for r in rows),
        "pairs": rows,
        "trained_pair": TRAINED_PAIR,
        "d_max_abs_error_on_support": float(err.max()),
        "d_mean_abs_error_on_support": float(np.sum(err * weights) / weights.sum()),
        "support_interval": [float(grid[support].min()), float(grid[support].max())],
        "v_at_d_star": v_star,
        "v_at_trained_d": v_trained,
        "js_from_trained_d": (v_trained + 2 * LOG2) / 2,  # a lower bound on JS
        "js": next(r["js"] for r in rows if r["pair"] == TRAINED_PAIR),
        "final_train_loss": float(history["loss"][-1]),
        "final_train_accuracy": float(history["accuracy"][-1]),
        "seed": hp.seed,
    }
    _figures(out, grid, p_data, p_g, d_star, d, support, rows)
    metrics["seconds"] = round(time.time() - started, 1)
    common.write_metrics(out, metrics, hp, started)
    print(f"== {NAME} ==")
    for r in rows:
        print(f"  {r['pair']:<16} JS {r['js']:.6f}  V(G,D*) {r['v_at_d_star']:+.9f}  "
              f"2JS-2log2 {r['two_js_minus_two_log2']:+.9f}  |diff| {r['abs_error']:.1e}")
    common.print_metrics(NAME, metrics, [
        "identity_max_abs_error", "d_max_abs_error_on_support", "d_mean_abs_error_on_support",
        "v_at_d_star", "v_at_trained_d", "js", "js_from_trained_d", "seconds",
    ])
    return metrics


if __name__ == "__main__":
    run(HParams())
