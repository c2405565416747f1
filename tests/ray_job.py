"""A 2-worker fit under Ray Train's TensorflowTrainer (tests/test_ray.py).

Usage: ray_job.py OUT_DIR. Ray sets TF_CONFIG on each worker; the training
function makes the strategy first, fits a TabularClassifier on the penguins
and writes its weights' digest and accuracy to OUT_DIR/ray-<index>.json.
"""

import sys

import ray
from ray.train import ScalingConfig
from ray.train.tensorflow import TensorflowTrainer


def train_loop(config):
    from applied_ml.cluster import multi_worker_strategy, task_index

    multi_worker_strategy()
    import hashlib
    import json
    import os

    import numpy as np

    from applied_ml.datasets import load_penguins
    from applied_ml.tabular import TabularClassifier

    X, y = load_penguins()
    model = TabularClassifier(strategy="multi_worker", epochs=3, random_state=0)
    model.fit(X, y)
    weights = np.concatenate([w.ravel() for w in model.model_.get_weights()])
    result = {
        "weights": hashlib.sha256(weights.tobytes()).hexdigest(),
        "accuracy": model.score(X, y),
    }
    with open(os.path.join(config["out"], f"ray-{task_index()}.json"), "w") as f:
        json.dump(result, f)


if __name__ == "__main__":
    ray.init(num_cpus=2, include_dashboard=False)
    TensorflowTrainer(
        train_loop,
        train_loop_config={"out": sys.argv[1]},
        scaling_config=ScalingConfig(num_workers=2, use_gpu=False),
    ).fit()
