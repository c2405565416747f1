"""applied_ml.diagnose: bias/variance/mismatch, learning curves, lr_find, mistakes."""

import numpy as np
import pandas as pd
import pytest
from matplotlib.image import imread
from numpydoc.validate import validate
from sklearn.cluster import KMeans
from sklearn.datasets import load_digits, make_blobs, make_circles
from sklearn.feature_extraction.text import TfidfVectorizer
from sklearn.linear_model import LinearRegression, LogisticRegression, RidgeClassifier
from sklearn.neighbors import KNeighborsClassifier
from sklearn.pipeline import make_pipeline
from sklearn.preprocessing import FunctionTransformer
from sklearn.tree import DecisionTreeClassifier
from test_docs import CHECKED

import applied_ml.diagnose
from applied_ml import TabularClassifier
from applied_ml.diagnose import (
    Finding,
    confused_pairs,
    diagnose,
    diagnose_history,
    learning_curve,
    lr_find,
    worst_mistakes,
)

# Small settings: a run takes well under a second.
QUICK = {"early_stopping": False, "validation_fraction": 0.0, "random_state": 0}


def _frame(X) -> pd.DataFrame:
    return pd.DataFrame(X, columns=["a", "b"])


def _check_png(path, min_bytes=10_000) -> None:
    """A written PNG that is not blank: enough bytes and varied pixels."""
    with open(path, "rb") as f:
        data = f.read()
    assert data[:8] == b"\x89PNG\r\n\x1a\n"
    assert len(data) > min_bytes, len(data)
    pixels = imread(path)
    assert pixels.shape[0] > 100 and pixels.shape[1] > 300
    assert pixels[..., :3].std() > 0.05  # not one flat colour


# --------------------------------------------------------- bias / variance
@pytest.fixture(scope="module")
def circles():
    X, y = make_circles(600, noise=0.05, factor=0.5, random_state=0)
    return _frame(X), y


@pytest.fixture(scope="module")
def bias_case(circles, tmp_path_factory):
    """A linear model on concentric circles: it cannot fit the training set."""
    X, y = circles
    folder = tmp_path_factory.mktemp("bias")
    clf = TabularClassifier(model="linear", epochs=20, batch_size=64, **QUICK)
    report = diagnose(
        clf,
        X[:300],
        y[:300],
        X[400:],
        y[400:],
        X[300:400],
        y[300:400],
        output_dir=folder,
    )
    return clf, report, folder


@pytest.mark.xdist_group("diagnose_bias")
def test_linear_model_on_circles_has_high_avoidable_bias(bias_case):
    clf, report, _ = bias_case
    assert report.fitted_here
    assert report.dominant == "avoidable_bias"
    assert report.avoidable_bias > 0.3  # a circle is not a half-plane
    assert abs(report.variance) < 0.1 and abs(report.data_mismatch) < 0.1
    assert report.human_error_assumed and report.human_error == 0.0
    assert "Train a bigger model" in report.actions[0]
    # the flat training loss of a linear model on circles is a plateau too
    assert "plateau" in [f.kind for f in report.history_findings]


@pytest.mark.xdist_group("diagnose_bias")
def test_report_files_and_their_content(bias_case):
    _, report, folder = bias_case
    markdown = (folder / "report.md").read_text()
    html = (folder / "report.html").read_text()
    assert "Dominant problem: avoidable bias" in markdown
    assert "0.0000 (assumed)" in markdown
    assert f"{report.train_error:.4f}" in markdown
    assert "plateau" in markdown
    assert html.startswith("<!DOCTYPE html>") and 'src="errors.png"' in html
    assert "avoidable bias" in html
    _check_png(folder / "errors.png")


@pytest.mark.xdist_group("diagnose_bias")
def test_a_fitted_estimator_is_not_refitted(bias_case, circles):
    clf, first, _ = bias_case
    X, y = circles
    model = clf.model_
    again = diagnose(clf, X[:300], y[:300], X[400:], y[400:], human_error=0.1)
    assert clf.model_ is model and not again.fitted_here
    assert again.train_error == pytest.approx(first.train_error)
    assert again.avoidable_bias == pytest.approx(first.train_error - 0.1)
    assert not again.human_error_assumed
    # without a train-dev set, the mismatch is unknown and dev stands in
    assert again.data_mismatch is None and again.train_dev_error is None
    assert again.variance == pytest.approx(again.dev_error - again.train_error)
    assert "not computable" in again.to_markdown()
    assert "cannot be measured" in again.reasoning


@pytest.mark.xdist_group("diagnose_bias")
def test_worst_mistakes_of_a_dataframe_is_a_table_only(bias_case, circles, tmp_path):
    clf, _, _ = bias_case
    X, y = circles
    table = worst_mistakes(clf, X[400:], y[400:], n=5, output_dir=tmp_path)
    assert len(table) == 5
    assert list(table.columns[-2:]) == ["x:a", "x:b"]
    assert (table["true"] != table["predicted"]).all()
    assert table["confidence"].is_monotonic_decreasing
    assert np.allclose(table["x:a"], X["a"].to_numpy()[400:][table["index"]])
    assert sorted(p.name for p in tmp_path.iterdir()) == ["worst_mistakes.md"]


def test_big_unregularized_model_on_50_rows_has_high_variance(tmp_path):
    # noisy labels: 25% flipped, so memorizing 50 rows cannot generalize
    rng = np.random.default_rng(0)
    X = rng.normal(size=(850, 2))
    y = (X[:, 0] + X[:, 1] > 0).astype(int)
    flip = rng.random(len(y)) < 0.25
    y[flip] = 1 - y[flip]
    clf = TabularClassifier(hidden_units=(256, 256), epochs=200, **QUICK)
    report = diagnose(clf, X[:50], y[:50], X[450:], y[450:], X[50:450], y[50:450])
    assert report.dominant == "variance"
    assert report.train_error < 0.05
    assert report.variance > 0.2
    assert abs(report.data_mismatch) < 0.08
    assert "regularization" in " ".join(report.actions)
    # its loss jumps while memorizing noise, but falls: no learning-rate alarm
    assert "lr_too_high" not in [f.kind for f in report.history_findings]


def test_shifted_dev_set_is_data_mismatch():
    # label = sign(x0 * x1); training sees x0 > 0 only, the dev set x0 in [-1, 2]
    rng = np.random.default_rng(0)

    def draw(n, low):
        x = np.c_[rng.uniform(low, 2, n), rng.uniform(-2, 2, n)]
        return x, (x[:, 0] * x[:, 1] > 0).astype(int)

    X, y = draw(400, 0)
    X_train_dev, y_train_dev = draw(200, 0)
    X_dev, y_dev = draw(300, -1)
    clf = TabularClassifier(model="linear", epochs=30, **QUICK)
    report = diagnose(clf, X, y, X_dev, y_dev, X_train_dev, y_train_dev)
    assert report.dominant == "data_mismatch"
    assert report.data_mismatch > 0.2  # a third of the dev set is flipped
    assert report.avoidable_bias < 0.05 and abs(report.variance) < 0.05
    assert "Synthesize data like the dev set" in " ".join(report.actions)


def test_learning_rate_of_10_is_diagnosed_too_high(circles, tmp_path):
    X, y = circles
    clf = TabularClassifier(
        optimizer="sgd",
        learning_rate=10.0,
        hidden_units=(16,),
        epochs=20,
        early_stopping=False,
        validation_fraction=0.2,
        random_state=0,
    )
    report = diagnose(clf, X[:300], y[:300], X[400:], y[400:])
    kinds = {f.kind for f in report.history_findings}
    assert kinds & {"lr_too_high", "divergence"}, report.history_findings
    assert "learning rate" in report.to_markdown()

    before = clf.get_params()
    result = lr_find(clf, X, y, max_lr=100.0, output_dir=tmp_path)
    assert result.stopped_early  # the loss blew up beyond a rate of 10
    assert result.suggestion < 1.0  # at least 10x below the rate that failed
    assert result.lr_min < 10.0
    assert len(result.lrs) == len(result.losses) >= 50
    assert np.all(np.diff(result.lrs) > 0)
    assert clf.get_params() == before and clf.model_ is not None  # untouched
    _check_png(result.figure)


def test_lr_find_stops_when_the_loss_explodes(circles):
    X, y = circles
    result = lr_find(TabularClassifier(hidden_units=(16,), random_state=0), X, y)
    assert result.stopped_early
    assert result.lrs[-1] < 10.0  # stopped before reaching max_lr
    assert result.losses[-1] > 2 * result.losses.min()
    assert result.suggestion == pytest.approx(result.lr_min / 10)
    assert result.lr_steep is not None and result.lr_steep <= result.lr_min


def test_lr_find_warns_when_max_lr_is_too_low(circles):
    X, y = circles
    clf = TabularClassifier(hidden_units=(16,), random_state=0)
    with pytest.warns(UserWarning, match="still falling at max_lr=0.5"):
        result = lr_find(clf, X, y, min_lr=0.01, max_lr=0.5, steps=20)
    assert not result.stopped_early


def test_regression_error_is_mse_over_training_variance():
    rng = np.random.default_rng(0)
    X = rng.uniform(-2, 2, size=(300, 1))
    y = X[:, 0] ** 2  # a line cannot follow a parabola
    report = diagnose(LinearRegression(), X[:200], y[:200], X[200:], y[200:])
    assert report.task == "regression"
    assert "mean squared error" in report.error_name
    assert report.train_error == pytest.approx(1.0, abs=0.05)  # = 1 - R² on train
    assert report.dominant == "avoidable_bias"


def test_small_gaps_mean_nothing_dominates():
    X, y = make_blobs(400, centers=[[-5, 0], [5, 0]], random_state=0)
    report = diagnose(LogisticRegression(), X[:300], y[:300], X[300:], y[300:])
    assert report.dominant == "none"
    assert "All gaps are small" in report.recommendation
    assert "No gap is above the tolerance" in report.reasoning


# ----------------------------------------------------------- history checks
def _healthy(n=40, noise=0.002):
    rng = np.random.default_rng(0)
    t = np.arange(n)
    loss = 0.2 + 0.8 * np.exp(-t / 5) + noise * rng.standard_normal(n)
    val = 0.25 + 0.8 * np.exp(-t / 5) + noise * rng.standard_normal(n)
    return {"loss": loss.tolist(), "val_loss": val.tolist()}


def test_healthy_curve_has_no_findings():
    assert diagnose_history(_healthy()) == []
    assert diagnose_history(_healthy(noise=0.0)) == []
    assert diagnose_history({"loss": _healthy()["loss"]}) == []
    # mini-batch noise on a falling loss: up every other epoch, yet progressing
    t = np.arange(40)
    zigzag = 1 / (1 + t / 5) * (1 + 0.15 * (-1) ** t)
    assert diagnose_history({"loss": zigzag.tolist()}) == []


def test_nan_loss_is_divergence():
    findings = diagnose_history({"loss": [0.7, 0.6, 5.0, float("nan"), float("nan")]})
    assert [f.kind for f in findings] == ["divergence"]
    assert findings[0].epochs == (4, 5)
    assert findings[0].evidence["last_finite_loss"] == 5.0
    assert "lower the learning rate" in findings[0].message


def test_exploding_loss_is_divergence():
    findings = diagnose_history({"loss": [0.7, 2.0, 9.0, 80.0]})
    assert [f.kind for f in findings] == ["divergence"]
    assert findings[0].evidence["peak_loss"] == 80.0


def test_oscillating_loss_is_learning_rate_too_high():
    loss = [1.0, 0.8, 0.95, 0.7, 0.9, 0.75, 1.0, 0.8, 0.95, 0.85]
    findings = diagnose_history({"loss": loss})
    assert [f.kind for f in findings] == ["lr_too_high"]
    assert findings[0].evidence["rising_epochs"] == 4
    assert "too high" in findings[0].message


def test_rising_loss_is_learning_rate_too_high():
    loss = [1.0, 0.5, 0.4, 0.42, 0.45, 0.5, 0.55, 0.6]
    findings = diagnose_history({"loss": loss}, oscillation_fraction=0.9)
    assert [f.kind for f in findings] == ["lr_too_high"]
    assert findings[0].evidence["lowest_epoch"] == 3
    assert findings[0].epochs == (3, 8)


def test_flat_high_loss_is_a_plateau():
    loss = [0.70, 0.69, 0.69, 0.689, 0.689, 0.689, 0.689, 0.689]
    findings = diagnose_history({"loss": loss})
    assert [f.kind for f in findings] == ["plateau"]
    assert findings[0].epochs == (4, 8)
    # a low, flat loss is convergence, unless it is above the target
    low = [1.0, 0.3, 0.2, 0.2, 0.2, 0.2, 0.2, 0.2]
    assert diagnose_history({"loss": low}) == []
    assert [f.kind for f in diagnose_history({"loss": low}, target_loss=0.1)] == [
        "plateau"
    ]


def test_rising_validation_loss_is_overfitting_at_the_best_epoch():
    loss = np.linspace(1.0, 0.1, 20)
    val = np.r_[np.linspace(1.0, 0.5, 8), np.linspace(0.55, 1.0, 12)]
    findings = diagnose_history({"loss": loss.tolist(), "val_loss": val.tolist()})
    assert [f.kind for f in findings] == ["overfitting"]
    assert findings[0].evidence["best_epoch"] == 8
    assert "epoch 8" in findings[0].message


def test_still_falling_loss_stopped_too_early():
    loss = np.linspace(1.0, 0.5, 10)
    findings = diagnose_history({"loss": loss.tolist(), "val_loss": loss.tolist()})
    assert [f.kind for f in findings] == ["stopped_early"]
    assert "more epochs" in findings[0].message
    # a loss creeping towards 0 after a steep descent (memorizing) is not
    memorize = (np.exp(-np.arange(50) / 3.0) + 1e-4).tolist()
    assert diagnose_history({"loss": memorize}) == []


def test_history_from_an_estimator_and_to_dict():
    class Fitted:
        history_ = {"loss": [1.0, 2.0, float("inf")]}

    (finding,) = diagnose_history(Fitted())
    assert isinstance(finding, Finding)
    assert finding.to_dict()["kind"] == "divergence"


# ----------------------------------------------------------- learning curve
def test_learning_curve_says_more_data_helps_while_validation_rises(tmp_path):
    X, y = make_circles(1200, noise=0.15, factor=0.6, random_state=0)
    result = learning_curve(
        KNeighborsClassifier(1),
        X,
        y,
        train_sizes=(0.01, 0.03, 0.1),
        output_dir=tmp_path,
    )
    assert result.more_data_helps, result.evidence
    assert result.evidence["last_gain"] > 0.01 and result.evidence["gap"] > 0.02
    assert result.verdict.startswith("More data would likely help")
    assert list(result.train_sizes) == [8, 24, 80]
    _check_png(result.figure)


def test_learning_curve_says_no_when_converged():
    X, y = make_blobs(600, centers=[[-2, 0], [2, 0]], random_state=0)
    result = learning_curve(LogisticRegression(), X, y, cv=3)
    assert not result.more_data_helps
    assert abs(result.evidence["last_gain"]) < 0.01
    assert "unlikely to help" in result.verdict
    assert result.train_scores.shape == result.val_scores.shape == (5, 3)


@pytest.mark.xdist_group("diagnose_bias")
def test_learning_curve_of_a_keras_estimator(circles):
    X, y = circles
    clf = TabularClassifier(model="linear", epochs=10, batch_size=64, **QUICK)
    result = learning_curve(clf, X, y, train_sizes=(0.5, 1.0), cv=2)
    assert result.train_scores.shape == (2, 2)
    assert result.val_mean.max() < 0.75  # a line cannot separate the circles
    assert not result.more_data_helps
    assert not hasattr(clf, "model_")  # fits happen on clones


# ------------------------------------------------------------ error analysis
def test_confused_pairs_finds_the_overlapping_classes():
    # classes 1 and 2 overlap, class 0 is far away
    X, y = make_blobs(
        600, centers=[[-10, 0], [2, 0], [3, 0]], cluster_std=1.0, random_state=0
    )
    clf = KNeighborsClassifier(5).fit(X, y)
    pairs = confused_pairs(clf, X, y, top=3)
    assert {pairs.loc[0, "true"], pairs.loc[0, "predicted"]} == {1, 2}
    assert set(pairs["true"]) <= {1, 2} and 0 not in set(pairs["predicted"])
    assert pairs["count"].is_monotonic_decreasing
    matrix_count = int(
        np.sum(
            (y == pairs.loc[0, "true"]) & (clf.predict(X) == pairs.loc[0, "predicted"])
        )
    )
    assert pairs.loc[0, "count"] == matrix_count
    assert pairs.loc[0, "rate"] == pytest.approx(
        matrix_count / np.sum(y == pairs.loc[0, "true"])
    )
    assert pairs["share_of_errors"].sum() == pytest.approx(1.0)


def test_confused_pairs_of_a_perfect_classifier_is_empty():
    X, y = make_blobs(60, centers=[[-10, 0], [10, 0]], random_state=0)
    clf = LogisticRegression().fit(X, y)
    assert confused_pairs(clf, X, y).empty


def test_worst_mistakes_of_images_draws_a_grid(tmp_path):
    digits = load_digits()
    images = digits.images * 16  # 8x8, values 0-255
    flatten = FunctionTransformer(lambda x: np.asarray(x).reshape(len(x), -1))
    clf = make_pipeline(flatten, LogisticRegression(max_iter=200))
    clf.fit(images[:60], digits.target[:60])  # few examples: many mistakes
    table = worst_mistakes(
        clf, images[60:400], digits.target[60:400], n=8, output_dir=tmp_path
    )
    assert len(table) == 8
    assert (table["true"] != table["predicted"]).all()
    assert table["confidence"].is_monotonic_decreasing
    assert (table["confidence"] > table["p_true"]).all()
    proba = clf.predict_proba(images[60:400])
    assert table.loc[0, "confidence"] == pytest.approx(
        proba[table.loc[0, "index"]].max()
    )
    assert table.attrs["files"] == {"figure": str(tmp_path / "worst_mistakes.png")}
    _check_png(tmp_path / "worst_mistakes.png")


def test_worst_mistakes_of_texts_draws_a_table(tmp_path):
    texts = [
        "a wonderful, moving film",
        "great acting and a great story",
        "I loved every minute of it",
        "dull, slow and far too long",
        "a terrible waste of time",
        "the worst film of the year",
        "not great, not wonderful: terrible",
        "I did not love it; slow but great ending",
    ]
    labels = ["pos", "pos", "pos", "neg", "neg", "neg", "neg", "pos"]
    clf = make_pipeline(TfidfVectorizer(), LogisticRegression(C=10))
    clf.fit(texts[:6], labels[:6])
    table = worst_mistakes(clf, texts, labels, output_dir=tmp_path)
    assert len(table) >= 1
    assert set(table["text"]) <= set(texts[6:])
    markdown = (tmp_path / "worst_mistakes.md").read_text()
    assert table.loc[0, "text"].replace("|", "\\|") in markdown
    _check_png(tmp_path / "worst_mistakes.png", min_bytes=5_000)


# --------------------------------------------------------------- bad input
@pytest.fixture(scope="module")
def fitted_logistic():
    X, y = make_blobs(60, centers=2, random_state=0)
    return LogisticRegression().fit(X, y), X, y


def test_bad_diagnose_arguments_raise(fitted_logistic):
    clf, X, y = fitted_logistic
    with pytest.raises(TypeError, match=r"`estimator` must be a scikit-learn"):
        diagnose(LogisticRegression, X, y, X, y)
    with pytest.raises(TypeError, match=r"must be a classifier or a regressor"):
        diagnose(KMeans(2), X, y, X, y)
    with pytest.raises(TypeError, match=r"`X_dev` must be an array-like"):
        diagnose(clf, X, y, 5, y)
    with pytest.raises(ValueError, match=r"`y_dev` must have one target per sample"):
        diagnose(clf, X, y, X, y[:-1])
    with pytest.raises(ValueError, match=r"`X_train` must hold at least one"):
        diagnose(clf, X[:0], y[:0], X, y)
    with pytest.raises(ValueError, match=r"must be given together"):
        diagnose(clf, X, y, X, y, X_train_dev=X)
    with pytest.raises(TypeError, match=r"`human_error` must be a number"):
        diagnose(clf, X, y, X, y, human_error="low")
    with pytest.raises(ValueError, match=r"`human_error` must be an error in \[0, 1\]"):
        diagnose(clf, X, y, X, y, human_error=1.5)
    with pytest.raises(ValueError, match=r"error at least 0"):
        diagnose(LinearRegression().fit(X, y), X, y, X, y, human_error=-1.0)
    with pytest.raises(ValueError, match=r"`tolerance` must be a positive number"):
        diagnose(clf, X, y, X, y, tolerance=0)
    with pytest.raises(TypeError, match=r"`tolerance` must be a positive number"):
        diagnose(clf, X, y, X, y, tolerance="0.1")
    with pytest.raises(TypeError, match=r"`output_dir` must be a folder path"):
        diagnose(clf, X, y, X, y, output_dir=3)


def test_diverged_training_is_named_as_the_cause(circles):
    X, y = circles
    clf = TabularClassifier(
        optimizer="sgd", learning_rate=1e30, hidden_units=(4,), epochs=2, **QUICK
    )
    with pytest.raises(ValueError, match=r"training diverged \(The training loss"):
        diagnose(clf, X[:200], y[:200], X[400:], y[400:])


@pytest.mark.parametrize(
    ("history", "error", "match"),
    [
        ([0.5, 0.4], TypeError, r"`history` must be a dict"),
        ({"val_loss": [0.5]}, ValueError, r"must have a 'loss' list"),
        ({"loss": ["a", "b"]}, TypeError, r"`history\['loss'\]` must be a list"),
        ({"loss": [[0.5, 0.4]]}, ValueError, r"must be a flat list"),
        ({"loss": [1, 2], "val_loss": [1]}, ValueError, r"one value per epoch"),
    ],
)
def test_bad_history_raises(history, error, match):
    with pytest.raises(error, match=match):
        diagnose_history(history)


def test_bad_history_thresholds_raise():
    loss = {"loss": [1.0, 0.5]}
    with pytest.raises(TypeError, match=r"`window` must be a positive integer"):
        diagnose_history(loss, window=2.5)
    with pytest.raises(ValueError, match=r"`rise_tolerance` must be a positive"):
        diagnose_history(loss, rise_tolerance=-0.1)
    with pytest.raises(ValueError, match=r"`target_loss` must be a number >= 0"):
        diagnose_history(loss, target_loss=float("nan"))


def test_bad_lr_find_arguments_raise(fitted_logistic, circles):
    clf, X, y = fitted_logistic
    tab = TabularClassifier(hidden_units=(4,), random_state=0)
    with pytest.raises(TypeError, match=r"`callbacks`, `max_steps` and `learning"):
        lr_find(clf, X, y)
    with pytest.raises(ValueError, match=r"`max_lr` must be above `min_lr`"):
        lr_find(tab, X, y, min_lr=1.0, max_lr=0.1)
    with pytest.raises(ValueError, match=r"`min_lr` must be a positive number"):
        lr_find(tab, X, y, min_lr=0.0)
    with pytest.raises(ValueError, match=r"`steps` must be at least 10"):
        lr_find(tab, X, y, steps=5)
    with pytest.raises(TypeError, match=r"`steps` must be a positive integer"):
        lr_find(tab, X, y, steps=50.0)
    with pytest.raises(ValueError, match=r"`diverge_factor` must be above 1"):
        lr_find(tab, X, y, diverge_factor=0.5)
    with pytest.raises(ValueError, match=r"`smoothing` must be a number in \[0, 1\)"):
        lr_find(tab, X, y, smoothing=1.0)
    with pytest.raises(TypeError, match=r"`smoothing` must be a number"):
        lr_find(tab, X, y, smoothing="high")
    Xc, yc = circles
    with pytest.raises(ValueError, match=r"recorded fewer than 5 batches"):
        lr_find(
            TabularClassifier(optimizer="sgd", hidden_units=(4,), random_state=0),
            Xc,
            yc,
            min_lr=1e12,
            max_lr=1e13,
            steps=10,
        )


def test_bad_learning_curve_and_error_analysis_arguments_raise(fitted_logistic):
    clf, X, y = fitted_logistic
    with pytest.raises(ValueError, match=r"`train_sizes` must be a sequence"):
        learning_curve(clf, X, y, train_sizes=(1.0,))
    with pytest.raises(ValueError, match=r"`gap_tolerance` must be a positive"):
        learning_curve(clf, X, y, gap_tolerance=-1.0)
    with pytest.raises(TypeError, match=r"`estimator` must be a classifier"):
        confused_pairs(LinearRegression().fit(X, y), X, y)
    with pytest.raises(TypeError, match=r"fitted classifier with `classes_`"):
        confused_pairs(DecisionTreeClassifier(), X, y)
    with pytest.raises(ValueError, match=r"`y` must be 1-D class labels"):
        confused_pairs(clf, X, np.c_[y, y])
    with pytest.raises(ValueError, match=r"`top` must be a positive integer"):
        confused_pairs(clf, X, y, top=0)
    with pytest.raises(TypeError, match=r"must have `predict_proba`"):
        worst_mistakes(RidgeClassifier().fit(X, y), X, y)
    with pytest.raises(TypeError, match=r"`output_dir` must be a folder path"):
        worst_mistakes(clf, X, y, output_dir=["out"])


# ------------------------------------------------------------------- docs
# tests/test_docs.py checks the docstrings of the public API against their
# signatures; these are the examples and the result classes' other methods.
@pytest.mark.parametrize("name", applied_ml.diagnose.__all__)
def test_public_api_has_examples_and_documented_methods(name):
    obj = getattr(applied_ml.diagnose, name)
    path = f"{obj.__module__}.{obj.__qualname__}"
    assert "EX01" not in dict(validate(path)["errors"])
    for method in ("plot", "to_markdown", "to_html", "to_dict", "gaps"):
        if hasattr(obj, method):
            errors = validate(f"{path}.{method}")["errors"]
            assert not [(c, m) for c, m in errors if c in CHECKED], (method, errors)
