"""``applied-ml``: inspect an exported SavedModel, predict from a CSV file,
and launch a multi-worker job on this machine.

``info`` and ``predict`` work on any SavedModel written by ``export()``: only
TensorFlow and pandas are used, never the estimator.
"""

import argparse
import decimal
import json
import os
import sys

import numpy as np
import pandas as pd

# Written by ``applied_ml.export.write_input_columns`` (TensorFlow Serving
# ignores ``assets.extra``); not imported from there, which would load Keras.
_COLUMNS_FILE = os.path.join("assets.extra", "applied_ml.json")


class _CommandError(Exception):
    """A user error, shown as one line on stderr without a traceback."""


def _signature(path: str):
    import tensorflow as tf

    if not os.path.isfile(os.path.join(path, "saved_model.pb")):
        raise _CommandError(
            "`path` must be a SavedModel version folder written by export() "
            f"(holding saved_model.pb). Received: path={path!r}"
        )
    try:
        signatures = tf.saved_model.load(path).signatures
    except (OSError, ValueError, tf.errors.OpError) as err:
        raise _CommandError(f"Cannot load the SavedModel at {path!r}: {err}") from err
    if "serving_default" not in signatures:
        raise _CommandError(
            f"The SavedModel at {path!r} has no 'serving_default' signature; it "
            f"has {sorted(signatures)}."
        )
    return signatures["serving_default"]


def _original_columns(path: str) -> dict[str, str]:
    """Input name -> original column name, as recorded by ``export()``."""
    file = os.path.join(path, _COLUMNS_FILE)
    if not os.path.isfile(file):
        return {}
    try:
        with open(file, encoding="utf-8") as f:
            inputs = json.load(f)["inputs"]
    except (OSError, ValueError, KeyError, TypeError) as err:
        raise _CommandError(f"Cannot read {file!r}: {err!r}") from err
    return {str(k): str(v) for k, v in inputs.items()}


def _info(args) -> int:
    serve = _signature(args.path)
    originals = _original_columns(args.path)
    print("inputs:")
    for name, spec in sorted(serve.structured_input_signature[1].items()):
        column = originals.get(name, name)
        note = "" if column == name else f" (column {column!r})"
        print(f"  {name}: {spec.dtype.name} {spec.shape.as_list()}{note}")
    print("outputs:")
    for name, spec in sorted(serve.structured_outputs.items()):
        print(f"  {name}: {spec.dtype.name} {spec.shape.as_list()}")
    return 0


def _resolve_columns(
    inputs, originals: dict[str, str], columns
) -> dict[str, list[str]]:
    """The CSV column(s) present for each input: its original and input name.

    A column that is one input's original name and another input's input name
    (columns "a b" and "a_b" are sanitized to the inputs a_b and a_b_1) counts
    for an input only when that input has no other column in the CSV.
    """
    columns = set(columns)
    original_of = {originals.get(n, n): n for n in inputs}
    ambiguous = {c for c in columns if c in inputs and original_of.get(c, c) != c}
    found = {}
    for name in inputs:
        present = [c for c in _names(name, originals) if c in columns]
        if len(present) == 2 and any(c in ambiguous for c in present):
            present = [c for c in present if c not in ambiguous]
        found[name] = present
    return found


def _names(name: str, originals: dict[str, str]) -> list[str]:
    """An input's original column name, then its input name when different."""
    return list(dict.fromkeys([originals.get(name, name), name]))


def _frame_columns(specs: dict, originals: dict, frame: pd.DataFrame) -> dict:
    """One text column per input, found by its original or its input name."""
    found = _resolve_columns(specs, originals, frame.columns)
    missing = [
        " or ".join(repr(c) for c in _names(n, originals))
        for n in sorted(specs)
        if not found[n]
    ]
    if missing:
        raise _CommandError(
            f"`--csv` lacks input column(s) [{', '.join(missing)}]; the model "
            f"takes {sorted(specs)}. Received columns: {list(frame.columns)}"
        )
    used: dict[str, str] = {}
    texts = {}
    for name in sorted(specs):
        first, *others = found[name]
        for other in others:
            if not frame[first].equals(frame[other]):
                raise _CommandError(
                    f"`--csv` has both the columns {first!r} and {other!r} for the "
                    f"input {name!r}, with different values; keep one of them."
                )
        if first in used:
            raise _CommandError(
                f"`--csv` column {first!r} would feed both the inputs "
                f"{used[first]!r} and {name!r}; name every column by its input "
                f"name {sorted(specs)} or by its original name."
            )
        used[first] = name
        texts[name] = frame[first]
    return texts


def _parse_integers(column: str, texts: pd.Series, dtype: np.dtype) -> np.ndarray:
    info = np.iinfo(dtype)
    values = []
    for row, text in enumerate(texts.tolist()):
        try:
            number = decimal.Decimal(text)
        except decimal.InvalidOperation:
            number = None
        if (
            number is None
            or not number.is_finite()
            or not info.min <= number <= info.max
            or number != number.to_integral_value()
        ):
            what = "a missing value" if not text.strip() else repr(text)
            raise _CommandError(
                f"`--csv` column {column!r} must hold integers in [{info.min}, "
                f"{info.max}] ({dtype.name}). Received: {what} in data row {row + 1}."
            )
        values.append(int(number))
    return np.array(values, dtype=dtype)


def _parse_floats(column: str, texts: pd.Series, dtype: np.dtype) -> np.ndarray:
    stripped = texts.str.strip().to_numpy(dtype=str)
    present = stripped != ""
    values = np.full(len(stripped), np.nan, dtype=dtype)
    try:
        # straight from the text to ``dtype``: float64 keeps every digit
        values[present] = stripped[present].astype(dtype)
    except ValueError:
        row = next(i for i in np.flatnonzero(present) if not _parses(stripped[i]))
        raise _CommandError(
            f"`--csv` column {column!r} must hold numbers ({dtype.name}). "
            f"Received: {texts.iloc[row]!r} in data row {row + 1}."
        ) from None
    return values


def _parses(text: str) -> bool:
    try:
        np.array([text]).astype(np.float64)
    except ValueError:
        return False
    return True


def _feed(specs: dict, texts: dict) -> dict:
    """Each input's text column parsed as the dtype its signature declares."""
    import tensorflow as tf

    feed = {}
    for name, spec in specs.items():
        column = texts[name].name
        dtype = spec.dtype
        if dtype == tf.string:
            values = texts[name].to_numpy(dtype=object)
        elif dtype.is_integer:
            values = _parse_integers(
                column, texts[name], np.dtype(dtype.as_numpy_dtype)
            )
        elif dtype.is_floating:
            values = _parse_floats(column, texts[name], np.dtype(dtype.as_numpy_dtype))
        else:
            raise _CommandError(
                f"The input {name!r} takes {dtype.name} values, which the CSV "
                "reader does not handle (it reads strings, integers and floats)."
            )
        feed[name] = tf.constant(values, dtype=dtype)
    return feed


def _one_column_inputs(specs: dict) -> dict:
    for name, spec in sorted(specs.items()):
        if spec.shape.rank != 1:
            raise _CommandError(
                f"The input {name!r} takes tensors of shape {spec.shape.as_list()}; "
                "a CSV column can only feed 1-D inputs."
            )
    return specs


def _read_csv(file: str) -> pd.DataFrame:
    """Every cell as the text written in the file (no type guessing, no NaN)."""
    try:
        frame = pd.read_csv(file, dtype=str, keep_default_na=False, na_filter=False)
    except pd.errors.EmptyDataError:
        raise _CommandError(
            f"`--csv` must be a CSV file with a header row and data rows. "
            f"Received an empty file: {file!r}"
        ) from None
    except (OSError, pd.errors.ParserError, UnicodeDecodeError) as err:
        raise _CommandError(f"Cannot read `--csv` {file!r}: {err}") from err
    if frame.empty:
        raise _CommandError(
            f"`--csv` must hold at least one data row. Received only a header: {file!r}"
        )
    return frame


def _predict(args) -> int:
    import tensorflow as tf

    serve = _signature(args.path)
    frame = _read_csv(args.csv)
    specs = _one_column_inputs(serve.structured_input_signature[1])
    texts = _frame_columns(specs, _original_columns(args.path), frame)
    try:
        outputs = {k: v.numpy() for k, v in serve(**_feed(specs, texts)).items()}
    except tf.errors.OpError as err:
        raise _CommandError(
            f"The SavedModel failed on these rows: {err.message}"
        ) from err
    table = {}
    for name, values in sorted(outputs.items()):
        if values.dtype == object:
            values = np.array([v.decode() for v in values.ravel()]).reshape(
                values.shape
            )
        if values.ndim == 2:
            for j in range(values.shape[1]):
                table[f"{name}_{j}"] = values[:, j]
        else:
            table[name] = values
    pd.DataFrame(table).to_csv(args.output or sys.stdout, index=False)
    return 0


def _launch(args) -> int:
    from applied_ml.launch import launch, launch_search

    try:
        if args.tuners is not None:
            return launch_search(
                args.script, args.tuners, args.script_args, timeout=args.timeout
            )
        workers = 2 if args.workers is None else args.workers
        return launch(args.script, workers, args.script_args, timeout=args.timeout)
    except (ValueError, FileNotFoundError) as err:
        raise _CommandError(str(err)) from None


def main(argv=None) -> int:
    """Run the ``applied-ml`` command.

    Parameters
    ----------
    argv : list of str, optional
        Arguments (defaults to ``sys.argv[1:]``).

    Returns
    -------
    int
        Exit status.
    """
    parser = argparse.ArgumentParser(
        prog="applied-ml", description="Use SavedModels exported by applied_ml."
    )
    commands = parser.add_subparsers(dest="command", required=True)
    info = commands.add_parser("info", help="show a SavedModel's inputs and outputs")
    info.add_argument("path", help="a version folder written by export()")
    info.set_defaults(run=_info)
    predict = commands.add_parser("predict", help="predict the rows of a CSV file")
    predict.add_argument("path", help="a version folder written by export()")
    predict.add_argument(
        "--csv",
        required=True,
        help="CSV with one column per input, named by input or original column name",
    )
    predict.add_argument("--output", help="CSV file to write (default: stdout)")
    predict.set_defaults(run=_predict)
    launch = commands.add_parser(
        "launch",
        help="run a script as a multi-worker job or distributed search here",
        description="Start N worker processes of SCRIPT on loopback ports, each "
        "with its own TF_CONFIG, as a cluster platform would; or, with --tuners, "
        "a keras-tuner chief and N tuner workers. The job stops when a process "
        "fails. Exit status: 0 when all succeed, the first failing process's "
        "status otherwise, 124 on --timeout.",
    )
    count = launch.add_mutually_exclusive_group()
    count.add_argument("--workers", type=int, help="worker processes (default 2)")
    count.add_argument("--tuners", type=int, help="tuner workers besides the chief")
    launch.add_argument("--timeout", type=float, help="stop the job after SECONDS")
    launch.add_argument("script", help="the Python script every worker runs")
    launch.add_argument(
        "script_args", nargs=argparse.REMAINDER, help="arguments for the script"
    )
    launch.set_defaults(run=_launch)
    args = parser.parse_args(argv)
    try:
        return args.run(args)
    except _CommandError as err:
        message = " ".join(str(err).split())  # one line, whatever TF said
        parser.exit(1, f"{parser.prog}: error: {message}\n")


if __name__ == "__main__":
    sys.exit(main())
