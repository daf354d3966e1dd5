"""Analysis tools: the loss's Hessian and sharpness, the notes' optimiser update rules."""
from keras_gen.analysis.hessian import (  # noqa: F401
    EigenResult, SharpnessTracker, classify_critical_point, escape_direction, flatten, gradient, hessian_matrix,
    hessian_vector_product, lanczos_eigenvalues, largest_eigenvalue, make_hvp, model_loss_fn, num_parameters,
    power_iteration, sharpness, unflatten)
from keras_gen.analysis import optimizers  # noqa: F401
