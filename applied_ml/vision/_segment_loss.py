"""Per-pixel segmentation loss: cross-entropy, soft Dice, their sum, or focal.

Targets are class indices per pixel, -1 where there is nothing to learn (the
letterbox padding); those pixels add nothing to any term. Every term is
computed per image, so per-image sample weights apply as Keras applies them.

The Dice term averages over the classes present in each image's target only.
Averaged over every class instead, each class absent from an image pushes its
probabilities to zero there with a per-pixel gradient far larger than the pull
of a present class (the smoothing term makes an absent class's Dice
``1 / (1 + sum of its probabilities)``), and the model learns to avoid the
classes it is unsure of. On the scenes, after 280 training steps, the mean
IoU was 0.15 with the Dice of present classes (two runs) against 0.11 over all
classes; after 690 steps 0.30-0.33 against 0.30, within the runs' spread.
"""

import keras
from keras import ops

LOSSES = ("ce", "dice", "ce+dice", "focal")
_EPSILON = 1e-7
# Dice smoothing: keeps the coefficient defined and its gradient bounded.
_SMOOTH = 1.0
_FOCAL_GAMMA = 2.0


@keras.saving.register_keras_serializable(package="applied_ml")
class SegmentationLoss(keras.losses.Loss):
    """Loss of per-pixel class probabilities against class-index masks.

    Parameters
    ----------
    kind : {"ce", "dice", "ce+dice", "focal"}, default="ce+dice"
        Cross-entropy; one minus the soft Dice coefficient averaged over
        the classes present in each image's target; their sum; or focal
        loss (cross-entropy scaled by ``(1 - p)**2``, which quiets the many
        easy background pixels).
    class_weights : sequence of float, optional
        Per-class weight of each pixel's cross-entropy or focal term
        (Dice is unweighted).
    name : str, default="segmentation_loss"
        Name of the loss.
    """

    def __init__(
        self,
        kind: str = "ce+dice",
        class_weights=None,
        name: str = "segmentation_loss",
        **kwargs,
    ):
        super().__init__(name=name, **kwargs)
        if kind not in LOSSES:
            raise ValueError(f"`kind` must be one of {LOSSES}. Received: kind={kind!r}")
        self.kind = kind
        self.class_weights = None if class_weights is None else list(class_weights)

    def call(self, y_true, y_pred):
        n_classes = ops.shape(y_pred)[-1]
        labels = ops.cast(y_true, "int32")
        valid = ops.cast(labels >= 0, y_pred.dtype)
        one_hot = ops.one_hot(ops.maximum(labels, 0), n_classes, dtype=y_pred.dtype)
        one_hot = one_hot * valid[..., None]
        proba = ops.clip(y_pred, _EPSILON, 1.0 - _EPSILON)
        pixels = ops.maximum(ops.sum(valid, axis=(1, 2)), 1.0)
        loss = 0.0
        if self.kind in ("ce", "ce+dice", "focal"):
            p_true = ops.sum(one_hot * proba, axis=-1)
            per_pixel = -ops.log(ops.maximum(p_true, _EPSILON)) * valid
            if self.kind == "focal":
                per_pixel = per_pixel * (1.0 - p_true) ** _FOCAL_GAMMA
            if self.class_weights is not None:
                weights = ops.convert_to_tensor(self.class_weights, y_pred.dtype)
                per_pixel = per_pixel * ops.sum(one_hot * weights, axis=-1)
            loss = loss + ops.sum(per_pixel, axis=(1, 2)) / pixels
        if self.kind in ("dice", "ce+dice"):
            masked = proba * valid[..., None]
            overlap = ops.sum(masked * one_hot, axis=(1, 2))
            count = ops.sum(one_hot, axis=(1, 2))
            total = ops.sum(masked, axis=(1, 2)) + count
            dice = (2.0 * overlap + _SMOOTH) / (total + _SMOOTH)
            present = ops.cast(count > 0, y_pred.dtype)
            n_present = ops.maximum(ops.sum(present, axis=-1), 1.0)
            loss = loss + ops.sum((1.0 - dice) * present, axis=-1) / n_present
        return loss

    def get_config(self) -> dict:
        return {
            **super().get_config(),
            "kind": self.kind,
            "class_weights": self.class_weights,
        }
