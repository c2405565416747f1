"""Error analysis of a classifier: which classes it confuses, its worst mistakes."""

import os

import numpy as np
import pandas as pd
from sklearn.metrics import confusion_matrix

from applied_ml.diagnose._checks import (
    check_estimator,
    check_output_dir,
    check_pair,
    check_positive_number,
)
from applied_ml.diagnose._plots import plot_image_grid, plot_text_table
from applied_ml.plots import class_name

#: File names that :func:`worst_mistakes` writes into ``output_dir``.
MISTAKES_FIGURE = "worst_mistakes.png"
MISTAKES_MARKDOWN = "worst_mistakes.md"


def _labels(estimator, y) -> np.ndarray:
    classes = getattr(estimator, "classes_", None)
    if classes is None:
        raise TypeError(
            "`estimator` must be a fitted classifier with `classes_`. "
            f"Received: estimator={estimator!r}"
        )
    y = np.asarray(y)
    if y.ndim != 1:
        raise ValueError(
            "`y` must be 1-D class labels (multilabel targets have no confused "
            f"pairs). Received: y of shape {y.shape}"
        )
    return np.asarray(classes)


def confused_pairs(estimator, X, y, top: int = 5) -> pd.DataFrame:
    """The most frequent (true class, predicted class) mistakes.

    Parameters
    ----------
    estimator : classifier
        A fitted classifier with ``classes_`` and ``predict``.
    X : array-like or pandas.DataFrame
        Samples to classify.
    y : array-like of shape (n_samples,)
        Their true labels.
    top : int, default=5
        Number of pairs to return (fewer when fewer kinds of mistake occur).

    Returns
    -------
    pandas.DataFrame
        One row per ordered pair, most frequent first, with columns ``true``,
        ``predicted``, ``count`` (samples of class ``true`` predicted as
        ``predicted``), ``rate`` (``count`` over the samples of class
        ``true``) and ``share_of_errors`` (``count`` over all mistakes).

    Examples
    --------
    >>> from sklearn.datasets import load_iris
    >>> from sklearn.linear_model import LogisticRegression
    >>> from applied_ml.diagnose import confused_pairs
    >>> X, y = load_iris(return_X_y=True)
    >>> clf = LogisticRegression(max_iter=50).fit(X[:, :2], y)
    >>> confused_pairs(clf, X[:, :2], y, top=1)[["true", "predicted"]].values.tolist()
    [[2, 1]]
    """
    check_estimator(estimator, classifier=True)
    check_pair("X", X, "y", y)
    check_positive_number("top", top, integer=True)
    classes = _labels(estimator, y)
    y = np.asarray(y)
    matrix = confusion_matrix(y, estimator.predict(X), labels=classes)
    support = matrix.sum(axis=1)
    errors = matrix.sum() - np.trace(matrix)
    rows = [
        {
            "true": classes[i],
            "predicted": classes[j],
            "count": int(matrix[i, j]),
            "rate": float(matrix[i, j] / support[i]),
            "share_of_errors": float(matrix[i, j] / errors),
        }
        for i in range(len(classes))
        for j in range(len(classes))
        if i != j and matrix[i, j] > 0
    ]
    columns = ["true", "predicted", "count", "rate", "share_of_errors"]
    table = pd.DataFrame(rows, columns=columns)
    if table.empty:
        return table
    table = table.sort_values(["count", "rate"], ascending=False, kind="stable")
    return table.head(top).reset_index(drop=True)


def _input_kind(X) -> str:
    """``"dataframe"``, ``"image"``, ``"text"`` or ``"array"``."""
    if isinstance(X, pd.DataFrame):
        return "dataframe"
    if isinstance(X, list | tuple) and X and all(isinstance(x, str) for x in X):
        return "text"
    array = np.asarray(X) if isinstance(X, list | tuple | np.ndarray) else None
    if array is None:
        return "array"
    if array.dtype.kind in "OUS" and array.ndim == 1:
        if all(isinstance(x, str | bytes) for x in array):
            return "text"
    if array.dtype.kind in "uif" and (
        array.ndim == 3 or (array.ndim == 4 and array.shape[-1] in (1, 3))
    ):
        return "image"
    return "array"


def worst_mistakes(
    estimator,
    X,
    y,
    n: int = 16,
    output_dir: str | os.PathLike | None = None,
    *,
    class_names=None,
) -> pd.DataFrame:
    """The misclassified samples the classifier was most sure about.

    Mistakes are ranked by the probability the classifier gave to its
    (wrong) predicted class. With ``output_dir``, the mistakes are shown
    there: images (arrays of shape (n, height, width[, channels]), values
    0-255) as a grid ``worst_mistakes.png``; texts (a list or 1-D array of
    strings) as a table in ``worst_mistakes.png`` and ``worst_mistakes.md``;
    other inputs (a DataFrame, feature rows) as ``worst_mistakes.md`` only.

    Parameters
    ----------
    estimator : classifier
        A fitted classifier with ``classes_``, ``predict`` and
        ``predict_proba``.
    X : array-like, list of str or pandas.DataFrame
        Samples to classify.
    y : array-like of shape (n_samples,)
        Their true labels.
    n : int, default=16
        Number of mistakes to return (fewer when there are fewer).
    output_dir : str or os.PathLike, optional
        Folder to write the figure and/or Markdown table into.
    class_names : sequence or dict, optional
        Names to print for the labels (by label, or by index for a
        sequence), e.g. ``FASHION_MNIST_CLASSES``.

    Returns
    -------
    pandas.DataFrame
        One row per mistake, most confident first: ``index`` (position in
        ``X``), ``true``, ``predicted``, ``confidence`` (probability of the
        predicted class), ``p_true`` (probability of the true class), plus
        ``text`` for texts or the sample's columns for a DataFrame. Paths
        written are in ``.attrs["files"]``.

    Examples
    --------
    >>> from sklearn.datasets import load_digits
    >>> from sklearn.naive_bayes import GaussianNB
    >>> from applied_ml.diagnose import worst_mistakes
    >>> X, y = load_digits(return_X_y=True)
    >>> table = worst_mistakes(GaussianNB().fit(X, y), X, y, n=3)
    >>> list(table.columns)
    ['index', 'true', 'predicted', 'confidence', 'p_true']
    """
    check_estimator(estimator, classifier=True)
    check_pair("X", X, "y", y)
    check_positive_number("n", n, integer=True)
    check_output_dir(output_dir)
    if not hasattr(estimator, "predict_proba"):
        raise TypeError(
            "`estimator` must have `predict_proba` to rank mistakes by confidence. "
            f"Received: estimator={estimator!r}"
        )
    classes = _labels(estimator, y)
    y = np.asarray(y)
    proba = np.asarray(estimator.predict_proba(X), dtype="float64")
    predicted = np.asarray(estimator.predict(X))
    column = {label: i for i, label in enumerate(classes.tolist())}
    pred_index = np.array([column[p] for p in predicted.tolist()])
    true_index = np.array([column.get(t, -1) for t in y.tolist()])
    rows = np.arange(len(y))
    confidence = proba[rows, pred_index]
    p_true = np.where(true_index >= 0, proba[rows, np.maximum(true_index, 0)], 0.0)
    wrong = np.flatnonzero(predicted != y)
    order = wrong[np.argsort(-confidence[wrong], kind="stable")][:n]
    table = pd.DataFrame(
        {
            "index": order,
            "true": y[order],
            "predicted": predicted[order],
            "confidence": confidence[order],
            "p_true": p_true[order],
        }
    )
    kind = _input_kind(X)
    if kind == "text":
        table["text"] = [str(X[i]) for i in order]
    elif kind == "dataframe":
        features = X.iloc[order].reset_index(drop=True)
        table = pd.concat([table, features.add_prefix("x:")], axis=1)
    table.attrs["files"] = {}
    if output_dir is not None:
        table.attrs["files"] = _write(table, X, kind, class_names, output_dir)
    return table


def _write(table, X, kind, class_names, output_dir) -> dict:
    folder = os.fspath(output_dir)
    os.makedirs(folder, exist_ok=True)
    files = {}
    title = f"Most confident mistakes ({len(table)})"

    def name(label):
        return class_name(label, class_names)

    shown = [
        (i, name(t), name(p), c)
        for i, t, p, c in zip(
            table["index"],
            table["true"],
            table["predicted"],
            table["confidence"],
            strict=True,
        )
    ]
    figure = os.path.join(folder, MISTAKES_FIGURE)
    if kind == "image":
        images = np.asarray(X)[table["index"].to_numpy()]
        captions = [f"#{i}  true: {t}\npred: {p} ({c:.0%})" for i, t, p, c in shown]
        files["figure"] = plot_image_grid(images, captions, title, figure)
        return files
    if kind == "text":
        rows = [
            [text, t, p, f"{c:.1%}"]
            for text, (_, t, p, c) in zip(table["text"], shown, strict=True)
        ]
        header = ["text", "true", "predicted", "confidence"]
        files["figure"] = plot_text_table(rows, header, title, figure)
    path = os.path.join(folder, MISTAKES_MARKDOWN)
    with open(path, "w", encoding="utf-8") as f:
        f.write(f"# {title}\n\n{_markdown_table(table, name)}\n")
    files["markdown"] = path
    return files


def _cell(value) -> str:
    if isinstance(value, float | np.floating):
        return f"{value:.4g}"
    return str(value).replace("|", "\\|").replace("\n", " ")


def _markdown_table(table: pd.DataFrame, name) -> str:
    shown = table.copy()
    shown["true"] = [name(v) for v in shown["true"]]
    shown["predicted"] = [name(v) for v in shown["predicted"]]
    header = "| " + " | ".join(map(_cell, shown.columns)) + " |"
    rule = "| " + " | ".join("---" for _ in shown.columns) + " |"
    body = [
        "| " + " | ".join(_cell(v) for v in row) + " |"
        for row in shown.itertuples(index=False)
    ]
    return "\n".join([header, rule, *body])
