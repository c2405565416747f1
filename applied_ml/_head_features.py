"""Training a classifier's head on frozen-encoder features computed once.

With a frozen pretrained encoder (an image backbone, a sentence encoder) and
no augmentation, every epoch of the first phase would push the same examples
through the same encoder. The features are computed once instead, and the
layer named ``head`` trains on them alone.
"""

import keras
import numpy as np
import tensorflow as tf

from applied_ml.data import shuffled_batches


class HeadOnFeaturesMixin:
    """Mixin of estimators whose model is a frozen encoder, then ``head``.

    The estimator supplies ``_feature_extractor()``: the Keras model from an
    encoded batch of inputs to the features ``head`` reads, and the
    ``tf.TensorSpec`` of that batch.
    """

    def _train_head_on_features(self, data, phase: str) -> dict:
        """Phase one on encoder features computed once (the encoder is frozen)."""
        extractor, spec = self._feature_extractor()
        # A callable object with a fixed signature traces once per fit (a
        # lambda per fit would count as retracing across fits)
        extract = tf.function(
            _Features(extractor), input_signature=[spec], autograph=False
        )
        # one pass over the examples in order, then the batching of the
        # uncached path: both see the same batches
        train_parts = _featurize(data.train_in_order, extract)
        train = self._batch(
            tf.data.Dataset.from_tensor_slices(train_parts), training=True
        )
        validation = None
        if data.validation is not None:
            validation = shuffled_batches(
                tf.data.Dataset.from_tensor_slices(
                    _featurize(data.validation, extract)
                ),
                self.batch_size,
                shuffle=False,
            )
        head = self.model_.get_layer("head")
        inputs = keras.Input(train_parts[0].shape[1:], name="features")
        head_model = keras.Model(inputs, head(inputs), name="head_on_features")
        with self.model_.distribute_strategy.scope():
            self._compile(self.learning_rate, model=head_model)
        history = self._run_fit(
            head_model,
            train,
            validation,
            self.epochs,
            data.steps_per_epoch,
            phase=phase,
        )
        # The whole model takes over the head's optimizer and its state, so
        # that saving, pickling and warm starts see the state training left.
        self._compile(self.learning_rate, optimizer=head_model.optimizer)
        return history


class _Features:
    """The frozen encoder's features of a batch, as a callable object."""

    def __init__(self, model):
        self.model = model

    def __call__(self, images):
        return self.model(images, training=False)


def _featurize(dataset, extract) -> tuple:
    """Read encoded (inputs, targets[, weights]) batches once, as features."""
    parts = [[] for _ in dataset.element_spec]
    for batch in dataset:
        parts[0].append(extract(batch[0]).numpy())
        for i, value in enumerate(batch[1:], start=1):
            parts[i].append(value.numpy())
    return tuple(np.concatenate(p) for p in parts)
