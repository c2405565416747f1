"""Per-image random transforms in the input pipeline, seeded per fit."""

import tensorflow as tf


class SeededAugmentMixin:
    """Mixin of the dense-prediction estimators: one seed per training image.

    The training pipeline owns one random generator, made from the fit's
    seed; each batch draws one stateless seed per image from it. Batches are
    encoded one at a time: parallel calls would take the draws in thread
    order, and a seeded fit would not repeat.
    """

    def _encoded(self, dataset, *, training: bool, parallel: bool = True):
        if training and self.augmentation:
            self._augment_rng = tf.random.Generator.from_seed(self._fit_seed)
            return super()._encoded(dataset, training=True, parallel=False)
        return super()._encoded(dataset, training=training, parallel=parallel)

    def _augment_seeds(self, n, augment: bool):
        """(n, 2) stateless seeds: drawn when ``augment``, else zeros."""
        if augment:
            return tf.transpose(self._augment_rng.make_seeds(n))
        return tf.zeros([n, 2], tf.int64)
