"""Which grid cell and anchor learns each ground-truth box (YOLO's assignment).

For a square image of ``size`` pixels and a grid of ``size / stride`` cells a
side, each ground-truth box is assigned to:

- the cell that holds its centre, and
- the anchor whose shape best matches it (IoU of the two boxes with a shared
  centre, from their sizes alone), and any other anchor of that cell whose
  shape matches it by at least ``match_iou``.

That cell and anchor's target holds the centre's offset within the cell
(``tx, ty`` in [0, 1), learnt through a sigmoid), the log of the box's size
relative to the anchor (``tw, th``), objectness 1 and the class. Every other
anchor of every cell is a negative (objectness 0), except those whose anchor
box, placed on its cell, overlaps some ground truth by more than
``ignore_iou``: objectness -1, left out of the objectness loss, because such a
prediction is nearly right and should not be pushed towards "no object". When
two boxes fall on the same cell and anchor, the later one in the list wins.
"""

import tensorflow as tf

# target channels: tx, ty, tw, th, objectness (1, 0 or -1 = ignore), class
TARGET_CHANNELS = 6


def _wh_iou(wh, anchors):
    inter = tf.minimum(wh[:, None, 0], anchors[None, :, 0]) * tf.minimum(
        wh[:, None, 1], anchors[None, :, 1]
    )
    union = (wh[:, 0] * wh[:, 1])[:, None] + (anchors[:, 0] * anchors[:, 1])[None]
    return inter / tf.maximum(union - inter, 1e-9)


def _iou(a, b):
    top_left = tf.maximum(a[:, None, :2], b[None, :, :2])
    bottom_right = tf.minimum(a[:, None, 2:], b[None, :, 2:])
    size = tf.maximum(bottom_right - top_left, 0.0)
    inter = size[..., 0] * size[..., 1]
    area_a = (a[:, 2] - a[:, 0]) * (a[:, 3] - a[:, 1])
    area_b = (b[:, 2] - b[:, 0]) * (b[:, 3] - b[:, 1])
    return inter / tf.maximum(area_a[:, None] + area_b[None] - inter, 1e-9)


def assign_targets(
    boxes,
    labels,
    anchors,
    *,
    size: int,
    stride: int,
    ignore_iou: float = 0.5,
    match_iou: float = 1.0,
):
    """The training target of one image for a grid head.

    Parameters
    ----------
    boxes : tf.Tensor of shape (N, 4)
        ``x1 y1 x2 y2`` in the (letterboxed) image's pixels; N may be 0.
    labels : tf.Tensor of shape (N,)
        Class indices 0..C-1.
    anchors : tf.Tensor of shape (A, 2)
        Anchor widths and heights in pixels.
    size : int
        Side of the square image.
    stride : int
        Pixels per grid cell (``size`` must be a multiple).
    ignore_iou : float, default=0.5
        Anchors on cells overlapping a ground truth by more than this, and
        not assigned, are ignored by the objectness loss.
    match_iou : float, default=1.0
        Besides its best anchor, every anchor of the centre cell whose shape
        overlaps the box by at least this learns it too (more positives,
        faster learning; NMS removes the duplicates). 1 keeps the best only.

    Returns
    -------
    tf.Tensor of shape (size // stride, size // stride, A, 6)
        Per cell and anchor: ``tx, ty, tw, th, objectness, class``.
    """
    cells = size // stride
    boxes = tf.reshape(tf.cast(boxes, tf.float32), [-1, 4])
    labels = tf.cast(tf.reshape(labels, [-1]), tf.float32)
    anchors = tf.cast(anchors, tf.float32)
    n_anchors = tf.shape(anchors)[0]
    wh = tf.maximum(boxes[:, 2:] - boxes[:, :2], 1e-3)
    centre = (boxes[:, :2] + boxes[:, 2:]) / 2.0
    grid_xy = centre / stride
    cell = tf.clip_by_value(tf.cast(tf.floor(grid_xy), tf.int32), 0, cells - 1)
    shape_iou = _wh_iou(wh, anchors)  # (N, A)
    best = tf.argmax(shape_iou, axis=1, output_type=tf.int32)
    best_only = tf.one_hot(best, n_anchors, on_value=True, off_value=False)
    chosen = (shape_iou >= match_iou) | best_only
    pairs = tf.where(chosen)  # (P, 2): box, anchor; in box order
    box_of, anchor_of = pairs[:, 0], tf.cast(pairs[:, 1], tf.int32)
    pair_cell = tf.gather(cell, box_of)
    offset = tf.gather(grid_xy, box_of) - tf.cast(pair_cell, tf.float32)
    log_wh = tf.math.log(tf.gather(wh, box_of) / tf.gather(anchors, anchor_of))
    pair_labels = tf.gather(labels, box_of)
    values = tf.concat(
        [offset, log_wh, tf.ones_like(pair_labels)[:, None], pair_labels[:, None]],
        axis=1,
    )
    # negatives and ignored anchors first: anchor boxes on every cell
    centres = (tf.cast(tf.range(cells), tf.float32) + 0.5) * stride
    cy, cx = tf.meshgrid(centres, centres, indexing="ij")
    cell_xy = tf.reshape(tf.stack([cx, cy], axis=-1), [-1, 1, 2])
    half = anchors[None] / 2.0
    anchor_boxes = tf.reshape(
        tf.concat([cell_xy - half, cell_xy + half], axis=-1), [-1, 4]
    )
    overlap = tf.reduce_max(
        tf.concat(
            [_iou(anchor_boxes, boxes), tf.zeros([tf.shape(anchor_boxes)[0], 1])], 1
        ),
        axis=1,
    )
    objectness = tf.where(overlap > ignore_iou, -1.0, 0.0)
    empty = tf.concat(
        [tf.zeros([cells * cells * n_anchors, 4]), objectness[:, None],
         tf.zeros([cells * cells * n_anchors, 1])],
        axis=1,
    )  # fmt: skip
    target = tf.reshape(empty, [cells, cells, n_anchors, 6])
    index = tf.stack([pair_cell[:, 1], pair_cell[:, 0], anchor_of], axis=1)
    return tf.tensor_scatter_nd_update(target, index, values)
