"""How ``fit`` turns its inputs into training and validation pipelines.

:class:`FitDataMixin` validates in-memory data or reads a user's
``tf.data.Dataset``, splits off the validation rows, learns the task's meta
from the training rows, and builds the batched pipelines of model inputs,
targets and weights (through the task's ``_encode`` and ``_batch`` hooks).
"""

import math

import numpy as np
import tensorflow as tf
from sklearn.model_selection import train_test_split

from applied_ml.data import FitData, examples, n_rows, split_batches, steps, take

# The parts of an example dict, in the order of Keras' (x, y, sample_weight).
_PARTS = ("inputs", "targets", "weights")


class FitDataMixin:
    """Mixin of ``KerasEstimator``: the data of one ``fit`` call, as ``FitData``."""

    def _array_fit_data(self, X, y, sample_weight, *, reset: bool) -> FitData:
        """Validate in-memory data, split off validation, learn the meta."""
        if y is None and self._takes_targets():
            raise ValueError(
                f"{type(self).__name__} requires y to be passed, but the target y "
                "is None."
            )
        inputs = self._prepare_inputs(X, reset=reset)
        targets = self._prepare_targets(y, reset=reset)
        n = n_rows(inputs)
        if targets is not None and n_rows(targets) != n:
            raise ValueError(
                f"`X` and `y` must have the same number of samples. Received: "
                f"{n} samples in X and {n_rows(targets)} in y."
            )
        if targets is not None:
            self._match_targets(inputs, targets)
        weights = _check_sample_weight(sample_weight, n)
        train_idx, val_idx = self._split(n, targets)
        parts = examples(inputs, targets, weights)
        train = take(parts, train_idx)
        if reset:
            self.meta_ = self._learn_meta(train["inputs"], train.get("targets"))
        validation = None if val_idx is None else take(parts, val_idx)
        return FitData(
            train=self._examples_pipeline(train, training=True),
            validation=None
            if validation is None
            else self._examples_pipeline(validation, training=False),
            steps_per_epoch=steps(len(train_idx), self.batch_size),
            train_in_order=self._examples_pipeline(train, training=False),
            train_examples=train,
            validation_examples=validation,
        )

    def _examples_pipeline(self, parts: dict, *, training: bool):
        """Batched, encoded, prefetched pipeline over in-memory examples.

        Under a multi-worker strategy each worker builds the same pipeline and
        keeps its share of every global batch (sharding by data): every
        example is seen once per epoch, by one worker.
        """
        options = tf.data.Options()
        options.experimental_distribute.auto_shard_policy = (
            tf.data.experimental.AutoShardPolicy.DATA
        )
        return self._unsharded_pipeline(parts, training=training).with_options(options)

    def _unsharded_pipeline(self, parts: dict, *, training: bool):
        if self._encode_once:
            # One encoding of all rows, then slices: per epoch the pipeline
            # only shuffles and batches, as a hand-made Keras pipeline would.
            batch = self._model_batch(parts, training=training)
            encoded = dict(zip(_PARTS[: len(batch)], batch, strict=True))
            dataset = self._batch(
                tf.data.Dataset.from_tensor_slices(encoded), training=training
            )
            return dataset.map(
                lambda b: tuple(b[k] for k in _PARTS if k in b)
            ).prefetch(tf.data.AUTOTUNE)
        dataset = self._batch(
            tf.data.Dataset.from_tensor_slices(parts), training=training
        )
        return self._encoded(dataset, training=training)

    def _model_batch(self, batch: dict, *, training: bool) -> tuple:
        """A batch of example dicts as the model's ``(x[, y[, w]])``."""
        model_inputs, model_targets = self._encode(
            batch["inputs"], batch.get("targets"), training=training
        )
        if model_targets is None:
            return (model_inputs,)
        weights = batch.get("weights")
        derived = self._target_weights(model_targets)
        if derived is not None:
            weights = (
                derived if weights is None else derived * tf.cast(weights, "float32")
            )
        if weights is None:
            return (model_inputs, model_targets)
        return (model_inputs, model_targets, weights)

    def _encoded(self, dataset, *, training: bool, parallel: bool = True):
        """Map batches of example dicts to the model's (x, y[, w]) batches.

        ``parallel=False`` encodes one batch at a time, for encodings that
        draw from stateful random layers (whose draws must come in order).
        """
        calls = tf.data.AUTOTUNE if parallel else None
        return dataset.map(
            lambda batch: self._model_batch(batch, training=training),
            num_parallel_calls=calls,
        ).prefetch(tf.data.AUTOTUNE)

    def _split(self, n: int, targets):
        if self.validation_fraction == 0:
            return np.arange(n), None
        n_val = math.ceil(n * self.validation_fraction)
        if n - n_val < 1:
            raise ValueError(
                f"`validation_fraction={self.validation_fraction}` leaves no "
                f"training samples: got {n} sample(s). Use more data or set "
                "validation_fraction=0 and early_stopping=False."
            )
        stratify = None if targets is None else self._stratify(targets, n_val)
        train_idx, val_idx = train_test_split(
            np.arange(n),
            test_size=n_val,
            random_state=self._fit_seed,
            stratify=stratify,
        )
        return np.sort(train_idx), np.sort(val_idx)

    def _stratify(self, targets, n_val: int):
        """Labels to stratify the validation split by (None: plain shuffle)."""
        return None

    def _dataset_fit_data(self, dataset, y, sample_weight, *, reset: bool) -> FitData:
        if y is not None or sample_weight is not None:
            raise ValueError(
                "When `X` is a tf.data.Dataset it must yield (features, targets) "
                "or (features, targets, sample_weight) batches, and `y` and "
                "`sample_weight` must be None. Received: "
                f"y={type(y).__name__}, sample_weight={type(sample_weight).__name__}"
            )
        spec = dataset.element_spec
        supervised = self._takes_targets()
        sizes = (2, 3) if supervised else (1,)
        if supervised and (not isinstance(spec, tuple) or len(spec) not in sizes):
            raise ValueError(
                "`X` as a tf.data.Dataset must yield (features, targets) or "
                "(features, targets, sample_weight) tuples of batches. Received "
                f"elements of structure: {spec}"
            )
        if not supervised and not isinstance(spec, tuple):
            dataset = dataset.map(lambda features: (features,))
        train_ds, val_ds = split_batches(dataset, self.validation_fraction)
        if reset:
            self.meta_ = self._learn_meta_from_dataset(train_ds)

        def as_examples(features, *rest):
            return examples(self._dataset_inputs(features), *rest)

        train = self._encoded(train_ds.map(as_examples), training=True)
        validation = None
        if val_ds is not None:
            validation = self._encoded(val_ds.map(as_examples), training=False)
        cardinality = int(train.cardinality())
        return FitData(
            train=train,
            validation=validation,
            steps_per_epoch=cardinality if cardinality > 0 else None,
            train_in_order=self._encoded(train_ds.map(as_examples), training=False),
        )


def _check_sample_weight(sample_weight, n: int):
    """``sample_weight`` as float32 of length ``n`` (None stays None)."""
    from sklearn.utils.validation import _check_sample_weight

    if sample_weight is None:
        return None
    weights = _check_sample_weight(sample_weight, np.empty((n, 0)))
    if np.any(weights < 0):
        raise ValueError("`sample_weight` must not contain negative values.")
    return weights.astype("float32")
