"""Numbers keep their precision: statistics in float64, integer IDs exact."""

import numpy as np
import pandas as pd
import pytest
import tensorflow as tf

from applied_ml import TabularClassifier, TabularRegressor
from applied_ml.tabular import BucketizedFeature, CategoricalFeature, NumericFeature

TINY = {"epochs": 5, "hidden_units": (8,), "random_state": 0}
LONGER = {**TINY, "epochs": 20}


def test_large_integer_ids_are_distinct_categories():
    # float32 has no room for 20000001..20000004: they made 3 entries
    X = pd.DataFrame({"id": np.tile(np.arange(20_000_001, 20_000_005), 30)})
    y = np.tile([0, 1, 0, 1], 30)
    clf = TabularClassifier(**LONGER, features=[CategoricalFeature("id")]).fit(X, y)
    vocabulary = clf.meta_["features"][0]["vocabulary"]
    assert sorted(vocabulary) == ["20000001", "20000002", "20000003", "20000004"]
    assert clf.predict(X.iloc[:4]).tolist() == [0, 1, 0, 1]


def test_ids_up_to_2_to_the_53_are_exact_in_the_savedmodel(tmp_path):
    ids = 2**53 - np.arange(4) * 2  # float32 rounds them all to one value
    X = pd.DataFrame({"id": np.tile(ids, 30)})
    y = np.tile([0, 1, 1, 0], 30)
    clf = TabularClassifier(**LONGER, features=[CategoricalFeature("id")]).fit(X, y)
    assert len(clf.meta_["features"][0]["vocabulary"]) == 4
    serve = tf.saved_model.load(clf.export(tmp_path / "m")).signatures[
        "serving_default"
    ]
    assert serve.structured_input_signature[1]["id"].dtype == tf.float64
    served = serve(id=tf.constant(ids, tf.float64))["labels"].numpy()
    assert served.tolist() == [0, 1, 1, 0]


def test_timestamps_ten_seconds_apart_standardize_to_distinct_values():
    t = 1.7e9 + 10 * np.arange(40)
    X = pd.DataFrame({"t": t})
    reg = TabularRegressor(**TINY).fit(X, np.arange(40.0))
    numeric = reg.meta_["features"][0]
    assert numeric["scale"] > 100  # float32 steps of 128 made it 0 or 128
    layer = reg.model_.get_layer("numeric_0_t")
    z = layer(tf.constant(t[:5].reshape(-1, 1))).numpy().ravel()
    np.testing.assert_allclose(
        z, (t[:5] - numeric["center"]) / numeric["scale"], rtol=1e-5
    )
    assert len(np.unique(z)) == 5


def test_bucket_boundaries_between_timestamps_are_exact():
    t = 1.7e9 + 10 * np.arange(40)
    X = pd.DataFrame({"t": t})
    y = (np.arange(40) >= 20).astype(int)
    features = [BucketizedFeature("t", boundaries=(1.7e9 + 195,))]
    clf = TabularClassifier(
        epochs=40, hidden_units=(8,), random_state=0, features=features
    ).fit(X, y)
    layer = clf.model_.get_layer("bucketize_0_t")
    buckets = layer(tf.constant(t[18:22].reshape(-1, 1))).numpy().ravel()
    assert buckets.tolist() == [0, 0, 1, 1]


def test_categorical_decimals_keep_their_digits():
    X = pd.DataFrame({"code": np.tile([1.234567, 1.234568, 2.5], 20)})
    y = np.tile([0, 1, 0], 20)
    clf = TabularClassifier(**TINY, features=[CategoricalFeature("code")]).fit(X, y)
    assert sorted(clf.meta_["features"][0]["vocabulary"]) == [
        "1.234567",
        "1.234568",
        "2.5",
    ]


def test_regressor_savedmodel_matches_predict_around_a_large_mean(tmp_path):
    rng = np.random.default_rng(0)
    X = rng.normal(size=(200, 2))
    y = 1e9 + X[:, 0] - 0.5 * X[:, 1] + 0.1 * rng.normal(size=200)
    reg = TabularRegressor(epochs=30, hidden_units=(8,), random_state=0).fit(X, y)
    predicted = reg.predict(X[:20])
    assert np.abs(predicted - y[:20]).max() < 1.5 * y.std()
    serve = tf.saved_model.load(reg.export(tmp_path / "r")).signatures[
        "serving_default"
    ]
    served = serve(x0=tf.constant(X[:20, 0]), x1=tf.constant(X[:20, 1]))
    served = served["predictions"].numpy()
    assert len(np.unique(served)) == 20  # float32 served exactly 1e9 for all
    np.testing.assert_allclose(served, predicted, rtol=0, atol=1e-4 * y.std())


def test_regressor_learns_large_targets_from_tf_data():
    rng = np.random.default_rng(0)
    X = rng.normal(size=(200, 1))
    y = 1e9 + 2 * X[:, 0]
    ds = tf.data.Dataset.from_tensor_slices((X, y)).batch(32)
    reg = TabularRegressor(epochs=30, hidden_units=(8,), random_state=0).fit(ds)
    assert reg.score(X, y) > 0.8


@pytest.mark.parametrize("big", [1e30, 1e39])
def test_extreme_training_values_keep_the_column(big):
    rng = np.random.default_rng(0)
    X = pd.DataFrame({"a": rng.normal(size=120), "b": rng.normal(size=120)})
    y = (X["a"] > 0).astype(int)
    X.loc[3, "b"] = big
    clf = TabularClassifier(**TINY, validation_fraction=0, early_stopping=False).fit(
        X, y
    )
    b = clf.meta_["features"][1]
    assert b["scale"] == pytest.approx(X["b"].std(ddof=0), rel=1e-9)
    assert b["center"] == pytest.approx(X["b"].mean(), rel=1e-9)
    proba = clf.predict_proba(X)
    assert np.isfinite(proba).all()
    assert len(np.unique(clf.predict(X))) == 2


def test_predict_value_beyond_float32_after_scaling_names_the_column():
    rng = np.random.default_rng(0)
    X = pd.DataFrame({"a": rng.normal(size=60), "income": rng.normal(size=60)})
    y = (X["a"] > 0).astype(int)
    clf = TabularClassifier(**TINY).fit(X, y)
    X.loc[7, "income"] = 1e39
    with pytest.raises(ValueError, match=r"Column 'income' .*1e\+39 \(row 7\)"):
        clf.predict(X)


def test_unscaled_value_beyond_float32_fails_in_fit():
    rng = np.random.default_rng(0)
    X = pd.DataFrame({"a": rng.normal(size=60)})
    y = (X["a"] > 0).astype(int)
    X.loc[0, "a"] = -1e39
    clf = TabularClassifier(
        **TINY,
        features=[NumericFeature("a", scaling=None)],
        validation_fraction=0,
        early_stopping=False,
    )
    with pytest.raises(ValueError, match="Column 'a' holds a value too large"):
        clf.fit(X, y)


def test_values_too_large_for_float64_statistics_fail_in_fit():
    X = pd.DataFrame({"a": [1e308, -1e308] * 20})
    y = [0, 1] * 20
    clf = TabularClassifier(
        **TINY,
        features=[NumericFeature("a", scaling="minmax")],
        validation_fraction=0,
        early_stopping=False,
    )
    with pytest.raises(ValueError, match="Column 'a' has values too large to scale"):
        clf.fit(X, y)


def test_savedmodel_refuses_value_beyond_float32_after_scaling(tmp_path):
    rng = np.random.default_rng(0)
    X = pd.DataFrame({"a": rng.normal(size=60)})
    y = (X["a"] > 0).astype(int)
    clf = TabularClassifier(**TINY).fit(X, y)
    serve = tf.saved_model.load(clf.export(tmp_path / "m")).signatures[
        "serving_default"
    ]
    with pytest.raises(tf.errors.InvalidArgumentError, match="too large for float32"):
        serve(a=tf.constant([1e39, 0.0], tf.float64))


@pytest.mark.parametrize("estimator", ["classifier", "regressor"])
def test_non_finite_outputs_raise_instead_of_predicting(estimator):
    rng = np.random.default_rng(0)
    X = rng.normal(size=(60, 2))
    if estimator == "classifier":
        model = TabularClassifier(**TINY).fit(X, (X[:, 0] > 0).astype(int))
    else:
        model = TabularRegressor(**TINY).fit(X, X[:, 0])
    kernel = model.model_.get_layer("logits").kernel
    kernel.assign(np.full(kernel.shape, np.nan, "float32"))
    with pytest.raises(ValueError, match="outputs of this .* are not finite"):
        model.predict(X[:3])
