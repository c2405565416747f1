"""Score against training-set size: would more data help?"""

import os
from dataclasses import dataclass, field

import numpy as np
from sklearn.model_selection import learning_curve as sklearn_learning_curve

from applied_ml.diagnose._checks import (
    check_estimator,
    check_output_dir,
    check_pair,
    check_positive_number,
    must_be,
)
from applied_ml.diagnose._plots import PlotMixin, learning_curve_figure

#: File name that :func:`learning_curve` writes into ``output_dir``.
FIGURE = "learning_curve.png"
#: Shares of the training folds used by default.
TRAIN_SIZES = (0.1, 0.325, 0.55, 0.775, 1.0)
#: Validation-score gain between the two largest sizes that counts as rising.
RISING_TOLERANCE = 0.01
#: Train-minus-validation score at the largest size that counts as a gap.
GAP_TOLERANCE = 0.02


@dataclass
class LearningCurveResult(PlotMixin):
    """Train and validation scores by training-set size, and a verdict.

    :meth:`plot` draws the mean training and validation scores against the
    size, with bands of one standard deviation over the folds.

    Parameters
    ----------
    train_sizes : ndarray
        Training examples used at each point.
    train_scores, val_scores : ndarray of shape (n_sizes, n_folds)
        Scores (higher is better) on the training subset and on the held-out
        fold.
    more_data_helps : bool
        True when the validation score still rises at the largest size and
        trails the training score: more data would likely help.
    verdict : str
        The verdict in words, with its evidence.
    evidence : dict
        ``final_train_score``, ``final_val_score``, ``gap`` (their difference)
        and ``last_gain`` (validation score gained between the two largest
        sizes).
    figure : str or None
        PNG written by :func:`learning_curve` (None without ``output_dir``).

    Examples
    --------
    >>> from sklearn.datasets import make_moons
    >>> from sklearn.tree import DecisionTreeClassifier
    >>> from applied_ml.diagnose import learning_curve
    >>> X, y = make_moons(300, noise=0.3, random_state=0)
    >>> tree = DecisionTreeClassifier(random_state=0)
    >>> result = learning_curve(tree, X, y, train_sizes=(0.5, 1.0), cv=5)
    >>> result.train_mean.tolist()  # a full-grown tree memorizes its training set
    [1.0, 1.0]
    """

    train_sizes: np.ndarray
    train_scores: np.ndarray
    val_scores: np.ndarray
    more_data_helps: bool
    verdict: str
    evidence: dict
    figure: str | None = field(default=None)

    @property
    def train_mean(self) -> np.ndarray:
        """Mean training score at each size."""
        return self.train_scores.mean(axis=1)

    @property
    def val_mean(self) -> np.ndarray:
        """Mean validation score at each size."""
        return self.val_scores.mean(axis=1)

    def _figure(self):
        title = "Learning curve: " + (
            "more data would likely help"
            if self.more_data_helps
            else "more data is unlikely to help much"
        )
        return learning_curve_figure(
            self.train_sizes,
            self.train_mean,
            self.val_mean,
            self.train_scores.std(axis=1),
            self.val_scores.std(axis=1),
            title,
        )


def learning_curve(
    estimator,
    X,
    y,
    *,
    train_sizes=TRAIN_SIZES,
    cv=3,
    scoring=None,
    random_state: int | None = 0,
    rising_tolerance: float = RISING_TOLERANCE,
    gap_tolerance: float = GAP_TOLERANCE,
    output_dir: str | os.PathLike | None = None,
) -> LearningCurveResult:
    """Fit on growing training subsets and judge whether more data would help.

    Runs :func:`sklearn.model_selection.learning_curve` (clones of
    ``estimator``, one fit per size and fold, subsets shuffled). The verdict
    reads the mean scores: when the validation score rose by more than
    ``rising_tolerance`` between the two largest sizes and is still more than
    ``gap_tolerance`` below the training score, more data would likely help.
    When it has leveled off, more of the same data will not help much: a gap
    then calls for regularization, no gap for a bigger model.

    Parameters
    ----------
    estimator : estimator
        Any scikit-learn-compatible estimator (cloned; not modified).
    X : array-like or pandas.DataFrame
        Inputs.
    y : array-like
        Targets.
    train_sizes : sequence of float or int, default=(0.1, 0.325, 0.55, 0.775, 1.0)
        Training-set sizes, as shares of the training folds (floats in
        (0, 1]) or as counts; at least two.
    cv : int or cross-validation splitter, default=3
        As in scikit-learn (stratified folds for classifiers).
    scoring : str or callable, optional
        Scorer (default ``estimator.score``); higher must be better.
    random_state : int or None, default=0
        Seed of the shuffling of the training subsets.
    rising_tolerance : float, default=0.01
        Validation-score gain between the two largest sizes that counts as
        still rising.
    gap_tolerance : float, default=0.02
        Training-minus-validation score at the largest size that counts as a
        gap.
    output_dir : str or os.PathLike, optional
        Folder to write the plot ``learning_curve.png`` into.

    Returns
    -------
    LearningCurveResult
        Sizes, scores, the verdict and its evidence, the figure's path.

    Examples
    --------
    >>> from sklearn.datasets import make_classification
    >>> from sklearn.linear_model import LogisticRegression
    >>> from applied_ml.diagnose import learning_curve
    >>> X, y = make_classification(600, random_state=0)
    >>> result = learning_curve(LogisticRegression(), X, y)
    >>> result.more_data_helps
    False
    """
    check_estimator(estimator)
    check_pair("X", X, "y", y)
    sizes = np.asarray(train_sizes)
    if sizes.ndim != 1 or len(sizes) < 2 or not np.issubdtype(sizes.dtype, np.number):
        expected = "a sequence of at least two numbers (shares in (0, 1] or counts)"
        raise ValueError(must_be("train_sizes", expected, train_sizes))
    check_positive_number("rising_tolerance", rising_tolerance)
    check_positive_number("gap_tolerance", gap_tolerance)
    check_output_dir(output_dir)
    sizes_used, train_scores, val_scores = sklearn_learning_curve(
        estimator,
        X,
        y,
        train_sizes=sizes,
        cv=cv,
        scoring=scoring,
        shuffle=True,
        random_state=random_state,
    )
    train_mean = train_scores.mean(axis=1)
    val_mean = val_scores.mean(axis=1)
    gain = float(val_mean[-1] - val_mean[-2])
    gap = float(train_mean[-1] - val_mean[-1])
    evidence = {
        "final_train_score": float(train_mean[-1]),
        "final_val_score": float(val_mean[-1]),
        "gap": gap,
        "last_gain": gain,
    }
    helps = gain > rising_tolerance and gap > gap_tolerance
    result = LearningCurveResult(
        train_sizes=np.asarray(sizes_used),
        train_scores=train_scores,
        val_scores=val_scores,
        more_data_helps=bool(helps),
        verdict=_verdict(
            gain,
            gap,
            int(sizes_used[-2]),
            int(sizes_used[-1]),
            rising_tolerance,
            gap_tolerance,
        ),
        evidence=evidence,
    )
    if output_dir is not None:
        result.figure = result.plot(os.path.join(output_dir, FIGURE))
    return result


def _verdict(gain, gap, before, last, rising_tolerance, gap_tolerance) -> str:
    facts = (
        f"the validation score changed by {gain:+.3f} from {before} to {last} "
        f"training examples and is {gap:.3f} below the training score"
    )
    rising = gain > rising_tolerance
    if rising and gap > gap_tolerance:
        return (
            f"More data would likely help: {facts} (still rising, with room to grow)."
        )
    if rising:
        return (
            f"More data would help little: {facts}; it still rises but has nearly "
            "caught up with the training score, so both are limited by the model: "
            "try a bigger model."
        )
    if gap > gap_tolerance:
        return (
            f"More data is unlikely to help much: {facts}; the curve has leveled "
            "off with a gap, so reduce variance by regularization (dropout, L2, "
            "early stopping) or a different model."
        )
    return (
        f"More data is unlikely to help: {facts}; both scores have converged, so "
        "the model is limited by bias: try a bigger model or better features."
    )
