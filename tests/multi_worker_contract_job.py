"""Every contract estimator trained on 2 workers (tests/test_multi_worker.py).

Usage: multi_worker_contract_job.py OUT_DIR CASE_ID [CASE_ID ...]. Each worker
fits every named case of tests/test_contract.py with
``strategy="multi_worker"`` and writes, per case, a digest of its weights and
its training history to OUT_DIR/contract-<index>.json.
"""

import hashlib
import json
import os
import sys

sys.path.insert(0, os.path.dirname(os.path.dirname(os.path.abspath(__file__))))

from applied_ml.cluster import multi_worker_strategy, task_index  # noqa: E402

multi_worker_strategy()

import numpy as np  # noqa: E402

from tests.test_contract import CASES  # noqa: E402

out, names = sys.argv[1], sys.argv[2:]
results = {}
for case in CASES:
    if case.id not in names:
        continue
    estimator = case.make(strategy="multi_worker").fit(*case.data())
    weights = np.concatenate(
        [np.ravel(w) for w in estimator.model_.get_weights()]
    ).astype("float64")
    results[case.id] = {
        "weights": hashlib.sha256(weights.tobytes()).hexdigest(),
        "loss": estimator.history_["loss"],
    }
with open(os.path.join(out, f"contract-{task_index()}.json"), "w") as f:
    json.dump(results, f)
