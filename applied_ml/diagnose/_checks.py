"""Input checks shared by the diagnosis tools, in the package's error style."""

import math
import numbers
import os

from sklearn.base import is_classifier, is_regressor


def must_be(name: str, expected: str, value) -> str:
    """The error message "`name` must be <expected>. Received: name=<value!r>"."""
    return f"`{name}` must be {expected}. Received: {name}={value!r}"


def check_estimator(estimator, *, classifier: bool = False) -> None:
    """Raise ``TypeError`` unless ``estimator`` has ``fit`` and ``predict``."""
    if isinstance(estimator, type) or not (
        hasattr(estimator, "fit") and hasattr(estimator, "predict")
    ):
        expected = "a scikit-learn estimator instance with `fit` and `predict`"
        raise TypeError(must_be("estimator", expected, estimator))
    if classifier and not is_classifier(estimator):
        expected = "a classifier (error analysis compares predicted and true classes)"
        raise TypeError(must_be("estimator", expected, estimator))


def task_of(estimator) -> str:
    """``"classification"`` or ``"regression"``, from scikit-learn's tags."""
    if is_classifier(estimator):
        return "classification"
    if is_regressor(estimator):
        return "regression"
    expected = "a classifier or a regressor (errors: 1 - accuracy or a normalized MSE)"
    raise TypeError(must_be("estimator", expected, estimator))


def n_samples(name: str, X) -> int:
    """Number of samples of ``X`` (``TypeError`` when it has no length)."""
    if X is None or isinstance(X, str | bytes) or not hasattr(X, "__len__"):
        raise TypeError(must_be(name, "an array-like of samples", X))
    return len(X)


def check_pair(x_name: str, X, y_name: str, y) -> None:
    """Raise unless ``X`` and ``y`` are non-empty and of the same length."""
    n_x = n_samples(x_name, X)
    n_y = n_samples(y_name, y)
    if n_x == 0:
        raise ValueError(
            f"`{x_name}` must hold at least one sample. Received: len({x_name})=0"
        )
    if n_x != n_y:
        expected = f"one target per sample of `{x_name}` ({n_x})"
        raise ValueError(
            f"`{y_name}` must have {expected}. Received: len({y_name})={n_y}"
        )


def check_positive_number(
    name: str, value, *, integer: bool = False, allow_zero: bool = False
) -> None:
    """Raise unless ``value`` is a finite number above 0 (or at 0, ``allow_zero``)."""
    kind = numbers.Integral if integer else numbers.Real
    what = "a positive integer" if integer else "a positive number"
    if allow_zero:
        what = "a number >= 0"
    if isinstance(value, bool) or not isinstance(value, kind):
        raise TypeError(must_be(name, what, value))
    if not math.isfinite(value) or value < 0 or (value == 0 and not allow_zero):
        raise ValueError(must_be(name, what, value))


def check_human_error(human_error, task: str) -> None:
    """Raise unless ``human_error`` is an error rate the task can have."""
    if isinstance(human_error, bool) or not isinstance(human_error, numbers.Real):
        expected = "a number (an error rate) or None"
        raise TypeError(must_be("human_error", expected, human_error))
    high = 1.0 if task == "classification" else math.inf
    if not 0 <= human_error <= high:
        where = "in [0, 1]" if task == "classification" else "at least 0"
        raise ValueError(must_be("human_error", f"an error {where}", human_error))


def check_output_dir(output_dir) -> None:
    """Raise ``TypeError`` unless ``output_dir`` is None or a path."""
    if output_dir is not None and not isinstance(output_dir, str | os.PathLike):
        raise TypeError(must_be("output_dir", "a folder path or None", output_dir))
