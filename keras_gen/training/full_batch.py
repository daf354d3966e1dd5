"""`fit` with validation for full-batch training, where one epoch is one step (T9).

A node classifier trained on a whole graph makes one optimizer step per epoch, and
early stopping looks at the validation nodes after every step. There `model.fit(train,
validation_data=val, epochs=k)` spends more time around the step than in it: each
epoch opens a new iterator, and each epoch's `evaluate` builds its callback list and
converts its logs (measured on Cora, one CPU core: a GCN step with its validation pass
~31 ms, the epoch inside `fit` ~55-70 ms).

`fit_full_batch` makes the same steps with the same compiled train and test functions:
the first epoch is an ordinary `fit` call (which builds the optimizer and metrics
variables and traces both functions), the others call `model.train_function` and
`model.test_function` directly. The callbacks see the same `on_train_begin`,
`on_epoch_end(epoch, logs)` (with `loss`, the compiled metrics and their `val_`
counterparts) and `on_train_end`, and `model.stop_training` ends the loop as in `fit`.
The weights and logs equal `fit`'s (tests/training/test_full_batch.py checks them to the
bit); batch-level callback hooks are not called. For one device: under a strategy of
several replicas use `fit` (gnn-cora and graph-spectra-karate never train with replicas:
`reproductions.common.one_device_only`).
"""
import keras

from keras_gen.errors import KerasGenError


def _one_element(dataset, name):
    cardinality = int(dataset.cardinality())
    if cardinality != 1:
        raise KerasGenError(f"{name} must be a dataset of one full-graph batch (full_graph_dataset), "
                            f"got {cardinality} elements")


def fit_full_batch(model, train, validation, epochs, callbacks=()):
    """Trains `model` for at most `epochs` one-step epochs, validating after each.

    Args:
        model: a compiled Keras model.
        train, validation: `tf.data.Dataset`s of one element each
            (`keras_gen.data.graphs.full_graph_dataset`, ideally `.cache()`d).
        epochs: epochs at most (the callbacks may stop it sooner).
        callbacks: Keras callbacks (epoch- and train-level hooks).

    Returns:
        The history: a dict of per-epoch lists, as `fit(...).history`.
    """
    if int(epochs) < 1:
        raise KerasGenError(f"epochs must be >= 1, got {epochs}")
    _one_element(train, "train")
    _one_element(validation, "validation")
    replicas = model.distribute_strategy.num_replicas_in_sync
    if replicas > 1:
        raise KerasGenError(f"fit_full_batch trains on one device; the model is in a strategy of {replicas} "
                            "replicas (use model.fit)")
    callbacks = list(callbacks)
    # epoch 0: fit builds the variables and traces the train and test functions
    first = model.fit(train, validation_data=validation, epochs=1, verbose=0, shuffle=False).history
    history = {key: list(values) for key, values in first.items()}
    hooks = keras.callbacks.CallbackList(callbacks, model=model)
    model.stop_training = False
    hooks.on_train_begin()
    logs = {key: values[-1] for key, values in history.items()}
    hooks.on_epoch_end(0, logs)
    for epoch in range(1, int(epochs)):
        if model.stop_training:
            break
        model.reset_metrics()
        model.train_function(iter(train))
        logs = {key: float(value) for key, value in model.get_metrics_result().items()}
        model.reset_metrics()
        model.test_function(iter(validation))
        logs.update({f"val_{key}": float(value) for key, value in model.get_metrics_result().items()})
        for key, value in logs.items():
            history.setdefault(key, []).append(value)
        hooks.on_epoch_end(epoch, logs)
    hooks.on_train_end()
    return history
