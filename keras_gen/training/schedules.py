"""Learning-rate schedules that save with a model (`.keras`) and run under `jit_compile`."""
import keras

from keras_gen.errors import KerasGenError


@keras.saving.register_keras_serializable(package="keras_gen")
class HoldThenCosine(keras.optimizers.schedules.LearningRateSchedule):
    """Constant, then a cosine decay over the last `decay_fraction` of `total_steps`.

    Formula (s = step, h = floor((1 - decay_fraction) total_steps), T = total_steps - h):

        lr(s) = lr0                                                    for s < h
        lr(s) = lr0 (alpha + (1 - alpha) (1 + cos(pi min(s - h, T) / T)) / 2)   after

    so the rate ends at `alpha * lr0`. GANs trained this way keep the paper's rate for
    most of training and let the two players settle at the end.

    Args:
        learning_rate: lr0.
        total_steps: optimizer steps of the whole run.
        decay_fraction: the share of the steps over which the rate decays (0..1).
        alpha: final rate as a fraction of lr0.
    """

    def __init__(self, learning_rate, total_steps, decay_fraction=0.5, alpha=0.05):
        if not 0.0 <= float(decay_fraction) <= 1.0 or int(total_steps) < 1 or float(learning_rate) <= 0:
            raise KerasGenError(f"HoldThenCosine needs learning_rate > 0, total_steps >= 1 and decay_fraction in [0, 1], "
                                f"got {learning_rate}, {total_steps}, {decay_fraction}")
        self.learning_rate = float(learning_rate)
        self.total_steps = int(total_steps)
        self.decay_fraction = float(decay_fraction)
        self.alpha = float(alpha)

    def __call__(self, step):
        import math

        hold = int(self.total_steps * (1.0 - self.decay_fraction))
        span = max(self.total_steps - hold, 1)
        s = keras.ops.cast(step, "float32")
        t = keras.ops.clip((s - hold) / span, 0.0, 1.0)
        cosine = self.alpha + (1.0 - self.alpha) * 0.5 * (1.0 + keras.ops.cos(math.pi * t))
        return self.learning_rate * keras.ops.where(s < hold, 1.0, cosine)

    def get_config(self):
        return {"learning_rate": self.learning_rate, "total_steps": self.total_steps,
                "decay_fraction": self.decay_fraction, "alpha": self.alpha}
