"""keras_gen.analysis: the arithmetic and analysis tools of the notes beyond generative models.

`conv_arithmetic`: output size, parameters, multiply-adds and receptive field of
convolutions (notes 001 CNN chapter, 002 lecture 8), for one layer or any Keras model.
`normalization`: feature standardisation, least-squares conditioning and gradient-descent
steps, the notes' batch normalisation and its moving averages (002 lecture 6).
`model_selection`: polynomial least squares, k-fold cross-validation, updates per epoch
(002 lectures 1-2).
`hessian`, `optimizers`: the loss's Hessian and sharpness, the notes' optimiser update
rules (002 lectures 3-5).
"""
from keras_gen.analysis.conv_arithmetic import (  # noqa: F401
    LayerArithmetic,
    ModelArithmetic,
    analyze,
    conv_macs,
    conv_output_length,
    conv_params,
    conv_transpose_output_length,
    count_macs,
    count_params,
    empirical_receptive_field,
    positions_receptive_field,
    receptive_field,
    receptive_field_chain,
    same_padding,
)
from keras_gen.analysis.model_selection import (  # noqa: F401
    cross_validation_mse,
    fit_polynomial,
    k_fold_indices,
    polynomial_features,
    predict_polynomial,
    steps_per_epoch,
)
from keras_gen.analysis.normalization import (  # noqa: F401
    batch_norm,
    condition_number,
    gradient_descent_least_squares,
    ioffe_szegedy_mlp,
    least_squares_hessian,
    moving_average,
    standardize,
    with_bias_column,
)
from keras_gen.analysis.hessian import (  # noqa: F401
    EigenResult, SharpnessTracker, classify_critical_point, escape_direction, flatten, gradient, hessian_matrix,
    hessian_vector_product, lanczos_eigenvalues, largest_eigenvalue, make_hvp, model_loss_fn, num_parameters,
    power_iteration, sharpness, unflatten)
from keras_gen.analysis import optimizers  # noqa: F401
