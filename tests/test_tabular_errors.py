"""Bad input gets a clear error naming the argument, expectation and value."""

import pickle

import numpy as np
import pandas as pd
import pytest
import tensorflow as tf
from sklearn.exceptions import NotFittedError

from applied_ml import TabularClassifier, TabularRegressor
from applied_ml.tabular import (
    BucketizedFeature,
    CategoricalFeature,
    CrossedFeature,
    NumericFeature,
    PassthroughFeature,
)
from tests.conftest import FAST

QUICK = {**FAST, "epochs": 2}


@pytest.fixture(scope="session")
def table():
    rng = np.random.default_rng(0)
    n = 80
    X = pd.DataFrame(
        {
            "age": rng.normal(40, 10, n),
            "city": rng.choice(["paris", "rome", "oslo"], n),
            "income": rng.normal(3, 1, n),
        }
    )
    y = (X["age"] + 10 * (X["city"] == "rome") > 42).map({True: "yes", False: "no"})
    return X, y


@pytest.fixture(scope="session")
def fitted(table):
    X, y = table
    return TabularClassifier(**QUICK).fit(X, y)


def test_predict_before_fit():
    with pytest.raises(
        NotFittedError, match="TabularClassifier instance is not fitted"
    ):
        TabularClassifier().predict(np.zeros((2, 2)))


def test_wrong_number_of_columns():
    X = np.random.default_rng(0).normal(size=(40, 3))
    clf = TabularClassifier(**QUICK).fit(X, (X[:, 0] > 0).astype(int))
    with pytest.raises(
        ValueError, match="X has 2 features, but TabularClassifier is expecting 3"
    ):
        clf.predict(X[:, :2])


def test_missing_named_column(table, fitted):
    X, _ = table
    with pytest.raises(ValueError, match="missing:\n- city"):
        fitted.predict(X.drop(columns="city"))


def test_string_in_numeric_column(table, fitted):
    X, _ = table
    bad = X.iloc[:3].astype({"age": object})
    bad.iloc[1, 0] = "forty"
    with pytest.raises(ValueError, match="Column 'age' must hold numbers.*'forty'"):
        fitted.predict(bad)


def test_infinite_value(table, fitted):
    X, _ = table
    bad = X.iloc[:3].copy()
    bad.iloc[0, 2] = np.inf
    with pytest.raises(ValueError, match="Column 'income' contains infinite values"):
        fitted.predict(bad)


@pytest.mark.parametrize(
    "spec", [NumericFeature("age", impute=False), PassthroughFeature("age")]
)
def test_nan_without_imputation(table, spec):
    X, y = table
    bad = X.copy()
    bad.iloc[0, 0] = np.nan
    with pytest.raises(
        ValueError, match="Column 'age' contains missing values.*no imputation"
    ):
        TabularClassifier(**QUICK, features=[spec]).fit(bad, y)
    clf = TabularClassifier(**QUICK, features=[spec]).fit(X, y)
    with pytest.raises(ValueError, match="Column 'age' contains missing values"):
        clf.predict(bad)


def test_nan_is_imputed_by_default(table, fitted):
    X, _ = table
    holes = X.iloc[:4].copy()
    holes.iloc[0, 0] = np.nan
    holes.iloc[1, 1] = None
    assert fitted.predict(holes).shape == (4,)


def test_mismatched_lengths(table):
    X, y = table
    with pytest.raises(
        ValueError, match="same number of samples.*80 samples in X and 79"
    ):
        TabularClassifier(**QUICK).fit(X, y[:-1])


def test_empty_input(table, fitted):
    X, y = table
    with pytest.raises(ValueError, match="0 sample"):
        TabularClassifier(**QUICK).fit(X.iloc[:0], y.iloc[:0])
    with pytest.raises(ValueError, match="0 sample"):
        fitted.predict(X.iloc[:0])


def test_single_class(table):
    X, _ = table
    with pytest.raises(ValueError, match="at least 2 classes.*Received 1 class: 'yes'"):
        TabularClassifier(**QUICK).fit(X, ["yes"] * len(X))


def test_continuous_target_for_classifier(table):
    X, _ = table
    with pytest.raises(ValueError, match="Unknown label type"):
        TabularClassifier(**QUICK).fit(X, np.linspace(0, 1, len(X)))


def test_missing_target(table):
    X, _ = table
    with pytest.raises(ValueError, match="requires y to be passed"):
        TabularRegressor(**QUICK).fit(X)


@pytest.mark.parametrize(
    ("params", "match"),
    [
        (
            {"model": "cnn"},
            r"`model` must be one of 'linear', 'dnn', 'wide_deep'.*model='cnn'",
        ),
        (
            {"optimizer": "adamx"},
            r"`optimizer` must be one of .*'ftrl'.*optimizer='adamx'",
        ),
        (
            {"strategy": "tpu"},
            r"`strategy` must be one of 'auto', 'mirrored', 'one_device'",
        ),
        ({"verbose": 3}, r"`verbose` must be one of 0, 1, 2. Received: verbose=3"),
        ({"threshold": 1.5}, r"`threshold` must be a number in \[0, 1\]"),
        (
            {"validation_fraction": 1.0},
            r"`validation_fraction` must be a number in \[0, 1\)",
        ),
        ({"epochs": 0}, r"`epochs` must be an integer in \[1, inf\]"),
        (
            {"batch_size": 2.5},
            r"`batch_size` must be an integer. Received: batch_size=2.5",
        ),
        ({"hidden_units": ()}, r"`hidden_units` must be a non-empty tuple"),
        ({"dropout": 1.0}, r"`dropout` must be a number in \[0, 1\)"),
        (
            {"class_weight": "even"},
            r"`class_weight` must be None, 'balanced' or a dict",
        ),
        ({"early_stopping": "yes"}, r"`early_stopping` must be True or False"),
        (
            {"validation_fraction": 0.0},
            r"`early_stopping=True` needs a validation split",
        ),
        (
            {"threshold": "auto", "validation_fraction": 0, "early_stopping": False},
            r"`threshold='auto'` tunes the threshold on the validation split",
        ),
        ({"features": NumericFeature("age")}, r"`features` must be None or a list"),
        ({"features": ["age"]}, r"must be a feature spec such as NumericFeature"),
        (
            {"callbacks": ("stop",)},
            r"`callbacks` must be a sequence of keras.callbacks",
        ),
    ],
)
def test_bad_parameters(table, params, match):
    X, y = table
    with pytest.raises((ValueError, TypeError), match=match):
        TabularClassifier(**{**QUICK, **params}).fit(X, y)


def test_bad_regression_loss(table):
    X, _ = table
    with pytest.raises(
        ValueError, match=r"`loss` must be one of 'mse', 'mae', 'huber'"
    ):
        TabularRegressor(**QUICK, loss="hinge").fit(X, X["income"])


def test_unknown_feature_column_suggests_a_name(table):
    X, y = table
    with pytest.raises(ValueError, match="names column 'agee'.*Did you mean 'age'"):
        TabularClassifier(**QUICK, features=[NumericFeature("agee")]).fit(X, y)


def test_numeric_feature_on_text_column(table):
    X, y = table
    with pytest.raises(
        ValueError, match="NumericFeature needs numbers, but column 'city'"
    ):
        TabularClassifier(**QUICK, features=[NumericFeature("city")]).fit(X, y)


def test_column_with_two_roles(table):
    X, y = table
    specs = [NumericFeature("age"), CategoricalFeature("age", hash_bins=8)]
    clf = TabularClassifier(**QUICK, features=specs).fit(X, y)
    assert clf.input_columns_ == [
        {"column": "age", "input": "age", "kind": "numeric", "allow_missing": True}
    ]


def test_duplicate_feature(table):
    X, y = table
    with pytest.raises(ValueError, match="lists NumericFeature.*twice"):
        TabularClassifier(**QUICK, features=[NumericFeature("age")] * 2).fit(X, y)


@pytest.mark.parametrize(
    ("make", "match"),
    [
        (lambda: NumericFeature("a", scaling="robust"), "`scaling` must be one of"),
        (lambda: NumericFeature("a", clip=(3, 1)), "`clip` must be a \\(low, high\\)"),
        (lambda: NumericFeature(""), "`name` must be a non-empty column name"),
        (lambda: BucketizedFeature("a", bins=1), "`bins` must be an integer >= 2"),
        (lambda: BucketizedFeature("a", boundaries=(2, 1)), "strictly increasing"),
        (lambda: CategoricalFeature("a", output="dense"), "`output` must be one of"),
        (
            lambda: CategoricalFeature("a", hash_bins=0),
            "`hash_bins` must be a positive",
        ),
        (
            lambda: CategoricalFeature("a", vocabulary=("x",), hash_bins=4),
            "takes `vocabulary` or `hash_bins`, not both",
        ),
        (lambda: CrossedFeature(("a",)), "two or more column names"),
        (lambda: CategoricalFeature("a", embedding_dim=0), "`embedding_dim` must be"),
    ],
)
def test_bad_feature_specs(make, match):
    with pytest.raises((ValueError, TypeError), match=match):
        make()


def test_unseen_labels_on_warm_start(table):
    X, y = table
    clf = TabularClassifier(**QUICK, warm_start=True).fit(X, y)
    with pytest.raises(
        ValueError, match="labels not seen in the first fit: \\['maybe'\\]"
    ):
        clf.fit(X, y.replace("yes", "maybe"))


def test_class_weight_for_unknown_label(table):
    X, y = table
    with pytest.raises(
        ValueError, match="`class_weight` names labels that are not in y"
    ):
        TabularClassifier(**QUICK, class_weight={"yes": 2.0, "perhaps": 1.0}).fit(X, y)


def test_auto_threshold_needs_binary_problem(table):
    X, _ = table
    with pytest.raises(
        ValueError, match="binary classification only; this problem is multiclass"
    ):
        TabularClassifier(**QUICK, threshold="auto").fit(X, X["city"])


def test_dataset_with_separate_y(table):
    X, y = table
    ds = tf.data.Dataset.from_tensor_slices((dict(X), y.to_numpy())).batch(16)
    with pytest.raises(ValueError, match="`y` and `sample_weight` must be None"):
        TabularClassifier(**QUICK).fit(ds, y)


def test_dataset_of_unknown_length_with_validation(table):
    X, y = table
    ds = tf.data.Dataset.from_tensor_slices((dict(X), y.to_numpy())).batch(16)
    ds = ds.filter(lambda features, label: True)
    with pytest.raises(ValueError, match="cardinality is unknown"):
        TabularClassifier(**QUICK).fit(ds)


def test_save_needs_keras_suffix(fitted, tmp_path):
    with pytest.raises(ValueError, match="`path` must end in '.keras'"):
        fitted.save(tmp_path / "model.h5")


def test_load_plain_keras_file(fitted, tmp_path):
    path = tmp_path / "plain.keras"
    fitted.model_.save(path)
    with pytest.raises(ValueError, match="without applied_ml estimator state"):
        TabularClassifier.load(path)


def test_load_as_the_wrong_class(fitted, tmp_path):
    path = tmp_path / "clf.keras"
    fitted.save(path)
    with pytest.raises(
        TypeError, match="holds a TabularClassifier, not a TabularRegressor"
    ):
        TabularRegressor.load(path)


def test_pickle_with_strategy_object(table):
    clf = TabularClassifier(strategy=tf.distribute.get_strategy())
    with pytest.raises(TypeError, match="Cannot pickle this TabularClassifier"):
        pickle.dumps(clf)


def test_sparse_input():
    from scipy import sparse

    with pytest.raises(TypeError, match="Sparse data was passed"):
        TabularClassifier(**QUICK).fit(sparse.csr_matrix(np.eye(4)), [0, 1, 0, 1])


def test_negative_sample_weight(table):
    X, y = table
    with pytest.raises(ValueError, match="`sample_weight` must not contain negative"):
        TabularClassifier(**QUICK).fit(X, y, sample_weight=-np.ones(len(X)))


def test_version_must_be_an_integer(fitted, tmp_path):
    with pytest.raises(ValueError, match="`version` must be a non-negative integer"):
        fitted.export(tmp_path / "m", version="v1")


@pytest.mark.parametrize(
    ("value", "match"),
    [(np.nan, "`y` contains 80 missing label"), (np.inf, "Input y contains inf")],
)
def test_non_finite_classification_target(table, value, match):
    X, y = table
    with pytest.raises(ValueError, match=match):
        TabularClassifier(**QUICK).fit(X, np.full(len(X), value))


@pytest.mark.parametrize(
    "make_y",
    [
        lambda y: np.where(np.arange(len(y)) == 5, None, y.to_numpy(object)),
        lambda y: np.where(np.arange(len(y)) == 5, np.nan, y.to_numpy(object)),
        lambda y: y.astype("string").mask(np.arange(len(y)) == 5),
        lambda y: pd.Categorical(y.mask(np.arange(len(y)) == 5)),
        lambda y: pd.Categorical((y == "yes").astype(int).mask(np.arange(len(y)) == 5)),
    ],
    ids=["object-none", "object-nan", "string-na", "categorical", "int-categorical"],
)
def test_missing_labels(table, make_y):
    # sorting None among strings failed with "'<' not supported", pd.NA with
    # "boolean value of NA is ambiguous"
    X, y = table
    with pytest.raises(
        ValueError,
        match=r"`y` contains 1 missing label\(s\) .*, the first at position 5",
    ):
        TabularClassifier(**QUICK).fit(X, make_y(y))


_DAYS = pd.date_range("2024-01-01", periods=80, freq="D")


@pytest.mark.parametrize(
    ("column", "match"),
    [
        (_DAYS, "dates or times.*dt.year.*Received: dtype=datetime64"),
        (_DAYS.tz_localize("Europe/Paris"), "dates or times.*Timestamp"),
        (
            pd.Series(list(_DAYS.date), dtype=object),
            r"dates or times.*pd.to_datetime\(df\['when'\]\).*datetime.date",
        ),
        (
            pd.Series(list(_DAYS.to_pydatetime()), dtype=object),
            "dates or times.*datetime.datetime",
        ),
        (pd.Series(list(_DAYS), dtype=object), "dates or times.*Timestamp"),
        (_DAYS - _DAYS[0], r"durations.*dt.total_seconds\(\)"),
    ],
    ids=["datetime64", "tz-aware", "date", "datetime", "timestamp", "timedelta"],
)
@pytest.mark.parametrize("spec", [None, NumericFeature, CategoricalFeature])
def test_date_columns_are_refused(table, column, match, spec):
    X, y = table
    X = X.assign(when=column)
    features = None if spec is None else [NumericFeature("age"), spec("when")]
    with pytest.raises(ValueError, match=f"Column 'when' holds {match}"):
        TabularClassifier(**QUICK, features=features).fit(X, y)


def test_date_column_at_predict_is_refused(table, fitted):
    X, _ = table
    bad = X.iloc[:3].assign(age=_DAYS[:3])
    with pytest.raises(ValueError, match="Column 'age' holds dates or times"):
        fitted.predict(bad)
