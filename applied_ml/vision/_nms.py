"""Per-class non-max suppression in TensorFlow (runs inside exported graphs)."""

import tensorflow as tf


def batched_nms(
    boxes,
    scores,
    labels,
    *,
    n_classes,
    iou_threshold,
    score_threshold,
    max_detections: int,
):
    """Keep the best boxes of each class of every image, highest score first.

    Boxes of different classes never suppress each other. One call of
    TensorFlow's combined NMS kernel handles the whole batch: each box is
    offered to its own class only (score -1 for the others, below any
    threshold), so a box is never returned twice.

    Parameters
    ----------
    boxes : tf.Tensor of shape (B, N, 4)
        ``x1 y1 x2 y2``, float.
    scores : tf.Tensor of shape (B, N)
        Confidence of each box.
    labels : tf.Tensor of shape (B, N)
        Integer class of each box, in ``[0, n_classes)``.
    n_classes : int or tf.Tensor
        Number of classes.
    iou_threshold : float or tf.Tensor
        Boxes of one class overlapping a kept one by more than this go.
    score_threshold : float or tf.Tensor
        Boxes scoring below this go first.
    max_detections : int
        Most boxes kept per image.

    Returns
    -------
    boxes : tf.Tensor of shape (B, max_detections, 4)
    scores : tf.Tensor of shape (B, max_detections)
    labels : tf.Tensor of shape (B, max_detections), int64
    count : tf.Tensor of shape (B,), int32
        Kept boxes per image; rows beyond it are zeros.
    """
    boxes = tf.convert_to_tensor(boxes, tf.float32)
    scores = tf.convert_to_tensor(scores, tf.float32)
    own = tf.one_hot(tf.cast(labels, tf.int32), n_classes, True, False)
    class_scores = tf.where(own, scores[..., None], -1.0)
    # the kernel wants (y1, x1, y2, x2); IoU is the same either way round
    kept, kept_scores, kept_labels, count = tf.image.combined_non_max_suppression(
        tf.gather(boxes, [1, 0, 3, 2], axis=-1)[:, :, None, :],
        class_scores,
        max_output_size_per_class=max_detections,
        max_total_size=max_detections,
        iou_threshold=iou_threshold,
        score_threshold=score_threshold,
        clip_boxes=False,
    )
    return (
        tf.gather(kept, [1, 0, 3, 2], axis=-1),
        kept_scores,
        tf.cast(kept_labels, tf.int64),
        count,
    )


def per_class_nms(
    boxes,
    scores,
    labels,
    *,
    iou_threshold: float,
    score_threshold: float,
    max_detections: int,
):
    """Keep the best boxes of each class of one image, highest score first.

    Boxes of different classes never suppress each other (see
    :func:`batched_nms`, which this calls with a batch of one).

    Parameters
    ----------
    boxes : tf.Tensor of shape (N, 4)
        ``x1 y1 x2 y2``, float.
    scores : tf.Tensor of shape (N,)
        Confidence of each box.
    labels : tf.Tensor of shape (N,)
        Integer class of each box.
    iou_threshold : float
        Boxes of one class overlapping a kept one by more than this go.
    score_threshold : float
        Boxes scoring below this go first.
    max_detections : int
        Most boxes kept.

    Returns
    -------
    (boxes, scores, labels) : tuple of tf.Tensor
        The kept boxes (K×4), scores (K) and labels (K), K <= max_detections.
    """
    labels = tf.convert_to_tensor(labels)
    n_classes = tf.maximum(tf.cast(tf.reduce_max(labels), tf.int32) + 1, 1)
    kept, kept_scores, kept_labels, count = batched_nms(
        tf.convert_to_tensor(boxes, tf.float32)[None],
        tf.convert_to_tensor(scores, tf.float32)[None],
        labels[None],
        n_classes=n_classes,
        iou_threshold=iou_threshold,
        score_threshold=score_threshold,
        max_detections=max_detections,
    )
    n = count[0]
    return kept[0, :n], kept_scores[0, :n], tf.cast(kept_labels[0, :n], labels.dtype)
