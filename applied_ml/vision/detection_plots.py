"""Figures of detections: labelled boxes on images, precision-recall curves."""

import numpy as np
from matplotlib.figure import Figure

from applied_ml.plots import class_name, save_figure
from applied_ml.vision._map import precision_recall
from applied_ml.vision.boxes import check_targets

_PREDICTED = "#ff3b30"
_TRUE = "#34c759"


def _draw(ax, image, result, truth, class_names) -> None:
    image = np.asarray(image)
    ax.imshow(image.squeeze(), cmap="gray" if image.ndim == 2 else None)
    ax.set_axis_off()
    if truth is not None:
        for box in truth[0]:
            ax.add_patch(_rectangle(box, _TRUE, "--"))
    for (x1, y1, x2, y2), score, label in zip(
        result["boxes"], result["scores"], result["labels"], strict=True
    ):
        ax.add_patch(_rectangle((x1, y1, x2, y2), _PREDICTED, "-"))
        ax.text(
            x1,
            y1,
            f"{class_name(label, class_names)} {score:.2f}",
            color="white",
            fontsize=6,
            va="bottom",
            bbox={"facecolor": _PREDICTED, "edgecolor": "none", "pad": 1},
        )


def _rectangle(box, color: str, style: str):
    from matplotlib.patches import Rectangle

    x1, y1, x2, y2 = box
    return Rectangle(
        (x1, y1), x2 - x1, y2 - y1, fill=False, edgecolor=color, lw=1.2, ls=style
    )


def plot_detections(
    images, results, path, *, truth=None, class_names=None, columns: int = 4
) -> str:
    """Draw predicted boxes (and optionally the true ones) on images, to a PNG.

    Parameters
    ----------
    images : array-like or list of arrays
        One image (height, width[, channels]) or several (a grid is drawn).
    results : dict or list of dict
        ``ObjectDetector.predict`` output: per image ``boxes``, ``scores``
        and ``labels``; drawn in red with their label and score.
    path : str or os.PathLike
        PNG file to write.
    truth : dict, pair or list of them, optional
        True targets, as in ``fit``; drawn in dashed green.
    class_names : sequence or dict, optional
        Names to print for the labels (label -> name).
    columns : int, default=4
        Images per row of the grid.

    Returns
    -------
    str
        The path written.
    """
    single = isinstance(results, dict)
    images = [images] if single else list(images)
    results = [results] if single else list(results)
    if len(images) != len(results):
        raise ValueError(
            "`images` and `results` must have one entry per image. Received: "
            f"{len(images)} image(s) and {len(results)} result(s)"
        )
    truths = [None] * len(images)
    if truth is not None:
        truth = [truth] if single else truth
        truths = check_targets(truth, [np.shape(image)[:2] for image in images])
    columns = min(columns, len(images))
    rows = -(-len(images) // columns)
    fig = Figure(figsize=(2.6 * columns, 2.6 * rows), layout="constrained")
    for i, (image, result, target) in enumerate(
        zip(images, results, truths, strict=True)
    ):
        _draw(fig.add_subplot(rows, columns, i + 1), image, result, target, class_names)
    if truth is not None:
        fig.suptitle("red: predicted (label, score) · dashed green: true", fontsize=8)
    return save_figure(fig, path)


def plot_pr_curves(
    true, results, path, *, class_names=None, iou_threshold: float = 0.5
) -> str:
    """Per-class precision-recall curves of detections, to a PNG.

    Parameters
    ----------
    true : list
        True targets per image, as in ``fit``.
    results : list of dict
        ``ObjectDetector.predict`` output for the same images (use a low
        ``score_threshold``, e.g. 0.001, to see the whole curve).
    path : str or os.PathLike
        PNG file to write.
    class_names : sequence or dict, optional
        Names for the legend (label -> name).
    iou_threshold : float, default=0.5
        Overlap a detection needs to count as a hit.

    Returns
    -------
    str
        The path written.
    """
    true = check_targets(true)
    if len(true) != len(results):
        raise ValueError(
            "`true` and `results` must have one entry per image. Received: "
            f"{len(true)} target(s) and {len(results)} result(s)"
        )
    pred = [(r["boxes"], r["scores"], r["labels"]) for r in results]
    labels = np.unique(np.concatenate([lab for _, lab in true if len(lab)] or [[]]))
    fig = Figure(figsize=(6, 4.5))
    ax = fig.add_subplot()
    for label in labels:
        precision, recall = precision_recall(
            true, pred, label, iou_threshold=iou_threshold
        )
        # the interpolated curve: best precision at this recall or beyond
        envelope = np.maximum.accumulate(precision[::-1])[::-1]
        ax.step(recall, envelope, where="post", label=class_name(label, class_names))
    ax.set_xlim(0, 1)
    ax.set_ylim(0, 1.02)
    ax.set_xlabel("recall")
    ax.set_ylabel("precision")
    ax.set_title(f"Precision-recall per class (IoU {iou_threshold:g})")
    ax.legend(fontsize=7, ncol=2, loc="best")
    ax.grid(alpha=0.3)
    return save_figure(fig, path)
