"""TunerSearch at scale: cross-validated trials, Hyperband, a shared space,
memory between trials, resuming, and keras-tuner's distributed protocol."""

import io
import json
import os

import keras
import numpy as np
import pytest
from sklearn.model_selection import GroupKFold, RandomizedSearchCV

from applied_ml import TabularClassifier
from applied_ml.launch import launch_search
from applied_ml.tuning import TunerSearch, to_distributions

SMALL = {"epochs": 4, "hidden_units": (8,), "random_state": 0}


@pytest.fixture(scope="module")
def data(breast_cancer):
    X, y = breast_cancer
    return X.iloc[:240], y.iloc[:240]


@pytest.fixture(scope="module")
def breast_cancer():
    from sklearn.datasets import load_breast_cancer

    return load_breast_cancer(return_X_y=True, as_frame=True)


def test_cv_scores_each_trial_by_folds_and_refits(data):
    X, y = data
    estimator = TabularClassifier(**SMALL, early_stopping=False)
    search = TunerSearch(
        estimator,
        {"learning_rate": [0.0001, 0.03]},
        tuner="grid",
        cv=3,
        random_state=0,
    ).fit(X, y)
    scores = {t["params"]["learning_rate"]: t["score"] for t in search.trials_}
    assert scores[0.03] > scores[0.0001] + 0.1  # a mean held-out accuracy
    assert search.best_params_ == {"learning_rate": 0.03}
    assert search.best_score_ == scores[0.03]
    # refitted on all the rows with the best parameters
    assert search.best_estimator_.learning_rate == 0.03
    assert search.score(X, y) > 0.85

    groups = np.arange(len(X)) % 6
    grouped = TunerSearch(
        estimator, {"learning_rate": [0.03]}, tuner="grid", cv=GroupKFold(3)
    ).fit(X, y, groups=groups)
    assert grouped.best_score_ > 0.8
    with pytest.raises(ValueError, match="groups"):
        TunerSearch(
            estimator, {"learning_rate": [0.03]}, tuner="grid", cv=GroupKFold(3)
        ).fit(X, y)


def test_hyperband_spends_epochs(data):
    X, y = data
    search = TunerSearch(
        TabularClassifier(**{**SMALL, "epochs": 3}),
        lambda hp: {"learning_rate": hp.Float("lr", 1e-3, 1e-1, sampling="log")},
        tuner="hyperband",
        random_state=0,
    ).fit(X, y)
    epochs = [t["params"]["epochs"] for t in search.trials_]
    assert min(epochs) < max(epochs) == 3  # short trials first, the best longer
    assert search.best_estimator_.epochs == search.best_params_["epochs"]


def test_space_as_scikit_learn_distributions(data):
    def space(hp):
        return {
            "learning_rate": hp.Float("lr", 1e-3, 1e-1, sampling="log"),
            "epochs": hp.Int("epochs", 2, 6, step=2),
            "model": hp.Choice("model", ["linear", "dnn"]),
            "batch_norm": hp.Boolean("batch_norm"),
        }

    found = to_distributions(space)
    assert found["epochs"] == [2, 4, 6]
    assert found["model"] == ["linear", "dnn"]
    assert found["batch_norm"] == [False, True]
    rate = found["learning_rate"]
    assert rate.support() == (1e-3, 1e-1)
    assert rate.median() == pytest.approx(1e-2)  # log-uniform: the geometric mean
    grid = {"learning_rate": [0.003, 0.03]}
    assert to_distributions(grid) == grid

    X, y = data
    randomized = RandomizedSearchCV(
        TabularClassifier(**SMALL),
        to_distributions(space),
        n_iter=2,
        cv=2,
        random_state=0,
    ).fit(X, y)
    assert set(randomized.best_params_) == set(found)

    with pytest.raises(ValueError, match="computes the parameter 'hidden_units'"):
        to_distributions(lambda hp: {"hidden_units": (hp.Int("units", 8, 64),)})


class Fits(keras.callbacks.Callback):
    """Counts fits across clones (a class attribute survives deep copies)."""

    count = 0
    stop_at = None

    def on_train_begin(self, logs=None):
        Fits.count += 1
        if Fits.count == Fits.stop_at:
            raise KeyboardInterrupt  # as if the search were killed here


def test_killed_search_resumes_without_redoing_trials(data, tmp_path):
    X, y = data
    grid = {"learning_rate": [0.001, 0.003, 0.01, 0.03]}

    def search():
        return TunerSearch(
            TabularClassifier(**SMALL, callbacks=[Fits()]),
            grid,
            tuner="grid",
            max_trials=4,
            directory=str(tmp_path),
            random_state=0,
        )

    Fits.count, Fits.stop_at = 0, 3
    with pytest.raises(KeyboardInterrupt):
        search().fit(X, y)  # two trials finished, the third interrupted
    Fits.count, Fits.stop_at = 0, None
    resumed = search().fit(X, y)
    assert (
        sorted(t["params"]["learning_rate"] for t in resumed.trials_)
        == (grid["learning_rate"])
    )
    # the two left (the interrupted one again), plus a refit when the best
    # trial ran before the interruption; never the finished ones
    assert Fits.count in (2, 3)

    with pytest.raises(ValueError, match="records of a different search"):
        TunerSearch(
            TabularClassifier(**SMALL),
            grid,
            tuner="grid",
            directory=str(tmp_path),
        ).fit(X.iloc[:100], y.iloc[:100])


def test_memory_is_freed_between_trials(data):
    X, y = data
    keras.backend.clear_session()
    TunerSearch(
        TabularClassifier(**SMALL),
        {"learning_rate": [0.001, 0.003, 0.01]},
        tuner="grid",
        random_state=0,
    ).fit(X, y)
    # the session was cleared after each trial: Keras' name counters restart
    assert keras.layers.Dense(1).name == "dense"


def test_distributed_search_runs_every_trial_once(tmp_path):
    log = io.StringIO()
    status = launch_search(
        os.path.join(os.path.dirname(__file__), "tuning_job.py"),
        2,
        [str(tmp_path)],
        timeout=120,
        env={"TF_CPP_MIN_LOG_LEVEL": "2"},
        output=log,
    )
    assert status == 0, log.getvalue()[-3000:]
    found = {}
    for name in ("chief", "tuner0", "tuner1"):
        with open(tmp_path / f"{name}.json", encoding="utf-8") as f:
            found[name] = json.load(f)
    chief = found["chief"]
    assert len(chief["trials"]) == 4
    ran = found["tuner0"]["trials"] + found["tuner1"]["trials"]
    assert sorted(ran) == sorted(chief["trials"])  # each exactly once
    assert sorted(p["learning_rate"] for p in chief["params"]) == [
        0.001,
        0.003,
        0.01,
        0.03,
    ]
    assert chief["accuracy"] > 0.8
