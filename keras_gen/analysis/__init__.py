"""keras_gen.analysis: numerical analyses the reproductions share."""
from keras_gen.analysis.graph_spectra import (  # noqa: F401
    FourierBasis, algebraic_connectivity, fiedler_vector, fourier_basis, graph_fourier_transform,
    inverse_graph_fourier_transform, laplacian, leading_modularity_vector, modularity, modularity_matrix,
)
