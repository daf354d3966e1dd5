"""The GCN and GAT papers' early-stopping rules on scripted validation logs."""
import numpy as np
import keras
import pytest

from keras_gen.errors import KerasGenError
from keras_gen.training.early_stopping import LossOrAccuracyStopping, LossWindowStopping


class _Weights:
    """A stand-in model: its weights are the epoch number."""

    def __init__(self):
        self.stop_training = False
        self.epoch = None

    def get_weights(self):
        return [np.array(self.epoch)]

    def set_weights(self, weights):
        self.restored = int(weights[0])


def _drive(callback, logs):
    model = _Weights()
    callback.set_model(model)
    callback.on_train_begin()
    for epoch, log in enumerate(logs):
        model.epoch = epoch + 1
        callback.on_epoch_end(epoch, log)
        if model.stop_training:
            break
    callback.on_train_end()
    return model


def test_window_rule_stops_when_the_loss_exceeds_the_mean_of_the_window():
    losses = [5.0, 4.0, 3.0, 2.5, 2.4, 2.6]  # epoch 6: 2.6 < mean(4, 3, 2.5, 2.4) = 2.975: go on
    callback = LossWindowStopping(window=4)
    model = _drive(callback, [{"val_loss": v} for v in losses])
    assert not model.stop_training and callback.stopped_epoch is None
    losses = [3.0, 2.0, 2.0, 2.0, 2.0, 2.1]  # epoch 6: 2.1 > mean(2, 2, 2, 2) = 2.0
    callback = LossWindowStopping(window=4)
    model = _drive(callback, [{"val_loss": v} for v in losses])
    assert model.stop_training and callback.stopped_epoch == 6
    early = LossWindowStopping(window=4)  # never before the window is full
    model = _drive(early, [{"val_loss": v} for v in [1.0, 2.0, 3.0, 4.0]])
    assert not model.stop_training


def test_loss_or_accuracy_patience_and_restore():
    logs = [  # (val_loss, val_accuracy)
        (1.0, 0.50),  # 1: both best -> saved
        (0.9, 0.55),  # 2: both best -> saved
        (0.95, 0.56),  # 3: accuracy best only -> counter resets, not saved
        (0.97, 0.54),  # 4: neither (1)
        (0.98, 0.53),  # 5: neither (2) -> stop with patience 2
        (0.10, 0.99),
    ]
    callback = LossOrAccuracyStopping(patience=2)
    model = _drive(callback, [{"val_loss": l, "val_accuracy": a} for l, a in logs])
    assert callback.stopped_epoch == 5 and callback.best_epoch == 2 and model.restored == 2
    assert callback.best_loss == 0.9 and callback.best_accuracy == 0.56


def test_rules_need_validation_logs_and_valid_arguments():
    with pytest.raises(KerasGenError, match="validation_data"):
        _drive(LossWindowStopping(), [{"loss": 1.0}])
    with pytest.raises(KerasGenError, match="val_accuracy"):
        _drive(LossOrAccuracyStopping(), [{"val_loss": 1.0}])
    with pytest.raises(KerasGenError, match="window"):
        LossWindowStopping(window=0)
    with pytest.raises(KerasGenError, match="patience"):
        LossOrAccuracyStopping(patience=0)


def test_window_rule_stops_a_real_fit():
    keras.utils.set_random_seed(0)
    x = np.random.default_rng(0).normal(size=(64, 3)).astype("float32")
    y = x @ np.array([1.0, -2.0, 0.5], "float32")
    model = keras.Sequential([keras.Input((3,)), keras.layers.Dense(1)])
    model.compile(optimizer=keras.optimizers.SGD(1.5), loss="mse")  # too large a step: the loss grows
    callback = LossWindowStopping(window=2)
    history = model.fit(x, y, validation_data=(x, y), epochs=30, verbose=0, callbacks=[callback],
                        batch_size=64)
    assert callback.stopped_epoch == len(history.history["loss"]) < 30
