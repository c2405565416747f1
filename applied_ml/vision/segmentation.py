"""ImageSegmenter: a U-Net for semantic segmentation as a scikit-learn estimator."""

import os

import numpy as np
import tensorflow as tf
from sklearn.utils.validation import check_is_fitted

from applied_ml._docs import fill
from applied_ml._labels import ClassKeysMixin
from applied_ml._validation import check_choice, check_number
from applied_ml.base import KerasEstimator
from applied_ml.data import take
from applied_ml.vision import _detection_data as images_data
from applied_ml.vision import _mask_data as masks_data
from applied_ml.vision._box_augment import letterbox
from applied_ml.vision._iou import segmentation_scores
from applied_ml.vision._letterboxed import LetterboxedTaskMixin
from applied_ml.vision._models import train_top
from applied_ml.vision._sample_images import mask_samples
from applied_ml.vision._segment_encode import SegmentationEncodingMixin
from applied_ml.vision._segment_loss import LOSSES, SegmentationLoss
from applied_ml.vision._segmenter_model import build_segmenter

ENCODERS = ("efficientnet_lite0", "unet")
DECODERS = ("transpose", "upsample")
SEGMENTATION_AUGMENTATIONS = ("flip", "scale", "translation", "color")


class ImageSegmenter(
    SegmentationEncodingMixin, LetterboxedTaskMixin, ClassKeysMixin, KerasEstimator
):
    __doc__ = fill(
        """Semantic segmentation with a U-Net: one class for every pixel.

    Each image is letterboxed (resized to fit ``image_size`` keeping its
    aspect ratio, then padded) and passed through an encoder and a decoder
    that climbs back to full resolution, concatenating the encoder's map of
    each stride on the way (skip connections), to a per-pixel softmax. The
    probabilities are cropped to the image and resized back to its own size,
    where the most probable class wins. The padding is never learnt from.

    Parameters
    ----------
    encoder : {{"efficientnet_lite0", "unet"}}, default="efficientnet_lite0"
        EfficientNet-Lite0 (skips at strides 4, 8 and 16, bottom at 32; its
        decoder ends at stride 4 and the logits are resized bilinearly), or
        the classic U-Net encoder trained from scratch (decoder down to
        stride 1).
    weights : {{"imagenet", None}} or path, default="imagenet"
        Lite0 encoder weights: ``"imagenet"`` (read offline), None (random)
        or a ``.weights.h5`` file; must be None for ``"unet"``.
    image_size : int, default=128
        Side of the square the images are letterboxed to (a multiple of 32
        for Lite0, of ``2**depth`` for the U-Net encoder).
    decoder : {{"transpose", "upsample"}}, default="transpose"
        How each decoder level doubles the resolution: a transpose
        convolution, or nearest upsampling and a convolution.
    base_filters : int, default=16
        Width of the U-Net encoder's first level, doubling at each level.
    depth : int, default=4
        Poolings of the U-Net encoder (and levels of its decoder).
    fine_tune_layers : "all" or int, default="all"
        How many of the pretrained encoder's top layers (those with weights)
        train along with the decoder: ``"all"``, or 0 to keep the encoder
        fixed. Its batch normalization keeps the ImageNet statistics and
        runs in inference mode either way.
    loss : {{"ce", "dice", "ce+dice", "focal"}}, default="ce+dice"
        Per-pixel cross-entropy, soft Dice averaged over classes, their sum,
        or focal loss. Background is most of the pixels in most data sets:
        with cross-entropy alone a model learns where objects are long
        before it learns which they are; the Dice term weighs every class
        alike.
    class_weight : dict, "balanced" or None, default=None
        Per-class weights of each pixel's cross-entropy (or focal) term:
        label to weight, or ``"balanced"`` (inverse pixel frequency).
    background : label or None, default=0
        The mask value of the background: it counts in ``mean_iou`` but not
        in ``mean_iou_foreground`` and defines ``foreground_iou``. None when
        every pixel belongs to an object class.
    augmentation : tuple of str or None, default=("flip", "scale", "translation")
        Random training transforms, from "flip" (left-right), "scale" (zoom
        in or out by up to 25%), "translation" (up to 10% of the side) and
        "color" (brightness, contrast, saturation; image only). The mask
        moves with the image (nearest neighbour); uncovered pixels are not
        learnt from.
{training}
{run}

    Attributes
    ----------
    classes_ : ndarray
        Mask values seen in fit, sorted.
    class_weight_ : ndarray or None
        The per-class loss weights used, in the order of ``classes_``.
    model_ : keras.Model
        The Keras model: letterboxed 0-255 images in, per-pixel class
        probabilities out.
    history_ : dict
        Per-epoch training and validation loss.
    n_iter_ : int
        Number of epochs run.
    meta_ : dict
        What the model builder learnt from the training data.

    Examples
    --------
    >>> from applied_ml.datasets import make_scenes
    >>> from applied_ml.vision import ImageSegmenter
    >>> images, _, masks = make_scenes(200, seed=0)  # doctest: +SKIP
    >>> segmenter = ImageSegmenter(epochs=5).fit(images, masks)  # doctest: +SKIP
    >>> segmenter.predict(images[:2]).shape  # doctest: +SKIP
    (2, 128, 128)
    """,
        optimizer="adamw",
        learning_rate=0.001,
        epochs=60,
        patience=8,
        batch_size=16,
    )

    # A 128 px image's 11 class probabilities at its own size take 0.7 MB.
    _predict_batch = 32

    def __init__(
        self,
        *,
        encoder="efficientnet_lite0",
        weights="imagenet",
        image_size=128,
        decoder="transpose",
        base_filters=16,
        depth=4,
        fine_tune_layers="all",
        loss="ce+dice",
        class_weight=None,
        background=0,
        augmentation=("flip", "scale", "translation"),
        optimizer="adamw",
        learning_rate=0.001,
        epochs=60,
        max_steps=None,
        batch_size=16,
        early_stopping=True,
        patience=8,
        validation_fraction=0.1,
        warm_start=False,
        checkpoint_dir=None,
        log_dir=None,
        callbacks=None,
        strategy="auto",
        random_state=None,
        verbose=0,
    ):
        self.encoder = encoder
        self.weights = weights
        self.image_size = image_size
        self.decoder = decoder
        self.base_filters = base_filters
        self.depth = depth
        self.fine_tune_layers = fine_tune_layers
        self.loss = loss
        self.class_weight = class_weight
        self.background = background
        self.augmentation = augmentation
        self.optimizer = optimizer
        self.learning_rate = learning_rate
        self.epochs = epochs
        self.max_steps = max_steps
        self.batch_size = batch_size
        self.early_stopping = early_stopping
        self.patience = patience
        self.validation_fraction = validation_fraction
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
        check_choice("encoder", self.encoder, ENCODERS)
        check_choice("decoder", self.decoder, DECODERS)
        check_choice("loss", self.loss, LOSSES)
        self._check_weights(self.encoder, "encoder", "unet")
        check_number("base_filters", self.base_filters, integer=True, low=1)
        check_number("depth", self.depth, integer=True, low=1, high=6)
        check_number("image_size", self.image_size, integer=True, low=32)
        multiple = 32 if self.encoder == "efficientnet_lite0" else 2**self.depth
        if self.image_size % multiple:
            raise ValueError(
                f"`image_size` must be a multiple of {multiple} for "
                f"encoder={self.encoder!r} (the stride of its deepest map). "
                f"Received: image_size={self.image_size!r}"
            )
        tune = self.fine_tune_layers
        if not (isinstance(tune, str) and tune == "all"):
            check_number("fine_tune_layers", tune, integer=True, low=0)
        weight = self.class_weight
        if not (weight is None or isinstance(weight, dict) or weight == "balanced"):
            raise ValueError(
                "`class_weight` must be None, 'balanced' or a dict of label to "
                f"weight. Received: class_weight={weight!r}"
            )
        self._check_augmentation(SEGMENTATION_AUGMENTATIONS)

    # ------------------------------------------------------------------ data
    def fit(self, X, y=None, sample_weight=None):
        """Train the segmenter.

        Parameters
        ----------
        X : array-like, list of arrays or paths, or str
            Images: an array (n, height, width[, channels]) with values
            0-255, a list of such images of any sizes, a list of image
            files, or a folder holding ``images/`` and ``masks/`` whose files
            pair up by name without the suffix (``y`` must be None). Mask
            files are read as stored: a palette PNG gives its palette
            indices, a greyscale image its grey values.
        y : array-like or list, optional
            One class map per image, of the image's height and width:
            integer or boolean values, 2-D (or with one channel).
        sample_weight : array-like of shape (n_samples,), optional
            Per-image weights of the loss.

        Returns
        -------
        self
            The fitted segmenter.
        """
        if isinstance(X, str | os.PathLike) and os.path.isdir(X):
            if y is not None:
                raise ValueError(
                    "`y` must be None when `X` is a folder of images and masks: the "
                    f"masks come with it. Received: X={os.fspath(X)!r} and a y."
                )
            X, y = masks_data.read_mask_folder(X)
        return super().fit(X, y, sample_weight=sample_weight)

    def _prepare_inputs(self, X, *, reset: bool) -> dict:
        images = images_data.as_images(X)
        return images_data.prepare_images(images, self.image_size)

    def _prepare_targets(self, y, *, reset: bool) -> dict:
        masks = masks_data.as_masks(y)
        if reset:
            self.classes_ = np.unique(np.concatenate([np.unique(m) for m in masks]))
            if self.background is not None and self.background not in self.classes_:
                raise ValueError(
                    f"`background`={self.background!r} is not a value of the masks "
                    f"({self.classes_.tolist()[:12]}); pass the background's value, "
                    "or background=None when every pixel belongs to an object class."
                )
        else:
            masks_data.check_seen(masks, self.classes_)
        return masks_data.letterbox_masks(masks, self._class_index, self.image_size)

    def _match_targets(self, inputs: dict, targets: dict) -> None:
        masks_data.check_sizes(targets["sizes"], inputs["sizes"])

    def _learn_meta(self, inputs: dict, targets: dict) -> dict:
        n_classes = len(self.classes_)
        if n_classes < 2:
            raise ValueError(
                "The masks must hold at least 2 classes (such as background and "
                f"an object). Received only {self.classes_.tolist()}."
            )
        weights = None
        if isinstance(self.class_weight, dict):
            unknown = set(self.class_weight) - set(self.classes_.tolist())
            if unknown:
                raise ValueError(
                    "`class_weight` names classes not in the masks: "
                    f"{sorted(unknown, key=str)}. The classes are "
                    f"{self.classes_.tolist()}."
                )
            weights = np.array(
                [float(self.class_weight.get(c, 1.0)) for c in self.classes_.tolist()]
            )
        elif self.class_weight == "balanced":
            masks = targets["masks"]
            counts = np.bincount(masks[masks >= 0].ravel(), minlength=n_classes)
            weights = counts.sum() / (n_classes * np.maximum(counts, 1))
        self.class_weight_ = weights
        return {
            "n_classes": n_classes,
            "image_size": int(self.image_size),
            "class_weights": None if weights is None else weights.tolist(),
        }

    def _build_model(self, meta: dict):
        model = build_segmenter(
            meta,
            encoder=self.encoder,
            weights=self.weights,
            decoder=self.decoder,
            base_filters=self.base_filters,
            depth=self.depth,
        )
        if self.encoder == "efficientnet_lite0" and self.fine_tune_layers != "all":
            body = model.get_layer("pretrained" if self.weights else "backbone")
            trunk = getattr(body, "layer", body).get_layer("lite0_features")
            train_top(trunk, self.fine_tune_layers)
        return model

    def _loss(self):
        return SegmentationLoss(self.loss, class_weights=self.meta_["class_weights"])

    def _input_signature(self):
        size = self.image_size
        return {
            "images": tf.TensorSpec([None, size, size, 3], tf.uint8),
            "transforms": tf.TensorSpec([None, 4], tf.float32),
            "sizes": tf.TensorSpec([None, 2], tf.float32),
        }

    # -------------------------------------------------------------- outputs
    def _decode(self, raw) -> dict:
        """Per-pixel probabilities in the letterboxed frame."""
        return {"probabilities": raw}

    def _original_size(self, proba, transform, size):
        """Letterboxed probabilities cropped and resized to the image's size."""
        scale_x, scale_y, left, top = tf.unstack(transform)
        height, width = tf.unstack(size)
        new_h = tf.cast(tf.round(height * scale_y), tf.int32)
        new_w = tf.cast(tf.round(width * scale_x), tf.int32)
        top = tf.cast(top, tf.int32)
        left = tf.cast(left, tf.int32)
        crop = proba[:, top : top + new_h, left : left + new_w, :]
        shape = tf.cast(tf.stack([height, width]), tf.int32)
        return tf.image.resize(crop, shape, method="bilinear")

    def _outputs(self, inputs) -> dict:
        """Masks and probabilities at the images' own size (one size a call)."""
        images = tf.cast(inputs["images"], tf.float32)
        proba = self._decode(self._inference_model(images, training=False))
        proba = self._original_size(
            proba["probabilities"], inputs["transforms"][0], inputs["sizes"][0]
        )
        return {
            "mask": self._labels_tf(tf.argmax(proba, axis=-1, output_type=tf.int32)),
            "probabilities": proba,
        }

    def _sample_images(self, inputs, targets) -> list:
        images = tf.cast(inputs["images"], tf.float32)
        proba = self._decode(self.model_(images, training=False))["probabilities"]
        return mask_samples(
            inputs["images"],
            targets["masks"],
            np.argmax(proba.numpy(), axis=-1),
            len(self.classes_),
        )

    def _post_restore(self) -> None:
        super()._post_restore()
        # predict needs only the masks: a function that never keeps the
        # probabilities at full size
        self._mask_fn = tf.function(
            _MaskOutputs(self),
            input_signature=[self._input_signature()],
            autograph=False,
        )

    def __getstate__(self):
        state = super().__getstate__()
        state.pop("_mask_fn", None)
        return state

    # -------------------------------------------------------------- predict
    def _per_size(self, X, key: str) -> list[np.ndarray]:
        """Output ``key`` per image, computing images of one size together."""
        check_is_fitted(self)
        function = self._mask_fn if key == "mask" else self._predict_fn
        inputs = self._prepare_inputs(X, reset=False)
        groups: dict = {}
        for i, size in enumerate(map(tuple, inputs["sizes"].astype(int))):
            groups.setdefault(size, []).append(i)
        results: list = [None] * len(inputs["sizes"])
        for rows in groups.values():
            out = self._predict_prepared(take(inputs, np.array(rows)), function)[key]
            for i, value in zip(rows, out, strict=True):
                results[i] = value
        return results

    def _as_output(self, X, results: list):
        """One array when ``X`` was one array of images, else a list."""
        return np.stack(results) if isinstance(X, np.ndarray) else results

    def predict(self, X):
        """Class map of each image, at the image's own size.

        Parameters
        ----------
        X : array-like, list of arrays or list of paths
            Images (any sizes) or image files.

        Returns
        -------
        ndarray of shape (n, height, width) or list of ndarray
            Values from ``classes_``: one array when ``X`` is one array of
            images, else a list with one mask per image.
        """
        masks = self._per_size(X, "mask")
        return self._as_output(X, [self._labels_from_tf(m) for m in masks])

    def predict_proba(self, X):
        """Per-pixel class probabilities of each image, at its own size.

        Parameters
        ----------
        X : array-like, list of arrays or list of paths
            Images (any sizes) or image files.

        Returns
        -------
        ndarray of shape (n, height, width, n_classes) or list of ndarray
            Probabilities in the order of ``classes_``; one array when ``X``
            is one array of images, else a list.
        """
        return self._as_output(X, self._per_size(X, "probabilities"))

    def evaluate(self, X, y) -> dict:
        """IoU, Dice and pixel accuracy of the predicted masks of ``X``.

        The counts are accumulated over every pixel of every image (one
        confusion matrix), then divided.

        Parameters
        ----------
        X : array-like, list of arrays or list of paths
            Images.
        y : array-like or list
            True masks, as in ``fit``.

        Returns
        -------
        dict
            ``mean_iou`` (over the classes in the truth or the prediction),
            ``mean_iou_foreground`` (without the background),
            ``foreground_iou`` (any object against background),
            ``mean_dice``, ``pixel_accuracy``, and ``per_class_iou`` and
            ``per_class_dice`` (label to value, NaN where undefined).
        """
        check_is_fitted(self)
        pred = [self._labels_from_tf(m) for m in self._per_size(X, "mask")]
        true = masks_data.as_masks(y)
        masks_data.check_sizes(
            np.array([m.shape for m in true]), np.array([m.shape for m in pred])
        )
        masks_data.check_seen(true, self.classes_)
        return segmentation_scores(
            true, pred, labels=self.classes_, background=self.background
        )

    def score(self, X, y, sample_weight=None) -> float:
        """Mean IoU of the predicted masks of ``X`` (greater is better).

        Parameters
        ----------
        X : array-like, list of arrays or list of paths
            Images.
        y : array-like or list
            True masks, as in ``fit``.
        sample_weight : None
            Not supported (the IoU pools pixels); must be None.

        Returns
        -------
        float
            IoU averaged over the classes in the truth or the prediction.
        """
        if sample_weight is not None:
            raise ValueError(
                "`sample_weight` is not supported by ImageSegmenter.score (the IoU "
                f"pools pixels). Received: {type(sample_weight).__name__}"
            )
        return float(self.evaluate(X, y)["mean_iou"])

    # ----------------------------------------------------------------- export
    def _serving_inputs(self, served):
        return letterbox(served["images"], self.image_size)


class _MaskOutputs:
    """A segmenter's prepared inputs to masks alone, as a callable object."""

    def __init__(self, estimator):
        self.estimator = estimator

    def __call__(self, inputs):
        return {"mask": self.estimator._outputs(inputs)["mask"]}
