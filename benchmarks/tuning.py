"""TunerSearch at scale: memory over 50 trials, trials per hour on 1 and 2
workers, and the best score against GridSearchCV over the same grid.

All on breast cancer (569 rows, 30 numeric columns; 30% held out, stratified,
seed 0) with ``TabularClassifier``, in one run:

1. Memory. A random search of 50 trials (learning rate log-uniform in
   [1e-4, 1e-1], 2 epochs each); the process's resident memory is read when
   each trial's training ends, and reported at trials 1, 10 and 50.
2. Trials per hour. The same 8-point grid (learning rate x hidden units,
   5 epochs) searched by keras-tuner's chief and 1, then 2, tuner workers
   started by ``applied_ml.launch.launch_search``; timed from the first tuner
   worker's start to the last one's end (each process imports and reads the
   data before, and the chief refits the best parameters after).
3. Quality. ``TunerSearch(tuner="grid", cv=3)`` against
   ``GridSearchCV(cv=3)`` over the same grid (both stratified 3-fold, same
   folds): best parameters, mean CV accuracy, held-out accuracy, wall time.

Run: ``TF_CPP_MIN_LOG_LEVEL=2 .venv/bin/python benchmarks/tuning.py``
"""

import argparse
import json
import os
import sys
import tempfile
import time

os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "2")

GRID = {"learning_rate": [0.001, 0.003, 0.01, 0.03], "hidden_units": [(8,), (32, 16)]}


def data():
    from sklearn.datasets import load_breast_cancer
    from sklearn.model_selection import train_test_split

    X, y = load_breast_cancer(return_X_y=True, as_frame=True)
    return train_test_split(X, y, test_size=0.3, random_state=0, stratify=y)


def resident_mb() -> float:
    with open("/proc/self/statm") as f:
        pages = int(f.read().split()[1])
    return pages * os.sysconf("SC_PAGE_SIZE") / 2**20


def memory() -> dict:
    import keras

    from applied_ml import TabularClassifier
    from applied_ml.tuning import TunerSearch

    readings = []

    class Memory(keras.callbacks.Callback):
        def on_train_end(self, logs=None):
            readings.append(resident_mb())

    X_train, _, y_train, _ = data()
    TunerSearch(
        TabularClassifier(epochs=2, random_state=0, callbacks=[Memory()]),
        lambda hp: {
            "learning_rate": hp.Float("lr", 1e-4, 1e-1, sampling="log"),
        },
        max_trials=50,
        random_state=0,
    ).fit(X_train, y_train)
    return {n: readings[n - 1] for n in (1, 10, 50)}


def search_worker(out: str) -> None:
    """One process of the distributed search (chief or tuner worker)."""
    from applied_ml import TabularClassifier
    from applied_ml.tuning import TunerSearch

    X_train, X_test, y_train, y_test = data()
    start = time.time()
    search = TunerSearch(
        TabularClassifier(epochs=5, random_state=0),
        GRID,
        tuner="grid",
        max_trials=8,
        random_state=0,
    ).fit(X_train, y_train)
    role = os.environ["KERASTUNER_TUNER_ID"]
    found = {"start": start, "end": time.time(), "trials": len(search.trials_)}
    if role == "chief":
        found.update(best=repr(search.best_params_), test=search.score(X_test, y_test))
    with open(os.path.join(out, f"{role}.json"), "w") as f:
        json.dump(found, f)


def distributed() -> dict:
    """Per worker count: the trials, the span from the first tuner worker's
    start to the last one's end (keras-tuner's chief polls every 20 s for
    its exit and refits the best parameters after, which is left out), and
    the chief's best parameters and held-out accuracy."""
    from applied_ml.launch import launch_search

    found = {}
    for tuners in (1, 2):
        with tempfile.TemporaryDirectory() as out:
            status = launch_search(__file__, tuners, ["--search-worker", out])
            if status:
                sys.exit(f"the search with {tuners} tuner(s) failed ({status})")
            runs = {}
            for name in os.listdir(out):
                with open(os.path.join(out, name)) as f:
                    runs[name[: -len(".json")]] = json.load(f)
        chief = runs.pop("chief")
        found[tuners] = {
            "trials": sum(r["trials"] for r in runs.values()),
            "seconds": max(r["end"] for r in runs.values())
            - min(r["start"] for r in runs.values()),
            "best": chief["best"],
            "test": chief["test"],
        }
    return found


def against_grid_search() -> dict:
    from sklearn.model_selection import GridSearchCV

    from applied_ml import TabularClassifier
    from applied_ml.tuning import TunerSearch

    X_train, X_test, y_train, y_test = data()
    estimator = TabularClassifier(epochs=5, random_state=0)
    found = {}
    start = time.perf_counter()
    ours = TunerSearch(estimator, GRID, tuner="grid", max_trials=8, cv=3).fit(
        X_train, y_train
    )
    found["TunerSearch(grid, cv=3)"] = (
        ours.best_params_,
        ours.best_score_,
        ours.score(X_test, y_test),
        time.perf_counter() - start,
    )
    start = time.perf_counter()
    theirs = GridSearchCV(estimator, GRID, cv=3).fit(X_train, y_train)
    found["GridSearchCV(cv=3)"] = (
        theirs.best_params_,
        theirs.best_score_,
        theirs.score(X_test, y_test),
        time.perf_counter() - start,
    )
    return found


def main() -> None:
    readings = memory()
    print("| trial | resident memory (MB) |\n|---|---|")
    for n, mb in readings.items():
        print(f"| {n} | {mb:.0f} |")
    runs = distributed()
    print("\n| tuner workers | trials | seconds | trials/hour | best | held-out |")
    print("|---|---|---|---|---|---|")
    for tuners, run in runs.items():
        per_hour = run["trials"] / run["seconds"] * 3600
        print(
            f"| {tuners} | {run['trials']} | {run['seconds']:.1f} | {per_hour:.0f} | "
            f"{run['best']} | {run['test']:.3f} |"
        )
    print("\n| search | best parameters | mean CV accuracy | held-out | seconds |")
    print("|---|---|---|---|---|")
    for name, (params, cv, test, seconds) in against_grid_search().items():
        print(f"| {name} | {params} | {cv:.4f} | {test:.4f} | {seconds:.1f} |")


if __name__ == "__main__":
    parser = argparse.ArgumentParser()
    parser.add_argument("--search-worker", metavar="OUT")
    args = parser.parse_args()
    if args.search_worker:
        search_worker(args.search_worker)
    else:
        main()
