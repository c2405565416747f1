"""NGramLanguageModel: interpolated Kneser-Ney, the language models' baseline."""

import os

import numpy as np
import pandas as pd
import pytest
import tensorflow as tf
from conftest import need

from applied_ml.text import NGramLanguageModel

CORPUS = [
    "the cat sat on the mat.",
    "the dog sat on the log.",
    "a cat and a dog met on a mat.",
    "the mat was flat, the log was not.",
]


def test_a_hand_worked_bigram_example():
    """Order 2, discount 0.5, corpus "ab" and "b", worked out on paper.

    Vocabulary <unk>, <eod>, b, a. Unigram continuation counts (distinct
    tokens before): a 1 (<eod>), b 2 (a, <eod>), <eod> 1 (b); total 4, 3
    types: p1 = ((c - .5)+ + .5 * 3 / 4) / 4 = .09375, .21875, .46875, .21875.
    After <eod> (a once, b once): .25 + .5 * p1 for a and b, .5 * p1 else.
    After b (<eod> twice): .75 + .25 * p1(<eod>) for <eod>, .25 * p1 else.
    """
    lm = NGramLanguageModel(order=2, discount=0.5).fit(["ab", "b"])
    assert lm.vocabulary_ == ["<unk>", "<eod>", "b", "a"]
    p1 = np.array([0.09375, 0.21875, 0.46875, 0.21875])
    np.testing.assert_allclose(
        lm.next_token_probabilities(""), [0.046875, 0.109375, 0.484375, 0.359375]
    )
    after_b = 0.25 * p1 + [0, 0.75, 0, 0]
    np.testing.assert_allclose(lm.next_token_probabilities("ab"), after_b)
    # "ab" then its end: P(a | <eod>), P(b | a) = .5 + .5 p1(b), P(<eod> | b)
    bits = -np.log2([0.359375, 0.5 + 0.5 * 0.46875, 0.75 + 0.25 * 0.21875])
    assert lm.score(["ab"]) == pytest.approx(-bits.mean())
    assert lm.bits_per_char(["ab"]) == pytest.approx(bits.sum() / 3)
    assert lm.perplexity(["ab"]) == pytest.approx(2 ** bits.mean())


@pytest.mark.parametrize("level, order", [("char", 5), ("char", 1), ("word", 3)])
def test_probabilities_sum_to_one_for_seen_and_unseen_contexts(level, order):
    lm = NGramLanguageModel(order=order, level=level).fit(CORPUS)
    rng = np.random.default_rng(0)
    text = " ".join(CORPUS)
    contexts = ["", "the ", "the cat sa", "zzz qq", "xylophone ", "on the m"]
    contexts += [text[: rng.integers(len(text))] for _ in range(20)]
    contexts += ["".join(rng.choice(list("abcxyz .Q"), 12)) for _ in range(20)]
    for context in contexts:
        p = lm.next_token_probabilities(context)
        assert p.shape == (len(lm.vocabulary_),)
        assert (p > 0).all()
        assert p.sum() == pytest.approx(1.0, abs=1e-12), context


def test_the_stream_and_one_step_probabilities_agree():
    """Scoring a text token by token equals scoring it at once."""
    lm = NGramLanguageModel(order=4).fit(CORPUS)
    text = "the cat sat on a log!"
    index = {t: i for i, t in enumerate(lm.vocabulary_)}
    ids = [index.get(c, 0) for c in text] + [1]
    steps = [lm.next_token_probabilities(text[:k])[ids[k]] for k in range(len(ids))]
    assert lm.score([text]) == pytest.approx(np.mean(np.log2(steps)))


def test_more_context_predicts_held_out_text_better():
    train, test = CORPUS[:3], ["the cat sat on the log."]
    bits = [NGramLanguageModel(order=k).fit(train).bits_per_char(test) for k in (1, 3)]
    assert bits[1] < bits[0] - 1.0, bits


def test_sampling_is_greedy_at_zero_and_reproducible_with_a_seed():
    lm = NGramLanguageModel(order=6).fit(CORPUS)
    greedy = lm.sample(3, temperature=0)
    assert greedy[0] == greedy[1] == greedy[2]
    # greedy follows seen continuations: every 6 characters are the corpus's
    windows = {greedy[0][i : i + 6] for i in range(len(greedy[0]) - 5)}
    assert windows and all(any(w in doc for doc in CORPUS) for w in windows)
    a = lm.sample(4, temperature=1.0, random_state=3)
    assert a == lm.sample(4, temperature=1.0, random_state=3)
    assert len(set(lm.sample(20, temperature=2.0, random_state=0))) > 1
    cut = lm.sample(1, max_length=5, temperature=2.0, random_state=0)[0]
    assert len(cut) <= 5
    continued = lm.sample(2, seed_text="a dog", temperature=0.5, random_state=0)
    assert all(t.startswith("a dog") for t in continued)
    assert lm.sample(1, top_k=1, random_state=0) == greedy[:1]
    assert lm.sample(1, top_p=1e-9, random_state=0) == greedy[:1]


def test_sampling_never_generates_unknown_tokens():
    lm = NGramLanguageModel(order=2, level="word").fit(CORPUS)
    texts = lm.sample(30, temperature=5.0, random_state=0)
    assert not any("<unk>" in t for t in texts)


def test_every_corpus_form_gives_the_same_model(tmp_path):
    path = tmp_path / "corpus.txt"
    path.write_text(CORPUS[0], encoding="utf-8")
    reference = NGramLanguageModel(order=3).fit(CORPUS)
    forms = [
        np.array(CORPUS, dtype=object),
        pd.Series(CORPUS),
        tuple(CORPUS),
        tf.data.Dataset.from_tensor_slices(CORPUS),
        tf.data.Dataset.from_tensor_slices(CORPUS).batch(3),
    ]
    for form in forms:
        lm = NGramLanguageModel(order=3).fit(form)
        assert lm.vocabulary_ == reference.vocabulary_
        assert lm.score(CORPUS) == reference.score(CORPUS)
    one = NGramLanguageModel(order=3).fit(CORPUS[0]).score(CORPUS)
    for form in (path, str(path)):
        assert NGramLanguageModel(order=3).fit(form).score(CORPUS) == one


@pytest.mark.parametrize(
    "corpus, error, match",
    [
        (["fine", 3], TypeError, r"`X` must hold strings only.*int at position 1"),
        (["", ""], ValueError, r"`X` must hold some text.*2 document"),
        (12, TypeError, r"`X` must be a string.*Received: int"),
        (np.array([["a"]]), ValueError, r"1-D array.*shape \(1, 1\)"),
    ],
)
def test_bad_corpora_get_clear_errors(corpus, error, match):
    with pytest.raises(error, match=match):
        NGramLanguageModel().fit(corpus)


@pytest.mark.parametrize(
    "params, match",
    [
        ({"order": 0}, r"`order` must be an integer in \[1"),
        ({"level": "byte"}, r"`level`"),
        ({"discount": 1.0}, r"`discount` must be a number in \(0.0, 1.0\)"),
    ],
)
def test_bad_parameters_get_clear_errors(params, match):
    with pytest.raises((ValueError, TypeError), match=match):
        NGramLanguageModel(**params).fit(CORPUS)


def test_bad_sampling_arguments_get_clear_errors():
    lm = NGramLanguageModel(order=2).fit(CORPUS)
    with pytest.raises(ValueError, match=r"`temperature` must be"):
        lm.sample(temperature=-1)
    with pytest.raises(ValueError, match=r"`top_p` must be"):
        lm.sample(top_p=0)


def test_fortunes_kneser_ney_beats_lower_orders():
    from applied_ml.datasets import load_fortunes
    from applied_ml.datasets._text import FORTUNES

    need("fortunes (apt-get install fortunes)", os.path.isdir(FORTUNES))
    records = load_fortunes()
    assert len(records) > 10_000 and all(r.strip() for r in records)
    assert not any("\n%\n" in r for r in records[:1000])
    train, test = records[:3000], records[3000:3300]
    bits = [
        NGramLanguageModel(order=k).fit(train).bits_per_char(test) for k in (1, 3, 5)
    ]
    assert bits[0] > bits[1] + 0.8 and bits[1] > bits[2] + 0.3, bits
