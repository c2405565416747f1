"""Sentiment: SentimentClassifier recipes against TF-IDF + logistic regression.

Protocol: the 12,808 Rotten Tomatoes snippets, split by movie
(``GroupShuffleSplit(test_size=0.2)`` on ``movie_name``) with split seeds 0,
1 and 2; every method fitted on the training movies and scored (accuracy) on
the held-out movies, in this one run.

- Reference: TF-IDF of word 1-2-grams and char_wb 2-5-grams, logistic
  regression with C chosen by 3-fold grouped cross-validation on the
  training movies.
- Word-embedding recipes (defaults unless stated): the embedding average
  learned from scratch, GloVe 6B 50-d averaged, the average of learned 128-d
  word and bigram vectors, and a 128-unit BiGRU over GloVe.
- ``encoder="minilm"``: a classifier on the frozen encoder's pooled vectors
  (computed once), then all six blocks fine-tuned for one epoch.

Training time is each ``fit`` call's wall clock (model building, the frozen
encoder's pass over the training texts and training; not scoring).

Usage::

    .venv/bin/python benchmarks/sentiment.py [--quick] [--seeds 0 1 2]

Results go to ``outputs/sentiment.json`` and to stdout as markdown.
"""

import argparse
import json
import statistics
import time

import numpy as np
from _common import HERE, environment, markdown_table
from sklearn.feature_extraction.text import TfidfVectorizer
from sklearn.linear_model import LogisticRegression
from sklearn.model_selection import GridSearchCV, GroupKFold, GroupShuffleSplit
from sklearn.pipeline import make_pipeline, make_union

from applied_ml.datasets import load_rotten_tomatoes
from applied_ml.text import SentimentClassifier

RESULTS = HERE.parent / "outputs"
RECIPES = {
    "average, learned": {},
    "average, GloVe": {"embeddings": "glove-6b-50d"},
    # the two best word-embedding recipes on an inner grouped split of split
    # seed 0's training movies (never on the test movies)
    "average of words and bigrams, 128-d": {"ngrams": 2, "embedding_dim": 128},
    "BiGRU 128, GloVe": {
        "model": "bigru",
        "embeddings": "glove-6b-50d",
        "rnn_units": (128,),
        "dropout": 0.4,
    },
    "MiniLM, fine-tuned 1 epoch": {
        "encoder": "minilm",
        "learning_rate": 1e-2,  # the classifier, on the cached vectors
        "epochs": 100,
        "fine_tune_layers": 6,
        "fine_tune_epochs": 1,
    },
}


def tfidf_reference(train, test, seed: int) -> dict:
    features = make_union(
        TfidfVectorizer(ngram_range=(1, 2), sublinear_tf=True, min_df=2),
        TfidfVectorizer(
            analyzer="char_wb", ngram_range=(2, 5), sublinear_tf=True, min_df=2
        ),
    )
    search = GridSearchCV(
        make_pipeline(features, LogisticRegression(max_iter=2000)),
        {"logisticregression__C": [1.0, 3.0, 10.0]},
        cv=GroupKFold(3, shuffle=True, random_state=seed),
    )
    start = time.perf_counter()
    search.fit(train["text"], train["label"], groups=train["movie_name"])
    seconds = time.perf_counter() - start
    return {
        "accuracy": float(search.score(test["text"], test["label"])),
        "fit_seconds": seconds,
        "C": search.best_params_["logisticregression__C"],
    }


def recipe(params: dict, train, test, seed: int) -> dict:
    clf = SentimentClassifier(random_state=seed, **params)
    start = time.perf_counter()
    clf.fit(train["text"], train["label"])
    seconds = time.perf_counter() - start
    return {
        "accuracy": float(clf.score(test["text"], test["label"])),
        "fit_seconds": seconds,
        "epochs": clf.n_iter_,
        "coverage": clf.embedding_coverage_,
    }


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--quick", action="store_true", help="1,500 snippets")
    parser.add_argument("--seeds", type=int, nargs="+", default=[0, 1, 2])
    args = parser.parse_args()
    RESULTS.mkdir(exist_ok=True)
    reviews = load_rotten_tomatoes()
    if args.quick:
        reviews = reviews.sample(1500, random_state=0)
    results: dict = {}
    for seed in args.seeds:
        split = GroupShuffleSplit(test_size=0.2, random_state=seed)
        train, test = next(split.split(reviews, groups=reviews["movie_name"]))
        train, test = reviews.iloc[train], reviews.iloc[test]
        majority = float((test["label"] == train["label"].mode()[0]).mean())
        print(f"seed {seed}: {len(train)} train, {len(test)} test", flush=True)
        runs = {"majority class": {"accuracy": majority, "fit_seconds": 0.0}}
        runs["TF-IDF + LR"] = tfidf_reference(train, test, seed)
        print("  TF-IDF + LR", runs["TF-IDF + LR"], flush=True)
        for name, params in RECIPES.items():
            runs[name] = recipe(params, train, test, seed)
            print(f"  {name}", runs[name], flush=True)
        for name, run in runs.items():
            results.setdefault(name, {})[seed] = run

    print(f"\n{environment()}\n")
    rows = []
    reference = [results["TF-IDF + LR"][s]["accuracy"] for s in args.seeds]
    for name, runs in results.items():
        accuracy = [runs[s]["accuracy"] for s in args.seeds]
        gap = np.subtract(accuracy, reference)
        error = (
            f" ± {statistics.stdev(accuracy) / np.sqrt(len(accuracy)):.3f}"
            if len(accuracy) > 1
            else ""
        )
        rows.append(
            [
                name,
                f"{np.mean(accuracy):.3f}{error}",
                " / ".join(f"{a:.3f}" for a in accuracy),
                f"{np.mean(gap):+.3f}",
                f"{np.mean([runs[s]['fit_seconds'] for s in args.seeds]):.0f}",
            ]
        )
    print(
        markdown_table(
            [
                "method",
                "accuracy (mean ± s.e.)",
                "per split seed",
                "vs TF-IDF + LR",
                "fit s",
            ],
            rows,
        )
    )
    report = {"environment": environment(), "seeds": args.seeds, "results": results}
    (RESULTS / "sentiment.json").write_text(json.dumps(report, indent=2, default=str))


if __name__ == "__main__":
    main()
