"""What every applied_ml classifier does with its labels and its outputs.

Binary, multiclass and multilabel targets; the loss and accuracy metric of
each; ``threshold`` (a number, or ``"auto"``: best F1 on the validation
split, binary only); ``predict``/``predict_proba``/``predict_log_proba``;
``evaluate``; and the decoding of the model's raw outputs into named
``probabilities`` and ``labels``, shared by ``predict`` and the SavedModel.
A classifier's model ends in one sigmoid (binary), one per label
(multilabel) or a softmax (multiclass), as ``meta_["n_outputs"]`` says.
"""

import warnings

import keras
import numpy as np
import tensorflow as tf
from sklearn.metrics import precision_recall_curve
from sklearn.utils.validation import check_is_fitted

from applied_ml import metrics
from applied_ml._labels import LabelsMixin


class ClassifierOutputsMixin(LabelsMixin):
    """Mixin of the package's classifiers (with scikit-learn's ClassifierMixin).

    The estimator has ``threshold`` and ``class_weight`` parameters and puts
    :meth:`_target_meta` into its meta; :meth:`_check_outputs` is a hook for
    a check of the raw probabilities (none by default).
    """

    def _check_threshold_params(self) -> None:
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

    def _check_outputs(self, probabilities: np.ndarray) -> None:
        """Check the model's probabilities before they are returned (no check)."""

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
            Samples to score, of the kind seen in ``fit`` (rows with its
            columns, texts...).

        Returns
        -------
        ndarray of shape (n_samples, n_classes)
            Probabilities in the order of ``classes_`` (multilabel: each
            label's probability).
        """
        proba = self._predict_outputs(X)["probabilities"]
        self._check_outputs(proba)
        proba = proba.astype("float64")
        if self.meta_["task"] == "multilabel":  # one probability per label
            return proba
        return proba / proba.sum(axis=1, keepdims=True)

    def predict_log_proba(self, X) -> np.ndarray:
        """Logarithm of :meth:`predict_proba`.

        Parameters
        ----------
        X : array-like or pandas.DataFrame
            Samples to score.

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
            Samples to classify.

        Returns
        -------
        ndarray
            Labels from ``classes_`` (multilabel: a 0/1 indicator matrix).
        """
        outputs = self._predict_outputs(X)
        self._check_outputs(outputs["probabilities"])
        labels = outputs["labels"]
        if self.meta_["task"] == "multilabel":
            return labels.astype(int)
        return self._labels_from_tf(labels)

    def evaluate(self, X, y) -> dict:
        """Accuracy, precision, recall, F1, ROC AUC, log loss and prediction bias.

        Parameters
        ----------
        X : array-like or pandas.DataFrame
            Samples to evaluate on.
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
