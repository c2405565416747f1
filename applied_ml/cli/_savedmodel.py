"""A SavedModel written by ``export()``: its inputs, and predictions from a CSV.

Only TensorFlow and pandas are used, never the estimator, as a serving
machine would.
"""

import decimal
import json
import os
import sys

import numpy as np
import pandas as pd

from applied_ml.cli._errors import CommandError

# Written by ``applied_ml.export.write_input_columns`` (TensorFlow Serving
# ignores ``assets.extra``); not imported from there, which would load Keras.
_COLUMNS_FILE = os.path.join("assets.extra", "applied_ml.json")


def signature(path: str):
    import tensorflow as tf

    if not os.path.isfile(os.path.join(path, "saved_model.pb")):
        raise CommandError(
            "`path` must be a SavedModel version folder written by export() "
            f"(holding saved_model.pb). Received: path={path!r}"
        )
    try:
        signatures = tf.saved_model.load(path).signatures
    except (OSError, ValueError, tf.errors.OpError) as err:
        raise CommandError(f"Cannot load the SavedModel at {path!r}: {err}") from err
    if "serving_default" not in signatures:
        raise CommandError(
            f"The SavedModel at {path!r} has no 'serving_default' signature; it "
            f"has {sorted(signatures)}."
        )
    return signatures["serving_default"]


def original_columns(path: str) -> dict[str, str]:
    """Input name -> original column name, as recorded by ``export()``."""
    file = os.path.join(path, _COLUMNS_FILE)
    if not os.path.isfile(file):
        return {}
    try:
        with open(file, encoding="utf-8") as f:
            inputs = json.load(f)["inputs"]
    except (OSError, ValueError, KeyError, TypeError) as err:
        raise CommandError(f"Cannot read {file!r}: {err!r}") from err
    return {str(k): str(v) for k, v in inputs.items()}


def info(path: str) -> int:
    """Print a SavedModel's serving inputs and outputs."""
    serve = signature(path)
    originals = original_columns(path)
    print("inputs:")
    for name, spec in sorted(serve.structured_input_signature[1].items()):
        column = originals.get(name, name)
        note = "" if column == name else f" (column {column!r})"
        print(f"  {name}: {spec.dtype.name} {spec.shape.as_list()}{note}")
    print("outputs:")
    for name, spec in sorted(serve.structured_outputs.items()):
        print(f"  {name}: {spec.dtype.name} {spec.shape.as_list()}")
    return 0


def resolve_columns(inputs, originals: dict[str, str], columns) -> dict[str, list[str]]:
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
        present = [c for c in names(name, originals) if c in columns]
        if len(present) == 2 and any(c in ambiguous for c in present):
            present = [c for c in present if c not in ambiguous]
        found[name] = present
    return found


def names(name: str, originals: dict[str, str]) -> list[str]:
    """An input's original column name, then its input name when different."""
    return list(dict.fromkeys([originals.get(name, name), name]))


def frame_columns(specs: dict, originals: dict, frame: pd.DataFrame) -> dict:
    """One text column per input, found by its original or its input name."""
    found = resolve_columns(specs, originals, frame.columns)
    missing = [
        " or ".join(repr(c) for c in names(n, originals))
        for n in sorted(specs)
        if not found[n]
    ]
    if missing:
        raise CommandError(
            f"`--data` lacks input column(s) [{', '.join(missing)}]; the model "
            f"takes {sorted(specs)}. Received columns: {list(frame.columns)}"
        )
    used: dict[str, str] = {}
    texts = {}
    for name in sorted(specs):
        first, *others = found[name]
        for other in others:
            if not frame[first].equals(frame[other]):
                raise CommandError(
                    f"`--data` has both the columns {first!r} and {other!r} for the "
                    f"input {name!r}, with different values; keep one of them."
                )
        if first in used:
            raise CommandError(
                f"`--data` column {first!r} would feed both the inputs "
                f"{used[first]!r} and {name!r}; name every column by its input "
                f"name {sorted(specs)} or by its original name."
            )
        used[first] = name
        texts[name] = frame[first]
    return texts


def parse_integers(column: str, texts: pd.Series, dtype: np.dtype) -> np.ndarray:
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
            raise CommandError(
                f"`--data` column {column!r} must hold integers in [{info.min}, "
                f"{info.max}] ({dtype.name}). Received: {what} in data row {row + 1}."
            )
        values.append(int(number))
    return np.array(values, dtype=dtype)


def parse_floats(column: str, texts: pd.Series, dtype: np.dtype) -> np.ndarray:
    stripped = texts.str.strip().to_numpy(dtype=str)
    present = stripped != ""
    values = np.full(len(stripped), np.nan, dtype=dtype)
    try:
        # straight from the text to ``dtype``: float64 keeps every digit
        values[present] = stripped[present].astype(dtype)
    except ValueError:
        row = next(i for i in np.flatnonzero(present) if not parses(stripped[i]))
        raise CommandError(
            f"`--data` column {column!r} must hold numbers ({dtype.name}). "
            f"Received: {texts.iloc[row]!r} in data row {row + 1}."
        ) from None
    return values


def parses(text: str) -> bool:
    try:
        np.array([text]).astype(np.float64)
    except ValueError:
        return False
    return True


def feed(specs: dict, texts: dict) -> dict:
    """Each input's text column parsed as the dtype its signature declares."""
    import tensorflow as tf

    feed = {}
    for name, spec in specs.items():
        column = texts[name].name
        dtype = spec.dtype
        if dtype == tf.string:
            values = texts[name].to_numpy(dtype=object)
        elif dtype.is_integer:
            values = parse_integers(column, texts[name], np.dtype(dtype.as_numpy_dtype))
        elif dtype.is_floating:
            values = parse_floats(column, texts[name], np.dtype(dtype.as_numpy_dtype))
        else:
            raise CommandError(
                f"The input {name!r} takes {dtype.name} values, which the CSV "
                "reader does not handle (it reads strings, integers and floats)."
            )
        feed[name] = tf.constant(values, dtype=dtype)
    return feed


def one_column_inputs(specs: dict) -> dict:
    for name, spec in sorted(specs.items()):
        if spec.shape.rank != 1:
            raise CommandError(
                f"The input {name!r} takes tensors of shape {spec.shape.as_list()}; "
                "a CSV column can only feed 1-D inputs."
            )
    return specs


def read_csv(file: str) -> pd.DataFrame:
    """Every cell as the text written in the file (no type guessing, no NaN)."""
    try:
        frame = pd.read_csv(file, dtype=str, keep_default_na=False, na_filter=False)
    except pd.errors.EmptyDataError:
        raise CommandError(
            f"`--data` must be a CSV file with a header row and data rows. "
            f"Received an empty file: {file!r}"
        ) from None
    except (OSError, pd.errors.ParserError, UnicodeDecodeError) as err:
        raise CommandError(f"Cannot read `--data` {file!r}: {err}") from err
    if frame.empty:
        raise CommandError(
            f"`--data` must hold at least one data row. Received only a header: "
            f"{file!r}"
        )
    return frame


def _call(serve, inputs: dict) -> dict:
    import tensorflow as tf

    try:
        return {k: v.numpy() for k, v in serve(**inputs).items()}
    except tf.errors.OpError as err:
        raise CommandError(
            f"The SavedModel failed on these inputs: {err.message}"
        ) from err


def _columns(outputs: dict) -> dict:
    """Each output as table columns: one per value of a row's vector."""
    table = {}
    for name, values in sorted(outputs.items()):
        if values.dtype == object:
            values = np.array([v.decode() for v in values.ravel()]).reshape(
                values.shape
            )
        if values.ndim == 2:
            for j in range(values.shape[1]):
                table[f"{name}_{j}"] = values[:, j]
        elif values.ndim > 2:  # a box list or a mask per row: JSON per cell
            table[name] = [json.dumps(v.tolist()) for v in values]
        else:
            table[name] = values
    return table


def _image_rows(serve, spec, files: list[str]) -> pd.DataFrame:
    """One call per image (sizes may differ), as raw uint8 pixels."""
    from PIL import Image

    mode = "L" if spec.shape[-1] == 1 else "RGB"
    name = next(iter(serve.structured_input_signature[1]))
    rows = []
    for file in files:
        with Image.open(file) as image:
            pixels = np.asarray(image.convert(mode), dtype=np.uint8)
        pixels = pixels.reshape(1, *pixels.shape[:2], spec.shape[-1])
        rows.append(
            pd.DataFrame({"file": [file], **_columns(_call(serve, {name: pixels}))})
        )
    return pd.concat(rows, ignore_index=True)


def predict(path: str, data: str, output: str | None, text_column: str) -> int:
    """Predict the rows of ``data`` (a CSV, images or texts) with a SavedModel.

    One 4-D image input reads the images of a file or folder; one text input
    reads a CSV column (its input name or ``text_column``) or a text file's
    lines; other models read one CSV column per input.
    """
    import tensorflow as tf

    from applied_ml.vision import list_images

    serve = signature(path)
    specs = serve.structured_input_signature[1]
    only = next(iter(specs.values())) if len(specs) == 1 else None
    if only is not None and only.shape.rank == 4:
        try:
            files = list_images(data)
        except (ValueError, FileNotFoundError) as err:
            raise CommandError(str(err)) from err
        table = _image_rows(serve, only, files)
    elif (
        only is not None
        and only.dtype == tf.string
        and not data.lower().endswith(".csv")
    ):
        from applied_ml.cli._readers import read_texts

        texts = read_texts(data, "line")
        name = next(iter(specs))
        outputs = _columns(_call(serve, {name: tf.constant(texts)}))
        table = pd.DataFrame({"text": texts, **outputs})
    else:
        frame = read_csv(data)
        name = next(iter(specs))
        if (
            only is not None
            and only.dtype == tf.string
            and text_column in frame
            and name not in frame
        ):
            frame = frame.rename(columns={text_column: name})
        specs = one_column_inputs(specs)
        texts = frame_columns(specs, original_columns(path), frame)
        table = pd.DataFrame(_columns(_call(serve, feed(specs, texts))))
    table.to_csv(output or sys.stdout, index=False)
    return 0


def generate(path: str, seeds: list[str], *, max_length: int, temperature: float):
    """Texts from a language model's ``generate`` endpoint."""
    import tensorflow as tf

    signature(path)  # a SavedModel folder that loads
    endpoints = tf.saved_model.load(path).signatures
    if "generate" not in endpoints:
        raise CommandError(
            f"`sample` needs a language model's SavedModel (with a 'generate' "
            f"endpoint). Received: {path!r}, with {sorted(endpoints)}"
        )
    texts = _call(
        endpoints["generate"],
        {
            "seed_text": tf.constant(seeds, tf.string),
            "temperature": tf.constant(temperature, tf.float32),
            "max_length": tf.constant(max_length, tf.int32),
        },
    )["texts"]
    return [t.decode() for t in texts]
