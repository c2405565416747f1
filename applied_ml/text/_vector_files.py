"""Word vectors from files: GloVe text, word2vec text and word2vec binary."""

import os

import numpy as np


def read_vectors(path: str | os.PathLike) -> tuple[list[str], np.ndarray]:
    """Words and vectors of a GloVe or word2vec file (text or binary).

    The format is told from the file itself: a first line of two integers
    (count, dimension) is word2vec's header, followed by text lines or, when
    the rest is not text, by binary rows of ``dimension`` float32 each;
    without that header every line is ``word x1 ... xd`` (GloVe).

    Parameters
    ----------
    path : str or os.PathLike
        The file.

    Returns
    -------
    words : list of str
        In file order.
    vectors : ndarray of shape (n_words, dim), float32

    Raises
    ------
    ValueError
        When a line has another number of values than the first, a word comes
        twice, or the file holds no vectors.
    """
    path = os.fspath(path)
    with open(path, "rb") as f:
        first = f.readline()
        header = first.split()
        if len(header) == 2 and all(part.isdigit() for part in header):
            count, dim = int(header[0]), int(header[1])
            start = f.tell()
            sample = f.read(4096)
            f.seek(start)
            if _is_text(sample):
                words, vectors = _text_rows(f, path, line_offset=2)
            else:
                words, vectors = _binary_rows(f, count, dim, path)
            if len(words) != count:
                raise ValueError(
                    f"The word2vec file {path!r} announces {count} vectors in its "
                    f"header. Received {len(words)}."
                )
        else:
            f.seek(0)
            words, vectors = _text_rows(f, path, line_offset=1)
    if not words:
        raise ValueError(f"`path` must hold word vectors. Received an empty {path!r}.")
    twice = first_repeat(words)
    if twice is not None:
        raise ValueError(
            f"Every word of {path!r} must come once. Received {twice!r} twice."
        )
    return words, vectors


def _is_text(sample: bytes) -> bool:
    try:
        sample.decode("utf-8")
    except UnicodeDecodeError as error:  # a multi-byte character cut at the end
        return error.start >= len(sample) - 3 and b"\x00" not in sample
    return b"\x00" not in sample


def _text_rows(f, path: str, line_offset: int) -> tuple[list[str], np.ndarray]:
    words, rows, dim = [], [], None
    for number, line in enumerate(f, start=line_offset):
        parts = line.decode("utf-8").rstrip("\n\r").rstrip(" ").split(" ")
        if parts == [""]:
            continue
        if dim is None:
            dim = len(parts) - 1
        if len(parts) - 1 != dim or dim == 0:
            raise ValueError(
                f"Every line of {path!r} must hold a word and {dim} numbers. "
                f"Received {len(parts) - 1} number(s) on line {number}."
            )
        words.append(parts[0])
        rows.append(parts[1:])
    vectors = np.array(rows, dtype=np.float32).reshape(len(rows), dim or 0)
    return words, vectors


def _binary_rows(f, count: int, dim: int, path: str) -> tuple[list[str], np.ndarray]:
    words, vectors = [], np.empty((count, dim), np.float32)
    row_bytes = 4 * dim
    for i in range(count):
        word = bytearray()
        while (char := f.read(1)) != b" ":
            if not char:
                raise ValueError(
                    f"The word2vec file {path!r} ends inside vector {i} of {count}. "
                    "Received a truncated file."
                )
            if char != b"\n":  # rows may end with a newline
                word.extend(char)
        data = f.read(row_bytes)
        if len(data) != row_bytes:
            raise ValueError(
                f"The word2vec file {path!r} ends inside vector {i} of {count}. "
                "Received a truncated file."
            )
        words.append(word.decode("utf-8", errors="replace"))
        vectors[i] = np.frombuffer(data, dtype="<f4")
    return words, vectors


def first_repeat(words: list[str]) -> str | None:
    """The first word that comes a second time in ``words``, or None."""
    seen: set = set()
    for word in words:
        if word in seen:
            return word
        seen.add(word)
    return None


def write_vectors(
    path: str | os.PathLike, words: list[str], vectors: np.ndarray, binary: bool
) -> None:
    """Write word2vec's format: a header, then text lines or binary rows."""
    vectors = np.asarray(vectors, dtype="<f4")
    with open(os.fspath(path), "wb") as f:
        f.write(f"{len(words)} {vectors.shape[1]}\n".encode())
        for word, vector in zip(words, vectors, strict=True):
            if binary:
                f.write(word.encode("utf-8") + b" " + vector.tobytes() + b"\n")
            else:
                values = " ".join(repr(float(v)) for v in vector)
                f.write(f"{word} {values}\n".encode())
