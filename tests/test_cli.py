"""The ``applied-ml`` command on an exported SavedModel."""

import json
import os
import re
import shutil

import numpy as np
import pandas as pd
import pytest
import tensorflow as tf

from applied_ml import TabularClassifier
from applied_ml.cli import main
from applied_ml.cli._errors import CommandError
from applied_ml.cli._savedmodel import (
    feed,
    frame_columns,
    one_column_inputs,
    resolve_columns,
)
from tests.conftest import FAST


@pytest.fixture(scope="session")
def exported(penguins, tmp_path_factory):
    X, y = penguins
    clf = TabularClassifier(**FAST).fit(X, y)
    return clf, clf.export(tmp_path_factory.mktemp("cli") / "penguins"), X


def test_info_lists_inputs_and_outputs(exported, capsys):
    _, path, _ = exported
    assert main(["info", path]) == 0
    out = capsys.readouterr().out
    assert "island: string [None]" in out
    assert "bill_length_mm: float64 [None]" in out
    assert "probabilities: float32 [None, 3]" in out


def test_predict_from_csv_matches_the_estimator(exported, tmp_path):
    clf, path, X = exported
    rows = X.iloc[:5]
    rows.to_csv(tmp_path / "rows.csv", index=False)
    assert (
        main(
            [
                "predict",
                path,
                "--csv",
                str(tmp_path / "rows.csv"),
                "--output",
                str(tmp_path / "out.csv"),
            ]
        )
        == 0
    )
    out = pd.read_csv(tmp_path / "out.csv")
    assert out["labels"].tolist() == clf.predict(rows).tolist()
    assert list(out.columns) == [
        "labels",
        "probabilities_0",
        "probabilities_1",
        "probabilities_2",
    ]


def _error(capsys, argv) -> str:
    """The one-line stderr message of a failing command (no traceback)."""
    assert main(argv) == 1  # an input error
    err = capsys.readouterr().err
    assert "Traceback" not in err
    assert err.startswith("applied-ml: error: ")
    assert err.count("\n") == 1
    return err


def test_predict_with_a_missing_column(exported, tmp_path, capsys):
    _, path, X = exported
    X.drop(columns="island").to_csv(tmp_path / "rows.csv", index=False)
    err = _error(capsys, ["predict", path, "--csv", str(tmp_path / "rows.csv")])
    assert "lacks input column(s) ['island']" in err


def test_predict_with_text_in_a_numeric_column(exported, tmp_path, capsys):
    _, path, X = exported
    X.iloc[:2].assign(year=["2007", "soon"]).to_csv(tmp_path / "rows.csv", index=False)
    err = _error(capsys, ["predict", path, "--csv", str(tmp_path / "rows.csv")])
    assert "column 'year' must hold numbers (float64). Received: 'soon'" in err


@pytest.fixture(scope="session")
def coded(tmp_path_factory):
    """Codes that look like numbers ('007') and a column name with spaces."""
    rng = np.random.default_rng(0)
    codes = np.array(["007", "070", "700"])
    index = rng.integers(0, 3, 90)
    X = pd.DataFrame({"code": codes[index], "size (cm)": rng.normal(size=90).round(3)})
    y = np.array(["small", "medium", "large"])[index]
    clf = TabularClassifier(**FAST).fit(X, y)
    return clf, clf.export(tmp_path_factory.mktemp("cli") / "coded"), X


def _predict_csv(path, frame, tmp_path) -> pd.DataFrame:
    frame.to_csv(tmp_path / "rows.csv", index=False)
    out = tmp_path / "out.csv"
    assert (
        main(
            ["predict", path, "--csv", str(tmp_path / "rows.csv"), "--output", str(out)]
        )
        == 0
    )
    return pd.read_csv(out, keep_default_na=False)


def test_predict_reads_codes_as_written_not_as_numbers(coded, tmp_path):
    clf, path, X = coded
    rows = X.iloc[:12]
    out = _predict_csv(path, rows, tmp_path)
    assert out["labels"].tolist() == clf.predict(rows).tolist()
    assert len(set(out["labels"])) == 3  # "007" is not out of vocabulary


def test_export_records_the_original_column_names(coded):
    clf, path, _ = coded
    with open(os.path.join(path, "assets.extra", "applied_ml.json")) as f:
        recorded = json.load(f)
    assert recorded == {"inputs": {c["input"]: c["column"] for c in clf.input_columns_}}
    assert recorded["inputs"]["size__cm_"] == "size (cm)"


def test_info_shows_the_original_column_name(coded, capsys):
    _, path, _ = coded
    assert main(["info", path]) == 0
    out = capsys.readouterr().out
    assert "  size__cm_: float64 [None] (column 'size (cm)')" in out
    assert "  code: string [None]\n" in out


def test_predict_takes_input_names_or_original_names(coded, tmp_path, capsys):
    clf, path, X = coded
    rows = X.iloc[:8]
    expected = clf.predict(rows).tolist()
    by_input = rows.rename(columns={"size (cm)": "size__cm_"})
    assert _predict_csv(path, by_input, tmp_path)["labels"].tolist() == expected
    both = rows.assign(size__cm_=rows["size (cm)"])
    assert _predict_csv(path, both, tmp_path)["labels"].tolist() == expected
    both.assign(size__cm_=0.5).to_csv(tmp_path / "rows.csv", index=False)
    err = _error(capsys, ["predict", path, "--csv", str(tmp_path / "rows.csv")])
    assert (
        "both the columns 'size (cm)' and 'size__cm_' for the input 'size__cm_'" in err
    )
    rows.drop(columns="size (cm)").to_csv(tmp_path / "rows.csv", index=False)
    err = _error(capsys, ["predict", path, "--csv", str(tmp_path / "rows.csv")])
    assert "lacks input column(s) ['size (cm)' or 'size__cm_']" in err


def test_a_column_name_that_is_another_input_name_is_resolved():
    # columns "a b" and "a_b" are the inputs a_b and a_b_1
    originals = {"a_b": "a b", "a_b_1": "a_b"}
    by_original = resolve_columns(originals, originals, ["a b", "a_b"])
    assert by_original == {"a_b": ["a b"], "a_b_1": ["a_b"]}
    by_input = resolve_columns(originals, originals, ["a_b", "a_b_1"])
    assert by_input == {"a_b": ["a_b"], "a_b_1": ["a_b_1"]}


def test_numbers_are_read_exactly_as_the_signature_declares():
    specs = {
        "i64": tf.TensorSpec([None], tf.int64),
        "f64": tf.TensorSpec([None], tf.float64),
        "f32": tf.TensorSpec([None], tf.float32),
        "u8": tf.TensorSpec([None], tf.uint8),
        "s": tf.TensorSpec([None], tf.string),
    }
    texts = {
        "i64": ["9007199254740993", "-3", "4.0"],
        "f64": ["0.1", "", "1e-300"],
        "f32": ["0.1", " 2 ", ""],
        "u8": ["255", "0", "7"],
        "s": ["007", "", " NA "],
    }
    fed = feed(specs, {k: pd.Series(v, name=k) for k, v in texts.items()})
    assert fed["i64"].dtype == tf.int64
    assert fed["i64"].numpy().tolist() == [9007199254740993, -3, 4]
    np.testing.assert_array_equal(fed["f64"].numpy(), [0.1, np.nan, 1e-300])
    np.testing.assert_array_equal(
        fed["f32"].numpy(), np.array([0.1, 2, np.nan], np.float32)
    )
    assert fed["u8"].numpy().tolist() == [255, 0, 7]
    assert fed["s"].numpy().tolist() == [b"007", b"", b" NA "]


@pytest.mark.parametrize(
    ("dtype", "text", "match"),
    [
        (tf.int64, "2.5", "column 'n' must hold integers in .*int64.*Received: '2.5'"),
        (tf.int64, "", "column 'n' must hold integers .*Received: a missing value"),
        (tf.int32, "nan", "column 'n' must hold integers .*Received: 'nan'"),
        (tf.uint8, "256", "column 'n' must hold integers in \\[0, 255\\]"),
        (
            tf.float64,
            "1,5",
            "column 'n' must hold numbers \\(float64\\). Received: '1,5'",
        ),
        (tf.bool, "true", "The input 'n' takes bool values"),
    ],
)
def test_bad_numbers_are_named_errors(dtype, text, match):
    with pytest.raises(CommandError, match=match):
        feed(
            {"n": tf.TensorSpec([None], dtype)}, {"n": pd.Series(["1", text], name="n")}
        )


@pytest.fixture(scope="session")
def wide_types(tmp_path_factory):
    """A SavedModel whose signature takes int64 and float64 columns."""

    class Echo(tf.Module):
        @tf.function(
            input_signature=[
                tf.TensorSpec([None], tf.int64, name="count"),
                tf.TensorSpec([None], tf.float64, name="value"),
            ]
        )
        def serve(self, count, value):
            return {"count": count + 0, "value": value * 1}

    path = str(tmp_path_factory.mktemp("cli") / "echo")
    module = Echo()
    tf.saved_model.save(module, path, signatures={"serving_default": module.serve})
    return path


def test_predict_keeps_int64_and_float64_exact(wide_types, tmp_path):
    rows = pd.DataFrame(
        {"count": [9007199254740993, -1], "value": [0.1, 123456789.123456789]}
    )
    out = _predict_csv(wide_types, rows, tmp_path)
    assert out["count"].tolist() == [9007199254740993, -1]
    assert out["value"].tolist() == [0.1, 123456789.123456789]


@pytest.mark.parametrize(
    ("content", "match"),
    [
        ("", "`--data` must be a CSV file with a header row and data rows"),
        ("count,value\n", "`--data` must hold at least one data row"),
        ("count\n1\n", "lacks input column\\(s\\) \\['value'\\]"),
        ("count,value\n1,2\n1,2,3,4\n", "Cannot read `--data` .*Expected 2 fields"),
        (b"count,value\n\xff,1\n", "Cannot read `--data` .*codec can't decode"),
    ],
)
def test_bad_csv_files_are_one_line_errors(
    wide_types, tmp_path, capsys, content, match
):
    if isinstance(content, bytes):
        (tmp_path / "rows.csv").write_bytes(content)
    else:
        (tmp_path / "rows.csv").write_text(content)
    err = _error(capsys, ["predict", wide_types, "--csv", str(tmp_path / "rows.csv")])
    assert re.search(match, err)


def test_wrong_paths_are_one_line_errors(wide_types, tmp_path, capsys):
    (tmp_path / "rows.csv").write_text("count,value\n1,2\n")
    err = _error(
        capsys,
        ["predict", str(tmp_path / "nowhere"), "--csv", str(tmp_path / "rows.csv")],
    )
    assert "`model` must be a .keras file written by save()" in err
    assert "which does not exist" in err
    err = _error(capsys, ["info", str(tmp_path)])
    assert "`path` must be a SavedModel version folder" in err
    err = _error(capsys, ["predict", wide_types, "--csv", str(tmp_path / "none.csv")])
    assert "Cannot read `--data`" in err


def test_a_column_claimed_by_two_inputs_is_an_error():
    originals = {"a_b": "a b", "a_b_1": "a_b"}
    frame = pd.DataFrame({"a_b": ["1"]})
    with pytest.raises(
        CommandError, match="column 'a_b' would feed both the inputs 'a_b' and 'a_b_1'"
    ):
        frame_columns(originals, originals, frame)


def test_inputs_a_csv_cannot_feed_are_named():
    specs = {"images": tf.TensorSpec([None, None, None, 1], tf.uint8)}
    with pytest.raises(
        CommandError,
        match="The input 'images' takes tensors of shape \\[None, None, None, 1\\]; "
        "a CSV column can only feed 1-D inputs",
    ):
        one_column_inputs(specs)


@pytest.fixture(scope="session")
def strict(tmp_path_factory):
    """SavedModels that fail on negative inputs, and with no serving_default."""

    class Strict(tf.Module):
        @tf.function(input_signature=[tf.TensorSpec([None], tf.float32, name="x")])
        def serve(self, x):
            with tf.control_dependencies([tf.debugging.assert_non_negative(x)]):
                return {"root": tf.sqrt(x)}

    root = tmp_path_factory.mktemp("cli")
    module = Strict()
    tf.saved_model.save(module, str(root / "strict"), {"serving_default": module.serve})
    tf.saved_model.save(module, str(root / "other"), {"other": module.serve})
    return str(root / "strict"), str(root / "other")


def test_serving_and_loading_failures_are_one_line_errors(strict, tmp_path, capsys):
    good, no_default = strict
    (tmp_path / "rows.csv").write_text("x\n4\n-1\n")
    err = _error(capsys, ["predict", good, "--csv", str(tmp_path / "rows.csv")])
    assert "The SavedModel failed on these inputs:" in err
    err = _error(capsys, ["info", no_default])
    assert "has no 'serving_default' signature; it has ['other']" in err
    (tmp_path / "broken").mkdir()
    (tmp_path / "broken" / "saved_model.pb").write_bytes(b"garbage")
    err = _error(capsys, ["info", str(tmp_path / "broken")])
    assert "Cannot load the SavedModel at" in err


def test_an_unreadable_column_file_is_an_error(strict, tmp_path, capsys):
    good, _ = strict
    copy = shutil.copytree(good, tmp_path / "model")
    (copy / "assets.extra").mkdir()
    (copy / "assets.extra" / "applied_ml.json").write_text("{not json")
    err = _error(capsys, ["info", str(copy)])
    assert "Cannot read '" in err and "applied_ml.json" in err
