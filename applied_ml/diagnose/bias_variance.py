"""Bias, variance and data mismatch of a model, and what to try next.

The recipe of the Deep Learning Specialization ("Structuring Machine Learning
Projects"): compare human-level error (a proxy for Bayes error), training
error, train-dev error (held-out data from the training distribution) and dev
error; the largest gap says what to work on.
"""

import logging
import os

from applied_ml.diagnose import _recipe
from applied_ml.diagnose._checks import (
    check_estimator,
    check_human_error,
    check_output_dir,
    check_pair,
    check_positive_number,
    task_of,
)
from applied_ml.diagnose._errors import (
    CLASSIFICATION_ERROR,
    REGRESSION_ERROR,
    error,
    fit_if_needed,
    target_variance,
)
from applied_ml.diagnose.diagnosis import TOLERANCE, Diagnosis
from applied_ml.diagnose.finding import DIVERGENCE
from applied_ml.diagnose.history import diagnose_history

logger = logging.getLogger(__name__)


def diagnose(
    estimator,
    X_train,
    y_train,
    X_dev,
    y_dev,
    X_train_dev=None,
    y_train_dev=None,
    human_error: float | None = None,
    *,
    tolerance: float = TOLERANCE,
    output_dir: str | os.PathLike | None = None,
) -> Diagnosis:
    """Say whether bias, variance or data mismatch limits a model, and what to do.

    Errors are ``1 - estimator.score(X, y)`` for a classifier (1 - accuracy)
    and, for a regressor, the mean squared error divided by the variance of
    ``y_train`` (1 - R² on the training set; 1 is as bad as predicting the
    training mean, on every set alike). Then:

    - avoidable bias = training error - human error;
    - variance = train-dev error - training error;
    - data mismatch = dev error - train-dev error.

    The largest gap above ``tolerance`` is the dominant problem and gets the
    recipe's actions: for avoidable bias a bigger model, longer training, a
    better optimizer or another architecture; for variance more data,
    regularization (dropout, L2) or early stopping; for data mismatch data
    like the dev set (collected or synthesized) and augmentation that matches
    it. The estimator's ``history_``, when it has one, is read by
    :func:`diagnose_history` too.

    Parameters
    ----------
    estimator : estimator
        A classifier or regressor (any scikit-learn-compatible one). Fitted
        on ``X_train, y_train`` when it is not fitted yet; a fitted one is
        used as is.
    X_train, y_train : array-like or pandas.DataFrame
        Training set (the one the estimator was, or will be, fitted on).
    X_dev, y_dev : array-like or pandas.DataFrame
        Dev set: the distribution you care about.
    X_train_dev, y_train_dev : array-like or pandas.DataFrame, optional
        Train-dev set: held-out data from the training distribution, not
        trained on. Without it the dev set stands in for it: the data
        mismatch is not measurable and the variance includes it.
    human_error : float, optional
        Human-level error (the Bayes-error proxy) in the same unit as the
        errors. Defaults to 0, and the report says it was assumed.
    tolerance : float, default=0.02
        Gaps at or below this are small; when all are, nothing dominates.
    output_dir : str or os.PathLike, optional
        When given, :meth:`Diagnosis.save` writes ``report.md``,
        ``report.html`` and ``errors.png`` there.

    Returns
    -------
    Diagnosis
        The errors, gaps, dominant problem, recommendation and reasoning.

    Examples
    --------
    >>> from sklearn.datasets import make_circles
    >>> from sklearn.linear_model import LogisticRegression
    >>> from applied_ml.diagnose import diagnose
    >>> X, y = make_circles(400, noise=0.05, factor=0.5, random_state=0)
    >>> report = diagnose(LogisticRegression(), X[:300], y[:300], X[300:], y[300:])
    >>> round(report.avoidable_bias, 2) > 0.3
    True
    >>> print(report.to_markdown())  # doctest: +SKIP
    """
    check_estimator(estimator)
    task = task_of(estimator)
    check_pair("X_train", X_train, "y_train", y_train)
    check_pair("X_dev", X_dev, "y_dev", y_dev)
    if (X_train_dev is None) != (y_train_dev is None):
        received = f"X_train_dev={_kind(X_train_dev)}, y_train_dev={_kind(y_train_dev)}"
        raise ValueError(
            "`X_train_dev` and `y_train_dev` must be given together (or neither). "
            f"Received: {received}"
        )
    if X_train_dev is not None:
        check_pair("X_train_dev", X_train_dev, "y_train_dev", y_train_dev)
    if human_error is not None:
        check_human_error(human_error, task)
    check_positive_number("tolerance", tolerance)
    check_output_dir(output_dir)

    fitted_here = fit_if_needed(estimator, X_train, y_train)
    history = getattr(estimator, "history_", None)
    checked = isinstance(history, dict) and "loss" in history
    findings = diagnose_history(history) if checked else []
    variance_of_y = None if task == "classification" else target_variance(y_train)

    def measure(X, y):
        try:
            return error(estimator, X, y, task, variance_of_y)
        except ValueError as e:
            diverged = next((f for f in findings if f.kind == DIVERGENCE), None)
            if diverged is None:
                raise
            # the estimator blames the inputs for its NaN outputs; the
            # history says the weights are to blame
            epoch = diverged.epochs[-1]
            loss = history["loss"][epoch - 1]
            raise ValueError(
                f"The estimator's training diverged ({diverged.message}) so its "
                "outputs are not finite and no error can be measured. Fix the "
                f"training first. Received: a training loss of {loss} at epoch {epoch}"
            ) from e

    train = measure(X_train, y_train)
    dev = measure(X_dev, y_dev)
    train_dev = None if X_train_dev is None else measure(X_train_dev, y_train_dev)
    assumed = human_error is None
    human = 0.0 if assumed else float(human_error)
    bias = train - human
    variance = (dev if train_dev is None else train_dev) - train
    mismatch = None if train_dev is None else dev - train_dev

    gaps = _recipe.gaps(bias, variance, mismatch)
    dominant = max(gaps, key=gaps.get)
    if gaps[dominant] <= tolerance:
        dominant = _recipe.NONE

    result = Diagnosis(
        task=task,
        error_name=_error_name(task),
        human_error=human,
        human_error_assumed=assumed,
        train_error=train,
        train_dev_error=train_dev,
        dev_error=dev,
        avoidable_bias=bias,
        variance=variance,
        data_mismatch=mismatch,
        dominant=dominant,
        recommendation=_recipe.HEADLINES[dominant],
        actions=_recipe.ACTIONS[dominant],
        reasoning=_reasoning(
            task,
            human,
            assumed,
            train,
            train_dev,
            dev,
            gaps,
            dominant,
            tolerance,
            findings,
        ),
        tolerance=float(tolerance),
        history_findings=findings,
        history_checked=checked,
        fitted_here=fitted_here,
    )
    logger.info("diagnosis: %s", dominant)
    if output_dir is not None:
        result.save(output_dir)
    return result


def _error_name(task: str) -> str:
    return CLASSIFICATION_ERROR if task == "classification" else REGRESSION_ERROR


def _kind(value) -> str:
    return "None" if value is None else f"<{type(value).__name__}>"


def _reasoning(
    task, human, assumed, train, train_dev, dev, gaps, dominant, tolerance, findings
) -> str:
    parts = [f"Errors are {_error_name(task)}."]
    if assumed:
        parts.append(
            "Human-level error (the Bayes-error proxy) was not given and is assumed "
            "to be 0, so the avoidable bias is the whole training error; pass "
            "`human_error` if humans (or the best model known) do worse than perfect."
        )
    else:
        parts.append(f"Human-level error (Bayes-error proxy) is {human:.4g}.")
    parts.append(
        f"Avoidable bias = training error - human error = {train:.4g} - {human:.4g} "
        f"= {gaps[_recipe.AVOIDABLE_BIAS]:.4g}."
    )
    if train_dev is None:
        parts.append(
            "No train-dev set was given, so the dev set stands in for it: variance "
            f"= dev error - training error = {dev:.4g} - {train:.4g} = "
            f"{gaps[_recipe.VARIANCE]:.4g}, which includes any data mismatch; the "
            "data mismatch cannot be measured. Hold out a slice of the training "
            "data as a train-dev set (X_train_dev, y_train_dev) to separate them."
        )
    else:
        parts.append(
            "Variance = train-dev error - training error = "
            f"{train_dev:.4g} - {train:.4g} = {gaps[_recipe.VARIANCE]:.4g}."
        )
        parts.append(
            "Data mismatch = dev error - train-dev error = "
            f"{dev:.4g} - {train_dev:.4g} = {gaps[_recipe.DATA_MISMATCH]:.4g}."
        )
    if dominant == _recipe.NONE:
        parts.append(f"No gap is above the tolerance {tolerance:.4g}.")
    else:
        parts.append(
            f"The largest gap is {_recipe.TITLES[dominant]} "
            f"({gaps[dominant]:.4g} > tolerance {tolerance:.4g}): work on it first."
        )
        others = [
            f"{_recipe.TITLES[name]} ({value:.4g})"
            for name, value in gaps.items()
            if name != dominant and value > tolerance
        ]
        if others:
            parts.append(
                f"Also above the tolerance: {', '.join(others)}; address it next."
            )
    if gaps[_recipe.AVOIDABLE_BIAS] < -tolerance:
        parts.append(
            "The training error is below the human error: the human-level "
            "estimate may overstate Bayes error, or the model memorizes the "
            "training set."
        )
    if gaps[_recipe.VARIANCE] < -tolerance:
        parts.append(
            "The held-out error is below the training error: training-time "
            "regularization (dropout) or a small held-out set can do that."
        )
    if gaps.get(_recipe.DATA_MISMATCH, 0.0) < -tolerance:
        parts.append("The dev data is easier than the training distribution.")
    if findings:
        parts.append(
            "The training history shows: " + " ".join(f.message for f in findings)
        )
    return " ".join(parts)
