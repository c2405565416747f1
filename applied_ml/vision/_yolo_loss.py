"""The YOLO loss of a grid head, as a serializable Keras loss."""

import keras
import tensorflow as tf


@keras.saving.register_keras_serializable(package="applied_ml")
class YoloLoss(keras.losses.Loss):
    """Box, objectness and class loss of a grid head against assigned targets.

    ``y_true`` comes from ``assign_targets`` (batched): per cell and anchor
    ``tx, ty, tw, th, objectness, class`` with objectness 1 (assigned), 0
    (negative) or -1 (ignored). ``y_pred`` is the raw head output, ``5 + C``
    channels. On assigned anchors: binary cross-entropy of the sigmoid centre
    offsets, squared error of the log sizes, and class cross-entropy. On
    assigned and negative anchors (not ignored ones): objectness binary
    cross-entropy, negatives weighted by ``noobj_weight``. Sums are divided by
    the number of images.

    Parameters
    ----------
    box_weight : float, default=5.0
        Weight of the box terms.
    noobj_weight : float, default=0.5
        Weight of the objectness term on negatives (they far outnumber
        positives).
    class_weight : float, default=1.0
        Weight of the class term.
    name : str, default="yolo_loss"
        Name of the loss.
    """

    def __init__(
        self,
        box_weight: float = 5.0,
        noobj_weight: float = 0.5,
        class_weight: float = 1.0,
        name: str = "yolo_loss",
        **kwargs,
    ):
        super().__init__(name=name, **kwargs)
        self.box_weight = box_weight
        self.noobj_weight = noobj_weight
        self.class_weight = class_weight

    def call(self, y_true, y_pred):
        y_true = tf.cast(y_true, tf.float32)
        y_pred = tf.cast(y_pred, tf.float32)
        objectness = y_true[..., 4]
        positive = tf.cast(objectness > 0.5, tf.float32)
        negative = tf.cast(tf.abs(objectness) < 0.5, tf.float32)
        bce = tf.nn.sigmoid_cross_entropy_with_logits
        centre = tf.reduce_sum(
            bce(labels=y_true[..., :2], logits=y_pred[..., :2]), axis=-1
        )
        size = tf.reduce_sum(tf.square(y_true[..., 2:4] - y_pred[..., 2:4]), axis=-1)
        obj = bce(labels=positive, logits=y_pred[..., 4])
        classes = tf.nn.sparse_softmax_cross_entropy_with_logits(
            labels=tf.cast(y_true[..., 5], tf.int32), logits=y_pred[..., 5:]
        )
        per_anchor = (
            positive * (self.box_weight * (centre + size) + obj)
            + negative * self.noobj_weight * obj
            + positive * self.class_weight * classes
        )
        rank = tf.rank(per_anchor)
        # one loss per image: the sum over its cells and anchors
        return tf.reduce_sum(per_anchor, axis=tf.range(1, rank))

    def get_config(self) -> dict:
        return {
            **super().get_config(),
            "box_weight": self.box_weight,
            "noobj_weight": self.noobj_weight,
            "class_weight": self.class_weight,
        }
