"""C3: the optimal discriminator is D* = p_data / (p_data + p_g), and against it the GAN
value is V(G, D*) = 2 JS(p_data || p_g) - 2 log 2 (notes 001; Goodfellow et al., 2014,
Proposition 1 and Theorem 1).

Part 1, exact and seed-free, on 1-D densities discretised on a fine grid (five pairs:
equal, shifted, narrower, a two-component mixture against a broad Gaussian, and nearly
disjoint): D* = P_data / (P_data + P_g) pointwise, V(G, D*) = sum P_data log D* + sum P_g
log(1 - D*) and JS from `keras_gen.metrics.js_divergence`. Claim: the identity holds to
round-off, max |V(G, D*) - (2 JS - 2 log 2)| <= 1e-6 over the pairs. Baseline: the same
gap for the uninformative D = 1/2 (it is 2 JS).

Part 2, learned, one run per report seed: a small MLP discriminator trained with `fit`
(binary cross-entropy, real = 1, fake = 0, balanced) on 20,000 samples of each side of
the mixture pair approaches D*. Measured against the exact D* on the grid, where (p_data
+ p_g)/2 >= `support_density` (the support):
* `d_mean_abs_error_on_support`: mass-weighted mean |D - D*|; claim <= 0.02 in every
  seed. Baselines: D = 1/2, and the best hard classifier D = 1[p_data > p_g];
* `js_ratio`: the JS lower bound of the trained D, (V(G, D) + 2 log 2) / 2, over the exact
  JS; claim >= 0.95 in every seed (D = 1/2 gives 0; D* gives 1).
The recipe is the one this reproduction had before the validation rules (not tuned
since). The targets were fixed before any report seed ran and checked on the selection
seeds 0 and 1 (`--seeds 0,1`): mean |D - D*| 0.0107 and 0.0099 (D = 1/2: 0.183; the hard
classifier: 0.317), JS ratio 0.979 and 0.977, largest |D - D*| on the support 0.17 and
0.19 (in the far tails of the support, where few samples fall).

Measured with the defaults (`keras-gen reproduce optimal-discriminator`, report seeds 10,
11, 12; 7 min 9 s wall, 76 CPU-s on a machine shared by ~8 engineers), 3 of 3 claims met:
identity gap 3.3e-16 (D = 1/2 leaves 2 JS = 1.39 on the nearly disjoint pair); mean
|D - D*| 0.0098 +- 0.0015 (0.0097, 0.0113, 0.0084; D = 1/2: 0.183, hard classifier:
0.317); JS ratio 0.978 +- 0.002 (0.980, 0.976, 0.979; D = 1/2: 0); largest |D - D*| on
the support 0.16, 0.19, 0.18 (in the tails, as on the selection seeds).

Writes `metrics.json`, `d_vs_dstar.png` (densities, D*, the trained D of every report
seed over x, and |D - D*|) and `identity.png` (V(G, D*) against 2 JS - 2 log 2 for the
five pairs).
"""
import dataclasses

import numpy as np

from reproductions import common

NAME = "optimal-discriminator"
LOG2 = float(np.log(2.0))
IDENTITY_TARGET = 1e-6
D_ERROR_TARGET = 0.02
JS_RATIO_TARGET = 0.95


@dataclasses.dataclass
class HParams(common.CommonHParams):
    grid_points: int = common.field(6001, "points of the x grid on [x_min, x_max]", low=101)
    x_min: float = common.field(-8.0, "left end of the grid", low=-100, high=-5)
    x_max: float = common.field(8.0, "right end of the grid", low=5, high=100)
    samples: int = common.field(20000, "training samples from each of p_data and p_g")
    epochs: int = common.field(40, "passes of the discriminator over the samples")
    batch_size: int = common.field(500, "global batch size (half real, half generated on average)")
    learning_rate: float = common.field(3e-3, "Adam's learning rate (cosine-decayed to 5%)")
    hidden: int = common.field(64, "units of each of the discriminator's two hidden layers")
    support_density: float = common.field(0.01, "errors of D are measured where (p_data + p_g)/2 >= this", above=0)


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


def identity_check(grid, discriminator=None):
    """For every pair: JS, V(G, D) and |V(G, D) - (2 JS - 2 log 2)|.

    `discriminator(pmf_data, pmf_g) -> (log D, log(1 - D))` defaults to D* (then the gap
    is round-off); any other D leaves a gap (V(G, D) < V(G, D*) wherever D != D*).
    """
    from keras_gen.metrics import js_divergence

    discriminator = discriminator or log_optimal_discriminator
    rows = []
    for name, comp_data, comp_g in PAIRS:
        p_data, p_g = mixture(comp_data)[0](grid), mixture(comp_g)[0](grid)
        pmf_data, pmf_g = p_data / p_data.sum(), p_g / p_g.sum()
        js = js_divergence(pmf_data, pmf_g)
        v = value(pmf_data, pmf_g, *discriminator(pmf_data, pmf_g))
        rows.append({
            "pair": name,
            "js": js,
            "v_at_d_star": v,
            "two_js_minus_two_log2": 2 * js - 2 * LOG2,
            "abs_error": abs(v - (2 * js - 2 * LOG2)),
        })
    return rows


def constant_half(pmf_data, pmf_g):
    """(log D, log(1 - D)) of the uninformative D = 1/2."""
    return np.full_like(pmf_data, -LOG2), np.full_like(pmf_g, -LOG2)


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


def train_discriminator(r, hp, seed, sample_data, sample_g):
    """Fits D with binary cross-entropy on real (label 1) and generated (label 0) samples (resumable)."""
    import keras
    import tensorflow as tf

    from keras_gen.data import steady_prefetch

    rng = np.random.default_rng(seed)
    x = np.concatenate([sample_data(hp.samples, rng), sample_g(hp.samples, rng)]).astype("float32")[:, None]
    y = np.concatenate([np.ones(hp.samples), np.zeros(hp.samples)]).astype("float32")[:, None]
    ds = (
        tf.data.Dataset.from_tensor_slices((x, y))
        .shuffle(len(x), seed=seed, reshuffle_each_iteration=True)
        .batch(hp.batch_size)
        .apply(steady_prefetch)
    )
    steps = hp.epochs * int(np.ceil(len(x) / hp.batch_size))
    common.seed_everything(seed)
    with r.strategy.scope():
        model = build_discriminator(hp.hidden)
        schedule = keras.optimizers.schedules.CosineDecay(hp.learning_rate, steps, alpha=0.05)
        model.compile(
            optimizer=keras.optimizers.Adam(schedule),
            loss=keras.losses.BinaryCrossentropy(from_logits=True),
            metrics=[keras.metrics.BinaryAccuracy(threshold=0.0, name="accuracy")],
        )
    history = r.fit(model, ds, key=f"seed_{seed}", epochs=hp.epochs, verbose=0, shuffle=False)  # ds shuffles itself
    return model, history


def trained_part(r, hp, seed, grid):
    """One report seed: train D, compare it with D* on the grid."""
    comp_data, comp_g = next((c_d, c_g) for n, c_d, c_g in PAIRS if n == TRAINED_PAIR)
    (pdf_data, sample_data), (pdf_g, sample_g) = mixture(comp_data), mixture(comp_g)
    p_data, p_g = pdf_data(grid), pdf_g(grid)
    model, history = train_discriminator(r, hp, seed, sample_data, sample_g)
    logits = model.predict(grid.astype("float32")[:, None], batch_size=4096, verbose=0)[:, 0].astype(np.float64)
    np.save(f"{r.key_dir(f'seed_{seed}')}/d_on_grid.npy", logits)
    scores = score_discriminator(logits, p_data, p_g, hp.support_density)
    if history.get("loss"):
        scores["final_train_loss"] = float(history["loss"][-1])
        scores["final_train_accuracy"] = float(history["accuracy"][-1])
    return scores


def score_discriminator(logits, p_data, p_g, support_density):
    """|D - D*| on the support and the JS lower bound of a discriminator given by its logits on the grid."""
    from keras_gen.metrics import js_divergence

    d = 1.0 / (1.0 + np.exp(-logits))
    log_d, log_one_minus_d = -np.logaddexp(0.0, -logits), -np.logaddexp(0.0, logits)
    d_star = optimal_discriminator(p_data, p_g)
    support = 0.5 * (p_data + p_g) >= support_density
    weights = (p_data + p_g)[support]
    err = np.abs(d - d_star)[support]
    pmf_data, pmf_g = p_data / p_data.sum(), p_g / p_g.sum()
    v_trained = value(pmf_data, pmf_g, log_d, log_one_minus_d)
    js = js_divergence(pmf_data, pmf_g)
    js_from_d = (v_trained + 2 * LOG2) / 2  # a lower bound on JS
    return {
        "d_max_abs_error_on_support": float(err.max()),
        "d_mean_abs_error_on_support": float(np.sum(err * weights) / weights.sum()),
        "v_at_trained_d": v_trained,
        "v_at_d_star": value(pmf_data, pmf_g, *log_optimal_discriminator(pmf_data, pmf_g)),
        "js_from_trained_d": js_from_d,
        "js": js,
        "js_ratio": js_from_d / js,
    }


def claims_for(rows, half_rows, per_seed, base):
    def values(k):
        return {s: v[k] for s, v in per_seed.items()}

    return [
        common.claim(
            "C3", f"Against D* = p_data / (p_data + p_g), V(G, D*) = 2 JS - 2 log 2: max gap over five pairs "
            f"<= {IDENTITY_TARGET:g}", "identity_max_abs_error", max(r["abs_error"] for r in rows),
            target=IDENTITY_TARGET, op="<=", baselines={"d_one_half": max(r["abs_error"] for r in half_rows)}),
        common.claim(
            "C3", f"A discriminator trained by binary cross-entropy approaches D*: mass-weighted mean |D - D*| "
            f"on the support <= {D_ERROR_TARGET:g} in every seed", "d_mean_abs_error_on_support",
            values("d_mean_abs_error_on_support"), target=D_ERROR_TARGET, op="<=", every=True,
            baselines={k: b["d_mean_abs_error_on_support"] for k, b in base.items()}),
        common.claim(
            "C3", f"The trained D's value gives JS: (V(G, D) + 2 log 2) / 2 >= {JS_RATIO_TARGET:g} JS in every "
            "seed (D* gives exactly JS)", "js_ratio", values("js_ratio"), target=JS_RATIO_TARGET, op=">=",
            every=True, baselines={k: b["js_ratio"] for k, b in base.items()}),
    ]


def _figures(out, grid, p_data, p_g, d_star, curves, support, rows):
    """`curves`: {seed: D on the grid} of the trained discriminators."""
    import matplotlib.pyplot as plt

    from keras_gen import plots

    fig, (top, bottom) = plt.subplots(2, 1, figsize=(7, 5.6), sharex=True, gridspec_kw={"height_ratios": [3, 1]})
    top.fill_between(grid, p_data, alpha=0.25, color="C0", label="p_data")
    top.fill_between(grid, p_g, alpha=0.25, color="C1", label="p_g")
    top.plot(grid, d_star, "k-", lw=2, label="D* = p_data / (p_data + p_g)")
    for i, (seed, d) in enumerate(curves.items()):
        top.plot(grid, d, ls="--", color=f"C{3 + i}", lw=1.5, label=f"trained D, seed {seed}")
        err = np.abs(d - d_star)
        bottom.plot(grid, np.where(support, err, np.nan), color=f"C{3 + i}", lw=1)
    top.set_ylabel("density / D(x)")
    top.legend(loc="upper right", fontsize=7)
    top.set_title("C3: a trained discriminator approaches D*")
    bottom.set_ylabel("|D - D*| (support)")
    bottom.set_xlabel("x")
    lo, hi = grid[support].min(), grid[support].max()
    top.set_xlim(lo - 1.5, hi + 1.5)
    plots.save(fig, f"{out}/d_vs_dstar.png", dpi=90)

    fig, ax = plt.subplots(figsize=(6, 4))
    xs = np.arange(len(rows))
    ax.bar(xs - 0.2, [r["v_at_d_star"] for r in rows], 0.4, label="V(G, D*) on the grid")
    ax.bar(xs + 0.2, [r["two_js_minus_two_log2"] for r in rows], 0.4, label="2 JS - 2 log 2")
    ax.axhline(-2 * LOG2, color="k", lw=0.8, ls=":")
    ax.set_xticks(xs, [r["pair"] for r in rows], fontsize=8)
    ax.set_ylabel("nats")
    ax.set_title(f"V(G, D*) = 2 JS - 2 log 2 (max error {max(r['abs_error'] for r in rows):.1e})")
    ax.legend(fontsize=8)
    plots.save(fig, f"{out}/identity.png", dpi=90)


def run(hp):
    r = common.Run(NAME, hp)
    grid = np.linspace(hp.x_min, hp.x_max, hp.grid_points)
    rows = identity_check(grid)
    half_rows = identity_check(grid, constant_half)

    comp_data, comp_g = next((c_d, c_g) for n, c_d, c_g in PAIRS if n == TRAINED_PAIR)
    p_data, p_g = mixture(comp_data)[0](grid), mixture(comp_g)[0](grid)
    d_star = optimal_discriminator(p_data, p_g)
    per_seed = {seed: r.cached(f"seed_{seed}", lambda: trained_part(r, hp, seed, grid)) for seed in r.seeds}
    # Baselines: D = 1/2 (no information) and the best hard classifier 1[p_data > p_g] (logits +-30).
    base = {
        "d_one_half": score_discriminator(np.zeros_like(grid), p_data, p_g, hp.support_density),
        "hard_bayes_classifier": score_discriminator(np.where(p_data > p_g, 30.0, -30.0), p_data, p_g,
                                                     hp.support_density),
    }
    claims = claims_for(rows, half_rows, per_seed, base)
    support = 0.5 * (p_data + p_g) >= hp.support_density
    curves = {s: 1.0 / (1.0 + np.exp(-np.load(f"{r.key_dir(f'seed_{s}')}/d_on_grid.npy"))) for s in r.seeds}
    _figures(r.out, grid, p_data, p_g, d_star, curves, support, rows)
    metrics = {"identity_max_abs_error": max(x["abs_error"] for x in rows), "pairs": rows, "trained_pair": TRAINED_PAIR,
               "support_interval": [float(grid[support].min()), float(grid[support].max())]}
    for k in ("d_mean_abs_error_on_support", "d_max_abs_error_on_support", "js_ratio", "js_from_trained_d"):
        per = {s: v[k] for s, v in per_seed.items()}
        spread = common.mean_sd(per)
        metrics[k] = per
        metrics[f"mean_{k}"], metrics[f"sd_{k}"] = spread["value"], spread["sd"]
    metrics["js"] = next(x["js"] for x in rows if x["pair"] == TRAINED_PAIR)
    metrics["baselines"] = base
    metrics["per_seed"] = per_seed
    print(f"== {NAME} ==")
    for x in rows:
        print(f"  {x['pair']:<16} JS {x['js']:.6f}  V(G,D*) {x['v_at_d_star']:+.9f}  "
              f"2JS-2log2 {x['two_js_minus_two_log2']:+.9f}  |diff| {x['abs_error']:.1e}")
    return r.finish(metrics, claims, headline=["identity_max_abs_error", "mean_d_mean_abs_error_on_support",
                                               "mean_js_ratio", "js", "seconds"])
