"""The ``applied-ml`` command on an exported SavedModel."""

import pandas as pd
import pytest

from applied_ml import TabularClassifier
from applied_ml.cli import main
from tests.conftest import FAST


@pytest.fixture(scope="module")
def exported(penguins, tmp_path_factory):
    X, y = penguins
    clf = TabularClassifier(**FAST).fit(X, y)
    return clf, clf.export(tmp_path_factory.mktemp("cli") / "penguins"), X


def test_info_lists_inputs_and_outputs(exported, capsys):
    _, path, _ = exported
    assert main(["info", path]) == 0
    out = capsys.readouterr().out
    assert "island: string [None]" in out
    assert "bill_length_mm: float32 [None]" in out
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


def test_predict_with_a_missing_column(exported, tmp_path):
    _, path, X = exported
    X.drop(columns="island").to_csv(tmp_path / "rows.csv", index=False)
    with pytest.raises(SystemExit, match="lacks input column\\(s\\) \\['island'\\]"):
        main(["predict", path, "--csv", str(tmp_path / "rows.csv")])


def test_predict_with_text_in_a_numeric_column(exported, tmp_path):
    _, path, X = exported
    X.iloc[:2].assign(year=["2007", "soon"]).to_csv(tmp_path / "rows.csv", index=False)
    with pytest.raises(
        SystemExit, match="column 'year' must hold numbers; found 'soon'"
    ):
        main(["predict", path, "--csv", str(tmp_path / "rows.csv")])
