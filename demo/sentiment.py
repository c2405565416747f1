"""Sentiment: Rotten Tomatoes snippets, fresh or rotten, on movies held out."""

import os

from sklearn.feature_extraction.text import TfidfVectorizer
from sklearn.linear_model import LogisticRegression
from sklearn.model_selection import GroupShuffleSplit
from sklearn.pipeline import make_pipeline

from applied_ml.datasets import load_rotten_tomatoes
from applied_ml.text import SentimentClassifier, plot_token_contributions
from demo._common import SEED, export_fresh, metric, serve_one
from demo.parts import Skipped

TITLE = "Sentiment: Rotten Tomatoes reviews"
EXAMPLES = [
    "A tedious, overlong mess that squanders a fine cast.",
    "Funny, moving and beautifully acted: one of the year's best films.",
    "Not as clever as it thinks it is, but the leads are charming.",
]
EPOCHS = 6


def run(folder) -> dict:
    """Train, compare, explain, export and serve; return the part's result record."""
    try:
        reviews = load_rotten_tomatoes()
    except ModuleNotFoundError as error:
        raise Skipped(str(error)) from None
    # Reviews of one movie share words: hold out whole movies, not rows.
    split = GroupShuffleSplit(test_size=0.2, random_state=SEED)
    train, test = next(split.split(reviews, groups=reviews["movie_name"]))
    train, test = reviews.iloc[train], reviews.iloc[test]
    print(f"  {len(train)} training snippets, {len(test)} of other movies held out")

    clf = SentimentClassifier(
        embeddings="glove-6b-50d", epochs=EPOCHS, random_state=SEED
    ).fit(train["text"], train["label"])
    accuracy = clf.score(test["text"], test["label"])
    tfidf = make_pipeline(
        TfidfVectorizer(ngram_range=(1, 2), sublinear_tf=True),
        LogisticRegression(C=3.0, max_iter=2000),
    ).fit(train["text"], train["label"])
    peer = tfidf.score(test["text"], test["label"])
    majority = (test["label"] == train["label"].mode()[0]).mean()

    png = plot_token_contributions(
        [clf.explain(text, target="fresh") for text in EXAMPLES],
        folder / "words.png",  # no title: the package centres it off the words
    )

    path = export_fresh(clf, folder)
    out = serve_one(path, texts=EXAMPLES[2:])
    return {
        "title": TITLE,
        "data": f"Rotten Tomatoes: {len(reviews):,} snippets; a fifth of the "
        "movies held out",
        "model": "SentimentClassifier: average of fine-tuned GloVe 6B 50-d "
        f"vectors, {clf.n_iter_} epochs",
        "metric": metric("accuracy", accuracy),
        "peer": metric("TF-IDF (1-2 grams) + logistic regression", peer),
        "baseline": metric("majority class", majority),
        "pngs": [os.path.basename(png)],
        "serving": {
            "input": repr(EXAMPLES[2]),
            "output": f"{out['labels'][0].decode()} "
            f"(p={out['probabilities'][0].max():.3f})",
        },
    }
