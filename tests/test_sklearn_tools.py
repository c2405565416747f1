"""scikit-learn's model-selection tools drive the estimators unchanged."""

import numpy as np
from sklearn.model_selection import (
    GridSearchCV,
    TunedThresholdClassifierCV,
    cross_val_score,
)
from sklearn.pipeline import make_pipeline
from sklearn.preprocessing import FunctionTransformer

from applied_ml import TabularClassifier, TabularRegressor
from tests.conftest import FAST

QUICK = {**FAST, "epochs": 15}


def test_cross_val_score_with_roc_auc(breast_cancer):
    X, y = breast_cancer
    scores = cross_val_score(TabularClassifier(**QUICK), X, y, cv=3, scoring="roc_auc")
    assert scores.shape == (3,)
    assert scores.min() > 0.95


def test_grid_search_over_model_params(breast_cancer):
    X, y = breast_cancer
    search = GridSearchCV(
        TabularClassifier(**QUICK),
        {"model": ["linear", "dnn"], "l2": [0.0, 0.01]},
        cv=2,
        scoring="accuracy",
    ).fit(X, y)
    scores = search.cv_results_["mean_test_score"]
    assert search.best_params_ == search.cv_results_["params"][int(np.argmax(scores))]
    fitted = search.best_estimator_.get_params()
    assert {k: fitted[k] for k in search.best_params_} == search.best_params_
    assert search.best_score_ > 0.9
    assert search.best_estimator_.predict(X.iloc[:5]).shape == (5,)


def test_tuned_threshold_classifier_cv(breast_cancer):
    X, y = breast_cancer
    tuned = TunedThresholdClassifierCV(
        TabularClassifier(**QUICK), scoring="f1", cv=2, random_state=0
    ).fit(X, y)
    assert 0.0 < tuned.best_threshold_ < 1.0
    assert tuned.score(X, y) > 0.9


def test_inside_a_pipeline(breast_cancer):
    X, y = breast_cancer
    pipe = make_pipeline(FunctionTransformer(np.log1p), TabularRegressor(**QUICK))
    pipe.fit(X, y.astype(float))
    assert pipe.score(X, y) > 0.5
