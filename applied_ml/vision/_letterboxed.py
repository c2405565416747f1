"""What the letterboxing image tasks (detection, segmentation) share.

Their parameter checks for a pretrained trunk and for augmentation names,
their served input (uint8 images of any size) and their scikit-learn tags.
"""

import os

import tensorflow as tf

from applied_ml.vision._augment import check_augmentation


class LetterboxedTaskMixin:
    """Mixin of ``ObjectDetector`` and ``ImageSegmenter``."""

    def _check_weights(self, trunk: str, trunk_name: str, scratch: str) -> None:
        """``weights``: None for the from-scratch trunk, else a name or path."""
        if trunk == scratch and self.weights is not None:
            raise ValueError(
                f"`weights` must be None for {trunk_name}={scratch!r}, which trains "
                f"from scratch; use {trunk_name}='efficientnet_lite0' for ImageNet "
                f"weights. Received: weights={self.weights!r}"
            )
        if self.weights is not None and not isinstance(self.weights, str | os.PathLike):
            raise TypeError(
                "`weights` must be 'imagenet', None or a path to a .weights.h5 "
                f"file. Received: weights={self.weights!r}"
            )

    def _check_augmentation(self, names: tuple[str, ...]) -> None:
        check_augmentation(self.augmentation, names)

    def _serving_signature(self):
        return {"images": tf.TensorSpec([None, None, None, 3], tf.uint8, name="images")}

    def __sklearn_tags__(self):
        tags = super().__sklearn_tags__()
        tags.target_tags.required = True
        tags.input_tags.two_d_array = False
        tags.input_tags.three_d_array = True
        tags.non_deterministic = self.random_state is None
        return tags
