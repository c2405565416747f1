"""TensorBoard logs of a fit: scalars per epoch and a task's sample images.

With ``log_dir`` set, every training phase writes two runs,
``<log_dir>/<phase>/train`` and ``<log_dir>/<phase>/validation``, each with
one scalar per epoch for the loss and every metric under the metric's own name
(``loss``, ``accuracy``), so TensorBoard draws training and validation on
one chart per metric. Steps count epochs over the whole fit: a second phase
continues where the first ended, and a warm start where the last fit ended.
Tasks with sample images (the image tasks) add them to the run they come from
(validation when there is a split) at the end of every epoch.

One writer per run folder: TensorBoard reads a folder's event files in name
order, so two writers appending to one folder would hide each other's events.
A small callback is used rather than ``keras.callbacks.TensorBoard``, which
writes the same scalars under ``epoch_`` names but also traces the model
graph and wraps the train step for its per-batch summaries.
"""

import os
import re
from collections.abc import Callable
from typing import NamedTuple

import keras
import numpy as np
import tensorflow as tf

# Sample images logged per epoch (the first examples of the split)
N_SAMPLES = 4


class SampleImage(NamedTuple):
    """One image summary: its tag, images (n, height, width, channels) of
    0-255 values, and a description shown under it in TensorBoard."""

    name: str
    images: np.ndarray
    description: str = ""


def check_log_dir(log_dir) -> None:
    """Raise unless ``log_dir`` is None or a non-empty path."""
    if log_dir is None:
        return
    if not isinstance(log_dir, str | os.PathLike):
        raise TypeError(
            f"`log_dir` must be a path (str or os.PathLike) or None. Received: "
            f"log_dir={log_dir!r}"
        )
    if not os.fspath(log_dir):
        raise ValueError(
            f"`log_dir` must be a non-empty path, or None to write no TensorBoard "
            f"logs. Received: log_dir={log_dir!r}"
        )


def tag(text: str) -> str:
    """``text`` as a summary tag: letters, digits and ``_.-/`` only."""
    return re.sub(r"[^A-Za-z0-9_.\-/]+", "_", text)


class FitLog:
    """The TensorBoard logging of one ``fit`` call, shared by its phases.

    Parameters
    ----------
    log_dir : str or os.PathLike
        Root folder; each phase writes into ``<log_dir>/<phase>/``.
    first_step : int
        Step (epoch count) of the first epoch of this fit.
    samples : callable, optional
        Returns the sample images of the model as it is now (a list of
        :class:`SampleImage`); called at the end of every epoch.
    samples_run : {"train", "validation"}, default="validation"
        The run the samples come from.
    """

    def __init__(
        self,
        log_dir: str | os.PathLike,
        first_step: int = 0,
        samples: Callable[[], list] | None = None,
        samples_run: str = "validation",
    ):
        self.log_dir = os.fspath(log_dir)
        self.step = first_step
        self.samples = samples
        self.samples_run = samples_run

    def callback(self, phase: str) -> keras.callbacks.Callback:
        """The callback that logs ``phase`` (one ``model.fit``)."""
        return _PhaseLogger(self, os.path.join(self.log_dir, phase))


class _PhaseLogger(keras.callbacks.Callback):
    """Scalars (and samples) of each epoch of one phase, into its two runs."""

    def __init__(self, log: FitLog, folder: str):
        super().__init__()
        self.log = log
        self.folder = folder
        self._writers: dict = {}

    def _writer(self, run: str):
        if run not in self._writers:
            self._writers[run] = tf.summary.create_file_writer(
                os.path.join(self.folder, run)
            )
        return self._writers[run]

    def on_train_begin(self, logs=None):
        self._first_step = self.log.step
        self._last_step = self.log.step - 1

    def on_epoch_end(self, epoch, logs=None):
        # ``epoch`` counts from the restored epoch when a backup is resumed
        step = self._first_step + epoch
        runs: dict = {"train": {}, "validation": {}}
        for name, value in (logs or {}).items():
            if name.startswith("val_"):
                runs["validation"][name[len("val_") :]] = value
            else:
                runs["train"][name] = value
        learning_rate = getattr(self.model.optimizer, "learning_rate", None)
        if learning_rate is not None and "learning_rate" not in runs["train"]:
            runs["train"]["learning_rate"] = learning_rate
        for run, scalars in runs.items():
            if not scalars:
                continue
            with self._writer(run).as_default(step=step):
                for name, value in scalars.items():
                    tf.summary.scalar(tag(name), float(np.asarray(value)))
        if self.log.samples is not None:
            with self._writer(self.log.samples_run).as_default(step=step):
                for sample in self.log.samples():
                    tf.summary.image(
                        tag(sample.name),
                        np.asarray(sample.images, "uint8"),
                        max_outputs=len(sample.images),
                        description=sample.description or None,
                    )
        self._last_step = step

    def on_train_end(self, logs=None):
        self.log.step = self._last_step + 1
        for writer in self._writers.values():
            writer.close()
        self._writers.clear()
