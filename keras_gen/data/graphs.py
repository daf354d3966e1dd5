"""Graphs for node classification (T9): Zachary's karate club and Cora (Planetoid split).

* `karate_club()`: the 34 members and 78 friendships of Zachary's club (Zachary 1977,
  "An Information Flow Model for Conflict and Fission in Small Groups"), from networkx,
  UNWEIGHTED: networkx stores interaction counts 1..7 as edge weights, the classic graph
  is their 0/1 pattern. `labels` is the faction each member joined after the split
  (0 = Mr. Hi, the instructor, member 1; 1 = the Officer, member 34).
* `cora()`: the Cora citation graph with the Planetoid split (Yang et al. 2016), the
  split of Kipf & Welling 2017 and Velickovic et al. 2018: 2,708 papers, 5,278 undirected
  citations, 1,433 bag-of-words features, 7 classes; 140 training nodes (20 per class),
  500 validation and 1,000 test nodes. Shipped as package data
  (`keras_gen/data/files/cora_planetoid.npz`, MIT licence and provenance beside it).

Members are numbered from 1 in Zachary's paper and from 0 here (member 9 is node 8).

For the graph layers (`keras_gen.layers.GCNConv`, ...): `sparse_adjacency(edges, n)`
gives the `tf.SparseTensor` they take, and `full_graph_dataset` the one-element
`tf.data.Dataset` that trains a node classifier with `fit` on the whole graph, the loss
averaged over the labelled nodes only.
"""
import dataclasses
import importlib.resources

import numpy as np

from keras_gen.errors import KerasGenError, MissingFileError

CORA_FILE = "cora_planetoid.npz"
# The Planetoid files number the classes without naming them; Cora's seven topics have
# distinct sizes (818 Neural_Networks, 426 Probabilistic_Methods, 418 Genetic_Algorithms,
# 351 Theory, 298 Case_Based, 217 Reinforcement_Learning, 180 Rule_Learning), which pins
# down the names of labels 0..6.
CORA_CLASSES = ("Theory", "Reinforcement_Learning", "Genetic_Algorithms", "Neural_Networks", "Probabilistic_Methods",
                "Case_Based", "Rule_Learning")
CORA_CLASS_SIZES = (351, 217, 418, 818, 426, 298, 180)
KARATE_FACTIONS = ("Mr. Hi", "Officer")


@dataclasses.dataclass(frozen=True)
class Graph:
    """A graph with node features, labels and (optionally) a train/validation/test split.

    Attributes:
        features: float32 `[N, F]` node features.
        labels: int64 `[N]` class of each node.
        edges: int64 `[E, 2]` undirected edges, each once (i < j).
        num_nodes: N.
        class_names: name of each class.
        train_index, val_index, test_index: int64 node indices (empty when the graph
            has no split).
    """

    features: np.ndarray
    labels: np.ndarray
    edges: np.ndarray
    num_nodes: int
    class_names: tuple
    train_index: np.ndarray = dataclasses.field(default_factory=lambda: np.zeros(0, np.int64))
    val_index: np.ndarray = dataclasses.field(default_factory=lambda: np.zeros(0, np.int64))
    test_index: np.ndarray = dataclasses.field(default_factory=lambda: np.zeros(0, np.int64))

    @property
    def num_classes(self):
        return len(self.class_names)

    def adjacency_matrix(self):
        """The symmetric 0/1 adjacency as a float64 NumPy array `[N, N]` (no self-loops)."""
        return dense_adjacency(self.edges, self.num_nodes)

    def adjacency(self):
        """The symmetric adjacency as the `tf.SparseTensor` the graph layers take."""
        return sparse_adjacency(self.edges, self.num_nodes)

    def feature_tensor(self, sparse=False):
        """The features as a float32 tensor, or as a `tf.SparseTensor` of their nonzeros."""
        import tensorflow as tf

        x = tf.constant(self.features, tf.float32)
        return tf.sparse.from_dense(x) if sparse else x


def _check_edges(edges, num_nodes):
    edges = np.asarray(edges)
    if edges.ndim != 2 or edges.shape[1] != 2:
        raise KerasGenError(f"edges has shape {list(edges.shape)}; expected [E, 2] node index pairs")
    if not np.issubdtype(edges.dtype, np.integer):
        raise KerasGenError(f"edges has dtype {edges.dtype}; expected integer node indices")
    if len(edges) and (edges.min() < 0 or edges.max() >= num_nodes):
        raise KerasGenError(f"edges name nodes outside 0..{num_nodes - 1}: {edges.min()}..{edges.max()}")
    return edges.astype(np.int64)


def dense_adjacency(edges, num_nodes, symmetric=True):
    """`A [N, N]` float64 with `A[i, j] = 1` for every pair (and `A[j, i]` when symmetric)."""
    edges = _check_edges(edges, num_nodes)
    a = np.zeros((num_nodes, num_nodes))
    a[edges[:, 0], edges[:, 1]] = 1.0
    if symmetric:
        a[edges[:, 1], edges[:, 0]] = 1.0
    return a


def sparse_adjacency(edges, num_nodes, symmetric=True, dtype="float32"):
    """The adjacency of an edge list as an ordered `tf.SparseTensor` `[N, N]` of ones.

    Args:
        edges: integer `[E, 2]` pairs `(i, j)`: node i receives messages from node j.
        num_nodes: N.
        symmetric: add `(j, i)` for every `(i, j)` (an undirected graph given once per
            edge). Duplicate pairs are kept once.
        dtype: dtype of the values.

    Raises:
        KerasGenError: `edges` is not an `[E, 2]` integer array of nodes in `0..N-1`.
    """
    import tensorflow as tf

    edges = _check_edges(edges, num_nodes)
    if symmetric:
        edges = np.concatenate([edges, edges[:, ::-1]], axis=0)
    edges = np.unique(edges, axis=0)  # sorted row-major: the order tf.sparse ops expect
    return tf.SparseTensor(indices=edges, values=tf.ones([len(edges)], dtype), dense_shape=[num_nodes, num_nodes])


def row_normalize(features):
    """Each row divided by its sum (rows summing to 0 stay 0): the GCN/GAT papers' preprocessing."""
    features = np.asarray(features, dtype=np.float32)
    sums = features.sum(axis=1, keepdims=True)
    return np.divide(features, sums, out=np.zeros_like(features), where=sums != 0)


def karate_club():
    """Zachary's karate club: 34 nodes, 78 unweighted edges, the two factions as labels.

    `features` is the identity matrix `[34, 34]` (one-hot node ids, the featureless
    setting of Kipf & Welling's karate example); `labels` 0 = Mr. Hi, 1 = Officer.
    There is no split: a semi-supervised run labels members 1 and 34 (nodes 0, 33).
    """
    import networkx as nx

    g = nx.karate_club_graph()
    n = g.number_of_nodes()
    edges = np.array(sorted((min(i, j), max(i, j)) for i, j in g.edges()), dtype=np.int64)
    labels = np.array([KARATE_FACTIONS.index(g.nodes[i]["club"]) for i in range(n)], dtype=np.int64)
    if n != 34 or len(edges) != 78:
        raise KerasGenError(f"networkx's karate club has {n} nodes and {len(edges)} edges; expected 34 and 78")
    return Graph(features=np.eye(n, dtype=np.float32), labels=labels, edges=edges, num_nodes=n,
                 class_names=KARATE_FACTIONS)


def package_file(name):
    """Path of a data file shipped in `keras_gen/data/files/`."""
    path = importlib.resources.files("keras_gen.data").joinpath("files", name)
    if not path.is_file():
        raise MissingFileError(f"package data file {name!r} is missing from keras_gen/data/files; reinstall keras_gen")
    return path


def cora(normalize_features=True):
    """Cora with the Planetoid split (module docstring), from the package data.

    Args:
        normalize_features: divide each paper's bag-of-words by its number of words
            (row normalisation), as both papers do. False gives the raw 0/1 matrix.
    """
    import scipy.sparse

    with package_file(CORA_FILE).open("rb") as f, np.load(f) as d:
        features = scipy.sparse.csr_matrix(
            (d["features_data"], d["features_indices"], d["features_indptr"]),
            shape=tuple(int(s) for s in d["features_shape"])).toarray().astype(np.float32)
        labels = d["labels"].astype(np.int64)
        edges = d["edges"].astype(np.int64)
        split = [d[k].astype(np.int64) for k in ("train_index", "val_index", "test_index")]
    if normalize_features:
        features = row_normalize(features)
    return Graph(features=features, labels=labels, edges=edges, num_nodes=len(labels), class_names=CORA_CLASSES,
                 train_index=split[0], val_index=split[1], test_index=split[2])


def node_weights(index, num_nodes):
    """Sample weights `[N]` that make Keras's loss the mean over the nodes in `index` only.

    Keras divides a weighted loss by the number of nodes N (`sum_over_batch_size`), not by
    the sum of the weights, so the weights are `N / len(index)` on `index` and 0 elsewhere:
    `sum_i w_i l_i / N = mean_{i in index} l_i`, the masked loss of the papers (and
    weighted metrics such as accuracy are unchanged by the scale).
    """
    index = np.asarray(index, dtype=np.int64)
    if index.ndim != 1 or not len(index):
        raise KerasGenError("node_weights needs a non-empty 1-D array of node indices")
    if index.min() < 0 or index.max() >= num_nodes:
        raise KerasGenError(f"node index outside 0..{num_nodes - 1}")
    w = np.zeros(num_nodes, np.float32)
    w[index] = num_nodes / len(np.unique(index))
    return w


def full_graph_dataset(features, adjacency, labels, index):
    """`tf.data.Dataset` of one element `((features, adjacency), labels, node_weights(index))`.

    `features` is a float array `[N, F]` or a `tf.SparseTensor`; `adjacency` a
    `tf.SparseTensor` `[N, N]` (`sparse_adjacency`).

    One element is one full-batch step over the whole graph; `fit(ds, epochs=k)` makes k
    steps, with the loss and weighted metrics over the nodes in `index`. Pass another
    dataset with the validation index as `validation_data`.
    """
    import tensorflow as tf

    if not isinstance(features, tf.SparseTensor):
        features = np.asarray(features, np.float32)
    labels = np.asarray(labels, np.int64)
    n = int(features.shape[0])
    if labels.shape != (n,):
        raise KerasGenError(f"labels has shape {list(labels.shape)}; expected [{n}] (one per node)")
    if tuple(adjacency.shape) != (n, n):
        raise KerasGenError(f"adjacency has shape {list(adjacency.shape)}; expected [{n}, {n}]")
    return tf.data.Dataset.from_tensors(((features, adjacency), labels, node_weights(index, n)))
