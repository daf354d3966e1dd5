"""Keras 3 `fit` under `tf.distribute.MultiWorkerMirroredStrategy`: the workarounds, in one place.

Keras 3.15's TensorFlow trainer has two failures that stop `fit` on a multi-worker
cluster before or at its first step, and one behaviour that makes a run's numbers
depend on the strategy. This module patches the three spots of
`keras.src.backend.tensorflow.trainer` when it is imported (`keras_gen.training`
imports it), so a user builds the model in the strategy's scope and calls `fit`,
nothing else. Each patch falls through to Keras's own code outside the case it fixes.

1. **The symbolic build draws a `PerReplica` batch and reduces it**
   (keras-team/keras#20585, open). `fit` starts with `_maybe_symbolic_build`, which
   pulls one batch from the distributed iterator and, when every leaf is a
   `DistributedValues`, calls `strategy.reduce("MEAN", batch, axis=None)` on it only to
   learn the batch's shapes and dtypes. Under `MultiWorkerMirroredStrategy` that
   reduce fails ("Attempt to convert a value (PerReplica:{...}) with an unsupported
   type"). The batch is not needed: the shapes and dtypes are in the dataset's
   `element_spec`, which is what the patch hands to `_symbolic_build`.
2. **Scalar logs reduced with `axis=0`.** The train function reduces every log
   with `reduce_per_replica(..., reduction="auto")`, which under a multi-worker
   cluster becomes `strategy.reduce("MEAN", v, axis=0)`; a scalar log (every
   `keras.metrics.Mean` result) fails with "Invalid reduction dimension 0 for input
   with 0 dimensions". The patch reduces scalars with `axis=None` (the mean over the
   replicas; the same reduction Keras makes for one worker with several devices).
   Same upstream code path as #20585 (its `_collective_all_reduce_multi_worker` branch).
3. **The extra draw** (under every non-default strategy, not only multi-worker).
   The batch of (1) comes from an iterator that `fit` then resets, so a dataset that
   reshuffles each iteration (`shuffle(..., reshuffle_each_iteration=True)`) gives
   every epoch the next epoch's order, and `--strategy mirrored` on one device
   differs from `default`. Taking the shapes from `element_spec` (1) draws nothing,
   so a pipeline sees the same iterators under every strategy. (keras_gen's own
   pipelines are immune anyway: `keras_gen.data.epoch_batches` makes each epoch's
   order a pure function of (seed, epoch).)

`tests/distributed/` checks that each patched behaviour is still what Keras does
unpatched (`original_failures`; the extra draw in
`tests/training/test_multiworker_patches.py`): when a Keras release
fixes one, its test fails, and the patch can go.
"""
import tensorflow as tf
from keras.src.backend.tensorflow import trainer as _tf_trainer
from keras.src import tree

_ORIGINAL_MAYBE_SYMBOLIC_BUILD = _tf_trainer.TensorFlowTrainer._maybe_symbolic_build
_ORIGINAL_REDUCE_PER_REPLICA = _tf_trainer.reduce_per_replica
_PATCHED = False


def is_multi_worker(strategy):
    """Whether `strategy` is a MultiWorkerMirroredStrategy spanning more than one worker."""
    return isinstance(strategy, tf.distribute.MultiWorkerMirroredStrategy) and bool(
        strategy.extended._in_multi_worker_mode())


def _element_spec(iterator):
    """The `element_spec` of the dataset behind a Keras `TFEpochIterator`, or None."""
    adapter = getattr(iterator, "data_adapter", None)
    if adapter is None:
        return None
    try:
        spec = adapter.get_tf_dataset().element_spec
    except Exception:  # an adapter without a tf.data form: leave it to Keras
        return None
    leaves = tree.flatten(spec)
    if not leaves or not all(isinstance(s, tf.TensorSpec) for s in leaves):
        return None  # ragged / sparse / optional elements: Keras's own path
    return spec


def _maybe_symbolic_build(self, iterator=None, data_batch=None):
    """Patch 1 and 3: build from the dataset's element_spec instead of a drawn batch."""
    if self._distribute_strategy is not None and iterator is not None and data_batch is None:
        spec = _element_spec(iterator)
        if spec is not None:
            # `_symbolic_build` reads only `.shape` and `.dtype` of each leaf, which a
            # TensorSpec has; nothing is drawn, nothing is reduced across workers.
            with self.distribute_strategy.scope():
                self._symbolic_build(data_batch=spec)
            return
    return _ORIGINAL_MAYBE_SYMBOLIC_BUILD(self, iterator=iterator, data_batch=data_batch)


def _reduce_per_replica(values, strategy, reduction):
    """Patch 2: under a multi-worker cluster, reduce scalar logs with `axis=None`."""
    if is_multi_worker(strategy) and reduction in ("auto", "mean"):
        def reduce(v):
            if isinstance(v, (tf.Tensor, tf.distribute.DistributedValues)) and _rank(v) == 0:
                return strategy.reduce("MEAN", v, axis=None)
            return _ORIGINAL_REDUCE_PER_REPLICA(v, strategy, reduction)

        return tree.map_structure(reduce, values)
    return _ORIGINAL_REDUCE_PER_REPLICA(values, strategy, reduction)


def _rank(v):
    if isinstance(v, tf.distribute.DistributedValues):
        v = v.values[0]
    return v.shape.rank


def install():
    """Applies the patches (idempotent; `keras_gen.training` calls it on import)."""
    global _PATCHED
    if _PATCHED:
        return
    _tf_trainer.TensorFlowTrainer._maybe_symbolic_build = _maybe_symbolic_build
    _tf_trainer.reduce_per_replica = _reduce_per_replica
    _PATCHED = True


def uninstall():
    """Restores Keras's own code (tests use it to check that the patched failures persist)."""
    global _PATCHED
    _tf_trainer.TensorFlowTrainer._maybe_symbolic_build = _ORIGINAL_MAYBE_SYMBOLIC_BUILD
    _tf_trainer.reduce_per_replica = _ORIGINAL_REDUCE_PER_REPLICA
    _PATCHED = False


def original_failures(strategy, dataset, build):
    """Runs Keras's unpatched code on a multi-worker cluster; returns each failure's message.

    `{"symbolic_build": message or None, "scalar_log_reduce": message or None}`: None
    means Keras no longer fails there (the patch can be dropped). `dataset` should yield
    `(x, y)` pairs and `build()` return a model compiled with a Keras loss (the case of
    keras-team/keras#20585). Every worker must call this at the same point (the
    reductions are collectives).
    """
    out = {}
    with strategy.scope():
        model = build()
    it = _tf_trainer.TFEpochIterator(x=dataset, distribute_strategy=strategy, steps_per_epoch=None)
    try:
        _ORIGINAL_MAYBE_SYMBOLIC_BUILD(model, iterator=it)
        out["symbolic_build"] = None
    except Exception as err:  # noqa: BLE001 - the message is the result
        out["symbolic_build"] = _message(err)

    @tf.function
    def scalar_logs():
        per_replica = strategy.run(lambda: {"loss": tf.constant(1.0)})
        return _ORIGINAL_REDUCE_PER_REPLICA(per_replica, strategy, "auto")

    try:
        scalar_logs()
        out["scalar_log_reduce"] = None
    except Exception as err:  # noqa: BLE001
        out["scalar_log_reduce"] = _message(err)
    return out


def steps_per_execution_failure(strategy, dataset, build):
    """Keras's `fit` with `steps_per_execution=2` on a multi-worker cluster: its failure message, or None.

    The reason for `keras_gen.training.steps_per_execution_for` (one step per call across
    workers). `build()` returns a compiled model; it is recompiled here with 2 steps per
    execution and fitted for 2 steps. Every worker must call this at the same point, after
    its other collectives (the workers fail together, in the same step).
    """
    with strategy.scope():
        model = build()
        model.compile(optimizer=model.optimizer, loss=model.loss, steps_per_execution=2)
    try:
        model.fit(dataset, epochs=1, steps_per_epoch=2, verbose=0)
        return None
    except Exception as err:  # noqa: BLE001 - the message is the result
        return _message(err)


def _message(err):
    """`Type: the line of the error that says what went wrong` (graph errors wrap it in context lines)."""
    lines = [line.strip() for line in str(err).splitlines() if line.strip()]
    said = [line for line in lines if line.startswith(("ValueError", "TypeError", "InvalidArgument", "You must feed"))]
    return f"{type(err).__name__}: {(said or lines or [''])[-1][:300]}"


install()

