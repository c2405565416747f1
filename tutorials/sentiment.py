"""Rotten Tomatoes sentiment: SentimentClassifier end to end.

Splits the 12,808 review snippets by movie (a fifth of the movies held out,
seed 0: reviews of one movie share words, so a split by row would flatter
every model), trains a classifier of raw strings, compares it with the
majority class and a TF-IDF + logistic regression reference, shows which
words drove a few predictions (a PNG), exports a SavedModel and asks it for
labels from a fresh Python process that imports only TensorFlow.

The default recipe averages GloVe 6B 50-d word vectors (fine-tuned), about
a minute on a 2-core CPU. ``--minilm`` fine-tunes the pretrained MiniLM
sentence encoder instead (about 8 minutes; its SavedModel needs
``import tensorflow_text`` where it is served).

Run from anywhere: ``python tutorials/sentiment.py [--minilm] [--limit N]``.
Writes ``outputs/sentiment_words.png`` and ``saved_models/sentiment/<version>/``.
"""

import argparse
import json
import os
import subprocess
import sys
import textwrap
import time
from pathlib import Path

os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "2")

from sklearn.feature_extraction.text import TfidfVectorizer  # noqa: E402
from sklearn.linear_model import LogisticRegression  # noqa: E402
from sklearn.model_selection import GroupShuffleSplit  # noqa: E402
from sklearn.pipeline import make_pipeline  # noqa: E402

from applied_ml.datasets import load_rotten_tomatoes  # noqa: E402
from applied_ml.text import SentimentClassifier, plot_token_contributions  # noqa: E402

ROOT = Path(__file__).resolve().parent.parent
MODEL_FOLDER = ROOT / "saved_models" / "sentiment"
OUTPUTS = ROOT / "outputs"
SEED = 0
EXAMPLES = [
    "A tedious, overlong mess that squanders a fine cast.",
    "Funny, moving and beautifully acted: one of the year's best films.",
    "Not as clever as it thinks it is, but the leads are charming.",
]

# Runs in a fresh interpreter: plain TensorFlow (and TensorFlow Text's ops
# for the MiniLM tokenizer), no applied_ml.
SERVE = textwrap.dedent(
    """
    import json, sys
    import tensorflow as tf

    request = json.loads(sys.stdin.read())
    if request["minilm"]:
        import tensorflow_text  # registers the WordPiece ops
    model = tf.saved_model.load(request["path"])
    out = model.signatures["serving_default"](texts=tf.constant(request["texts"]))
    print(json.dumps({
        "applied_ml_imported": "applied_ml" in sys.modules,
        "labels": [t.decode() for t in out["labels"].numpy()],
        "probabilities": out["probabilities"].numpy().astype(float).round(3).tolist(),
    }))
    """
)


def section(title: str) -> None:
    print(f"\n== {title} " + "=" * max(0, 70 - len(title)))


def main(argv=None) -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--minilm", action="store_true", help="fine-tune MiniLM")
    parser.add_argument("--limit", type=int, help="use only this many snippets")
    args = parser.parse_args(argv)
    start = time.perf_counter()

    section("Data")
    try:
        reviews = load_rotten_tomatoes()
    except ModuleNotFoundError as error:
        sys.exit(str(error))
    if args.limit:
        reviews = reviews.sample(args.limit, random_state=SEED)
    split = GroupShuffleSplit(test_size=0.2, random_state=SEED)
    train, test = next(split.split(reviews, groups=reviews["movie_name"]))
    train, test = reviews.iloc[train], reviews.iloc[test]
    print(f"{len(reviews)} snippets of {reviews['movie_name'].nunique()} movies")
    print(f"train on {len(train)}, test on {len(test)} (other movies)")
    print(train["label"].value_counts().to_dict())

    section("Baselines")
    majority = (test["label"] == train["label"].mode()[0]).mean()
    print(f"majority class: {majority:.3f}")
    tfidf = make_pipeline(
        TfidfVectorizer(ngram_range=(1, 2), sublinear_tf=True),
        LogisticRegression(C=3.0, max_iter=2000),
    ).fit(train["text"], train["label"])
    reference = tfidf.score(test["text"], test["label"])
    print(f"TF-IDF words + logistic regression: {reference:.3f}")

    if args.minilm:
        name = "MiniLM, fine-tuned"
        clf = SentimentClassifier(
            encoder="minilm",
            learning_rate=1e-2,  # the classifier, on vectors computed once
            epochs=100,
            fine_tune_layers=6,
            fine_tune_epochs=1,
            random_state=SEED,
        )
    else:
        name = "GloVe average"
        clf = SentimentClassifier(embeddings="glove-6b-50d", random_state=SEED)
    section(f"SentimentClassifier: {name}")
    t0 = time.perf_counter()
    clf.fit(train["text"], train["label"])
    print(f"trained in {time.perf_counter() - t0:.0f}s ({clf.n_iter_} epochs)")
    if clf.embedding_coverage_ is not None:
        print(f"{clf.embedding_coverage_:.1%} of the vocabulary has a GloVe vector")
    for metric, value in clf.evaluate(test["text"], test["label"]).items():
        print(f"{metric}: {value:.3f}")

    section("Which words decided")
    explanations = [clf.explain(text, target="fresh") for text in EXAMPLES]
    for explanation in explanations:
        top = explanation.reindex(
            explanation["contribution"].abs().sort_values(ascending=False).index
        ).head(3)
        words = ", ".join(
            f"{t} ({c:+.2f})"
            for t, c in zip(top["token"], top["contribution"], strict=True)
        )
        print(f"P(fresh) = {explanation.attrs['probability']:.3f}: {words}")
    path = plot_token_contributions(
        explanations,
        OUTPUTS / "sentiment_words.png",
        title=f"{name}: words pushing towards 'fresh' (red) or 'rotten' (blue)",
    )
    print(f"wrote {Path(path).relative_to(ROOT)}")

    section("Export and serving from plain TensorFlow (fresh process)")
    export_path = clf.export(path=MODEL_FOLDER)
    print(f"SavedModel written to {Path(export_path).relative_to(ROOT)}")
    request = {"path": os.fspath(export_path), "texts": EXAMPLES, "minilm": args.minilm}
    result = subprocess.run(
        [sys.executable, "-c", SERVE],
        input=json.dumps(request),
        capture_output=True,
        text=True,
        check=False,
    )
    if result.returncode != 0:
        sys.exit(f"serving process failed:\n{result.stderr}")
    served = json.loads(result.stdout.strip().splitlines()[-1])
    if served["applied_ml_imported"]:
        sys.exit("serving process imported applied_ml; it must need TensorFlow only")
    here = clf.predict(EXAMPLES).tolist()
    print(f"served labels: {served['labels']} (here: {here})")
    for text, probabilities in zip(EXAMPLES, served["probabilities"], strict=True):
        print(f"  {probabilities} {text}")

    section("Done")
    print(f"total {time.perf_counter() - start:.1f}s")


if __name__ == "__main__":
    main()
