"""What the tabular classifier and regressor share: columns in, model built."""

import numpy as np
import pandas as pd
import tensorflow as tf
from scipy.sparse import issparse

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

    _encode_once = True  # splitting columns and looking labels up is deterministic

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
        if isinstance(X, dict) and not issparse(X):  # columns by name (tf.data)
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
        return self._pack(inputs, np.column_stack)

    # The model takes one input per raw column (so does the SavedModel), but
    # the prepared inputs pack them into one matrix of numbers and one of
    # strings: a compiled call binds two tensors instead of one per column.
    def _packing(self) -> dict:
        """Input names per packed block: ``numbers`` (float64), ``strings``."""
        blocks: dict = {}
        for c in self.input_columns_:
            block = "numbers" if c["kind"] == NUMERIC else "strings"
            blocks.setdefault(block, []).append(c["input"])
        return blocks

    def _pack(self, columns: dict, stack) -> dict:
        return {
            block: stack([columns[name] for name in names])
            for block, names in self._packing().items()
        }

    def _unpack(self, packed: dict) -> dict:
        """Packed blocks back to one (n, 1) column per input name."""
        columns = {}
        for block, names in self._packing().items():
            values = packed[block]
            if isinstance(values, np.ndarray):
                parts = [values[:, i : i + 1] for i in range(len(names))]
            else:  # one op for the block: much cheaper than a slice per column
                parts = tf.split(values, len(names), axis=1)
            columns.update(zip(names, parts, strict=True))
        return columns

    def _learn_meta(self, inputs: dict, targets: np.ndarray) -> dict:
        names = {c["column"]: c["input"] for c in self.input_columns_}
        kinds = {c["column"]: c["kind"] for c in self.input_columns_}
        columns = self._unpack(inputs)
        return {
            "columns": [
                {"input": c["input"], "kind": c["kind"]} for c in self.input_columns_
            ],
            "features": learn_features(self.feature_specs_, columns, names, kinds),
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
        dtypes = {"numbers": tf.float64, "strings": tf.string}
        return {
            block: tf.TensorSpec([None, len(names)], dtypes[block], name=block)
            for block, names in self._packing().items()
        }

    # --------------------------------------------------------------- encoding
    def _encode(self, inputs: dict, targets, *, training: bool):
        model_inputs = self._unpack(inputs)
        return model_inputs, None if targets is None else self._encode_targets(targets)

    # ----------------------------------------------------------------- export
    def _serving_signature(self) -> dict:
        """One 1-D tensor per raw column, named after its input."""
        return {
            c["input"]: tf.TensorSpec(
                [None],
                tf.float64 if c["kind"] == NUMERIC else tf.string,
                name=c["input"],
            )
            for c in self.input_columns_
        }

    def _serving_inputs(self, served: dict) -> dict:
        return self._pack(served, lambda columns: tf.stack(columns, axis=1))

    # --------------------------------------------------------------- datasets
    def _learn_meta_from_dataset(self, dataset) -> dict:
        # a batch of one feature may come as a vector: make it one column
        return super()._learn_meta_from_dataset(dataset.map(_one_column_per_feature))

    def _dataset_inputs(self, features) -> dict:
        if not isinstance(features, dict):
            features = _one_column_per_feature(features)[0]
            features = {f"x{i}": features[:, i] for i in range(features.shape[-1])}
        signature = self._serving_signature()
        columns = {
            c["input"]: tf.cast(
                tf.reshape(features[c["column"]], [-1]), signature[c["input"]].dtype
            )
            for c in self.input_columns_
        }
        return self._pack(columns, lambda values: tf.stack(values, axis=1))

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
