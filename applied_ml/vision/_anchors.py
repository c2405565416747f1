"""Anchor boxes from training boxes: k-means on (width, height), 1 - IoU distance."""

import numpy as np


def wh_iou(wh: np.ndarray, anchors: np.ndarray) -> np.ndarray:
    """IoU of boxes and anchors sharing one centre: (N, K), from sizes alone."""
    inter = np.minimum(wh[:, None, 0], anchors[None, :, 0]) * np.minimum(
        wh[:, None, 1], anchors[None, :, 1]
    )
    union = (wh[:, 0] * wh[:, 1])[:, None] + (anchors[:, 0] * anchors[:, 1])[None]
    return inter / np.maximum(union - inter, 1e-12)


def kmeans_anchors(
    wh,
    n_anchors: int,
    *,
    seed: int | None = None,
    n_init: int = 10,
    max_iter: int = 300,
) -> tuple[np.ndarray, float]:
    """Anchor sizes that cover ``wh`` best by IoU, and their mean best IoU.

    k-means with the distance 1 - IoU (YOLOv2's choice: a Euclidean distance
    would let large boxes dominate), seeded with k-means++ on that distance,
    each centre the median of its members, best of ``n_init`` runs.

    Parameters
    ----------
    wh : array-like of shape (N, 2)
        Widths and heights of the training boxes, in pixels (positive).
    n_anchors : int
        Number of anchors (at most the number of distinct sizes).
    seed : int, optional
        Seed of the initial centres.
    n_init : int, default=10
        Runs from different initial centres; the one with the best mean IoU wins.
    max_iter : int, default=300
        Most assignment rounds.

    Returns
    -------
    anchors : ndarray of shape (n_anchors, 2)
        Anchor widths and heights, sorted by area.
    mean_iou : float
        Mean over the boxes of their best IoU with an anchor.
    """
    wh = np.asarray(wh, dtype="float64").reshape(-1, 2)
    if len(wh) == 0 or (wh <= 0).any():
        raise ValueError(
            "Anchors need training boxes of positive width and height. Received: "
            f"{len(wh)} box(es), {int((wh <= 0).any(axis=1).sum())} of them empty"
        )
    distinct = len(np.unique(wh, axis=0))
    if not 1 <= n_anchors <= distinct:
        raise ValueError(
            f"`n_anchors` must be between 1 and the number of distinct training box "
            f"sizes ({distinct}). Received: n_anchors={n_anchors!r}"
        )
    rng = np.random.default_rng(seed)
    best = None
    for _ in range(n_init):  # k-means falls into local optima: keep the best run
        anchors = _kmeans(wh, n_anchors, rng, max_iter)
        mean_iou = float(wh_iou(wh, anchors).max(axis=1).mean())
        if best is None or mean_iou > best[1]:
            best = (anchors, mean_iou)
    return best


def _kmeans(wh: np.ndarray, n_anchors: int, rng, max_iter: int) -> np.ndarray:
    centres = [wh[rng.integers(len(wh))]]
    while len(centres) < n_anchors:  # k-means++ on 1 - IoU
        distance = 1 - wh_iou(wh, np.array(centres)).max(axis=1)
        centres.append(wh[rng.choice(len(wh), p=distance / distance.sum())])
    centres = np.array(centres)
    assigned = None
    for _ in range(max_iter):
        nearest = wh_iou(wh, centres).argmax(axis=1)
        if assigned is not None and np.array_equal(nearest, assigned):
            break
        assigned = nearest
        for k in range(n_anchors):
            members = wh[assigned == k]
            if len(members):
                centres[k] = np.median(members, axis=0)
    return centres[np.argsort(centres[:, 0] * centres[:, 1])]
