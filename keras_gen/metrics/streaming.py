"""Keras `Metric` versions of the scores, for accumulating over batches (in `fit`,
`evaluate`, or a hand-written loop).

* `FrechetDistance`: FID from running sums of features and of their outer products in
  float64; equals `keras_gen.metrics.frechet_distance` on all the rows seen.
* `InceptionScore`: the one-split inception score from running sums.
* `MeanMMD2`: the mean over batches of the unbiased Gaussian-kernel MMD^2.

Why sums: Keras creates metric variables `on_read` with `aggregation="sum"`, so under
`tf.distribute` each replica accumulates its own rows and reading a variable adds the
replicas' values. Counts, sums and sums of outer products add across replicas exactly;
running means and centred covariances would not. Float64 keeps the covariance
`(sum x x^T - n mu mu^T) / (n - 1)` accurate unless the features' mean is ~1e6 times
their spread.
"""
import keras
import tensorflow as tf

from keras_gen.errors import KerasGenError


def _rows(x, name, width=None):
    x = tf.convert_to_tensor(x)
    x = tf.reshape(tf.cast(x, tf.float64), [tf.shape(x)[0], -1])
    if width is not None and x.shape[-1] is not None and x.shape[-1] != width:
        raise KerasGenError(f"{name} has {x.shape[-1]} features per row, expected {width}")
    return x


def _sqrt_eigenvalues_tf(w):
    """sqrt of PSD eigenvalues, those below `d * eps * max|w|` counted as 0 (cf. fid.py)."""
    eps = tf.constant(2.220446049250313e-16, tf.float64)
    tol = tf.cast(tf.size(w), tf.float64) * eps * tf.reduce_max(tf.abs(w))
    return tf.sqrt(tf.where(w > tol, w, tf.zeros_like(w)))


def _trace_sqrt_product_tf(sigma_a, sigma_b):
    """`Tr (S_a S_b)^(1/2) = sum sqrt(eig(S_a^(1/2) S_b S_a^(1/2)))` in float64.

    The eigendecomposition route of `keras_gen.metrics.fid.trace_sqrt_product` (graph
    mode cannot fall back from a failed Cholesky, so the square root is always used).
    """
    w, v = tf.linalg.eigh(0.5 * (sigma_a + tf.transpose(sigma_a)))
    root_w = _sqrt_eigenvalues_tf(w)
    inner = tf.matmul(v, tf.matmul(sigma_b, v), transpose_a=True)
    m = root_w[:, None] * inner * root_w[None, :]
    eig = tf.linalg.eigvalsh(0.5 * (m + tf.transpose(m)))
    return tf.reduce_sum(_sqrt_eigenvalues_tf(eig))


def _serialize(obj):
    return None if obj is None else keras.saving.serialize_keras_object(obj)


def _deserialize(config):
    return None if config is None else keras.saving.deserialize_keras_object(config)


@keras.saving.register_keras_serializable(package="keras_gen")
class FrechetDistance(keras.metrics.Metric):
    """Streaming Frechet distance between two feature sets (FID on classifier features).

    `update_state(features_a, features_b)` adds rows to either side (either may be None,
    e.g. add the real features once and generated ones batch by batch). Inside `compile`
    metrics, `y_true` is side a and `y_pred` side b. `result()` is
    `||mu_a - mu_b||^2 + Tr(S_a + S_b - 2 (S_a S_b)^(1/2))` with the unbiased covariances
    of all rows seen, NaN until each side has two rows.

    Args:
        num_features: d, the feature width (the [d, d] sums are allocated up front).
        feature_extractor: optional Keras model/layer applied to the inputs before
            accumulating (e.g. a classifier cut at its penultimate layer); then
            `update_state` takes images.
    """

    def __init__(self, num_features, feature_extractor=None, name="frechet_distance", **kwargs):
        kwargs.setdefault("dtype", "float64")
        super().__init__(name=name, **kwargs)
        if int(num_features) < 1:
            raise KerasGenError(f"num_features must be >= 1, got {num_features}")
        self.num_features = int(num_features)
        self.feature_extractor = feature_extractor
        d = self.num_features
        self.sums = {}
        for side in ("a", "b"):
            self.sums[side] = (
                self.add_variable((), "zeros", dtype="float64", name=f"count_{side}"),
                self.add_variable((d,), "zeros", dtype="float64", name=f"sum_{side}"),
                self.add_variable((d, d), "zeros", dtype="float64", name=f"sum_outer_{side}"),
            )

    def _add(self, side, x):
        if self.feature_extractor is not None:
            x = self.feature_extractor(x, training=False)
        x = _rows(x, f"features_{side}", self.num_features)
        count, total, outer = self.sums[side]
        count.assign_add(tf.cast(tf.shape(x)[0], tf.float64))
        total.assign_add(tf.reduce_sum(x, axis=0))
        outer.assign_add(tf.matmul(x, x, transpose_a=True))

    def update_state(self, features_a=None, features_b=None, sample_weight=None):
        if sample_weight is not None:
            raise KerasGenError("FrechetDistance does not take sample weights")
        if features_a is not None:
            self._add("a", features_a)
        if features_b is not None:
            self._add("b", features_b)

    def moments(self, side):
        """Mean [d] and unbiased covariance [d, d] (float64 tensors) of one side."""
        count, total, outer = (tf.convert_to_tensor(v) for v in self.sums[side])
        mean = total / tf.maximum(count, 1.0)
        cov = (outer - count * mean[:, None] * mean[None, :]) / tf.maximum(count - 1.0, 1.0)
        return mean, cov

    def result(self):
        mu_a, s_a = self.moments("a")
        mu_b, s_b = self.moments("b")
        diff = mu_a - mu_b
        value = (
            tf.reduce_sum(diff * diff)
            + tf.linalg.trace(s_a)
            + tf.linalg.trace(s_b)
            - 2.0 * _trace_sqrt_product_tf(s_a, s_b)
        )
        ready = tf.logical_and(self.sums["a"][0] >= 2.0, self.sums["b"][0] >= 2.0)
        return tf.where(ready, tf.maximum(value, 0.0), tf.constant(float("nan"), tf.float64))

    def get_config(self):
        config = super().get_config()
        config.update(num_features=self.num_features, feature_extractor=_serialize(self.feature_extractor))
        return config

    @classmethod
    def from_config(cls, config):
        config = dict(config)
        config["feature_extractor"] = _deserialize(config.get("feature_extractor"))
        return cls(**config)


@keras.saving.register_keras_serializable(package="keras_gen")
class InceptionScore(keras.metrics.Metric):
    """Streaming inception score `exp(E_x KL(p(y|x) || p(y)))` (one split).

    Uses `E_x KL(p(y|x) || p(y)) = E_x sum_y p log p - sum_y p(y) log p(y)`, whose parts
    are running sums. Equals `keras_gen.metrics.inception_score(probs, splits=1)[0]`.

    `update_state(probs)` takes [n, K] class probabilities, or images when a
    `classifier` (returning probabilities) is given. In `compile` metrics it reads
    `y_pred`: `update_state(y_true, y_pred)`.

    Args:
        num_classes: K.
        classifier: optional Keras model mapping inputs to class probabilities.
        from_logits: the inputs (or the classifier's outputs) are logits.
    """

    def __init__(self, num_classes, classifier=None, from_logits=False, name="inception_score", **kwargs):
        kwargs.setdefault("dtype", "float64")
        super().__init__(name=name, **kwargs)
        if int(num_classes) < 2:
            raise KerasGenError(f"num_classes must be >= 2, got {num_classes}")
        self.num_classes = int(num_classes)
        self.classifier = classifier
        self.from_logits = bool(from_logits)
        self.count = self.add_variable((), "zeros", dtype="float64", name="count")
        self.sum_probs = self.add_variable((self.num_classes,), "zeros", dtype="float64", name="sum_probs")
        self.sum_plogp = self.add_variable((), "zeros", dtype="float64", name="sum_plogp")

    def update_state(self, y_true_or_probs, y_pred=None, sample_weight=None):
        if sample_weight is not None:
            raise KerasGenError("InceptionScore does not take sample weights")
        x = y_true_or_probs if y_pred is None else y_pred
        if self.classifier is not None:
            x = self.classifier(x, training=False)
        p = _rows(x, "probs", self.num_classes)
        if self.from_logits:
            p = tf.nn.softmax(p, axis=-1)
        self.count.assign_add(tf.cast(tf.shape(p)[0], tf.float64))
        self.sum_probs.assign_add(tf.reduce_sum(p, axis=0))
        self.sum_plogp.assign_add(tf.reduce_sum(tf.math.xlogy(p, p)))

    def result(self):
        count = tf.maximum(tf.convert_to_tensor(self.count), 1.0)
        marginal = tf.convert_to_tensor(self.sum_probs) / count
        mean_kl = self.sum_plogp / count - tf.reduce_sum(tf.math.xlogy(marginal, marginal))
        return tf.exp(tf.maximum(mean_kl, 0.0))

    def get_config(self):
        config = super().get_config()
        config.update(
            num_classes=self.num_classes, classifier=_serialize(self.classifier), from_logits=self.from_logits
        )
        return config

    @classmethod
    def from_config(cls, config):
        config = dict(config)
        config["classifier"] = _deserialize(config.get("classifier"))
        return cls(**config)


def gaussian_mmd2_tf(x, y, bandwidths=(1.0,)):
    """Unbiased MMD^2 of two batches with summed Gaussian kernels, as a float64 tensor.

    Same formula as `keras_gen.metrics.mmd2(x, y, bandwidths, unbiased=True)`.
    """
    x, y = _rows(x, "x"), _rows(y, "y")

    def kernel(a, b):
        d2 = (
            tf.reduce_sum(a * a, 1)[:, None]
            + tf.reduce_sum(b * b, 1)[None, :]
            - 2.0 * tf.matmul(a, b, transpose_b=True)
        )
        d2 = tf.maximum(d2, 0.0)
        return tf.add_n([tf.exp(-d2 / (2.0 * s * s)) for s in bandwidths])

    n = tf.cast(tf.shape(x)[0], tf.float64)
    m = tf.cast(tf.shape(y)[0], tf.float64)
    k_xx, k_yy, k_xy = kernel(x, x), kernel(y, y), kernel(x, y)
    xx = (tf.reduce_sum(k_xx) - tf.linalg.trace(k_xx)) / (n * (n - 1.0))
    yy = (tf.reduce_sum(k_yy) - tf.linalg.trace(k_yy)) / (m * (m - 1.0))
    return xx + yy - 2.0 * tf.reduce_mean(k_xy)


@keras.saving.register_keras_serializable(package="keras_gen")
class MeanMMD2(keras.metrics.Metric):
    """Mean over batches of the unbiased Gaussian-kernel MMD^2 between paired batches.

    Each batch's unbiased MMD^2 is an unbiased estimate of the population MMD^2, and so
    is their mean; memory stays O(batch^2) however many batches are seen (the MMD^2 of
    all rows at once is `keras_gen.metrics.mmd2`). In `compile` metrics it compares
    `y_true` with `y_pred`.

    Args:
        bandwidths: Gaussian kernel widths sigma (summed kernels).
    """

    def __init__(self, bandwidths=(1.0,), name="mmd2", **kwargs):
        kwargs.setdefault("dtype", "float64")
        super().__init__(name=name, **kwargs)
        bandwidths = tuple(float(b) for b in (bandwidths if hasattr(bandwidths, "__iter__") else (bandwidths,)))
        if not bandwidths or min(bandwidths) <= 0:
            raise KerasGenError(f"bandwidths must be positive numbers, got {bandwidths!r}")
        self.bandwidths = bandwidths
        self.total = self.add_variable((), "zeros", dtype="float64", name="total")
        self.batches = self.add_variable((), "zeros", dtype="float64", name="batches")

    def update_state(self, x, y, sample_weight=None):
        if sample_weight is not None:
            raise KerasGenError("MeanMMD2 does not take sample weights")
        self.total.assign_add(gaussian_mmd2_tf(x, y, self.bandwidths))
        self.batches.assign_add(tf.constant(1.0, tf.float64))

    def result(self):
        return tf.math.divide_no_nan(tf.convert_to_tensor(self.total), tf.convert_to_tensor(self.batches))

    def get_config(self):
        config = super().get_config()
        config.update(bandwidths=list(self.bandwidths))
        return config
