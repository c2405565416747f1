"""How ObjectDetector turns images and boxes into training targets.

Per image, inside the input pipeline: boxes move to the letterboxed pixels,
the random box-aware transforms run (seeded, one batch at a time), and the
boxes are assigned to grid cells and anchors (``_assign.assign_targets``).
"""

import tensorflow as tf

from applied_ml.vision._assign import TARGET_CHANNELS, assign_targets
from applied_ml.vision._box_augment import (
    flip_left_right,
    jitter_color,
    letterbox_boxes,
    scale_translate,
)
from applied_ml.vision._detector_model import STRIDE
from applied_ml.vision._seeded import SeededAugmentMixin

# Random scale-and-crop range and translation (share of the side) in training.
_ZOOM = 0.25
_SHIFT = 0.1


class DetectionEncodingMixin(SeededAugmentMixin):
    """Mixin of ``ObjectDetector``: the ``_encode`` hook and its pieces."""

    def _encode(self, inputs, targets, *, training: bool):
        images = tf.cast(inputs["images"], tf.float32)
        if targets is None:
            return images, None
        targets = self._target_tensor(targets)
        boxes = letterbox_boxes(targets[..., :4], inputs["transforms"])
        labels = targets[..., 4]
        augment = bool(training and self.augmentation)
        seeds = self._augment_seeds(tf.shape(images)[0], augment)

        def one(args):
            image, image_boxes, image_labels, seed = args
            keep = image_labels >= 0
            image_boxes = tf.boolean_mask(image_boxes, keep)
            image_labels = tf.boolean_mask(image_labels, keep)
            if augment:
                image, image_boxes, image_labels = self._augment(
                    image, image_boxes, image_labels, seed
                )
            grid = assign_targets(
                image_boxes,
                image_labels,
                self.meta_["anchors"],
                size=self.image_size,
                stride=STRIDE,
                ignore_iou=self.ignore_iou,
                match_iou=self.match_iou,
            )
            return image, grid

        cells = self.image_size // STRIDE
        grid_spec = tf.TensorSpec(
            [cells, cells, len(self.meta_["anchors"]), TARGET_CHANNELS], tf.float32
        )
        return tf.map_fn(
            one,
            (images, boxes, labels, seeds),
            fn_output_signature=(
                tf.TensorSpec(images.shape[1:], tf.float32),
                grid_spec,
            ),
        )

    def _augment(self, image, boxes, labels, seed):
        """Random box-aware transforms of one letterboxed image."""
        draws = tf.random.stateless_uniform([4], seed, 0.0, 1.0)
        aug = set(self.augmentation)
        if "flip" in aug:
            image, boxes = tf.cond(
                draws[0] < 0.5,
                lambda: flip_left_right(image, boxes),
                lambda: (image, boxes),
            )
        zoom = 1.0 + _ZOOM * (2 * draws[1] - 1) if "scale" in aug else 1.0
        shift = (
            _SHIFT * self.image_size * (2 * draws[2:4] - 1)
            if "translation" in aug
            else tf.zeros([2])
        )
        if "scale" in aug or "translation" in aug:
            image, boxes, labels = scale_translate(
                image, boxes, labels, zoom=zoom, shift=shift
            )
        if "color" in aug:
            image = jitter_color(image, seed)
        return image, boxes, labels

    def _target_tensor(self, targets):
        """Prepared (B, M, 5) targets, or a tf.data batch's dict made so."""
        if not isinstance(targets, dict):
            return tf.cast(targets, tf.float32)
        boxes, labels = targets["boxes"], targets["labels"]
        if isinstance(labels, tf.RaggedTensor):
            index = tf.cast(self._label_index_tf(labels.flat_values), tf.float32)
            labels = labels.with_flat_values(index).to_tensor(default_value=-1.0)
            boxes = boxes.to_tensor()
        else:
            if labels.dtype.is_integer:
                valid = tf.not_equal(labels, -1)
            else:
                valid = tf.ones_like(labels, tf.bool)
            known = tf.boolean_mask(labels, valid)
            index = tf.scatter_nd(
                tf.where(valid),
                self._label_index_tf(known),
                tf.shape(labels, out_type=tf.int64),
            )
            labels = tf.where(valid, tf.cast(index, tf.float32), -1.0)
        boxes = tf.cast(boxes, tf.float32)
        return tf.concat([boxes, labels[..., None]], axis=-1)
