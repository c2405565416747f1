"""The recurrent language model: token ids in, next-token logits out."""

import keras

RNNS = ("gru", "lstm")


def build_language_model(
    meta: dict, *, rnn: str, units: int, layers: int, embedding_dim: int, dropout
) -> keras.Model:
    """Embedding, ``layers`` stacked GRU or LSTM, a dense layer to logits.

    The recurrent layers also return their final states (ignored here): the
    stateful functions of :mod:`._lm_runtime` call the same layers with an
    initial state and carry it forward.

    Parameters
    ----------
    meta : dict
        ``vocabulary``: the token list (ids are positions).
    rnn : {"gru", "lstm"}
        Recurrent layer kind.
    units, layers, embedding_dim : int
        Width and depth of the network.
    dropout : float
        Dropout on each recurrent layer's inputs, in training only.

    Returns
    -------
    keras.Model
        ``tokens`` (batch, time) int32 in, ``logits`` (batch, time, vocabulary)
        out.
    """
    size = len(meta["vocabulary"])
    tokens = keras.Input((None,), dtype="int32", name="tokens")
    x = keras.layers.Embedding(size, embedding_dim, name="embedding")(tokens)
    layer = keras.layers.GRU if rnn == "gru" else keras.layers.LSTM
    for i in range(layers):
        x = layer(
            units,
            return_sequences=True,
            return_state=True,
            dropout=dropout,
            name=f"rnn_{i}",
        )(x)[0]
    logits = keras.layers.Dense(size, name="logits")(x)
    return keras.Model(tokens, logits, name="language_model")
