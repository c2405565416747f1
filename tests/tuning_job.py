"""A distributed search for tests/test_tuning_scale.py (run by launch_search).

Usage: tuning_job.py OUT_DIR. Every process (the chief and each tuner worker)
fits the same TunerSearch over a 4-value grid and writes the trials it knows
of to OUT_DIR/<KERASTUNER_TUNER_ID>.json.
"""

import json
import os
import sys

from sklearn.datasets import load_breast_cancer

from applied_ml import TabularClassifier
from applied_ml.tuning import TunerSearch

X, y = load_breast_cancer(return_X_y=True, as_frame=True)
search = TunerSearch(
    TabularClassifier(epochs=3, hidden_units=(8,), random_state=0),
    {"learning_rate": [0.001, 0.003, 0.01, 0.03]},
    tuner="grid",
    max_trials=4,
    random_state=0,
).fit(X.iloc[:200], y.iloc[:200])
result = {
    "trials": [t["trial_id"] for t in search.trials_],
    "params": [t["params"] for t in search.trials_],
}
if search.trials_:
    result["accuracy"] = search.score(X.iloc[200:], y.iloc[200:])
with open(
    os.path.join(sys.argv[1], f"{os.environ['KERASTUNER_TUNER_ID']}.json"), "w"
) as f:
    json.dump(result, f)
