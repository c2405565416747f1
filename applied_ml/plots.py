"""Figures written straight to PNG files (no pyplot global state)."""

import os

import numpy as np
from matplotlib.backends.backend_agg import FigureCanvasAgg
from matplotlib.figure import Figure
from sklearn.metrics import roc_auc_score, roc_curve


def save_figure(fig: Figure, path) -> str:
    """Write a matplotlib ``Figure`` to a PNG file (folders made as needed).

    Parameters
    ----------
    fig : matplotlib.figure.Figure
        The figure.
    path : str or os.PathLike
        PNG file to write.

    Returns
    -------
    str
        The path written.
    """
    path = os.fspath(path)
    os.makedirs(os.path.dirname(path) or ".", exist_ok=True)
    FigureCanvasAgg(fig)
    fig.savefig(path, dpi=110, bbox_inches="tight")
    return path


def class_name(label, class_names=None) -> str:
    """The name to print for ``label``: ``class_names[label]`` when it has one.

    Parameters
    ----------
    label : object
        A class label.
    class_names : sequence or dict, optional
        Names by label (or by index for a sequence).

    Returns
    -------
    str
        The name, or the label itself as text.
    """
    if class_names is None:
        return str(label)
    try:
        return str(class_names[label])
    except (KeyError, IndexError, TypeError):
        return str(label)


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
    return save_figure(fig, path)


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
    return save_figure(fig, path)


def plot_confusion_matrix(
    y_true,
    y_pred,
    path,
    labels=None,
    normalize: bool = False,
    title: str = "Confusion matrix",
) -> str:
    """Plot a confusion matrix (rows: true class, columns: predicted) to a PNG.

    Parameters
    ----------
    y_true : array-like
        True labels.
    y_pred : array-like
        Predicted labels.
    path : str or os.PathLike
        PNG file to write.
    labels : array-like, optional
        Classes in display order (e.g. an estimator's ``classes_``); by
        default the sorted labels found in ``y_true`` and ``y_pred``.
    normalize : bool, default=False
        Show each row as shares of its true class instead of counts.
    title : str, default="Confusion matrix"
        Figure title.

    Returns
    -------
    str
        The path written.
    """
    from sklearn.metrics import confusion_matrix

    labels = np.unique(np.concatenate([y_true, y_pred])) if labels is None else labels
    matrix = confusion_matrix(y_true, y_pred, labels=labels).astype("float64")
    if normalize:
        matrix /= np.maximum(matrix.sum(axis=1, keepdims=True), 1)
    n = len(labels)
    size = max(4.0, 0.55 * n + 2)
    fig = Figure(figsize=(size, size))
    ax = fig.add_subplot()
    image = ax.imshow(matrix, cmap="Blues")
    fig.colorbar(image, ax=ax, fraction=0.046, pad=0.04)
    names = [str(label) for label in labels]
    ax.set_xticks(range(n), names, rotation=45, ha="right")
    ax.set_yticks(range(n), names)
    ax.set_xlabel("predicted")
    ax.set_ylabel("true")
    ax.set_title(title)
    threshold = matrix.max() / 2
    for i in range(n):
        for j in range(n):
            text = f"{matrix[i, j]:.2f}" if normalize else f"{int(matrix[i, j])}"
            color = "white" if matrix[i, j] > threshold else "black"
            ax.text(j, i, text, ha="center", va="center", color=color, fontsize=8)
    return save_figure(fig, path)


def plot_misclassified(
    images,
    y_true,
    y_pred,
    path,
    max_images: int = 25,
    title: str = "Misclassified images",
) -> str:
    """Plot a grid of the images whose prediction is wrong, to a PNG file.

    Parameters
    ----------
    images : array-like of shape (n_samples, height, width[, channels])
        The images, values 0-255.
    y_true : array-like of shape (n_samples,)
        True labels.
    y_pred : array-like of shape (n_samples,)
        Predicted labels.
    path : str or os.PathLike
        PNG file to write.
    max_images : int, default=25
        Show at most this many (the first ones in order).
    title : str, default="Misclassified images"
        Figure title.

    Returns
    -------
    str
        The path written.
    """
    images = np.asarray(images)
    y_true, y_pred = np.asarray(y_true), np.asarray(y_pred)
    if not len(images) == len(y_true) == len(y_pred):
        raise ValueError(
            "`images`, `y_true` and `y_pred` must have the same length. Received "
            f"{len(images)}, {len(y_true)} and {len(y_pred)}."
        )
    wrong = np.flatnonzero(y_true != y_pred)[:max_images]
    cols = max(1, min(5, len(wrong)))
    rows = max(1, -(-len(wrong) // cols))
    fig = Figure(figsize=(2.2 * cols, 2.4 * rows + 0.4))
    fig.suptitle(f"{title} ({np.sum(y_true != y_pred)} of {len(y_true)})")
    if not len(wrong):
        fig.add_subplot().axis("off")
    for k, i in enumerate(wrong):
        ax = fig.add_subplot(rows, cols, k + 1)
        image = images[i]
        if image.ndim == 3 and image.shape[-1] == 1:
            image = image[..., 0]
        ax.imshow(image.astype("uint8"), cmap="gray" if image.ndim == 2 else None)
        ax.set_title(f"true {y_true[i]}\npred {y_pred[i]}", fontsize=8)
        ax.axis("off")
    return save_figure(fig, path)
