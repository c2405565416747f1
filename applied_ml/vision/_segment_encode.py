"""How ImageSegmenter turns letterboxed images and masks into training pairs.

Per image, inside the input pipeline and seeded: a left-right flip, a zoom
about the centre (scale-and-crop) and a shift move the image and its mask
together; the image is resampled bilinearly, the mask by nearest neighbour,
and pixels uncovered by the move get padding in the image and "ignore" (-1)
in the mask. Colour jitter touches the image only.
"""

import tensorflow as tf

from applied_ml.vision._box_augment import (
    PAD_VALUE,
    jitter_color,
    letterbox,
    letterbox_geometry,
    zoom_shift,
)
from applied_ml.vision._mask_data import IGNORE
from applied_ml.vision._seeded import SeededAugmentMixin

# Random scale-and-crop range and translation (share of the side) in training.
_ZOOM = 0.25
_SHIFT = 0.1


class SegmentationEncodingMixin(SeededAugmentMixin):
    """Mixin of ``ImageSegmenter``: the ``_encode`` hook and its pieces."""

    def _encode(self, inputs, targets, *, training: bool):
        images = tf.cast(inputs["images"], tf.float32)
        if targets is None:
            return images, None
        if isinstance(targets, dict):
            masks = tf.cast(targets["masks"], tf.int32)
        else:
            masks = self._letterboxed_masks(targets, inputs["sizes"][0])
        if not (training and self.augmentation):
            return images, masks
        seeds = self._augment_seeds(tf.shape(images)[0], True)
        return tf.map_fn(
            lambda args: self._augment(*args),
            (images, masks, seeds),
            fn_output_signature=(
                tf.TensorSpec(images.shape[1:], tf.float32),
                tf.TensorSpec(masks.shape[1:], tf.int32),
            ),
        )

    def _dataset_inputs(self, features):
        images = features[..., tf.newaxis] if features.shape.rank == 3 else features
        if images.shape[-1] == 1:
            images = tf.tile(images, [1, 1, 1, 3])
        return letterbox(images, self.image_size)

    def _letterboxed_masks(self, masks, image_size):
        """A tf.data batch of class maps as letterboxed class indices."""
        masks = tf.convert_to_tensor(masks)
        if masks.shape.rank == 4:
            masks = masks[..., 0]
        same = tf.debugging.assert_equal(
            tf.shape(masks)[1:3],
            tf.cast(image_size, tf.int32),
            message="`X` (a tf.data.Dataset) yields masks of another size than "
            "their images",
        )
        with tf.control_dependencies([same]):
            masks = tf.identity(masks)
        index = tf.reshape(
            tf.cast(self._label_index_tf(tf.reshape(masks, [-1])), tf.int32),
            tf.shape(masks),
        )
        new, transform = letterbox_geometry(tf.shape(masks)[1:3], self.image_size)
        resized = tf.image.resize(index[..., None], new, method="nearest")[..., 0]
        left, top = tf.cast(transform[2], tf.int32), tf.cast(transform[3], tf.int32)
        pad = [[0, 0], [top, self.image_size - new[0] - top]]
        pad += [[left, self.image_size - new[1] - left]]
        return tf.pad(resized, pad, constant_values=IGNORE)

    def _augment(self, image, mask, seed):
        """One image and its mask, moved together."""
        draws = tf.random.stateless_uniform([4], seed, 0.0, 1.0)
        aug = set(self.augmentation)
        if "flip" in aug:
            flip = draws[0] < 0.5
            image = tf.where(flip, tf.reverse(image, [1]), image)
            mask = tf.where(flip, tf.reverse(mask, [1]), mask)
        if "scale" in aug or "translation" in aug:
            zoom = 1.0 + _ZOOM * (2 * draws[1] - 1) if "scale" in aug else 1.0
            shift = (
                _SHIFT * self.image_size * (2 * draws[2:4] - 1)
                if "translation" in aug
                else tf.zeros([2])
            )
            image = zoom_shift(image, zoom, shift, fill_value=PAD_VALUE)
            moved = zoom_shift(
                mask[..., None],
                zoom,
                shift,
                fill_value=float(IGNORE),
                interpolation="NEAREST",
            )
            mask = moved[..., 0]
        if "color" in aug:
            image = jitter_color(image, seed)
        return image, mask
