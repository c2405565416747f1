"""What every part of the tour shares: folders, the result record, serving."""

import json
import os
import shutil
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
OUTPUTS = ROOT / "outputs"
DEMO_OUTPUTS = OUTPUTS / "demo"
RESULT_FILE = "result.json"
SEED = 0


def part_folder(part: str) -> Path:
    """``outputs/demo/<part>/``, created if needed."""
    folder = DEMO_OUTPUTS / part
    folder.mkdir(parents=True, exist_ok=True)
    return folder


def export_fresh(estimator, folder: Path) -> str:
    """Export ``estimator`` to ``<folder>/saved_model/1``, replacing an old run's."""
    target = folder / "saved_model"
    shutil.rmtree(target, ignore_errors=True)
    return estimator.export(path=target, version=1)


def serve_one(path: str, **inputs) -> dict:
    """Call a SavedModel's ``serving_default`` on raw inputs with plain TensorFlow.

    Parameters
    ----------
    path : str
        The SavedModel folder.
    **inputs
        Input name to a raw value (list or array); each becomes a
        ``tf.constant`` of the signature's dtype.

    Returns
    -------
    dict
        Output name to numpy array.
    """
    import tensorflow as tf

    serve = tf.saved_model.load(path).signatures["serving_default"]
    _, spec = serve.structured_input_signature
    feed = {name: tf.constant(inputs[name], dtype=spec[name].dtype) for name in spec}
    return {name: value.numpy() for name, value in serve(**feed).items()}


def relative(path) -> str:
    """``path`` relative to the repository root, for printing."""
    return os.path.relpath(path, ROOT)


def write_result(folder: Path, result: dict) -> Path:
    """Store a part's ``result`` (plus the time it finished) as JSON in ``folder``."""
    record = {**result, "finished": time.strftime("%Y-%m-%d %H:%M")}
    path = folder / RESULT_FILE
    path.write_text(json.dumps(record, indent=2, default=float) + "\n")
    return path


def metric(name: str, value: float, *, better: str = "higher") -> dict:
    """A named number for the result record (``better``: "higher" or "lower")."""
    return {"name": name, "value": float(value), "better": better}


def show(label: str, entry: dict | None) -> None:
    """Print one metric line of a part."""
    if entry is not None:
        print(f"  {label:<8} {entry['name']}: {entry['value']:.4f}")


def step_budget(steps: int):
    """A ``TimeBudget`` whose clock counts training steps instead of minutes.

    The learning rate warms up and decays (cosine) over ``steps`` batches and
    training stops after the last one: the same work, and so the same
    result, on a busy machine as on a quiet one.

    Parameters
    ----------
    steps : int
        Training batches in all.

    Returns
    -------
    keras.callbacks.Callback
        The callback, for the estimator's ``callbacks``.
    """
    from applied_ml.callbacks import TimeBudget

    class StepBudget(TimeBudget):
        def __init__(self):
            super().__init__(minutes=1.0)
            self.steps = steps
            self._done = 0

        def on_train_begin(self, logs=None):
            super().on_train_begin(logs)
            self._done = 0

        def progress(self) -> float:
            return self._done / self.steps

        def on_train_batch_end(self, batch, logs=None):
            self._done += 1
            super().on_train_batch_end(batch, logs)

    return StepBudget()
