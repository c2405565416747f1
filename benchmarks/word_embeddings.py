"""Word embeddings: WordEmbeddings and EmbeddingDebiaser against gensim and WEFE.

Parts, each measured side by side in one run (``--parts`` picks some):

- ``analogies``: ``evaluate_analogies`` on GloVe 6B 50-d (30,000 words)
  against gensim 4.4's ``evaluate_word_analogies``: accuracy, the set of
  correct questions, and the time of each (median of 3, the load average
  before and after).
- ``weat``: our WEAT effect sizes against WEFE 1.0.1's on the same sets.
- ``skipgram``: skip-gram on fortunes + Hamlet within a wall-clock budget
  (ours with ``TimeBudget``, the learning rate falling linearly; gensim's
  ``Word2Vec(sg=1, negative=5)`` with as many epochs as fit in the budget),
  WordSim353's Spearman correlation on the pairs each covers.
- ``debias``: hard debiasing of GloVe, every measure before and after, the
  variants that neutralize fewer words, a downstream SentimentClassifier
  on GloVe against debiased GloVe, and a template probe.

gensim and WEFE run in their own venv (``make bench-words`` makes it) through
``benchmarks/word_embeddings_peer.py``.

Usage::

    .venv/bin/python benchmarks/word_embeddings.py [--parts analogies weat ...]
        [--minutes 5]

Results go to ``outputs/word_embeddings.json`` and to stdout.
"""

import argparse
import json
import os
import statistics
import subprocess
import sys
import tempfile
import time
from collections import Counter

import numpy as np
from _common import HERE, environment, markdown_table
from sklearn.model_selection import GroupShuffleSplit

from applied_ml.callbacks import TimeBudget
from applied_ml.datasets import (
    load_fortunes,
    load_hamlet,
    load_rotten_tomatoes,
    load_weat_word_sets,
    word_benchmark,
)
from applied_ml.text import (
    EmbeddingDebiaser,
    SentimentClassifier,
    WordEmbeddings,
    gender_word_lists,
    weat,
)

RESULTS = HERE.parent / "outputs"
PEER = HERE / ".venv-words" / "bin" / "python"
WEAT_TESTS = {
    "male/female terms x career/family": (
        "male_terms",
        "female_terms",
        "career",
        "family",
    ),
    "male/female names x career/family": (
        "male_names",
        "female_names",
        "career",
        "family",
    ),
    "male/female terms x math/arts": ("male_terms", "female_terms", "math", "arts"),
    "male/female terms x science/arts": (
        "male_terms_2",
        "female_terms_2",
        "science",
        "arts_2",
    ),
    "flowers/insects x pleasant/unpleasant": (
        "flowers",
        "insects",
        "pleasant_5",
        "unpleasant_5a",
    ),
}
TEMPLATES = [
    "{} was brilliant in this film.",
    "{} gives a performance that is hard to forget.",
    "the story follows {} through a long winter.",
    "{} cannot save this dull script.",
    "a film about {} and nothing else.",
]
GENDERED = [("he", "she"), ("man", "woman"), ("his father", "his mother")]


def peer(task: str, request: dict) -> dict:
    with tempfile.TemporaryDirectory() as folder:
        ask, out = os.path.join(folder, "request.json"), os.path.join(folder, "out")
        with open(ask, "w", encoding="utf-8") as f:
            json.dump(request, f)
        script = HERE / "word_embeddings_peer.py"
        subprocess.run(
            [str(PEER), str(script), task, "--request", ask, "--out", out],
            check=True,
        )
        with open(out, encoding="utf-8") as f:
            return json.load(f)


def _weat_sets(names) -> tuple:
    """WEFE's WEAT word sets, lower-cased as GloVe's words are."""
    sets = load_weat_word_sets()
    return tuple([w.lower() for w in sets[n]] for n in names)


def analogies(glove, vectors_file: str) -> dict:
    questions = word_benchmark("questions-words")
    load_before = os.getloadavg()
    ours, seconds = None, []
    for _ in range(3):
        start = time.perf_counter()
        ours = glove.evaluate_analogies(questions, restrict_vocab=30000)
        seconds.append(time.perf_counter() - start)
    theirs = peer(
        "analogies",
        {
            "vectors": vectors_file,
            "questions": questions,
            "restrict_vocab": 30000,
            "repeats": 3,
        },
    )
    # the file repeats some questions: compare the correct ones as multisets
    mine = Counter(" ".join(q) for q in ours["correct_questions"])
    peers = Counter(theirs["correct"])
    result = {
        "ours": {"accuracy": ours["accuracy"], "correct": ours["correct"]},
        "gensim": {"accuracy": theirs["accuracy"], "correct": len(theirs["correct"])},
        "total": [ours["total"], theirs["total"]],
        "questions_differing": sum(((mine - peers) + (peers - mine)).values()),
        "seconds_ours": seconds,
        "seconds_gensim": theirs["seconds"],
        "speedup": statistics.median(theirs["seconds"]) / statistics.median(seconds),
        "load_average_before_after": [load_before[0], os.getloadavg()[0]],
    }
    print(json.dumps(result, indent=1), flush=True)
    return result


def weat_part(glove, vectors_file: str) -> dict:
    tests = {name: _weat_sets(sets) for name, sets in WEAT_TESTS.items()}
    known = {
        name: tuple([w for w in words if w in glove.index_] for words in sets)
        for name, sets in tests.items()
    }
    ours = {
        name: weat(glove, *sets, n_permutations=1000)["effect_size"]
        for name, sets in known.items()
    }
    theirs = peer("weat", {"vectors": vectors_file, "tests": known})["effect_size"]
    result = {name: {"ours": ours[name], "wefe": theirs[name]} for name in WEAT_TESTS}
    result["largest_difference"] = max(abs(ours[n] - theirs[n]) for n in WEAT_TESTS)
    print(json.dumps(result, indent=1), flush=True)
    return result


def skipgram(minutes: float) -> dict:
    corpus = load_fortunes() + [p for p in load_hamlet().split("\n\n") if p.strip()]
    wordsim = word_benchmark("wordsim353")
    params = {"vector_size": 100, "window": 5, "min_count": 5, "sample": 1e-4}
    start = time.perf_counter()
    ours = WordEmbeddings(
        **params,
        negatives=5,
        learning_rate=0.01,
        decay=False,  # TimeBudget's linear decay sets the rate instead
        epochs=10_000,
        callbacks=[TimeBudget(minutes, schedule="linear")],
        random_state=0,
    ).fit(corpus)
    seconds = time.perf_counter() - start
    steps = int(ours.model_.optimizer.iterations.numpy())
    tokens = [ours.tokenize(d) for d in corpus]
    n_words = sum(len(t) for t in tokens)
    our_score = ours.evaluate_word_pairs(wordsim)
    with tempfile.NamedTemporaryFile("w", suffix=".txt", delete=False) as f:
        for words in tokens:
            f.write(" ".join(words) + "\n")
    try:
        theirs = peer(
            "word2vec",
            {
                **params,
                "corpus": f.name,
                "seconds": minutes * 60,
                "wordsim": wordsim,
                "workers": os.cpu_count() or 2,
            },
        )
    finally:
        os.remove(f.name)
    result = {
        "corpus_words": n_words,
        "documents": len(corpus),
        "ours": {
            "spearman": our_score["spearman"],
            "pairs_covered": our_score["pairs"],
            "fit_seconds": seconds,
            "epochs": ours.n_iter_,
            "steps": steps,
            "pairs_per_s": steps * ours.batch_size / seconds,
            "corpus_words_per_s": n_words * ours.n_iter_ / seconds,
            "vocabulary": len(ours.vocabulary_),
        },
        "gensim": theirs,
    }
    print(json.dumps(result, indent=1), flush=True)
    return result


def _probe(clf) -> float:
    """Mean |P(fresh | male word) - P(fresh | female word)| over templates."""
    male = [t.format(m) for t in TEMPLATES for m, _ in GENDERED]
    female = [t.format(f) for t in TEMPLATES for _, f in GENDERED]
    fresh = list(clf.classes_).index("fresh")
    gap = clf.predict_proba(male)[:, fresh] - clf.predict_proba(female)[:, fresh]
    return float(np.mean(np.abs(gap)))


def debias(glove) -> dict:
    lists = gender_word_lists()
    sets = load_weat_word_sets()
    tests = {name: _weat_sets(WEAT_TESTS[name]) for name in list(WEAT_TESTS)[:2]}
    analogies_path = word_benchmark("questions-words")
    debiaser = EmbeddingDebiaser().fit(glove)
    start = time.perf_counter()
    debiased = debiaser.transform(glove)
    transform_seconds = time.perf_counter() - start
    table = debiaser.report(glove, debiased, analogies=analogies_path, weat_tests=tests)
    terms = tests["male/female terms x career/family"]
    variants = {}
    specific = set(lists["gender_specific"])
    professions = [w for w in lists["professions"] if w not in specific]
    attributes = set(sets["career"] + sets["family"])
    for name, params in {
        "neutralize only (no equalize)": {"method": "neutralize"},
        "neutralize professions only": {"neutralize_words": professions},
        "career and family words kept out of neutralizing": {
            "gender_specific": sorted(specific | attributes)
        },
    }.items():
        other = EmbeddingDebiaser(**params).fit(glove).transform(glove)
        variants[name] = weat(other, *terms, n_permutations=1000)["effect_size"]
    # downstream: the GloVe average on Rotten Tomatoes, split by movie (seed 0)
    reviews = load_rotten_tomatoes()
    split = GroupShuffleSplit(test_size=0.2, random_state=0)
    train, test = next(split.split(reviews, groups=reviews["movie_name"]))
    train, test = reviews.iloc[train], reviews.iloc[test]
    downstream = {}
    for name, vectors in (("GloVe", glove), ("debiased GloVe", debiased)):
        for trainable in (True, False):
            clf = SentimentClassifier(
                embeddings=vectors, trainable_embeddings=trainable, random_state=0
            ).fit(train["text"], train["label"])
            downstream[f"{name}, trainable={trainable}"] = {
                "accuracy": clf.score(test["text"], test["label"]),
                "template_gap": _probe(clf),
            }
    result = {
        "explained_variance_ratio": debiaser.explained_variance_ratio_[:4].tolist(),
        "transform_seconds": transform_seconds,
        "report": table.to_dict(),
        "weat_terms_variants": variants,
        "downstream": downstream,
    }
    print(json.dumps(result, indent=1, default=float), flush=True)
    return result


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parts = ["analogies", "weat", "skipgram", "debias"]
    parser.add_argument("--parts", nargs="+", choices=parts, default=parts)
    parser.add_argument("--minutes", type=float, default=5.0)
    args = parser.parse_args()
    if not PEER.exists():
        sys.exit("Run `make bench-words` first: it makes the gensim/WEFE venv.")
    RESULTS.mkdir(exist_ok=True)
    print(environment(), flush=True)
    glove = WordEmbeddings.from_pretrained("glove-6b-50d")
    results = {"environment": environment()}
    with tempfile.TemporaryDirectory() as folder:
        vectors_file = os.path.join(folder, "glove.bin")
        glove.to_file(vectors_file, binary=True)
        if "analogies" in args.parts:
            results["analogies"] = analogies(glove, vectors_file)
        if "weat" in args.parts:
            results["weat"] = weat_part(glove, vectors_file)
    if "skipgram" in args.parts:
        results["skipgram"] = skipgram(args.minutes)
    if "debias" in args.parts:
        results["debias"] = debias(glove)
    (RESULTS / "word_embeddings.json").write_text(
        json.dumps(results, indent=2, default=float)
    )
    if "analogies" in args.parts:
        a = results["analogies"]
        print(
            markdown_table(
                ["", "accuracy", "correct", "median s"],
                [
                    [
                        "WordEmbeddings",
                        f"{a['ours']['accuracy']:.4f}",
                        a["ours"]["correct"],
                        f"{statistics.median(a['seconds_ours']):.2f}",
                    ],
                    [
                        "gensim",
                        f"{a['gensim']['accuracy']:.4f}",
                        a["gensim"]["correct"],
                        f"{statistics.median(a['seconds_gensim']):.2f}",
                    ],
                ],
            )
        )


if __name__ == "__main__":
    main()
