"""Evaluation helpers: classification and regression metrics, prediction bias."""

import numpy as np
from sklearn import metrics as skm


def prediction_bias(y_true, y_score) -> float:
    """Mean prediction minus mean label.

    For a calibrated binary classifier the mean predicted probability equals
    the positive rate, so a bias far from 0 flags a problem (skewed training
    data, a bug in the pipeline) even when accuracy looks fine.

    Parameters
    ----------
    y_true : array-like
        Labels (0/1 for a classifier) or targets.
    y_score : array-like
        Predicted probabilities of the positive class, or predictions.

    Returns
    -------
    float
        ``mean(y_score) - mean(y_true)``.

    Examples
    --------
    >>> prediction_bias([0, 1, 1, 0], [0.2, 0.9, 0.7, 0.4])
    0.04999999999999993
    """
    return float(np.mean(y_score) - np.mean(np.asarray(y_true, dtype=float)))


def classification_metrics(y_true, proba, y_pred, classes) -> dict:
    """Accuracy, precision, recall, F1, ROC AUC, log loss and prediction bias.

    Binary problems report precision/recall/F1 of the positive class
    (``classes[1]``) and the prediction bias of its probability; multiclass
    problems report macro averages, one-vs-rest ROC AUC and the mean absolute
    per-class bias.

    Parameters
    ----------
    y_true : array-like
        True labels.
    proba : ndarray of shape (n_samples, n_classes)
        Predicted probabilities in the order of ``classes``.
    y_pred : array-like
        Predicted labels.
    classes : ndarray
        Class labels.

    Returns
    -------
    dict
        Metric name to value.
    """
    y_true = np.asarray(y_true)
    if y_true.ndim == 2 and y_true.shape[1] > 1:
        return {
            "subset_accuracy": skm.accuracy_score(y_true, y_pred),
            "f1_micro": skm.f1_score(y_true, y_pred, average="micro", zero_division=0),
            "roc_auc_macro": skm.roc_auc_score(y_true, proba, average="macro"),
            "log_loss": skm.log_loss(y_true.ravel(), proba.ravel()),
            "prediction_bias": float(np.mean(np.abs(proba.mean(0) - y_true.mean(0)))),
        }
    binary = len(classes) == 2
    avg = (
        {"average": "binary", "pos_label": classes[1]}
        if binary
        else {"average": "macro"}
    )
    onehot = (y_true.reshape(-1, 1) == np.asarray(classes).reshape(1, -1)).astype(float)
    result = {
        "accuracy": skm.accuracy_score(y_true, y_pred),
        "precision": skm.precision_score(y_true, y_pred, zero_division=0, **avg),
        "recall": skm.recall_score(y_true, y_pred, zero_division=0, **avg),
        "f1": skm.f1_score(y_true, y_pred, zero_division=0, **avg),
        "log_loss": skm.log_loss(y_true, proba, labels=classes),
    }
    present = onehot.sum(0) > 0
    if binary:
        result["roc_auc"] = (
            skm.roc_auc_score(onehot[:, 1], proba[:, 1]) if present.all() else np.nan
        )
        result["prediction_bias"] = prediction_bias(onehot[:, 1], proba[:, 1])
    else:
        result["roc_auc"] = (
            skm.roc_auc_score(onehot[:, present], proba[:, present], average="macro")
            if present.sum() > 1
            else np.nan
        )
        result["prediction_bias"] = float(
            np.mean(np.abs(proba.mean(0) - onehot.mean(0)))
        )
    return {k: float(v) for k, v in result.items()}


def regression_metrics(y_true, y_pred) -> dict:
    """R², MSE, RMSE, MAE and prediction bias (mean prediction minus mean target).

    Parameters
    ----------
    y_true : array-like
        True targets.
    y_pred : array-like
        Predictions.

    Returns
    -------
    dict
        Metric name to value.
    """
    mse = skm.mean_squared_error(y_true, y_pred)
    return {
        "r2": float(skm.r2_score(y_true, y_pred)),
        "mse": float(mse),
        "rmse": float(np.sqrt(mse)),
        "mae": float(skm.mean_absolute_error(y_true, y_pred)),
        "prediction_bias": prediction_bias(y_true, y_pred),
    }
