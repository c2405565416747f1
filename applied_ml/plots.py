"""Figures written straight to PNG files (no pyplot global state)."""

import os

import numpy as np
from matplotlib.backends.backend_agg import FigureCanvasAgg
from matplotlib.figure import Figure
from sklearn.metrics import roc_auc_score, roc_curve


def _save(fig: Figure, path) -> str:
    path = os.fspath(path)
    os.makedirs(os.path.dirname(path) or ".", exist_ok=True)
    FigureCanvasAgg(fig)
    fig.savefig(path, dpi=110, bbox_inches="tight")
    return path


def plot_learning_curves(history, path, title: str = "Learning curves") -> str:
    """Plot training and validation loss per epoch to a PNG file.

    Parameters
    ----------
    history : dict or fitted estimator
        A ``history_`` dict (``{"loss": [...], "val_loss": [...]}``) or an
        estimator that has one.
    path : str or os.PathLike
        PNG file to write.
    title : str, default="Learning curves"
        Figure title.

    Returns
    -------
    str
        The path written.
    """
    history = getattr(history, "history_", history)
    if not isinstance(history, dict) or "loss" not in history:
        raise ValueError(
            "`history` must be a fitted estimator or a dict with a 'loss' list. "
            f"Received: {type(history).__name__}"
        )
    fig = Figure(figsize=(6, 4))
    ax = fig.add_subplot()
    epochs = np.arange(1, len(history["loss"]) + 1)
    ax.plot(epochs, history["loss"], label="training loss")
    if "val_loss" in history:
        ax.plot(epochs, history["val_loss"], label="validation loss")
    ax.set_xlabel("epoch")
    ax.set_ylabel("loss")
    ax.set_title(title)
    ax.legend()
    ax.grid(alpha=0.3)
    return _save(fig, path)


def plot_roc_curve(
    y_true, y_score, path, pos_label=None, title: str = "ROC curve"
) -> str:
    """Plot a binary ROC curve with its AUC to a PNG file.

    Parameters
    ----------
    y_true : array-like
        True binary labels.
    y_score : array-like
        Scores or probabilities of the positive class.
    path : str or os.PathLike
        PNG file to write.
    pos_label : label, optional
        The positive class (as in ``sklearn.metrics.roc_curve``).
    title : str, default="ROC curve"
        Figure title.

    Returns
    -------
    str
        The path written.
    """
    fpr, tpr, _ = roc_curve(y_true, y_score, pos_label=pos_label)
    positives = np.asarray(y_true) == (pos_label if pos_label is not None else 1)
    auc = roc_auc_score(positives, y_score)
    fig = Figure(figsize=(5, 5))
    ax = fig.add_subplot()
    ax.plot(fpr, tpr, label=f"model (AUC = {auc:.3f})")
    ax.plot([0, 1], [0, 1], linestyle="--", color="grey", label="chance")
    ax.set_xlabel("false positive rate")
    ax.set_ylabel("true positive rate")
    ax.set_title(title)
    ax.legend(loc="lower right")
    return _save(fig, path)
