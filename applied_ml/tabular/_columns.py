"""From user tables (DataFrame, array) to named, typed, validated columns."""

import datetime
import difflib
import re

import numpy as np
import pandas as pd
from sklearn.utils.validation import validate_data

from applied_ml.tabular.features import (
    FEATURE_TYPES,
    BucketizedFeature,
    CategoricalFeature,
    CrossedFeature,
    NumericFeature,
    PassthroughFeature,
)

NUMERIC, STRING = "numeric", "string"


def is_dataframe(X) -> bool:
    return isinstance(X, pd.DataFrame)


def raw_columns(estimator, X, *, reset: bool) -> dict[str, np.ndarray]:
    """Validate ``X`` against what ``estimator`` saw in fit; columns by name.

    Sets ``n_features_in_``/``feature_names_in_`` when ``reset``. Arrays get
    the names ``x0, x1, ...``; a DataFrame keeps its column names.
    """
    if is_dataframe(X):
        if X.shape[0] == 0 or X.shape[1] == 0:
            raise ValueError(
                f"Found array with {X.shape[0]} sample(s) and {X.shape[1]} "
                f"feature(s) (shape={X.shape}) while a minimum of 1 is required."
            )
        names = getattr(estimator, "feature_names_in_", None)
        if reset or names is None or X.columns.tolist() != names.tolist():
            # the same names in the same order pass these checks: skip their cost
            validate_data(estimator, X, skip_check_array=True, reset=reset)
        values = _frame_columns(X)
    else:
        X = validate_data(
            estimator, X, reset=reset, dtype=None, ensure_all_finite=False
        )
        values = [X[:, i] for i in range(X.shape[1])]
    names = getattr(estimator, "feature_names_in_", None)
    if names is None:
        names = [f"x{i}" for i in range(len(values))]
    return dict(zip([str(n) for n in names], values, strict=True))


# Reading a block of same-dtype columns costs about six single-column reads.
_BLOCK_COLUMNS = 8


def _frame_columns(X: pd.DataFrame) -> list[np.ndarray]:
    """Each column's values; many numeric columns of one dtype are read as a block.

    Reading columns one by one costs a pandas Series each, which dominates the
    time to predict a few rows of a wide table; a block costs a copy.
    """
    values: list = [None] * X.shape[1]
    blocks: dict = {}
    for i, dtype in enumerate(X.dtypes.tolist()):
        if isinstance(dtype, np.dtype) and dtype.kind in "biuf":
            blocks.setdefault(dtype, []).append(i)
        elif isinstance(dtype, pd.CategoricalDtype):
            # a categorical dtype is a category whatever its values look like
            values[i] = to_strings(X.iloc[:, i].to_numpy()).ravel()
        else:
            values[i] = X.iloc[:, i].to_numpy()
    for dtype, columns in blocks.items():
        if len(columns) < _BLOCK_COLUMNS:
            for i in columns:
                values[i] = X.iloc[:, i].to_numpy()
            continue
        block = X.iloc[:, columns].to_numpy(dtype=dtype)
        for j, i in enumerate(columns):
            values[i] = block[:, j]
    return values


def infer_kind(values: np.ndarray) -> str:
    """NUMERIC for numbers and booleans, STRING for anything else."""
    if values.dtype.kind in "biuf":
        return NUMERIC
    if values.dtype.kind != "O":
        return STRING
    present = [v for v in values if not pd.isna(v)]
    numeric = all(
        isinstance(v, int | float | np.number | bool | np.bool_) for v in present
    )
    return NUMERIC if numeric and present else STRING


_TEMPORAL = (
    datetime.date,
    datetime.time,
    datetime.timedelta,
    np.datetime64,
    np.timedelta64,
)


def check_not_temporal(name: str, values: np.ndarray) -> None:
    """Refuse dates, times and durations: no encoding of them is a safe guess.

    Made categorical, every date after training would be out of vocabulary;
    the useful numbers (year, weekday, seconds) depend on the problem.
    """
    if values.dtype.kind in "mM":
        first, received = None, f"dtype={values.dtype}"
    elif values.dtype.kind == "O":
        first = next((v for v in values if isinstance(v, _TEMPORAL)), None)
        if first is None:
            return
        received = f"a value of {first!r}"
    else:
        return
    if values.dtype.kind == "m" or isinstance(
        first, datetime.timedelta | np.timedelta64
    ):
        raise ValueError(
            f"Column {name!r} holds durations, which the model cannot use as they "
            f"are. Encode them as numbers first, e.g. "
            f"df[{name!r}].dt.total_seconds(). Received: {received}"
        )
    convert = "" if values.dtype.kind == "M" else f"pd.to_datetime(df[{name!r}]) then "
    raise ValueError(
        f"Column {name!r} holds dates or times, which the model cannot use as "
        f"they are: as categories every date after training would be unknown. "
        f"Encode them as numbers first ({convert}e.g. df[{name!r}].dt.year, "
        f"df[{name!r}].dt.dayofweek, or seconds since the epoch, "
        f"df[{name!r}].astype('int64') // 10**9). Received: {received}"
    )


def to_numeric(name: str, values: np.ndarray, *, allow_missing: bool) -> np.ndarray:
    """Float column of shape (n, 1), with clear errors for bad values."""
    check_not_temporal(name, values)
    try:
        if values.dtype.kind in "biuf":
            out = values.astype("float64")
        else:
            out = pd.to_numeric(pd.Series(values, dtype=object), errors="raise")
            out = out.to_numpy(dtype="float64", na_value=np.nan)
    except (ValueError, TypeError) as err:
        bad = next(v for v in values if _not_a_number(v))
        raise ValueError(
            f"Column {name!r} must hold numbers (it was numeric in fit). "
            f"Received a value of {bad!r}."
        ) from err
    if np.isinf(out).any():
        raise ValueError(
            f"Column {name!r} contains infinite values; replace them with finite "
            "numbers or NaN (missing)."
        )
    if not allow_missing and np.isnan(out).any():
        raise ValueError(
            f"Column {name!r} contains missing values (NaN) but its feature has no "
            "imputation; use NumericFeature(..., impute=True) or fill them first."
        )
    return out.reshape(-1, 1)


def _not_a_number(value) -> bool:
    if value is None or (isinstance(value, float) and np.isnan(value)):
        return False
    try:
        float(value)
    except (TypeError, ValueError):
        return True
    return isinstance(value, str)


def _format(value) -> str:
    if pd.isna(value):
        return ""
    if isinstance(value, float | np.floating) and float(value).is_integer():
        return str(int(value))
    return str(value)


def to_strings(values: np.ndarray) -> np.ndarray:
    """Object column of shape (n, 1) of str; missing values become ''."""
    missing = pd.isna(values)
    present = values[~missing]
    if all(isinstance(v, str) for v in present):  # the common case, vectorized
        out = np.where(missing, "", values).astype(object)
    else:
        out = np.array([_format(v) for v in values], dtype=object)
    return out.reshape(-1, 1)


def input_name(column: str, taken: set) -> str:
    """A SavedModel-safe input name for ``column``, unique within ``taken``."""
    name = re.sub(r"[^A-Za-z0-9_.\-]", "_", column)
    if not re.match(r"[A-Za-z]", name):
        name = f"x_{name}"
    candidate, i = name, 1
    while candidate in taken:
        candidate, i = f"{name}_{i}", i + 1
    taken.add(candidate)
    return candidate


def resolve_specs(features, columns: dict[str, np.ndarray]) -> tuple:
    """The feature specs to use: ``features`` checked, or inferred from dtypes."""
    if features is None:
        return tuple(
            NumericFeature(name)
            if infer_kind(v) == NUMERIC
            else CategoricalFeature(name)
            for name, v in columns.items()
        )
    if isinstance(features, FEATURE_TYPES) or not isinstance(features, list | tuple):
        raise TypeError(
            "`features` must be None or a list of feature specs (NumericFeature, "
            f"CategoricalFeature, ...). Received: features={features!r}"
        )
    if not features:
        raise ValueError(
            "`features` must name at least one feature. Received: features=[]"
        )
    seen = set()
    for spec in features:
        if not isinstance(spec, FEATURE_TYPES):
            raise TypeError(
                "Every entry of `features` must be a feature spec such as "
                f"NumericFeature('age'). Received: {spec!r}"
            )
        for name in spec.names if isinstance(spec, CrossedFeature) else (spec.name,):
            if name not in columns:
                close = difflib.get_close_matches(name, list(columns), n=1)
                hint = f" Did you mean {close[0]!r}?" if close else ""
                raise ValueError(
                    f"Feature {spec!r} names column {name!r}, which is not in X. "
                    f"Columns of X: {list(columns)}.{hint}"
                )
        key = (type(spec).__name__, spec.name)
        if key in seen:
            raise ValueError(f"`features` lists {spec!r} twice.")
        seen.add(key)
    return tuple(features)


def column_kinds(specs, columns: dict[str, np.ndarray]) -> dict[str, str]:
    """How each used column is fed to the model: NUMERIC or STRING input.

    A column keeps its own kind: a ``CategoricalFeature`` over a numeric
    column formats the numbers inside the model, so ``predict``, ``tf.data``
    and the SavedModel all take numbers for it.
    """
    kinds: dict[str, str] = {}
    for spec in specs:
        names = spec.names if isinstance(spec, CrossedFeature) else (spec.name,)
        for name in names:
            check_not_temporal(name, columns[name])
            kinds[name] = infer_kind(columns[name])
        if (
            isinstance(spec, NumericFeature | BucketizedFeature | PassthroughFeature)
            and kinds[spec.name] == STRING
        ):
            raise ValueError(
                f"{type(spec).__name__} needs numbers, but column {spec.name!r} "
                "holds text; use CategoricalFeature for it."
            )
    return kinds
