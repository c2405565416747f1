"""Bounding boxes: the one format inside the package, conversions, IoU, checks.

Inside ``applied_ml`` a box is ``(x1, y1, x2, y2)`` in pixels of its image,
float, with ``x1 <= x2`` and ``y1 <= y2``; an image's targets are ``boxes`` of
shape (N, 4) and ``labels`` of shape (N,), and N may be 0. File formats that
store boxes otherwise (YOLO's normalised centres, COCO's ``x, y, w, h``) are
converted at the boundary by the readers in ``applied_ml.datasets``.
"""

import numpy as np

__all__ = [
    "box_area",
    "check_inside",
    "check_targets",
    "cxcywh_to_xyxy",
    "iou_matrix",
    "xywh_to_xyxy",
    "xyxy_to_cxcywh",
    "xyxy_to_xywh",
]


def _as_boxes(boxes, name: str = "boxes") -> np.ndarray:
    array = np.asarray(boxes, dtype="float64")
    if array.size == 0:
        return array.reshape(0, 4)
    if array.ndim != 2 or array.shape[1] != 4:
        raise ValueError(
            f"`{name}` must have shape (N, 4). Received: shape {array.shape}"
        )
    return array


def xyxy_to_cxcywh(boxes) -> np.ndarray:
    """Corner boxes ``(x1, y1, x2, y2)`` to centre boxes ``(cx, cy, w, h)``.

    Parameters
    ----------
    boxes : array-like of shape (N, 4)
        Boxes as corners.

    Returns
    -------
    ndarray of shape (N, 4)
        The same boxes as centre, width and height.
    """
    b = _as_boxes(boxes)
    return np.stack(
        [
            (b[:, 0] + b[:, 2]) / 2,
            (b[:, 1] + b[:, 3]) / 2,
            b[:, 2] - b[:, 0],
            b[:, 3] - b[:, 1],
        ],
        axis=1,
    )


def cxcywh_to_xyxy(boxes) -> np.ndarray:
    """Centre boxes ``(cx, cy, w, h)`` to corner boxes ``(x1, y1, x2, y2)``.

    Parameters
    ----------
    boxes : array-like of shape (N, 4)
        Boxes as centre, width and height.

    Returns
    -------
    ndarray of shape (N, 4)
        The same boxes as corners.
    """
    b = _as_boxes(boxes)
    half_w, half_h = b[:, 2] / 2, b[:, 3] / 2
    return np.stack(
        [b[:, 0] - half_w, b[:, 1] - half_h, b[:, 0] + half_w, b[:, 1] + half_h],
        axis=1,
    )


def xyxy_to_xywh(boxes) -> np.ndarray:
    """Corner boxes to COCO's ``(x, y, w, h)`` (top-left corner and size).

    Parameters
    ----------
    boxes : array-like of shape (N, 4)
        Boxes as corners.

    Returns
    -------
    ndarray of shape (N, 4)
        The same boxes as top-left corner, width and height.
    """
    b = _as_boxes(boxes)
    return np.concatenate([b[:, :2], b[:, 2:] - b[:, :2]], axis=1)


def xywh_to_xyxy(boxes) -> np.ndarray:
    """COCO's ``(x, y, w, h)`` boxes to corners ``(x1, y1, x2, y2)``.

    Parameters
    ----------
    boxes : array-like of shape (N, 4)
        Boxes as top-left corner, width and height.

    Returns
    -------
    ndarray of shape (N, 4)
        The same boxes as corners.
    """
    b = _as_boxes(boxes)
    return np.concatenate([b[:, :2], b[:, :2] + b[:, 2:]], axis=1)


def box_area(boxes) -> np.ndarray:
    """Areas of corner boxes (0 for empty or inverted ones).

    Parameters
    ----------
    boxes : array-like of shape (N, 4)
        Boxes as corners.

    Returns
    -------
    ndarray of shape (N,)
        Width times height of each box.
    """
    b = _as_boxes(boxes)
    return np.clip(b[:, 2] - b[:, 0], 0, None) * np.clip(b[:, 3] - b[:, 1], 0, None)


def iou_matrix(a, b) -> np.ndarray:
    """Intersection over union of every box of ``a`` with every box of ``b``.

    Parameters
    ----------
    a : array-like of shape (N, 4)
        Boxes as corners.
    b : array-like of shape (M, 4)
        Boxes as corners.

    Returns
    -------
    ndarray of shape (N, M)
        IoU in [0, 1]; 0 where the union is empty.
    """
    a, b = _as_boxes(a, "a"), _as_boxes(b, "b")
    top_left = np.maximum(a[:, None, :2], b[None, :, :2])
    bottom_right = np.minimum(a[:, None, 2:], b[None, :, 2:])
    size = np.clip(bottom_right - top_left, 0, None)
    inter = size[..., 0] * size[..., 1]
    union = box_area(a)[:, None] + box_area(b)[None, :] - inter
    with np.errstate(invalid="ignore", divide="ignore"):
        return np.where(union > 0, inter / np.where(union > 0, union, 1), 0.0)


def _one_target(target, index: int) -> tuple:
    if isinstance(target, dict):
        missing = {"boxes", "labels"} - set(target)
        if missing:
            raise ValueError(
                f"The target of image {index} must have the keys 'boxes' and "
                f"'labels'. Received: keys {sorted(target)}"
            )
        return target["boxes"], target["labels"]
    if isinstance(target, tuple | list) and len(target) == 2:
        return target
    raise TypeError(
        f"The target of image {index} must be a (boxes, labels) pair or a dict "
        f"with 'boxes' and 'labels'. Received: {type(target).__name__}"
    )


def check_inside(boxes, image_size, index: int) -> None:
    """Raise a ValueError naming image ``index`` if a box leaves the image.

    Parameters
    ----------
    boxes : ndarray of shape (N, 4)
        ``x1 y1 x2 y2`` in pixels.
    image_size : (height, width)
        The image's size.
    index : int
        The image's position, for the message.
    """
    height, width = (float(v) for v in image_size)
    boxes = np.asarray(boxes).reshape(-1, 4)
    outside = (
        (boxes[:, 0] < 0)
        | (boxes[:, 1] < 0)
        | (boxes[:, 2] > width)
        | (boxes[:, 3] > height)
    )
    if outside.any():
        raise ValueError(
            f"Image {index} has a box outside the image ({width:g}x{height:g} "
            f"pixels, width x height). Received: {boxes[outside][0].tolist()}"
        )


def check_targets(y, image_sizes=None) -> list[tuple[np.ndarray, np.ndarray]]:
    """Validate detection targets against their images' sizes.

    Parameters
    ----------
    y : sequence
        One target per image: a ``(boxes, labels)`` pair or a dict with
        ``"boxes"`` (N×4, ``x1 y1 x2 y2`` in pixels) and ``"labels"`` (N).
        N may be 0.
    image_sizes : sequence of (height, width), optional
        The size of each image, in the order of ``y``; None skips the check
        that boxes lie inside their images.

    Returns
    -------
    list of (ndarray, ndarray)
        Per image, float32 boxes of shape (N, 4) and labels of shape (N,).

    Raises
    ------
    ValueError
        When the number of targets differs from the number of images, or a
        box is inverted, outside its image or not finite, or boxes and labels
        differ in length; the message names the image index.
    """
    if isinstance(y, dict) or isinstance(y, str | bytes) or not hasattr(y, "__len__"):
        raise TypeError(
            "`y` must be a sequence with one target per image. Received: "
            f"{type(y).__name__}"
        )
    if image_sizes is not None and len(y) != len(image_sizes):
        raise ValueError(
            f"`y` must hold one target per image: {len(image_sizes)} image(s). "
            f"Received: {len(y)} target(s)"
        )
    checked = []
    for index, target in enumerate(y):
        raw_boxes, raw_labels = _one_target(target, index)
        try:
            boxes = _as_boxes(raw_boxes)
        except ValueError as err:
            raise ValueError(f"Image {index}: {err}") from None
        labels = np.asarray(raw_labels).reshape(-1)
        if len(labels) != len(boxes):
            raise ValueError(
                f"Image {index} has {len(boxes)} box(es) but {len(labels)} "
                f"label(s); they must pair up. Received: labels={labels.tolist()}"
            )
        if not np.isfinite(boxes).all():
            raise ValueError(
                f"Image {index} has a box that is not finite. Received: "
                f"{boxes[~np.isfinite(boxes).all(axis=1)][0].tolist()}"
            )
        inverted = (boxes[:, 2] < boxes[:, 0]) | (boxes[:, 3] < boxes[:, 1])
        if inverted.any():
            raise ValueError(
                f"Image {index} has a box with x2 < x1 or y2 < y1; boxes are "
                f"(x1, y1, x2, y2) in pixels. Received: {boxes[inverted][0].tolist()}"
            )
        if image_sizes is not None:
            check_inside(boxes, image_sizes[index], index)
        checked.append((boxes.astype("float32"), labels))
    return checked
