"""EmbeddingDebiaser: Bolukbasi et al.'s hard debiasing of word vectors."""

import functools
import json
import os

import numpy as np
import pandas as pd
from sklearn.base import BaseEstimator, TransformerMixin
from sklearn.decomposition import PCA
from sklearn.utils.validation import check_is_fitted

from applied_ml._validation import check_bool, check_choice, check_number
from applied_ml.text import bias
from applied_ml.text._vector_queries import unit
from applied_ml.text.embeddings import WordEmbeddings

METHODS = ("hard", "neutralize")
_LISTS = os.path.join(os.path.dirname(__file__), "debiaswe")


@functools.cache
def _word_list(name: str):
    with open(os.path.join(_LISTS, f"{name}.json"), encoding="utf-8") as f:
        return json.load(f)


def gender_word_lists() -> dict:
    """Bolukbasi et al.'s gender word lists, as shipped with applied_ml.

    Lower-cased, without phrases and without words missing from GloVe 6B
    (see ``applied_ml/text/debiaswe/LICENSE``, MIT).

    Returns
    -------
    dict
        ``definitional_pairs`` (10 [female, male] pairs), ``equalize_pairs``
        (43 pairs, in either order), ``gender_specific`` (563 words that are
        about gender by definition) and ``professions`` (291 words).
    """
    return {
        "definitional_pairs": [tuple(p) for p in _word_list("definitional_pairs")],
        "equalize_pairs": [tuple(p) for p in _word_list("equalize_pairs")],
        "gender_specific": list(_word_list("gender_specific")),
        "professions": [p[0] for p in _word_list("professions")],
    }


class EmbeddingDebiaser(TransformerMixin, BaseEstimator):
    """Remove a bias direction from word vectors (Bolukbasi et al., 2016).

    ``fit`` finds the bias direction: the first principal component of the
    definitional pairs' vectors, each centered on its pair's mean (vectors
    normalized first). ``transform`` returns new vectors in which

    - every word to neutralize (by default every word that is not
      ``gender_specific``) has its projection on the direction removed and
      its length kept;
    - with ``method="hard"``, each equalize pair is then moved to be
      symmetric about the direction: both words get the same component
      off the direction and opposite components along it, at their mean
      length.

    The original vectors are never changed. Debiasing removes what the
    direction measures, not all bias: ``report`` measures what is left.

    Parameters
    ----------
    definitional_pairs : sequence of (str, str), optional
        Pairs whose difference defines the direction; default the 10 pairs
        of Bolukbasi et al. (``woman``/``man``, ``she``/``he``, ...). The
        direction points from the second word of each pair to the first.
    equalize_pairs : sequence of (str, str), optional
        Pairs made symmetric (``method="hard"``); default Bolukbasi et al.'s.
    gender_specific : sequence of str, optional
        Words left alone by neutralizing; default Bolukbasi et al.'s 563.
    neutralize_words : sequence of str, optional
        Neutralize only these words instead of every word that is not
        gender-specific.
    method : {"hard", "neutralize"}, default="hard"
        Neutralize and equalize, or neutralize only.
    n_components : int, default=1
        Size of the bias subspace removed (1: the direction alone).
    copy : bool, default=True
        Return new vectors (True), or write them into the given
        ``WordEmbeddings`` (False).

    Attributes
    ----------
    direction_ : ndarray of shape (vector_size,)
        The unit bias direction.
    components_ : ndarray of shape (n_components, vector_size)
        The bias subspace (its first row is ``direction_``).
    explained_variance_ratio_ : ndarray
        Variance share of each principal component of the centered pairs
        (all of them, not only ``n_components``): a first component well
        below 1 means the pairs disagree about the direction.
    definitional_pairs_ : list of tuple
        The pairs used (those whose words are both known).
    n_features_in_ : int
        The vector size.

    Examples
    --------
    >>> from applied_ml.text import EmbeddingDebiaser, WordEmbeddings
    >>> glove = WordEmbeddings.from_pretrained()  # doctest: +SKIP
    >>> debiaser = EmbeddingDebiaser().fit(glove)  # doctest: +SKIP
    >>> debiased = debiaser.transform(glove)  # doctest: +SKIP
    >>> debiaser.report(glove, debiased)  # doctest: +SKIP
    """

    def __init__(
        self,
        definitional_pairs=None,
        equalize_pairs=None,
        gender_specific=None,
        neutralize_words=None,
        method="hard",
        n_components=1,
        copy=True,
    ):
        self.definitional_pairs = definitional_pairs
        self.equalize_pairs = equalize_pairs
        self.gender_specific = gender_specific
        self.neutralize_words = neutralize_words
        self.method = method
        self.n_components = n_components
        self.copy = copy

    def _lists(self) -> dict:
        defaults = gender_word_lists()
        return {
            name: defaults[name] if value is None else value
            for name, value in (
                ("definitional_pairs", self.definitional_pairs),
                ("equalize_pairs", self.equalize_pairs),
                ("gender_specific", self.gender_specific),
            )
        }

    def fit(self, X: WordEmbeddings, y=None):
        """Find the bias direction in ``X``.

        Parameters
        ----------
        X : WordEmbeddings
            Fitted word vectors.
        y : None
            Ignored.

        Returns
        -------
        self
        """
        _check_embeddings(X)
        check_choice("method", self.method, METHODS)
        check_number("n_components", self.n_components, integer=True, low=1)
        check_bool("copy", self.copy)
        pairs = [tuple(p) for p in self._lists()["definitional_pairs"]]
        for pair in pairs:
            if len(pair) != 2:
                raise ValueError(
                    f"Each definitional pair must be 2 words. Received: {pair!r}"
                )
            for word in pair:
                if word not in X.index_:
                    X.transform([word])  # a KeyError naming the word
        if 2 * len(pairs) <= self.n_components:
            raise ValueError(
                f"`n_components` must be below twice the number of definitional "
                f"pairs ({2 * len(pairs)}). Received: n_components="
                f"{self.n_components}"
            )
        vectors = np.asarray(
            X.transform([w for pair in pairs for w in pair]), dtype=np.float64
        )
        units = unit(vectors, np.linalg.norm(vectors, axis=1))
        first, second = units[0::2], units[1::2]
        center = (first + second) / 2
        rows = np.vstack([first - center, second - center])
        pca = PCA(n_components=min(len(rows), units.shape[1])).fit(rows)
        components = pca.components_[: self.n_components].copy()
        # orient: from the pairs' second words to their first words
        if np.mean((first - second) @ components[0]) < 0:
            components[0] = -components[0]
        self.components_ = components
        self.direction_ = components[0]
        self.explained_variance_ratio_ = pca.explained_variance_ratio_
        self.definitional_pairs_ = pairs
        self.n_features_in_ = units.shape[1]
        return self

    def transform(self, X: WordEmbeddings) -> WordEmbeddings:
        """Debiased word vectors.

        Parameters
        ----------
        X : WordEmbeddings
            Fitted word vectors of the size seen in ``fit``.

        Returns
        -------
        WordEmbeddings
            New vectors (``copy=True``), or ``X`` with its vectors replaced.
        """
        check_is_fitted(self)
        _check_embeddings(X)
        if X.vectors_.shape[1] != self.n_features_in_:
            raise ValueError(
                f"`X` must hold vectors of {self.n_features_in_} numbers, as in "
                f"fit. Received vectors of {X.vectors_.shape[1]}."
            )
        lists = self._lists()
        vectors = np.array(X.vectors_, dtype=np.float64)
        basis = self.components_
        neutral = self._neutral_rows(X, lists["gender_specific"])
        vectors[neutral] = _neutralized(vectors[neutral], basis)
        if self.method == "hard":
            for a, b in lists["equalize_pairs"]:
                if a in X.index_ and b in X.index_:
                    i, j = X.index_[a], X.index_[b]
                    vectors[i], vectors[j] = _equalized(vectors[i], vectors[j], basis)
        vectors = vectors.astype(np.float32)
        if self.copy:
            return WordEmbeddings.from_vectors(
                X.vocabulary_, vectors, lowercase=X.lowercase
            )
        X._assign_vectors(vectors)
        return X

    def _neutral_rows(self, X: WordEmbeddings, gender_specific) -> np.ndarray:
        if self.neutralize_words is not None:
            words = list(self.neutralize_words)
            X.transform(words)  # a KeyError names an unknown word
            return np.array([X.index_[w] for w in words], dtype=np.int64)
        neutral = np.ones(len(X.vocabulary_), dtype=bool)
        neutral[[X.index_[w] for w in gender_specific if w in X.index_]] = False
        return np.flatnonzero(neutral)

    def report(
        self,
        original: WordEmbeddings,
        debiased: WordEmbeddings,
        *,
        analogies=None,
        weat_tests: dict | None = None,
        professions=None,
        restrict_vocab: int = 30000,
        verbose: bool = True,
    ) -> pd.DataFrame:
        """Every bias measure before and after, and the cost in analogies.

        Measures (all with this debiaser's direction): direct bias and the
        mean absolute projection of the professions; each WEAT test's
        effect size; the recovery classifier's accuracy and the neighbour
        bias over the 500 most female- and 500 most male-leaning words
        among the first ``restrict_vocab`` (gender-specific words left out);
        analogy accuracy when ``analogies`` is given.

        Parameters
        ----------
        original, debiased : WordEmbeddings
            Vectors before and after ``transform``.
        analogies : str, os.PathLike or sequence, optional
            Analogy questions for ``WordEmbeddings.evaluate_analogies``.
        weat_tests : dict, optional
            Test name to ``(X, Y, A, B)`` word sets.
        professions : sequence of str, optional
            Words that should be neutral; default Bolukbasi et al.'s
            professions known to both, without the gender-specific ones
            (``actress``, ``businessman``, ...).
        restrict_vocab : int, default=30000
            The frequent words the leaning words are taken from.
        verbose : bool, default=True
            Print the table.

        Returns
        -------
        pandas.DataFrame
            One row per measure: ``before``, ``after``.
        """
        check_is_fitted(self)
        lists = gender_word_lists()
        if professions is None:
            specific = set(lists["gender_specific"])
            professions = [
                w
                for w in lists["professions"]
                if w in original.index_ and w in debiased.index_ and w not in specific
            ]
        g = self.direction_
        rows = {}
        for name, vectors in (("before", original), ("after", debiased)):
            column = {
                "direct bias (professions)": bias.direct_bias(vectors, professions, g),
            }
            for test, (x, y, a, b) in (weat_tests or {}).items():
                result = bias.weat(vectors, x, y, a, b, n_permutations=1000)
                column[f"WEAT effect size: {test}"] = result["effect_size"]
            if analogies is not None:
                column["analogy accuracy"] = vectors.evaluate_analogies(analogies)[
                    "accuracy"
                ]
            rows[name] = column
        leaning = _leaning_words(original, g, lists["gender_specific"], restrict_vocab)
        for name, vectors in (("before", original), ("after", debiased)):
            rows[name]["recovery accuracy (1,000 leaning words)"] = (
                bias.recovery_accuracy(original, vectors, leaning, g)
            )
            rows[name]["recovery accuracy (professions)"] = bias.recovery_accuracy(
                original, vectors, professions, g
            )
            rows[name]["neighbour bias (1,000 leaning words)"] = bias.neighbour_bias(
                original, vectors, leaning, g
            )
        table = pd.DataFrame(rows)
        if verbose:
            print(table.to_string(float_format=lambda v: f"{v:.4f}"))
        return table

    def __sklearn_tags__(self):
        tags = super().__sklearn_tags__()
        tags.input_tags.two_d_array = False
        tags.target_tags.required = False
        return tags


def _check_embeddings(X) -> None:
    if not isinstance(X, WordEmbeddings):
        raise TypeError(
            f"`X` must be a fitted WordEmbeddings. Received: {type(X).__name__}"
        )
    check_is_fitted(X)


def _neutralized(vectors: np.ndarray, basis: np.ndarray) -> np.ndarray:
    """Rows without their components in ``basis``, at their old lengths."""
    lengths = np.linalg.norm(vectors, axis=1, keepdims=True)
    rest = vectors - (vectors @ basis.T) @ basis
    rest_lengths = np.linalg.norm(rest, axis=1, keepdims=True)
    return rest * (lengths / np.where(rest_lengths > 0, rest_lengths, 1))


def _equalized(a: np.ndarray, b: np.ndarray, basis: np.ndarray):
    """A pair made symmetric about the subspace, at the pair's mean length.

    On unit vectors: both get the pair mean's component off the subspace,
    and opposite components along the pair's difference within it, sized
    so each is a unit vector again; then both are scaled to the mean of
    the two old lengths.
    """
    length = (np.linalg.norm(a) + np.linalg.norm(b)) / 2
    ua, ub = a / np.linalg.norm(a), b / np.linalg.norm(b)
    mean = (ua + ub) / 2
    off = mean - (mean @ basis.T) @ basis
    inside = ((ua - ub) @ basis.T) @ basis
    size = np.linalg.norm(inside)
    along = inside / size if size > 0 else basis[0]
    z = np.sqrt(max(1.0 - float(off @ off), 0.0))
    return length * (off + z * along), length * (off - z * along)


def _leaning_words(embeddings, direction, gender_specific, restrict: int, n=500):
    """The ``n`` most positive- and ``n`` most negative-leaning frequent words."""
    specific = set(gender_specific)
    words = [w for w in embeddings.vocabulary_[:restrict] if w not in specific]
    words = [w for w in words if w.isalpha()]
    leaning = bias.projections(embeddings, words, direction).sort_values()
    return list(leaning.index[:n]) + list(leaning.index[-n:])
