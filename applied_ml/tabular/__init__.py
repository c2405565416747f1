"""Tabular regression and classification with feature columns."""

from applied_ml.tabular.classifier import TabularClassifier
from applied_ml.tabular.features import (
    BucketizedFeature,
    CategoricalFeature,
    CrossedFeature,
    NumericFeature,
    PassthroughFeature,
)
from applied_ml.tabular.regressor import TabularRegressor

__all__ = [
    "BucketizedFeature",
    "CategoricalFeature",
    "CrossedFeature",
    "NumericFeature",
    "PassthroughFeature",
    "TabularClassifier",
    "TabularRegressor",
]
