"""Segmentation metrics from one confusion matrix over a whole set of masks.

Intersection over union is accumulated over every pixel of every image (the
confusion matrix), not averaged per image: a small image with one stray
pixel weighs what its pixels weigh. A class's IoU is undefined when it is
neither in the truth nor in the prediction; means skip such classes, as
``keras.metrics.MeanIoU`` does.
"""

import numpy as np


def confusion_matrix(true, pred, n_classes: int) -> np.ndarray:
    """Pixel counts (true class, predicted class) over paired masks.

    Parameters
    ----------
    true, pred : sequence of ndarray
        Class indices per pixel, image by image; pixels where ``true`` is
        negative (padding, "ignore") are not counted.
    n_classes : int
        Number of classes.

    Returns
    -------
    ndarray of shape (n_classes, n_classes)
        int64 counts, rows the true class.
    """
    counts = np.zeros(n_classes * n_classes, np.int64)
    for t, p in zip(true, pred, strict=True):
        t = np.asarray(t, np.int64).ravel()
        p = np.asarray(p, np.int64).ravel()
        keep = t >= 0
        counts += np.bincount(t[keep] * n_classes + p[keep], minlength=n_classes**2)
    return counts.reshape(n_classes, n_classes)


def _ratio(numerator, denominator):
    with np.errstate(invalid="ignore", divide="ignore"):
        return np.where(denominator > 0, numerator / np.maximum(denominator, 1), np.nan)


def segmentation_metrics(confusion: np.ndarray, background: int | None) -> dict:
    """IoU, Dice and accuracy figures of a confusion matrix.

    Parameters
    ----------
    confusion : ndarray of shape (n_classes, n_classes)
        From :func:`confusion_matrix`.
    background : int or None
        Index of the background class; None when every class is an object.

    Returns
    -------
    dict
        ``iou`` and ``dice`` (per class, NaN where undefined), ``mean_iou``
        (over classes defined), ``mean_iou_foreground`` (without the
        background), ``mean_dice``, ``pixel_accuracy`` and
        ``foreground_iou`` (object against background, whatever the class;
        NaN without a background class).
    """
    confusion = np.asarray(confusion, np.float64)
    tp = np.diag(confusion)
    false_pos = confusion.sum(axis=0) - tp
    false_neg = confusion.sum(axis=1) - tp
    iou = _ratio(tp, tp + false_pos + false_neg)
    dice = _ratio(2 * tp, 2 * tp + false_pos + false_neg)
    objects = np.ones(len(tp), bool)
    foreground_iou = float("nan")
    if background is not None:
        objects[background] = False
        hit = confusion[np.ix_(objects, objects)].sum()
        missed = confusion[objects, background].sum()
        spurious = confusion[background, objects].sum()
        foreground_iou = float(_ratio(hit, hit + missed + spurious))
    total = confusion.sum()
    return {
        "iou": iou,
        "dice": dice,
        "mean_iou": _nanmean(iou),
        "mean_iou_foreground": _nanmean(iou[objects]),
        "mean_dice": _nanmean(dice),
        "pixel_accuracy": float(tp.sum() / total) if total else float("nan"),
        "foreground_iou": foreground_iou,
    }


def _nanmean(values: np.ndarray) -> float:
    defined = values[~np.isnan(values)]
    return float(defined.mean()) if len(defined) else float("nan")
