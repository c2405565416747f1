"""Keras callbacks for the estimators' ``callbacks=`` parameter."""

import math
import time

import keras

from applied_ml._validation import check_choice, check_number

SCHEDULES = ("cosine", "linear", "constant")


class TimeBudget(keras.callbacks.Callback):
    """Train for a wall-clock budget, the learning rate decaying over it.

    The learning rate rises linearly from zero over the first
    ``warmup`` share of the budget, then follows ``schedule`` from the
    optimizer's rate down to ``final_fraction`` of it at the end of the
    budget, where training stops (after the batch that crosses it). Give the
    estimator enough ``epochs`` (or ``max_steps``) for the budget: the budget
    ends training, not the epoch count. The clock starts at the first
    training batch, so building and compiling the model are not counted; a
    fit with several phases shares one budget.

    Parameters
    ----------
    minutes : float
        The training budget.
    schedule : {"cosine", "linear", "constant"}, default="cosine"
        Shape of the decay of the learning rate over the budget.
    warmup : float, default=0.02
        Share of the budget spent warming the learning rate up from zero.
    final_fraction : float, default=0.02
        Learning rate at the end of the budget, as a share of the initial one.

    Examples
    --------
    >>> from applied_ml.callbacks import TimeBudget
    >>> budget = TimeBudget(10)  # ten minutes, cosine decay
    >>> round(budget.factor(0.5), 2)  # half the budget spent
    0.53
    """

    def __init__(
        self,
        minutes: float,
        schedule: str = "cosine",
        warmup: float = 0.02,
        final_fraction: float = 0.02,
    ):
        super().__init__()
        check_number("minutes", minutes, low=0, low_inclusive=False)
        check_choice("schedule", schedule, SCHEDULES)
        check_number("warmup", warmup, low=0, high=1, high_inclusive=False)
        check_number("final_fraction", final_fraction, low=0, high=1)
        self.minutes = minutes
        self.schedule = schedule
        self.warmup = warmup
        self.final_fraction = final_fraction
        self._start = None
        self._base_rate = None

    def factor(self, progress: float) -> float:
        """Learning-rate multiplier after ``progress`` (0 to 1) of the budget."""
        progress = min(max(progress, 0.0), 1.0)
        if progress < self.warmup:
            return progress / self.warmup
        if self.schedule == "constant":
            return 1.0
        rest = (progress - self.warmup) / (1.0 - self.warmup)
        if self.schedule == "cosine":
            decay = 0.5 * (1 + math.cos(math.pi * rest))
        else:
            decay = 1 - rest
        return self.final_fraction + (1 - self.final_fraction) * decay

    def progress(self) -> float:
        """Share of the budget spent (0 before the first batch)."""
        if self._start is None:
            return 0.0
        return (time.monotonic() - self._start) / (60.0 * self.minutes)

    def on_train_begin(self, logs=None):
        self._start = None
        self._base_rate = float(self.model.optimizer.learning_rate)

    def on_train_batch_begin(self, batch, logs=None):
        if self._start is None:
            self._start = time.monotonic()
        rate = self._base_rate * self.factor(self.progress())
        self.model.optimizer.learning_rate.assign(rate)

    def on_train_batch_end(self, batch, logs=None):
        if self.progress() >= 1.0:
            self.model.stop_training = True
