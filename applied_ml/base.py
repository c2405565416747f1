"""KerasEstimator: the fit/predict/persistence machinery every task shares.

The base owns the lifecycle once: parameter checks, seeding, strategy scope,
the validation split, sample and class weights, batching, callbacks, training
phases with their own backups, history, chunked compiled prediction, pickling,
``.keras`` save/load and SavedModel export. A task fills in the hooks listed
in :class:`KerasEstimator`'s docstring; ``CONTRIBUTING.md`` walks through a
complete small task.
"""

import contextlib
import hashlib
import math
import os

import keras
import numpy as np
import tensorflow as tf
from sklearn.base import BaseEstimator, clone
from sklearn.utils.validation import check_is_fitted

from applied_ml._checkpoint import BackupCallback, fingerprint_digest, fit_fingerprint
from applied_ml._fit_data import FitDataMixin
from applied_ml._hooks import REQUIRED_HOOKS, TaskHooks
from applied_ml._persistence import PersistenceMixin, register_estimator
from applied_ml._random import seed_from, seeded
from applied_ml._tensorboard import N_SAMPLES, FitLog, check_log_dir
from applied_ml._training import OPTIMIZERS, MaxSteps, make_optimizer
from applied_ml._validation import check_bool, check_choice, check_number
from applied_ml.cluster import (
    agree_with_chief,
    from_chief,
    is_multi_worker,
    synchronize_batch_norm,
    writes_here,
)
from applied_ml.data import (
    FitData,
    chunks,
    n_rows,
    take,
)
from applied_ml.distribute import build_from_first_replica, resolve_strategy


class KerasEstimator(TaskHooks, FitDataMixin, PersistenceMixin, BaseEstimator):
    """Base class of all applied_ml estimators (not used directly).

    A task subclass supplies what differs between tasks through these hooks;
    everything else (checks, seeding, strategy, validation split, weights,
    batching, callbacks, phases, prediction, persistence, export) is here.

    Required (a concrete subclass without one fails at class definition):

    - ``_prepare_inputs(X, *, reset)``: validate in-memory ``X`` and return
      prepared inputs (an array, or a dict or tuple of arrays, samples first)
      matching ``_input_signature()``; learn input facts when ``reset``.
    - ``_learn_meta(inputs, targets)``: facts the model is built from, learned
      on the training split only (statistics, vocabularies, class counts).
    - ``_build_model(meta)``: the uncompiled Keras model.
    - ``_loss()``: the Keras loss.
    - ``_input_signature()``: ``tf.TensorSpec`` structure of prepared inputs.
    - ``_encode(inputs, targets, *, training)``: in TensorFlow, a batch of
      prepared inputs (and raw targets, or None) to ``(model inputs, model
      targets)``; the one path for in-memory data, ``tf.data``, ``predict``
      and the SavedModel.
    - ``_decode(raw)``: in TensorFlow, raw model outputs to a dict of named
      outputs; the one path for ``predict`` and every serving endpoint.

    Optional, with defaults:

    - ``_prepare_targets(y, *, reset)``: validate ``y`` (default: the task
      takes no targets; ``fit(X)`` only, see the ``target_tags`` tag).
    - ``_match_targets(inputs, targets)``: check targets that must agree
      with their inputs (boxes inside their images, masks of their size).
    - ``_metrics()``: Keras metrics (none).
    - ``_target_weights(model_targets)``: per-example weights derived from
      targets, e.g. class weights (none).
    - ``_batch(dataset, *, training)``: batch a dataset of examples (seeded
      shuffle, then ``batch_size``).
    - ``_dataset_inputs(features)``: a ``tf.data`` batch of the user's features
      to the prepared-input structure (identity).
    - ``_learn_meta_from_dataset(dataset)``: read the training batches of a
      ``tf.data`` input once and learn the meta from them.
    - ``_join(chunks)``: assemble per-chunk prediction outputs (concatenate).
    - ``_endpoints()``: serving endpoints by name (``serving_default`` from
      ``_serving_signature()`` and ``_serving_inputs``).
    - ``_export_resources()``: layers or resources the endpoints use besides
      the model, for ``export`` to track (none).
    - ``_phases()`` and ``_fit_phase(phase, data)``: the training phases,
      each resumable from its own folder under ``checkpoint_dir``.
    - ``_after_fit(data)``: work after training (threshold tuning).
    - ``_sample_images(inputs, targets)``: images of the model's predictions
      for a few prepared examples and their prepared targets, logged to
      TensorBoard at the end of every epoch when ``log_dir`` is set (none).
    - ``_post_restore()``: rebuild derived state after fit, unpickling and
      ``load`` (the compiled prediction function by default).
    - ``_check_params()``: parameter checks (extend, calling super).
    - ``_encode_once`` (class attribute, False): encode in-memory fit data
      once per fit instead of per batch (deterministic, in-memory encodings).

    Subclasses that only share code between tasks pass ``abstract=True`` in
    their class statement.
    """

    # Rows per call of the compiled inference function: large inputs are cut
    # into chunks so memory stays bounded, small ones pay one call. Tasks with
    # large activations per row (images) use fewer.
    _predict_batch = 65_536
    # True when ``_encode`` draws no randomness in training and its output for
    # all rows fits in memory: in-memory fit data is then encoded once per fit,
    # not once per batch and epoch. Tasks that augment leave it False.
    _encode_once = False
    # Parameters that may hold a fitted estimator used as data (word vectors):
    # clones share it instead of cloning it unfitted.
    _shared_params: tuple = ()

    def __init_subclass__(cls, *, abstract: bool = False, **kwargs):
        super().__init_subclass__(**kwargs)
        if abstract:
            return
        missing = [
            h for h in REQUIRED_HOOKS if getattr(cls, h) is getattr(TaskHooks, h)
        ]
        if missing:
            raise TypeError(
                f"{cls.__name__} must define the task hook(s) {missing} (see the "
                "docstring of applied_ml.base.KerasEstimator). Received a class "
                f"that inherits them from {KerasEstimator.__name__} unimplemented."
            )
        register_estimator(cls)

    # ------------------------------------------------------------------ checks
    def _check_common_params(self) -> None:
        check_number("epochs", self.epochs, integer=True, low=1)
        check_number("max_steps", self.max_steps, integer=True, low=1, allow_none=True)
        check_number("batch_size", self.batch_size, integer=True, low=1)
        check_choice("optimizer", self.optimizer, OPTIMIZERS)
        check_number("learning_rate", self.learning_rate, low=0, low_inclusive=False)
        check_bool("early_stopping", self.early_stopping)
        check_number("patience", self.patience, integer=True, low=0)
        check_number(
            "validation_fraction",
            self.validation_fraction,
            low=0,
            high=1,
            high_inclusive=False,
        )
        check_bool("warm_start", self.warm_start)
        check_choice("verbose", self.verbose, (0, 1, 2))
        if self.early_stopping and self.validation_fraction == 0:
            raise ValueError(
                "`early_stopping=True` needs a validation split: set "
                "`validation_fraction` above 0 or `early_stopping=False`. "
                f"Received: validation_fraction={self.validation_fraction!r}"
            )
        if self.checkpoint_dir is not None and not isinstance(
            self.checkpoint_dir, str | os.PathLike
        ):
            raise TypeError(
                "`checkpoint_dir` must be a path or None. "
                f"Received: checkpoint_dir={self.checkpoint_dir!r}"
            )
        check_log_dir(self.log_dir)
        if self.callbacks is not None and (
            not isinstance(self.callbacks, list | tuple)
            or not all(isinstance(c, keras.callbacks.Callback) for c in self.callbacks)
        ):
            raise TypeError(
                "`callbacks` must be a sequence of keras.callbacks.Callback. "
                f"Received: callbacks={self.callbacks!r}"
            )
        resolve_strategy(self.strategy)
        if keras.backend.backend() != "tensorflow":
            raise RuntimeError(
                "applied_ml needs the TensorFlow backend of Keras, but Keras was "
                f"imported with backend {keras.backend.backend()!r}. Set "
                "KERAS_BACKEND=tensorflow before importing keras."
            )

    def _check_params(self) -> None:
        """Task-specific parameter checks; subclasses extend."""
        self._check_common_params()

    def _takes_targets(self) -> bool:
        return self.__sklearn_tags__().target_tags.required

    # -------------------------------------------------------------------- fit
    def fit(self, X, y=None, sample_weight=None):
        """Train the model.

        Parameters
        ----------
        X : array-like, pandas.DataFrame or tf.data.Dataset
            Training inputs. A ``tf.data.Dataset`` must yield batches of
            ``(features, targets)`` or ``(features, targets, sample_weight)``;
            ``y`` and ``sample_weight`` are then left as None.
        y : array-like, optional
            Training targets (None for tasks that learn from ``X`` alone).
        sample_weight : array-like of shape (n_samples,), optional
            Per-sample weights, multiplied with class weights when both are
            given.

        Returns
        -------
        self
            The fitted estimator.
        """
        self._check_params()
        # Until this fit succeeds the estimator is not fitted: a failed fit must
        # not leave a model that disagrees with freshly learned attributes.
        self.__dict__.pop("_predict_fn", None)
        self.__dict__.pop("_inference_model", None)
        warm = bool(self.warm_start) and hasattr(self, "model_")
        strategy = resolve_strategy(self.strategy)
        multi_worker = is_multi_worker(strategy)
        self._fit_seed = seed_from(self.random_state)
        if multi_worker:
            # Workers must split, shuffle and augment alike: the chief's seed
            # (drawn when random_state is None) goes to all.
            seed = self._fit_seed
            if seed is None:
                seed = int(np.random.default_rng().integers(2**31 - 1))
            self._fit_seed = int(from_chief(strategy, [seed])[0])
        with seeded(self._fit_seed):
            if isinstance(X, tf.data.Dataset):
                data = self._dataset_fit_data(X, y, sample_weight, reset=not warm)
            else:
                data = self._array_fit_data(X, y, sample_weight, reset=not warm)
            if self.checkpoint_dir is not None or multi_worker:
                self._fingerprint = fit_fingerprint(self, data, self._fit_seed)
            if multi_worker:
                self._check_same_fit(strategy)
            if not warm:
                with strategy.scope():
                    model = self._build_model(self.meta_)
                self.model_ = model
                self._compile(self.learning_rate)
        # Outside `seeded`: training reads no global random state, and fits in
        # threads train in parallel.
        history = self._train(data)
        if multi_worker:
            self._check_same_weights(strategy)
        self.__dict__.pop("_fingerprint", None)
        if self.checkpoint_dir is not None:
            # each phase removed its backups; the folder goes too, if empty
            with contextlib.suppress(OSError):
                os.rmdir(self.checkpoint_dir)
        self.history_ = {k: [float(v) for v in vs] for k, vs in history.items()}
        self.n_iter_ = len(self.history_.get("loss", ()))
        self._after_fit(data)
        self._post_restore()
        return self

    def _check_same_fit(self, strategy) -> None:
        """Raise on every worker unless all were given the chief's fit."""
        digest = fingerprint_digest(self._fingerprint)
        agreed, chief = agree_with_chief(strategy, digest)
        if not agreed:
            raise ValueError(
                "With `strategy='multi_worker'` every worker must run the same "
                "fit on the same data (each trains on its share of every batch), "
                "but this fit's parameters or training data differ between "
                "workers. Load the same data everywhere, or pass a tf.data "
                "pipeline that reads files (sharded by file across workers). "
                f"Received: parameters and data with digest {digest} here, "
                f"{chief} on the chief"
            )

    def _check_same_weights(self, strategy) -> None:
        """Raise on every worker unless all ended with the same weights."""
        digest = hashlib.sha256()
        for weight in self.model_.weights:
            digest.update(np.ascontiguousarray(weight.numpy()).tobytes())
        mine = int(digest.hexdigest()[:13], 16)
        agreed, chief = agree_with_chief(strategy, mine)
        if not agreed:
            raise RuntimeError(
                "The workers of this multi-worker fit ended with different "
                "weights, so the model would depend on which worker saves it. "
                "Report it with the estimator and its parameters. Received: "
                f"weights digest {mine} here, {chief} on the chief"
            )

    def _compile(self, learning_rate: float, model=None, optimizer=None) -> None:
        """(Re)compile ``model`` (default ``model_``) under its strategy.

        A given ``optimizer`` (already trained, with its state) is reused;
        otherwise a fresh one is made at ``learning_rate``.
        """
        model = self.model_ if model is None else model
        with model.distribute_strategy.scope():
            model.compile(
                optimizer=optimizer
                or make_optimizer(
                    self.optimizer, learning_rate, getattr(self, "l1", 0.0)
                ),
                loss=self._loss(),
                metrics=self._metrics(),
            )
            if not model.optimizer.built:
                model.optimizer.build(model.trainable_variables)

    def _train(self, data: FitData) -> dict:
        """Run every training phase in order; their histories, end to end."""
        history: dict = {}
        self._fit_log = self._make_fit_log(data)
        try:
            for phase in self._phases():
                for key, values in self._fit_phase(phase, data).items():
                    history.setdefault(key, []).extend(values)
        finally:
            fit_log = self.__dict__.pop("_fit_log")
        if fit_log is not None:
            self._log_step = fit_log.step
        return history

    def _make_fit_log(self, data: FitData) -> FitLog | None:
        """This fit's TensorBoard logging (None: no ``log_dir``, or not chief)."""
        if self.log_dir is None or not writes_here(self.strategy):
            return None
        # a warm start continues the steps of the fits before it
        first_step = self.__dict__.get("_log_step", 0) if self.warm_start else 0
        examples, run = data.validation_examples, "validation"
        if examples is None:
            examples, run = data.train_examples, "train"
        if examples is None or type(self)._sample_images is TaskHooks._sample_images:
            return FitLog(self.log_dir, first_step)
        rows = slice(0, min(N_SAMPLES, n_rows(examples["inputs"])))
        inputs = take(examples["inputs"], rows)
        targets = examples.get("targets")
        targets = None if targets is None else take(targets, rows)
        return FitLog(
            self.log_dir,
            first_step,
            samples=lambda: self._sample_images(inputs, targets),
            samples_run=run,
        )

    def _run_fit(
        self, model, train, validation, epochs, steps_per_epoch, *, phase: str
    ) -> dict:
        """One ``model.fit`` with the estimator's callbacks; its history dict."""
        if self.max_steps is not None:
            # MaxSteps ends the run; the epoch count only has to be enough
            epochs = (
                2**31 - 1
                if steps_per_epoch is None
                else math.ceil(self.max_steps / steps_per_epoch)
            )
        if model.distribute_strategy.num_replicas_in_sync > 1:
            build_from_first_replica(model)
        if is_multi_worker(model.distribute_strategy):
            synchronize_batch_norm(model)
        history = model.fit(
            train,
            validation_data=validation,
            epochs=epochs,
            callbacks=self._callbacks(phase),
            verbose=self.verbose,
            shuffle=False,  # the pipelines shuffle (seeded) themselves
        )
        return history.history

    def _callbacks(self, phase: str) -> list:
        callbacks = []
        if self.checkpoint_dir is not None:
            callbacks.append(
                BackupCallback(
                    os.path.join(os.fspath(self.checkpoint_dir), phase),
                    self._fingerprint,
                )
            )
        if self.early_stopping:
            callbacks.append(
                keras.callbacks.EarlyStopping(
                    monitor="val_loss",  # early stopping requires a validation split
                    patience=self.patience,
                    restore_best_weights=True,
                )
            )
        if self.max_steps is not None:
            callbacks.append(MaxSteps(self.max_steps))
        fit_log = self.__dict__.get("_fit_log")
        if fit_log is not None:
            # after MaxSteps: the epoch it ends is logged like any other
            callbacks.append(fit_log.callback(phase))
        return callbacks + list(self.callbacks or ())

    # ---------------------------------------------------------------- predict
    def _outputs(self, inputs) -> dict:
        """Named outputs of a batch of prepared inputs (in TensorFlow)."""
        model_inputs, _ = self._encode(inputs, None, training=False)
        return self._decode(self._inference_model(model_inputs, training=False))

    def _predict_outputs(self, X) -> dict:
        """Named outputs for in-memory ``X``, through the compiled function."""
        check_is_fitted(self)
        return self._predict_prepared(self._prepare_inputs(X, reset=False))

    def _predict_prepared(self, inputs, function=None) -> dict:
        """Outputs of ``function`` (default the compiled ``_outputs``) by chunk."""
        function = self._predict_fn if function is None else function
        outputs = [
            self._predict_chunk(c, function)
            for c in chunks(inputs, self._predict_batch)
        ]
        return outputs[0] if len(outputs) == 1 else self._join(outputs)

    def _predict_chunk(self, chunk, function) -> dict:
        if n_rows(chunk) == 1:
            # A lone row would take the matrix-vector kernel, whose rounding
            # differs from the batched one: doubled, it gets the same output
            # as inside any batch.
            doubled = function(take(chunk, np.array([0, 0])))
            return {k: v.numpy()[:1] for k, v in doubled.items()}
        return {k: v.numpy() for k, v in function(chunk).items()}

    def __sklearn_is_fitted__(self) -> bool:
        return hasattr(self, "_predict_fn")

    def __sklearn_clone__(self):
        shared = {
            name
            for name in self._shared_params
            if hasattr(getattr(self, name), "get_params")
        }
        if not isinstance(self.strategy, str):
            shared.add("strategy")
        if not shared:
            return super().__sklearn_clone__()
        # A live tf.distribute.Strategy cannot be deep-copied (TensorFlow allows
        # one instance of some strategies), and a fitted estimator given as
        # data (word vectors) would come back unfitted: clones share them.
        params = {
            name: value if name in shared else clone(value, safe=False)
            for name, value in self.get_params(deep=False).items()
        }
        return type(self)(**params)

    def export(self, path: str | os.PathLike | None = None, version=None) -> str | None:
        """Export a TensorFlow SavedModel that serves raw inputs.

        Every endpoint of the task is written (``serving_default`` and any
        others, such as ``embed``); each takes raw inputs and returns named
        outputs, computed by the same code as ``predict``.

        Parameters
        ----------
        path : str or os.PathLike, optional
            Model folder; the SavedModel goes into ``<path>/<version>/``.
            Defaults to ``saved_models/<class name in lower case>``.
        version : int, optional
            Version sub-folder; defaults to one more than the highest
            existing integer version (1 for a new folder). An existing
            version is never overwritten.

        Returns
        -------
        str or None
            The folder the SavedModel was written to; None on a worker other
            than the chief of a ``strategy="multi_worker"`` job, which writes
            nothing (see :func:`applied_ml.cluster.is_chief`).
        """
        from applied_ml.export import export_saved_model

        check_is_fitted(self)
        if not writes_here(self.strategy):
            return None
        return export_saved_model(self, path, version)
