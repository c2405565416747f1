"""Class-label handling every applied_ml classifier shares.

Labels of any hashable type are checked in NumPy and become indices into
``classes_`` by one TensorFlow lookup, for in-memory and ``tf.data`` input
alike; class weights, the stratified validation split, label decoding and the
label checks live here once.
"""

import numpy as np
import pandas as pd
import tensorflow as tf
from sklearn.utils import assert_all_finite
from sklearn.utils.multiclass import check_classification_targets, type_of_target
from sklearn.utils.validation import column_or_1d


class ClassKeysMixin:
    """``classes_`` to and from class indices, in NumPy and in TensorFlow.

    For any estimator with a sorted ``classes_`` array: classifiers, and
    tasks whose targets carry class labels (detection boxes).
    """

    def _class_index(self, labels: np.ndarray) -> np.ndarray:
        """Indices into ``classes_`` of known 1-D ``labels``, in NumPy."""
        return np.searchsorted(self.classes_, labels)

    def _class_keys(self):
        """``classes_`` as a TensorFlow constant (text as strings)."""
        classes = self.classes_
        if classes.dtype.kind in "OUS":
            return tf.constant([str(c) for c in classes])
        return tf.constant(classes)

    def _labels_tf(self, index):
        """Class labels (text as strings) at indices ``index``, in TensorFlow."""
        return tf.gather(self._class_keys(), index)

    def _labels_from_tf(self, labels: np.ndarray) -> np.ndarray:
        """Labels computed by :meth:`_labels_tf` as values of ``classes_``."""
        if self.classes_.dtype.kind in "OUS":
            text = [v.decode() for v in labels.ravel()]
            return np.array(text, dtype=self.classes_.dtype).reshape(labels.shape)
        return labels.astype(self.classes_.dtype, copy=False)

    def _label_index_tf(self, targets):
        """Indices into ``classes_`` of a batch of labels, inside tf.data."""
        keys = self._class_keys()
        if keys.dtype != tf.string:
            targets = tf.cast(targets, keys.dtype)
        matches = tf.equal(tf.reshape(targets, [-1, 1]), tf.reshape(keys, [1, -1]))
        known = tf.debugging.Assert(
            tf.reduce_all(tf.reduce_any(matches, axis=1)),
            [
                "`X` (a tf.data.Dataset) yields labels not seen when fitting began:",
                targets,
            ],
        )
        with tf.control_dependencies([known]):
            return tf.argmax(tf.cast(matches, tf.int32), axis=1)


class LabelsMixin(ClassKeysMixin):
    """Mixin for classifiers over ``KerasEstimator`` (single-label targets)."""

    def _is_multilabel(self) -> bool:
        return False

    def _check_labels(self, y) -> tuple[np.ndarray, str]:
        """``y`` as an array and its scikit-learn target type, or a clear error."""
        y = np.asarray(y) if not hasattr(y, "to_numpy") else y.to_numpy()
        if y.dtype.kind in "fcOM":
            # None, NaN, pd.NA and NaT: sorting them with strings fails cryptically
            missing = pd.isna(y)
            if missing.any():
                first = int(np.argwhere(missing)[0][0])
                raise ValueError(
                    f"`y` contains {int(missing.sum())} missing label(s) (None, NaN "
                    f"or pd.NA), the first at position {first}; drop those rows or "
                    f"fill them in. Received: y[{first}]={y[first]!r}"
                )
        if y.dtype.kind in "fc":
            assert_all_finite(y, input_name="y")
        check_classification_targets(y)
        return y, type_of_target(y, input_name="y")

    def _check_classes(self, y, *, reset: bool) -> np.ndarray:
        """1-D labels ``y``; learn ``classes_`` when ``reset``, else check them."""
        y = column_or_1d(y, warn=True)
        if reset:
            self.classes_ = np.unique(y)
            if len(self.classes_) < 2:
                raise ValueError(
                    f"{type(self).__name__} needs samples of at least 2 classes in "
                    f"`y`; Received 1 class: {self.classes_.tolist()[0]!r}."
                )
            return y
        unseen = np.setdiff1d(y, self.classes_)
        if unseen.size:
            raise ValueError(
                f"`y` holds labels not seen in the first fit: {unseen.tolist()}. "
                f"Known classes: {self.classes_.tolist()}."
            )
        return y

    def _class_counts(self, labels: np.ndarray) -> np.ndarray:
        """How many of ``labels`` fall in each class of ``classes_``."""
        return np.bincount(self._class_index(labels), minlength=len(self.classes_))

    def _class_weight_vector(self, counts) -> np.ndarray | None:
        """Weight of each class index, from ``class_weight`` (None: unweighted)."""
        cw = self.class_weight
        if cw is None:
            return None
        if self._is_multilabel():
            raise ValueError(
                "`class_weight` is not supported for multilabel targets; pass "
                "`sample_weight` instead."
            )
        if cw == "balanced":
            counts = np.asarray(counts, dtype="float64")
            weights = np.where(
                counts > 0, counts.sum() / (len(counts) * np.maximum(counts, 1)), 0
            )
            return weights.astype("float32")
        unknown = set(cw) - set(self.classes_.tolist())
        if unknown:
            raise ValueError(
                "`class_weight` names labels that are not in y: "
                f"{sorted(unknown, key=str)}. Classes: {self.classes_.tolist()}."
            )
        return np.array([cw.get(c, 1.0) for c in self.classes_.tolist()], "float32")

    def _check_class_weight(self) -> None:
        cw = self.class_weight
        if cw is not None and cw != "balanced" and not isinstance(cw, dict):
            raise ValueError(
                "`class_weight` must be None, 'balanced' or a dict mapping class "
                f"labels to weights. Received: class_weight={cw!r}"
            )

    def _target_weights(self, model_targets):
        """Class weights of a batch, from the targets' class indices."""
        if self._is_multilabel():
            self._class_weight_vector(None)  # raises when class_weight is set
            return None
        vector = self._class_weight_vector(self.meta_.get("class_counts"))
        if vector is None:
            return None
        index = tf.cast(tf.reshape(model_targets, [-1]), tf.int64)
        return tf.gather(tf.constant(vector), index)

    def _stratify(self, targets: np.ndarray, n_val: int):
        """Strata for the validation split: the classes, rare ones pooled.

        A class with one sample cannot be on both sides, and there can be no
        more strata than rows on either side: such classes share one stratum
        (with the largest class when they are too few for a stratum of their
        own), instead of the whole split giving up stratification.
        """
        if targets.ndim == 2 and targets.shape[1] > 1:
            return None
        labels = self._class_index(targets.ravel())
        counts = np.bincount(labels)
        limit = min(n_val, len(labels) - n_val)
        by_size = [int(c) for c in np.argsort(-counts, kind="stable") if counts[c]]
        own = [c for c in by_size if counts[c] >= 2]
        if len(own) == len(by_size) and len(own) <= limit:
            return labels
        own = own[: max(limit - 1, 0)]
        if not own:
            return None
        strata = np.where(np.isin(labels, own), labels, -1)
        if np.count_nonzero(strata == -1) < 2:
            strata[strata == -1] = own[0]
        return strata if len(np.unique(strata)) >= 2 else None

    def _split(self, n: int, targets: np.ndarray):
        """The base split, then every class with 2+ samples on both sides.

        Stratifying rounds: 4 positives in 120 rows give a validation tenth
        without any, and then ``threshold="auto"`` tunes on negatives alone.
        """
        train_idx, val_idx = super()._split(n, targets)
        if val_idx is None or (targets.ndim == 2 and targets.shape[1] > 1):
            return train_idx, val_idx
        labels = self._class_index(targets.ravel())
        return _cover_classes(labels, train_idx, val_idx)


def _cover_classes(labels: np.ndarray, train_idx, val_idx):
    """Swap rows so that each class with 2+ samples is in both splits.

    A missing class gets one row from the other side, which gets back a row of
    the class most frequent on this side (when it has a row to spare).
    """
    sides = [np.array(train_idx), np.array(val_idx)]
    counts = np.bincount(labels)
    for c in np.flatnonzero(counts >= 2):
        for here, there in ((1, 0), (0, 1)):
            present = np.bincount(labels[sides[here]], minlength=len(counts))
            donor = int(np.argmax(present))
            if present[c] or present[donor] < 2:
                continue
            i = np.flatnonzero(labels[sides[here]] == donor)[0]
            j = np.flatnonzero(labels[sides[there]] == c)[0]
            sides[here][i], sides[there][j] = sides[there][j], sides[here][i]
    return np.sort(sides[0]), np.sort(sides[1])
