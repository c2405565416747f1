"""Queries, evaluations and plots of word vectors (a mixin of WordEmbeddings).

Everything here reads the fitted vectors in numpy: ``_vectors`` (rows in the
order of ``vocabulary_``), their ``_norms`` and the word ``_index``.
"""

import difflib
import os

import numpy as np
from sklearn.utils.validation import check_is_fitted

from applied_ml._validation import check_bool, check_choice, check_number
from applied_ml.text._vector_queries import (
    METHODS,
    combined,
    cosmul,
    ranked,
    unit,
)
from applied_ml.text._word_evaluation import (
    evaluate_analogies,
    evaluate_word_pairs,
    read_questions,
)

_SUGGEST = 50_000  # words searched for close matches of an unknown one


class WordQueriesMixin:
    """Neighbours, similarity, analogies, evaluations and plots of the vectors."""

    # -------------------------------------------------------------- queries
    def _row(self, word: str, name: str = "word") -> int:
        """A word's row, or a KeyError naming it with close known words."""
        check_is_fitted(self)
        if not isinstance(word, str):
            raise TypeError(
                f"`{name}` must be a word (str). Received: {type(word).__name__}"
            )
        key = word.lower() if self.lowercase and word not in self._index else word
        if key in self._index:
            return self._index[key]
        close = difflib.get_close_matches(key, self.vocabulary_[:_SUGGEST], n=3)
        hint = f" Close known words: {close}." if close else ""
        raise KeyError(f"`{name}` must be a known word. Received {word!r}.{hint}")

    def _restrict(self, restrict_vocab) -> int:
        check_number(
            "restrict_vocab", restrict_vocab, integer=True, low=2, allow_none=True
        )
        n = len(self.vocabulary_)
        return n if restrict_vocab is None else min(restrict_vocab, n)

    def most_similar(
        self, positive, negative=(), topn: int = 10, restrict_vocab: int | None = None
    ) -> list[tuple[str, float]]:
        """The words closest (cosine) to the mean of ``positive`` minus ``negative``.

        Each word's vector is normalized first, then the weighted mean (+1
        for positive, -1 for negative words) is normalized; the query words
        themselves are never returned.

        Parameters
        ----------
        positive : str or sequence of str
            Words pulling towards the answer.
        negative : str or sequence of str, default=()
            Words pushing away from it.
        topn : int, default=10
            Number of words returned.
        restrict_vocab : int, optional
            Search only the first (most frequent) words.

        Returns
        -------
        list of (str, float)
            Words and cosine similarities, best first.
        """
        positive = [positive] if isinstance(positive, str) else list(positive)
        negative = [negative] if isinstance(negative, str) else list(negative)
        if not positive + negative:
            raise ValueError(
                "`positive` or `negative` must hold a word. Received: none."
            )
        check_number("topn", topn, integer=True, low=1)
        restrict = self._restrict(restrict_vocab)
        pos = np.array([[self._row(w, "positive") for w in positive]], np.int64)
        neg = np.array([[self._row(w, "negative") for w in negative]], np.int64)
        query = combined(self._vectors, self._norms, pos, neg)
        top, scores = ranked(
            self._vectors,
            self._norms,
            query,
            np.concatenate([pos, neg], axis=1),
            topn,
            restrict,
        )
        return [
            (self.vocabulary_[i], float(s))
            for i, s in zip(top[0], scores[0], strict=True)
            if np.isfinite(s)
        ]

    def similarity(self, a: str, b: str) -> float:
        """Cosine similarity of two words' vectors.

        Parameters
        ----------
        a, b : str
            Known words.

        Returns
        -------
        float
        """
        i, j = self._row(a, "a"), self._row(b, "b")
        norms = self._norms[i] * self._norms[j]
        dot = float(np.dot(self._vectors[i], self._vectors[j]))
        return dot / float(norms) if norms > 0 else 0.0

    def analogy(
        self,
        a: str,
        b: str,
        c: str,
        method: str = "3cosadd",
        topn: int | None = None,
        restrict_vocab: int | None = None,
    ):
        """Answer "``a`` is to ``b`` as ``c`` is to ?".

        Parameters
        ----------
        a, b, c : str
            Known words (``analogy("man", "king", "woman")`` asks for the
            word that is to woman what king is to man).
        method : {"3cosadd", "3cosmul"}, default="3cosadd"
            3CosAdd: the word closest to b - a + c (unit vectors).
            3CosMul: the word maximizing cos(d, b) cos(d, c) / (cos(d, a) +
            0.001), each cosine shifted to [0, 1] (Levy and Goldberg, 2014).
        topn : int, optional
            Return the ``topn`` best (word, score) pairs instead of one word.
        restrict_vocab : int, optional
            Search only the first (most frequent) words.

        Returns
        -------
        str or list of (str, float)
            The best word (a, b and c excluded), or the ``topn`` best.
        """
        check_choice("method", method, METHODS)
        check_number("topn", topn, integer=True, low=1, allow_none=True)
        restrict = self._restrict(restrict_vocab)
        rows = np.array([[self._row(w, n) for w, n in ((a, "a"), (b, "b"), (c, "c"))]])
        wanted = topn or 1
        if method == "3cosadd":
            query = combined(self._vectors, self._norms, rows[:, [1, 2]], rows[:, [0]])
            top, scores = ranked(
                self._vectors, self._norms, query, rows, wanted, restrict
            )
        else:
            units = unit(self._vectors, self._norms)
            top, scores = cosmul(
                units, rows[:, 0], rows[:, 1], rows[:, 2], wanted, restrict
            )
        answers = [
            (self.vocabulary_[i], float(s))
            for i, s in zip(top[0], scores[0], strict=True)
        ]
        return answers if topn else answers[0][0]

    # ------------------------------------------------------------ evaluation
    def evaluate_analogies(
        self,
        path_or_questions,
        restrict_vocab: int = 30000,
        case_insensitive: bool = True,
    ) -> dict:
        """Analogy accuracy, overall and per section, by gensim's conventions.

        Only questions whose four words are among the first
        ``restrict_vocab`` words are asked; case-insensitive matching
        upper-cases every word (a word with several casings takes its most
        frequent one); each question is answered by 3CosAdd among those
        words without the question's three, the first of the 5 best whose
        upper-cased form is none of them. These are the conventions of
        gensim 4's ``KeyedVectors.evaluate_word_analogies``, and on GloVe
        6B 50-d the same questions come out correct.

        Parameters
        ----------
        path_or_questions : str, os.PathLike, mapping or iterable
            A file of ``: section`` lines and ``a b c expected`` lines (as
            Google's ``questions-words.txt``), a mapping of section name to
            4-word questions, or 4-word questions (one section).
        restrict_vocab : int, default=30000
            How many of the first words take part.
        case_insensitive : bool, default=True
            Compare words upper-cased.

        Returns
        -------
        dict
            ``accuracy`` (correct / asked), ``correct``, ``total`` (asked),
            ``oov_ratio`` (the fraction of questions skipped), ``sections``
            (a DataFrame: section, correct, total, accuracy) and
            ``correct_questions`` (the correct questions, as compared).
        """
        check_is_fitted(self)
        check_bool("case_insensitive", case_insensitive)
        return evaluate_analogies(
            self.vocabulary_,
            self._vectors,
            self._norms,
            read_questions(path_or_questions),
            self._restrict(restrict_vocab),
            case_insensitive,
        )

    def evaluate_word_pairs(
        self,
        path: str | os.PathLike,
        restrict_vocab: int = 300000,
        case_insensitive: bool = True,
    ) -> dict:
        """Correlation of cosine similarities with human similarity scores.

        Parameters
        ----------
        path : str or os.PathLike
            Tab-separated ``word word score`` lines (``#`` lines are
            comments), as WordSim353 and SimLex-999.
        restrict_vocab : int, default=300000
            How many of the first words take part.
        case_insensitive : bool, default=True
            Compare words upper-cased.

        Returns
        -------
        dict
            ``spearman``, ``pearson``, ``oov_ratio`` (the fraction of pairs
            with an unknown word, left out) and ``pairs`` (pairs scored).
        """
        check_is_fitted(self)
        check_bool("case_insensitive", case_insensitive)
        return evaluate_word_pairs(
            self.vocabulary_,
            self._vectors,
            self._norms,
            path,
            self._restrict(restrict_vocab),
            case_insensitive,
        )

    # ----------------------------------------------------------------- plots
    def plot_projection(self, words, path: str | os.PathLike, **kwargs) -> str:
        """Draw chosen words on the first two principal axes of their vectors.

        See :func:`applied_ml.text.plot_projection` for the keyword arguments.
        """
        from applied_ml.text.embedding_plots import plot_projection

        rows = [self._row(w, "words") for w in words]
        return plot_projection(
            [self.vocabulary_[i] for i in rows], self._vectors[rows], path, **kwargs
        )

    def plot_bias(self, words, direction, path: str | os.PathLike, **kwargs) -> str:
        """Draw each word's projection on a direction as a bar chart.

        See :func:`applied_ml.text.plot_bias` for the keyword arguments.
        """
        from applied_ml.text.embedding_plots import plot_bias

        rows = [self._row(w, "words") for w in words]
        units = unit(self._vectors[rows], self._norms[rows])
        direction = np.asarray(direction, dtype=np.float64)
        if direction.shape != (self._vectors.shape[1],):
            raise ValueError(
                f"`direction` must be a vector of {self._vectors.shape[1]} numbers. "
                f"Received shape {direction.shape}."
            )
        projections = units @ (direction / np.linalg.norm(direction))
        return plot_bias(
            [self.vocabulary_[i] for i in rows], projections, path, **kwargs
        )
