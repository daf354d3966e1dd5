"""Graph spectra (T9): Laplacians, the graph Fourier transform and spectral splits.

The notes (001, "图谱和图傅里叶变换"): the Laplacian `L = D - A` (D the degree matrix, A
the adjacency) has the eigendecomposition `L = U Lambda U^T`; its eigenvalues are the
graph's spectrum, `x_hat = U^T x` is the graph Fourier transform of a signal x on the
nodes and `x = U x_hat` its inverse. The notes list the eigenvalues from large to small;
here they are in ascending order (the usual one, where lambda_1 = 0 and lambda_2 is the
algebraic connectivity), so column k of U is the k-th lowest "frequency".

Everything here is NumPy on a dense symmetric adjacency (networkx graphs, the karate
club, anything that fits in memory as an N x N matrix); scipy sparse matrices are
accepted and densified.

References: Fiedler 1973, "Algebraic connectivity of graphs"; Chung 1997, "Spectral
Graph Theory" (the normalised Laplacian); Shuman et al. 2013, "The emerging field of
signal processing on graphs" (the graph Fourier transform); Newman 2006, "Modularity
and community structure in networks" (the leading eigenvector of the modularity matrix).
"""
import dataclasses

import numpy as np

from keras_gen.errors import KerasGenError


def _adjacency(adjacency):
    if hasattr(adjacency, "toarray"):
        adjacency = adjacency.toarray()
    a = np.asarray(adjacency, dtype=np.float64)
    if a.ndim != 2 or a.shape[0] != a.shape[1]:
        raise KerasGenError(f"adjacency has shape {list(a.shape)}; expected a square [N, N] matrix")
    if not np.all(np.isfinite(a)):
        raise KerasGenError("adjacency contains NaN or infinite values")
    if not np.allclose(a, a.T):
        raise KerasGenError("adjacency is not symmetric; the Laplacian here is for undirected graphs")
    if (a < 0).any():
        raise KerasGenError("adjacency has negative weights")
    return a


def degrees(adjacency):
    """`d_i = sum_j A_ij` (weighted degree)."""
    return _adjacency(adjacency).sum(axis=1)


def laplacian(adjacency, normalized=False):
    """The graph Laplacian of a symmetric adjacency matrix.

    Formula:
        normalized=False:  L = D - A                                 (the notes' L)
        normalized=True:   L_sym = I - D^{-1/2} A D^{-1/2}           (Chung 1997)

    For the normalised one, an isolated node (d_i = 0) gets a zero row and column
    (Chung's convention). Self-loops count in D and A alike, so they cancel in D - A.

    Raises:
        KerasGenError: `adjacency` is not square, symmetric, finite and non-negative.
    """
    a = _adjacency(adjacency)
    d = a.sum(axis=1)
    if not normalized:
        return np.diag(d) - a
    inv_sqrt = np.divide(1.0, np.sqrt(d), out=np.zeros_like(d), where=d > 0)
    return np.diag((d > 0).astype(np.float64)) - inv_sqrt[:, None] * a * inv_sqrt[None, :]


@dataclasses.dataclass(frozen=True)
class FourierBasis:
    """The eigendecomposition `L = U diag(eigenvalues) U^T`, eigenvalues ascending.

    `eigenvectors[:, k]` is u_{k+1}; U is orthonormal (`U^T U = I`).
    """

    eigenvalues: np.ndarray
    eigenvectors: np.ndarray


def fourier_basis(adjacency, normalized=False):
    """The graph's spectrum and Fourier basis: eigenvalues (ascending) and eigenvectors of its Laplacian.

    `np.linalg.eigh` of the symmetric Laplacian, so U is orthonormal to machine precision.
    Each eigenvector's sign is fixed so that its largest-magnitude entry is positive
    (eigenvectors are defined up to sign; this makes the basis reproducible).
    """
    w, u = np.linalg.eigh(laplacian(adjacency, normalized=normalized))
    biggest = u[np.argmax(np.abs(u), axis=0), np.arange(u.shape[1])]
    u = u * np.where(biggest < 0, -1.0, 1.0)[None, :]
    return FourierBasis(eigenvalues=w, eigenvectors=u)


def _basis_matrix(basis):
    return basis.eigenvectors if isinstance(basis, FourierBasis) else np.asarray(basis, dtype=np.float64)


def graph_fourier_transform(x, basis):
    """`x_hat = U^T x`: a signal on the nodes `[N]` (or `[N, C]`, one column per channel) in the Fourier basis.

    Args:
        x: the signal, one value (or row) per node.
        basis: a `FourierBasis` or the matrix U `[N, N]`.
    """
    u = _basis_matrix(basis)
    x = np.asarray(x, dtype=np.float64)
    if x.shape[0] != u.shape[0]:
        raise KerasGenError(f"signal has {x.shape[0]} rows for a graph of {u.shape[0]} nodes")
    return u.T @ x


def inverse_graph_fourier_transform(x_hat, basis):
    """`x = U x_hat`: back from Fourier coefficients to the nodes (exact: U is orthonormal)."""
    u = _basis_matrix(basis)
    x_hat = np.asarray(x_hat, dtype=np.float64)
    if x_hat.shape[0] != u.shape[1]:
        raise KerasGenError(f"{x_hat.shape[0]} Fourier coefficients for a basis of {u.shape[1]} vectors")
    return u @ x_hat


def algebraic_connectivity(adjacency, normalized=False):
    """lambda_2, the second-smallest Laplacian eigenvalue (Fiedler 1973); > 0 iff the graph is connected."""
    return float(fourier_basis(adjacency, normalized=normalized).eigenvalues[1])


def fiedler_vector(adjacency, normalized=False):
    """u_2, the eigenvector of lambda_2: its signs split the graph in two (spectral bisection)."""
    return fourier_basis(adjacency, normalized=normalized).eigenvectors[:, 1]


def modularity_matrix(adjacency):
    """`B = A - k k^T / 2m`: edges minus those expected at random with the same degrees (Newman 2006).

    Formula: `B_ij = A_ij - k_i k_j / (2m)`, `k = A 1`, `2m = sum_ij A_ij`.
    """
    a = _adjacency(adjacency)
    k = a.sum(axis=1)
    two_m = k.sum()
    if two_m == 0:
        raise KerasGenError("a graph without edges has no modularity matrix")
    return a - np.outer(k, k) / two_m


def leading_modularity_vector(adjacency):
    """The eigenvector of B's largest eigenvalue; its signs give Newman's (2006) two communities."""
    w, u = np.linalg.eigh(modularity_matrix(adjacency))
    v = u[:, -1]
    return v if v[np.argmax(np.abs(v))] > 0 else -v


def modularity(adjacency, communities):
    """`Q = 1/(2m) sum_ij B_ij [c_i = c_j]` of a partition given as one community label per node."""
    a = _adjacency(adjacency)
    c = np.asarray(communities)
    if c.shape != (a.shape[0],):
        raise KerasGenError(f"communities has shape {list(c.shape)}; expected [{a.shape[0]}] (one label per node)")
    same = c[:, None] == c[None, :]
    return float((modularity_matrix(a) * same).sum() / a.sum())


def sign_split(vector):
    """Nodes with a positive entry -> 1, the others -> 0 (a two-way split from an eigenvector)."""
    return (np.asarray(vector) > 0).astype(np.int64)


def split_errors(split, labels):
    """Members a two-way split puts on the wrong side of two-class `labels`, whichever side is called which.

    Returns the indices (0-based) of the misplaced nodes: the smaller of the two ways to
    match the split's sides to the classes.
    """
    split, labels = np.asarray(split), np.asarray(labels)
    if split.shape != labels.shape:
        raise KerasGenError(f"split has shape {list(split.shape)} and labels {list(labels.shape)}")
    wrong = np.flatnonzero(split != labels)
    flipped = np.flatnonzero(split == labels)
    return wrong if len(wrong) <= len(flipped) else flipped
