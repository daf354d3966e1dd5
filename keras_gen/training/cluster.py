"""Which process writes: the chief of a multi-worker cluster, and the process-wide settings.

Under `MultiWorkerMirroredStrategy` every worker runs the same program (collective ops
need all of them), but only one, the chief, should write outputs: two workers writing
one metrics.json, one `.keras` file or one SavedModel version collide. The others
write to a private folder of their own and delete it at the end (the rule
TensorFlow's multi-worker checkpointing follows).
"""
import os

import tensorflow as tf

from keras_gen.errors import unknown_name

PRECISIONS = ("float32", "mixed_bfloat16", "mixed_float16")


def task(strategy=None):
    """`(task_type, task_id)` of this process (`(None, 0)` outside a cluster)."""
    strategy = strategy or tf.distribute.get_strategy()
    resolver = getattr(strategy, "cluster_resolver", None)
    if resolver is None or not getattr(resolver, "task_type", None):
        return None, 0
    return resolver.task_type, int(resolver.task_id or 0)


def is_chief(strategy=None):
    """Whether this process writes the outputs: the `chief` task, else `worker` 0, else True."""
    strategy = strategy or tf.distribute.get_strategy()
    task_type, task_id = task(strategy)
    if task_type is None:
        return True
    if task_type == "chief":
        return True
    resolver = strategy.cluster_resolver
    has_chief = "chief" in resolver.cluster_spec().as_dict()
    return task_type == "worker" and task_id == 0 and not has_chief


def write_dir(out, strategy=None):
    """`out` on the chief; `<out>/.worker-<type>-<id>` (private, deleted at the end) elsewhere."""
    if is_chief(strategy):
        return out
    task_type, task_id = task(strategy)
    return os.path.join(out, f".worker-{task_type}-{task_id}")


def configure(precision="float32", deterministic=False):
    """Process-wide settings of a run: the Keras dtype policy and TensorFlow op determinism.

    Args:
        precision: `float32`, `mixed_bfloat16` or `mixed_float16` (the global Keras
            dtype policy: layers compute in the low precision, variables stay float32).
        deterministic: `tf.config.experimental.enable_op_determinism()` (cannot be
            switched off again in the same process).
    """
    import keras

    if precision not in PRECISIONS:
        raise unknown_name("precision", precision, PRECISIONS)
    keras.mixed_precision.set_global_policy(precision)
    if deterministic:
        tf.config.experimental.enable_op_determinism()
