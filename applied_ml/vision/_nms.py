"""Per-class non-max suppression in TensorFlow (runs inside exported graphs)."""

import tensorflow as tf


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

    Boxes of different classes never suppress each other: each class's boxes
    are shifted by a multiple of the largest coordinate before one call of
    TensorFlow's NMS kernel, so no box of one class can overlap a box of
    another (the "batched NMS" idiom; one kernel call instead of one per
    class).

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
    boxes = tf.convert_to_tensor(boxes, tf.float32)
    scores = tf.convert_to_tensor(scores, tf.float32)
    labels = tf.convert_to_tensor(labels)
    # an empty reduce_max is -inf: the maximum with 0 keeps the span finite
    span = tf.maximum(tf.reduce_max(tf.abs(boxes)), 0.0) + 1.0
    shifted = boxes + tf.cast(labels, tf.float32)[:, None] * span
    # the kernel wants (y1, x1, y2, x2); IoU is the same either way round
    keep, _ = tf.image.non_max_suppression_with_scores(
        tf.gather(shifted, [1, 0, 3, 2], axis=1),
        scores,
        max_output_size=max_detections,
        iou_threshold=iou_threshold,
        score_threshold=score_threshold,
    )
    return tf.gather(boxes, keep), tf.gather(scores, keep), tf.gather(labels, keep)
