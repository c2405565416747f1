"""KerasEstimator: the fit/predict/persistence machinery every task shares.

A task subclass supplies what differs between tasks: how raw inputs become
model inputs (``_prepare_inputs``), how targets are encoded
(``_prepare_targets``), what is learned from the training data before the
model is built (``_learn_meta``), the model itself (``_build_model``), its
loss and metrics, and how raw outputs are decoded. Everything else lives
here once: parameter checks, seeding, strategy scope, validation split,
sample and class weights, callbacks, history, fast inference, pickling,
``.keras`` save/load and SavedModel export.
"""

import json
import math
import os
import zipfile

import keras
import numpy as np
import tensorflow as tf
from sklearn.base import BaseEstimator, clone
from sklearn.model_selection import train_test_split
from sklearn.utils.validation import check_is_fitted

from applied_ml import _persistence
from applied_ml._checkpoint import BackupCallback, fit_fingerprint
from applied_ml._random import seed_from, seeded, shuffled
from applied_ml._training import OPTIMIZERS, MaxSteps, make_optimizer
from applied_ml._validation import check_bool, check_choice, check_number
from applied_ml.distribute import resolve_strategy


class KerasEstimator(BaseEstimator):
    """Base class of all applied_ml estimators (not used directly)."""

    # Rows per call of the compiled inference function: large inputs are cut
    # into chunks so memory stays bounded, small ones pay one call. Tasks with
    # large activations per row (images) use fewer.
    _predict_batch = 65_536

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
            Training targets.
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
        warm = bool(self.warm_start) and hasattr(self, "model_")
        strategy = resolve_strategy(self.strategy)
        self._fit_seed = seed_from(self.random_state)
        with seeded(self._fit_seed):
            if isinstance(X, tf.data.Dataset):
                data = self._dataset_fit_data(X, y, sample_weight, reset=not warm)
            else:
                data = self._array_fit_data(X, y, sample_weight, reset=not warm)
            if self.checkpoint_dir is not None:
                self._fingerprint = fit_fingerprint(self, data, self._fit_seed)
            if not warm:
                with strategy.scope():
                    model = self._build_model(self.meta_)
                self.model_ = model
                self._compile(self.learning_rate)
            if strategy.num_replicas_in_sync > 1:
                _build_from_first_replica(self.model_)
        # Outside `seeded`: training reads no global random state, and fits in
        # threads train in parallel.
        history = self._train(data)
        self.history_ = {k: [float(v) for v in vs] for k, vs in history.items()}
        self.n_iter_ = len(history["loss"])
        self._predict_fn = self._make_predict_fn()
        self._after_fit(data["validation"])
        return self

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

    def _train(self, data: dict) -> dict:
        """Train ``model_`` on ``data``; return the per-epoch history."""
        return self._run_fit(
            self.model_,
            data["train"],
            data["validation"],
            self.epochs,
            data["steps_per_epoch"],
        )

    def _run_fit(self, model, train, validation, epochs, steps_per_epoch) -> dict:
        """One ``model.fit`` with the estimator's callbacks; its history dict."""
        if self.max_steps is not None:
            # MaxSteps ends the run; the epoch count only has to be enough
            epochs = (
                2**31 - 1
                if steps_per_epoch is None
                else math.ceil(self.max_steps / steps_per_epoch)
            )
        history = model.fit(
            train,
            validation_data=validation,
            epochs=epochs,
            callbacks=self._callbacks(),
            verbose=self.verbose,
            shuffle=False,  # the pipelines shuffle (seeded) themselves
        )
        return history.history

    def _callbacks(self) -> list:
        callbacks = []
        if self.checkpoint_dir is not None:
            callbacks.append(
                BackupCallback(os.fspath(self.checkpoint_dir), self._fingerprint)
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
        return callbacks + list(self.callbacks or ())

    def _array_fit_data(self, X, y, sample_weight, *, reset: bool) -> dict:
        """Validate in-memory data, split off validation, learn the meta."""
        if y is None:
            raise ValueError(
                f"{type(self).__name__} requires y to be passed, but the target y "
                "is None."
            )
        inputs = self._prepare_inputs(X, reset=reset)
        targets = self._prepare_targets(y, reset=reset)
        n = _n_rows(inputs)
        if len(targets) != n:
            raise ValueError(
                f"`X` and `y` must have the same number of samples. Received: "
                f"{n} samples in X and {len(targets)} in y."
            )
        weights = self._sample_weights(targets, sample_weight, n)
        train_idx, val_idx = self._split(n, targets)
        train_inputs = _take(inputs, train_idx)
        if reset:
            self.meta_ = self._learn_meta(train_inputs, targets[train_idx])
        train_parts = (train_inputs, targets[train_idx])
        if weights is not None:
            train_parts += (weights[train_idx],)
        validation = None
        if val_idx is not None:
            val_parts = (_take(inputs, val_idx), targets[val_idx])
            if weights is not None:
                val_parts += (weights[val_idx],)
            validation = self._pipeline(_batched(val_parts, self.batch_size), False)
        train = self._pipeline(
            _batched(train_parts, self.batch_size, shuffle=True, seed=self._fit_seed),
            True,
        )
        return {
            "train": train,
            "validation": validation,
            "train_parts": train_parts,
            "validation_parts": None if val_idx is None else val_parts,
            "steps_per_epoch": math.ceil(len(train_idx) / self.batch_size),
        }

    def _feed(self, chunk):
        """Model input for a chunk of prepared inputs (casts, if any)."""
        return chunk

    def _pipeline(self, dataset, training: bool):
        """Per-batch transforms of in-memory data (casts, augmentation)."""
        return dataset

    def _split(self, n: int, targets: np.ndarray):
        if self.validation_fraction == 0:
            return np.arange(n), None
        n_val = math.ceil(n * self.validation_fraction)
        if n - n_val < 1:
            raise ValueError(
                f"`validation_fraction={self.validation_fraction}` leaves no "
                f"training samples: got {n} sample(s). Use more data or set "
                "validation_fraction=0 and early_stopping=False."
            )
        stratify = self._stratify(targets, n_val)
        train_idx, val_idx = train_test_split(
            np.arange(n),
            test_size=n_val,
            random_state=self._fit_seed,
            stratify=stratify,
        )
        return np.sort(train_idx), np.sort(val_idx)

    def _stratify(self, targets: np.ndarray, n_val: int):
        """Labels to stratify the validation split by (None: plain shuffle)."""
        return None

    def _sample_weights(self, targets, sample_weight, n: int):
        from sklearn.utils.validation import _check_sample_weight

        class_w = self._class_sample_weights(targets)
        if sample_weight is None and class_w is None:
            return None
        weights = np.ones(n, dtype="float32")
        if sample_weight is not None:
            weights = _check_sample_weight(sample_weight, np.empty((n, 0)))
            if np.any(weights < 0):
                raise ValueError("`sample_weight` must not contain negative values.")
            weights = weights.astype("float32")
        if class_w is not None:
            weights = weights * class_w
        return weights

    def _class_sample_weights(self, targets):
        return None

    def _dataset_fit_data(self, dataset, y, sample_weight, *, reset: bool) -> dict:
        if y is not None or sample_weight is not None:
            raise ValueError(
                "When `X` is a tf.data.Dataset it must yield (features, targets) "
                "or (features, targets, sample_weight) batches, and `y` and "
                "`sample_weight` must be None. Received: "
                f"y={type(y).__name__}, sample_weight={type(sample_weight).__name__}"
            )
        spec = dataset.element_spec
        if not isinstance(spec, tuple) or len(spec) not in (2, 3):
            raise ValueError(
                "`X` as a tf.data.Dataset must yield (features, targets) or "
                "(features, targets, sample_weight) tuples of batches. Received "
                f"elements of structure: {spec}"
            )
        train_ds, val_ds = self._split_dataset(dataset)
        if reset:
            self.meta_ = self._learn_meta_from_dataset(train_ds)
        train_ds = self._map_dataset(train_ds, True).prefetch(tf.data.AUTOTUNE)
        if val_ds is not None:
            val_ds = self._map_dataset(val_ds, False).prefetch(tf.data.AUTOTUNE)
        cardinality = int(train_ds.cardinality())
        return {
            "train": train_ds,
            "validation": val_ds,
            "steps_per_epoch": cardinality if cardinality > 0 else None,
        }

    def _split_dataset(self, dataset):
        if self.validation_fraction == 0:
            return dataset, None
        n_batches = int(dataset.cardinality())
        if n_batches < 0:
            raise ValueError(
                "`validation_fraction` > 0 needs a tf.data.Dataset of known "
                "length (its validation batches are taken from the front), but "
                "this dataset's cardinality is unknown. Set validation_fraction=0 "
                "and early_stopping=False, or use "
                "dataset.apply(tf.data.experimental.assert_cardinality(n))."
            )
        n_val = math.ceil(n_batches * self.validation_fraction)
        if n_batches - n_val < 1:
            raise ValueError(
                f"`validation_fraction={self.validation_fraction}` leaves no "
                f"training batches: the dataset has {n_batches} batch(es)."
            )
        return dataset.skip(n_val), dataset.take(n_val)

    def _after_fit(self, validation) -> None:
        """Hook run after training (threshold tuning and the like)."""

    # ---------------------------------------------------------------- predict
    def _make_predict_fn(self):
        # No Python control flow to convert: without AutoGraph the first trace
        # does not re-read this module's source from disk.
        return tf.function(
            _Inference(self.model_),
            input_signature=[self._input_signature()],
            autograph=False,
        )

    def _predict_raw(self, X) -> np.ndarray:
        """Model outputs for in-memory ``X``, through the compiled function."""
        check_is_fitted(self)
        inputs = self._prepare_inputs(X, reset=False)
        n = _n_rows(inputs)
        chunks = [
            self._predict_chunk(_slice(inputs, start, start + self._predict_batch))
            for start in range(0, n, self._predict_batch)
        ]
        return np.concatenate(chunks) if len(chunks) > 1 else chunks[0]

    def _predict_chunk(self, chunk) -> np.ndarray:
        if _n_rows(chunk) == 1:
            # A lone row would take the matrix-vector kernel, whose rounding
            # differs from the batched one: doubled, it gets the same output
            # as inside any batch.
            return self._predict_fn(self._feed(_take(chunk, [0, 0]))).numpy()[:1]
        return self._predict_fn(self._feed(chunk)).numpy()

    def __sklearn_is_fitted__(self) -> bool:
        return hasattr(self, "_predict_fn")

    def __sklearn_clone__(self):
        if isinstance(self.strategy, str):
            return super().__sklearn_clone__()
        # A live tf.distribute.Strategy cannot be deep-copied (TensorFlow allows
        # one instance of some strategies); the clone shares it by reference.
        params = {
            name: clone(value, safe=False)
            for name, value in self.get_params(deep=False).items()
            if name != "strategy"
        }
        return type(self)(**params, strategy=self.strategy)

    # ------------------------------------------------------------ persistence
    def __getstate__(self):
        # object.__getstate__ hands back the live __dict__: copy before editing.
        state = dict(super().__getstate__())
        state.pop("_predict_fn", None)
        if "model_" in state:
            state["model_"] = _persistence.model_to_bytes(state["model_"])
        if not isinstance(self.strategy, str):
            raise TypeError(
                f"Cannot pickle this {type(self).__name__}: its `strategy` is a "
                "tf.distribute.Strategy object. Set strategy to a name "
                "('auto', 'mirrored', 'one_device') with set_params first."
            )
        return state

    def __setstate__(self, state):
        if isinstance(state.get("model_"), bytes):
            state = dict(state, model_=_persistence.model_from_bytes(state["model_"]))
        super().__setstate__(state)
        if "model_" in state:
            self._predict_fn = self._make_predict_fn()

    def save(self, path: str | os.PathLike) -> None:
        """Save the fitted estimator to a ``.keras`` archive.

        The archive is a regular Keras model file (``keras.saving.load_model``
        opens it) with the estimator's parameters and learned attributes added
        as JSON, so loading never unpickles anything.

        Parameters
        ----------
        path : str or os.PathLike
            File to write; it must end in ``.keras``.
        """
        check_is_fitted(self)
        path = os.fspath(path)
        if not path.endswith(".keras"):
            raise ValueError(f"`path` must end in '.keras'. Received: path={path!r}")
        state = _persistence.dump_state(self)  # fails before anything is written
        partial = f"{path}.partial.keras"
        try:
            self.model_.save(partial)
            with zipfile.ZipFile(partial, "a") as archive:
                archive.writestr(_persistence.STATE_FILE, state)
            os.replace(partial, path)
        finally:
            if os.path.exists(partial):
                os.remove(partial)

    @classmethod
    def load(cls, path: str | os.PathLike):
        """Load an estimator written by :meth:`save`.

        Parameters
        ----------
        path : str or os.PathLike
            A ``.keras`` file written by ``save``.

        Returns
        -------
        estimator
            The fitted estimator, ready to predict.
        """
        path = os.fspath(path)
        with zipfile.ZipFile(path) as archive:
            if _persistence.STATE_FILE not in archive.namelist():
                raise ValueError(
                    f"{path!r} is a Keras model file without applied_ml estimator "
                    "state; load it with keras.saving.load_model instead."
                )
            state = json.loads(archive.read(_persistence.STATE_FILE))
        estimator = _persistence.restore_state(state)
        if not isinstance(estimator, cls):
            raise TypeError(
                f"{path!r} holds a {type(estimator).__name__}, not a {cls.__name__}."
            )
        estimator.model_ = keras.saving.load_model(path, safe_mode=True)
        estimator._predict_fn = estimator._make_predict_fn()
        return estimator

    def export(self, path: str | os.PathLike | None = None, version=None) -> str:
        """Export a TensorFlow SavedModel that serves raw inputs.

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
        str
            The folder the SavedModel was written to.
        """
        from applied_ml.export import export_saved_model

        check_is_fitted(self)
        return export_saved_model(self, path, version)


class _Inference:
    """``model(inputs, training=False)`` as a callable object.

    TensorFlow counts traces per Python code object: closures made afresh for
    every fitted model would share one count and trip its "frequent retracing"
    warning, although each model traces once. An instance is its own key.
    """

    def __init__(self, model):
        self.model = model

    def __call__(self, inputs):
        return self.model(inputs, training=False)


def _build_from_first_replica(model) -> None:
    """Let ``model`` train on string features under a multi-replica strategy.

    Before its first step, Keras' TensorFlow trainer (``_maybe_symbolic_build``
    in keras/src/backend/tensorflow/trainer.py, Keras 3.15) averages the first
    distributed batch over the replicas only to build the compiled metrics;
    string tensors cannot be averaged, so that fails. Building from the first
    replica's share of the batch gives the same shapes and dtypes. The
    override lives on this model instance only.
    """
    strategy = model.distribute_strategy

    def local(value):
        if isinstance(value, tf.distribute.DistributedValues):
            return strategy.experimental_local_results(value)[0]
        return value

    def maybe_symbolic_build(iterator=None, data_batch=None):
        if iterator is not None:
            for _, _, it in iterator:
                data_batch = tf.nest.map_structure(local, next(it))
                break
        with strategy.scope():
            model._symbolic_build(data_batch=data_batch)

    model._maybe_symbolic_build = maybe_symbolic_build


def _batched(parts: tuple, batch_size: int, shuffle: bool = False, seed=None):
    """A batched, prefetched tf.data pipeline over in-memory arrays.

    Keras' own array adapter rejects string columns, so in-memory data goes
    through tf.data. With a ``seed`` the shuffles depend on it alone (not on
    how many TensorFlow ops were made before), so two pipelines over the same
    number of rows visit them in the same order.
    """
    n = _n_rows(parts[0])
    dataset = tf.data.Dataset.from_tensor_slices(parts)
    if shuffle:
        dataset = shuffled(dataset, n, seed)
    return dataset.batch(batch_size).prefetch(tf.data.AUTOTUNE)


def _decoded(values: np.ndarray) -> np.ndarray:
    """tf.data yields text as bytes; the estimators work with str."""
    if values.dtype.kind in "OS":
        return np.vectorize(
            lambda v: v.decode() if isinstance(v, bytes) else v, otypes=[object]
        )(values)
    return values


def _n_rows(inputs) -> int:
    if isinstance(inputs, dict):
        return len(next(iter(inputs.values())))
    return len(inputs)


def _take(inputs, idx):
    if isinstance(inputs, dict):
        return {k: v[idx] for k, v in inputs.items()}
    return inputs[idx]


def _slice(inputs, start: int, stop: int):
    if isinstance(inputs, dict):
        return {k: v[start:stop] for k, v in inputs.items()}
    return inputs[start:stop]
