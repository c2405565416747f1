"""Analogy and word-similarity evaluation, with gensim's conventions.

The conventions (those of ``KeyedVectors.evaluate_word_analogies`` and
``evaluate_word_pairs`` in gensim 4):

- only the first ``restrict_vocab`` words take part, as questions and as
  answers; a question with a word outside them is skipped and counted as
  out of vocabulary;
- case-insensitive matching upper-cases every word, and a word with several
  casings among the allowed words takes the vector of the first (most
  frequent) one;
- an analogy "a b c expected" is answered by 3CosAdd over the allowed words
  without a, b and c; among the 5 best, the first whose upper-cased form is
  none of the question's words is the answer;
- a word-pair file has tab-separated ``word word score`` lines, ``#`` lines
  are comments, and lines of another shape are skipped.
"""

import os
from collections.abc import Iterable, Mapping

import numpy as np
import pandas as pd
from scipy import stats

from applied_ml.text._vector_queries import combined, ranked

_CANDIDATES = 5  # gensim's topn for an analogy question


def allowed_words(words, restrict: int, case_insensitive: bool) -> dict[str, int]:
    """Key (upper-cased when case-insensitive) -> row, the first casing winning."""
    key = str.upper if case_insensitive else str
    return {key(w): i for i, w in reversed(list(enumerate(words[:restrict])))}


def read_questions(source) -> list[tuple[str, list[str]]]:
    """(section, [a, b, c, expected]) for each question of ``source``.

    ``source`` is a path to a ``questions-words.txt``-style file, a mapping
    of section name to 4-word questions, or an iterable of 4-word questions
    (one section, ``"questions"``).
    """
    if isinstance(source, str | os.PathLike):
        questions, section = [], None
        with open(os.fspath(source), encoding="utf-8") as f:
            for number, line in enumerate(f, start=1):
                if line.startswith(": "):
                    section = line[2:].strip()
                    continue
                if section is None:
                    raise ValueError(
                        f"An analogy file must start with a ': section' line. "
                        f"Received line {number} of {os.fspath(source)!r} before any."
                    )
                parts = line.split()
                if len(parts) == 4:  # other lines are skipped, as gensim does
                    questions.append((section, parts))
        return questions
    if isinstance(source, Mapping):
        return [
            (str(name), _question(q)) for name, part in source.items() for q in part
        ]
    if isinstance(source, Iterable):
        return [("questions", _question(q)) for q in source]
    raise TypeError(
        "`path_or_questions` must be a path, a mapping of section to questions or "
        f"an iterable of 4-word questions. Received: {type(source).__name__}"
    )


def _question(question) -> list[str]:
    words = [question] if isinstance(question, str) else list(question)
    if len(words) != 4 or not all(isinstance(w, str) for w in words):
        raise ValueError(
            "Each analogy question must be 4 words (a, b, c, expected). "
            f"Received: {question!r}"
        )
    return words


def evaluate_analogies(
    words: list[str],
    vectors: np.ndarray,
    norms: np.ndarray,
    questions: list[tuple[str, list[str]]],
    restrict: int,
    case_insensitive: bool,
) -> dict:
    """Score analogy questions (see the module docstring); a result dict."""
    key = str.upper if case_insensitive else str
    allowed = allowed_words(words, restrict, case_insensitive)
    asked, sections, skipped = [], {}, 0
    for section, question in questions:
        sections.setdefault(section, [0, 0])
        keys = [key(w) for w in question]
        if all(k in allowed for k in keys):
            asked.append((section, keys))
        else:
            skipped += 1
    correct = []
    if asked:
        rows = np.array([[allowed[k] for k in keys[:3]] for _, keys in asked])
        # the file repeats some questions: each distinct one is answered once
        distinct, inverse = np.unique(rows, axis=0, return_inverse=True)
        queries = combined(vectors, norms, distinct[:, [1, 2]], distinct[:, [0]])
        ignored = [{key(words[i]) for i in row} for row in distinct]
        top = _answers(words, vectors, norms, queries, distinct, restrict, key, ignored)
        for (section, keys), i in zip(asked, inverse.ravel(), strict=True):
            candidates = top[i]
            predicted = None
            for index in candidates:
                predicted = key(words[index])
                if predicted not in keys[:3]:
                    break
            hit = predicted == keys[3]
            sections[section][0 if hit else 1] += 1
            if hit:
                correct.append(tuple(keys))
    table = pd.DataFrame(
        [(name, c, c + i) for name, (c, i) in sections.items()],
        columns=["section", "correct", "total"],
    )
    table["accuracy"] = table["correct"] / table["total"].where(table["total"] > 0)
    return {
        "accuracy": len(correct) / len(asked) if asked else float("nan"),
        "correct": len(correct),
        "total": len(asked),
        "oov_ratio": skipped / len(questions) if questions else 0.0,
        "sections": table,
        "correct_questions": correct,
    }


def _answers(words, vectors, norms, queries, rows, restrict, key, ignored) -> list:
    """Each question's candidate answers, best first.

    The best word alone settles a question unless its key is one of the
    question's words (``ignored``, another casing of one): those questions
    get their 5 best, as gensim reads them.
    """
    best, _ = ranked(vectors, norms, queries, rows, 1, restrict)
    top = list(best)
    again = [i for i, keys in enumerate(ignored) if key(words[best[i, 0]]) in keys]
    if again:
        more, _ = ranked(
            vectors, norms, queries[again], rows[again], _CANDIDATES, restrict
        )
        for i, candidates in zip(again, more, strict=True):
            top[i] = candidates
    return top


def evaluate_word_pairs(
    words: list[str],
    vectors: np.ndarray,
    norms: np.ndarray,
    path,
    restrict: int,
    case_insensitive: bool,
) -> dict:
    """Correlations of cosine similarity with human scores of word pairs."""
    key = str.upper if case_insensitive else str
    allowed = allowed_words(words, restrict, case_insensitive)
    gold, model, missing = [], [], 0
    with open(os.fspath(path), encoding="utf-8") as f:
        for line in f:
            if not line or line.startswith("#"):
                continue
            parts = line.split("\t")
            try:
                a, b, score = key(parts[0]), key(parts[1]), float(parts[2])
            except (IndexError, ValueError):
                continue
            if len(parts) != 3:
                continue
            if a not in allowed or b not in allowed:
                missing += 1
                continue
            u, v = vectors[allowed[a]], vectors[allowed[b]]
            gold.append(score)
            model.append(float(np.dot(u / norms[allowed[a]], v / norms[allowed[b]])))
    if not gold:
        raise ValueError(
            f"`path` must hold word pairs of known words. Received {os.fspath(path)!r} "
            f"with none ({missing} pair(s) with unknown words)."
        )
    return {
        "spearman": float(stats.spearmanr(gold, model).statistic),
        "pearson": float(stats.pearsonr(gold, model).statistic),
        "oov_ratio": missing / (len(gold) + missing),
        "pairs": len(gold),
    }
