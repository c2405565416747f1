"""Cosine queries over a matrix of word vectors, in numpy, many at a time."""

import numpy as np

# Query rows scored per matrix product: bounds memory at rows x vocabulary.
_CHUNK = 1024
# 3CosMul's guard against division by zero (Levy and Goldberg, 2014).
_EPSILON = 1e-3
METHODS = ("3cosadd", "3cosmul")


def norms_of(vectors: np.ndarray) -> np.ndarray:
    """Each row's Euclidean norm (float32)."""
    return np.linalg.norm(vectors, axis=1).astype(np.float32)


def unit(vectors: np.ndarray, norms: np.ndarray) -> np.ndarray:
    """Rows scaled to length 1; zero rows stay zero."""
    return vectors / np.where(norms > 0, norms, 1)[:, None]


def combined(vectors: np.ndarray, norms: np.ndarray, positive, negative) -> np.ndarray:
    """Unit mean of unit vectors, weighted +1 and -1, for each query row.

    ``positive`` and ``negative`` are (queries, k) index arrays into
    ``vectors``; only those rows are normalized (by ``norms``). The sum runs
    in float32 in the order positive then negative; the division by the
    weights' total and the normalization run in float64 before the cast back:
    gensim's order of operations, so that near-ties fall the same way.
    """
    mean = np.zeros((len(positive), vectors.shape[1]), np.float32)
    for column in positive.T:
        mean += unit(vectors[column], norms[column])
    for column in negative.T:
        mean -= unit(vectors[column], norms[column])
    mean = mean.astype(np.float64) / (positive.shape[1] + negative.shape[1])
    lengths = np.sqrt(np.sum(mean * mean, axis=1, keepdims=True))
    return (mean * (1.0 / np.where(lengths > 0, lengths, 1))).astype(np.float32)


def ranked(
    vectors: np.ndarray,
    norms: np.ndarray,
    queries: np.ndarray,
    exclude: np.ndarray,
    topn: int,
    restrict: int,
) -> tuple[np.ndarray, np.ndarray]:
    """The ``topn`` rows most cosine-similar to each query, best first.

    Parameters
    ----------
    vectors, norms : ndarray
        The vectors (not normalized) and their norms.
    queries : ndarray of shape (q, dim)
        Unit query vectors.
    exclude : ndarray of shape (q, k), int
        Rows never returned for each query (-1 for none).
    topn : int
        Rows returned per query.
    restrict : int
        Only the first ``restrict`` rows are candidates.

    Returns
    -------
    indices : ndarray of shape (q, topn), int
    similarities : ndarray of shape (q, topn), float32
    """
    candidates = vectors[:restrict]
    safe = np.where(norms[:restrict] > 0, norms[:restrict], 1)
    topn = min(topn, restrict - 1)
    out_i = np.empty((len(queries), topn), np.int64)
    out_s = np.empty((len(queries), topn), np.float32)
    buffer = np.empty((min(_CHUNK, len(queries)), restrict), np.float32)
    for start in range(0, len(queries), _CHUNK):
        part = slice(start, start + _CHUNK)
        scores = buffer[: len(queries[part])]
        np.matmul(queries[part], candidates.T, out=scores)
        scores /= safe
        excluded = exclude[part]
        rows = np.broadcast_to(np.arange(len(excluded))[:, None], excluded.shape)
        inside = (excluded >= 0) & (excluded < restrict)
        scores[rows[inside], excluded[inside]] = -np.inf
        out_i[part], out_s[part] = _top(scores, topn)
    return out_i, out_s


def _top(scores: np.ndarray, topn: int) -> tuple[np.ndarray, np.ndarray]:
    if topn == 1:  # a pass of argmax, far cheaper than a partition
        best = np.argmax(scores, axis=1)[:, None]
        return best, np.take_along_axis(scores, best, axis=1)
    best = np.argpartition(-scores, topn - 1, axis=1)[:, :topn]
    values = np.take_along_axis(scores, best, axis=1)
    order = np.argsort(-values, axis=1, kind="stable")
    return np.take_along_axis(best, order, axis=1), np.take_along_axis(
        values, order, axis=1
    )


def cosmul(
    units: np.ndarray,
    a: np.ndarray,
    b: np.ndarray,
    c: np.ndarray,
    topn: int,
    restrict: int,
) -> tuple[np.ndarray, np.ndarray]:
    """3CosMul answers to "a is to b as c is to ?" (indices and scores).

    Each candidate d scores cos'(d, b) cos'(d, c) / (cos'(d, a) + 0.001),
    with cos' = (cos + 1) / 2 so that every factor is positive.
    """
    candidates = units[:restrict]
    topn = min(topn, restrict - 1)
    out_i = np.empty((len(a), topn), np.int64)
    out_s = np.empty((len(a), topn), np.float32)
    for start in range(0, len(a), _CHUNK):
        part = slice(start, start + _CHUNK)
        shifted = [(units[w[part]] @ candidates.T + 1) / 2 for w in (a, b, c)]
        scores = shifted[1] * shifted[2] / (shifted[0] + _EPSILON)
        rows = np.arange(scores.shape[0])
        for w in (a, b, c):
            inside = w[part] < restrict
            scores[rows[inside], w[part][inside]] = -np.inf
        out_i[part], out_s[part] = _top(scores, topn)
    return out_i, out_s
