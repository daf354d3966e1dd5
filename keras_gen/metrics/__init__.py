"""keras_gen.metrics: divergences and evaluation scores (S3, S16, S18 of the notes).

NumPy functions (arrays or tensors in, Python floats out, natural log):
`entropy`, `cross_entropy`, `kl_divergence`, `js_divergence` (discrete distributions),
`wasserstein_1d` (exact, samples), `mmd2` / `gaussian_kernel` (Gaussian-kernel MMD),
`frechet_distance`, `inception_score`, `kernel_inception_distance` (feature scores),
`modes_covered`, `high_quality_share`, `fitted_gaussian_samples`, `uniform_ring_samples` (toy
mixtures), `classifier_two_sample_accuracy` (a fresh discriminator: can it tell two samples
apart?), `DigitEvaluator` (the one evaluation of generated digits: IS, class shares,
FID/KID with floors, memorisation, requested class), `ais_log_partition` /
`ais_log_likelihood` (an RBM's log Z and test log-likelihood by annealed importance
sampling), `independent_bernoulli_log_likelihood` (the trivial model of binary images),
`PianoRollEvaluator` / `frechet_code_distance` and the piano-roll histograms of
`keras_gen.metrics.piano_roll` (pitch, intervals between simultaneous notes, notes per
frame, against independent-keys, uniform and real-training baselines),
`linear_probe_accuracy` /
`LogisticProbe` / `random_projection` (linear probes of representations).
Keras `Metric` classes for accumulating over batches: `FrechetDistance`,
`InceptionScore`, `MeanMMD2` (import TensorFlow on first use).
"""
from keras_gen import require_tensorflow

require_tensorflow()

from keras_gen.metrics.divergences import (  # noqa: F401
    cross_entropy,
    entropy,
    js_divergence,
    kl_divergence,
    wasserstein_1d,
)
from keras_gen.metrics.fid import (  # noqa: F401
    feature_moments,
    frechet_distance,
    frechet_distance_from_moments,
    inception_score,
    kernel_inception_distance,
    polynomial_kernel,
)
from keras_gen.metrics.mmd import gaussian_kernel, median_bandwidth, mmd2, mmd2_from_kernels  # noqa: F401
from keras_gen.metrics.toys import (  # noqa: F401
    assign_to_modes,
    fair_share_count,
    fitted_gaussian_samples,
    high_quality_share,
    mode_counts,
    modes_covered,
    uniform_ring_samples,
)
from keras_gen.metrics.two_sample import classifier_two_sample_accuracy, gaussian_bayes_accuracy  # noqa: F401
from keras_gen.metrics.digit_classifier import digit_classifier, digit_classifier_info, digit_features, digit_probs  # noqa: F401
from keras_gen.metrics.likelihood import importance_sampled_bounds, iwae_nll, negative_elbo  # noqa: F401
from keras_gen.metrics.ais import (  # noqa: F401
    ais_log_likelihood,
    ais_log_partition,
    independent_bernoulli_log_likelihood,
)
from keras_gen.metrics.disentanglement import mutual_information_gap  # noqa: F401
from keras_gen.metrics.evaluation import DigitEvaluator, nearest_neighbour_distances  # noqa: F401
from keras_gen.metrics.piano_roll import PianoRollEvaluator, frechet_code_distance  # noqa: F401

_STREAMING = ("FrechetDistance", "InceptionScore", "MeanMMD2")


def __getattr__(name):
    # The Metric classes need TensorFlow (a 5 s import); load them only when asked for.
    if name in _STREAMING:
        from keras_gen.metrics import streaming

        return getattr(streaming, name)
    raise AttributeError(f"module 'keras_gen.metrics' has no attribute {name!r}")
from keras_gen.metrics.probe import LogisticProbe, linear_probe_accuracy, random_projection  # noqa: F401
