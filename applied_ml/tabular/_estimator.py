"""What the tabular classifier and regressor share: columns in, model built."""

import numpy as np
import pandas as pd
import tensorflow as tf

from applied_ml._validation import check_bool, check_choice, check_number
from applied_ml.base import KerasEstimator
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


class TabularEstimator(KerasEstimator, abstract=True):
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
        if isinstance(X, dict):  # columns by name, as tf.data batches hold them
            X = pd.DataFrame({k: np.asarray(v).reshape(len(v)) for k, v in X.items()})
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
                ).ravel()
                if c["kind"] == NUMERIC
                else to_strings(columns[c["column"]]).ravel()
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
        """One 1-D tensor per raw column, named after it (the SavedModel's too)."""
        return {
            c["input"]: tf.TensorSpec(
                [None],
                tf.float64 if c["kind"] == NUMERIC else tf.string,
                name=c["input"],
            )
            for c in self.input_columns_
        }

    # --------------------------------------------------------------- encoding
    def _encode(self, inputs: dict, targets, *, training: bool):
        model_inputs = {k: tf.reshape(v, [-1, 1]) for k, v in inputs.items()}
        return model_inputs, None if targets is None else self._encode_targets(targets)

    # --------------------------------------------------------------- datasets
    def _learn_meta_from_dataset(self, dataset) -> dict:
        # a batch of one feature may come as a vector: make it one column
        return super()._learn_meta_from_dataset(dataset.map(_one_column_per_feature))

    def _dataset_inputs(self, features) -> dict:
        if not isinstance(features, dict):
            features = _one_column_per_feature(features)[0]
            features = {f"x{i}": features[:, i] for i in range(features.shape[-1])}
        signature = self._input_signature()
        return {
            c["input"]: tf.cast(
                tf.reshape(features[c["column"]], [-1]), signature[c["input"]].dtype
            )
            for c in self.input_columns_
        }

    def __sklearn_tags__(self):
        tags = super().__sklearn_tags__()
        tags.input_tags.allow_nan = True
        tags.input_tags.categorical = True
        tags.input_tags.string = True
        tags.target_tags.multi_output = True
        tags.non_deterministic = self.random_state is None
        return tags


def _one_column_per_feature(features, *rest):
    """A rank-1 batch of one feature as a (batch, 1) matrix (dicts unchanged)."""
    if not isinstance(features, dict) and features.shape.rank == 1:
        features = tf.expand_dims(features, -1)
    return (features, *rest)
