"""Trains S1, DCGAN (R1), WGAN (clipping), WGAN-GP, VAE, InfoGAN and GMMN for 2 epochs on shuffled
`EpochBatches` (full batches of 8) and saves each final state to `OUT/<tag>/<kind>.npz`.

    python -m tests.distributed.equal_script OUT               one process: tag "single"
    TF_CONFIG=... python -m tests.distributed.equal_script OUT  a worker of a cluster: tag "worker<i>"

A worker first runs Keras's unpatched code on the cluster and writes what it raised to
`OUT/worker<i>/original_failures.json` (`keras_gen.training.multiworker.original_failures`).
"""
import json
import os
import sys

import keras
import numpy as np

KINDS = ("ae", "dcgan_r1", "wgan_clip", "wgangp", "vae", "infogan", "gmmn")
EPOCHS = 2


def main(out):
    from keras_gen import training
    from keras_gen.data import EpochBatches
    from keras_gen.training import multiworker
    from tests.distributed import families

    config = os.environ.get("TF_CONFIG")
    strategy = training.get_strategy("multiworker" if config else "default")
    tag = f"worker{json.loads(config)['task']['index']}" if config else "single"
    folder = os.path.join(out, tag)
    os.makedirs(folder, exist_ok=True)
    record = {"replicas": int(strategy.num_replicas_in_sync)}
    if config:
        # Keras's own code on this cluster: an (x, y) dataset and a model compiled with a
        # Keras loss, the case of keras-team/keras#20585.
        batches = EpochBatches(families.data("ae"), 8, seed=3)
        record["original_failures"] = multiworker.original_failures(
            strategy, batches.dataset(1), lambda: families.build("ae"))
    for kind in KINDS:
        with strategy.scope():
            model = families.build(kind, optimizer=lambda: keras.optimizers.SGD(0.05))
        batches = EpochBatches(families.data(kind), 8, seed=3)
        if not config:
            np.savez(os.path.join(folder, f"{kind}_initial.npz"), **families.state(model))
        history = model.fit(batches.dataset(EPOCHS), epochs=EPOCHS, steps_per_epoch=batches.steps_per_epoch,
                            verbose=0)
        np.savez(os.path.join(folder, f"{kind}.npz"), **families.state(model))
        record[kind] = {k: float(v[-1]) for k, v in history.history.items()}
        print(f"{kind}: done", flush=True)
    if config:
        # last, after every other collective: Keras's steps_per_execution > 1 across workers
        batches = EpochBatches(families.data("ae"), 8, seed=3)
        record["steps_per_execution_failure"] = multiworker.steps_per_execution_failure(
            strategy, batches.dataset(1), lambda: families.build("ae"))
    with open(os.path.join(folder, "record.json"), "w", encoding="utf-8") as f:
        json.dump(record, f)


if __name__ == "__main__":
    main(sys.argv[1])
