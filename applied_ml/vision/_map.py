"""COCO-style mean average precision of detections, our own implementation.

It follows the COCO evaluation protocol for boxes with every area ("all")
and up to ``max_detections`` detections per image and class: greedy matching
of score-sorted detections to the unmatched ground truth of highest IoU,
precision made monotone, then read at 101 recall points. A class without
ground truth is left out of the means, as in COCO.
"""

import numpy as np

from applied_ml.vision.boxes import iou_matrix

IOU_THRESHOLDS = np.linspace(0.5, 0.95, 10)
_RECALL_POINTS = np.linspace(0.0, 1.0, 101)


def _match(pred_boxes, true_boxes, thresholds) -> np.ndarray:
    """(T, D) bool: is detection d (score-sorted) a true positive at IoU t."""
    matched = np.zeros((len(thresholds), len(pred_boxes)), dtype=bool)
    if len(pred_boxes) == 0 or len(true_boxes) == 0:
        return matched
    ious = iou_matrix(pred_boxes, true_boxes)
    last = len(true_boxes) - 1
    for t, threshold in enumerate(thresholds):
        taken = np.zeros(len(true_boxes), dtype=bool)
        for d in range(len(pred_boxes)):
            # the untaken ground truth of highest IoU, the last one on ties (as
            # COCO's scan in order, replacing on >=, picks)
            free = np.where(taken, -1.0, ious[d])
            best = last - int(np.argmax(free[::-1]))
            if free[best] >= min(threshold, 1 - 1e-10):
                taken[best] = True
                matched[t, d] = True
    return matched


def _average_precision(scores, hits, n_true) -> tuple[np.ndarray, np.ndarray]:
    """AP and recall per threshold, from pooled detections of one class."""
    order = np.argsort(-scores, kind="mergesort")
    hits = hits[:, order]
    tp = np.cumsum(hits, axis=1, dtype="float64")
    fp = np.cumsum(~hits, axis=1, dtype="float64")
    ap = np.zeros(len(hits))
    recall = np.zeros(len(hits))
    for t in range(len(hits)):
        if hits.shape[1] == 0:
            continue
        rc = tp[t] / n_true
        pr = tp[t] / (tp[t] + fp[t] + np.spacing(1))
        pr = np.maximum.accumulate(pr[::-1])[::-1]  # monotone from the right
        recall[t] = rc[-1]
        index = np.searchsorted(rc, _RECALL_POINTS, side="left")
        valid = index < len(pr)
        ap[t] = np.where(valid, pr[np.minimum(index, len(pr) - 1)], 0.0).mean()
    return ap, recall


def _as_arrays(true, pred) -> tuple[list, list]:
    """Every image's arrays once (not once per class)."""
    true = [
        (np.asarray(b, "float64").reshape(-1, 4), np.asarray(lab).reshape(-1))
        for b, lab in true
    ]
    pred = [
        (
            np.asarray(b, "float64").reshape(-1, 4),
            np.asarray(s, "float64").reshape(-1),
            np.asarray(lab).reshape(-1),
        )
        for b, s, lab in pred
    ]
    return true, pred


def _pooled(true, pred, label, thresholds, max_detections):
    """One class's detections over all images: scores, hits (T, D), true count."""
    scores, hits, n_true = [], [], 0
    for (t_boxes, t_labels), (p_boxes, p_scores, p_labels) in zip(
        true, pred, strict=True
    ):
        gt = t_boxes[t_labels == label]
        mine = np.flatnonzero(p_labels == label)
        mine = mine[np.argsort(-p_scores[mine], kind="mergesort")][:max_detections]
        hits.append(_match(p_boxes[mine], gt, thresholds))
        scores.append(p_scores[mine])
        n_true += len(gt)
    return np.concatenate(scores), np.concatenate(hits, axis=1), n_true


def precision_recall(
    true, pred, label, *, iou_threshold: float = 0.5, max_detections: int = 100
) -> tuple[np.ndarray, np.ndarray]:
    """Precision and recall of one class after each detection, best score first.

    Matching follows :func:`detection_map` at one IoU threshold.

    Parameters
    ----------
    true : list of (boxes, labels)
        Ground truth per image.
    pred : list of (boxes, scores, labels)
        Detections per image.
    label : object
        The class.
    iou_threshold : float, default=0.5
        Overlap a detection needs to be a hit.
    max_detections : int, default=100
        Detections kept per image and class.

    Returns
    -------
    precision, recall : ndarray
        One value per detection of the class, in decreasing score order.
    """
    true, pred = _as_arrays(true, pred)
    scores, hits, n_true = _pooled(true, pred, label, [iou_threshold], max_detections)
    tp = np.cumsum(hits[0, np.argsort(-scores, kind="mergesort")])
    return tp / np.arange(1, len(tp) + 1), tp / max(n_true, 1)


def detection_map(
    true: list[tuple], pred: list[tuple], *, max_detections: int = 100
) -> dict:
    """COCO box mAP of per-image predictions against per-image ground truth.

    Parameters
    ----------
    true : list of (boxes, labels)
        Ground truth per image, ``x1 y1 x2 y2`` boxes.
    pred : list of (boxes, scores, labels)
        Detections per image.
    max_detections : int, default=100
        Detections kept per image and class, highest scores first.

    Returns
    -------
    dict
        ``map`` (mAP@[.5:.95]), ``map_50``, ``map_75``, ``recall`` (mean
        recall over thresholds and classes), ``per_class_ap`` and
        ``per_class_recall`` (label to value, at IoU .5:.95).
    """
    true, pred = _as_arrays(true, pred)
    classes = np.unique(np.concatenate([lab for _, lab in true] or [[]]))
    per_class_ap, per_class_recall, aps = {}, {}, []
    for label in classes:
        ap, recall = _average_precision(
            *_pooled(true, pred, label, IOU_THRESHOLDS, max_detections)
        )
        aps.append(ap)
        per_class_ap[label.item()] = float(ap.mean())
        per_class_recall[label.item()] = float(recall.mean())
    if not aps:
        raise ValueError("The ground truth holds no boxes: mAP is undefined.")
    aps = np.array(aps)  # (classes, thresholds)
    return {
        "map": float(aps.mean()),
        "map_50": float(aps[:, 0].mean()),
        "map_75": float(aps[:, 5].mean()),
        "recall": float(np.mean(list(per_class_recall.values()))),
        "per_class_ap": per_class_ap,
        "per_class_recall": per_class_recall,
    }
