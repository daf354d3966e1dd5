"""Training helpers: distribution strategies and callbacks."""
from keras_gen.training.strategy import get_strategy, STRATEGIES  # noqa: F401
