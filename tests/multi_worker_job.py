"""A multi-worker job for tests/test_multi_worker.py (run by the launcher).

Usage: multi_worker_job.py OUT_DIR [--checkpoint DIR] [--epochs N]
[--crash-after EPOCH] [--late] [--single]. Every worker fits a
TabularClassifier on the penguins with ``strategy="multi_worker"`` and writes
its weights' digest, history and accuracy to OUT_DIR/worker-<index>.json;
``--single`` fits the same on one process, without TF_CONFIG, to single.json.
"""

import argparse
import hashlib
import json
import os
import signal

parser = argparse.ArgumentParser()
parser.add_argument("out")
parser.add_argument("--checkpoint")
parser.add_argument("--epochs", type=int, default=3)
parser.add_argument("--crash-after", type=int)
parser.add_argument("--late", action="store_true")
parser.add_argument("--single", action="store_true")
args = parser.parse_args()

import keras  # noqa: E402
import numpy as np  # noqa: E402
import tensorflow as tf  # noqa: E402

from applied_ml.cluster import multi_worker_strategy, task_index  # noqa: E402

if args.late:
    tf.constant(0.0)  # TensorFlow runs before the strategy exists
if not args.single:
    multi_worker_strategy()

from applied_ml.datasets import load_penguins  # noqa: E402
from applied_ml.tabular import TabularClassifier  # noqa: E402


class Crash(keras.callbacks.Callback):
    """Kill worker 1 once the backup of epoch ``crash_after`` is written."""

    def on_epoch_end(self, epoch, logs=None):
        if task_index() == 1 and epoch + 1 == args.crash_after:
            os.kill(os.getpid(), signal.SIGKILL)


X, y = load_penguins()
model = TabularClassifier(
    strategy="one_device" if args.single else "multi_worker",
    epochs=args.epochs,
    batch_size=32,
    random_state=0,
    verbose=0,
    checkpoint_dir=args.checkpoint,
    callbacks=[Crash()] if args.crash_after else None,
)
model.fit(X, y)
weights = np.concatenate([w.ravel() for w in model.model_.get_weights()])
result = {
    "weights": hashlib.sha256(weights.tobytes()).hexdigest(),
    "loss": model.history_["loss"],
    "accuracy": model.score(X, y),
    "export": model.export(os.path.join(args.out, "export")),
}
name = "single" if args.single else f"worker-{task_index()}"
with open(os.path.join(args.out, f"{name}.json"), "w") as f:
    json.dump(result, f)
