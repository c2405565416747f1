"""The learning-rate range test (Smith 2015; fastai's ``lr_find``)."""

import numbers
import os
import warnings
from dataclasses import dataclass, field

import numpy as np
from sklearn.base import clone

from applied_ml.diagnose._checks import (
    check_estimator,
    check_output_dir,
    check_pair,
    check_positive_number,
    must_be,
)
from applied_ml.diagnose._plots import PlotMixin, lr_find_figure

#: File name that :func:`lr_find` writes into ``output_dir``.
FIGURE = "lr_find.png"
#: Fewest recorded batches for a curve.
MIN_POINTS = 5
# Half-width (in points) of the slopes that find ``lr_steep``.
_SPAN = 3
SUGGESTION_RULE = (
    "the learning rate of the lowest smoothed loss divided by 10 (one order of "
    "magnitude below where the loss bottoms out, before it blows up)"
)
# Parameters the test sets on its clone, when the estimator has them: no
# validation pass or early stopping between batches, no resumed state.
_QUIET = {
    "early_stopping": False,
    "validation_fraction": 0.0,
    "warm_start": False,
    "checkpoint_dir": None,
    "log_dir": None,  # the probe's fits stay out of the user's TensorBoard logs
    "verbose": 0,
}


@dataclass
class LRFindResult(PlotMixin):
    """Loss against learning rate from :func:`lr_find`, and the suggested rate.

    :meth:`plot` draws the smoothed (and raw) loss against the learning rate
    on a log scale, the suggestion marked.

    Parameters
    ----------
    lrs : ndarray
        Learning rate of each recorded batch, growing exponentially.
    losses : ndarray
        Smoothed training loss at each rate (exponential moving average with
        bias correction).
    raw_losses : ndarray
        The batch losses before smoothing.
    suggestion : float
        Suggested learning rate (see ``rule``).
    lr_min : float
        Learning rate of the lowest smoothed loss.
    lr_steep : float or None
        Learning rate of the steepest descent of the smoothed loss (slope
        over 7 points) between the first tenth of the test and the minimum
        (None when fewer than 7 points lie there).
    stopped_early : bool
        True when the test stopped because the loss exploded (above
        ``diverge_factor`` times the best, or not finite).
    rule : str
        How ``suggestion`` was chosen.
    figure : str or None
        PNG written by :func:`lr_find` (None without ``output_dir``).

    Examples
    --------
    >>> from applied_ml import TabularRegressor
    >>> from applied_ml.diagnose import lr_find
    >>> from sklearn.datasets import load_diabetes
    >>> X, y = load_diabetes(return_X_y=True)
    >>> result = lr_find(TabularRegressor(random_state=0), X, y)  # doctest: +SKIP
    >>> result.plot("lr_find.png")  # doctest: +SKIP
    'lr_find.png'
    """

    lrs: np.ndarray
    losses: np.ndarray
    raw_losses: np.ndarray
    suggestion: float
    lr_min: float
    lr_steep: float | None
    stopped_early: bool
    rule: str = SUGGESTION_RULE
    figure: str | None = field(default=None)

    def _figure(self):
        return lr_find_figure(self.lrs, self.losses, self.raw_losses, self.suggestion)


def lr_find(
    estimator,
    X,
    y=None,
    *,
    min_lr: float = 1e-6,
    max_lr: float = 10.0,
    steps: int = 100,
    smoothing: float = 0.9,
    diverge_factor: float = 4.0,
    output_dir: str | os.PathLike | None = None,
) -> LRFindResult:
    """Learning-rate range test: train briefly while the rate grows, find a good one.

    A clone of ``estimator`` (the estimator itself is not touched) trains for
    at most ``steps`` batches from ``min_lr``, multiplying the learning rate
    by the same factor after every batch so that it would reach ``max_lr`` at
    the last one. The batch losses are smoothed by an exponential moving
    average; the test stops early once the smoothed loss exceeds
    ``diverge_factor`` times its best (or is not finite). The suggestion is
    the rate of the lowest smoothed loss divided by 10 (fastai's
    ``lr_min``): the moving average lags, so the minimum itself is already
    too close to where the loss blows up. The rate of the steepest descent
    of the smoothed loss before its minimum (a bolder choice) is reported as
    ``lr_steep``. When the loss did not blow up and its lowest point is in
    the last tenth of the test (still falling at ``max_lr``), a warning says
    to raise ``max_lr``.

    The test goes through the estimator's own parameters: ``callbacks`` (a
    callback sets the rate before each batch), ``max_steps``,
    ``learning_rate``, and it turns off early stopping and the validation
    split of the clone. Keras logs a batch's loss as the running mean of the
    epoch; the batch's own loss is recovered from consecutive means, and the
    last batch of each epoch (possibly smaller) is left out of the curve.

    Parameters
    ----------
    estimator : estimator
        An applied_ml estimator (with ``callbacks``, ``max_steps`` and
        ``learning_rate`` parameters), fitted or not.
    X : array-like, pandas.DataFrame or tf.data.Dataset
        Training inputs, as for ``estimator.fit``.
    y : array-like, optional
        Training targets, as for ``estimator.fit``.
    min_lr : float, default=1e-6
        Learning rate of the first batch.
    max_lr : float, default=10.0
        Learning rate the last batch would have.
    steps : int, default=100
        Batches to train at most (over as many epochs as that takes).
    smoothing : float, default=0.9
        Weight of the past in the moving average of the loss, in [0, 1).
    diverge_factor : float, default=4.0
        Stop once the smoothed loss is this many times its best.
    output_dir : str or os.PathLike, optional
        Folder to write the plot ``lr_find.png`` into.

    Returns
    -------
    LRFindResult
        Learning rates, losses, the suggestion and the figure's path.

    Examples
    --------
    >>> from applied_ml import TabularClassifier
    >>> from applied_ml.diagnose import lr_find
    >>> from sklearn.datasets import load_breast_cancer
    >>> X, y = load_breast_cancer(return_X_y=True)
    >>> clf = TabularClassifier(optimizer="sgd", random_state=0)
    >>> result = lr_find(clf, X, y, output_dir="outputs")  # doctest: +SKIP
    >>> clf.set_params(learning_rate=result.suggestion)  # doctest: +SKIP
    """
    check_estimator(estimator)
    params = estimator.get_params(deep=False)
    missing = [
        p for p in ("callbacks", "max_steps", "learning_rate") if p not in params
    ]
    if missing:
        expected = (
            "an applied_ml estimator with `callbacks`, `max_steps` and "
            "`learning_rate` parameters (the test drives its training through them)"
        )
        raise TypeError(must_be("estimator", expected, estimator))
    if y is not None:
        check_pair("X", X, "y", y)
    check_positive_number("min_lr", min_lr)
    check_positive_number("max_lr", max_lr)
    if max_lr <= min_lr:
        raise ValueError(must_be("max_lr", f"above `min_lr` ({min_lr!r})", max_lr))
    check_positive_number("steps", steps, integer=True)
    if steps < MIN_POINTS * 2:
        raise ValueError(
            must_be("steps", f"at least {MIN_POINTS * 2} for a curve", steps)
        )
    check_positive_number("diverge_factor", diverge_factor)
    if diverge_factor <= 1:
        raise ValueError(must_be("diverge_factor", "above 1", diverge_factor))
    if isinstance(smoothing, bool) or not isinstance(smoothing, numbers.Real):
        raise TypeError(must_be("smoothing", "a number in [0, 1)", smoothing))
    if not 0 <= smoothing < 1:
        raise ValueError(must_be("smoothing", "a number in [0, 1)", smoothing))
    check_output_dir(output_dir)

    from applied_ml.diagnose._lr_callback import LRRangeTest  # imports keras

    lrs = min_lr * (max_lr / min_lr) ** (np.arange(steps) / (steps - 1))
    test = LRRangeTest(lrs, float(smoothing), float(diverge_factor))
    probe = clone(estimator)
    settings = {k: v for k, v in _QUIET.items() if k in params}
    if params.get("threshold") == "auto":  # tuned on a validation split
        settings["threshold"] = 0.5
    probe.set_params(
        **settings,
        learning_rate=float(min_lr),
        max_steps=int(steps),
        callbacks=(*(params["callbacks"] or ()), test),
    )
    if y is None:
        probe.fit(X)
    else:
        probe.fit(X, y)
    if len(test.losses) < MIN_POINTS:
        raise ValueError(
            f"The learning-rate test recorded fewer than {MIN_POINTS} batches "
            "before it stopped: the loss exploded at once, or there are too few "
            "batches. Lower `min_lr`, raise `steps`, or give more rows. Received: "
            f"{len(test.losses)} recorded batch(es) from min_lr={min_lr!r}"
        )
    result = _result(test)
    tail = max(1, len(result.lrs) // 10)
    if not test.stopped_early and result.lr_min >= result.lrs[-tail]:
        warnings.warn(
            f"The loss was still falling at max_lr={max_lr!r}: the suggestion "
            "may be too low. Run lr_find again with a higher `max_lr`.",
            UserWarning,
            stacklevel=2,
        )
    if output_dir is not None:
        result.figure = result.plot(os.path.join(output_dir, FIGURE))
    return result


def _result(test) -> LRFindResult:
    lrs = np.asarray(test.recorded_lrs)
    losses = np.asarray(test.losses)
    lowest = int(np.argmin(losses))
    lr_min = float(lrs[lowest])
    lr_steep = None
    # the first tenth is left out (the bias-corrected average is still mostly
    # the first batches' noise there); slopes span 2 * _SPAN points, so one
    # noisy batch does not make the steepest point
    start = len(losses) // 10
    if lowest - start >= 2 * _SPAN:
        log_lrs = np.log(lrs)
        i = np.arange(start + _SPAN, lowest - _SPAN + 1)
        slopes = (losses[i + _SPAN] - losses[i - _SPAN]) / (
            log_lrs[i + _SPAN] - log_lrs[i - _SPAN]
        )
        lr_steep = float(lrs[i[int(np.argmin(slopes))]])
    return LRFindResult(
        lrs=lrs,
        losses=losses,
        raw_losses=np.asarray(test.raw_losses),
        suggestion=lr_min / 10,
        lr_min=lr_min,
        lr_steep=lr_steep,
        stopped_early=test.stopped_early,
    )
