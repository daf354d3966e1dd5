"""Graph spectra: Laplacians, the graph Fourier transform, spectral splits, against networkx and closed forms."""
import networkx as nx
import numpy as np
import pytest

from keras_gen.analysis import graph_spectra as gs
from keras_gen.errors import KerasGenError


def _karate():
    g = nx.karate_club_graph()
    a = nx.to_numpy_array(g, nodelist=range(34), weight=None)
    club = np.array([0 if g.nodes[i]["club"] == "Mr. Hi" else 1 for i in range(34)])
    return g, a, club


def _random_weighted(n=9, seed=0):
    rng = np.random.default_rng(seed)
    a = np.triu(rng.uniform(0.5, 2.0, (n, n)) * (rng.uniform(size=(n, n)) < 0.4), 1)
    a = a + a.T
    a[n - 1, :] = a[:, n - 1] = 0.0  # one isolated node
    return a


def test_laplacians_match_networkx():
    a = _random_weighted()
    g = nx.from_numpy_array(a)
    np.testing.assert_allclose(gs.laplacian(a), nx.laplacian_matrix(g, nodelist=range(len(a))).toarray(), atol=1e-12)
    np.testing.assert_allclose(gs.laplacian(a, normalized=True),
                               nx.normalized_laplacian_matrix(g, nodelist=range(len(a))).toarray(), atol=1e-12)
    np.testing.assert_allclose(gs.laplacian(a).sum(axis=1), 0.0, atol=1e-12)  # L 1 = 0


def test_fourier_basis_is_orthonormal_and_diagonalises_the_laplacian():
    for normalized in (False, True):
        a = _random_weighted(seed=1)
        basis = gs.fourier_basis(a, normalized=normalized)
        u, lam = basis.eigenvectors, basis.eigenvalues
        np.testing.assert_allclose(u.T @ u, np.eye(len(a)), atol=1e-12)
        np.testing.assert_allclose(u @ np.diag(lam) @ u.T, gs.laplacian(a, normalized=normalized), atol=1e-12)
        assert np.all(np.diff(lam) >= -1e-12) and lam[0] == pytest.approx(0.0, abs=1e-12)
        if normalized:
            assert lam[-1] <= 2.0 + 1e-12  # the normalised spectrum lies in [0, 2]


def test_fourier_transform_parseval_and_exact_inverse():
    a = _random_weighted(seed=2)
    basis = gs.fourier_basis(a)
    x = np.random.default_rng(3).normal(size=(len(a), 3))
    x_hat = gs.graph_fourier_transform(x, basis)
    np.testing.assert_allclose((x_hat ** 2).sum(axis=0), (x ** 2).sum(axis=0), rtol=1e-12)  # Parseval
    np.testing.assert_allclose(gs.inverse_graph_fourier_transform(x_hat, basis), x, atol=1e-12)
    np.testing.assert_allclose(gs.graph_fourier_transform(x[:, 0], basis.eigenvectors), x_hat[:, 0], atol=1e-12)
    # x^T L x = sum_k lambda_k x_hat_k^2: the transform turns smoothness into a spectrum
    np.testing.assert_allclose(x[:, 0] @ gs.laplacian(a) @ x[:, 0], (basis.eigenvalues * x_hat[:, 0] ** 2).sum(),
                               rtol=1e-10)
    with pytest.raises(KerasGenError, match="rows for a graph of"):
        gs.graph_fourier_transform(x[:3], basis)


def test_algebraic_connectivity_closed_form_and_karate():
    for n in (5, 12):  # a path P_n: lambda_2 = 2 (1 - cos(pi / n))
        a = nx.to_numpy_array(nx.path_graph(n))
        assert gs.algebraic_connectivity(a) == pytest.approx(2 * (1 - np.cos(np.pi / n)), abs=1e-12)
    g, a, _ = _karate()
    assert gs.algebraic_connectivity(a) == pytest.approx(0.4685252267, abs=1e-9)
    assert gs.algebraic_connectivity(a) == pytest.approx(nx.algebraic_connectivity(g, weight=None, tol=1e-12),
                                                         abs=1e-8)
    two_parts = nx.to_numpy_array(nx.disjoint_union(nx.path_graph(3), nx.path_graph(4)))
    assert gs.algebraic_connectivity(two_parts) == pytest.approx(0.0, abs=1e-12)  # disconnected


def test_karate_splits():
    _, a, club = _karate()
    fiedler = gs.fiedler_vector(a)
    np.testing.assert_allclose(gs.laplacian(a) @ fiedler, gs.algebraic_connectivity(a) * fiedler, atol=1e-10)
    assert gs.split_errors(gs.sign_split(fiedler), club).tolist() == [2, 8]  # members 3 and 9
    modular = gs.leading_modularity_vector(a)
    assert gs.split_errors(gs.sign_split(modular), club).tolist() == [8]  # member 9, as Zachary's prediction
    b = gs.modularity_matrix(a)
    np.testing.assert_allclose(b.sum(axis=1), 0.0, atol=1e-12)
    assert np.linalg.eigvalsh(b)[-1] == pytest.approx(modular @ b @ modular, rel=1e-12)


def test_modularity_matches_networkx():
    g, a, club = _karate()
    communities = [set(np.flatnonzero(club == c).tolist()) for c in (0, 1)]
    expected = nx.algorithms.community.modularity(g, communities, weight=None)
    assert gs.modularity(a, club) == pytest.approx(expected, abs=1e-12)
    assert gs.modularity(a, np.zeros(34)) == pytest.approx(0.0, abs=1e-12)  # one community: Q = 0


def test_split_errors_takes_the_better_matching():
    labels = np.array([0, 0, 1, 1, 1])
    assert gs.split_errors(np.array([1, 1, 0, 0, 1]), labels).tolist() == [4]
    assert gs.split_errors(np.array([0, 0, 1, 1, 0]), labels).tolist() == [4]


def test_bad_adjacency_is_named():
    with pytest.raises(KerasGenError, match="square"):
        gs.laplacian(np.ones((2, 3)))
    with pytest.raises(KerasGenError, match="not symmetric"):
        gs.laplacian(np.array([[0.0, 1.0], [0.0, 0.0]]))
    with pytest.raises(KerasGenError, match="NaN"):
        gs.laplacian(np.array([[0.0, np.nan], [np.nan, 0.0]]))
    with pytest.raises(KerasGenError, match="negative"):
        gs.laplacian(np.array([[0.0, -1.0], [-1.0, 0.0]]))
    with pytest.raises(KerasGenError, match="without edges"):
        gs.modularity_matrix(np.zeros((3, 3)))
