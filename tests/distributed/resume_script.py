"""Trains every family through `reproductions.common.Run.fit` (2 epochs of a shuffled
`EpochBatches`), in one of three modes, and saves each model's final state:

    python -m tests.distributed.resume_script reference OUT     uninterrupted
    python -m tests.distributed.resume_script interrupt OUT     stops every family in its
        second epoch (after batch 1): the last one, `SIGKILL_KIND`, by SIGKILL of this
        process, the others by an exception (the same files on disk as a kill there: the
        backup of epoch 1, nothing else; the next process starts from those files)
    python -m tests.distributed.resume_script resume OUT        the same command again

Final states: `OUT/<mode>/<kind>.npz` (weights and optimizer variables).
"""
import os
import signal
import sys

import keras
import numpy as np

EPOCHS = 2
SIGKILL_KIND = "dcgan_r1"


class Interrupted(Exception):
    pass


class StopInSecondEpoch(keras.callbacks.Callback):
    def __init__(self, kill):
        super().__init__()
        self.kill = kill
        self.epoch = None

    def on_epoch_begin(self, epoch, logs=None):
        self.epoch = epoch

    def on_train_batch_end(self, batch, logs=None):
        if self.epoch == 1 and batch == 1:
            if self.kill:
                os.kill(os.getpid(), signal.SIGKILL)
            raise Interrupted


def main(mode, out):
    from keras_gen.data import EpochBatches
    from reproductions import common
    from tests.distributed import families

    hp = common.CommonHParams(seeds="0", out=os.path.join(out, "run" if mode != "reference" else "reference_run"))
    r = common.Run("resume-test", hp)
    kinds = [k for k in families.KINDS if k != SIGKILL_KIND] + [SIGKILL_KIND]
    os.makedirs(os.path.join(out, mode), exist_ok=True)
    for kind in kinds:
        with r.strategy.scope():
            model = families.build(kind)
        batches = EpochBatches(families.data(kind), 8, seed=3)
        callbacks = [StopInSecondEpoch(kill=kind == SIGKILL_KIND)] if mode == "interrupt" else []
        try:
            r.fit(model, batches, key=kind, epochs=EPOCHS, callbacks=callbacks, tensorboard=False, verbose=0)
        except Interrupted:
            print(f"{kind}: interrupted in epoch 2", flush=True)
            continue
        np.savez(os.path.join(out, mode, f"{kind}.npz"), **families.state(model))
        print(f"{kind}: done", flush=True)


if __name__ == "__main__":
    main(sys.argv[1], sys.argv[2])
