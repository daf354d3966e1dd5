"""The early-stopping rules of the GCN and GAT papers, as Keras callbacks (T9).

Both watch the validation logs `fit` writes when given `validation_data`
(`val_loss`, and `val_accuracy` for the GAT rule).

* `LossWindowStopping` (Kipf & Welling 2017, section 5.2: "early stopping with a window
  size of 10"): as their code implements it, training stops after epoch t > window when
  the validation loss of epoch t is larger than the mean of the `window` epochs before
  it. The weights of the last epoch are kept (no restore), as in their code.
* `LossOrAccuracyStopping` (Velickovic et al. 2018, section 3.3: "early stopping
  strategy on both the cross-entropy loss and accuracy on the validation nodes, with a
  patience of 100 epochs"): the patience counter restarts whenever the validation
  accuracy reaches its best so far (>=) or the loss its lowest (<=); the weights are
  remembered when both do at once, and restored at the end of training.
"""
import numpy as np
import keras

from keras_gen.errors import KerasGenError


def _require(logs, key):
    if logs is None or key not in logs:
        raise KerasGenError(f"early stopping needs {key!r} in the epoch logs; pass validation_data to fit "
                            f"(and weighted_metrics=['accuracy'] for val_accuracy)")
    return float(logs[key])


class LossWindowStopping(keras.callbacks.Callback):
    """Stops when the epoch's `val_loss` exceeds the mean of the previous `window` epochs' (Kipf & Welling).

    Formula: stop after epoch t (counted from 1) if `t > window` and
    `loss_t > mean(loss_{t-window}, ..., loss_{t-1})`.

    Attributes:
        stopped_epoch: the epoch (from 1) after which training stopped, or None.
    """

    def __init__(self, window=10, monitor="val_loss"):
        super().__init__()
        if int(window) < 1:
            raise KerasGenError(f"window must be >= 1, got {window}")
        self.window = int(window)
        self.monitor = monitor
        self.history = []
        self.stopped_epoch = None

    def on_train_begin(self, logs=None):
        self.history = []
        self.stopped_epoch = None

    def on_epoch_end(self, epoch, logs=None):
        loss = _require(logs, self.monitor)
        self.history.append(loss)
        if len(self.history) > self.window and loss > np.mean(self.history[-self.window - 1:-1]):
            self.stopped_epoch = epoch + 1
            self.model.stop_training = True


class LossOrAccuracyStopping(keras.callbacks.Callback):
    """Patience on validation loss OR accuracy, restoring the best weights (Velickovic et al.).

    After each epoch: if `val_accuracy >= best_accuracy` or `val_loss <= best_loss`, the
    counter restarts (and when both hold, the weights are saved); otherwise it counts up,
    and training stops when it reaches `patience`. At the end the saved weights are put
    back (if any were saved).

    Attributes:
        stopped_epoch: the epoch (from 1) after which training stopped, or None.
        best_epoch: the epoch (from 1) whose weights were restored, or None.
    """

    def __init__(self, patience=100, restore_best_weights=True):
        super().__init__()
        if int(patience) < 1:
            raise KerasGenError(f"patience must be >= 1, got {patience}")
        self.patience = int(patience)
        self.restore_best_weights = bool(restore_best_weights)

    def on_train_begin(self, logs=None):
        self.best_loss = np.inf
        self.best_accuracy = -np.inf
        self.wait = 0
        self.best_weights = None
        self.best_epoch = None
        self.stopped_epoch = None

    def on_epoch_end(self, epoch, logs=None):
        loss, accuracy = _require(logs, "val_loss"), _require(logs, "val_accuracy")
        if accuracy >= self.best_accuracy or loss <= self.best_loss:
            if accuracy >= self.best_accuracy and loss <= self.best_loss:
                self.best_weights = self.model.get_weights()
                self.best_epoch = epoch + 1
            self.best_accuracy = max(accuracy, self.best_accuracy)
            self.best_loss = min(loss, self.best_loss)
            self.wait = 0
        else:
            self.wait += 1
            if self.wait >= self.patience:
                self.stopped_epoch = epoch + 1
                self.model.stop_training = True

    def on_train_end(self, logs=None):
        if self.restore_best_weights and self.best_weights is not None:
            self.model.set_weights(self.best_weights)
