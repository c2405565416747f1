"""LanguageModel: a recurrent character or word language model on the core."""

import dataclasses

import keras
import numpy as np
import tensorflow as tf
from sklearn.utils.validation import check_is_fitted

from applied_ml._docs import fill
from applied_ml._validation import check_choice, check_number
from applied_ml.base import KerasEstimator
from applied_ml.data import decode_text
from applied_ml.text._corpus import as_documents, check_strings
from applied_ml.text._lm_model import RNNS, build_language_model
from applied_ml.text._lm_runtime import LanguageModelRuntime
from applied_ml.text._lm_windows import window_dataset
from applied_ml.text._sampling import check_sampling
from applied_ml.text._token_scores import TokenScoresMixin
from applied_ml.text._vocabulary import (
    EOD_ID,
    LEVELS,
    build_vocabulary,
    encode_documents,
)

# Documents scored per call of the stateful window function.
_SCORE_BATCH = 64


class LanguageModel(TokenScoresMixin, KerasEstimator):
    __doc__ = fill(
        """Character or word language model: a GRU or LSTM trained on a corpus.

    ``fit(corpus)`` learns the vocabulary of the training documents (with
    ``<unk>`` for the rest and ``<eod>``, the end of a document, which the
    model predicts too) and trains the network to predict each token from
    the ones before it, on windows of ``sequence_length`` tokens read at
    random positions of the documents laid end to end (a seeded stream,
    fresh every epoch). An epoch reads as many windows as the training
    stream holds side by side; the validation split holds out whole
    documents (``validation_fraction`` of them; a corpus of one document
    holds out its last part).

    ``score``, ``perplexity`` and ``bits_per_char`` read each held-out
    document from its start (after an end-of-document token), window after
    window with the recurrent state carried over, so no token is scored
    without its context. ``sample`` and ``generate`` run one network step
    per token from the carried state, inside one compiled loop.
    ``predict(texts)`` gives the most probable next token after each text.

    ``export`` writes a SavedModel with two endpoints: ``serving_default``
    takes ``texts`` (strings) and returns the next token's ``probabilities``
    over the vocabulary and the most probable ``next_token``; ``generate``
    takes ``seed_text`` (strings), ``temperature`` and ``max_length`` and
    returns ``texts``.

    Parameters
    ----------
    level : {{"char", "word"}}, default="char"
        Characters, or words and punctuation marks (ASCII word characters).
    rnn : {{"gru", "lstm"}}, default="gru"
        Recurrent layer kind.
    units : int, default=256
        Units of each recurrent layer.
    layers : int, default=1
        Stacked recurrent layers.
    embedding_dim : int, default=64
        Size of the token embedding.
    sequence_length : int, default=100
        Tokens per training window.
    dropout : float, default=0.0
        Dropout on each recurrent layer's inputs, in training.
    min_count : int, default=1
        Tokens seen fewer times in training are ``<unk>``.
    max_tokens : int, optional
        Largest vocabulary, ``<unk>`` and ``<eod>`` included (most frequent
        tokens kept).
    batch_size : int, default=32
        Windows per gradient step.
{training}
{run}

    Attributes
    ----------
    vocabulary_ : list of str
        ``<unk>``, ``<eod>``, then the training tokens, most frequent first.
    model_ : keras.Model
        The trained network: token ids in, next-token logits out.
    history_ : dict
        Per-epoch training and validation loss (nats per token).
    n_iter_ : int
        Number of epochs run.
    meta_ : dict
        What the model builder learned from the training data.

    Examples
    --------
    >>> from applied_ml.datasets import load_fortunes
    >>> from applied_ml.text import LanguageModel
    >>> lm = LanguageModel(max_steps=2000)
    >>> lm.fit(load_fortunes())  # doctest: +SKIP
    >>> lm.sample(2, temperature=0.5, random_state=0)  # doctest: +SKIP
    """,
        optimizer="adam",
        learning_rate=0.003,
        epochs=20,
        patience=3,
        batch_size=None,
        validation_fraction=0.1,
    )

    def __init__(
        self,
        *,
        level="char",
        rnn="gru",
        units=256,
        layers=1,
        embedding_dim=64,
        sequence_length=100,
        dropout=0.0,
        min_count=1,
        max_tokens=None,
        batch_size=32,
        optimizer="adam",
        learning_rate=0.003,
        epochs=20,
        max_steps=None,
        early_stopping=True,
        patience=3,
        validation_fraction=0.1,
        warm_start=False,
        checkpoint_dir=None,
        log_dir=None,
        callbacks=None,
        strategy="auto",
        random_state=None,
        verbose=0,
    ):
        self.level = level
        self.rnn = rnn
        self.units = units
        self.layers = layers
        self.embedding_dim = embedding_dim
        self.sequence_length = sequence_length
        self.dropout = dropout
        self.min_count = min_count
        self.max_tokens = max_tokens
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
        check_choice("level", self.level, LEVELS)
        check_choice("rnn", self.rnn, RNNS)
        for name in ("units", "layers", "embedding_dim", "min_count"):
            check_number(name, getattr(self, name), integer=True, low=1)
        check_number("sequence_length", self.sequence_length, integer=True, low=2)
        check_number("dropout", self.dropout, low=0.0, high=1.0, high_inclusive=False)
        check_number(
            "max_tokens", self.max_tokens, integer=True, low=3, allow_none=True
        )

    # ------------------------------------------------------------------ data
    def _prepare_inputs(self, X, *, reset: bool) -> dict:
        return {"texts": np.asarray(as_documents(X, "X"), dtype=object)}

    def _dataset_fit_data(self, dataset, y, sample_weight, *, reset: bool):
        # a corpus is read into memory: windows are drawn across all of it
        return self._array_fit_data(dataset, y, sample_weight, reset=reset)

    def _array_fit_data(self, X, y, sample_weight, *, reset: bool):
        if sample_weight is not None:
            raise ValueError(
                "LanguageModel weighs every token alike; `sample_weight` must be "
                f"None. Received: sample_weight of type {type(sample_weight).__name__}"
            )
        documents = as_documents(X, "X")
        # one document: its last validation_fraction is held out
        self._one_document = len(documents) == 1 and self.validation_fraction > 0
        if self._one_document:
            cut = int(len(documents[0]) * (1 - self.validation_fraction))
            documents = [documents[0][:cut], documents[0][cut:]]
        data = super()._array_fit_data(documents, y, None, reset=reset)
        # an epoch is the windows of the stream, not one row per document
        return dataclasses.replace(data, steps_per_epoch=self._steps)

    def _split(self, n: int, targets):
        if self._one_document:
            return np.array([0]), np.array([1])
        return super()._split(n, targets)

    def _learn_meta(self, inputs: dict, targets) -> dict:
        self.vocabulary_ = build_vocabulary(
            list(inputs["texts"]), self.level, self.min_count, self.max_tokens
        )
        return {"vocabulary": self.vocabulary_, "level": self.level}

    def _examples_pipeline(self, parts: dict, *, training: bool):
        stream = self._stream(parts["inputs"]["texts"])
        dataset = window_dataset(
            stream,
            self.sequence_length,
            self.batch_size,
            self._fit_seed,
            training=training,
        )
        if training:
            self._steps = int(dataset.cardinality())
        return dataset

    def _stream(self, texts) -> np.ndarray:
        stream = encode_documents(list(texts), self.meta_["vocabulary"], self.level)
        if len(stream) < 2:
            raise ValueError(
                "`X` must hold at least one token besides the documents' ends on "
                f"each side of the validation split. Received {len(texts)} "
                f"document(s) making {len(stream)} token(s)."
            )
        return stream

    def _after_fit(self, data) -> None:
        self.__dict__.pop("_steps", None)
        self.__dict__.pop("_one_document", None)

    # ----------------------------------------------------------------- model
    def _build_model(self, meta: dict):
        return build_language_model(
            meta,
            rnn=self.rnn,
            units=self.units,
            layers=self.layers,
            embedding_dim=self.embedding_dim,
            dropout=self.dropout,
        )

    def _loss(self):
        return keras.losses.SparseCategoricalCrossentropy(from_logits=True)

    def _input_signature(self):
        return {"texts": tf.TensorSpec([None], tf.string)}

    def _encode(self, inputs, targets, *, training: bool):
        """Texts to their token ids (ragged), each after an end-of-document."""
        return self._runtime.token_ids(inputs["texts"]), targets

    def _outputs(self, inputs) -> dict:
        ids, _ = self._encode(inputs, None, training=False)
        return self._decode(self._runtime.read(ids)[0])

    def _decode(self, raw) -> dict:
        probabilities = tf.nn.softmax(raw)
        best = tf.argmax(probabilities, axis=1, output_type=tf.int32)
        return {
            "probabilities": probabilities,
            "next_token": tf.gather(self._runtime.tokens, best),
        }

    def _post_restore(self) -> None:
        self._runtime = LanguageModelRuntime(
            self.model_, self.meta_["vocabulary"], self.meta_["level"]
        )
        super()._post_restore()

    def __getstate__(self):
        state = super().__getstate__()
        state.pop("_runtime", None)  # graph functions: rebuilt on unpickling
        return state

    # --------------------------------------------------------------- predict
    def predict(self, X) -> np.ndarray:
        """The most probable next token after each text.

        Parameters
        ----------
        X : str, sequence of str or tf.data.Dataset
            Texts, each read from a document's start.

        Returns
        -------
        ndarray of shape (n_texts,), object
            Tokens (``"<eod>"`` when the text most likely ends there).
        """
        return decode_text(self._predict_outputs(X)["next_token"])

    def predict_proba(self, X) -> np.ndarray:
        """The distribution of the next token after each text.

        Parameters
        ----------
        X : str, sequence of str or tf.data.Dataset
            Texts, each read from a document's start.

        Returns
        -------
        ndarray of shape (n_texts, len(vocabulary_))
            Probabilities, ordered as ``vocabulary_``.
        """
        return self._predict_outputs(X)["probabilities"]

    # --------------------------------------------------------------- scoring
    def _token_bits(self, documents: list[str]) -> tuple[float, int, int]:
        """Total bits of the documents' tokens (ends included), tokens, chars."""
        vocabulary, level = self.meta_["vocabulary"], self.meta_["level"]
        streams = [
            np.concatenate([[EOD_ID], encode_documents([d], vocabulary, level)])
            for d in documents
        ]
        order = np.argsort([len(s) for s in streams], kind="stable")
        bits, tokens = 0.0, 0
        for start in range(0, len(order), _SCORE_BATCH):
            batch = [streams[i] for i in order[start : start + _SCORE_BATCH]]
            width = max(len(s) for s in batch) - 1
            padded = np.zeros((len(batch), width + 1), np.int32)
            for row, s in enumerate(batch):
                padded[row, : len(s)] = s
            valid = (
                np.arange(width)[None] < np.array([len(s) - 1 for s in batch])[:, None]
            )
            states = self._runtime.zero_states(len(batch))
            for at in range(0, width, self.sequence_length):
                window = slice(at, at + self.sequence_length)
                log2p, states = self._runtime.window(
                    padded[:, :-1][:, window], padded[:, 1:][:, window], states
                )
                bits -= float(np.sum(log2p.numpy()[valid[:, window]]))
            tokens += int(valid.sum())
        chars = sum(len(d) + 1 for d in documents)
        return bits, tokens, chars

    # ------------------------------------------------------------ generating
    def generate(
        self,
        seed_texts,
        max_length: int = 200,
        temperature: float = 1.0,
        top_k=None,
        top_p=None,
        random_state=None,
    ) -> list[str]:
        """Continue each seed text to its end or ``max_length`` tokens.

        One compiled loop carries the recurrent state from token to token
        (the text so far is never read again) and draws each token from the
        network's distribution reshaped by the arguments.

        Parameters
        ----------
        seed_texts : str or sequence of str
            The start of each text ("" for a new document).
        max_length : int, default=200
            Most tokens generated per text.
        temperature : float, default=1.0
            0 is greedy; above 1 flatter, below 1 sharper.
        top_k : int, optional
            Keep the ``top_k`` most probable tokens at each step.
        top_p : float, optional
            Keep the most probable tokens covering ``top_p`` of the mass.
        random_state : int, numpy Generator or None
            Seed of the draws: a seed repeats its texts.

        Returns
        -------
        list of str
            Each seed followed by its continuation (``<unk>`` is never
            generated).
        """
        check_is_fitted(self)
        seeds = [seed_texts] if isinstance(seed_texts, str) else list(seed_texts)
        check_sampling(max_length, temperature, top_k, top_p)
        check_strings(seeds, "seed_texts")
        if not seeds:
            return []
        seed = np.random.default_rng(random_state).integers(0, 2**31 - 1, size=2)
        out = self._runtime.generate(
            tf.constant(seeds, tf.string),
            tf.constant(temperature, tf.float32),
            tf.constant(max_length, tf.int32),
            tf.constant(top_k or 0, tf.int32),
            tf.constant(1.0 if top_p is None else top_p, tf.float32),
            tf.constant(seed, tf.int64),
        )
        return decode_text(out["texts"].numpy()).tolist()

    def sample(
        self,
        n: int = 1,
        max_length: int = 200,
        temperature: float = 1.0,
        top_k=None,
        top_p=None,
        seed_text: str = "",
        random_state=None,
    ) -> list[str]:
        """Generate ``n`` texts that start with ``seed_text`` (see ``generate``).

        Parameters
        ----------
        n : int, default=1
            Number of texts.
        max_length : int, default=200
            Most tokens generated per text.
        temperature : float, default=1.0
            0 is greedy.
        top_k : int, optional
            Keep the ``top_k`` most probable tokens at each step.
        top_p : float, optional
            Keep the most probable tokens covering ``top_p`` of the mass.
        seed_text : str, default=""
            The start of every text.
        random_state : int, numpy Generator or None
            Seed of the draws.

        Returns
        -------
        list of str
        """
        check_number("n", n, integer=True, low=1)
        return self.generate(
            [seed_text] * n, max_length, temperature, top_k, top_p, random_state
        )

    # ---------------------------------------------------------------- export
    def _endpoints(self) -> dict:
        texts = {"texts": tf.TensorSpec([None], tf.string, name="texts")}
        generating = {
            "seed_text": tf.TensorSpec([None], tf.string, name="seed_text"),
            "temperature": tf.TensorSpec([], tf.float32, name="temperature"),
            "max_length": tf.TensorSpec([], tf.int32, name="max_length"),
        }

        def serve(served):
            return self._outputs(served)

        def generate(served):
            seed = tf.random.uniform([2], maxval=2**31 - 1, dtype=tf.int64)
            return self._runtime.generate_fn(
                served["seed_text"],
                served["temperature"],
                tf.maximum(served["max_length"], 1),  # at least one step
                tf.constant(0),
                tf.constant(1.0),
                seed,
            )

        return {"serving_default": (serve, texts), "generate": (generate, generating)}

    def _export_resources(self) -> list:
        return [self._runtime.lookup]

    def __sklearn_tags__(self):
        tags = super().__sklearn_tags__()
        tags.input_tags.two_d_array = False
        tags.input_tags.string = True
        tags.target_tags.required = False
        tags.non_deterministic = self.random_state is None
        return tags
