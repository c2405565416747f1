"""Segmentation metrics from one confusion matrix over a whole set of masks.

Intersection over union is accumulated over every pixel of every image (the
confusion matrix), not averaged per image: a small image with one stray
pixel weighs what its pixels weigh. A class's IoU is undefined when it is
neither in the truth nor in the prediction; means skip such classes, as
``keras.metrics.MeanIoU`` does.
"""

import numpy as np

from applied_ml.vision._mask_data import as_masks


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


def segmentation_scores(
    y_true, y_pred, *, labels=None, background: int | None = 0
) -> dict:
    """IoU, Dice and pixel accuracy of predicted class maps against true ones.

    The figures :meth:`ImageSegmenter.evaluate` reports, for masks from any
    model: counts are pooled over every pixel of every image (one confusion
    matrix), then divided.

    Parameters
    ----------
    y_true, y_pred : array-like or list of arrays
        Integer class maps, an array (n, height, width) or a list of
        (height, width) arrays; each predicted mask has its true mask's shape.
    labels : array-like, optional
        The class values; by default those found in ``y_true`` or ``y_pred``.
        A mask value outside ``labels`` is an error.
    background : int or None, default=0
        The background's value, one of the labels; None when every class is
        an object (``foreground_iou`` is then NaN).

    Returns
    -------
    dict
        ``mean_iou`` (over the classes in the truth or the prediction),
        ``mean_iou_foreground`` (without the background), ``foreground_iou``
        (any object against background), ``mean_dice``, ``pixel_accuracy``,
        and ``per_class_iou`` and ``per_class_dice`` (label to value, NaN for
        a label in neither).

    Examples
    --------
    >>> import numpy as np
    >>> from applied_ml.vision import segmentation_scores
    >>> true = np.array([[[0, 1], [1, 1]]])
    >>> pred = np.array([[[0, 1], [0, 1]]])
    >>> round(segmentation_scores(true, pred)["mean_iou"], 3)
    0.583
    """
    true = as_masks(y_true, "y_true")
    pred = as_masks(y_pred, "y_pred")
    if len(true) != len(pred):
        raise ValueError(
            f"`y_true` and `y_pred` must hold as many masks. Received: {len(true)} "
            f"and {len(pred)}."
        )
    for i, (t, p) in enumerate(zip(true, pred, strict=True)):
        if t.shape != p.shape:
            raise ValueError(
                f"Mask {i} of `y_pred` must have the shape of mask {i} of `y_true`, "
                f"{t.shape}. Received {p.shape}."
            )
    if labels is None:
        labels = np.unique(np.concatenate([np.unique(m) for m in true + pred]))
    labels = np.unique(np.asarray(labels).ravel())
    for name, masks in (("y_true", true), ("y_pred", pred)):
        for i, mask in enumerate(masks):
            outside = np.setdiff1d(np.unique(mask), labels)
            if outside.size:
                raise ValueError(
                    f"Mask {i} of `{name}` has values outside `labels` "
                    f"{labels.tolist()}. Received: {outside.tolist()}"
                )
    if background is not None and background not in labels:
        raise ValueError(
            f"`background` must be one of the labels {labels.tolist()[:12]}, or None "
            f"when every class is an object. Received: background={background!r}"
        )
    confusion = confusion_matrix(
        (np.searchsorted(labels, m) for m in true),
        (np.searchsorted(labels, m) for m in pred),
        len(labels),
    )
    index = None if background is None else int(np.searchsorted(labels, background))
    figures = segmentation_metrics(confusion, index)
    keys = labels.tolist()
    return {
        "mean_iou": figures["mean_iou"],
        "mean_iou_foreground": figures["mean_iou_foreground"],
        "foreground_iou": figures["foreground_iou"],
        "mean_dice": figures["mean_dice"],
        "pixel_accuracy": figures["pixel_accuracy"],
        "per_class_iou": dict(zip(keys, figures["iou"].tolist(), strict=True)),
        "per_class_dice": dict(zip(keys, figures["dice"].tolist(), strict=True)),
    }
