"""Quality of TabularClassifier/TabularRegressor against scikit-learn, same run.

Measures mean ± std of cross-validated accuracy (R² for regression) on five
real data sets that need no download: Palmer penguins (raw DataFrame with
strings, numbers and missing values), scikit-learn's breast cancer, wine and
diabetes, and the statsmodels "fair" survey (6,366 rows). Every model sees
the same folds: stratified 5-fold (plain 5-fold for regression) with a fixed
seed. Our estimators run with their DEFAULT parameters (only ``random_state``
set); the scikit-learn baselines are a scaled LogisticRegression (Ridge for
regression) and HistGradientBoosting, each behind a ColumnTransformer that
imputes, one-hot encodes and scales.

Targets checked: penguins accuracy >= 0.97, breast cancer >= 0.96, within
0.02 of the best scikit-learn model on every classification set, and diabetes
R² no worse than Ridge. When the defaults miss a target on a data set, a few
clearly labelled non-default variants are measured there too, on the same
folds, to show what helps; the verdicts are always those of the defaults.

Run: ``TF_CPP_MIN_LOG_LEVEL=2 .venv/bin/python benchmarks/tabular_quality.py``
"""

import os
import time

os.environ.setdefault("KERAS_BACKEND", "tensorflow")
os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "2")

import numpy as np  # noqa: E402
import pandas as pd  # noqa: E402
from _common import environment, markdown_table, verdict  # noqa: E402
from sklearn.compose import ColumnTransformer  # noqa: E402
from sklearn.datasets import load_breast_cancer, load_diabetes, load_wine  # noqa: E402
from sklearn.ensemble import (  # noqa: E402
    HistGradientBoostingClassifier,
    HistGradientBoostingRegressor,
)
from sklearn.impute import SimpleImputer  # noqa: E402
from sklearn.linear_model import LogisticRegression, Ridge  # noqa: E402
from sklearn.model_selection import KFold, StratifiedKFold, cross_validate  # noqa: E402
from sklearn.pipeline import make_pipeline  # noqa: E402
from sklearn.preprocessing import OneHotEncoder, StandardScaler  # noqa: E402

from applied_ml import TabularClassifier, TabularRegressor  # noqa: E402
from applied_ml.datasets import load_fair, load_penguins  # noqa: E402

SEED = 0
# Our scores move with the seed of the network by about as much as the
# targets' margins; the defaults are also run with these seeds (same folds)
# and the mean over all three is reported beside the seed-0 score.
OTHER_SEEDS = (1, 2)
N_SPLITS = 5
OURS = "ours (defaults)"

# Non-default settings tried only where the defaults miss a target. They were
# picked after a small exploration on these same folds, so their scores are
# optimistic: they say what helps, not what a fresh data set would get.
VARIANTS = {
    "classification": {
        'model="linear"': {"model": "linear"},
        "dropout=0.2, l2=1e-4": {"dropout": 0.2, "l2": 1e-4},
        "learning_rate=0.001": {"learning_rate": 0.001},
    },
    "regression": {
        'model="linear"': {"model": "linear"},
        "dropout=0.0 (the default before)": {"dropout": 0.0},
        "learning_rate=0.001": {"learning_rate": 0.001},
    },
}


def load_datasets() -> list[dict]:
    """Each data set as a DataFrame, a target Series and its task."""
    sets = []
    X, y = load_penguins()
    sets.append({"name": "penguins", "X": X, "y": y, "task": "classification"})
    for name, loader in [("breast cancer", load_breast_cancer), ("wine", load_wine)]:
        X, y = loader(return_X_y=True, as_frame=True)
        sets.append({"name": name, "X": X, "y": y, "task": "classification"})
    X, y = load_fair()
    sets.append({"name": "fair", "X": X, "y": y, "task": "classification"})
    X, y = load_diabetes(return_X_y=True, as_frame=True)
    sets.append({"name": "diabetes", "X": X, "y": y, "task": "regression"})
    return sets


def folds(data: dict) -> list:
    """The one list of (train, test) indices every model is scored on."""
    if data["task"] == "classification":
        cv = StratifiedKFold(N_SPLITS, shuffle=True, random_state=SEED)
    else:
        cv = KFold(N_SPLITS, shuffle=True, random_state=SEED)
    return list(cv.split(data["X"], data["y"]))


def preprocessor(X: pd.DataFrame) -> ColumnTransformer:
    """Impute + scale numbers, impute + one-hot encode strings."""
    numeric = X.select_dtypes("number").columns.tolist()
    categorical = [c for c in X.columns if c not in numeric]
    return ColumnTransformer(
        [
            (
                "numeric",
                make_pipeline(SimpleImputer(strategy="median"), StandardScaler()),
                numeric,
            ),
            (
                "categorical",
                make_pipeline(
                    SimpleImputer(strategy="most_frequent"),
                    OneHotEncoder(handle_unknown="ignore"),
                ),
                categorical,
            ),
        ]
    )


def baselines(data: dict) -> dict:
    X = data["X"]
    if data["task"] == "classification":
        return {
            "LogisticRegression": make_pipeline(
                preprocessor(X), LogisticRegression(max_iter=5000)
            ),
            "HistGradientBoosting": make_pipeline(
                preprocessor(X), HistGradientBoostingClassifier(random_state=SEED)
            ),
        }
    return {
        "Ridge": make_pipeline(preprocessor(X), Ridge()),
        "HistGradientBoosting": make_pipeline(
            preprocessor(X), HistGradientBoostingRegressor(random_state=SEED)
        ),
    }


def ours(data: dict, seed: int = SEED, **params):
    cls = TabularClassifier if data["task"] == "classification" else TabularRegressor
    return cls(random_state=seed, **params)


def evaluate(model, data: dict, splits: list) -> dict:
    scoring = "accuracy" if data["task"] == "classification" else "r2"
    result = cross_validate(
        model, data["X"], data["y"], cv=splits, scoring=scoring, error_score="raise"
    )
    scores = result["test_score"]
    return {
        "mean": float(np.mean(scores)),
        "std": float(np.std(scores)),
        "fit_s": float(np.mean(result["fit_time"])),
    }


def fmt(score: dict) -> str:
    return f"{score['mean']:.3f} ± {score['std']:.3f}"


def targets(data: dict, scores: dict) -> list[tuple[str, str, bool]]:
    """(target, measured value, met) for the defaults on one data set."""
    mine = scores[OURS]["mean"]
    out = []
    if data["task"] == "classification":
        best = max(v["mean"] for k, v in scores.items() if k != OURS)
        if data["name"] == "penguins":
            out.append(("penguins accuracy ≥ 0.97", f"{mine:.3f}", mine >= 0.97))
        if data["name"] == "breast cancer":
            out.append(("breast cancer accuracy ≥ 0.96", f"{mine:.3f}", mine >= 0.96))
        out.append(
            (
                f"{data['name']}: within 0.02 of best scikit-learn ({best:.3f})",
                f"gap {mine - best:+.3f}",
                mine - best >= -0.02,
            )
        )
    else:
        ridge = scores["Ridge"]["mean"]
        out.append(
            (
                f"{data['name']}: R² ≥ Ridge ({ridge:.3f})",
                f"{mine:.3f} (gap {mine - ridge:+.3f})",
                mine >= ridge,
            )
        )
    return out


def main() -> None:
    start = time.perf_counter()
    print(f"Machine: {environment()}\n")
    rows, target_rows, variant_rows = [], [], []
    for data in load_datasets():
        splits = folds(data)
        scores = {OURS: evaluate(ours(data), data, splits)}
        seed_means = [scores[OURS]["mean"]] + [
            evaluate(ours(data, seed), data, splits)["mean"] for seed in OTHER_SEEDS
        ]
        for name, model in baselines(data).items():
            scores[name] = evaluate(model, data, splits)
        sk = {k: v for k, v in scores.items() if k != OURS}
        best_name = max(sk, key=lambda k: sk[k]["mean"])
        gap = scores[OURS]["mean"] - sk[best_name]["mean"]
        linear, boosting = list(sk)
        each = ", ".join(f"{m:.3f}" for m in seed_means)
        rows.append(
            [
                data["name"],
                f"{len(data['X'])}×{data['X'].shape[1]}",
                "accuracy" if data["task"] == "classification" else "R²",
                fmt(scores[OURS]),
                f"{np.mean(seed_means):.3f} ({each})",
                fmt(scores[linear]) + f" ({linear})",
                fmt(scores[boosting]),
                f"{sk[best_name]['mean']:.3f}",
                f"{gap:+.3f}",
                f"{scores[OURS]['fit_s']:.1f}",
            ]
        )
        checks = targets(data, scores)
        for label, value, ok in checks:
            target_rows.append([label, value, verdict(ok)])
        if not all(ok for *_, ok in checks):
            for label, params in VARIANTS[data["task"]].items():
                score = evaluate(ours(data, **params), data, splits)
                variant_rows.append(
                    [
                        data["name"],
                        f"ours, {label}",
                        fmt(score),
                        f"{score['mean'] - sk[best_name]['mean']:+.3f}",
                        f"{score['fit_s']:.1f}",
                    ]
                )
        print(f"  done: {data['name']} ({time.perf_counter() - start:.0f} s)")

    print(
        f"\n{N_SPLITS}-fold CV (stratified for classification), seed {SEED}; "
        "mean ± std over folds; gap = ours − best scikit-learn (seed 0). The "
        f"seed column refits ours with random_state {SEED}, "
        f"{', '.join(map(str, OTHER_SEEDS))} on the same folds.\n"
    )
    print(
        markdown_table(
            [
                "data set",
                "rows×cols",
                "metric",
                OURS,
                "ours, mean of seeds 0-2 (each)",
                "linear baseline",
                "HistGradientBoosting",
                "best sklearn",
                "gap",
                "our fit s/fold",
            ],
            rows,
        )
    )
    print("\nTargets (defaults):\n")
    print(markdown_table(["target", "measured", "result"], target_rows))
    if variant_rows:
        print("\nNon-default variants, measured only where the defaults missed:\n")
        print(
            markdown_table(
                ["data set", "model", "score", "gap to best sklearn", "fit s/fold"],
                variant_rows,
            )
        )
    print(f"\nTotal time: {time.perf_counter() - start:.0f} s")


if __name__ == "__main__":
    main()
