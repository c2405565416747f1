"""Tabular: Palmer penguins species from the raw table (strings, numbers, NaNs)."""

import math
import os

from sklearn.compose import make_column_transformer
from sklearn.impute import SimpleImputer
from sklearn.linear_model import LogisticRegression
from sklearn.model_selection import train_test_split
from sklearn.pipeline import make_pipeline
from sklearn.preprocessing import OneHotEncoder, StandardScaler

from applied_ml import TabularClassifier
from applied_ml.datasets import load_penguins
from applied_ml.plots import plot_confusion_matrix
from demo._common import SEED, export_fresh, metric, serve_one

TITLE = "Tabular: penguin species"


def logistic_peer(X):
    """scikit-learn's usual recipe: impute, one-hot, scale, logistic regression."""
    categorical = X.select_dtypes(exclude="number").columns
    numeric = X.select_dtypes(include="number").columns
    columns = make_column_transformer(
        (
            make_pipeline(
                SimpleImputer(strategy="constant", fill_value="missing"),
                OneHotEncoder(handle_unknown="ignore"),
            ),
            categorical,
        ),
        (make_pipeline(SimpleImputer(), StandardScaler()), numeric),
    )
    return make_pipeline(columns, LogisticRegression(max_iter=1000))


def run(folder) -> dict:
    """Train, compare, plot, export and serve; return the part's result record."""
    X, y = load_penguins()
    X_train, X_test, y_train, y_test = train_test_split(
        X, y, test_size=0.25, stratify=y, random_state=SEED
    )
    print(f"  {len(X_train)} penguins to train on, {len(X_test)} held out")
    clf = TabularClassifier(random_state=SEED).fit(X_train, y_train)
    accuracy = clf.score(X_test, y_test)
    peer = logistic_peer(X_train).fit(X_train, y_train).score(X_test, y_test)
    majority = (y_test == y_train.mode()[0]).mean()

    png = plot_confusion_matrix(
        y_test,
        clf.predict(X_test),
        folder / "confusion.png",
        labels=clf.classes_,
        title=f"Palmer penguins, {len(X_test)} held-out birds",
    )

    path = export_fresh(clf, folder)
    row = X_test.iloc[0].astype(object).to_dict()
    row["sex"] = ""  # a missing category, as a raw request may have
    row["bill_depth_mm"] = math.nan
    out = serve_one(path, **{name: [value] for name, value in row.items()})
    label = out["labels"][0].decode()
    confidence = out["probabilities"][0].max()
    return {
        "title": TITLE,
        "data": f"Palmer penguins: {len(X)} birds, 3 species, missing values",
        "model": "TabularClassifier (feature specs inferred from the raw table)",
        "metric": metric("accuracy", accuracy),
        "peer": metric("logistic regression (imputed, one-hot)", peer),
        "baseline": metric("majority class", majority),
        "pngs": [os.path.basename(png)],
        "serving": {
            "input": ", ".join(f"{k}={v!r}" for k, v in row.items()),
            "output": f"{label} (p={confidence:.3f}); truth {y_test.iloc[0]}",
        },
    }
