"""Palmer penguins, end to end: raw table -> TabularClassifier -> SavedModel.

Trains on the raw penguins table (strings, numbers, missing values), reports
held-out metrics, plots the learning curves, exports a SavedModel and serves
it from a fresh Python process that imports only TensorFlow.

Run from anywhere: ``make demo`` or ``python tutorials/penguins.py``.
Writes ``outputs/penguins_learning_curves.png`` and
``saved_models/penguins/<version>/`` under the repository root.
"""

import json
import math
import os
import subprocess
import sys
import textwrap
import time
from pathlib import Path

os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "2")

import numpy as np  # noqa: E402
import pandas as pd  # noqa: E402
from sklearn.model_selection import train_test_split  # noqa: E402

from applied_ml import TabularClassifier  # noqa: E402
from applied_ml.datasets import load_penguins  # noqa: E402
from applied_ml.plots import plot_learning_curves  # noqa: E402

ROOT = Path(__file__).resolve().parent.parent
OUTPUTS = ROOT / "outputs"
MODEL_FOLDER = ROOT / "saved_models" / "penguins"
SEED = 0

# Runs in a fresh interpreter: plain TensorFlow, no applied_ml. Reads the
# SavedModel path and raw rows (JSON, NaN allowed) from stdin.
SERVE = textwrap.dedent(
    """
    import json, sys
    import tensorflow as tf

    request = json.loads(sys.stdin.read())
    serve = tf.saved_model.load(request["path"]).signatures["serving_default"]
    _, spec = serve.structured_input_signature
    rows = request["rows"]
    inputs = {
        name: tf.constant([row[name] for row in rows], dtype=s.dtype)
        for name, s in spec.items()
    }
    out = serve(**inputs)
    if "applied_ml" in sys.modules:
        sys.exit("applied_ml was imported: serving must need TensorFlow only")
    print(json.dumps({
        "applied_ml_imported": "applied_ml" in sys.modules,
        "labels": [b.decode() for b in out["labels"].numpy()],
        "probabilities": out["probabilities"].numpy().astype("float64").tolist(),
    }))
    """
)


def section(title: str) -> None:
    print(f"\n== {title} " + "=" * max(0, 70 - len(title)))


def main() -> None:
    start = time.perf_counter()

    section("Data")
    X, y = load_penguins()
    print(f"{X.shape[0]} penguins, columns: {', '.join(X.columns)}")
    print(f"missing values per column: {X.isna().sum()[X.isna().any()].to_dict()}")
    print(f"species: {y.value_counts().to_dict()}")
    X_train, X_test, y_train, y_test = train_test_split(
        X, y, test_size=0.25, stratify=y, random_state=SEED
    )
    print(f"train {len(X_train)} rows, test {len(X_test)} rows (stratified)")

    section("Training")
    clf = TabularClassifier(random_state=SEED, verbose=0)
    t0 = time.perf_counter()
    clf.fit(X_train, y_train)
    val_loss = clf.history_["val_loss"]
    best = min(range(len(val_loss)), key=val_loss.__getitem__)
    print(
        f"{clf.n_iter_} epochs in {time.perf_counter() - t0:.1f}s; early stopping "
        f"kept epoch {best + 1} (val_loss {val_loss[best]:.2e})"
    )
    print("features:", ", ".join(type(s).__name__ for s in clf.feature_specs_))

    section("Held-out metrics")
    for name, value in clf.evaluate(X_test, y_test).items():
        print(f"{name:>16}: {value:.4f}")

    section("Learning curves")
    png = plot_learning_curves(
        clf, OUTPUTS / "penguins_learning_curves.png", title="Palmer penguins"
    )
    print(f"wrote {Path(png).relative_to(ROOT)}")

    section("Export")
    export_path = clf.export(path=MODEL_FOLDER)
    print(f"SavedModel written to {Path(export_path).relative_to(ROOT)}")

    section("Serving from plain TensorFlow (fresh process)")
    # Two held-out rows as plain Python values; the second gets a missing
    # measurement (NaN) and a missing category ("").
    rows = X_test.iloc[:2].astype(object).to_dict("records")
    rows[1].update(bill_depth_mm=math.nan, sex="")
    for row in rows:
        print("input:", row)
    result = subprocess.run(
        [sys.executable, "-c", SERVE],
        input=json.dumps({"path": os.fspath(export_path), "rows": rows}),
        capture_output=True,
        text=True,
        check=False,
        env={**os.environ, "TF_CPP_MIN_LOG_LEVEL": "2"},
    )
    if result.returncode != 0:
        sys.exit(f"serving process failed:\n{result.stderr}")
    served = json.loads(result.stdout.strip().splitlines()[-1])
    if served["applied_ml_imported"]:
        sys.exit("serving process imported applied_ml; it must need TensorFlow only")
    print("applied_ml imported in the serving process:", served["applied_ml_imported"])
    print("classes:", clf.classes_.tolist())
    for label, proba in zip(served["labels"], served["probabilities"], strict=True):
        print(f"labels: {label:<10} probabilities: {np.round(proba, 4).tolist()}")
    local = clf.predict_proba(pd.DataFrame(rows))
    agree = np.allclose(local, served["probabilities"], atol=1e-5)
    print("matches clf.predict_proba in this process:", agree)

    section("Done")
    print(f"total {time.perf_counter() - start:.1f}s")


if __name__ == "__main__":
    main()
