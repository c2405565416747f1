"""Throughput of multi-worker training: 2 loopback workers against 1, same run.

Both jobs run ``strategy="multi_worker"`` through ``applied_ml.launch`` (as
``applied-ml launch`` does), the 1-worker job as a cluster of one, so the
code path is the same and only the worker count differs. Two models:

- ``TabularClassifier`` on the 'fair' survey (6,366 rows, 8 numeric columns),
  global batch 256: a small network, so each step is mostly fixed overhead.
- ``ImageClassifier(backbone="small_cnn")`` trained from scratch on 4,000
  Fashion-MNIST images at 64x64, global batch 64: real compute per step.

Steps/s are global steps (one global batch each) over epochs 2-3, after the
first epoch has traced and warmed up. The all-reduce time is measured apart,
in the same job: the mean time of one cross-worker all-reduce of a float32
vector as large as the model's trainable weights (what every step exchanges).
On this machine both workers share the same 2 cores, so 2 workers cannot be
2x faster; the numbers show the overhead, not the scaling of a real cluster.

Run: ``TF_CPP_MIN_LOG_LEVEL=2 .venv/bin/python benchmarks/multi_worker.py``
"""

import argparse
import json
import os
import sys
import tempfile
import time

os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "2")


def worker(out: str, task: str) -> None:
    from applied_ml.cluster import multi_worker_strategy, task_index

    strategy = multi_worker_strategy()
    import keras
    import numpy as np
    import tensorflow as tf

    class Clock(keras.callbacks.Callback):
        def on_epoch_begin(self, epoch, logs=None):
            if epoch == 1:
                self.start = time.perf_counter()

        def on_train_end(self, logs=None):
            self.seconds = time.perf_counter() - self.start

    clock = Clock()
    common = dict(
        strategy="multi_worker",
        epochs=3,
        random_state=0,
        early_stopping=False,
        validation_fraction=0.0,
        callbacks=[clock],
    )
    if task == "tabular":
        from applied_ml.datasets import load_fair
        from applied_ml.tabular import TabularClassifier

        X, y = load_fair()
        model = TabularClassifier(batch_size=256, **common)
        rows = len(X)
    else:
        from applied_ml.datasets import load_fashion_mnist
        from applied_ml.vision import ImageClassifier

        (X, y), _ = load_fashion_mnist()
        X, y = X[:4000], y[:4000]
        model = ImageClassifier(
            backbone="small_cnn",
            weights=None,
            augmentation=None,
            batch_size=64,
            **common,
        )
        rows = len(X)
    model.fit(X, y)
    steps = 2 * -(-rows // model.batch_size)
    size = sum(int(np.prod(w.shape)) for w in model.model_.trainable_weights)

    @tf.function
    def all_reduce(vector):
        values = strategy.run(tf.identity, args=(vector,))
        return strategy.reduce("SUM", values, axis=None)

    vector = tf.ones([size])
    all_reduce(vector).numpy()  # trace and warm up
    start = time.perf_counter()
    for _ in range(20):
        all_reduce(vector).numpy()
    reduce_ms = (time.perf_counter() - start) / 20 * 1000
    result = {
        "steps_per_s": steps / clock.seconds,
        "examples_per_s": steps * model.batch_size / clock.seconds,
        "step_ms": clock.seconds / steps * 1000,
        "all_reduce_ms": reduce_ms,
        "weights": size,
        "accuracy": float(model.score(X, y)),
    }
    with open(os.path.join(out, f"{task}-{task_index()}.json"), "w") as f:
        json.dump(result, f)


def main() -> None:
    from applied_ml.launch import launch

    rows = []
    for task in ("tabular", "image"):
        measured = {}
        for workers in (1, 2):
            with tempfile.TemporaryDirectory() as out:
                status = launch(__file__, workers, ["--worker", out, task])
                if status:
                    sys.exit(f"the {workers}-worker {task} job failed ({status})")
                with open(os.path.join(out, f"{task}-0.json")) as f:
                    measured[workers] = json.load(f)
        one, two = measured[1], measured[2]
        rows.append(
            f"| {task} | {one['weights']:,} | {one['steps_per_s']:.1f} | "
            f"{two['steps_per_s']:.1f} | {two['steps_per_s'] / one['steps_per_s']:.2f}"
            f" | {one['step_ms']:.1f} | {two['step_ms']:.1f} | "
            f"{two['all_reduce_ms']:.2f} | {one['accuracy']:.3f} / "
            f"{two['accuracy']:.3f} |"
        )
    print(
        "| model | weights | 1 worker steps/s | 2 workers steps/s | ratio | "
        "1 worker ms/step | 2 workers ms/step | all-reduce ms (2 workers) | "
        "training accuracy 1 / 2 |"
    )
    print("|---|---|---|---|---|---|---|---|---|")
    print("\n".join(rows))


if __name__ == "__main__":
    parser = argparse.ArgumentParser()
    parser.add_argument("--worker", nargs=2, metavar=("OUT", "TASK"))
    args = parser.parse_args()
    if args.worker:
        worker(*args.worker)
    else:
        main()
