"""Batches of P identities x K images, the batches triplet mining needs."""

import numpy as np


def pk_batches(
    identities: np.ndarray, p: int, k: int, n_batches: int, rng: np.random.Generator
) -> np.ndarray:
    """Row indices of one epoch of P x K batches.

    Each batch draws ``p`` distinct identities (all of them when there are
    fewer) and ``k`` rows of each: distinct rows when the identity has at
    least ``k``, else all its rows and then repeats of them, drawn at random.

    Parameters
    ----------
    identities : ndarray of shape (n,)
        Integer identity of each row.
    p : int
        Identities per batch.
    k : int
        Rows per identity and batch.
    n_batches : int
        Batches to draw.
    rng : numpy.random.Generator
        Source of the draws.

    Returns
    -------
    ndarray of shape (n_batches, min(p, n_identities) * k)
        Row indices, one batch per row, grouped by identity within a batch.
    """
    ids, inverse = np.unique(identities, return_inverse=True)
    members = [np.flatnonzero(inverse == i) for i in range(len(ids))]
    p = min(p, len(ids))
    batches = np.empty((n_batches, p * k), dtype=np.int64)
    for b in range(n_batches):
        chosen = rng.choice(len(ids), size=p, replace=False)
        for slot, i in enumerate(chosen):
            rows = rng.permutation(members[i])
            if len(rows) < k:
                extra = rng.choice(rows, size=k - len(rows), replace=True)
                rows = np.concatenate([rows, extra])
            batches[b, slot * k : (slot + 1) * k] = rows[:k]
    return batches
