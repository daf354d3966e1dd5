"""keras_gen.metrics."""
