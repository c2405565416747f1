"""Metrics and figures."""

import numpy as np
import pytest

from applied_ml import TabularClassifier
from applied_ml.metrics import (
    classification_metrics,
    prediction_bias,
    regression_metrics,
)
from applied_ml.plots import (
    plot_confusion_matrix,
    plot_learning_curves,
    plot_misclassified,
    plot_roc_curve,
)
from tests.conftest import FAST

PNG = b"\x89PNG\r\n\x1a\n"


def _check_figure(path) -> None:
    """A PNG with a drawn figure: several colours, not a blank canvas."""
    from matplotlib.image import imread

    with open(path, "rb") as f:
        assert f.read(8) == PNG
    pixels = imread(path)[..., :3].reshape(-1, 3)
    assert pixels.shape[0] > 100 * 100
    assert len(np.unique(pixels, axis=0)) > 20  # lines, text and fills


def test_prediction_bias():
    assert prediction_bias([0, 1, 1, 0], [0.5, 0.5, 0.5, 0.5]) == 0.0
    assert prediction_bias([0, 0, 0, 1], [0.5, 0.5, 0.5, 0.5]) == pytest.approx(0.25)


def test_classification_metrics_binary():
    y = np.array(["a", "b", "b", "a"])
    proba = np.array([[0.9, 0.1], [0.2, 0.8], [0.4, 0.6], [0.3, 0.7]])
    pred = np.array(["a", "b", "b", "b"])
    m = classification_metrics(y, proba, pred, np.array(["a", "b"]))
    assert m["accuracy"] == 0.75
    assert m["precision"] == pytest.approx(2 / 3)
    assert m["recall"] == 1.0
    assert m["roc_auc"] == 0.75  # 3 of 4 positive/negative pairs ranked right
    assert m["prediction_bias"] == pytest.approx(0.55 - 0.5)


def test_regression_metrics():
    m = regression_metrics([1.0, 2.0, 3.0], [1.0, 2.0, 4.0])
    assert m["mae"] == pytest.approx(1 / 3)
    assert m["prediction_bias"] == pytest.approx(1 / 3)
    assert m["rmse"] == pytest.approx(np.sqrt(1 / 3))


def test_plots_write_png_files(breast_cancer, tmp_path):
    X, y = breast_cancer
    clf = TabularClassifier(**FAST).fit(X, y)
    curves = plot_learning_curves(clf, tmp_path / "curves.png")
    roc = plot_roc_curve(y, clf.predict_proba(X)[:, 1], tmp_path / "sub" / "roc.png")
    for path in (curves, roc):
        _check_figure(path)


def test_learning_curves_need_a_history(tmp_path):
    with pytest.raises(ValueError, match="`history` must be a fitted estimator"):
        plot_learning_curves({"accuracy": [1.0]}, tmp_path / "x.png")


def test_image_plots_write_png_files(tmp_path):
    rng = np.random.default_rng(0)
    images = rng.integers(0, 256, (7, 12, 12), dtype="uint8")
    y_true = np.array(["cat", "dog", "cat", "bird", "dog", "cat", "bird"])
    y_pred = np.array(["cat", "cat", "cat", "bird", "dog", "bird", "bird"])
    paths = [
        plot_confusion_matrix(y_true, y_pred, tmp_path / "cm.png", normalize=True),
        plot_misclassified(images, y_true, y_pred, tmp_path / "wrong.png"),
        plot_misclassified(images[..., None], y_true, y_true, tmp_path / "none.png"),
    ]
    for path in paths:
        _check_figure(path)


def test_misclassified_needs_equal_lengths(tmp_path):
    with pytest.raises(ValueError, match="must have the same length. Received 3, 2"):
        plot_misclassified(np.zeros((3, 8, 8)), [0, 1], [0, 1], tmp_path / "x.png")
