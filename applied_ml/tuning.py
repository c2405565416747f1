"""keras-tuner search over estimator parameters, as a scikit-learn estimator.

``TunerSearch`` lets keras-tuner's oracles (random, Bayesian, grid) pick an
applied_ml estimator's parameters: every trial is ``clone(estimator)`` with the
sampled parameters, fitted on the same data, and scored by its best
validation loss (the estimator's own validation split). The best fitted
estimator is kept, so ``predict``/``score`` work right after ``fit``.
"""

import os
import tempfile

import numpy as np
from sklearn.base import BaseEstimator, MetaEstimatorMixin, clone
from sklearn.utils.metaestimators import available_if
from sklearn.utils.validation import check_is_fitted

from applied_ml._validation import check_choice, check_number

TUNERS = ("random", "bayesian", "grid")
__all__ = ["TunerSearch"]


def _best_has(method):
    def check(self):
        return hasattr(
            self.best_estimator_
            if hasattr(self, "best_estimator_")
            else self.estimator,
            method,
        )

    return check


def _declare(space, hp) -> dict:
    """Parameter values for one trial: a dict of choice lists, or a callable."""
    if callable(space):
        return dict(space(hp))
    params = {}
    for name, choices in space.items():
        # keras-tuner choices must share one scalar type: offer each candidate
        # by its repr (unique, categorical) and map the pick back.
        labels = [repr(c) for c in choices]
        params[name] = choices[labels.index(hp.Choice(name, labels))]
    return params


class TunerSearch(MetaEstimatorMixin, BaseEstimator):
    """Search an applied_ml estimator's parameters with keras-tuner.

    Parameters
    ----------
    estimator : KerasEstimator
        The estimator to tune (cloned for every trial).
    space : dict or callable
        Either a dict mapping parameter names to lists of candidate values
        (``{"learning_rate": [0.003, 0.01], "hidden_units": [(64,), (64, 32)]}``)
        or a function of a ``keras_tuner.HyperParameters`` returning a dict of
        parameter values, for ranges and log sampling
        (``lambda hp: {"learning_rate": hp.Float("lr", 1e-3, 1e-1, sampling="log")}``).
    tuner : {"random", "bayesian", "grid"}, default="random"
        keras-tuner oracle.
    max_trials : int, default=10
        Number of parameter settings tried (the grid tuner stops earlier when
        the grid is exhausted).
    directory : str, optional
        Folder for keras-tuner's trial records; a temporary folder (removed
        after ``fit``) when None.
    random_state : int or None, default=None
        Seed of the oracle's sampling.
    verbose : {0, 1}, default=0
        1 prints keras-tuner's per-trial summary.

    Attributes
    ----------
    best_estimator_ : KerasEstimator
        The fitted estimator of the best trial.
    best_params_ : dict
        Its sampled parameters.
    best_score_ : float
        Its objective: the lowest validation loss over its epochs (training
        loss when the estimator has ``validation_fraction=0``).
    trials_ : list of dict
        Every trial's parameters and objective, in the order they ran.

    Examples
    --------
    >>> from applied_ml import TabularClassifier
    >>> from applied_ml.tuning import TunerSearch
    >>> search = TunerSearch(
    ...     TabularClassifier(epochs=20, random_state=0),
    ...     {"learning_rate": [0.003, 0.03], "model": ["linear", "dnn"]},
    ...     max_trials=4,
    ... )
    >>> search.fit(X, y).best_params_  # doctest: +SKIP
    """

    def __init__(
        self,
        estimator,
        space,
        *,
        tuner="random",
        max_trials=10,
        directory=None,
        random_state=None,
        verbose=0,
    ):
        self.estimator = estimator
        self.space = space
        self.tuner = tuner
        self.max_trials = max_trials
        self.directory = directory
        self.random_state = random_state
        self.verbose = verbose

    def _check_space(self) -> None:
        if callable(self.space):
            return
        if not isinstance(self.space, dict) or not self.space:
            raise TypeError(
                "`space` must be a non-empty dict of parameter name -> list of "
                f"values, or a callable. Received: space={self.space!r}"
            )
        valid = self.estimator.get_params()
        for name, choices in self.space.items():
            if name not in valid:
                raise ValueError(
                    f"`space` names {name!r}, which is not a parameter of "
                    f"{type(self.estimator).__name__}. Valid: {sorted(valid)}"
                )
            if not isinstance(choices, list | tuple) or not choices:
                raise ValueError(
                    f"`space[{name!r}]` must be a non-empty list of values. "
                    f"Received: {choices!r}"
                )

    def fit(self, X, y=None, sample_weight=None):
        """Run the search, keeping the best fitted estimator.

        Parameters
        ----------
        X : array-like, pandas.DataFrame or tf.data.Dataset
            Training inputs, as for the tuned estimator.
        y : array-like, optional
            Targets.
        sample_weight : array-like, optional
            Per-sample weights.

        Returns
        -------
        self
            The fitted search.
        """
        import keras_tuner

        check_choice("tuner", self.tuner, TUNERS)
        check_number("max_trials", self.max_trials, integer=True, low=1)
        check_choice("verbose", self.verbose, (0, 1))
        self._check_space()
        search = self
        trials, fitted, errors = [], {}, []

        base = {
            "random": keras_tuner.RandomSearch,
            "bayesian": keras_tuner.BayesianOptimization,
            "grid": keras_tuner.GridSearch,
        }[self.tuner]

        class EstimatorTuner(base):
            def run_trial(self, trial, *args, **kwargs):
                params = _declare(search.space, trial.hyperparameters)
                estimator = clone(search.estimator).set_params(**params)
                try:
                    estimator.fit(X, y, sample_weight=sample_weight)
                except Exception as err:
                    errors.append((params, err))
                    raise
                history = estimator.history_
                score = float(np.min(history.get("val_loss", history["loss"])))
                trials.append({"params": params, "score": score})
                fitted[trial.trial_id] = (score, estimator)
                # keep only the best fitted estimator in memory
                best = min(fitted, key=lambda t: fitted[t][0])
                for trial_id in [t for t in fitted if t != best]:
                    del fitted[trial_id]
                return {"objective": score}

            def save_model(self, trial_id, model, step=0):
                """Estimators stay in memory; nothing to write."""

        with tempfile.TemporaryDirectory() as tmp:
            tuner = EstimatorTuner(
                objective=keras_tuner.Objective("objective", direction="min"),
                max_trials=self.max_trials,
                seed=self.random_state,
                directory=os.fspath(self.directory) if self.directory else tmp,
                project_name="applied_ml_search",
                overwrite=True,
            )
            tuner.search(verbose=self.verbose)
        if not fitted:
            params, err = errors[0] if errors else ({}, None)
            raise RuntimeError(
                f"Every trial of the search failed; the first, with {params}, "
                f"raised {type(err).__name__}: {err}"
            ) from err
        ((score, best),) = fitted.values()
        self.best_estimator_ = best
        self.best_score_ = score
        self.best_params_ = next(t["params"] for t in trials if t["score"] == score)
        self.trials_ = trials
        return self

    @available_if(_best_has("predict"))
    def predict(self, X):
        """Predict with the best estimator.

        Parameters
        ----------
        X : array-like or pandas.DataFrame
            Rows to predict.

        Returns
        -------
        ndarray
            The best estimator's predictions.
        """
        check_is_fitted(self)
        return self.best_estimator_.predict(X)

    @available_if(_best_has("predict_proba"))
    def predict_proba(self, X):
        """Class probabilities from the best estimator.

        Parameters
        ----------
        X : array-like or pandas.DataFrame
            Rows to score.

        Returns
        -------
        ndarray of shape (n_samples, n_classes)
            The best estimator's probabilities.
        """
        check_is_fitted(self)
        return self.best_estimator_.predict_proba(X)

    def score(self, X, y, sample_weight=None):
        """Score of the best estimator (accuracy or R²).

        Parameters
        ----------
        X : array-like or pandas.DataFrame
            Rows to score.
        y : array-like
            True targets.
        sample_weight : array-like, optional
            Per-sample weights.

        Returns
        -------
        float
            The best estimator's ``score``.
        """
        check_is_fitted(self)
        return self.best_estimator_.score(X, y, sample_weight=sample_weight)

    @property
    def classes_(self):
        """Class labels of the best estimator."""
        check_is_fitted(self)
        return self.best_estimator_.classes_

    def __sklearn_tags__(self):
        tags = super().__sklearn_tags__()
        inner = self.estimator.__sklearn_tags__()
        tags.estimator_type = inner.estimator_type
        tags.classifier_tags = inner.classifier_tags
        tags.regressor_tags = inner.regressor_tags
        tags.input_tags = inner.input_tags
        tags.target_tags = inner.target_tags
        return tags
