"""T9: node classifiers built from graph convolutions, as the papers configure them for Cora.

Each builder returns a functional `keras.Model` with two inputs and one output:

    features   float32 [N, F]              keras.Input(shape=(F,), sparse=sparse_features, name="features")
    adjacency  tf.SparseTensor [N, N]      keras.Input(shape=(None,), sparse=True, name="adjacency")
    -> logits  float32 [N, num_classes]

(the adjacency as `keras_gen.layers.graph` documents it: symmetric for an undirected
graph, no self-loops needed). With `sparse_features=True` the features are a
`tf.SparseTensor` and the input dropout a `SparseDropout` (the papers' code; 5x less work
on Cora's 1.3%-dense bag-of-words, same maths). The layer that produces the hidden node representation is
named `hidden_conv` (`hidden_representation(model)` cuts the model there).

Train with `fit` on `keras_gen.data.graphs.full_graph_dataset(...)` (one full-graph step
per epoch, the loss averaged over the labelled nodes), loss
`SparseCategoricalCrossentropy(from_logits=True)`.

L2 regularisation: the papers' code adds `lambda * tf.nn.l2_loss(W) = lambda/2 * sum W^2`
to the loss; `l2=lambda` here means that same term (a Keras `L2(lambda / 2)`).

    gcn_classifier   Kipf & Welling 2017, section 5.2: dropout -> GCN(16, ReLU) -> dropout ->
                     GCN(classes); L2 5e-4 on the first layer only; no bias (their code).
    gat_classifier   Velickovic et al. 2018, section 3.3 (Cora): dropout -> GAT(8 heads x 8,
                     concat, ELU) -> dropout -> GAT(1 head, classes, averaged); dropout 0.6
                     on both layers' inputs and on the attention; L2 5e-4 on every weight.
    sage_classifier  Hamilton et al. 2017 with the mean aggregator, in the same two-layer
                     full-batch form (the paper has no Cora setting).

`export_node_classifier` writes a SavedModel whose `serving_default` takes the graph as
plain tensors and runs without keras_gen.
"""
import keras
import tensorflow as tf

from keras_gen.layers.graph import GATConv, GCNConv, SAGEConv, SparseDropout

HIDDEN_LAYER = "hidden_conv"


def _inputs(num_features, sparse_features):
    features = keras.Input(shape=(int(num_features),), sparse=bool(sparse_features), name="features")
    adjacency = keras.Input(shape=(None,), sparse=True, name="adjacency")
    return features, adjacency


def _input_dropout(rate, sparse_features):
    if sparse_features:
        return SparseDropout(rate, name="input_dropout")
    return keras.layers.Dropout(rate, name="input_dropout")


def _l2(l2):
    # tf.nn.l2_loss(W) = sum(W^2) / 2, as in the papers' code
    return keras.regularizers.L2(l2 / 2.0) if l2 else None


def gcn_classifier(num_features, num_classes, hidden=16, dropout=0.5, l2=5e-4, use_bias=False, sparse_features=False,
                   name="gcn"):
    """Kipf & Welling's two-layer GCN (eq. 9): `softmax(A^ ReLU(A^ X W0) W1)`, A^ the renormalised adjacency.

    Args:
        num_features, num_classes: F and the number of classes.
        hidden: units of the hidden layer (16 in the paper).
        dropout: rate on the input of each layer (0.5).
        l2: the paper's weight decay on the first layer's weights (5e-4; see module doc).
        use_bias: the reference code's layers have no bias (False).
        sparse_features: the features input is a `tf.SparseTensor`.
    """
    x, a = _inputs(num_features, sparse_features)
    h = _input_dropout(dropout, sparse_features)(x)
    h = GCNConv(units=hidden, activation="relu", use_bias=use_bias, kernel_regularizer=_l2(l2),
                name=HIDDEN_LAYER)([h, a])
    h = keras.layers.Dropout(dropout, name="hidden_dropout")(h)
    logits = GCNConv(units=num_classes, use_bias=use_bias, name="output_conv")([h, a])
    return keras.Model([x, a], logits, name=name)


def gat_classifier(num_features, num_classes, heads=8, hidden=8, output_heads=1, dropout=0.6,
                   attention_dropout=0.6, l2=5e-4, sparse_features=False, name="gat"):
    """Velickovic et al.'s two-layer GAT for transductive Cora.

    Args:
        num_features, num_classes: F and the number of classes.
        heads, hidden: the hidden layer's heads and features per head (8 x 8), concatenated, ELU.
        output_heads: heads of the output layer, averaged (1 on Cora).
        dropout: rate on both layers' inputs (0.6).
        attention_dropout: rate on the normalised attention coefficients (0.6).
        l2: the paper's weight decay on every kernel and attention vector (5e-4).
        sparse_features: the features input is a `tf.SparseTensor`.
    """
    reg = _l2(l2)
    x, a = _inputs(num_features, sparse_features)
    h = _input_dropout(dropout, sparse_features)(x)
    h = GATConv(units=hidden, heads=heads, concat_heads=True, activation="elu", attention_dropout=attention_dropout,
                kernel_regularizer=reg, attention_regularizer=reg, name=HIDDEN_LAYER)([h, a])
    h = keras.layers.Dropout(dropout, name="hidden_dropout")(h)
    logits = GATConv(units=num_classes, heads=output_heads, concat_heads=False, attention_dropout=attention_dropout,
                     kernel_regularizer=reg, attention_regularizer=reg, name="output_conv")([h, a])
    return keras.Model([x, a], logits, name=name)


def sage_classifier(num_features, num_classes, hidden=16, dropout=0.5, l2=5e-4, normalize_hidden=False,
                    sparse_features=False, name="sage"):
    """Two GraphSAGE-mean layers: `concat(x_i, mean_{j in N(i)} x_j) W`, ReLU, then to the classes.

    Args:
        num_features, num_classes: F and the number of classes.
        hidden: units of the hidden layer.
        dropout: rate on the input of each layer.
        l2: weight decay on the first layer's weights (as the GCN; see module doc).
        normalize_hidden: L2-normalise the hidden rows (Hamilton et al.'s Algorithm 1, line 7).
        sparse_features: the features input is a `tf.SparseTensor`.
    """
    x, a = _inputs(num_features, sparse_features)
    h = _input_dropout(dropout, sparse_features)(x)
    h = SAGEConv(units=hidden, activation="relu", normalize=normalize_hidden, kernel_regularizer=_l2(l2),
                 name=HIDDEN_LAYER)([h, a])
    h = keras.layers.Dropout(dropout, name="hidden_dropout")(h)
    logits = SAGEConv(units=num_classes, name="output_conv")([h, a])
    return keras.Model([x, a], logits, name=name)


def hidden_representation(model):
    """The sub-model `[features, adjacency] -> output of the layer "hidden_conv"` (for t-SNE/PCA figures)."""
    return keras.Model(model.inputs, model.get_layer(HIDDEN_LAYER).output, name=f"{model.name}_hidden")


def edge_index_adjacency(edge_index, num_nodes):
    """`tf.SparseTensor [N, N]` of ones at the `[E, 2]` int64 pairs `edge_index` (inside a tf.function)."""
    edge_index = tf.cast(edge_index, tf.int64)
    n = tf.cast(num_nodes, tf.int64)
    a = tf.SparseTensor(edge_index, tf.ones(tf.shape(edge_index)[:1], tf.float32), tf.stack([n, n]))
    return tf.sparse.reorder(a)


def export_node_classifier(model, name, base_dir="saved_models", version=None, overwrite=False):
    """Writes a SavedModel of a node classifier; `serving_default` runs without keras_gen.

    Signature `serving_default` (also `classify`):
        inputs   features    float32 [N, F]   one row per node
                 edge_index  int64   [E, 2]   pairs (i, j): node i receives from node j; list
                                              both (i, j) and (j, i) for an undirected edge
        outputs  logits         float32 [N, classes]
                 probabilities  float32 [N, classes]   softmax of the logits

    Returns:
        The path written, `<base_dir>/<name>/<version>`.
    """
    from keras_gen.export import export_endpoints

    num_features = model.inputs[0].shape[-1]
    sparse_features = bool(getattr(model.inputs[0], "sparse", False))

    def classify(features, edge_index):
        a = edge_index_adjacency(edge_index, tf.shape(features)[0])
        x = tf.sparse.from_dense(features) if sparse_features else features
        logits = model([x, a], training=False)
        return {"logits": logits, "probabilities": tf.nn.softmax(logits)}

    signature = [tf.TensorSpec([None, num_features], tf.float32, name="features"),
                 tf.TensorSpec([None, 2], tf.int64, name="edge_index")]
    return export_endpoints(name, [("classify", classify, signature, "logits")], base_dir=base_dir,
                            version=version, overwrite=overwrite)
