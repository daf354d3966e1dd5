"""keras_gen.losses."""
