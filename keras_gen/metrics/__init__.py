"""keras_gen.metrics."""
from keras_gen.metrics.digit_classifier import digit_classifier, digit_classifier_info, digit_features, digit_probs  # noqa: F401
