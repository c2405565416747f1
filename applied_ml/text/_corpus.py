"""A language model's corpus as a list of documents, whatever form it came in."""

import os

import numpy as np

from applied_ml.data import decode_text


def as_documents(corpus, name: str = "corpus") -> list[str]:
    """Documents of a corpus: a string, strings, a text file or ``tf.data``.

    Parameters
    ----------
    corpus : str, os.PathLike, sequence of str, ndarray or tf.data.Dataset
        A string is one document, unless it names an existing file; a path
        (``str`` or ``os.PathLike``) is one document, the file's UTF-8 text;
        a list, tuple, array or pandas Series holds one document per item; a
        ``tf.data.Dataset`` yields string scalars (or batches of them).
    name : str, default="corpus"
        The argument's name, for error messages.

    Returns
    -------
    list of str
        The documents, in order.
    """
    if isinstance(corpus, os.PathLike) or (
        isinstance(corpus, str) and "\n" not in corpus and os.path.isfile(corpus)
    ):
        with open(os.fspath(corpus), encoding="utf-8") as f:
            return _checked([f.read()], name)
    if isinstance(corpus, str):
        return _checked([corpus], name)
    if _is_dataset(corpus):
        documents = []
        for item in corpus.as_numpy_iterator():
            documents.extend(decode_text(np.ravel(np.asarray(item, dtype=object))))
        return _checked(documents, name)
    if hasattr(corpus, "to_numpy") and getattr(corpus, "ndim", 1) == 1:
        corpus = corpus.to_numpy()
    if isinstance(corpus, np.ndarray):
        if corpus.ndim != 1:
            raise ValueError(
                f"`{name}` must be a 1-D array of strings (one document per item). "
                f"Received an array of shape {corpus.shape}."
            )
        corpus = corpus.tolist()
    if not isinstance(corpus, list | tuple):
        raise TypeError(
            f"`{name}` must be a string, a text file's path, a list of strings or "
            f"a tf.data.Dataset of strings. Received: {type(corpus).__name__}"
        )
    return _checked(list(corpus), name)


def _is_dataset(value) -> bool:
    module = type(value).__module__ or ""
    return module.startswith("tensorflow") and hasattr(value, "as_numpy_iterator")


def check_strings(values: list, name: str) -> None:
    """A TypeError naming the first item of ``values`` that is not a string."""
    for i, value in enumerate(values):
        if not isinstance(value, str):
            raise TypeError(
                f"`{name}` must hold strings only. Received {type(value).__name__} "
                f"at position {i}: {value!r:.60}"
            )


def _checked(documents: list, name: str) -> list[str]:
    check_strings(documents, name)
    if not any(documents):
        raise ValueError(
            f"`{name}` must hold some text. Received {len(documents)} document(s), "
            "all empty."
        )
    return documents
