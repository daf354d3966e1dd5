"""Learning-rate warm-up followed by a decay (notes 002, lecture 5: learning-rate scheduling).

The lecture's fix for adaptive optimisers that jolt once small gradients have shrunk
sigma: make eta depend on the update, rising first ("warm-up") and then decaying. The
warm-up matters most early, when Adam's and RMSProp's sigma rest on few gradients
(Liu et al. 2020, "On the variance of the adaptive learning rate and beyond"); the
Transformer (Vaswani et al. 2017) and ResNet (He et al. 2016) trained with one.
"""
import math

import keras

from keras_gen.errors import KerasGenError, unknown_name

DECAYS = ("cosine", "linear", "inverse_sqrt", "constant")


@keras.saving.register_keras_serializable(package="keras_gen")
class WarmupDecay(keras.optimizers.schedules.LearningRateSchedule):
    """Linear warm-up to `peak_learning_rate` over `warmup_steps` updates, then a decay.

    Formula (the optimizer passes its update count s = 0, 1, ...; u = s + 1 is the
    update's number, so the first update already has a non-zero rate; W = warmup_steps,
    D = decay_steps, f = final_fraction, p = min((u - W) / D, 1)):

        lr(s) = peak u / W                                      u <= W   (warm-up)
        lr(s) = peak (f + (1 - f) (1 + cos(pi p)) / 2)          u > W,  decay = "cosine"
        lr(s) = peak (1 - (1 - f) p)                            u > W,  decay = "linear"
        lr(s) = peak sqrt(W / u)                                u > W,  decay = "inverse_sqrt"
        lr(s) = peak                                            u > W,  decay = "constant"

    With decay = "inverse_sqrt" and peak = d_model^-0.5 W^-0.5 this is the Transformer's
    schedule, lr = d_model^-0.5 min(u^-0.5, u W^-1.5) (Vaswani et al. 2017, eq. 3). With
    W = 0 there is no warm-up ("inverse_sqrt" then needs W >= 1).

    Args:
        peak_learning_rate: the rate at the end of the warm-up.
        warmup_steps: W, updates of linear warm-up (0: none).
        decay_steps: D, updates over which "cosine" and "linear" decay to f * peak
            (held there afterwards); unused by "inverse_sqrt" and "constant".
        decay: one of `DECAYS`.
        final_fraction: f, the rate after the decay as a fraction of the peak.
    """

    def __init__(self, peak_learning_rate, warmup_steps, decay_steps=1, decay="cosine", final_fraction=0.0):
        if decay not in DECAYS:
            raise unknown_name("decay", decay, DECAYS)
        if not float(peak_learning_rate) > 0 or not math.isfinite(float(peak_learning_rate)):
            raise KerasGenError(f"WarmupDecay needs peak_learning_rate > 0, got {peak_learning_rate!r}")
        if int(warmup_steps) != warmup_steps or int(warmup_steps) < 0:
            raise KerasGenError(f"WarmupDecay needs an integer warmup_steps >= 0, got {warmup_steps!r}")
        if int(decay_steps) != decay_steps or int(decay_steps) < 1:
            raise KerasGenError(f"WarmupDecay needs an integer decay_steps >= 1, got {decay_steps!r}")
        if not 0.0 <= float(final_fraction) <= 1.0:
            raise KerasGenError(f"WarmupDecay needs final_fraction in [0, 1], got {final_fraction!r}")
        if decay == "inverse_sqrt" and int(warmup_steps) < 1:
            raise KerasGenError("WarmupDecay(decay='inverse_sqrt') needs warmup_steps >= 1 (lr = peak sqrt(W / u))")
        self.peak_learning_rate = float(peak_learning_rate)
        self.warmup_steps = int(warmup_steps)
        self.decay_steps = int(decay_steps)
        self.decay = decay
        self.final_fraction = float(final_fraction)

    def __call__(self, step):
        ops = keras.ops
        u = ops.cast(step, "float32") + 1.0
        w = float(self.warmup_steps)
        peak, f = self.peak_learning_rate, self.final_fraction
        warm = peak * u / max(w, 1.0)
        if self.decay == "constant":
            after = peak * ops.ones_like(u)
        elif self.decay == "inverse_sqrt":
            after = peak * ops.sqrt(w / u)
        else:
            p = ops.clip((u - w) / float(self.decay_steps), 0.0, 1.0)
            if self.decay == "cosine":
                after = peak * (f + (1.0 - f) * 0.5 * (1.0 + ops.cos(math.pi * p)))
            else:
                after = peak * (1.0 - (1.0 - f) * p)
        return ops.where(u <= w, warm, after)

    def get_config(self):
        return {"peak_learning_rate": self.peak_learning_rate, "warmup_steps": self.warmup_steps,
                "decay_steps": self.decay_steps, "decay": self.decay, "final_fraction": self.final_fraction}
