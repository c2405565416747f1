"""Behaviour pinned down after review: one test per problem that was found."""

import json
import os
import pathlib

import numpy as np
import pandas as pd
import pytest
import tensorflow as tf
from sklearn.base import clone
from sklearn.exceptions import NotFittedError
from sklearn.utils.validation import check_is_fitted

from applied_ml import TabularClassifier, TabularRegressor
from applied_ml._persistence import dump_state
from applied_ml.cli import main as cli
from applied_ml.export import load_serving
from applied_ml.tabular import CategoricalFeature, NumericFeature, PassthroughFeature
from tests.conftest import FAST


@pytest.fixture(scope="session")
def coded():
    """An integer code column that is a category, with a missing value."""
    rng = np.random.default_rng(0)
    code = rng.choice([1, 2, 3], 300)
    y = (code == 2).astype(int)
    X = pd.DataFrame({"code": code.astype(float), "noise": rng.normal(size=300)})
    X.loc[0, "code"] = np.nan
    return X, y


def test_class_weight_applies_to_tf_data(breast_cancer):
    X, y = breast_cancer
    y = (y == 0).astype(int).to_numpy()
    ds = tf.data.Dataset.from_tensor_slices((X.to_numpy("float32"), y)).batch(32)
    kwargs = {"model": "linear", "random_state": 0, "epochs": 10}
    plain = TabularClassifier(**kwargs).fit(ds)
    heavy = TabularClassifier(**kwargs, class_weight={0: 1.0, 1: 20.0}).fit(ds)
    assert (
        heavy.predict(X.to_numpy()).mean() > plain.predict(X.to_numpy()).mean() + 0.05
    )
    balanced = TabularClassifier(**kwargs, class_weight="balanced").fit(ds)
    assert (
        balanced.meta_["class_counts"] == np.bincount(y[64:]).tolist()
    )  # 2 batches validate
    assert balanced.score(X.to_numpy(), y) > 0.9


@pytest.mark.parametrize("labels", [np.array([True, False]), np.array([0.0, 1.0])])
def test_tf_data_with_bool_or_float_labels(labels):
    rng = np.random.default_rng(0)
    X = rng.normal(size=(200, 2)).astype("float32")
    y = labels[(X[:, 0] > 0).astype(int)]
    ds = tf.data.Dataset.from_tensor_slices((X, y)).batch(32)
    clf = TabularClassifier(**FAST).fit(ds)
    assert set(clf.classes_.tolist()) == set(labels.tolist())
    assert clf.score(X, y) > 0.9


def test_tf_data_with_unseen_labels_fails(breast_cancer):
    X, y = breast_cancer
    X, y = X.to_numpy("float32"), y.to_numpy()
    first = tf.data.Dataset.from_tensor_slices((X, y)).batch(64)
    clf = TabularClassifier(**{**FAST, "epochs": 1}, warm_start=True).fit(first)
    y2 = y.copy()
    y2[:5] = 7
    second = tf.data.Dataset.from_tensor_slices((X, y2)).batch(64)
    with pytest.raises(tf.errors.InvalidArgumentError, match="labels not seen"):
        clf.fit(second)


def test_tf_data_of_one_feature():
    rng = np.random.default_rng(0)
    x = rng.normal(size=300).astype("float32")
    ds = tf.data.Dataset.from_tensor_slices((x, 2 * x + 1)).batch(32)
    reg = TabularRegressor(**FAST).fit(ds)
    assert reg.n_features_in_ == 1
    assert reg.score(x.reshape(-1, 1), 2 * x + 1) > 0.9


def test_categorical_numeric_column_is_served_as_numbers(coded, tmp_path):
    X, y = coded
    features = [CategoricalFeature("code"), NumericFeature("noise")]
    clf = TabularClassifier(**FAST, features=features).fit(X, y)
    assert sorted(clf.meta_["features"][0]["vocabulary"]) == ["1", "2", "3"]
    assert clf.score(X, y) == 1.0
    path = clf.export(tmp_path / "m")
    serve = load_serving(path).signatures["serving_default"]
    assert serve.structured_input_signature[1]["code"].dtype == tf.float64
    rows = X.iloc[:20]
    out = serve(
        code=tf.constant(rows["code"].to_numpy("float64")),
        noise=tf.constant(rows["noise"].to_numpy("float64")),
    )
    np.testing.assert_allclose(
        out["probabilities"].numpy(), clf.predict_proba(rows), atol=1e-6
    )
    rows.to_csv(tmp_path / "rows.csv", index=False)  # the NaN becomes a blank cell
    cli(
        [
            "predict",
            path,
            "--csv",
            str(tmp_path / "rows.csv"),
            "--output",
            str(tmp_path / "out.csv"),
        ]
    )
    served = pd.read_csv(tmp_path / "out.csv")
    np.testing.assert_allclose(
        served[["probabilities_0", "probabilities_1"]],
        clf.predict_proba(rows),
        atol=1e-5,
    )
    # the same column through tf.data trains the same way
    ds = tf.data.Dataset.from_tensor_slices((dict(X), y)).batch(32)
    via_ds = TabularClassifier(**FAST, features=features).fit(ds)
    assert via_ds.score(X, y) == 1.0


def test_category_dtype_is_categorical_whatever_its_values():
    X = pd.DataFrame({"grade": pd.Series([10, 20, 30] * 20, dtype="category")})
    y = np.array([0, 1, 0] * 20)
    clf = TabularClassifier(**FAST).fit(X, y)
    assert [type(s).__name__ for s in clf.feature_specs_] == ["CategoricalFeature"]
    assert clf.score(X, y) == 1.0


@pytest.mark.parametrize(
    "spec", [NumericFeature("a", impute=False), PassthroughFeature("a")]
)
def test_serving_rejects_nan_when_imputation_is_off(tmp_path, spec):
    rng = np.random.default_rng(0)
    X = pd.DataFrame({"a": rng.normal(size=100)})
    y = (X["a"] > 0).astype(int)
    clf = TabularClassifier(**FAST, features=[spec]).fit(X, y)
    serve = load_serving(clf.export(tmp_path / "m")).signatures["serving_default"]
    assert np.isfinite(
        serve(a=tf.constant([1.0], tf.float64))["probabilities"].numpy()
    ).all()
    with pytest.raises(tf.errors.InvalidArgumentError, match="no imputation is set"):
        serve(a=tf.constant([np.nan, 1.0], tf.float64))


def test_auto_threshold_fails_before_training():
    X = np.random.default_rng(0).normal(size=(60, 2))
    Y = np.column_stack([X[:, 0] > 0, X[:, 1] > 0]).astype(int)
    clf = TabularClassifier(**FAST, threshold="auto")
    with pytest.raises(
        ValueError, match="binary classification only; this problem is multilabel"
    ):
        clf.fit(X, Y)
    assert not hasattr(clf, "model_")


def test_failed_fit_leaves_the_estimator_unfitted(breast_cancer):
    X, y = breast_cancer
    clf = TabularClassifier(**{**FAST, "epochs": 2})
    with pytest.raises(ValueError):
        clf.fit(X, np.zeros(len(X)))
    with pytest.raises(NotFittedError):
        check_is_fitted(clf)
    clf.fit(X, y)
    check_is_fitted(clf)
    with pytest.raises(ValueError):
        clf.fit(X, np.zeros(len(X)))
    with pytest.raises(NotFittedError):
        clf.predict(X)


def test_save_with_path_params_and_atomic_writes(breast_cancer, tmp_path):
    X, y = breast_cancer
    ckpt = pathlib.Path(tmp_path / "ckpt")
    clf = TabularClassifier(**{**FAST, "epochs": 2}, checkpoint_dir=ckpt).fit(X, y)
    clf.save(tmp_path / "a.keras")
    assert TabularClassifier.load(tmp_path / "a.keras").checkpoint_dir == os.fspath(
        ckpt
    )
    seeded = TabularClassifier(
        **{**FAST, "epochs": 2, "random_state": np.random.RandomState(0)}
    )
    seeded.fit(X, y)
    with pytest.warns(UserWarning, match="gets random_state=None instead"):
        state = json.loads(dump_state(seeded))
    assert state["params"]["random_state"] is None
    clf.features = [object()]  # not storable: save must fail before writing
    with pytest.raises(TypeError, match="Cannot save a value of type object"):
        clf.save(tmp_path / "c.keras")
    assert not os.path.exists(tmp_path / "c.keras")
    assert not [p for p in os.listdir(tmp_path) if "partial" in p]


def test_clone_shares_a_strategy_object(breast_cancer):
    strategy = tf.distribute.get_strategy()
    clf = TabularClassifier(**FAST, strategy=strategy)
    copy = clone(clf)
    assert copy.strategy is strategy
    assert copy.get_params()["epochs"] == clf.get_params()["epochs"]


def test_single_callback_object_is_a_clear_error(breast_cancer):
    X, y = breast_cancer
    clf = TabularClassifier(**FAST, callbacks=tf.keras.callbacks.TerminateOnNaN())
    with pytest.raises(TypeError, match="`callbacks` must be a sequence"):
        clf.fit(X, y)


def test_threshold_error_lists_auto(breast_cancer):
    X, y = breast_cancer
    with pytest.raises(
        ValueError, match=r"in \[0, 1\] or 'auto'. Received: threshold='best'"
    ):
        TabularClassifier(**FAST, threshold="best").fit(X, y)


def test_max_steps_counts_per_fit_with_warm_start(breast_cancer):
    X, y = breast_cancer
    clf = TabularClassifier(**FAST, max_steps=5, early_stopping=False, warm_start=True)
    clf.fit(X, y)
    clf.fit(X, y)
    assert int(clf.model_.optimizer.iterations.numpy()) == 10


def test_seeded_fit_restores_tensorflow_global_seed(breast_cancer):
    X, y = breast_cancer
    tf.random.set_seed(None)  # the user's default: no global seed
    TabularClassifier(**{**FAST, "epochs": 1}).fit(X, y)
    after_fit = tf.random.uniform([3]).numpy()
    TabularClassifier(**{**FAST, "epochs": 1}).fit(X, y)
    assert not np.array_equal(tf.random.uniform([3]).numpy(), after_fit)


def test_a_row_predicted_alone_matches_its_batch():
    rng = np.random.default_rng(0)
    X = rng.uniform(size=(300, 3))
    reg = TabularRegressor(**{**FAST, "epochs": 5}).fit(X, X[:, 0].round())
    batched = reg.predict(X[:40])
    alone = np.array([reg.predict(X[i : i + 1])[0] for i in range(40)])
    np.testing.assert_array_equal(alone, batched)


def _rare_positives(n_positive):
    rng = np.random.default_rng(0)
    X = rng.normal(size=(120, 2))
    y = np.zeros(120, int)
    y[rng.choice(120, n_positive, replace=False)] = 1
    X[y == 1] += 3
    return X, y


@pytest.mark.parametrize("n_positive", [4, 5, 6])
def test_auto_threshold_validates_on_rare_positives(n_positive):
    # rounding left 4 positives in 120 rows out of the validation tenth: the
    # threshold came out near 0 and nearly every row was predicted positive
    X, y = _rare_positives(n_positive)
    clf = TabularClassifier(
        epochs=30, hidden_units=(8,), random_state=0, threshold="auto"
    )
    clf.fit(X, y)
    assert clf.threshold_ > 0.05
    assert (clf.predict(X) == 1).sum() <= 3 * n_positive


def test_auto_threshold_without_validation_positives_falls_back_to_half():
    X, y = _rare_positives(1)  # one positive cannot be on both sides
    clf = TabularClassifier(**FAST, threshold="auto")
    with pytest.warns(UserWarning, match="holds only negative ones.*threshold 0.5"):
        clf.fit(X, y)
    assert clf.threshold_ == 0.5


def test_singleton_class_keeps_the_split_stratified():
    labels = np.array([0] * 60 + [1] * 30 + [2] * 9 + [3])
    clf = TabularClassifier()
    clf.classes_ = np.unique(labels)  # learned by fit before the split
    strata = clf._stratify(labels, n_val=10)
    assert strata is not None and set(np.unique(strata)) == {0, 1, 2}


def test_every_class_with_two_samples_is_on_both_sides_of_the_split():
    from applied_ml._labels import _cover_classes

    labels = np.array([0] * 116 + [1] * 4)
    train, val = _cover_classes(labels, np.arange(12, 120), np.arange(12))
    assert labels[val].sum() == 1 and labels[train].sum() == 3
    assert sorted([*train, *val]) == list(range(120))
