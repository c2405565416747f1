"""WordEmbeddings: word vectors loaded or trained (skip-gram), queried, served."""

import keras
import numpy as np
import tensorflow as tf
from sklearn.utils.validation import check_is_fitted

from applied_ml._docs import fill
from applied_ml._validation import check_bool, check_choice, check_number
from applied_ml.base import KerasEstimator
from applied_ml.data import FitData
from applied_ml.text._corpus import as_documents, check_strings
from applied_ml.text._embedding_io import WordVectorsIOMixin
from applied_ml.text._embedding_queries import WordQueriesMixin
from applied_ml.text._skipgram import (
    LinearDecay,
    PairSampler,
    build_lookup,
    build_skipgram,
    build_vocabulary,
    encode,
    pair_dataset,
    words_of,
)
from applied_ml.text._vector_files import first_repeat
from applied_ml.text._vector_queries import (
    norms_of,
)

_OOV = ("error", "zero")
_CACHES = ("_vectors", "_norms", "_index")


class WordEmbeddings(WordVectorsIOMixin, WordQueriesMixin, KerasEstimator):
    __doc__ = fill(
        """Word vectors: pretrained, read from a file, or trained by skip-gram.

    ``fit(corpus)`` trains skip-gram with negative sampling as a Keras model:
    a target table and a context table, and the dot product of a word's
    target vector with the context vectors of a neighbour and of
    ``negatives`` words drawn from the unigram distribution raised to 3/4,
    each pair labelled 1 and each negative 0. The pairs follow word2vec:
    words seen fewer than ``min_count`` times are left out, frequent words
    are dropped at random (``sample``), each word looks up to a random
    1..``window`` words to each side, pairs never cross a document's end,
    and pairs and negatives are drawn afresh every epoch (seeded). The
    target table is the word vectors.

    ``from_pretrained``, ``from_file`` and ``from_keyed_vectors`` make a
    fitted instance from vectors trained elsewhere. Every instance answers
    the same queries (``most_similar``, ``similarity``, ``analogy``,
    ``transform``), is evaluated the same way (``evaluate_analogies``,
    ``evaluate_word_pairs``, with gensim's conventions) and exports a
    SavedModel whose ``serving_default`` takes ``words`` (strings) and
    returns their ``vectors`` (zeros for unknown words) and ``known``.

    Parameters
    ----------
    vector_size : int, default=100
        Size of the word vectors.
    window : int, default=5
        Largest number of neighbours on each side of a word.
    negatives : int, default=5
        Negative words drawn per pair.
    min_count : int, default=5
        Words seen fewer times in training are left out.
    sample : float, default=1e-4
        Subsampling threshold of frequent words (0 keeps every word).
    max_vocabulary : int, optional
        Keep only this many of the most frequent words.
    lowercase : bool, default=True
        Lower-case the corpus (and queries in ``transform``).
    decay : bool, default=True
        Let the learning rate fall linearly to nearly 0 over the fit's
        steps (``epochs`` or ``max_steps``), as word2vec does. Set False
        when a callback such as ``TimeBudget`` sets the rate.
    batch_size : int, default=1024
        Pairs per gradient step.
{training}
{run}

    Attributes
    ----------
    vocabulary_ : list of str
        The words, most frequent first (for trained vectors; in file order
        otherwise).
    vectors_ : ndarray of shape (n_words, vector_size), float32
        The word vectors, in the order of ``vocabulary_``.
    index_ : dict of str to int
        Each word's row in ``vectors_``.
    model_ : keras.Model
        The skip-gram network (target and context tables), or the table alone
        for loaded vectors.
    history_ : dict
        Per-epoch training loss (empty for loaded vectors).
    n_iter_ : int
        Number of epochs run.
    meta_ : dict
        The vocabulary and the vector size.

    Examples
    --------
    >>> from applied_ml.text import WordEmbeddings
    >>> glove = WordEmbeddings.from_pretrained("glove-6b-50d")  # doctest: +SKIP
    >>> glove.analogy("man", "king", "woman")  # doctest: +SKIP
    'queen'
    """,
        optimizer="adam",
        learning_rate=0.01,
        epochs=10,
        patience=3,
        batch_size=None,
        validation_fraction=0.0,
        early_stopping=False,
    )

    def __init__(
        self,
        *,
        vector_size=100,
        window=5,
        negatives=5,
        min_count=5,
        sample=1e-4,
        max_vocabulary=None,
        lowercase=True,
        decay=True,
        batch_size=1024,
        optimizer="adam",
        learning_rate=0.01,
        epochs=10,
        max_steps=None,
        early_stopping=False,
        patience=3,
        validation_fraction=0.0,
        warm_start=False,
        checkpoint_dir=None,
        log_dir=None,
        callbacks=None,
        strategy="auto",
        random_state=None,
        verbose=0,
    ):
        self.vector_size = vector_size
        self.window = window
        self.negatives = negatives
        self.min_count = min_count
        self.sample = sample
        self.max_vocabulary = max_vocabulary
        self.lowercase = lowercase
        self.decay = decay
        self.batch_size = batch_size
        self.optimizer = optimizer
        self.learning_rate = learning_rate
        self.epochs = epochs
        self.max_steps = max_steps
        self.early_stopping = early_stopping
        self.patience = patience
        self.validation_fraction = validation_fraction
        self.warm_start = warm_start
        self.checkpoint_dir = checkpoint_dir
        self.log_dir = log_dir
        self.callbacks = callbacks
        self.strategy = strategy
        self.random_state = random_state
        self.verbose = verbose

    def _check_params(self) -> None:
        super()._check_params()
        for name in ("vector_size", "window", "negatives", "min_count"):
            check_number(name, getattr(self, name), integer=True, low=1)
        check_number("sample", self.sample, low=0.0)
        check_number(
            "max_vocabulary", self.max_vocabulary, integer=True, low=2, allow_none=True
        )
        check_bool("lowercase", self.lowercase)
        check_bool("decay", self.decay)

    # ----------------------------------------------------------- loading
    @classmethod
    def from_vectors(cls, words, vectors, **params) -> "WordEmbeddings":
        """Word vectors given as a word list and a matrix.

        Parameters
        ----------
        words : sequence of str
            Distinct words, most frequent first where that is known (the
            evaluations' ``restrict_vocab`` keeps the first words).
        vectors : array-like of shape (len(words), dim)
            Their vectors.
        **params
            Estimator parameters (``lowercase`` matters for ``transform``).

        Returns
        -------
        WordEmbeddings
            A fitted instance.
        """
        words = list(words)
        check_strings(words, "words")
        try:
            matrix = np.asarray(vectors)
        except ValueError as error:  # ragged rows
            raise ValueError(
                "`vectors` must be a matrix: every word's vector of one dimension. "
                f"Received rows of mixed lengths ({error})."
            ) from None
        if matrix.ndim != 2 or matrix.shape[0] != len(words) or not len(words):
            raise ValueError(
                "`vectors` must be a matrix with one row per word. Received "
                f"{len(words)} word(s) and an array of shape {matrix.shape}."
            )
        if not np.issubdtype(matrix.dtype, np.number):
            raise TypeError(
                f"`vectors` must hold numbers. Received dtype {matrix.dtype}."
            )
        twice = first_repeat(words)
        if twice is not None:
            raise ValueError(f"`words` must be distinct. Received {twice!r} twice.")
        estimator = cls(vector_size=matrix.shape[1], **params)
        estimator.meta_ = {
            "vocabulary": words,
            "vector_size": matrix.shape[1],
            "skipgram": False,
        }
        estimator.model_ = estimator._build_model(estimator.meta_)
        estimator.history_, estimator.n_iter_ = {}, 0
        estimator._assign_vectors(matrix)
        return estimator

    def _assign_vectors(self, vectors) -> None:
        """Write ``vectors`` into the model's table; refresh what derives from it."""
        self.model_.get_layer("target_vectors").embeddings.assign(
            np.asarray(vectors, dtype=np.float32)
        )
        self._post_restore()

    def tokenize(self, text: str) -> list[str]:
        """The words ``fit`` reads from a text (letters and digits, inner
        apostrophes kept; lower-cased when ``lowercase``).

        Parameters
        ----------
        text : str
            A document.

        Returns
        -------
        list of str
        """
        check_strings([text], "text")
        return words_of(text, self.lowercase)

    # -------------------------------------------------------------- data
    def _prepare_inputs(self, X, *, reset: bool) -> dict:
        if isinstance(X, str):
            X = [X]
        words = list(np.ravel(np.asarray(X, dtype=object)))
        check_strings(words, "words")
        return {"words": np.asarray(words, dtype=object)}

    def _dataset_fit_data(self, dataset, y, sample_weight, *, reset: bool):
        # a corpus is read into memory: pairs are drawn across all of it
        return self._array_fit_data(dataset, y, sample_weight, reset=reset)

    def _array_fit_data(self, X, y, sample_weight, *, reset: bool):
        if y is not None or sample_weight is not None:
            raise ValueError(
                "WordEmbeddings learns from a corpus alone; `y` and `sample_weight` "
                f"must be None. Received: y of type {type(y).__name__}, "
                f"sample_weight of type {type(sample_weight).__name__}"
            )
        self._documents = as_documents(X, "X")
        return self._fit_documents(reset)

    def _fit_documents(self, reset: bool) -> FitData:
        train_idx, val_idx = self._split(len(self._documents), None)
        tokens = [words_of(d, self.lowercase) for d in self._documents]
        if reset:
            self.meta_ = self._learn_meta({"tokens": [tokens[i] for i in train_idx]})
        elif not self.meta_["skipgram"]:
            raise ValueError(
                "`warm_start=True` continues a skip-gram fit, but these vectors "
                "were loaded, not trained here. Received: warm_start=True on "
                "loaded vectors."
            )
        lookup = {w: i for i, w in enumerate(self.meta_["vocabulary"])}
        train = self._pairs([tokens[i] for i in train_idx], lookup, training=True)
        validation = None
        if val_idx is not None:
            validation = self._pairs(
                [tokens[i] for i in val_idx], lookup, training=False
            )
        return FitData(
            train=train,
            validation=validation,
            steps_per_epoch=int(train.cardinality()),
            train_in_order=train,
        )

    def _pairs(self, tokens, lookup, *, training: bool):
        documents = encode(tokens, lookup)
        counts = np.bincount(
            np.concatenate(documents) if documents else np.zeros(0, int),
            minlength=len(lookup),
        )
        sampler = PairSampler(
            documents, counts + 1, self.window, self.negatives, self.sample
        )
        return pair_dataset(sampler, self.batch_size, self._fit_seed, training=training)

    def _learn_meta(self, inputs: dict, targets=None) -> dict:
        words, _ = build_vocabulary(
            inputs["tokens"], self.min_count, self.max_vocabulary
        )
        if len(words) < 2:
            raise ValueError(
                f"The corpus must hold at least 2 distinct words seen {self.min_count} "
                f"time(s) or more (min_count). Received {len(words)}."
            )
        return {"vocabulary": words, "vector_size": self.vector_size, "skipgram": True}

    def _after_fit(self, data) -> None:
        self.__dict__.pop("_documents", None)
        self.__dict__.pop("_steps_per_epoch", None)

    def _callbacks(self, phase: str) -> list:
        callbacks = super()._callbacks(phase)
        if self.decay:
            steps = self.max_steps or self.epochs * self._steps_per_epoch
            callbacks.insert(0, LinearDecay(self.learning_rate, steps))
        return callbacks

    def _fit_phase(self, phase: str, data):
        self._steps_per_epoch = data.steps_per_epoch
        return super()._fit_phase(phase, data)

    # ------------------------------------------------------------- model
    def _build_model(self, meta: dict):
        n_words = len(meta["vocabulary"])
        if meta["skipgram"]:
            return build_skipgram(n_words, meta["vector_size"], self.negatives)
        return build_lookup(n_words, meta["vector_size"])

    def _loss(self):
        return keras.losses.BinaryCrossentropy(from_logits=True)

    def _input_signature(self):
        return {"words": tf.TensorSpec([None], tf.string, name="words")}

    def _encode(self, inputs, targets, *, training: bool):
        """Word rows (+1; 0 is unknown): as written, else lower-cased."""
        ids = self._lookup(inputs["words"])
        if self.lowercase:
            lower = self._lookup(tf.strings.lower(inputs["words"], encoding="utf-8"))
            ids = tf.where(ids > 0, ids, lower)
        return ids, targets

    def _outputs(self, inputs) -> dict:
        ids, _ = self._encode(inputs, None, training=False)
        table = self._inference_model.get_layer("target_vectors").embeddings
        known = ids > 0
        vectors = tf.gather(table, tf.maximum(ids - 1, 0))
        zeros = tf.zeros_like(vectors)
        return {"vectors": tf.where(known[:, None], vectors, zeros), "known": known}

    def _decode(self, raw) -> dict:
        return raw

    def _export_resources(self) -> list:
        return [self._lookup]

    def _post_restore(self) -> None:
        words = self.meta_["vocabulary"]
        self._lookup = keras.layers.StringLookup(
            vocabulary=words, num_oov_indices=1, output_mode="int"
        )
        self._lookup(tf.constant([""]))  # built now: export may come first
        self._vectors = (
            self.model_.get_layer("target_vectors").embeddings.numpy().copy()
        )
        self._norms = norms_of(self._vectors)
        self._index = {w: i for i, w in enumerate(words)}
        super()._post_restore()

    def __getstate__(self):
        state = super().__getstate__()
        for name in ("_lookup", *_CACHES):
            state.pop(name, None)  # rebuilt on unpickling
        return state

    # ----------------------------------------------------------- attributes
    @property
    def vocabulary_(self) -> list[str]:
        check_is_fitted(self)
        return self.meta_["vocabulary"]

    @property
    def vectors_(self) -> np.ndarray:
        check_is_fitted(self)
        return self._vectors

    @property
    def index_(self) -> dict[str, int]:
        check_is_fitted(self)
        return self._index

    # ------------------------------------------------------------ transform
    def transform(self, words, oov: str = "error", return_mask: bool = False):
        """The vectors of ``words``.

        Parameters
        ----------
        words : str or sequence of str
            Words (lower-cased first when ``lowercase``).
        oov : {"error", "zero"}, default="error"
            An unknown word raises a KeyError naming it, or gets a zero vector.
        return_mask : bool, default=False
            Also return which words are known.

        Returns
        -------
        vectors : ndarray of shape (n_words, vector_size)
        known : ndarray of shape (n_words,), bool
            Only with ``return_mask=True``.
        """
        check_choice("oov", oov, _OOV)
        outputs = self._predict_outputs(words)
        known = outputs["known"].astype(bool)
        if oov == "error" and not known.all():
            self._row(np.ravel(np.asarray(words, dtype=object))[~known][0], "words")
        return (outputs["vectors"], known) if return_mask else outputs["vectors"]

    def __sklearn_tags__(self):
        tags = super().__sklearn_tags__()
        tags.input_tags.two_d_array = False
        tags.input_tags.string = True
        tags.target_tags.required = False
        tags.non_deterministic = self.random_state is None
        return tags
