"""TabularClassifier: binary, multiclass and multilabel classification of tables."""

import warnings

import keras
import numpy as np
import tensorflow as tf
from sklearn.base import ClassifierMixin
from sklearn.metrics import precision_recall_curve
from sklearn.utils.validation import check_is_fitted

from applied_ml import metrics
from applied_ml._docs import fill
from applied_ml._labels import LabelsMixin
from applied_ml.tabular._checks import check_finite_outputs
from applied_ml.tabular._estimator import TabularEstimator


class TabularClassifier(ClassifierMixin, LabelsMixin, TabularEstimator):
    __doc__ = fill(
        """Classifier of tabular data with feature columns, as a Keras model.

    The model takes raw columns (numbers, strings, missing values): every
    preprocessing step (scaling, imputation, bucketizing, vocabulary lookup,
    hashing, crosses, embeddings) is a Keras layer learned in ``fit``, so the
    exported SavedModel serves raw rows.

    Parameters
    ----------
{tabular}
    threshold : float or "auto", default=0.5
        Decision threshold on the positive-class probability (binary) or on
        each label's probability (multilabel). ``"auto"`` (binary only) picks
        the threshold that maximizes F1 on the validation split.
{training}
    class_weight : dict, "balanced" or None, default=None
        Weights per class label, multiplied into the sample weights.
{run}

    Attributes
    ----------
    classes_ : ndarray
        Class labels (multilabel: label indices).
    threshold_ : float
        Decision threshold in use.
{fitted}

    Examples
    --------
    >>> from sklearn.datasets import load_breast_cancer
    >>> from applied_ml import TabularClassifier
    >>> X, y = load_breast_cancer(return_X_y=True, as_frame=True)
    >>> clf = TabularClassifier(random_state=0).fit(X, y)  # doctest: +SKIP
    >>> clf.predict_proba(X.iloc[:2]).shape  # doctest: +SKIP
    (2, 2)
    """
    )

    def __init__(
        self,
        *,
        features=None,
        model="dnn",
        hidden_units=(64, 32),
        activation="relu",
        dropout=0.0,
        batch_norm=False,
        l1=0.0,
        l2=0.0,
        threshold=0.5,
        optimizer="adam",
        learning_rate=0.01,
        epochs=200,
        max_steps=None,
        batch_size=32,
        early_stopping=True,
        patience=10,
        validation_fraction=0.1,
        class_weight=None,
        warm_start=False,
        checkpoint_dir=None,
        callbacks=None,
        strategy="auto",
        random_state=None,
        verbose=0,
    ):
        self.features = features
        self.model = model
        self.hidden_units = hidden_units
        self.activation = activation
        self.dropout = dropout
        self.batch_norm = batch_norm
        self.l1 = l1
        self.l2 = l2
        self.threshold = threshold
        self.optimizer = optimizer
        self.learning_rate = learning_rate
        self.epochs = epochs
        self.max_steps = max_steps
        self.batch_size = batch_size
        self.early_stopping = early_stopping
        self.patience = patience
        self.validation_fraction = validation_fraction
        self.class_weight = class_weight
        self.warm_start = warm_start
        self.checkpoint_dir = checkpoint_dir
        self.callbacks = callbacks
        self.strategy = strategy
        self.random_state = random_state
        self.verbose = verbose

    def _check_params(self) -> None:
        super()._check_params()
        if self.threshold != "auto" and (
            isinstance(self.threshold, bool | str)
            or not isinstance(self.threshold, int | float)
            or not 0 <= self.threshold <= 1
        ):
            raise ValueError(
                "`threshold` must be a number in [0, 1] or 'auto'. "
                f"Received: threshold={self.threshold!r}"
            )
        if self.threshold == "auto" and self.validation_fraction == 0:
            raise ValueError(
                "`threshold='auto'` tunes the threshold on the validation split; "
                "set `validation_fraction` above 0. "
                f"Received: validation_fraction={self.validation_fraction!r}"
            )
        self._check_class_weight()

    # ---------------------------------------------------------------- targets
    def _is_multilabel(self) -> bool:
        if hasattr(self, "meta_") and "task" in self.meta_:
            return self.meta_["task"] == "multilabel"
        return self._multilabel

    def _prepare_targets(self, y, *, reset: bool) -> np.ndarray:
        y, y_type = self._check_labels(y)
        if reset:
            self._multilabel = y_type == "multilabel-indicator"
        elif (y_type == "multilabel-indicator") != self._is_multilabel():
            raise ValueError(
                "`y` must have the same kind of targets as in the first fit "
                f"({self.meta_['task']}). Received targets of type {y_type!r}."
            )
        if y_type == "multilabel-indicator":
            if reset:
                self.classes_ = np.arange(y.shape[1])
            elif y.shape[1] != len(self.classes_):
                raise ValueError(
                    f"`y` must have {len(self.classes_)} label columns, as in the "
                    f"first fit. Received: {y.shape[1]}."
                )
            self._check_auto_threshold("multilabel")
            return y.astype("float32")
        if y.ndim == 2 and y.shape[1] > 1:
            raise ValueError(
                "`y` must be 1-D class labels or a 2-D 0/1 multilabel indicator "
                f"matrix. Received {y_type!r} targets of shape {y.shape}."
            )
        y = self._check_classes(y, reset=reset)
        if len(self.classes_) > 2:
            self._check_auto_threshold("multiclass")
        return y

    def _check_auto_threshold(self, task: str) -> None:
        """``threshold='auto'`` fails before training, not after it."""
        if self.threshold == "auto":
            raise ValueError(
                "`threshold='auto'` applies to binary classification only; this "
                f"problem is {task}."
            )

    def _target_meta(self, targets: np.ndarray) -> dict:
        if self._multilabel:
            task = "multilabel"
            counts = targets.sum(axis=0)
        else:
            task = "binary" if len(self.classes_) == 2 else "multiclass"
            counts = self._class_counts(targets)
        return {
            "task": task,
            "n_outputs": 1 if task == "binary" else len(self.classes_),
            "class_counts": np.asarray(counts).astype(int).tolist(),
        }

    def _encode_targets(self, targets):
        if self.meta_["task"] == "multilabel":
            return tf.cast(targets, tf.float32)
        index = self._label_index_tf(targets)
        if self.meta_["task"] == "binary":
            return tf.cast(tf.reshape(index, [-1, 1]), tf.float32)
        return index

    def _loss(self):
        if self.meta_["task"] == "multiclass":
            return "sparse_categorical_crossentropy"
        return "binary_crossentropy"

    def _metrics(self):
        if self.meta_["task"] == "multiclass":
            return [keras.metrics.SparseCategoricalAccuracy(name="accuracy")]
        return [keras.metrics.BinaryAccuracy(name="accuracy")]

    # -------------------------------------------------------------- threshold
    def _after_fit(self, data) -> None:
        if self.threshold != "auto":
            self.threshold_ = float(self.threshold)
            return
        pairs = [
            (self.model_(x, training=False).numpy().ravel(), y.numpy().ravel())
            for x, y, *_ in data.validation
        ]
        scores = np.concatenate([p for p, _ in pairs])
        truth = np.concatenate([t for _, t in pairs])
        if len(np.unique(truth)) < 2:
            # F1 on one class alone picks a threshold near 0 (or 1)
            warnings.warn(
                "`threshold='auto'` needs positive and negative samples in the "
                "validation split, but it holds only "
                f"{'positive' if truth[0] else 'negative'} ones ({len(truth)} "
                "samples); using threshold 0.5. Raise `validation_fraction` or "
                "add samples of the rare class.",
                UserWarning,
                stacklevel=3,
            )
            self.threshold_ = 0.5
            return
        precision, recall, thresholds = precision_recall_curve(truth, scores)
        f1 = 2 * precision * recall / np.maximum(precision + recall, 1e-12)
        self.threshold_ = (
            float(thresholds[np.argmax(f1[:-1])]) if len(thresholds) else 0.5
        )

    # ---------------------------------------------------------------- predict
    def predict_proba(self, X) -> np.ndarray:
        """Class probabilities.

        Parameters
        ----------
        X : array-like or pandas.DataFrame
            Rows to score, with the columns seen in ``fit``.

        Returns
        -------
        ndarray of shape (n_samples, n_classes)
            Probabilities in the order of ``classes_`` (multilabel: each
            label's probability).
        """
        proba = self._predict_outputs(X)["probabilities"]
        check_finite_outputs(self, proba)
        proba = proba.astype("float64")
        if self.meta_["task"] == "multilabel":  # one probability per label
            return proba
        return proba / proba.sum(axis=1, keepdims=True)

    def predict_log_proba(self, X) -> np.ndarray:
        """Logarithm of :meth:`predict_proba`.

        Parameters
        ----------
        X : array-like or pandas.DataFrame
            Rows to score.

        Returns
        -------
        ndarray of shape (n_samples, n_classes)
            Log-probabilities.
        """
        with np.errstate(divide="ignore"):
            return np.log(self.predict_proba(X))

    def predict(self, X) -> np.ndarray:
        """Predicted class labels.

        Parameters
        ----------
        X : array-like or pandas.DataFrame
            Rows to classify.

        Returns
        -------
        ndarray
            Labels from ``classes_`` (multilabel: a 0/1 indicator matrix).
        """
        outputs = self._predict_outputs(X)
        check_finite_outputs(self, outputs["probabilities"])
        labels = outputs["labels"]
        if self.meta_["task"] == "multilabel":
            return labels.astype(int)
        return self._labels_from_tf(labels)

    def evaluate(self, X, y) -> dict:
        """Accuracy, precision, recall, F1, ROC AUC, log loss and prediction bias.

        Parameters
        ----------
        X : array-like or pandas.DataFrame
            Rows to evaluate on.
        y : array-like
            True labels.

        Returns
        -------
        dict
            Metric name to value (see ``applied_ml.metrics.classification_metrics``).
        """
        check_is_fitted(self)
        return metrics.classification_metrics(
            y, self.predict_proba(X), self.predict(X), self.classes_
        )

    def _decode(self, raw) -> dict:
        task = self.meta_["task"]
        if task == "multilabel":
            return {
                "probabilities": raw,
                "labels": tf.cast(raw >= self.threshold_, tf.int64),
            }
        if task == "binary":
            proba = tf.concat([1.0 - raw, raw], axis=-1)
            index = tf.cast(raw[:, 0] >= self.threshold_, tf.int64)
        else:
            proba, index = raw, tf.argmax(raw, axis=-1)
        return {"probabilities": proba, "labels": self._labels_tf(index)}

    def __sklearn_tags__(self):
        tags = super().__sklearn_tags__()
        tags.classifier_tags.multi_label = True
        return tags
