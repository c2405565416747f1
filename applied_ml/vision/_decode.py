"""Grid-head outputs to boxes, scores and classes (the inverse of the assignment).

A head's raw output for one image has shape (S, S, A, 5 + C): per cell and
anchor, ``tx, ty`` (through a sigmoid, the centre's offset in the cell),
``tw, th`` (log size relative to the anchor), an objectness logit and C class
logits. A box's score is sigmoid(objectness) times its class's softmax
probability, and its label the most probable class.
"""

import tensorflow as tf


def decode_grid(raw, anchors, *, stride: int):
    """Every cell and anchor's box, score and class, for one image or a batch.

    Parameters
    ----------
    raw : tf.Tensor of shape ([B,] S, S, A, 5 + C)
        The head's output for one image, or a batch of them.
    anchors : tf.Tensor of shape (A, 2)
        Anchor widths and heights in pixels.
    stride : int
        Pixels per cell.

    Returns
    -------
    boxes : tf.Tensor of shape ([B,] S * S * A, 4)
        ``x1 y1 x2 y2`` in the head's input pixels.
    scores : tf.Tensor of shape ([B,] S * S * A)
        Objectness times the best class probability.
    labels : tf.Tensor of shape ([B,] S * S * A)
        Class indices (int64).
    """
    raw = tf.cast(raw, tf.float32)
    cells = tf.shape(raw)[-4]
    index = tf.cast(tf.range(cells), tf.float32)
    rows, cols = tf.meshgrid(index, index, indexing="ij")
    cell_xy = tf.stack([cols, rows], axis=-1)[:, :, None, :]  # (S, S, 1, 2)
    centre = (tf.sigmoid(raw[..., :2]) + cell_xy) * stride
    size = tf.cast(anchors, tf.float32) * tf.exp(tf.minimum(raw[..., 2:4], 10.0))
    boxes = tf.concat([centre - size / 2, centre + size / 2], axis=-1)
    objectness = tf.sigmoid(raw[..., 4])
    classes = tf.nn.softmax(raw[..., 5:], axis=-1)
    scores = objectness * tf.reduce_max(classes, axis=-1)
    labels = tf.argmax(classes, axis=-1)
    batch = tf.shape(raw)[:-4]  # empty for one image
    return (
        tf.reshape(boxes, tf.concat([batch, [-1, 4]], 0)),
        tf.reshape(scores, tf.concat([batch, [-1]], 0)),
        tf.reshape(labels, tf.concat([batch, [-1]], 0)),
    )
