"""Bias measures of word vectors, each a function of any ``WordEmbeddings``.

- ``direct_bias``: how far neutral words lean along a direction (Bolukbasi
  et al., 2016).
- ``weat``: the Word Embedding Association Test's effect size and a
  permutation p-value (Caliskan et al., 2017).
- ``projections``: each word's cosine with a direction.
- ``recovery_accuracy`` and ``neighbour_bias``: what hard debiasing leaves
  behind (Gonen and Goldberg, 2019): a classifier that still tells the
  words' original leaning from their new vectors, and neighbours that still
  cluster by it.
"""

import numpy as np
import pandas as pd
from sklearn.model_selection import StratifiedKFold, cross_val_score
from sklearn.svm import SVC

from applied_ml.text._vector_queries import unit

_PERMUTATIONS = 10_000


def _units(embeddings, words, name: str) -> np.ndarray:
    """Unit vectors of ``words`` (a KeyError names an unknown one)."""
    words = [words] if isinstance(words, str) else list(words)
    if not words:
        raise ValueError(f"`{name}` must hold at least one word. Received none.")
    vectors = np.asarray(embeddings.transform(words), dtype=np.float64)
    return unit(vectors, np.linalg.norm(vectors, axis=1))


def unit_direction(direction, dim: int) -> np.ndarray:
    """``direction`` as a unit vector of ``dim`` numbers, checked."""
    direction = np.asarray(direction, dtype=np.float64)
    length = np.linalg.norm(direction) if direction.ndim == 1 else 0.0
    if direction.shape != (dim,) or not length > 0:
        raise ValueError(
            f"`direction` must be a non-zero vector of {dim} numbers. Received an "
            f"array of shape {direction.shape}."
        )
    return direction / length


def projections(embeddings, words, direction) -> pd.Series:
    """Each word's cosine with ``direction``.

    Parameters
    ----------
    embeddings : WordEmbeddings
        Fitted word vectors.
    words : sequence of str
        Known words.
    direction : array-like of shape (vector_size,)
        The direction (normalized here).

    Returns
    -------
    pandas.Series
        Cosines, indexed by word.
    """
    units = _units(embeddings, words, "words")
    g = unit_direction(direction, units.shape[1])
    return pd.Series(units @ g, index=list(words), name="projection")


def direct_bias(embeddings, words, direction, c: float = 1.0) -> float:
    """Mean of ``|cos(w, direction)| ** c`` over words that should be neutral.

    Parameters
    ----------
    embeddings : WordEmbeddings
        Fitted word vectors.
    words : sequence of str
        Words that should not lean either way (professions, say).
    direction : array-like of shape (vector_size,)
        The bias direction.
    c : float, default=1.0
        Strictness: large ``c`` counts only strong leaning.

    Returns
    -------
    float
        0 when no word leans at all.
    """
    if not c > 0:
        raise ValueError(f"`c` must be above 0. Received: c={c!r}")
    cosines = projections(embeddings, words, direction).to_numpy()
    return float(np.mean(np.abs(cosines) ** c))


def _association(units: np.ndarray, a: np.ndarray, b: np.ndarray) -> np.ndarray:
    """s(w, A, B): mean cosine with A minus mean cosine with B, per word."""
    return (units @ a.T).mean(axis=1) - (units @ b.T).mean(axis=1)


def weat(
    embeddings,
    X,
    Y,
    A,
    B,
    n_permutations: int = _PERMUTATIONS,
    random_state=0,
) -> dict:
    """The Word Embedding Association Test of targets X, Y and attributes A, B.

    With s(w) the mean cosine of w with A minus its mean cosine with B, the
    effect size is (mean of s over X - mean over Y) divided by the standard
    deviation of s over X and Y together (population deviation, as WEFE
    1.0.1 computes it). The p-value is one-sided: the share of random
    re-partitions of X and Y (into sets of their sizes) whose statistic,
    the sum of s over the first minus the sum over the second, is at least
    the observed one.

    Parameters
    ----------
    embeddings : WordEmbeddings
        Fitted word vectors.
    X, Y : sequence of str
        The two target word sets (male and female terms, say).
    A, B : sequence of str
        The two attribute word sets (career and family words, say).
    n_permutations : int, default=10000
        Random re-partitions for the p-value.
    random_state : int, numpy Generator or None, default=0
        Seed of the re-partitions.

    Returns
    -------
    dict
        ``effect_size``, ``statistic`` and ``p_value``.
    """
    if not isinstance(n_permutations, int) or n_permutations < 1:
        raise ValueError(
            "`n_permutations` must be a positive integer. Received: "
            f"n_permutations={n_permutations!r}"
        )
    x, y = _units(embeddings, X, "X"), _units(embeddings, Y, "Y")
    a, b = _units(embeddings, A, "A"), _units(embeddings, B, "B")
    s = _association(np.vstack([x, y]), a, b)
    sx, sy = s[: len(x)], s[len(x) :]
    statistic = float(sx.sum() - sy.sum())
    effect = float((sx.mean() - sy.mean()) / np.std(s))
    rng = np.random.default_rng(random_state)
    orders = np.argsort(rng.random((n_permutations, len(s))), axis=1)
    first = s[orders[:, : len(x)]].sum(axis=1)
    permuted = 2 * first - s.sum()  # first part minus the rest
    p_value = float(np.mean(permuted >= statistic - 1e-12))
    return {"effect_size": effect, "statistic": statistic, "p_value": p_value}


def recovery_accuracy(
    original, debiased, words, direction, cv: int = 5, random_state=0
) -> float:
    """Cross-validated accuracy of telling words' original leaning from new vectors.

    Each word is labelled by the sign of its original projection on
    ``direction``; an RBF support-vector classifier learns the labels from
    the debiased vectors. Accuracy near the majority share means the
    leaning is gone; well above it, it is still there (Gonen and Goldberg,
    2019).

    Parameters
    ----------
    original, debiased : WordEmbeddings
        Vectors before and after debiasing.
    words : sequence of str
        Words known to both.
    direction : array-like of shape (vector_size,)
        The bias direction in the original space.
    cv : int, default=5
        Stratified folds.
    random_state : int, default=0
        Seed of the folds.

    Returns
    -------
    float
        Mean accuracy over the folds.
    """
    labels = projections(original, words, direction).to_numpy() > 0
    features = _units(debiased, words, "words")
    folds = StratifiedKFold(cv, shuffle=True, random_state=random_state)
    scores = cross_val_score(SVC(kernel="rbf"), features, labels, cv=folds)
    return float(np.mean(scores))


def neighbour_bias(original, debiased, words, direction, k: int = 100) -> float:
    """Correlation of words' original leaning with their new neighbours' leaning.

    For each word, the share of its ``k`` nearest neighbours among
    ``words`` (cosine, in the debiased vectors) that originally leaned to
    the positive side; the Pearson correlation of that share with the
    word's original projection. Near 0 means the neighbourhoods no longer
    sort words by their old leaning (Gonen and Goldberg, 2019).

    Parameters
    ----------
    original, debiased : WordEmbeddings
        Vectors before and after debiasing.
    words : sequence of str
        Words known to both (more than ``k``).
    direction : array-like of shape (vector_size,)
        The bias direction in the original space.
    k : int, default=100
        Neighbours per word.

    Returns
    -------
    float
        Pearson correlation.
    """
    words = list(words)
    if not isinstance(k, int) or not 0 < k < len(words):
        raise ValueError(
            f"`k` must be a positive integer below the number of words "
            f"({len(words)}). Received: k={k!r}"
        )
    leaning = projections(original, words, direction).to_numpy()
    units = _units(debiased, words, "words")
    similarity = units @ units.T
    np.fill_diagonal(similarity, -np.inf)
    neighbours = np.argpartition(-similarity, k - 1, axis=1)[:, :k]
    share = (leaning[neighbours] > 0).mean(axis=1)
    return float(np.corrcoef(leaning, share)[0, 1])
