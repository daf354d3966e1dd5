"""C4: when two distributions do not overlap, JS stays at log 2 (no useful gradient) while
the Wasserstein distance still measures how far apart they are (notes 000/002; the
"parallel lines" example of Arjovsky et al., 2017, Example 1).

P_0 is uniform on the segment {0} x [0, 1] and P_theta on {theta} x [0, 1]. For theta != 0:
JS(P_0, P_theta) = log 2, KL = inf, W1 = |theta|; at theta = 0 all three are 0.

Part 1, computed: JS and KL with `keras_gen.metrics` on a discretisation of the plane
(cells of `cell` x 1/10), W1 as the exact optimal-transport cost between `ot_samples`
samples of each (`scipy.optimize.linear_sum_assignment`), which sampling puts slightly
above |theta|, and `wasserstein_1d` of the x-marginals (exactly |theta|, a lower bound).

Part 2, learned (one `fit` per kind, all thetas trained side by side as independent
networks in one vectorised model):
* a WGAN-GP critic (gradient penalty 10, Adam 1e-4 / 0 / 0.9): its estimate
  E_P0 f - E_Ptheta f tracks |theta| (`wgan_gp_abs_error_max`, `wgan_gp_correlation`);
* a WGAN critic with weight clipping (RMSProp): tracks |theta| up to the unknown
  Lipschitz constant that clipping sets (`wgan_clip_correlation`);
* a vanilla discriminator (sigmoid, binary cross-entropy), trained to saturation: its
  JS estimate V/2 + log 2 sits at log 2 for every theta != 0, and the generator
  gradient d/dtheta E log(1 - D(theta, z)) almost vanishes, while the WGAN generator
  gradient d/dtheta (-E f(theta, z)) stays ~1 (`vanilla_generator_grad_norm` vs
  `wgan_generator_grad_norm`; the non-saturating loss is reported beside them).

Writes `metrics.json` and `disjoint_supports.png` (all curves over theta, and the
generator gradient norms on a log scale).
"""
import dataclasses
import time

import numpy as np

from reproductions import common

NAME = "disjoint-supports"
LOG2 = float(np.log(2.0))


def _field(default, help_text):
    return dataclasses.field(default=default, metadata={"help": help_text})


@dataclasses.dataclass
class HParams:
    theta_max: float = _field(1.0, "thetas are evenly spaced in [-theta_max, theta_max]")
    n_thetas: int = _field(21, "how many thetas (odd: includes 0)")
    cell: float = _field(0.05, "width in x of the cells of the discretisation for JS and KL")
    ot_samples: int = _field(400, "samples per distribution for the exact optimal-transport W1")
    hidden: int = _field(64, "units of each of the networks' two hidden layers")
    batch_size: int = _field(256, "samples of each distribution per step (per theta)")
    critic_steps: int = _field(1500, "training steps of the WGAN-GP and clipped critics")
    discriminator_steps: int = _field(1500, "training steps of the vanilla discriminator")
    gp_weight: float = _field(10.0, "gradient penalty weight lambda")
    gp_learning_rate: float = _field(1e-3, "Adam learning rate of the WGAN-GP critic (beta1 0, beta2 0.9)")
    clip: float = _field(0.01, "weight clipping bound c of the WGAN critic")
    clip_learning_rate: float = _field(5e-4, "RMSProp learning rate of the clipped critic")
    d_learning_rate: float = _field(1e-3, "Adam learning rate of the vanilla discriminator")
    eval_samples: int = _field(4096, "fresh samples per theta for the estimates and gradients")
    seed: int = _field(0, "seed of the samples and the initial weights")
    out: str = _field("runs/disjoint-supports", "output folder")
    strategy: str = _field("default", "default, mirrored or multiworker")


# ---------------------------------------------------------------- exact part
def segment_pmf(theta, cell, x_edges, z_bins=10):
    """P_theta on cells [x_edges] x [z_bins]: all mass in theta's x column, uniform in z."""
    pmf = np.zeros((len(x_edges) - 1, z_bins))
    col = int(np.searchsorted(x_edges, theta, side="right") - 1)
    pmf[col, :] = 1.0 / z_bins
    return pmf


def exact_part(hp, thetas, rng):
    from scipy.optimize import linear_sum_assignment

    from keras_gen.metrics import js_divergence, kl_divergence, wasserstein_1d

    # Cells centred on multiples of `cell`, so theta = 0 shares P_0's column.
    half = hp.theta_max + 2 * hp.cell
    x_edges = np.arange(-half - hp.cell / 2, half + hp.cell, hp.cell)
    p0 = segment_pmf(0.0, hp.cell, x_edges)
    rows = {"js": [], "kl": [], "w1_optimal_transport": [], "w1_x_marginals": []}
    n = hp.ot_samples
    for theta in thetas:
        pt = segment_pmf(theta, hp.cell, x_edges)
        rows["js"].append(js_divergence(p0, pt))
        rows["kl"].append(kl_divergence(p0, pt))
        a = np.stack([np.zeros(n), rng.uniform(size=n)], 1)
        b = np.stack([np.full(n, theta), rng.uniform(size=n)], 1)
        cost = np.sqrt(((a[:, None, :] - b[None, :, :]) ** 2).sum(-1))
        r, c = linear_sum_assignment(cost)
        rows["w1_optimal_transport"].append(float(cost[r, c].mean()))
        rows["w1_x_marginals"].append(wasserstein_1d(a[:, 0], b[:, 0]))
    return rows


# ---------------------------------------------------------------- learned part
def _bank_classes():
    import keras
    import tensorflow as tf

    class NetworkBank(keras.Model):
        """K independent MLPs R^2 -> R (one per theta), trained side by side.

        Each theta's network sees only its own samples and its own loss; the bank's loss
        is the sum, so with per-parameter optimizers (Adam, RMSProp) and per-weight
        clipping every network trains exactly as it would alone.
        """

        def __init__(self, thetas, kind, hidden, batch_size, gp_weight=10.0, clip=0.01, seed=0, **kwargs):
            super().__init__(**kwargs)
            self.thetas = tf.constant(np.asarray(thetas, np.float32))
            self.kind, self.batch_size, self.gp_weight, self.clip = kind, batch_size, gp_weight, clip
            k = len(thetas)
            init = keras.initializers.HeNormal(seed=seed)
            self.w1 = self.add_weight((k, 2, hidden), init, name="w1")
            self.b1 = self.add_weight((k, 1, hidden), "zeros", name="b1")
            self.w2 = self.add_weight((k, hidden, hidden), keras.initializers.HeNormal(seed=seed + 1), name="w2")
            self.b2 = self.add_weight((k, 1, hidden), "zeros", name="b2")
            self.w3 = self.add_weight((k, hidden, 1), keras.initializers.GlorotNormal(seed=seed + 2), name="w3")
            self.b3 = self.add_weight((k, 1, 1), "zeros", name="b3")
            self.seeds = keras.random.SeedGenerator(seed + 3)
            self.loss_tracker = keras.metrics.Mean(name="loss")

        def call(self, x):
            """x [K, B, 2] -> outputs [K, B] (critic value, or the discriminator's logit)."""
            h = tf.nn.leaky_relu(tf.matmul(x, self.w1) + self.b1, 0.2)
            h = tf.nn.leaky_relu(tf.matmul(h, self.w2) + self.b2, 0.2)
            return (tf.matmul(h, self.w3) + self.b3)[..., 0]

        def sample(self, n, seed_gen=None):
            """(real [K, n, 2] from P_0, fake [K, n, 2] from P_theta_k)."""
            k = tf.shape(self.thetas)[0]
            seed_gen = self.seeds if seed_gen is None else seed_gen
            z_real = keras.random.uniform((k, n), seed=seed_gen)
            z_fake = keras.random.uniform((k, n), seed=seed_gen)
            real = tf.stack([tf.zeros_like(z_real), z_real], -1)
            fake = tf.stack([tf.broadcast_to(self.thetas[:, None], tf.shape(z_fake)), z_fake], -1)
            return real, fake

        def losses_of(self, real, fake):
            """Per-network losses [K]."""
            if self.kind == "vanilla":  # -E log D(x) - E log(1 - D(G(z))), D = sigmoid(logit)
                return tf.reduce_mean(tf.nn.softplus(-self(real)) + tf.nn.softplus(self(fake)), 1)
            critic = tf.reduce_mean(self(fake), 1) - tf.reduce_mean(self(real), 1)
            if self.kind == "wgan_gp":
                eps = keras.random.uniform((tf.shape(real)[0], tf.shape(real)[1], 1), seed=self.seeds)
                mix = eps * real + (1.0 - eps) * fake
                with tf.GradientTape() as tape:
                    tape.watch(mix)
                    out = self(mix)
                grad = tape.gradient(out, mix)  # network k's output depends only on mix[k]
                norm = tf.sqrt(tf.reduce_sum(grad * grad, -1) + 1e-12)
                critic += self.gp_weight * tf.reduce_mean((norm - 1.0) ** 2, 1)
            return critic

        def train_step(self, data):
            real, fake = self.sample(self.batch_size)
            replicas = tf.distribute.get_strategy().num_replicas_in_sync
            with tf.GradientTape() as tape:
                loss = tf.reduce_sum(self.losses_of(real, fake))
                scaled = loss / replicas  # the optimizer sums replicas' gradients
            grads = tape.gradient(scaled, self.trainable_variables)
            self.optimizer.apply(grads, self.trainable_variables)
            if self.kind == "wgan_clip":  # S5: clip after every critic update
                for v in self.trainable_variables:
                    v.assign(tf.clip_by_value(v, -self.clip, self.clip))
            self.loss_tracker.update_state(loss / tf.cast(tf.shape(self.thetas)[0], loss.dtype))
            return {"loss": self.loss_tracker.result()}

        @property
        def metrics(self):
            return [self.loss_tracker]

    return NetworkBank


def train_bank(hp, thetas, kind, steps, optimizer):
    import tensorflow as tf

    from keras_gen.training import get_strategy, jit_compile_for

    bank_cls = _bank_classes()
    strategy = get_strategy(hp.strategy)
    with strategy.scope():
        bank = bank_cls(thetas, kind, hp.hidden, hp.batch_size, hp.gp_weight, hp.clip, seed=hp.seed,
                        name=f"{kind}_bank")
        bank.compile(optimizer=optimizer, jit_compile=jit_compile_for(strategy))
        bank.optimizer.build(bank.trainable_variables)
    dummy = tf.data.Dataset.from_tensors(0.0).repeat()
    start = time.time()
    history = bank.fit(dummy, steps_per_epoch=steps, epochs=1, verbose=0, shuffle=False)
    print(f"  {kind}: {steps} steps in {time.time() - start:.1f} s, final loss {history.history['loss'][-1]:.4f}")
    return bank, float(history.history["loss"][-1])


def evaluate_bank(bank, n):
    """Estimates per theta on fresh samples, and the generator's d loss / d theta."""
    import keras
    import tensorflow as tf

    real, fake_z = bank.sample(n, keras.random.SeedGenerator(12345))
    z = fake_z[..., 1]
    theta = tf.Variable(bank.thetas)
    with tf.GradientTape(persistent=True) as tape:
        fake = tf.stack([tf.broadcast_to(theta[:, None], tf.shape(z)), z], -1)
        out_fake, out_real = bank(fake), bank(real)
        if bank.kind == "vanilla":
            minimax = tf.reduce_mean(-tf.nn.softplus(out_fake), 1)  # E log(1 - D(G(z)))
            non_saturating = tf.reduce_mean(tf.nn.softplus(-out_fake), 1)  # -E log D(G(z))
            # Network k depends on theta_k only, so d(sum)/d theta_k = d loss_k / d theta_k.
            sum_minimax, sum_non_saturating = tf.reduce_sum(minimax), tf.reduce_sum(non_saturating)
        else:
            sum_wgan = tf.reduce_sum(-tf.reduce_mean(out_fake, 1))  # generator loss -E f(G(z))
    if bank.kind == "vanilla":
        v = tf.reduce_mean(-tf.nn.softplus(-out_real), 1) + minimax  # E log D(x) + E log(1 - D(G(z)))
        return {
            "js_estimate": (v.numpy() / 2 + LOG2),
            "grad_minimax": tape.gradient(sum_minimax, theta).numpy(),
            "grad_non_saturating": tape.gradient(sum_non_saturating, theta).numpy(),
        }
    estimate = tf.reduce_mean(out_real, 1) - tf.reduce_mean(out_fake, 1)
    return {"w1_estimate": estimate.numpy(), "grad_wgan": tape.gradient(sum_wgan, theta).numpy()}


def _figure(out, thetas, exact, gp, clip, vanilla):
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    fig, (ax, gx) = plt.subplots(1, 2, figsize=(12, 4.6))
    ax.plot(thetas, exact["js"], "C0o-", label="JS(P0, Pθ) (computed)")
    ax.plot(thetas, vanilla["js_estimate"], "C0x--", label="JS estimate of the trained vanilla D")
    ax.plot(thetas, np.abs(thetas), "k-", lw=2, label="W1 = |θ|")
    ax.plot(thetas, exact["w1_optimal_transport"], "C2.", label="W1, exact OT of samples")
    ax.plot(thetas, gp["w1_estimate"], "C3s--", ms=4, label="WGAN-GP critic estimate")
    scale = np.max(np.abs(thetas)) / max(np.max(np.abs(clip["w1_estimate"])), 1e-12)
    ax.plot(thetas, clip["w1_estimate"] * scale, "C4^:", ms=4, label=f"clipped WGAN critic × {scale:.3g}")
    top = max(1.05 * np.max(np.abs(thetas)), 1.0)
    kl_inf = np.isinf(exact["kl"])
    ax.plot(thetas[kl_inf], np.full(kl_inf.sum(), top), "C1^", label="KL(P0 || Pθ) = +inf")
    ax.plot(thetas[~kl_inf], np.asarray(exact["kl"])[~kl_inf], "C1^")
    ax.axhline(LOG2, color="C0", lw=0.6, ls=":")
    ax.set_xlabel("θ")
    ax.set_ylabel("nats / distance")
    ax.set_title("C4: parallel lines — JS stuck at log 2, W1 = |θ|")
    ax.legend(fontsize=7, loc="lower left")

    nz = thetas != 0
    gx.semilogy(thetas[nz], np.abs(gp["grad_wgan"])[nz], "C3s-", label="WGAN-GP generator |dL/dθ|")
    gx.semilogy(thetas[nz], np.abs(vanilla["grad_minimax"])[nz], "C0o-",
                label="vanilla minimax |d E log(1-D(G))/dθ|")
    gx.semilogy(thetas[nz], np.abs(vanilla["grad_non_saturating"])[nz], "C0x:",
                label="vanilla non-saturating |d -E log D(G)/dθ|")
    gx.set_xlabel("θ")
    gx.set_title("generator gradient against a trained D / critic")
    gx.legend(fontsize=7)
    fig.tight_layout()
    fig.savefig(f"{out}/disjoint_supports.png", dpi=110)
    plt.close(fig)


def _corr(a, b):
    return float(np.corrcoef(a, b)[0, 1])


def run(hp):
    import keras

    started = time.time()
    out = common.prepare_out(hp.out)
    common.seed_everything(hp.seed)
    thetas = np.linspace(-hp.theta_max, hp.theta_max, hp.n_thetas)
    thetas[np.isclose(thetas, 0.0)] = 0.0
    rng = np.random.default_rng(hp.seed)
    exact = exact_part(hp, thetas, rng)

    gp_bank, gp_loss = train_bank(hp, thetas, "wgan_gp", hp.critic_steps,
                                  keras.optimizers.Adam(hp.gp_learning_rate, beta_1=0.0, beta_2=0.9))
    gp = evaluate_bank(gp_bank, hp.eval_samples)
    clip_bank, clip_loss = train_bank(hp, thetas, "wgan_clip", hp.critic_steps,
                                      keras.optimizers.RMSprop(hp.clip_learning_rate))
    clip = evaluate_bank(clip_bank, hp.eval_samples)
    d_bank, d_loss = train_bank(hp, thetas, "vanilla", hp.discriminator_steps,
                                keras.optimizers.Adam(hp.d_learning_rate))
    vanilla = evaluate_bank(d_bank, hp.eval_samples)

    abs_theta = np.abs(thetas)
    nz = thetas != 0
    metrics = {
        "thetas": thetas,
        "js": exact["js"],
        "kl": exact["kl"],
        "w1": abs_theta,
        "js_is_log2_for_theta_nonzero": bool(np.allclose(np.asarray(exact["js"])[nz], LOG2, atol=1e-12)),
        "kl_is_inf_for_theta_nonzero": bool(np.all(np.isinf(np.asarray(exact["kl"])[nz]))),
        "w1_optimal_transport": exact["w1_optimal_transport"],
        "w1_optimal_transport_max_abs_error": float(np.max(np.abs(np.array(exact["w1_optimal_transport"]) - abs_theta))),
        "w1_x_marginals_max_abs_error": float(np.max(np.abs(np.array(exact["w1_x_marginals"]) - abs_theta))),
        "wgan_gp_critic_estimate": gp["w1_estimate"],
        "wgan_gp_abs_error_max": float(np.max(np.abs(gp["w1_estimate"] - abs_theta))),
        "wgan_gp_abs_error_mean": float(np.mean(np.abs(gp["w1_estimate"] - abs_theta))),
        "wgan_gp_correlation": _corr(gp["w1_estimate"], abs_theta),
        "wgan_clip_critic_estimate": clip["w1_estimate"],
        "wgan_clip_correlation": _corr(clip["w1_estimate"], abs_theta),
        "vanilla_js_estimate": vanilla["js_estimate"],
        "vanilla_js_estimate_min_for_theta_nonzero": float(np.min(vanilla["js_estimate"][nz])),
        "vanilla_generator_grad_norm": float(np.mean(np.abs(vanilla["grad_minimax"][nz]))),
        "non_saturating_generator_grad_norm": float(np.mean(np.abs(vanilla["grad_non_saturating"][nz]))),
        "wgan_generator_grad_norm": float(np.mean(np.abs(gp["grad_wgan"][nz]))),
        "vanilla_generator_grad_per_theta": vanilla["grad_minimax"],
        "non_saturating_generator_grad_per_theta": vanilla["grad_non_saturating"],
        "wgan_generator_grad_per_theta": gp["grad_wgan"],
        "final_losses": {"wgan_gp": gp_loss, "wgan_clip": clip_loss, "vanilla": d_loss},
        "seed": hp.seed,
    }
    _figure(out, thetas, exact, gp, clip, vanilla)
    metrics["seconds"] = round(time.time() - started, 1)
    common.write_metrics(out, metrics, hp, started)
    print(f"== {NAME} ==")
    print(f"  {'theta':>6} {'JS':>8} {'KL':>5} {'W1':>5} {'W1 OT':>6} {'GP est':>7} {'clip est':>9} "
          f"{'D JS est':>9} {'|g| vanilla':>11} {'|g| WGAN':>9}")
    for i, t in enumerate(thetas):
        print(f"  {t:6.2f} {exact['js'][i]:8.5f} {exact['kl'][i]:5.3g} {abs(t):5.2f} "
              f"{exact['w1_optimal_transport'][i]:6.3f} {gp['w1_estimate'][i]:7.3f} {clip['w1_estimate'][i]:9.4f} "
              f"{vanilla['js_estimate'][i]:9.5f} {abs(vanilla['grad_minimax'][i]):11.2e} {abs(gp['grad_wgan'][i]):9.3f}")
    common.print_metrics(NAME, metrics, [
        "js_is_log2_for_theta_nonzero", "kl_is_inf_for_theta_nonzero", "w1_optimal_transport_max_abs_error",
        "wgan_gp_abs_error_max", "wgan_gp_abs_error_mean", "wgan_gp_correlation", "wgan_clip_correlation",
        "vanilla_js_estimate_min_for_theta_nonzero", "vanilla_generator_grad_norm",
        "non_saturating_generator_grad_norm", "wgan_generator_grad_norm", "seconds",
    ])
    return metrics


if __name__ == "__main__":
    run(HParams())
