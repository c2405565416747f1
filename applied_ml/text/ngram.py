"""NGramLanguageModel: interpolated Kneser-Ney n-grams, the language-model baseline."""

import numpy as np
from sklearn.base import BaseEstimator
from sklearn.utils.validation import check_is_fitted

from applied_ml._validation import check_choice, check_number
from applied_ml.text._corpus import as_documents
from applied_ml.text._sampling import check_sampling, choose
from applied_ml.text._token_scores import TokenScoresMixin
from applied_ml.text._vocabulary import (
    EOD_ID,
    LEVELS,
    UNK_ID,
    build_vocabulary,
    detokenize,
    encode_documents,
    tokenize,
)


class NGramLanguageModel(TokenScoresMixin, BaseEstimator):
    """Interpolated Kneser-Ney n-gram language model over characters or words.

    The baseline every language model of the package is judged against, as
    ``DummyClassifier`` is for classifiers; it has the ``fit``/``score``/
    ``sample`` API of :class:`~applied_ml.text.LanguageModel`.

    The probability of a token after a context mixes every order, from the
    longest context down to a uniform distribution over the vocabulary. At
    the highest order it uses counts; below, the number of distinct tokens
    seen before each n-gram (Kneser-Ney's continuation counts: a token that
    follows few contexts is unlikely after a new one). Each order takes a
    discount ``D`` from every seen n-gram and gives it to the order below. A
    context never seen passes straight to the order below, so every context,
    even an unseen one, gets a distribution that sums to 1.

    Each document ends with an end-of-document token, which the model
    predicts like any other, and starts after ``order - 1`` of them: the
    context of its first tokens.

    Parameters
    ----------
    order : int, default=5
        Longest n-gram: the context is ``order - 1`` tokens.
    level : {"char", "word"}, default="char"
        Characters, or words and punctuation marks.
    discount : float, optional
        One discount in (0, 1) for every order; by default each order's is
        ``n1 / (n1 + 2 n2)`` from its counts of n-grams seen once and twice.
    min_count : int, default=1
        Tokens seen fewer times in training are ``<unk>``.

    Attributes
    ----------
    vocabulary_ : list of str
        ``<unk>``, ``<eod>``, then the training tokens, most frequent first.
    discounts_ : ndarray of shape (order,)
        The discount of each order, unigrams first.

    Examples
    --------
    >>> from applied_ml.text import NGramLanguageModel
    >>> lm = NGramLanguageModel(order=5).fit(["the cat sat", "the cat ran"])
    >>> lm.bits_per_char(["the cat sat"]) < 2
    True
    >>> lm.sample(1, temperature=0)
    ['the cat sat']
    """

    def __init__(self, order=5, level="char", discount=None, min_count=1):
        self.order = order
        self.level = level
        self.discount = discount
        self.min_count = min_count

    def _check_params(self) -> None:
        check_number("order", self.order, integer=True, low=1)
        check_choice("level", self.level, LEVELS)
        check_number(
            "discount",
            self.discount,
            low=0.0,
            high=1.0,
            low_inclusive=False,
            high_inclusive=False,
            allow_none=True,
        )
        check_number("min_count", self.min_count, integer=True, low=1)

    def fit(self, X, y=None):
        """Count the n-grams of a corpus.

        Parameters
        ----------
        X : str, path, sequence of str or tf.data.Dataset
            The corpus: a string (or a file's path) is one document; a
            sequence or a dataset holds one document per item.
        y : None
            Ignored.

        Returns
        -------
        self
        """
        self._check_params()
        documents = as_documents(X, "X")
        self.vocabulary_ = build_vocabulary(documents, self.level, self.min_count)
        streams = [self._stream(d) for d in documents]
        segments = np.repeat(np.arange(len(streams)), [len(s) for s in streams])
        self._count(np.concatenate(streams), segments)
        return self

    # ------------------------------------------------------------- counting
    def _stream(self, document: str) -> np.ndarray:
        """A document's ids after ``order - 1`` ends: its first tokens' context."""
        ids = encode_documents([document], self.vocabulary_, self.level)
        return np.concatenate([np.full(self.order - 1, EOD_ID), ids])

    def _count(self, stream: np.ndarray, segments: np.ndarray) -> None:
        """Tables of every order, from documents' streams laid end to end.

        An n-gram's key is (its first n - 1 tokens' id) * V + its last token;
        its id is its position in the sorted ``keys_[n - 1]``. No n-gram
        crosses from one document into the next. ``counts_`` hold counts at
        the top order and for n-grams that start with the padding ends, and
        continuation counts (distinct tokens seen before) elsewhere, as in
        KenLM; ``context_totals_``/``context_types_`` hold the sum and the
        number of non-zero counts after each context.
        """
        size, order = len(self.vocabulary_), self.order
        ids, first = [stream], [np.arange(size)]
        keys = [np.arange(size)]
        raw = [np.bincount(stream, minlength=size)]
        for n in range(1, order):
            prefix = ids[n - 1][: len(stream) - n]
            inside = (prefix >= 0) & (segments[:-n] == segments[n:])
            key = prefix[inside] * size + stream[n:][inside]
            unique, start, inverse, count = np.unique(
                key, return_index=True, return_inverse=True, return_counts=True
            )
            gram_ids = np.full(len(prefix), -1)
            gram_ids[inside] = inverse
            keys.append(unique)
            ids.append(gram_ids)
            first.append(np.flatnonzero(inside)[start])
            raw.append(count)
        counts = []
        for n in range(order):
            if n == order - 1:
                counts.append(raw[n])
                continue
            before = ids[n][first[n + 1] + 1]  # each longer n-gram's suffix
            continuation = np.bincount(before, minlength=len(keys[n]))
            padded = stream[first[n]] == EOD_ID if n else np.zeros(size, bool)
            counts.append(np.where(padded, raw[n], continuation))
        self.keys_, self.counts_ = keys, counts
        self.context_totals_, self.context_types_ = [None], [None]
        for n in range(1, order):
            prefix = keys[n] // size
            n_contexts = len(keys[n - 1])
            self.context_totals_.append(
                np.bincount(prefix, weights=counts[n], minlength=n_contexts)
            )
            self.context_types_.append(
                np.bincount(prefix, weights=counts[n] > 0, minlength=n_contexts)
            )
        self.discounts_ = np.array([self._discount(c) for c in counts])
        unigram = counts[0].astype(np.float64)
        d, total = self.discounts_[0], unigram.sum()
        self.unigram_ = (
            np.maximum(unigram - d, 0.0) + d * np.count_nonzero(unigram) / size
        ) / total

    def _discount(self, counts: np.ndarray) -> float:
        if self.discount is not None:
            return float(self.discount)
        once, twice = np.count_nonzero(counts == 1), np.count_nonzero(counts == 2)
        return once / (once + 2 * twice) if once else 0.5

    def _ids(self, stream: np.ndarray) -> list[np.ndarray]:
        """Ids of the n-grams starting at each position; -1 when never seen."""
        size = len(self.vocabulary_)
        ids = [stream]
        for n in range(1, self.order):
            prefix = ids[n - 1][: len(stream) - n]
            key = prefix * size + stream[n:]
            keys = self.keys_[n]
            at = np.minimum(np.searchsorted(keys, key), len(keys) - 1)
            ids.append(np.where((prefix >= 0) & (keys[at] == key), at, -1))
        return ids

    # -------------------------------------------------------------- scoring
    def _token_bits(self, documents: list[str]) -> tuple[float, int, int]:
        """Total bits of the documents' tokens (ends included), tokens, chars."""
        bits, tokens, chars = 0.0, 0, 0
        for document in documents:
            stream = self._stream(document)
            bits -= np.log2(self._stream_probabilities(stream)).sum()
            tokens += len(stream) - (self.order - 1)
            chars += len(document) + 1
        return bits, tokens, chars

    def _stream_probabilities(self, stream: np.ndarray) -> np.ndarray:
        """Probability of each token after the first ``order - 1`` (the context)."""
        context = self.order - 1
        targets = stream[context:]
        p = self.unigram_[targets]
        ids = self._ids(stream)
        for n in range(1, self.order):
            start = np.arange(len(targets)) + context - n
            parent = ids[n - 1][start]  # the context: n tokens before the target
            gram = ids[n][start]
            total = np.where(
                parent >= 0, self.context_totals_[n][np.maximum(parent, 0)], 0.0
            )
            types = np.where(
                parent >= 0, self.context_types_[n][np.maximum(parent, 0)], 0.0
            )
            count = np.where(gram >= 0, self.counts_[n][np.maximum(gram, 0)], 0)
            d = self.discounts_[n]
            mixed = (np.maximum(count - d, 0.0) + d * types * p) / np.maximum(total, 1)
            p = np.where(total > 0, mixed, p)
        return p

    def next_token_probabilities(self, context: str = "") -> np.ndarray:
        """The distribution of the token after ``context``, over the vocabulary.

        Parameters
        ----------
        context : str, default=""
            Text of the current document so far ("" at its start).

        Returns
        -------
        ndarray of shape (len(vocabulary_),)
            Sums to 1, for any context.
        """
        check_is_fitted(self, "keys_")
        return self._next(self._context_ids(context))

    def _context_ids(self, context: str) -> np.ndarray:
        index = {token: i for i, token in enumerate(self.vocabulary_)}
        tokens = [index.get(t, UNK_ID) for t in tokenize(context, self.level)]
        return np.asarray([EOD_ID] * (self.order - 1) + tokens, dtype=np.int64)

    def _next(self, history: np.ndarray) -> np.ndarray:
        size = len(self.vocabulary_)
        p = self.unigram_.copy()
        for n in range(1, self.order):
            tail = history[len(history) - n :]
            parent = self._ids(tail)[n - 1][0]  # the id of these n tokens
            if parent < 0 or self.context_totals_[n][parent] == 0:
                continue
            keys = self.keys_[n]
            lo, hi = np.searchsorted(keys, [parent * size, (parent + 1) * size])
            tokens, count = keys[lo:hi] % size, self.counts_[n][lo:hi]
            total, d = self.context_totals_[n][parent], self.discounts_[n]
            mixed = d * self.context_types_[n][parent] * p / total
            mixed[tokens] += np.maximum(count - d, 0.0) / total
            p = mixed
        return p

    # ------------------------------------------------------------- sampling
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
        """Generate documents token by token, each to its end or ``max_length``.

        Parameters
        ----------
        n : int, default=1
            Number of texts.
        max_length : int, default=200
            Most tokens generated per text.
        temperature : float, default=1.0
            0 is greedy; see :func:`applied_ml.text._sampling.choose`.
        top_k : int, optional
            Keep the ``top_k`` most probable tokens at each step.
        top_p : float, optional
            Keep the most probable tokens covering ``top_p`` of the mass.
        seed_text : str, default=""
            The start of every text; generation continues it.
        random_state : int, numpy Generator or None
            Seed of the draws.

        Returns
        -------
        list of str
            ``seed_text`` followed by the generated tokens (``<unk>`` is
            never generated).
        """
        check_is_fitted(self, "keys_")
        check_number("n", n, integer=True, low=1)
        check_sampling(max_length, temperature, top_k, top_p)
        rng = np.random.default_rng(random_state)
        texts = []
        for _ in range(n):
            history = list(self._context_ids(seed_text))
            tokens = []
            for _ in range(max_length):
                p = self._next(np.asarray(history[len(history) - self.order + 1 :]))
                p[UNK_ID] = 0.0
                token = choose(p, temperature, top_k, top_p, rng)
                if token == EOD_ID:
                    break
                tokens.append(self.vocabulary_[token])
                history.append(token)
            joiner = "" if self.level == "char" or not seed_text else " "
            generated = detokenize(tokens, self.level)
            texts.append(seed_text + (joiner + generated if generated else ""))
        return texts

    def __sklearn_tags__(self):
        tags = super().__sklearn_tags__()
        tags.input_tags.two_d_array = False
        tags.input_tags.string = True
        tags.target_tags.required = False
        return tags
