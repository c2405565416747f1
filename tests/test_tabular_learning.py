"""Models learn: each beats a trivial baseline on real data by a clear margin."""

import pickle

import numpy as np
import pytest
from sklearn.datasets import load_diabetes, load_wine
from sklearn.dummy import DummyClassifier, DummyRegressor
from sklearn.model_selection import train_test_split

from applied_ml import TabularClassifier, TabularRegressor


def _split(X, y, stratify=True):
    return train_test_split(
        X, y, test_size=0.3, random_state=0, stratify=y if stratify else None
    )


def _baseline_accuracy(X_train, y_train, X_test, y_test):
    return DummyClassifier().fit(X_train, y_train).score(X_test, y_test)


def test_penguins_raw_dataframe(penguins):
    X_train, X_test, y_train, y_test = _split(*penguins)
    clf = TabularClassifier(random_state=0, epochs=60).fit(X_train, y_train)
    baseline = _baseline_accuracy(X_train, y_train, X_test, y_test)
    assert baseline < 0.45
    assert clf.score(X_test, y_test) >= 0.95


@pytest.mark.parametrize("model", ["linear", "dnn", "wide_deep"])
def test_breast_cancer_every_model(breast_cancer, model):
    X_train, X_test, y_train, y_test = _split(*breast_cancer)
    clf = TabularClassifier(model=model, random_state=0, epochs=60)
    clf.fit(X_train, y_train)
    baseline = _baseline_accuracy(X_train, y_train, X_test, y_test)
    assert clf.score(X_test, y_test) >= baseline + 0.3  # baseline is 0.63
    metrics = clf.evaluate(X_test, y_test)
    assert metrics["roc_auc"] > 0.97
    assert abs(metrics["prediction_bias"]) < 0.1


def test_wine_multiclass():
    X_train, X_test, y_train, y_test = _split(*load_wine(return_X_y=True))
    clf = TabularClassifier(random_state=0, epochs=60).fit(X_train, y_train)
    assert clf.score(X_test, y_test) >= 0.9  # baseline 0.40


def test_diabetes_regression():
    X_train, X_test, y_train, y_test = _split(
        *load_diabetes(return_X_y=True), stratify=False
    )
    reg = TabularRegressor(model="linear", random_state=0, epochs=100)
    reg.fit(X_train, y_train)
    assert DummyRegressor().fit(X_train, y_train).score(X_test, y_test) <= 0
    assert reg.score(X_test, y_test) >= 0.33  # least squares: 0.39 on this split
    assert reg.evaluate(X_test, y_test)["r2"] == pytest.approx(
        reg.score(X_test, y_test)
    )


@pytest.mark.parametrize("loss", ["mse", "mae", "huber"])
def test_regression_losses(loss):
    X_train, X_test, y_train, y_test = _split(
        *load_diabetes(return_X_y=True), stratify=False
    )
    reg = TabularRegressor(loss=loss, random_state=0, epochs=60, hidden_units=(16,))
    assert reg.fit(X_train, y_train).score(X_test, y_test) >= 0.3


@pytest.mark.parametrize(
    "optimizer", ["adam", "adamw", "sgd", "momentum", "rmsprop", "adagrad", "ftrl"]
)
def test_every_optimizer_learns(breast_cancer, optimizer):
    X_train, X_test, y_train, y_test = _split(*breast_cancer)
    lr = {"sgd": 0.1, "adagrad": 0.1, "ftrl": 0.2}.get(optimizer, 0.01)
    clf = TabularClassifier(
        optimizer=optimizer,
        learning_rate=lr,
        random_state=0,
        epochs=20,
        hidden_units=(16,),
    )
    assert clf.fit(X_train, y_train).score(X_test, y_test) >= 0.9


@pytest.mark.parametrize(("optimizer", "learning_rate"), [("adam", 0.01), ("sgd", 0.1)])
def test_l1_gives_exact_zeros(breast_cancer, optimizer, learning_rate):
    X, y = breast_cancer
    kwargs = {"model": "linear", "random_state": 0, "epochs": 40}
    kwargs.update(optimizer=optimizer, learning_rate=learning_rate)
    dense = TabularClassifier(**kwargs).fit(X, y)
    sparse = TabularClassifier(**kwargs, l1=0.02).fit(X, y)
    kernel = sparse.model_.get_layer("linear").kernel.numpy()
    assert np.sum(dense.model_.get_layer("linear").kernel.numpy() == 0) == 0
    assert np.sum(kernel == 0) >= 3  # of 30 features
    assert sparse.score(X, y) >= 0.93
    # the proximal optimizer survives a round trip and keeps working
    restored = pickle.loads(pickle.dumps(sparse))
    restored.set_params(warm_start=True, epochs=2).fit(X, y)
    assert np.sum(restored.model_.get_layer("linear").kernel.numpy() == 0) >= 3


def test_multilabel_classifier():
    rng = np.random.default_rng(0)
    X = rng.normal(size=(300, 4))
    Y = np.column_stack([X[:, 0] > 0, X[:, 1] + X[:, 2] > 0, X[:, 3] > 0.5]).astype(int)
    clf = TabularClassifier(random_state=0, epochs=60).fit(X, Y)
    assert clf.predict(X).shape == (300, 3)
    assert clf.predict_proba(X).shape == (300, 3)
    assert clf.score(X, Y) > 0.8  # subset accuracy; chance is far lower
    assert clf.evaluate(X, Y)["f1_micro"] > 0.9


def test_multi_output_regressor():
    rng = np.random.default_rng(0)
    X = rng.normal(size=(300, 3))
    Y = np.column_stack([X @ [1.0, 2.0, 0.0], 100 + 50 * X[:, 2]])
    reg = TabularRegressor(random_state=0, epochs=60).fit(X, Y)
    assert reg.predict(X).shape == (300, 2)
    assert reg.score(X, Y) > 0.95


def test_class_weight_shifts_toward_minority(breast_cancer):
    X, y = breast_cancer
    y = (y == 0).astype(int)  # the minority class (37%) is positive
    kwargs = {"model": "linear", "random_state": 0, "epochs": 20}
    plain = TabularClassifier(**kwargs).fit(X, y)
    heavy = TabularClassifier(**kwargs, class_weight={0: 1.0, 1: 20.0}).fit(X, y)
    balanced = TabularClassifier(**kwargs, class_weight="balanced").fit(X, y)
    assert heavy.predict(X).mean() > plain.predict(X).mean()
    assert balanced.score(X, y) > 0.9


def test_sample_weight_zero_ignores_rows(breast_cancer):
    X, y = breast_cancer
    flipped = 1 - y.to_numpy()
    X2 = np.vstack([X.to_numpy(), X.to_numpy()])
    y2 = np.concatenate([y.to_numpy(), flipped])
    weights = np.concatenate([np.ones(len(y)), np.zeros(len(y))])
    clf = TabularClassifier(model="linear", random_state=0, epochs=20)
    clf.fit(X2, y2, sample_weight=weights)
    assert clf.score(X.to_numpy(), y) > 0.9


def test_auto_threshold_maximizes_validation_f1(breast_cancer):
    X, y = breast_cancer
    clf = TabularClassifier(threshold="auto", random_state=0, epochs=30).fit(X, y)
    assert 0.0 < clf.threshold_ < 1.0
    manual = TabularClassifier(threshold=0.99, random_state=0, epochs=30).fit(X, y)
    assert manual.threshold_ == 0.99
    assert manual.predict(X).mean() < clf.predict(X).mean()
