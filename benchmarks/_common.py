"""Helpers shared by the benchmark scripts: environment, tables, timing, inputs."""

import argparse
import datetime
import os
import platform
import statistics
import subprocess
import time
from pathlib import Path

os.environ.setdefault("KERAS_BACKEND", "tensorflow")
os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "2")

import keras  # noqa: E402
import numpy as np  # noqa: E402
import sklearn  # noqa: E402
import tensorflow as tf  # noqa: E402

HERE = Path(__file__).resolve().parent
PEER_PYTHON = HERE / ".venv-peers" / "bin" / "python"


def cpu_name() -> str:
    try:
        with open("/proc/cpuinfo") as f:
            for line in f:
                if line.startswith("model name"):
                    return line.split(":", 1)[1].strip()
    except OSError:
        pass
    return platform.processor() or "unknown CPU"


def code_version() -> str:
    """applied_ml's version and source: git commit (and edits) or import path."""
    import applied_ml

    root = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
    package = os.path.dirname(os.path.dirname(os.path.abspath(applied_ml.__file__)))
    if package != root:
        return f"applied_ml {applied_ml.__version__} imported from {package}"

    def git(*args):
        return subprocess.run(
            ["git", *args], cwd=root, capture_output=True, text=True, check=False
        )

    commit = git("rev-parse", "--short", "HEAD").stdout.strip() or "unknown"
    dirty = (
        git("diff", "--quiet", "HEAD", "--", "applied_ml").returncode != 0
        or git("ls-files", "--others", "--exclude-standard", "applied_ml").stdout
    )
    edits = " + uncommitted edits in applied_ml/" if dirty else ""
    return f"applied_ml {applied_ml.__version__} at commit {commit}{edits}"


def environment() -> str:
    """One markdown line naming the code, the machine and the library versions."""
    today = datetime.date.today().isoformat()
    return (
        f"{today}; {code_version()}; {os.cpu_count()} CPU core(s), {cpu_name()}; "
        f"Python {platform.python_version()}, TensorFlow {tf.__version__}, "
        f"Keras {keras.__version__}, scikit-learn {sklearn.__version__}, "
        f"NumPy {np.__version__}"
    )


def markdown_table(headers: list, rows: list) -> str:
    lines = [
        "| " + " | ".join(str(h) for h in headers) + " |",
        "|" + "|".join("---" for _ in headers) + "|",
    ]
    lines += ["| " + " | ".join(str(c) for c in row) + " |" for row in rows]
    return "\n".join(lines)


def verdict(ok: bool) -> str:
    return "PASS" if ok else "FAIL"


def timed(fn, *args, **kwargs) -> tuple[float, object]:
    """Wall time in seconds of one call, and its result."""
    start = time.perf_counter()
    out = fn(*args, **kwargs)
    return time.perf_counter() - start, out


def median(values) -> float:
    return float(statistics.median(values))


def rotate(round_index: int, *sides) -> None:
    """Run every side once, the order rotated by one place each round.

    Over ``len(sides)`` rounds every side runs once in every position (for two
    sides: A B, B A, A B, ...), so slow drift of a shared machine does not
    favour one side.
    """
    k = round_index % len(sides)
    for fn in sides[k:] + sides[:k]:
        fn()


class EpochTimer(keras.callbacks.Callback):
    """Records the wall time of every epoch of a ``fit`` (seconds)."""

    def __init__(self):
        super().__init__()
        self.times = []
        self._start = None

    def on_epoch_begin(self, epoch, logs=None):
        self._start = time.perf_counter()

    def on_epoch_end(self, epoch, logs=None):
        self.times.append(time.perf_counter() - self._start)


class Snapshots(keras.callbacks.Callback):
    """Keep the weights after the first training batch past each minute mark."""

    def __init__(self, marks):
        super().__init__()
        self.marks = list(marks)
        self.weights, self.times = {}, {}
        self.train_seconds = 0.0

    def on_train_batch_begin(self, batch, logs=None):
        self._batch_start = time.monotonic()
        if not hasattr(self, "start"):
            self.start = self._batch_start

    def on_train_batch_end(self, batch, logs=None):
        now = time.monotonic()
        self.train_seconds += now - self._batch_start
        elapsed = (now - self.start) / 60
        for mark in self.marks:
            if mark not in self.weights and elapsed >= mark:
                self.weights[mark] = self.model.get_weights()
                step = int(self.model.optimizer.iterations.numpy())
                self.times[mark] = {"minutes": elapsed, "step": step}


def predict_timing(predict, images, batch: int = 32) -> dict:
    """End-to-end predict: images/s at ``batch`` (best of 3), ms at batch 1."""
    predict(images[:batch])
    rates = []
    for _ in range(3):
        start = time.perf_counter()
        for i in range(0, len(images), batch):
            predict(images[i : i + batch])
        rates.append(len(images) / (time.perf_counter() - start))
    single = []
    for i in range(50):
        start = time.perf_counter()
        predict(images[i : i + 1])
        single.append((time.perf_counter() - start) * 1000)
    return {"images_per_s_b32": max(rates), "ms_b1": statistics.median(single)}


def budget_parser(description: str) -> argparse.ArgumentParser:
    """A command line with ``--quick``, ``--minutes`` and ``--no-peer``."""
    parser = argparse.ArgumentParser(description=description)
    parser.add_argument("--quick", action="store_true", help="small data, 1 minute")
    parser.add_argument("--minutes", type=float, default=10.0)
    parser.add_argument("--no-peer", action="store_true")
    return parser


def run_ultralytics(script: str, data: Path, out: Path, minutes: float, **options):
    """Run a peer script in the peers' venv; its output goes to ``peer.log``.

    ``options`` become ``--name value`` arguments; the peer gets every core.
    """
    command = [
        str(PEER_PYTHON),
        str(HERE / script),
        "--data",
        str(data),
        "--minutes",
        str(minutes),
        "--out",
        str(out),
        "--threads",
        str(os.cpu_count() or 1),
    ]
    for name, value in options.items():
        command += [f"--{name}", str(value)]
    with open(out.parent / "peer.log", "w") as log:
        subprocess.run(command, check=True, stdout=log, stderr=subprocess.STDOUT)


def keras_inputs(est, X) -> dict:
    """The dict a fitted tabular estimator's ``model_`` takes, built by hand.

    Uses the documented ``input_columns_`` (column, model input name, kind):
    one (n, 1) array per input, float64 with NaN kept for numeric columns
    (imputation is a layer of the model), and a ``tf.string`` tensor with
    missing values as ``""`` for string columns, because Keras' array adapter
    rejects NumPy object arrays.
    """
    inputs = {}
    for c in est.input_columns_:
        column = X[c["column"]]
        if c["kind"] == "string":
            text = [_as_text(v) for v in column.astype(object)]
            inputs[c["input"]] = tf.constant(
                np.array(text, dtype=object).reshape(-1, 1)
            )
        else:
            inputs[c["input"]] = column.to_numpy(dtype="float64").reshape(-1, 1)
    return inputs


def _as_text(value) -> str:
    if value is None or (isinstance(value, float) and np.isnan(value)):
        return ""
    if isinstance(value, float) and value.is_integer():
        return str(int(value))
    return str(value)
