"""The sentiment network: raw strings in, class probabilities out.

``TextVectorization`` (its vocabulary learned in ``fit``) turns strings into
token ids inside the model, so the SavedModel serves raw text. Id 0 is
padding; every body ignores it: the average divides by the real tokens only,
recurrent layers skip masked steps, and the convolution sees zero vectors
there and pools over real positions only. A text without any token (empty)
gives a zero feature vector: the output layer's bias alone scores it.
"""

import keras
from keras import ops

from applied_ml.text._masked_pooling import MaskedAverage, MaskedMax
from applied_ml.text._minilm import HIDDEN, minilm_encoder

MODELS = ("average", "lstm", "gru", "bilstm", "bigru", "cnn")


def vectorizer(meta: dict) -> keras.layers.TextVectorization:
    """The model's text-to-ids layer, with the vocabulary learned in ``fit``."""
    return keras.layers.TextVectorization(
        standardize=meta["standardize"],
        ngrams=meta["ngrams"],
        output_mode="int",
        output_sequence_length=meta["sequence_length"],
        vocabulary=meta["vocabulary"],
        name="vectorize",
    )


def build_sentiment_model(
    meta: dict,
    *,
    model: str,
    rnn_units: tuple,
    dropout: float,
    embedding_matrix=None,
    trainable_embeddings: bool = True,
) -> keras.Model:
    """Vectorize, embed, one of ``MODELS``, then the classifier's output layer.

    Parameters
    ----------
    meta : dict
        ``vocabulary``, ``standardize``, ``ngrams``, ``sequence_length``,
        ``embedding_dim``, ``n_outputs`` and ``task``.
    model : str
        One of :data:`MODELS`.
    rnn_units : tuple of int
        Units of each stacked recurrent layer; the convolution's filters
        (``rnn_units[0]``) for ``"cnn"``.
    dropout : float
        Dropout on the pooled features (and each recurrent layer's inputs).
    embedding_matrix : ndarray, optional
        Initial vectors, one row per id of the vectorizer (padding and
        unknown included).
    trainable_embeddings : bool, default=True
        Whether the embedding trains.

    Returns
    -------
    keras.Model
        ``texts`` (batch,) strings in; probabilities out.
    """
    texts = keras.Input(shape=(), dtype="string", name="texts")
    ids = vectorizer(meta)(texts)
    size = len(meta["vocabulary"]) + 2  # padding and unknown come first
    embed = keras.layers.Embedding(
        size,
        meta["embedding_dim"],
        trainable=trainable_embeddings,
        mask_zero=model in ("lstm", "gru", "bilstm", "bigru"),
        name="embedding",
    )
    x = embed(ids)
    if model == "average":
        x = MaskedAverage(name="average")(x, ids)
    elif model == "cnn":
        real = ops.cast(ops.not_equal(ids, 0), x.dtype)[..., None]
        x = keras.layers.Conv1D(
            rnn_units[0], 5, padding="same", activation="relu", name="conv"
        )(x * real)
        x = MaskedMax(name="max_pool")(x, ids)
    else:
        layer = keras.layers.GRU if model.endswith("gru") else keras.layers.LSTM
        for i, units in enumerate(rnn_units):
            last = i == len(rnn_units) - 1
            rnn = layer(
                units, return_sequences=not last, dropout=dropout, name=f"rnn_{i}"
            )
            if model.startswith("bi"):
                rnn = keras.layers.Bidirectional(rnn, name=f"bi_{i}")
            x = rnn(x)
    if dropout:
        x = keras.layers.Dropout(dropout, name="dropout")(x)
    network = keras.Model(texts, _output(meta)(x), name="sentiment")
    if embedding_matrix is not None:  # assigned, not an initializer: the
        embed.embeddings.assign(embedding_matrix)  # config stays small
    return network


def build_minilm_classifier(meta: dict, *, dropout: float) -> keras.Model:
    """all-MiniLM-L6-v2 (frozen), its mean-pooled vectors, then ``head``.

    Parameters
    ----------
    meta : dict
        ``sequence_length`` (WordPiece ids per text), ``n_outputs`` and
        ``task``.
    dropout : float
        Dropout on the pooled vectors.

    Returns
    -------
    keras.Model
        ``texts`` (batch,) strings in; probabilities out. The encoder is the
        layer ``"minilm"`` (frozen), the classifier the layer ``"head"``.
    """
    texts = keras.Input(shape=(), dtype="string", name="texts")
    encoder = minilm_encoder(meta["sequence_length"])
    encoder.trainable = False
    head = keras.Sequential(
        [keras.Input((HIDDEN,)), keras.layers.Dropout(dropout), _output(meta)],
        name="head",
    )
    return keras.Model(texts, head(encoder(texts)), name="sentiment")


def _output(meta: dict) -> keras.layers.Dense:
    activation = "softmax" if meta["task"] == "multiclass" else "sigmoid"
    return keras.layers.Dense(meta["n_outputs"], activation=activation, name="output")
