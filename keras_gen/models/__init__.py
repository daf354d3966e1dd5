"""keras_gen.models."""
