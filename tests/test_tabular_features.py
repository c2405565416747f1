"""Feature specs, inference from dtypes, tf.data input and missing values."""

import numpy as np
import pandas as pd
import pytest
import tensorflow as tf

from applied_ml import TabularClassifier, TabularRegressor
from applied_ml.tabular import (
    BucketizedFeature,
    CategoricalFeature,
    CrossedFeature,
    NumericFeature,
    PassthroughFeature,
)
from tests.conftest import FAST


@pytest.fixture(scope="session")
def xor_table():
    """The label is the XOR of two categories: only a cross (or depth) finds it."""
    rng = np.random.default_rng(0)
    n = 400
    a = rng.choice(["red", "blue"], n)
    b = rng.choice(["small", "large"], n)
    noise = rng.normal(size=n)
    y = ((a == "red") ^ (b == "large")).astype(int)
    return pd.DataFrame({"colour": a, "size": b, "noise": noise}), y


def test_inferred_specs_follow_dtypes(penguins):
    X, y = penguins
    clf = TabularClassifier(**{**FAST, "epochs": 2}).fit(X, y)
    kinds = {
        type(s).__name__ for s in clf.feature_specs_ if s.name in ("island", "sex")
    }
    assert kinds == {"CategoricalFeature"}
    numeric = [s.name for s in clf.feature_specs_ if isinstance(s, NumericFeature)]
    assert numeric == [
        "bill_length_mm",
        "bill_depth_mm",
        "flipper_length_mm",
        "body_mass_g",
        "year",
    ]
    np.testing.assert_array_equal(clf.feature_names_in_, X.columns)
    # columns with missing values in training get a missing indicator
    with_indicator = {f["column"] for f in clf.meta_["features"] if f.get("indicator")}
    assert with_indicator == {
        "bill_length_mm",
        "bill_depth_mm",
        "flipper_length_mm",
        "body_mass_g",
    }


def test_linear_model_needs_the_cross(xor_table):
    X, y = xor_table
    plain = TabularClassifier(model="linear", random_state=0, epochs=40).fit(X, y)
    crossed = TabularClassifier(
        model="linear",
        random_state=0,
        epochs=40,
        features=[
            CategoricalFeature("colour"),
            CategoricalFeature("size"),
            CrossedFeature(("colour", "size"), hash_bins=16),
            NumericFeature("noise"),
        ],
    ).fit(X, y)
    assert plain.score(X, y) < 0.7
    assert crossed.score(X, y) > 0.98


def test_wide_deep_with_embeddings_and_buckets(penguins):
    X, y = penguins
    specs = [
        CategoricalFeature("island", output="embedding", embedding_dim=2),
        CategoricalFeature("sex", hash_bins=5),
        BucketizedFeature("body_mass_g", bins=4),
        BucketizedFeature("flipper_length_mm", boundaries=(190.0, 205.0)),
        NumericFeature("bill_length_mm", scaling="minmax"),
        NumericFeature("bill_depth_mm", scaling="log", clip=(10.0, 25.0)),
        CrossedFeature(("island", "body_mass_g"), hash_bins=32, output="embedding"),
        PassthroughFeature("years_since_2008"),
    ]
    X = X.assign(years_since_2008=X["year"] - 2008.0)
    clf = TabularClassifier(
        model="wide_deep", features=specs, random_state=0, epochs=60
    )
    clf.fit(X, y)
    assert clf.score(X, y) > 0.9
    layers = {layer.name for layer in clf.model_.layers}
    assert {"wide", "deep", "wide_plus_deep"} <= layers
    assert "embedding_deep_0_island" in layers
    body = next(f for f in clf.meta_["features"] if f["column"] == "body_mass_g")
    assert len(body["boundaries"]) == 3  # 4 quantile buckets


def test_embedding_size_follows_fourth_root():
    rng = np.random.default_rng(0)
    X = pd.DataFrame({"city": [f"c{i}" for i in rng.integers(0, 300, 2000)]})
    y = (rng.random(2000) > 0.5).astype(int)
    clf = TabularClassifier(**{**FAST, "epochs": 1}).fit(X, y)
    emb = clf.model_.get_layer("embedding_deep_0_city")
    # 300 cities + out-of-vocabulary + missing buckets -> ceil(302 ** 0.25) = 5
    assert emb.output_dim == 5


def test_vocabulary_options():
    X = pd.DataFrame({"c": ["a"] * 50 + ["b"] * 30 + ["c"] * 2 + ["d"] * 18})
    y = np.r_[np.zeros(50), np.ones(50)].astype(int)
    clf = TabularClassifier(
        **{**FAST, "epochs": 1},
        features=[CategoricalFeature("c", max_tokens=3, min_frequency=5)],
    ).fit(X, y)
    assert clf.meta_["features"][0]["vocabulary"] == ["a", "b", "d"]
    fixed = TabularClassifier(
        **{**FAST, "epochs": 1},
        features=[CategoricalFeature("c", vocabulary=("b", "a"))],
    ).fit(X, y)
    assert fixed.meta_["features"][0]["vocabulary"] == ["b", "a"]


def test_unseen_and_missing_categories_at_predict(penguins):
    X, y = penguins
    clf = TabularClassifier(**FAST).fit(X, y)
    rows = X.iloc[:3].copy()
    rows["island"] = ["Atlantis", None, ""]
    rows.iloc[0, 1] = np.nan
    proba = clf.predict_proba(rows)
    assert np.all(np.isfinite(proba))
    np.testing.assert_allclose(proba.sum(axis=1), 1.0, rtol=1e-6)


def test_numpy_object_array_with_strings():
    X = np.array([["a", 1.0], ["b", 2.0], ["a", 3.0], ["b", 4.0]] * 20, dtype=object)
    y = np.array([0, 1, 0, 1] * 20)
    clf = TabularClassifier(**FAST).fit(X, y)
    assert [type(s).__name__ for s in clf.feature_specs_] == [
        "CategoricalFeature",
        "NumericFeature",
    ]
    assert clf.score(X, y) == 1.0


@pytest.mark.parametrize("with_weights", [False, True])
def test_tf_data_dataset_of_named_columns(penguins, with_weights):
    X, y = penguins
    columns = {c: X[c].to_numpy() for c in X.columns}
    columns["island"] = X["island"].astype(str).to_numpy()
    columns["sex"] = X["sex"].fillna("").astype(str).to_numpy()
    parts = (columns, y.to_numpy())
    if with_weights:
        parts += (np.ones(len(y), "float32"),)
    ds = tf.data.Dataset.from_tensor_slices(parts).shuffle(400, seed=0).batch(32)
    clf = TabularClassifier(random_state=0, epochs=40).fit(ds)
    assert clf.classes_.tolist() == ["Adelie", "Chinstrap", "Gentoo"]
    assert clf.score(X, y) > 0.9
    np.testing.assert_array_equal(clf.feature_names_in_, X.columns)


def test_tf_data_dataset_of_feature_matrix():
    rng = np.random.default_rng(0)
    X = rng.normal(size=(300, 3)).astype("float32")
    y = X @ np.array([1.0, -2.0, 0.5], "float32") + 3
    ds = tf.data.Dataset.from_tensor_slices((X, y)).batch(32)
    reg = TabularRegressor(random_state=0, epochs=60).fit(ds)
    assert reg.n_features_in_ == 3
    assert reg.score(X, y) > 0.95


def test_binary_labels_keep_their_type():
    rng = np.random.default_rng(0)
    X = rng.normal(size=(120, 2))
    y = np.where(X[:, 0] > 0, "spam", "ham")
    clf = TabularClassifier(**FAST).fit(X, y)
    assert set(clf.predict(X)) <= {"spam", "ham"}
    bools = TabularClassifier(**FAST).fit(X, X[:, 0] > 0)
    assert bools.predict(X).dtype == bool
