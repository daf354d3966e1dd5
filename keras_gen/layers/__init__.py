"""keras_gen.layers: reusable layers."""
from keras_gen.layers.sampling import GaussianSampler, replica_slice_normal  # noqa: F401
