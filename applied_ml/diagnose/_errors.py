"""Error of an estimator on a data set, the same measure for every set."""

import numpy as np
from sklearn.exceptions import NotFittedError
from sklearn.utils.validation import check_is_fitted

CLASSIFICATION_ERROR = "1 - accuracy (1 - estimator.score)"
REGRESSION_ERROR = "mean squared error / variance of y_train (1 - R² on train)"


def fit_if_needed(estimator, X, y) -> bool:
    """Fit ``estimator`` on ``X, y`` unless it is fitted; whether it was fitted here."""
    try:
        check_is_fitted(estimator)
    except NotFittedError:
        estimator.fit(X, y)
        return True
    return False


def target_variance(y) -> np.ndarray:
    """Per-output variance of the training targets (1 where it is 0)."""
    y = np.asarray(y, dtype="float64")
    y = y.reshape(len(y), -1)
    variance = y.var(axis=0)
    return np.where(variance > 0, variance, 1.0)


def error(estimator, X, y, task: str, variance: np.ndarray | None) -> float:
    """``1 - score`` for a classifier; MSE over ``variance`` for a regressor."""
    if task == "classification":
        return float(1.0 - estimator.score(X, y))
    y = np.asarray(y, dtype="float64")
    predictions = np.asarray(estimator.predict(X), dtype="float64")
    squared = (predictions.reshape(len(y), -1) - y.reshape(len(y), -1)) ** 2
    return float(np.mean(squared.mean(axis=0) / variance))
