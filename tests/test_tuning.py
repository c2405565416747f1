"""keras-tuner search over estimator parameters."""

import pytest
from sklearn.model_selection import train_test_split

from applied_ml import TabularClassifier, TabularRegressor
from applied_ml.tuning import TunerSearch
from tests.conftest import FAST


def test_random_search_keeps_the_best_fitted_estimator(breast_cancer):
    X_train, X_test, y_train, y_test = train_test_split(
        *breast_cancer, test_size=0.3, random_state=0, stratify=breast_cancer[1]
    )
    search = TunerSearch(
        TabularClassifier(**{**FAST, "epochs": 15}),
        {"learning_rate": [0.0003, 0.03], "hidden_units": [(4,), (32, 16)]},
        max_trials=4,
        random_state=0,
    ).fit(X_train, y_train)
    scores = [t["score"] for t in search.trials_]
    assert len(scores) == 4
    assert search.best_score_ == min(scores)
    assert min(scores) < max(scores)  # the settings really differ
    best = min(search.trials_, key=lambda t: t["score"])
    assert search.best_params_ == best["params"]
    fitted = search.best_estimator_.get_params()
    assert fitted["learning_rate"] == best["params"]["learning_rate"]
    assert search.score(X_test, y_test) > 0.9
    assert search.predict_proba(X_test).shape == (len(X_test), 2)
    assert list(search.classes_) == [0, 1]


def test_callable_space_with_ranges_and_grid_tuner(breast_cancer):
    X, y = breast_cancer

    def space(hp):
        return {"learning_rate": hp.Float("learning_rate", 1e-3, 1e-1, sampling="log")}

    search = TunerSearch(
        TabularRegressor(**{**FAST, "epochs": 5}), space, max_trials=2, random_state=0
    ).fit(X, y.astype(float))
    assert 1e-3 <= search.best_params_["learning_rate"] <= 1e-1
    grid = TunerSearch(
        TabularRegressor(**{**FAST, "epochs": 5}),
        {"model": ["linear", "dnn"]},
        tuner="grid",
        max_trials=10,
    ).fit(X, y.astype(float))
    assert sorted(t["params"]["model"] for t in grid.trials_) == ["dnn", "linear"]


@pytest.mark.parametrize(
    ("kwargs", "match"),
    [
        ({"space": {"learnin_rate": [0.1]}}, "not a parameter of TabularClassifier"),
        (
            {"space": {"learning_rate": 0.1}},
            r"`space\['learning_rate'\]` must be a non-empty list",
        ),
        ({"space": {}}, "`space` must be a non-empty dict"),
        ({"space": {"model": ["dnn"]}, "tuner": "bohb"}, "`tuner` must be one of"),
    ],
)
def test_bad_search_arguments(breast_cancer, kwargs, match):
    X, y = breast_cancer
    with pytest.raises((ValueError, TypeError), match=match):
        TunerSearch(TabularClassifier(**FAST), **kwargs).fit(X, y)


def test_choices_of_mixed_types(breast_cancer):
    X, y = breast_cancer
    search = TunerSearch(
        TabularClassifier(**{**FAST, "epochs": 3}),
        {"threshold": [0.5, "auto"], "max_steps": [None, 20]},
        tuner="grid",
        max_trials=4,
    ).fit(X, y)
    assert len(search.trials_) == 4
    assert {t["params"]["threshold"] for t in search.trials_} == {0.5, "auto"}


def test_every_trial_failing_names_the_error(breast_cancer):
    X, y = breast_cancer
    with pytest.raises(RuntimeError, match="Every trial of the search failed.*`model`"):
        TunerSearch(TabularClassifier(**FAST), {"model": ["cnn"]}, max_trials=1).fit(
            X, y
        )
