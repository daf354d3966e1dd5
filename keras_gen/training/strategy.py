"""One place that turns a strategy name into a `tf.distribute.Strategy`.

Names: `default` (no distribution: the current default strategy), `mirrored`
(all local GPUs, or all logical CPU devices), `multiworker`
(`MultiWorkerMirroredStrategy` over the cluster in `TF_CONFIG`, or, under Slurm without
a `TF_CONFIG`, the job's nodes through `SlurmClusterResolver`; `keras-gen launch`
starts such a cluster on one machine). Under `multiworker` Keras's `fit` needs the
workarounds of `keras_gen.training.multiworker`, installed when `keras_gen.training`
is imported.

What the models rely on under any strategy (see CONVENTIONS.md):
- hand-written losses are averaged over the *global* batch, so N replicas at global
  batch B make the update of one replica at batch B (`global_mean` below);
- optimizers are built against their variables inside `strategy.scope()` before `fit`.
"""
import os

import tensorflow as tf

from keras_gen.errors import KerasGenError, unknown_name

STRATEGIES = ("default", "mirrored", "multiworker")
_STRATEGIES = {}  # name -> the strategy this process created


def get_strategy(name="default"):
    """Returns the `tf.distribute.Strategy` called `name`, the same object for the same name.

    One strategy per process: a second `MultiWorkerMirroredStrategy` in the same process
    breaks the first one's collective ("Delete called on non-empty BufRendezvous"), so
    every reproduction asks here, once per seed or configuration, and gets the one
    created first.

    Args:
        name: one of `STRATEGIES`, or an existing `tf.distribute.Strategy` (returned
            unchanged).
    """
    if isinstance(name, tf.distribute.Strategy):
        return name
    if name == "default":
        return tf.distribute.get_strategy()
    if name not in STRATEGIES:
        raise unknown_name("strategy", name, STRATEGIES)
    if name not in _STRATEGIES:
        _STRATEGIES[name] = _create(name)
    return _STRATEGIES[name]


def _create(name):
    if name == "mirrored":
        gpus = tf.config.list_logical_devices("GPU")
        devices = [d.name for d in gpus] or [d.name for d in tf.config.list_logical_devices("CPU")]
        # Without GPUs MirroredStrategy would use a single CPU replica; with logical CPU
        # devices configured (tests), mirror over all of them.
        return tf.distribute.MirroredStrategy(devices=devices)
    import os

    resolver = None
    if not os.environ.get("TF_CONFIG") and os.environ.get("SLURM_JOB_ID"):
        # One task per node of the Slurm job; the resolver reads SLURM_* and picks ports.
        resolver = tf.distribute.cluster_resolver.SlurmClusterResolver()
    return tf.distribute.MultiWorkerMirroredStrategy(cluster_resolver=resolver)


def global_mean(per_example, global_batch_size=None):
    """Mean of per-example values over the global batch (replica-count aware).

    Inside a replica context with N replicas, returns sum(per_example) / (N * local
    batch) so that summing gradients across replicas gives the gradient of the global
    mean. With one replica it is the ordinary mean.

    Formula: `sum_i v_i / B_global`.
    """
    per_example = tf.convert_to_tensor(per_example)
    if per_example.dtype in (tf.float16, tf.bfloat16):
        per_example = tf.cast(per_example, tf.float32)  # losses in float32 under mixed precision
    if per_example.shape.rank and per_example.shape.rank > 1:
        per_example = tf.reduce_mean(
            tf.reshape(per_example, [tf.shape(per_example)[0], -1]), axis=1
        )
    return tf.nn.compute_average_loss(per_example, global_batch_size=global_batch_size)


def setup_logical_cpus(n):
    """Splits the CPU into `n` logical devices (must run before TF initialises; once it is
    done, asking again for the same `n` changes nothing)."""
    cpus = tf.config.list_physical_devices("CPU")
    current = tf.config.get_logical_device_configuration(cpus[0])
    if current is not None and len(current) == n:
        return
    tf.config.set_logical_device_configuration(
        cpus[0], [tf.config.LogicalDeviceConfiguration() for _ in range(n)]
    )


def jit_compile_for(strategy):
    """Whether to XLA-compile train steps under `strategy`: only with a single replica.

    XLA speeds up the small train steps of these models a lot on one device. With more
    than one replica it still fails on CPUs (TensorFlow 2.21, Keras 3.15; checked with
    the variables created in the strategy's scope, as every keras_gen model does):

    * `MirroredStrategy` over 2 (logical) CPUs: "Trying to access resource
      .../replica_1 located in device CPU:1 from device CPU:0" (XLA's known issue
      about variables on another device); `tests/training/test_xla_replicas.py`
      keeps this failing case, and tells us when it starts to work.
    * `MultiWorkerMirroredStrategy` (2 workers, one CPU each): "Collectives are not
      yet implemented for CPU devices when compiling with XLA" (TensorFlow's
      b/194942685), after which the workers abort.

    GPUs compile collectives through NCCL and may well work; untested here (no GPU),
    so the rule stays "one replica".

    `KERAS_GEN_XLA=off` in the environment turns XLA off everywhere (see `xla_enabled`).
    """
    return strategy.num_replicas_in_sync == 1 and xla_enabled()


XLA_ENV = "KERAS_GEN_XLA"


def xla_enabled():
    """False when the environment says `KERAS_GEN_XLA=off` (or 0/false), else True.

    Compiling a train step with XLA costs seconds per model on a CPU; a short run (a
    smoke test, a debugging session) can spend more time compiling than it saves. XLA
    also draws different numbers from the same stateless random seeds than plain
    TensorFlow, so runs with and without it are not bit-for-bit comparable: every
    metrics.json records `"xla"`.
    """
    value = os.environ.get(XLA_ENV, "on").strip().lower()
    if value in ("", "on", "1", "true"):
        return True
    if value in ("off", "0", "false"):
        return False
    raise KerasGenError(f"{XLA_ENV} must be 'on' or 'off', got {value!r}")


def replica_rows(make_global, local_batch):
    """Draws a global batch with `make_global(global_batch)` and keeps this replica's rows.

    The noise of every model (latents, reparameterisation eps, Gibbs uniforms, penalty
    interpolation weights) goes through here: drawn statelessly for the whole global
    batch and sliced to rows `[r * local_batch, (r + 1) * local_batch)` of replica `r`,
    so a global example gets the same noise whatever the replica count (when the global
    batch divides evenly, as with `drop_remainder=True`).

    `make_global` returns a tensor or a nest of tensors whose first axis is the batch.
    Outside a replica context (or with one replica) it is `make_global(local_batch)`.
    """
    ctx = tf.distribute.get_replica_context()
    n = 1 if ctx is None else ctx.num_replicas_in_sync
    if n == 1:
        return make_global(local_batch)
    start = tf.cast(ctx.replica_id_in_sync_group, tf.int32) * local_batch
    full = make_global(local_batch * n)
    return tf.nest.map_structure(lambda t: t[start:start + local_batch], full)


def apply_gradients(optimizer, loss, variables, tape):
    """`optimizer.apply` of d loss / d variables, no update starting before every gradient exists.

    Without the barrier a traced step can run the update of a late layer (whose gradient
    is ready early) while backprop into earlier layers still reads that layer's weights:
    in a few percent of traced steps (measured on an f-GAN: 6 of 80) earlier layers got
    gradients computed with already-updated weights, a wrong step eager execution never
    makes. Every model's train step applies its gradients through here.

    With a `LossScaleOptimizer` (mixed_float16) the gradients are those of
    `loss * dynamic_scale` (`output_gradients`), which the optimizer unscales.
    """
    from keras_gen.training.precision import loss_scale

    scale = loss_scale(optimizer)
    grads = tape.gradient(loss, variables,
                          output_gradients=None if scale is None else tf.cast(scale, loss.dtype))
    with tf.control_dependencies([g for g in tf.nest.flatten(grads, expand_composites=True) if g is not None]):
        grads = [None if g is None else tf.identity(g) for g in grads]
    optimizer.apply(grads, variables)
    return grads


def steps_per_execution_for(strategy, steps):
    """`steps_per_execution` to compile with under `strategy`: `steps`, or 1 across workers.

    Keras runs `steps_per_execution > 1` as a `tf.while_loop` that asks the distributed
    iterator `has_next` before each step. Under `MultiWorkerMirroredStrategy` (TensorFlow
    2.21, Keras 3.15, 2 workers of one CPU each) that fails inside `fit`: "You must feed a
    value for placeholder tensor 'while/.../Placeholder_5'" (gan-vs-wgan-gp-ring; gmmn,
    which compiles the same way, uses this too). One step per call works (both
    reproductions finish under 2 workers), only with more Python per step; on one worker
    (any number of local replicas) `steps` is kept.
    `tests/distributed/test_multiworker.py` keeps the failing case and tells us when Keras
    fixes it.
    """
    from keras_gen.training.multiworker import is_multi_worker

    steps = int(steps)
    if steps < 1:
        raise ValueError(f"steps_per_execution must be >= 1, got {steps}")
    return 1 if is_multi_worker(strategy) else steps
