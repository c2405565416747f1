"""Files and folders to the in-memory data the estimators take."""

import os
import re

import pandas as pd

from applied_ml.cli._errors import CommandError
from applied_ml.cli._params import did_you_mean

TABLE_SUFFIXES = (".csv", ".parquet", ".pq")
TEXT_UNITS = ("line", "paragraph", "file")


def existing(path: str, what: str) -> str:
    if not os.path.exists(path):
        raise CommandError(
            f"`--data` must be {what}. Received: {path!r}, which does not exist."
        )
    return path


def read_table(path: str) -> pd.DataFrame:
    """A CSV or Parquet file as a DataFrame (pandas' usual types and NaNs)."""
    existing(path, "a CSV or Parquet file")
    suffix = os.path.splitext(path)[1].lower()
    if suffix not in TABLE_SUFFIXES:
        raise CommandError(
            f"`--data` must be a table file ending in {', '.join(TABLE_SUFFIXES)}. "
            f"Received: {path!r}"
        )
    try:
        if suffix == ".csv":
            frame = pd.read_csv(path)
        else:
            frame = pd.read_parquet(path)
    except (OSError, ValueError, ImportError) as err:
        raise CommandError(f"Cannot read the table {path!r}: {err}") from err
    if frame.empty:
        raise CommandError(f"`--data` must hold data rows. Received: {path!r}")
    return frame


def column(frame: pd.DataFrame, name: str | None, option: str, path: str) -> str:
    """The column ``name`` of ``frame``, or an error naming the choices."""
    if name is None:
        raise CommandError(
            f"`{option}` must name the column to use in {path!r}; its columns are "
            f"{list(frame.columns)}. Received: none"
        )
    if name not in frame.columns:
        raise CommandError(
            f"`{option}` must be a column of {path!r}."
            f"{did_you_mean(name, frame.columns)} Columns: {list(frame.columns)}. "
            f"Received: {name!r}"
        )
    return name


def split_target(frame: pd.DataFrame, target: str | None, path: str):
    """(features, target values): the target column taken out."""
    name = column(frame, target, "--target", path)
    return frame.drop(columns=[name]), frame[name].to_numpy()


def read_texts(path: str, unit: str) -> list[str]:
    """Texts from a text file or a folder of ``.txt`` files, one per ``unit``."""
    if unit not in TEXT_UNITS:
        raise CommandError(
            f"`unit` must be one of {list(TEXT_UNITS)}. Received: unit={unit!r}"
        )
    existing(path, "a text file or a folder of .txt files")
    if os.path.isdir(path):
        files = sorted(
            os.path.join(root, name)
            for root, _, names in os.walk(path)
            for name in names
            if name.endswith(".txt")
        )
        if not files:
            raise CommandError(
                f"`--data` must hold .txt files. Received: {path!r}, with none."
            )
    else:
        files = [path]
    texts = []
    for file in files:
        try:
            with open(file, encoding="utf-8") as f:
                content = f.read()
        except (OSError, UnicodeDecodeError) as err:
            raise CommandError(f"Cannot read the text file {file!r}: {err}") from err
        if unit == "file":
            parts = [content]
        elif unit == "paragraph":
            parts = re.split(r"\n\s*\n", content)
        else:
            parts = content.splitlines()
        texts += [p.strip() for p in parts if p.strip()]
    if not texts:
        raise CommandError(f"`--data` holds no text. Received: {path!r}")
    return texts


def _text_cells(path: str, frame: pd.DataFrame, name: str) -> list[str]:
    """A table's text column as written: "007" stays "007", "NA" stays "NA"."""
    if path.lower().endswith(".csv"):
        cells = pd.read_csv(path, usecols=[name], dtype=str, keep_default_na=False)
        values = cells[name].tolist()
    else:
        values = frame[name].tolist()
    for row, value in enumerate(values):
        if not isinstance(value, str) or not value.strip():
            raise CommandError(
                f"`--text-column` {name!r} must hold text in every row. Received: "
                f"{value!r} in data row {row + 1} of {path!r}"
            )
    return values


def labelled_texts(path: str, text: str, target: str | None, *, required: bool):
    """Texts and labels from a CSV/Parquet table, or texts from text files."""
    if os.path.splitext(path)[1].lower() in TABLE_SUFFIXES:
        frame = read_table(path)
        texts = _text_cells(path, frame, column(frame, text, "--text-column", path))
        if target is None and not required:
            return texts, None
        return texts, frame[column(frame, target, "--target", path)].to_numpy()
    if required:
        raise CommandError(
            f"`--data` must be a CSV or Parquet table with a text and a label "
            f"column. Received: {path!r}"
        )
    return read_texts(path, "line"), None
