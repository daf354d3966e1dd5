"""T12: model bias vs overfitting vs mismatch; k-fold cross-validation picks the model; epochs
vs updates (notes 002 lectures 1-2).

The regression: y = sin(2 pi x) + N(0, sigma^2) noise, x ~ U(0, 1), `--n-train` = 30
points per report seed; polynomials of degree 0..`--max-degree` (20) fitted by least
squares (`keras_gen.analysis.model_selection`), scored on 2,000 held-out test points of
the same distribution. The lecture's three diagnoses, as measured:

* model bias: a straight line (degree 1) cannot even fit the training points: its
  *training* MSE stays above 2 sigma^2 (the noise alone gives sigma^2);
* overfitting: degree 20 on 30 points drives the training MSE below sigma^2 / 2 while
  its test MSE is many times the best degree's;
* cross-validation: 5-fold CV on the 30 training points (no test data) picks a degree;
  the claim is that the test set agrees: the chosen degree's test MSE is within 1.5x of
  the best degree's (mean over seeds), and CV ranks the degrees like the test set
  (Spearman correlation >= 0.7). Choosing by training MSE is the baseline that fails
  both (it always picks the largest degree; its ranking anti-correlates with the test);
* mismatch: a second test set from a changed world, y = sin(2 pi x + phi) + noise
  (phi = pi/4; the inputs are the same). With 100x more training data (3,000 points,
  degree again by 5-fold CV) the in-distribution test MSE falls to the noise floor
  sigma^2, but the mismatched test MSE stays at its own floor sigma^2 + (1 - cos phi)
  (the mean of (sin a - sin(a + phi))^2 over a period): more data of the training kind
  does not help, unlike overfitting.

Epochs vs updates: a linear Keras model on the degree-3 Legendre features is trained by
`fit` for 2 epochs at several (N, B): a callback counts the train steps of each epoch and
the optimizer's `iterations`; both must equal `ceil(N / B)` per epoch for arrays (Keras
keeps the smaller last batch) and `floor(N / B)` for a `tf.data` pipeline batched with
`drop_remainder=True`.

Choices and where they were made: sigma = 0.3, N = 30 and degrees up to 20 were fixed
before looking at anything; k was compared on selection seeds 0 and 1 (and 2-7): k = 5,
10 and 30 (leave-one-out) chose the same degrees on seeds 0 and 1, so k = 5, the notes'
"N-fold" with a common N. With a maximum degree of 15, degree 15 overfitted mildly on
seed 0 (1.6x the best test MSE), so the largest degree is 20. The targets (1.5x, 0.7,
2 sigma^2, 3x) were set from seeds 0-7 (CV ratio 1.0-1.39, Spearman 0.76-0.95, line
training MSE 0.22-0.37, degree-20 test ratio >= 7.5) before the report seeds ran.

Measured (`keras-gen reproduce bias-variance-and-validation`, seeds 10, 11, 12): 5 of 7
claims met. Degree 20: training MSE 0.021 +- 0.005, test MSE 10^(7.1 +- 2.8) times the
best degree's. Spearman(CV, test) 0.82 +- 0.20 (training-MSE ranking: negative).
Mismatch: with 3,000 points the changed world's test MSE is 4.32 +- 0.06 times the
same world's (0.391 +- 0.014 against the floor 0.383; same world 0.090 +- 0.002,
sigma^2 = 0.09).
Updates per epoch: 0 mismatches in 13 (N, B) settings. Missed, as measured:
* the line's training MSE >= 2 sigma^2 on every seed: 0.178 on seed 10 (0.267, 0.209 on
  the others; mean 0.218 +- 0.045);
* the CV choice within 1.5x of the test favourite: 1.02 and 1.04 on seeds 11 and 12,
  but 19.7 on seed 10 (mean 7.2 +- 10.8). Seed 10's 30 training points hold none below
  x = 0.136; 5-fold CV picks degree 5 (the lowest CV MSE, 0.033), which swings wildly
  on [0, 0.136], where 14% of the test points lie (test MSE 2.04 against 0.104 for
  degree 3). Cross-validation only sees the inputs the training sample holds: a
  small-sample cousin of mismatch.

Writes `metrics.json` (claims T12, per seed the MSE curves, the choices, the mismatch
numbers, the steps table), `fits.png` (the data and the degree-1, CV-chosen and
degree-20 fits), `mse_by_degree.png` (training, CV and test MSE against degree) and
`mismatch.png` (test MSE against the amount of training data, same vs changed world).
"""
import dataclasses
import math

import numpy as np

from reproductions import common

NAME = "bias-variance-and-validation"


@dataclasses.dataclass
class HParams(common.CommonHParams):
    n_train: int = common.field(30, "training points of the small regression", low=10)
    noise: float = common.field(0.3, "standard deviation sigma of the label noise", above=0)
    max_degree: int = common.field(20, "largest polynomial degree tried (0 .. max)", low=2)
    folds: int = common.field(5, "k of k-fold cross-validation", low=2)
    phase: float = common.field(math.pi / 4, "phi of the changed world y = sin(2 pi x + phi)", above=0)
    n_test: int = common.field(2000, "points in each test set")
    big_n: str = common.field("300,3000", "larger training sets for the mismatch curve (comma-separated)")


def truth(x, phase=0.0):
    return np.sin(2 * np.pi * x + phase)


def draw(rng, n, noise, phase=0.0):
    x = rng.uniform(0.0, 1.0, n)
    return x, truth(x, phase) + rng.normal(0.0, noise, n)


def cv_choice(x, y, degrees, folds):
    """(chosen degree, CV MSE per degree)."""
    from keras_gen.analysis.model_selection import cross_validation_mse

    cv = [cross_validation_mse(x, y, d, folds) for d in degrees]
    return degrees[int(np.argmin(cv))], cv


def one_seed(hp, seed):
    """The regression experiment for one report seed (NumPy, exact least squares)."""
    from scipy.stats import spearmanr

    from keras_gen.analysis.model_selection import fit_polynomial, mse, predict_polynomial

    rng = np.random.default_rng(seed)
    x, y = draw(rng, hp.n_train, hp.noise)
    xt, yt = draw(rng, hp.n_test, hp.noise)
    xm = xt.copy()  # the changed world: same inputs, other labels
    ym = truth(xm, hp.phase) + rng.normal(0.0, hp.noise, hp.n_test)
    degrees = list(range(hp.max_degree + 1))
    coefs = [fit_polynomial(x, y, d) for d in degrees]
    train = [mse(y, predict_polynomial(c, x)) for c in coefs]
    test = [mse(yt, predict_polynomial(c, xt)) for c in coefs]
    chosen, cv = cv_choice(x, y, degrees, hp.folds)
    best = int(np.argmin(test))
    result = {
        "degrees": degrees, "train_mse": train, "cv_mse": cv, "test_mse": test,
        "cv_degree": chosen, "test_best_degree": best,
        "cv_choice_test_ratio": test[chosen] / test[best],
        "train_choice_degree": int(np.argmin(train)),
        "train_choice_test_ratio": test[int(np.argmin(train))] / test[best],
        "spearman_cv_test": float(spearmanr(cv, test)[0]),
        "spearman_train_test": float(spearmanr(train, test)[0]),
        "line_train_mse": train[1], "line_test_mse": test[1],
        "max_degree_train_mse": train[-1], "max_degree_test_mse": test[-1],
        "max_degree_log10_test_ratio": float(np.log10(test[-1] / test[best])),
        "data": {"x": x.tolist(), "y": y.tolist()},
        "fits": {str(d): coefs[d].tolist() for d in sorted({1, chosen, hp.max_degree})},
    }
    # mismatch: more data of the training kind, degree again by CV
    curve = {}
    for n in [hp.n_train] + [int(v) for v in common.parse_int_list(hp.big_n, "big_n")]:
        if n == hp.n_train:
            xs, ys, d = x, y, chosen
        else:
            xs, ys = draw(rng, n, hp.noise)
            d = cv_choice(xs, ys, degrees, hp.folds)[0]
        c = fit_polynomial(xs, ys, d)
        curve[str(n)] = {"degree": d, "test_mse": mse(yt, predict_polynomial(c, xt)),
                         "mismatch_test_mse": mse(ym, predict_polynomial(c, xm))}
    result["data_curve"] = curve
    return result


def epochs_vs_updates(r, seed):
    """Train steps Keras's fit runs per epoch, against ceil(N / B) (arrays) and floor(N / B) (dropped remainder).

    Each model is built and compiled in the run's strategy scope, so under `--strategy
    mirrored` or `multiworker` the replicas train one model on global batches of B (the
    last, smaller batch split between them) and count the same steps.
    """
    import keras
    import tensorflow as tf

    from keras_gen.analysis.model_selection import polynomial_features, steps_per_epoch

    class CountSteps(keras.callbacks.Callback):
        def on_train_begin(self, logs=None):
            self.per_epoch = []

        def on_epoch_begin(self, epoch, logs=None):
            self.per_epoch.append(0)

        def on_train_batch_end(self, batch, logs=None):
            self.per_epoch[-1] += 1

    rows = []
    rng = np.random.default_rng(seed)
    for n, b in [(30, 8), (30, 30), (30, 64), (3500, 60), (3500, 64), (1000, 100), (1000, 128)]:
        x, y = draw(rng, n, 0.3)
        feats = polynomial_features(x, 3).astype("float32")
        for drop in (False, True):
            if drop and b > n:
                continue
            keras.utils.set_random_seed(seed)
            with r.strategy.scope():
                model = keras.Sequential([keras.Input((4,)), keras.layers.Dense(1, use_bias=False)])
                model.compile(keras.optimizers.SGD(0.1), "mse")
            counter = CountSteps()
            if drop:
                data = tf.data.Dataset.from_tensor_slices((feats, y.astype("float32"))).batch(b, drop_remainder=True)
                model.fit(data, epochs=2, verbose=0, callbacks=[counter], shuffle=False)
            else:
                model.fit(feats, y.astype("float32"), batch_size=b, epochs=2, verbose=0, callbacks=[counter],
                          shuffle=True)
            rows.append({"n": n, "batch_size": b, "drop_remainder": drop, "fit_steps_per_epoch": counter.per_epoch,
                         "optimizer_iterations": int(model.optimizer.iterations.numpy()),
                         "formula": steps_per_epoch(n, b, drop)})
    keras.backend.clear_session()
    mismatches = sum(any(s != r["formula"] for s in r["fit_steps_per_epoch"]) or r["optimizer_iterations"] != 2 * r["formula"]
                     for r in rows)
    return {"rows": rows, "mismatches": mismatches}


# ---------------------------------------------------------------- figures
def _figures(r, hp, per_seed):
    import matplotlib.pyplot as plt

    from keras_gen import plots
    from keras_gen.analysis.model_selection import predict_polynomial

    seed = str(r.seeds[0])
    res = per_seed[seed]
    grid = np.linspace(0, 1, 400)
    fig, ax = plt.subplots(figsize=(6.4, 4.2))
    ax.plot(grid, truth(grid), "k--", lw=1, label="sin(2πx)")
    ax.plot(res["data"]["x"], res["data"]["y"], "ko", ms=4, label=f"{hp.n_train} training points")
    labels = {1: "degree 1 (model bias)", res["cv_degree"]: f"degree {res['cv_degree']} (chosen by {hp.folds}-fold CV)",
              hp.max_degree: f"degree {hp.max_degree} (overfits)"}
    for i, (d, coef) in enumerate(res["fits"].items()):
        ax.plot(grid, predict_polynomial(np.array(coef), grid), color=f"C{i}", label=labels[int(d)])
    ax.set_ylim(-2.2, 2.2)
    ax.set_xlabel("x")
    ax.set_ylabel("y")
    ax.legend(fontsize=8, loc="lower left")
    ax.set_title(f"seed {seed}")
    plots.save(fig, r.path("fits.png"), dpi=90)

    fig, ax = plt.subplots(figsize=(6.4, 4.2))
    degrees = res["degrees"]
    for key, color, label in (("train_mse", "C0", "training"), ("cv_mse", "C2", f"{hp.folds}-fold CV"),
                              ("test_mse", "C3", "test")):
        curves = np.array([per_seed[s][key] for s in per_seed])
        for c in curves:
            ax.semilogy(degrees, c, color=color, lw=0.6, alpha=0.5)
        ax.semilogy(degrees, np.exp(np.log(curves).mean(axis=0)), color=color, lw=2, label=f"{label} (geometric mean)")
    ax.axhline(hp.noise ** 2, color="k", ls=":", lw=1, label="noise variance σ²")
    ax.set_xlabel("polynomial degree")
    ax.set_ylabel("MSE")
    ax.set_ylim(hp.noise ** 2 / 20, 100)
    ax.legend(fontsize=8)
    plots.save(fig, r.path("mse_by_degree.png"), dpi=90)

    fig, ax = plt.subplots(figsize=(6.4, 4.2))
    ns = sorted(int(n) for n in res["data_curve"])
    for key, color, label in (("test_mse", "C0", "test, same world"), ("mismatch_test_mse", "C3", "test, changed world")):
        vals = np.array([[per_seed[s]["data_curve"][str(n)][key] for n in ns] for s in per_seed])
        ax.loglog(ns, vals.T, color=color, lw=0.6, alpha=0.6)
        ax.loglog(ns, np.exp(np.log(vals).mean(axis=0)), "o-", color=color, lw=2, label=label)
    ax.axhline(hp.noise ** 2, color="C0", ls=":", lw=1, label="σ²")
    ax.axhline(hp.noise ** 2 + 1 - math.cos(hp.phase), color="C3", ls=":", lw=1, label="σ² + 1 − cos φ")
    ax.set_xlabel("training points (degree by CV)")
    ax.set_ylabel("test MSE")
    ax.legend(fontsize=8)
    plots.save(fig, r.path("mismatch.png"), dpi=90)


def run(hp):
    r = common.Run(NAME, hp)
    common.parse_int_list(hp.big_n, "big_n")
    per_seed = {str(s): r.cached(f"seed_{s}", lambda s=s: one_seed(hp, s)) for s in r.seeds}
    steps = r.cached("epochs_vs_updates", lambda: epochs_vs_updates(r, r.seeds[0]), recipe={})
    sigma2 = hp.noise ** 2
    floor = sigma2 + 1 - math.cos(hp.phase)
    largest = str(max(int(n) for n in per_seed[str(r.seeds[0])]["data_curve"]))
    val = lambda key: {int(s): v[key] for s, v in per_seed.items()}  # noqa: E731
    curve = lambda key: {int(s): v["data_curve"][largest][key] for s, v in per_seed.items()}  # noqa: E731
    metrics = {
        "per_seed": per_seed, "epochs_vs_updates": steps, "noise_variance": sigma2, "mismatch_floor": floor,
        "cv_degree": val("cv_degree"), "test_best_degree": val("test_best_degree"),
        "cv_choice_test_ratio": common.mean_sd(val("cv_choice_test_ratio")),
        "spearman_cv_test": common.mean_sd(val("spearman_cv_test")),
        "line_train_mse": common.mean_sd(val("line_train_mse")),
        f"n{largest}_test_mse": common.mean_sd(curve("test_mse")),
        f"n{largest}_mismatch_test_mse": common.mean_sd(curve("mismatch_test_mse")),
    }
    claims = [
        common.claim("T12", "Model bias: a straight line cannot fit the training data: its training MSE stays above "
                     "2 sigma^2", "line_train_mse", val("line_train_mse"), target=2 * sigma2, op=">=", every=True,
                     baselines={"cv_choice_train_mse": common.mean_sd(
                         {s: v["train_mse"][v["cv_degree"]] for s, v in per_seed.items()}), "noise_variance": sigma2}),
        common.claim("T12", f"Overfitting: degree {hp.max_degree} on {hp.n_train} points fits the training data below "
                     "sigma^2/2 ...", "max_degree_train_mse", val("max_degree_train_mse"), target=sigma2 / 2, op="<=",
                     every=True, baselines={"noise_variance": sigma2}),
        common.claim("T12", f"... while its test MSE is at least 3x the best degree's (log10 of the ratio >= log10 3)",
                     "max_degree_log10_test_ratio", val("max_degree_log10_test_ratio"), target=math.log10(3), op=">=",
                     every=True),
        common.claim("T12", f"{hp.folds}-fold cross-validation on the training points picks a degree whose test MSE is "
                     "within 1.5x of the test set's favourite", "cv_choice_test_ratio", val("cv_choice_test_ratio"),
                     target=1.5, op="<=", baselines={"choice_by_training_mse": common.mean_sd(
                         val("train_choice_test_ratio"))},
                     note=f"CV degrees {val('cv_degree')}, test favourites {val('test_best_degree')}"),
        common.claim("T12", "Cross-validation ranks the degrees like the test set (Spearman correlation of the MSE "
                     "curves)", "spearman_cv_test", val("spearman_cv_test"), target=0.7, op=">=",
                     baselines={"ranking_by_training_mse": common.mean_sd(val("spearman_train_test"))}),
        common.claim("T12", f"Mismatch: with {largest} training points the same-world test MSE is near sigma^2 but the "
                     "changed-world test MSE stays >= 3x higher (more data does not help)",
                     "mismatch_over_same_world_test_mse",
                     {s: curve("mismatch_test_mse")[s] / curve("test_mse")[s] for s in curve("test_mse")},
                     target=3.0, op=">=", every=True,
                     baselines={"closed_form_floor_ratio": floor / sigma2,
                                f"n{hp.n_train}_ratio": common.mean_sd(
                                    {s: v["data_curve"][str(hp.n_train)]["mismatch_test_mse"]
                                     / v["data_curve"][str(hp.n_train)]["test_mse"] for s, v in per_seed.items()})},
                     note=f"changed-world floor sigma^2 + 1 - cos(phi) = {floor:.4f}; measured "
                          f"{metrics[f'n{largest}_mismatch_test_mse']['value']:.4f}"),
        common.claim("T12", "Updates per epoch: Keras's fit runs ceil(N / B) train steps per epoch (floor with "
                     "drop_remainder) for every (N, B) tried", "steps_mismatches", steps["mismatches"], target=0,
                     op="<=", note=f"{len(steps['rows'])} configurations, 2 epochs each, optimizer.iterations checked"),
    ]
    _figures(r, hp, per_seed)
    return r.finish(metrics, claims, headline=["cv_degree", "test_best_degree", "noise_variance", "mismatch_floor"])


if __name__ == "__main__":
    run(HParams())
