"""What the tabular classifier and regressor share: columns in, model built."""

import numpy as np
import pandas as pd
import tensorflow as tf

from applied_ml._validation import check_bool, check_choice, check_number
from applied_ml.base import KerasEstimator, _decoded
from applied_ml.tabular._checks import check_scaled_range
from applied_ml.tabular._columns import (
    NUMERIC,
    column_kinds,
    input_name,
    raw_columns,
    resolve_specs,
    to_numeric,
    to_strings,
)
from applied_ml.tabular._models import MODELS, build_tabular_model
from applied_ml.tabular._stats import learn_features
from applied_ml.tabular.features import NumericFeature, PassthroughFeature


def _allows_missing(spec) -> bool:
    if isinstance(spec, PassthroughFeature):
        return False
    return not isinstance(spec, NumericFeature) or spec.impute


class TabularEstimator(KerasEstimator):
    """Columns-to-model machinery of ``TabularClassifier``/``TabularRegressor``."""

    def _check_params(self) -> None:
        super()._check_params()
        check_choice("model", self.model, MODELS)
        if (
            not isinstance(self.hidden_units, tuple | list)
            or not self.hidden_units
            or not all(
                isinstance(u, int | np.integer) and not isinstance(u, bool) and u > 0
                for u in self.hidden_units
            )
        ):
            raise ValueError(
                "`hidden_units` must be a non-empty tuple of positive integers. "
                f"Received: hidden_units={self.hidden_units!r}"
            )
        if not isinstance(self.activation, str):
            raise TypeError(
                f"`activation` must be a Keras activation name. "
                f"Received: activation={self.activation!r}"
            )
        check_number("dropout", self.dropout, low=0, high=1, high_inclusive=False)
        check_bool("batch_norm", self.batch_norm)
        check_number("l1", self.l1, low=0)
        check_number("l2", self.l2, low=0)

    # ----------------------------------------------------------------- inputs
    def _prepare_inputs(self, X, *, reset: bool) -> dict:
        columns = raw_columns(self, X, reset=reset)
        if reset:
            specs = resolve_specs(self.features, columns)
            kinds = column_kinds(specs, columns)
            taken: set = set()
            self.feature_specs_ = specs
            self.input_columns_ = [
                {
                    "column": name,
                    "input": input_name(name, taken),
                    "kind": kind,
                    "allow_missing": all(
                        _allows_missing(s)
                        for s in specs
                        if name in getattr(s, "names", (s.name,))
                    ),
                }
                for name, kind in kinds.items()
            ]
        inputs = {
            c["input"]: (
                to_numeric(
                    c["column"], columns[c["column"]], allow_missing=c["allow_missing"]
                )
                if c["kind"] == NUMERIC
                else to_strings(columns[c["column"]])
            )
            for c in self.input_columns_
        }
        if not reset:
            check_scaled_range(self.meta_["features"], inputs)
        return inputs

    def _learn_meta(self, inputs: dict, targets: np.ndarray) -> dict:
        names = {c["column"]: c["input"] for c in self.input_columns_}
        kinds = {c["column"]: c["kind"] for c in self.input_columns_}
        return {
            "columns": [
                {"input": c["input"], "kind": c["kind"]} for c in self.input_columns_
            ],
            "features": learn_features(self.feature_specs_, inputs, names, kinds),
            **self._target_meta(targets),
        }

    def _build_model(self, meta: dict):
        return build_tabular_model(
            meta,
            model=self.model,
            hidden_units=tuple(int(u) for u in self.hidden_units),
            activation=self.activation,
            dropout=self.dropout,
            batch_norm=self.batch_norm,
            l2=self.l2,
        )

    def _input_signature(self) -> dict:
        return {
            c["input"]: tf.TensorSpec(
                [None, 1], tf.float64 if c["kind"] == NUMERIC else tf.string
            )
            for c in self.input_columns_
        }

    # --------------------------------------------------------------- datasets
    def _learn_meta_from_dataset(self, dataset) -> dict:
        """Read the training dataset once to learn columns, targets and stats."""
        frames, targets = [], []
        for batch in dataset.as_numpy_iterator():
            features, labels = batch[0], batch[1]
            frames.append(self._batch_frame(features))
            targets.append(_decoded(np.asarray(labels)))
        if not frames:
            raise ValueError("`X` is an empty tf.data.Dataset: it yielded no batches.")
        frame = pd.concat(frames, ignore_index=True)
        table = frame if isinstance(dataset.element_spec[0], dict) else frame.to_numpy()
        inputs = self._prepare_inputs(table, reset=True)
        y = self._prepare_targets(np.concatenate(targets), reset=True)
        return self._learn_meta(inputs, y)

    @staticmethod
    def _batch_frame(features) -> pd.DataFrame:
        if isinstance(features, dict):
            return pd.DataFrame(
                {k: _decoded(v.reshape(len(v))) for k, v in features.items()}
            )
        return pd.DataFrame(_decoded(np.asarray(features)))

    def _map_dataset(self, dataset, training: bool):
        columns = self.input_columns_
        encode = self._encode_targets_tf
        class_weights = self._class_weights_tf()

        def convert(features, targets, *weights):
            if not isinstance(features, dict):
                if features.shape.rank == 1:
                    features = tf.expand_dims(features, -1)
                features = {f"x{i}": features[:, i] for i in range(features.shape[-1])}
            inputs = {}
            for c in columns:
                value = tf.reshape(features[c["column"]], [-1, 1])
                inputs[c["input"]] = (
                    tf.cast(value, tf.float64) if c["kind"] == NUMERIC else value
                )
            encoded = encode(targets)
            if class_weights is not None:
                index = tf.cast(tf.reshape(encoded, [-1]), tf.int64)
                weight = tf.gather(class_weights, index)
                weights = (
                    (weight * tf.cast(weights[0], tf.float32),)
                    if weights
                    else (weight,)
                )
            return (inputs, encoded, *weights)

        return dataset.map(convert, num_parallel_calls=tf.data.AUTOTUNE)

    # ----------------------------------------------------------------- export
    def _serving_signature(self) -> dict:
        """One 1-D tensor per raw column (the model itself takes (n, 1))."""
        return {
            name: tf.TensorSpec([None], spec.dtype, name=name)
            for name, spec in self._input_signature().items()
        }

    def _serving_function(self):
        model = self.model_
        outputs = self._serving_outputs

        def serve(inputs):
            raw = model(
                {k: tf.expand_dims(v, -1) for k, v in inputs.items()}, training=False
            )
            return outputs(raw)

        return serve

    def __sklearn_tags__(self):
        tags = super().__sklearn_tags__()
        tags.input_tags.allow_nan = True
        tags.input_tags.categorical = True
        tags.input_tags.string = True
        tags.target_tags.multi_output = True
        tags.non_deterministic = self.random_state is None
        return tags
