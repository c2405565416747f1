"""Pooling over the real tokens of padded id sequences (id 0 is padding)."""

import keras
from keras import ops


@keras.saving.register_keras_serializable(package="applied_ml")
class MaskedAverage(keras.layers.Layer):
    """Mean of the vectors of real tokens; zeros for a text without any."""

    def call(self, vectors, ids):
        mask = ops.cast(ops.not_equal(ids, 0), vectors.dtype)[..., None]
        total = ops.sum(vectors * mask, axis=1)
        return total / ops.maximum(ops.sum(mask, axis=1), 1.0)


@keras.saving.register_keras_serializable(package="applied_ml")
class MaskedMax(keras.layers.Layer):
    """Largest value over real positions, per channel; zeros without any."""

    def call(self, vectors, ids):
        mask = ops.not_equal(ids, 0)[..., None]
        lowest = ops.min(vectors) - 1.0
        best = ops.max(ops.where(mask, vectors, lowest), axis=1)
        return ops.where(ops.any(mask, axis=1), best, ops.zeros_like(best))
