"""ImageClassifier: transfer learning with augmentation, as a scikit-learn estimator."""

import os

import keras
import numpy as np
import tensorflow as tf
from sklearn.base import ClassifierMixin
from sklearn.utils.validation import check_is_fitted

from applied_ml import metrics
from applied_ml._docs import fill
from applied_ml._fold import fold_batch_norm
from applied_ml._head_features import HeadOnFeaturesMixin
from applied_ml._labels import LabelsMixin
from applied_ml._random import seed_from
from applied_ml._validation import check_bool, check_choice, check_number
from applied_ml.base import KerasEstimator
from applied_ml.data import read_batches
from applied_ml.vision import _data
from applied_ml.vision._augment import (
    AUGMENTATIONS,
    check_augmentation,
    make_augmenter,
)
from applied_ml.vision._models import (
    build_image_classifier,
    features_of,
    trunk,
    unfreeze_top,
)
from applied_ml.vision._sample_images import label_samples
from applied_ml.vision.backbones import BACKBONES, DEFAULT_SIZES

# Images per call of the network outside training (predicting, computing the
# backbone features once): a 96 px image takes about 1.75 MB of activations in
# EfficientNet-Lite0, so 10,000 at once would need some 20 GB.
_IMAGES_PER_CALL = 256


class ImageClassifier(
    ClassifierMixin, LabelsMixin, HeadOnFeaturesMixin, KerasEstimator
):
    __doc__ = fill(
        """Image classifier by transfer learning: pretrained backbone, new head.

    Training runs in two phases, the standard recipe: first the new head is
    trained with the backbone frozen, then (with ``fine_tune_layers > 0``) the
    top of the backbone is unfrozen and trained on at a lower learning rate.
    Batch normalization inside the backbone stays in inference mode
    throughout. Augmentation is applied to training batches only and is not
    part of the model. With the backbone frozen and no augmentation the
    backbone's features are computed once and the head is trained on them.

    Parameters
    ----------
    backbone : {{"efficientnet_lite0", "mobilenet_v2", "mobilenet_v3_small", \
"efficientnet_b0", "resnet50", "small_cnn"}}, default="efficientnet_lite0"
        Backbone network (see ``applied_ml.vision.load_backbone``).
    weights : {{"imagenet", None}} or path, default="imagenet"
        Backbone weights: ImageNet (offline for ``efficientnet_lite0``), random
        (``None``; trains the whole network from scratch), or a file.
    image_size : int or tuple of (int, int), optional
        Size the model resizes images to; the backbone's default when None
        (224, or 64 for ``small_cnn``).
    augmentation : tuple of str or None, default=("flip", "rotation")
        Random training transforms, from "flip", "rotation", "zoom",
        "translation", "contrast", "brightness", "crop".
    dropout : float, default=0.2
        Dropout before the classification layer.
    fine_tune_layers : int, default=0
        Number of top backbone layers (with weights) unfrozen in phase two;
        0 trains the head only. With ``weights=None`` the whole network is
        trained in phase one and this must stay 0.
    fine_tune_learning_rate : float, default=1e-5
        Learning rate of phase two.
    fine_tune_epochs : int, default=10
        Maximum epochs of phase two.
    cache_features : bool, default=True
        Train the head on backbone features computed once, when the backbone
        is frozen and augmentation is off (same result, much faster).
    tta : int, default=0
        Test-time augmentation: average the probabilities of the image and
        this many augmented views of it.
{training}
    class_weight : dict, "balanced" or None, default=None
        Weights per class label, multiplied into the sample weights.
{run}

    Attributes
    ----------
    classes_ : ndarray
        Class labels.
    n_channels_ : int
        Channels of the training images (1 grayscale, 3 RGB).
    model_ : keras.Model
        The trained Keras model: 0-255 images of any size in, probabilities out.
    history_ : dict
        Per-epoch training and validation loss and accuracy (both phases).
    n_iter_ : int
        Number of epochs run (both phases).
    meta_ : dict
        What the model builder learned from the training data.

    Examples
    --------
    >>> from applied_ml.datasets import load_fashion_mnist
    >>> from applied_ml.vision import ImageClassifier
    >>> (x, y), _ = load_fashion_mnist()  # doctest: +SKIP
    >>> clf = ImageClassifier(backbone="small_cnn", weights=None, augmentation=None)
    >>> clf.fit(x[:500], y[:500]).predict(x[:3])  # doctest: +SKIP
    """,
        learning_rate=0.001,
        epochs=20,
        patience=3,
    )

    _predict_batch = _IMAGES_PER_CALL

    def __init__(
        self,
        *,
        backbone="efficientnet_lite0",
        weights="imagenet",
        image_size=None,
        augmentation=("flip", "rotation"),
        dropout=0.2,
        fine_tune_layers=0,
        fine_tune_learning_rate=1e-5,
        fine_tune_epochs=10,
        cache_features=True,
        tta=0,
        optimizer="adam",
        learning_rate=0.001,
        epochs=20,
        max_steps=None,
        batch_size=32,
        early_stopping=True,
        patience=3,
        validation_fraction=0.1,
        class_weight=None,
        warm_start=False,
        checkpoint_dir=None,
        log_dir=None,
        callbacks=None,
        strategy="auto",
        random_state=None,
        verbose=0,
    ):
        self.backbone = backbone
        self.weights = weights
        self.image_size = image_size
        self.augmentation = augmentation
        self.dropout = dropout
        self.fine_tune_layers = fine_tune_layers
        self.fine_tune_learning_rate = fine_tune_learning_rate
        self.fine_tune_epochs = fine_tune_epochs
        self.cache_features = cache_features
        self.tta = tta
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
        self.log_dir = log_dir
        self.callbacks = callbacks
        self.strategy = strategy
        self.random_state = random_state
        self.verbose = verbose

    # ----------------------------------------------------------------- checks
    def _check_params(self) -> None:
        super()._check_params()
        check_choice("backbone", self.backbone, BACKBONES)
        if self.weights is not None and not isinstance(self.weights, str | os.PathLike):
            raise TypeError(
                "`weights` must be 'imagenet', None or a path to a .weights.h5 "
                f"file. Received: weights={self.weights!r}"
            )
        self._image_size()
        check_augmentation(self.augmentation, AUGMENTATIONS)
        check_number("dropout", self.dropout, low=0, high=1, high_inclusive=False)
        check_number("fine_tune_layers", self.fine_tune_layers, integer=True, low=0)
        check_number(
            "fine_tune_learning_rate",
            self.fine_tune_learning_rate,
            low=0,
            low_inclusive=False,
        )
        check_number("fine_tune_epochs", self.fine_tune_epochs, integer=True, low=1)
        check_bool("cache_features", self.cache_features)
        check_number("tta", self.tta, integer=True, low=0)
        if self.tta and not self.augmentation:
            raise ValueError(
                "`tta` averages augmented views, so it needs `augmentation`. "
                f"Received: tta={self.tta!r}, augmentation={self.augmentation!r}"
            )
        if self.weights is None and self.fine_tune_layers:
            raise ValueError(
                "With `weights=None` the whole network trains in phase one; "
                "`fine_tune_layers` must be 0. "
                f"Received: fine_tune_layers={self.fine_tune_layers!r}"
            )
        self._check_class_weight()

    def _image_size(self) -> tuple[int, int]:
        return _data.image_size_pair(self.image_size, DEFAULT_SIZES[self.backbone])

    # ----------------------------------------------------------------- inputs
    def _prepare_inputs(self, X, *, reset: bool) -> np.ndarray:
        if isinstance(X, str | os.PathLike) and os.path.isdir(X):
            raise ValueError(
                "A folder of class sub-folders holds its own labels: pass it to "
                "`fit` without `y` (to `predict`, pass the image files)."
            )
        X = _data.one_file_as_list(X)
        if _data.is_path_list(X):
            channels = None if reset else self.n_channels_
            images = _data.read_images(X, self._image_size(), channels)
        else:
            images = _data.as_image_array(X)
        if reset:
            self.n_channels_ = images.shape[-1]
        elif images.shape[-1] != self.n_channels_:
            raise ValueError(
                f"`X` must have {self.n_channels_} channel(s), as in fit. Received "
                f"images of shape {images.shape[1:]}."
            )
        return images

    def fit(self, X, y=None, sample_weight=None):
        """Train the classifier (phase one, then optional fine-tuning).

        Parameters
        ----------
        X : array-like, list of paths, str or tf.data.Dataset
            Images ``(n, height, width[, channels])`` with values 0-255, a list
            of image files, a folder with one sub-folder of images per class
            (labels are the sub-folder names; ``y`` must be None), a
            tensorflow-datasets name (its "train" split; needs the network or
            a local copy), or a ``tf.data.Dataset`` of ``(images, labels)``
            batches.
        y : array-like of shape (n_samples,), optional
            Class labels of any hashable type.
        sample_weight : array-like of shape (n_samples,), optional
            Per-sample weights.

        Returns
        -------
        self
            The fitted classifier.
        """
        if isinstance(X, str | os.PathLike) and not isinstance(X, tf.data.Dataset):
            X, y = self._named_source(os.fspath(X), y)
        return super().fit(X, y, sample_weight=sample_weight)

    def _named_source(self, source: str, y):
        if y is not None:
            raise ValueError(
                "`y` must be None when `X` names a folder or a tensorflow-datasets "
                f"set: the labels come with it. Received: X={source!r} and a y."
            )
        if os.path.isdir(source):
            paths, labels = _data.folder_dataset(source)
            self._check_params()
            return paths, np.array(labels)
        dataset = _data.load_tfds(source, "train")
        return dataset.batch(self.batch_size), None

    def _prepare_targets(self, y, *, reset: bool) -> np.ndarray:
        y, y_type = self._check_labels(y)
        if y.ndim == 2 and y.shape[1] > 1:
            raise ValueError(
                f"`y` must be 1-D class labels. Received targets of shape {y.shape} "
                f"({y_type})."
            )
        return self._check_classes(y, reset=reset)

    def _learn_meta(self, inputs: np.ndarray, targets: np.ndarray) -> dict:
        return self._meta(self._class_counts(targets))

    def _meta(self, counts) -> dict:
        return {
            "n_classes": len(self.classes_),
            "channels": int(self.n_channels_),
            "image_size": list(self._image_size()),
            "class_counts": [int(c) for c in counts],
        }

    def _build_model(self, meta: dict):
        return build_image_classifier(
            meta, backbone=self.backbone, weights=self.weights, dropout=self.dropout
        )

    def _loss(self):
        return "sparse_categorical_crossentropy"

    def _metrics(self):
        return [keras.metrics.SparseCategoricalAccuracy(name="accuracy")]

    def _input_signature(self):
        return tf.TensorSpec([None, None, None, self.n_channels_], tf.float32)

    # --------------------------------------------------------------- encoding
    def _augmenter(self, image_shape, seed):
        return make_augmenter(self.augmentation, tuple(image_shape), seed)

    def _encoded(self, dataset, *, training: bool):
        if training and self.augmentation:
            # The random layers hold state variables, which cannot be made
            # inside a tf.data function: one augmenter per training pipeline.
            shape = dataset.element_spec["inputs"].shape[1:3]
            if shape[0] is None or shape[1] is None:
                shape = self._image_size()
            self._train_augment = self._augmenter(shape, self._fit_seed)
            # One batch at a time: each call advances the layers' seed
            # generators, and parallel calls would take the draws in
            # whatever order the threads run (a fit would not repeat).
            return super()._encoded(dataset, training=training, parallel=False)
        return super()._encoded(dataset, training=training)

    def _encode(self, inputs, targets, *, training: bool):
        images = tf.cast(inputs, tf.float32)
        if training and self.augmentation:
            images = self._train_augment(images, training=True)
        return images, None if targets is None else self._label_index_tf(targets)

    def _dataset_inputs(self, features):
        if features.shape.rank == 3:
            features = features[..., tf.newaxis]
        return tf.cast(features, tf.float32)

    def _learn_meta_from_dataset(self, dataset) -> dict:
        spec = dataset.element_spec[0]
        if spec.shape.rank not in (3, 4):
            raise ValueError(
                "`X` as a tf.data.Dataset must yield batches of images (batch, "
                f"height, width[, channels]). Received elements of shape {spec.shape}."
            )
        self.n_channels_ = 1 if spec.shape.rank == 3 else int(spec.shape[-1])
        # only the labels are read: the images may not fit in memory
        (labels,) = read_batches(dataset, (1,))
        targets = self._prepare_targets(labels, reset=True)
        return self._meta(self._class_counts(targets))

    def _decode(self, raw) -> dict:
        return {
            "probabilities": raw,
            "labels": self._labels_tf(tf.argmax(raw, axis=-1)),
        }

    # --------------------------------------------------------------- training
    def _phases(self) -> tuple:
        return ("train", "fine_tune") if self.fine_tune_layers else ("train",)

    def _fit_phase(self, phase: str, data):
        if phase == "fine_tune":
            unfreeze_top(self.model_, self.fine_tune_layers)
            self._compile(self.fine_tune_learning_rate)
            return self._run_fit(
                self.model_,
                data.train,
                data.validation,
                self.fine_tune_epochs,
                data.steps_per_epoch,
                phase=phase,
            )
        pretrained = self.weights is not None
        if pretrained:
            trunk(self.model_).trainable = False
            self._compile(self.learning_rate)
        if pretrained and self.cache_features and not self.augmentation:
            return self._train_head_on_features(data, phase)
        return super()._fit_phase(phase, data)

    def _feature_extractor(self):
        # the backbone with its normalizations folded in
        extractor = fold_batch_norm(features_of(self.model_))
        return extractor, self._input_signature()

    def _sample_images(self, inputs, targets) -> list:
        proba = self.model_(tf.cast(inputs, tf.float32), training=False).numpy()
        predicted = self.classes_[proba.argmax(axis=1)]
        return label_samples(inputs, targets, predicted, proba.max(axis=1))

    def _after_fit(self, data) -> None:
        # the training augmenter belongs to this fit's pipelines, not to the
        # fitted estimator (pickles would carry it)
        self.__dict__.pop("_train_augment", None)

    def _post_restore(self) -> None:
        super()._post_restore()
        # Test-time augmentation draws the same views on every call: from the
        # random_state when it is an int, else from a seed drawn once here.
        if isinstance(self.random_state, int | np.integer):
            self._tta_seed = seed_from(int(self.random_state))
        else:
            self._tta_seed = int(np.random.default_rng().integers(2**31 - 1))

    # ---------------------------------------------------------------- predict
    def predict_proba(self, X) -> np.ndarray:
        """Class probabilities (averaged over ``tta`` augmented views if set).

        Parameters
        ----------
        X : array-like or list of paths
            Images ``(n, height, width[, channels])`` with values 0-255, or
            image files.

        Returns
        -------
        ndarray of shape (n_samples, n_classes)
            Probabilities in the order of ``classes_``.
        """
        check_is_fitted(self)
        images = self._prepare_inputs(X, reset=False)
        if not self.tta:
            proba = self._predict_prepared(images)["probabilities"].astype("float64")
            return proba / proba.sum(axis=1, keepdims=True)
        augment = self._augmenter(images.shape[1:3], self._tta_seed)
        chunks = []
        for start in range(0, len(images), _IMAGES_PER_CALL):
            chunk = tf.cast(images[start : start + _IMAGES_PER_CALL], tf.float32)
            proba = self._predict_fn(chunk)["probabilities"].numpy().astype("float64")
            for _ in range(self.tta):
                views = augment(chunk, training=True)
                proba += self._predict_fn(views)["probabilities"].numpy()
            chunks.append(proba / (self.tta + 1))
        proba = np.concatenate(chunks)
        return proba / proba.sum(axis=1, keepdims=True)

    def predict(self, X) -> np.ndarray:
        """Most probable class of each image.

        Parameters
        ----------
        X : array-like or list of paths
            Images or image files.

        Returns
        -------
        ndarray of shape (n_samples,)
            Labels from ``classes_``.
        """
        proba = self.predict_proba(X)  # before classes_: NotFittedError first
        return self.classes_[np.argmax(proba, axis=1)]

    def predict_top_k(self, X, k: int = 5) -> np.ndarray:
        """The ``k`` most probable classes of each image, best first.

        Parameters
        ----------
        X : array-like or list of paths
            Images or image files.
        k : int, default=5
            How many classes (at most the number of classes).

        Returns
        -------
        ndarray of shape (n_samples, k)
            Labels from ``classes_``.
        """
        check_is_fitted(self)
        check_number("k", k, integer=True, low=1, high=len(self.classes_))
        order = np.argsort(-self.predict_proba(X), axis=1, kind="stable")[:, :k]
        return self.classes_[order]

    def evaluate(self, X, y) -> dict:
        """Accuracy, precision, recall, F1, ROC AUC, log loss and prediction bias.

        Parameters
        ----------
        X : array-like or list of paths
            Images or image files.
        y : array-like
            True labels.

        Returns
        -------
        dict
            Metric name to value (see ``applied_ml.metrics.classification_metrics``).
        """
        check_is_fitted(self)
        proba = self.predict_proba(X)
        return metrics.classification_metrics(
            y, proba, self.classes_[np.argmax(proba, axis=1)], self.classes_
        )

    # ----------------------------------------------------------------- export
    def _serving_signature(self):
        return {
            "images": tf.TensorSpec(
                [None, None, None, self.n_channels_], tf.uint8, name="images"
            )
        }

    def _serving_inputs(self, served):
        return tf.cast(served["images"], tf.float32)

    def __sklearn_tags__(self):
        tags = super().__sklearn_tags__()
        tags.input_tags.two_d_array = False
        tags.input_tags.three_d_array = True
        tags.non_deterministic = self.random_state is None
        return tags
