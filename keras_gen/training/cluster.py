"""Which process writes: the chief of a multi-worker cluster, and the process-wide settings.

Under `MultiWorkerMirroredStrategy` every worker runs the same program (collective ops
need all of them), but only one, the chief, should write outputs: two workers writing
one metrics.json, one `.keras` file or one SavedModel version collide. The others
write to a private folder of their own and delete it at the end (the rule
TensorFlow's multi-worker checkpointing follows).
"""
import json
import os

import tensorflow as tf

from keras_gen.errors import KerasGenError, unknown_name

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
    return _chief(task_type, task_id, "chief" in strategy.cluster_resolver.cluster_spec().as_dict())


def _chief(task_type, task_id, has_chief):
    """The chief is the `chief` task, else `worker` 0."""
    return task_type == "chief" or (task_type == "worker" and task_id == 0 and not has_chief)


def environment_task():
    """`(task_type, task_id, is_chief)` of this process read from its environment, without
    building a strategy: `TF_CONFIG` (the chief is the `chief` task, else `worker` 0), or
    under Slurm without one, the task of `SLURM_PROCID` (0 is the chief, as for
    `SlurmClusterResolver`); `(None, 0, True)` outside a cluster."""
    config = os.environ.get("TF_CONFIG")
    if config:
        try:
            parsed = json.loads(config)
            task_type = parsed["task"]["type"]
            task_id = int(parsed["task"].get("index", 0))
            has_chief = "chief" in parsed.get("cluster", {})
        except (ValueError, KeyError, TypeError, AttributeError) as err:
            raise KerasGenError(f"TF_CONFIG must be JSON with a task type and index ({err}); got {config[:80]!r}")
        return task_type, task_id, _chief(task_type, task_id, has_chief)
    if os.environ.get("SLURM_JOB_ID"):
        task_id = int(os.environ.get("SLURM_PROCID", "0"))
        return "worker", task_id, task_id == 0
    return None, 0, True


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


def agree(values, strategy=None, op="MAX"):
    """The element-wise `op` (`MAX` or `MIN`) of integer `values` over every worker of the cluster.

    Decisions that change which collective ops run (skip a finished part, resume at
    epoch k) must be the same on every worker, or the workers wait for each other's
    collectives forever. Each worker brings what it sees on its own disk; all of them
    go on with the common answer. Outside a multi-worker cluster it returns `values`.
    Every worker must call it at the same point (it is a collective itself).
    """
    import numpy as np

    from keras_gen.training.multiworker import is_multi_worker

    strategy = strategy or tf.distribute.get_strategy()
    values = np.asarray(values, dtype=np.int64)
    if not is_multi_worker(strategy):
        return values
    if op not in ("MAX", "MIN"):
        raise ValueError(f"op must be MAX or MIN, got {op!r}")
    const = tf.constant(values)[None]

    @tf.function
    def gather():  # all_reduce knows only SUM and MEAN: gather every replica's values instead
        return strategy.run(lambda: tf.distribute.get_replica_context().all_gather(const, axis=0))

    every = strategy.experimental_local_results(gather())[0].numpy()
    return every.max(axis=0) if op == "MAX" else every.min(axis=0)


def backup_epoch(backup_dir):
    """The epoch a `keras.callbacks.BackupAndRestore(backup_dir)` resumes from (0 without a backup).

    Reads Keras's own record of it, `<backup_dir>/training_metadata.json`
    (`{"epoch": next epoch, "batch": ...}` in Keras 3.15; a test tells when the format
    changes), so a pipeline can be built to start at that epoch before `fit` restores
    the weights.
    """
    import json

    path = os.path.join(backup_dir, "training_metadata.json")
    if not os.path.exists(path):
        return 0
    with open(path, encoding="utf-8") as f:
        return int(json.load(f)["epoch"])
