"""keras_gen.layers."""
