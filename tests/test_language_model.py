"""LanguageModel: training windows, stateful scoring, generation, serving."""

import os

import numpy as np
import pytest
import tensorflow as tf
from conftest import need

from applied_ml.text import LanguageModel, NGramLanguageModel
from applied_ml.text._vocabulary import encode_documents

CORPUS = [
    "the cat sat on the mat.",
    "the dog sat on the log.",
    "a cat and a dog met on a mat.",
    "the mat was flat, the log was not.",
] * 8
TINY = {"units": 16, "embedding_dim": 8, "sequence_length": 16, "random_state": 0}


@pytest.fixture(scope="module")
def lm():
    return LanguageModel(**TINY, epochs=3).fit(CORPUS)


def test_a_char_model_learns_fortunes_beyond_the_unigram_baseline():
    from applied_ml.datasets import load_fortunes
    from applied_ml.datasets._text import FORTUNES

    need("fortunes (apt-get install fortunes)", os.path.isdir(FORTUNES))
    records = load_fortunes()
    train, test = records[:2000], records[-200:]
    unigram = NGramLanguageModel(order=1).fit(train).bits_per_char(test)
    lm = LanguageModel(
        units=64,
        embedding_dim=16,
        sequence_length=64,
        max_steps=200,
        early_stopping=False,
        validation_fraction=0,
        random_state=0,
    ).fit(train)
    assert lm.bits_per_char(test) < unigram - 1.0, (lm.bits_per_char(test), unigram)


def test_scoring_carries_the_state_across_windows(lm):
    """Any window length scores alike, and as one step per token does."""
    texts = ["the cat sat on the log.", "a dog met a cat on the flat mat."]
    whole = lm.score(texts)
    short = lm.set_params(sequence_length=3).score(texts)
    lm.set_params(sequence_length=TINY["sequence_length"])
    assert short == pytest.approx(whole, abs=1e-5)
    # the same bits from predict_proba of every prefix
    bits, n = 0.0, 0
    for text in texts:
        ids = encode_documents([text], lm.vocabulary_, "char")
        prefixes = [text[:k] for k in range(len(ids))]
        p = lm.predict_proba(prefixes)[np.arange(len(ids)), ids]
        bits, n = bits - np.log2(p).sum(), n + len(ids)
    assert whole == pytest.approx(-bits / n, abs=1e-4)
    assert lm.perplexity(texts) == pytest.approx(2 ** (bits / n), rel=1e-4)
    chars = sum(len(t) + 1 for t in texts)
    assert lm.bits_per_char(texts) == pytest.approx(bits / chars, rel=1e-4)


def test_generation_is_greedy_at_zero_and_reproducible_with_a_seed(lm):
    greedy = lm.sample(3, temperature=0, max_length=40)
    assert greedy[0] == greedy[1] == greedy[2]
    assert lm.generate("the", temperature=0, max_length=40) == lm.generate(
        ["the"], temperature=0, max_length=40
    )
    a = lm.sample(4, random_state=7, max_length=30)
    assert a == lm.sample(4, random_state=7, max_length=30)
    assert a != lm.sample(4, random_state=8, max_length=30)
    assert all(len(t) <= 30 for t in a)
    assert all(t.startswith("a dog") for t in lm.sample(2, seed_text="a dog"))
    # the most probable token only: top_k=1 and a tiny top_p are greedy
    assert lm.sample(1, top_k=1, max_length=40, random_state=0) == greedy[:1]
    assert lm.sample(1, top_p=1e-6, max_length=40, random_state=0) == greedy[:1]
    assert not any("<unk>" in t for t in lm.sample(10, temperature=3.0))
    assert lm.generate([]) == []


def test_predict_names_the_most_probable_next_token(lm):
    probabilities = lm.predict_proba(["the cat sat on the ma", ""])
    assert probabilities.shape == (2, len(lm.vocabulary_))
    np.testing.assert_allclose(probabilities.sum(axis=1), 1.0, rtol=1e-5)
    best = np.array(lm.vocabulary_, dtype=object)[probabilities.argmax(axis=1)]
    np.testing.assert_array_equal(lm.predict(["the cat sat on the ma", ""]), best)


def test_word_level_tokens_agree_between_python_and_the_graph():
    texts = ["Don't stop: the cat's mat!", "café naïve\tok\x0b?", ""]
    lm = LanguageModel(**TINY, level="word", epochs=1).fit(CORPUS + texts[:2])
    for text in texts:
        graph = lm._runtime.token_ids(tf.constant([text])).numpy()[0][1:]
        python = encode_documents([text], lm.vocabulary_, "word")[:-1]
        np.testing.assert_array_equal(graph, python)
    generated = lm.sample(2, seed_text="the cat", random_state=0, max_length=5)
    assert all(t.startswith("the cat ") or t == "the cat" for t in generated)


def test_one_document_holds_out_its_end():
    text = " ".join(CORPUS)
    lm = LanguageModel(**TINY, epochs=2).fit(text)
    assert "val_loss" in lm.history_
    whole = {"validation_fraction": 0, "early_stopping": False}
    with_tail = LanguageModel(**TINY, **whole, epochs=1).fit(text + "QZ")
    assert "Q" in with_tail.vocabulary_
    held = LanguageModel(**TINY, epochs=1).fit(text + "QZ")
    assert "Q" not in held.vocabulary_  # the held-out end taught no tokens


def test_a_tf_data_corpus_trains_like_a_list():
    data = tf.data.Dataset.from_tensor_slices(CORPUS).batch(5)
    a = LanguageModel(**TINY, epochs=1).fit(data)
    b = LanguageModel(**TINY, epochs=1).fit(CORPUS)
    assert a.vocabulary_ == b.vocabulary_
    assert a.score(CORPUS[:4]) == b.score(CORPUS[:4])


def test_the_served_generate_matches_generate(lm, tmp_path):
    served = tf.saved_model.load(lm.export(tmp_path / "lm"))
    out = served.signatures["generate"](
        seed_text=tf.constant(["the c", ""]),
        temperature=tf.constant(0.0),
        max_length=tf.constant(25),
    )
    texts = [t.decode() for t in out["texts"].numpy()]
    assert texts == lm.generate(["the c", ""], temperature=0, max_length=25)
    sampled = served.signatures["generate"](
        seed_text=tf.constant(["the"] * 4),
        temperature=tf.constant(1.0),
        max_length=tf.constant(25),
    )["texts"].numpy()
    assert all(t.startswith(b"the") for t in sampled)


@pytest.mark.parametrize(
    "params, match",
    [
        ({"rnn": "transformer"}, r"`rnn`"),
        ({"sequence_length": 1}, r"`sequence_length` must be an integer in \[2"),
        ({"dropout": 1.0}, r"`dropout` must be a number in \[0.0, 1.0\)"),
        ({"max_tokens": 2}, r"`max_tokens` must be an integer in \[3"),
    ],
)
def test_bad_parameters_get_clear_errors(params, match):
    with pytest.raises((ValueError, TypeError), match=match):
        LanguageModel(**params).fit(CORPUS)


def test_bad_inputs_get_clear_errors(lm):
    with pytest.raises(TypeError, match=r"`X` must hold strings only.*int"):
        LanguageModel(**TINY).fit(["text", 5])
    with pytest.raises(ValueError, match=r"`sample_weight` must be None"):
        LanguageModel(**TINY).fit(CORPUS, sample_weight=np.ones(len(CORPUS)))
    with pytest.raises(ValueError, match=r"learns from X alone"):
        LanguageModel(**TINY).fit(CORPUS, ["label"] * len(CORPUS))
    with pytest.raises(TypeError, match=r"`seed_texts` must hold strings.*int"):
        lm.generate(["ok", 3])
    with pytest.raises(ValueError, match=r"`temperature` must be"):
        lm.sample(temperature=-0.5)


def test_the_language_model_tutorial_runs_end_to_end():
    import subprocess
    import sys

    from applied_ml.datasets._text import FORTUNES

    need("fortunes (apt-get install fortunes)", os.path.isdir(FORTUNES))
    here = os.path.dirname(__file__)
    tutorial = os.path.join(here, "..", "tutorials", "language_model.py")
    result = subprocess.run(
        [sys.executable, tutorial, "--steps", "20", "--units", "16"],
        capture_output=True,
        text=True,
        timeout=600,
    )
    assert result.returncode == 0, result.stderr[-3000:]
    assert "bits per character" in result.stdout
    assert "endpoints: ['generate', 'serving_default']" in result.stdout
    assert result.stdout.count("-- temperature") == 3


def test_export_right_after_fit_serves(tmp_path):
    """Nothing but fit before export (the lookup layer must be built already)."""
    fresh = LanguageModel(**TINY, epochs=1).fit(CORPUS)
    served = tf.saved_model.load(fresh.export(tmp_path / "lm"))
    out = served.signatures["generate"](
        seed_text=tf.constant(["the"]),
        temperature=tf.constant(0.0),
        max_length=tf.constant(0),  # served as one step at least
    )
    assert out["texts"].numpy()[0].decode() == fresh.generate("the", 1, 0.0)[0]
