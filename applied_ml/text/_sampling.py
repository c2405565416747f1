"""Choosing the next token from a model's probabilities: temperature, top-k, top-p."""

import numpy as np

from applied_ml._validation import check_number


def check_sampling(max_length, temperature, top_k, top_p) -> None:
    """Errors for sampling arguments out of range, naming the argument."""
    check_number("max_length", max_length, integer=True, low=1)
    check_number("temperature", temperature, low=0.0)
    check_number("top_k", top_k, integer=True, low=1, allow_none=True)
    check_number(
        "top_p", top_p, low=0.0, high=1.0, low_inclusive=False, allow_none=True
    )


def choose(probabilities: np.ndarray, temperature, top_k, top_p, rng) -> int:
    """One token id drawn from ``probabilities`` as the arguments reshape them.

    Parameters
    ----------
    probabilities : ndarray of shape (vocabulary,)
        The model's next-token probabilities (tokens never to be chosen,
        such as ``<unk>``, already at 0).
    temperature : float
        0 picks the most probable token; otherwise probabilities are raised
        to ``1 / temperature`` and renormalised (above 1 flatter, below 1
        sharper).
    top_k : int or None
        Keep only the ``top_k`` most probable tokens.
    top_p : float or None
        Keep the most probable tokens whose probabilities sum to ``top_p``
        (nucleus sampling; the token that crosses it is kept).
    rng : numpy.random.Generator
        Source of the draw.

    Returns
    -------
    int
    """
    p = np.asarray(probabilities, dtype=np.float64)
    if temperature == 0:
        return int(np.argmax(p))
    with np.errstate(divide="ignore"):
        logits = np.log(p) / temperature
    p = np.exp(logits - logits.max())
    order = np.argsort(-p, kind="stable")
    keep = np.zeros(len(p), bool)
    limit = len(p) if top_k is None else top_k
    if top_p is not None:
        cumulative = np.cumsum(p[order]) / p.sum()
        limit = min(limit, int(np.searchsorted(cumulative, top_p)) + 1)
    keep[order[:limit]] = True
    p = np.where(keep, p, 0.0)
    return int(rng.choice(len(p), p=p / p.sum()))
