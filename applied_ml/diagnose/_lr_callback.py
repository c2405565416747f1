"""The Keras callback of the learning-rate range test."""

import math

import keras
import numpy as np


def set_learning_rate(optimizer, value: float) -> None:
    """Set an optimizer's learning rate (a variable: assigned, not replaced)."""
    current = getattr(optimizer, "learning_rate", None)
    if hasattr(current, "assign"):
        current.assign(value)
    else:
        optimizer.learning_rate = value


class LRRangeTest(keras.callbacks.Callback):
    """Grow the learning rate exponentially per batch and record the loss.

    Keras reports a batch's ``loss`` as the running mean since the start of
    the epoch; the batch's own loss is recovered from consecutive means. The
    last batch of an epoch may be smaller than the others, which that
    recovery cannot tell, so its point is dropped.
    """

    def __init__(
        self, lrs: np.ndarray, smoothing: float, diverge_factor: float
    ) -> None:
        super().__init__()
        self.lrs = lrs
        self.smoothing = smoothing
        self.diverge_factor = diverge_factor
        self.step = 0
        self.recorded_lrs: list[float] = []
        self.raw_losses: list[float] = []
        self.losses: list[float] = []
        self.stopped_early = False
        self._average = 0.0
        self._n = 0
        self._best = math.inf
        self._previous_mean = 0.0

    def _done(self) -> bool:
        return self.step >= len(self.lrs) or self.stopped_early

    def on_train_begin(self, logs=None):
        if self._done():  # a later training phase: nothing more to test
            self.model.stop_training = True

    def on_epoch_begin(self, epoch, logs=None):
        self._previous_mean = 0.0

    def on_train_batch_begin(self, batch, logs=None):
        if not self._done():
            set_learning_rate(self.model.optimizer, float(self.lrs[self.step]))

    def on_train_batch_end(self, batch, logs=None):
        if self._done():
            self.model.stop_training = True
            return
        mean = float((logs or {}).get("loss", math.nan))
        loss = (batch + 1) * mean - batch * self._previous_mean
        self._previous_mean = mean
        lr = float(self.lrs[self.step])
        self.step += 1
        steps = self.params.get("steps") if self.params else None
        last_of_epoch = steps is not None and steps > 1 and batch == steps - 1
        if not math.isfinite(loss):
            self.stopped_early = True
        elif not last_of_epoch:
            self._n += 1
            self._average = self.smoothing * self._average + (1 - self.smoothing) * loss
            smoothed = self._average / (1 - self.smoothing**self._n)
            self.recorded_lrs.append(lr)
            self.raw_losses.append(loss)
            self.losses.append(smoothed)
            self._best = min(self._best, smoothed)
            if self._n > 1 and smoothed > self.diverge_factor * self._best:
                self.stopped_early = True
        if self._done():
            self.model.stop_training = True
