"""keras_gen.analysis: the arithmetic and analysis tools of the notes beyond generative models.

`conv_arithmetic`: output size, parameters, multiply-adds and receptive field of
convolutions (notes 001 CNN chapter, 002 lecture 8), for one layer or any Keras model.
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
