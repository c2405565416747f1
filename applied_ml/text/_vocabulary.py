"""Tokens of a language model: characters or words, plus end-of-document and
unknown, as the integer ids every model of a corpus shares."""

import re
from collections import Counter

import numpy as np

UNK, EOD = "<unk>", "<eod>"
UNK_ID, EOD_ID = 0, 1
LEVELS = ("char", "word")
# A word (ASCII letters, digits, underscores, inner apostrophes), or any one
# other character but whitespace. Explicit classes, not \w and \s, so that
# Python's re and TensorFlow's RE2 split text identically.
WORD_PATTERN = r"[A-Za-z0-9_]+(?:'[A-Za-z0-9_]+)*|[^A-Za-z0-9_ \t\n\r\f\v]"
_WORD = re.compile(WORD_PATTERN)


def tokenize(text: str, level: str) -> list[str]:
    """The characters, or the words and punctuation marks, of ``text``."""
    return list(text) if level == "char" else _WORD.findall(text)


def detokenize(tokens: list[str], level: str) -> str:
    """Text from tokens: characters joined as they are, words by spaces."""
    return "".join(tokens) if level == "char" else " ".join(tokens)


def build_vocabulary(
    documents: list[str], level: str, min_count: int = 1, max_tokens=None
) -> list[str]:
    """The tokens of ``documents``, most frequent first, after the two specials.

    Parameters
    ----------
    documents : list of str
        Training documents.
    level : {"char", "word"}
        Token kind.
    min_count : int, default=1
        Tokens seen fewer times are left to ``<unk>``.
    max_tokens : int, optional
        Largest vocabulary, the two specials included.

    Returns
    -------
    list of str
        ``["<unk>", "<eod>", ...]``; ties in frequency in order of first
        appearance.
    """
    counts = Counter()
    for document in documents:
        counts.update(tokenize(document, level))
    tokens = [t for t, c in counts.most_common() if c >= min_count]
    if max_tokens is not None:
        tokens = tokens[: max_tokens - 2]
    return [UNK, EOD, *tokens]


def encode_documents(documents: list[str], vocabulary: list[str], level: str):
    """One id stream: each document's tokens, then ``<eod>``.

    Returns
    -------
    ndarray of shape (n_tokens,), int64
        Unknown tokens are ``UNK_ID``.
    """
    index = {token: i for i, token in enumerate(vocabulary)}
    ids = []
    for document in documents:
        ids.extend(index.get(token, UNK_ID) for token in tokenize(document, level))
        ids.append(EOD_ID)
    return np.asarray(ids, dtype=np.int64)
