"""keras-tuner search over estimator parameters, as a scikit-learn estimator.

``TunerSearch`` lets keras-tuner's oracles (random, Bayesian, grid, Hyperband)
pick an applied_ml estimator's parameters: every trial is ``clone(estimator)``
with the sampled parameters, scored by its best validation loss (the
estimator's own validation split) or, with ``cv``, by a cross-validation. The
best estimator is kept fitted, so ``predict``/``score`` work right after
``fit``. Searches resume from their ``directory``, and run on several
processes or machines through keras-tuner's chief/worker protocol.
"""

import functools
import gc
import json
import os
import tempfile

import keras
import numpy as np
from sklearn.base import BaseEstimator, MetaEstimatorMixin, clone, is_classifier
from sklearn.model_selection import check_cv
from sklearn.utils import _safe_indexing
from sklearn.utils.metaestimators import available_if
from sklearn.utils.validation import check_is_fitted

from applied_ml._checkpoint import _describe, _describe_parts, fingerprint_digest
from applied_ml._search_space import declare, to_distributions
from applied_ml._validation import check_choice, check_number

TUNERS = ("random", "bayesian", "grid", "hyperband")
__all__ = ["TunerSearch", "is_tuning_chief", "to_distributions"]

# keras-tuner's distributed mode: the chief runs the oracle, workers trials.
_ORACLE_VARIABLES = (
    "KERASTUNER_TUNER_ID",
    "KERASTUNER_ORACLE_IP",
    "KERASTUNER_ORACLE_PORT",
)
_FINGERPRINT = "applied_ml_search.fingerprint.json"
_PROJECT = "applied_ml_search"


def is_tuning_chief() -> bool:
    """Whether this process runs the oracle of a distributed search.

    True in a single-process search too (its one process is the chief).

    Returns
    -------
    bool
    """
    tuner_id = os.environ.get("KERASTUNER_TUNER_ID")
    return "KERASTUNER_ORACLE_IP" not in os.environ or "chief" in (tuner_id or "")


def _best_has(method):
    def check(self):
        return hasattr(
            self.best_estimator_
            if hasattr(self, "best_estimator_")
            else self.estimator,
            method,
        )

    return check


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
        :func:`to_distributions` gives the same space to scikit-learn's
        ``RandomizedSearchCV``.
    tuner : {"random", "bayesian", "grid", "hyperband"}, default="random"
        keras-tuner oracle. ``"hyperband"`` spends the estimator's ``epochs``
        as its resource: trials train for a few epochs, and the best go on
        to more, up to ``epochs`` (factor 3, one bracket iteration); it
        ignores ``max_trials``.
    max_trials : int, default=10
        Number of parameter settings tried (the grid tuner stops earlier when
        the grid is exhausted).
    cv : int, cross-validation splitter or None, default=None
        None scores a trial by its lowest validation loss. Otherwise each
        trial is a cross-validation of the estimator, scored by the mean of
        its ``score`` on the held-out folds (higher is better); an int is
        ``StratifiedKFold`` for classifiers and ``KFold`` otherwise, and
        splitters that take ``groups`` (``GroupKFold``) get those of ``fit``.
        The best parameters are then refitted on all the data.
    directory : str, optional
        Folder of the search's records. A search started again with the same
        directory, estimator, space and data resumes there: finished trials
        are not run again (``max_trials`` may grow, to search on); the
        records of a different search are refused with a ``ValueError``. A
        temporary folder (removed after ``fit``) when None.
    random_state : int or None, default=None
        Seed of the oracle's sampling.
    verbose : {0, 1}, default=0
        1 prints keras-tuner's per-trial summary.

    Attributes
    ----------
    best_estimator_ : KerasEstimator
        The fitted estimator of the best trial (refitted on all the data
        with ``cv``, or when the trial ran in another process).
    best_params_ : dict
        Its sampled parameters.
    best_score_ : float
        Its objective: the lowest validation loss over its epochs (training
        loss when the estimator has ``validation_fraction=0``), or with
        ``cv`` the mean held-out score.
    trials_ : list of dict
        Every finished trial's ``trial_id``, parameters and objective. On a
        worker of a distributed search: the trials this worker ran, and
        ``best_*`` are the best of those (none when it ran no trial).

    Notes
    -----
    After every trial the Keras session is cleared and unused models freed.
    Memory still grows by about 3 MB per trial of a small tabular model
    (``benchmarks/tuning.py``); very long searches are best split into
    resumed runs (see ``directory``).

    A distributed search follows keras-tuner's protocol: every process runs
    the same script, with ``KERASTUNER_TUNER_ID`` (``"chief"`` for the one
    that runs the oracle, ``"tuner0"``, ``"tuner1"``, ... for the workers),
    ``KERASTUNER_ORACLE_IP`` and ``KERASTUNER_ORACLE_PORT`` set
    (``applied-ml launch --tuners N`` does it on one machine). Workers run
    the trials; the chief's ``fit`` returns when all are done, with every
    trial in ``trials_`` and the best parameters refitted.

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
        cv=None,
        directory=None,
        random_state=None,
        verbose=0,
    ):
        self.estimator = estimator
        self.space = space
        self.tuner = tuner
        self.max_trials = max_trials
        self.cv = cv
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

    def fit(self, X, y=None, sample_weight=None, groups=None):
        """Run the search, keeping the best fitted estimator.

        Parameters
        ----------
        X : array-like, pandas.DataFrame or tf.data.Dataset
            Training inputs, as for the tuned estimator (in memory with
            ``cv``).
        y : array-like, optional
            Targets.
        sample_weight : array-like, optional
            Per-sample weights.
        groups : array-like, optional
            Group labels for a ``cv`` splitter that takes them.

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
        folds = self._folds(X, y, groups)
        search = self
        ran, fitted, errors = [], {}, []

        base = {
            "random": keras_tuner.RandomSearch,
            "bayesian": keras_tuner.BayesianOptimization,
            "grid": keras_tuner.GridSearch,
            "hyperband": keras_tuner.Hyperband,
        }[self.tuner]

        class EstimatorTuner(base):
            def run_trial(self, trial, *args, **kwargs):
                params = search._trial_params(trial.hyperparameters)
                try:
                    score, estimator = search._run_trial(
                        params, X, y, sample_weight, folds
                    )
                except Exception as err:
                    errors.append((params, err))
                    raise
                ran.append(
                    {"trial_id": trial.trial_id, "params": params, "score": score}
                )
                if estimator is not None:
                    fitted[trial.trial_id] = (score, estimator)
                    # keep only the best fitted estimator in memory
                    best = min(fitted, key=lambda t: search._loss(fitted[t][0]))
                    for trial_id in [t for t in fitted if t != best]:
                        del fitted[trial_id]
                del estimator
                _free_memory()
                return {"objective": score}

            def _populate_initial_space(self):
                # No hypermodel declares the space: the search does, so that
                # the oracle knows it before the first trial.
                hp = self.oracle.get_space()
                declare(search.space, hp)
                self.oracle.update_space(hp)

            def reload(self):
                super().reload()
                if search.tuner == "grid":
                    _restore_grid_order(self.oracle)

            def save_model(self, trial_id, model, step=0):
                """Estimators stay in memory; nothing to write."""

        options = (
            {"max_epochs": self.estimator.epochs}
            if self.tuner == "hyperband"
            else {"max_trials": self.max_trials}
        )
        with tempfile.TemporaryDirectory() as tmp:
            directory = os.fspath(self.directory) if self.directory else tmp
            resume = self._check_directory(directory, X, y, folds)
            tuner = EstimatorTuner(
                objective=keras_tuner.Objective(
                    "objective", direction="max" if folds else "min"
                ),
                seed=self.random_state,
                directory=directory,
                # workers keep their own trial records beside the chief's
                project_name=_PROJECT
                if is_tuning_chief()
                else f"{_PROJECT}_{os.environ['KERASTUNER_TUNER_ID']}",
                overwrite=not resume,
                **options,
            )
            tuner.search(verbose=self.verbose)
            finished = self._finished(tuner, ran)
        if not is_tuning_chief() and not ran and not errors:
            self.trials_ = []  # the other workers took every trial
            return self
        if not finished:
            params, err = errors[0] if errors else ({}, None)
            raise RuntimeError(
                f"Every trial of the search failed; the first, with {params}, "
                f"raised {type(err).__name__}: {err}"
            ) from err
        best = min(finished, key=lambda t: self._loss(t["score"]))
        if best["trial_id"] in fitted:
            self.best_estimator_ = fitted[best["trial_id"]][1]
        else:  # cross-validated, or run before a restart or by another worker
            self.best_estimator_ = clone(self.estimator).set_params(**best["params"])
            self.best_estimator_.fit(X, y, sample_weight=sample_weight)
        self.best_score_ = best["score"]
        self.best_params_ = best["params"]
        self.trials_ = finished
        return self

    def _trial_params(self, hyperparameters) -> dict:
        params = declare(self.space, hyperparameters)
        if self.tuner == "hyperband":
            params["epochs"] = hyperparameters.get("tuner/epochs")
        return params

    def _loss(self, score: float) -> float:
        """The score as a quantity to minimize."""
        return -score if self.cv is not None else score

    def _folds(self, X, y, groups) -> list | None:
        if self.cv is None:
            return None
        if hasattr(X, "element_spec"):
            raise ValueError(
                "`cv` needs in-memory data to split: pass arrays or a DataFrame, "
                "or leave cv=None to score trials on the estimator's validation "
                f"split. Received: X of type {type(X).__name__}"
            )
        splitter = check_cv(self.cv, y, classifier=is_classifier(self.estimator))
        return list(splitter.split(X, y, groups))

    def _run_trial(self, params, X, y, sample_weight, folds):
        """A trial's objective, and its fitted estimator (None with ``cv``)."""
        if folds is None:
            estimator = clone(self.estimator).set_params(**params)
            estimator.fit(X, y, sample_weight=sample_weight)
            history = estimator.history_
            return float(np.min(history.get("val_loss", history["loss"]))), estimator
        scores = []
        for train, test in folds:
            estimator = clone(self.estimator).set_params(**params)
            estimator.fit(*_rows(train, X, y, sample_weight))
            scores.append(estimator.score(*_rows(test, X, y, sample_weight)))
        return float(np.mean(scores)), None

    def _check_directory(self, directory: str, X, y, folds) -> bool:
        """Whether the search resumes; refuse the records of another search."""
        described = {
            "estimator": type(self.estimator).__name__,
            "params": _describe(self.estimator.get_params(deep=False)),
            "space": _describe(self.space)
            if not callable(self.space)
            else getattr(self.space, "__qualname__", type(self.space).__name__),
            "tuner": self.tuner,
            "cv": None if folds is None else [len(t) for _, t in folds],
            "random_state": _describe(self.random_state),
            "data": None
            if hasattr(X, "element_spec")
            else _describe_parts(tuple(p for p in (X, y) if p is not None)),
        }
        digest = fingerprint_digest(described)
        path = os.path.join(directory, _FINGERPRINT)
        if self.directory is None or not os.path.exists(path):
            os.makedirs(os.path.dirname(path), exist_ok=True)
            with open(path, "w", encoding="utf-8") as f:
                json.dump({"digest": digest, "search": described}, f)
            return False
        with open(path, encoding="utf-8") as f:
            stored = json.load(f)
        if stored.get("digest") != digest:
            raise ValueError(
                f"`directory` holds the records of a different search (another "
                f"estimator, space, tuner or data), which cannot be resumed: use "
                f"another directory or empty {directory!r}. "
                f"Received: directory={self.directory!r}"
            )
        return True

    def _finished(self, tuner, ran: list) -> list:
        """Every completed trial the oracle knows of, in trial order (on a
        tuner worker, which has no oracle of its own: the trials it ran)."""
        if not is_tuning_chief():
            return ran
        finished = []
        for trial_id, trial in sorted(tuner.oracle.trials.items()):
            if trial.status != "COMPLETED" or trial.score is None:
                continue
            finished.append(
                {
                    "trial_id": trial_id,
                    "params": self._trial_params(trial.hyperparameters),
                    "score": float(trial.score),
                }
            )
        return finished

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


def _free_memory() -> None:
    """Let go of a finished trial's models and graphs."""
    keras.backend.clear_session()
    gc.collect()


def _rows(rows, X, y, sample_weight) -> tuple:
    """``(X, y, sample_weight)`` of the given rows (None stays None)."""
    return tuple(
        None if part is None else _safe_indexing(part, rows)
        for part in (X, y, None if sample_weight is None else np.asarray(sample_weight))
    )


def _restore_grid_order(oracle) -> None:
    """Rebuild what keras-tuner's grid oracle needs to resume but does not save.

    keras-tuner 1.4's ``GridSearchOracle`` keeps its trials in grid order in a
    linked list and a queue of trials whose next combination is still to be
    made; neither is in its saved state, so a reloaded grid search fails with
    a ``KeyError`` on its next trial. Both are rebuilt from the reloaded
    trials: all of them in grid order, all of them queued (combinations that
    were already tried are skipped by the oracle itself).
    """

    def order(a, b):
        return oracle._compare(
            oracle.trials[a].hyperparameters.values,
            oracle.trials[b].hyperparameters.values,
        )

    for trial_id in sorted(oracle.trials, key=functools.cmp_to_key(order)):
        oracle._ordered_ids.insert(trial_id)
    oracle._populate_next = sorted(oracle.trials)
