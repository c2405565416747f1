"""Verification over pairs: every pair's distance, threshold choice, scores."""

import numpy as np
import pandas as pd
from scipy.spatial.distance import pdist
from sklearn.metrics import roc_auc_score

THRESHOLD_TARGETS = ("balanced_accuracy",)


def all_pairs(embeddings: np.ndarray, identities: np.ndarray):
    """Distance and same-identity flag of every unordered pair of rows.

    Parameters
    ----------
    embeddings : ndarray of shape (n, dim)
        One embedding per row.
    identities : ndarray of shape (n,)
        Identity of each row.

    Returns
    -------
    distances : ndarray of shape (n * (n - 1) / 2,)
        Euclidean distances (float64).
    same : ndarray of shape (n * (n - 1) / 2,)
        True where both rows have the same identity.
    """
    embeddings = np.asarray(embeddings, dtype=np.float64)
    codes = pd.factorize(np.asarray(identities, dtype=object))[0].astype(np.float64)
    # condensed (upper-triangle) vectors: memory grows with the pairs alone
    distances = pdist(embeddings)
    return distances, pdist(codes[:, None], "hamming") == 0


def _check_both_kinds(same: np.ndarray) -> None:
    if same.all() or not same.any():
        raise ValueError(
            "Verification needs pairs of the same identity and pairs of different "
            "identities: at least 2 identities, one with 2 images or more. "
            f"Received {len(same)} pairs, {int(same.sum())} of them of one identity."
        )


def _cuts(distances: np.ndarray) -> np.ndarray:
    """Candidate thresholds: below, between and above the sorted distances."""
    values = np.unique(distances)
    middles = (values[:-1] + values[1:]) / 2
    return np.concatenate([[values[0] / 2], middles, [values[-1] + 1.0]])


def _rates(distances: np.ndarray, same: np.ndarray, cuts: np.ndarray):
    """True-accept and false-accept rates at each cut (accept: distance <= cut)."""
    positives = np.sort(distances[same])
    negatives = np.sort(distances[~same])
    tar = np.searchsorted(positives, cuts, side="right") / len(positives)
    far = np.searchsorted(negatives, cuts, side="right") / len(negatives)
    return tar, far


def choose_threshold(distances: np.ndarray, same: np.ndarray, target) -> float:
    """The distance threshold that meets ``target`` on these pairs.

    Parameters
    ----------
    distances : ndarray of shape (n_pairs,)
        Pair distances.
    same : ndarray of shape (n_pairs,)
        True for pairs of one identity.
    target : "balanced_accuracy" or float
        ``"balanced_accuracy"``: the threshold of best balanced accuracy (the
        middle of the best run of candidates when several tie). A float in
        (0, 1): the threshold of most true accepts whose false-accept rate
        is at most ``target``.

    Returns
    -------
    float
        Pairs at or below it are accepted as the same identity.
    """
    _check_both_kinds(same)
    cuts = _cuts(distances)
    tar, far = _rates(distances, same, cuts)
    if isinstance(target, str):
        balanced = (tar + 1.0 - far) / 2
        best = np.flatnonzero(balanced == balanced.max())
        return float(cuts[best[len(best) // 2]])
    allowed = np.flatnonzero(far <= target)
    if allowed.size == 0:
        return float(cuts[0])
    return float(cuts[allowed[np.argmax(tar[allowed])]])


def verification_scores(
    distances: np.ndarray, same: np.ndarray, threshold: float | None
) -> dict:
    """ROC AUC of the pair distances and the rates at ``threshold``.

    Parameters
    ----------
    distances : ndarray of shape (n_pairs,)
        Pair distances.
    same : ndarray of shape (n_pairs,)
        True for pairs of one identity.
    threshold : float or None
        Accept pairs at or below it; None gives the AUC alone.

    Returns
    -------
    dict
        ``roc_auc``, ``n_pairs`` and ``n_same``; with a threshold also
        ``balanced_accuracy``, ``true_accept_rate``, ``false_accept_rate``
        and ``pair_accuracy``.
    """
    _check_both_kinds(same)
    scores = {
        "roc_auc": float(roc_auc_score(same, -distances)),
        "n_pairs": int(len(same)),
        "n_same": int(same.sum()),
    }
    if threshold is None:
        return scores
    accepted = distances <= threshold
    tar = float(accepted[same].mean())
    far = float(accepted[~same].mean())
    scores.update(
        balanced_accuracy=(tar + 1.0 - far) / 2,
        true_accept_rate=tar,
        false_accept_rate=far,
        pair_accuracy=float((accepted == same).mean()),
    )
    return scores
