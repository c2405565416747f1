"""Batches of P identities x K images, the batches triplet mining needs."""

import itertools

import numpy as np
import tensorflow as tf

from applied_ml.data import take


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


def pk_dataset(
    parts: dict, p: int, k: int, n_batches: int, seed: int | None, *, training: bool
) -> tf.data.Dataset:
    """P x K batches of in-memory examples as a ``tf.data.Dataset``.

    Training draws fresh batches every pass (epoch), seeded by ``seed`` and
    the pass; validation draws the same batches every pass.

    Parameters
    ----------
    parts : dict
        Example arrays (``inputs``, ``targets`` holding integer identities,
        optional ``weights``), samples first.
    p, k : int
        Identities per batch, rows per identity.
    n_batches : int
        Batches per pass.
    seed : int or None
        The fit's seed (None: unseeded training draws).
    training : bool
        Fresh draws per pass, or fixed ones.

    Returns
    -------
    tf.data.Dataset
        Batches of the structure of ``parts``, ``n_batches`` per pass.
    """
    identities = parts["targets"]
    base = 0 if seed is None else seed
    passes = itertools.count()

    def batches():
        if not training:
            rng = np.random.default_rng([base, 1])
        elif seed is None:
            rng = np.random.default_rng()
        else:
            rng = np.random.default_rng([base, 0, next(passes)])
        for rows in pk_batches(identities, p, k, n_batches, rng):
            yield take(parts, rows)

    spec = tf.nest.map_structure(
        lambda a: tf.TensorSpec((None, *a.shape[1:]), tf.as_dtype(a.dtype)), parts
    )
    dataset = tf.data.Dataset.from_generator(batches, output_signature=spec)
    return dataset.apply(tf.data.experimental.assert_cardinality(n_batches))
