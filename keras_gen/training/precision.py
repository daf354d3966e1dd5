"""Mixed precision: what stays float32 and when gradients are loss-scaled.

Under `mixed_bfloat16` or `mixed_float16` (Keras's global dtype policy, set by
`--precision`, or a `precision=` argument of a model builder) layers compute in the
low precision while variables stay float32. keras_gen keeps these in float32, cast
up (never down):

* every loss and penalty: the networks' outputs are cast to float32 before a loss
  sees them (`to_float32`), and `global_mean` casts per-example values up;
* sampling layers (`GaussianSampler` runs in float32) and the metrics' trackers;
* under `mixed_float16` every optimizer is a `keras.optimizers.LossScaleOptimizer`
  (`loss_scaled`): gradients are taken of the loss times the dynamic scale and
  unscaled by the optimizer, which skips a step whose gradients overflow. Keras wraps
  the optimizer of a single-optimizer model itself; the two- and three-player models
  wrap each of theirs in `compile`. bfloat16 has float32's exponent range and needs
  no loss scaling.
"""
import keras
import tensorflow as tf

LOW_PRECISION = ("float16", "bfloat16")


def to_float32(x):
    """`x` (a tensor or a nest) with every float16/bfloat16 tensor cast up to float32."""
    def cast(t):
        if isinstance(t, (tf.Tensor, tf.Variable)) and t.dtype.name in LOW_PRECISION:
            return tf.cast(t, tf.float32)
        return t

    return tf.nest.map_structure(cast, x)


def uses_float16(*layers):
    """Whether the global policy, or any of `layers`' policies, is `mixed_float16`."""
    names = [keras.mixed_precision.global_policy().name]
    names += [getattr(getattr(layer, "dtype_policy", None), "name", "") for layer in layers]
    return "mixed_float16" in names


def loss_scaled(optimizer, *layers):
    """`optimizer` wrapped in a `LossScaleOptimizer` when `layers` (or the global policy) compute in float16."""
    if optimizer is None or isinstance(optimizer, keras.optimizers.LossScaleOptimizer) or not uses_float16(*layers):
        return optimizer
    return keras.optimizers.LossScaleOptimizer(optimizer)


def loss_scale(optimizer):
    """The factor a loss is multiplied by before differentiating (1 for an optimizer without loss scaling)."""
    if isinstance(optimizer, keras.optimizers.LossScaleOptimizer):
        return optimizer.dynamic_scale
    return None
