"""ObjectDetector: a YOLO-style grid detector as a scikit-learn estimator."""

import os

import numpy as np
import tensorflow as tf
from sklearn.utils.validation import check_is_fitted

from applied_ml._docs import fill
from applied_ml._labels import ClassKeysMixin
from applied_ml._validation import check_bool, check_choice, check_number
from applied_ml.base import KerasEstimator
from applied_ml.vision import _detection_data as data
from applied_ml.vision._anchors import kmeans_anchors, wh_iou
from applied_ml.vision._box_augment import (
    letterbox,
    letterbox_boxes,
    letterbox_geometry,
    unletterbox_boxes,
)
from applied_ml.vision._decode import decode_grid
from applied_ml.vision._detection_encode import DetectionEncodingMixin
from applied_ml.vision._detector_model import STRIDE, build_detector
from applied_ml.vision._letterboxed import LetterboxedTaskMixin
from applied_ml.vision._map import detection_map
from applied_ml.vision._nms import batched_nms
from applied_ml.vision._sample_images import box_samples
from applied_ml.vision._yolo_loss import YoloLoss
from applied_ml.vision.boxes import check_inside, check_targets

DETECTOR_BACKBONES = ("efficientnet_lite0", "small_cnn")
DETECTION_AUGMENTATIONS = ("flip", "scale", "translation", "color")
# mAP sums over the whole precision-recall curve: keep detections down to
# this score when scoring, as COCO evaluation does.
EVALUATION_SCORE_THRESHOLD = 0.001


class ObjectDetector(
    DetectionEncodingMixin, LetterboxedTaskMixin, ClassKeysMixin, KerasEstimator
):
    __doc__ = fill(
        """Object detector: one grid of cells with anchor boxes (YOLO-style).

    Each image is letterboxed (resized to fit ``image_size`` keeping its
    aspect ratio, then padded) and passed through a trunk and a two-scale
    neck to a grid of ``image_size / 8`` cells a side. Each cell predicts,
    for each anchor box, a box (centre offset in the cell through a sigmoid,
    log-scale size relative to the anchor), an objectness and class
    probabilities. A box's score is its objectness times its best class
    probability; per-class non-max suppression keeps the best boxes.
    Predicted boxes come back in the pixels of the original images.

    Training assigns each true box to the cell holding its centre and the
    anchor closest to it in shape (IoU of sizes); anchors that overlap a
    true box by more than ``ignore_iou`` without being assigned are left out
    of the objectness loss (see ``applied_ml.vision._assign``).

    Parameters
    ----------
    backbone : {{"efficientnet_lite0", "small_cnn"}}, default="efficientnet_lite0"
        The trunk: the first five stages of EfficientNet-Lite0, or a small
        residual network trained from scratch. With the same 10 minutes of
        training on the CPU, the pretrained Lite0 trunk reached mAP@0.5 0.76
        on our scenes against 0.64 from scratch (BENCHMARKS.md).
    weights : {{"imagenet", None}} or path, default="imagenet"
        Lite0 trunk weights: ``"imagenet"`` (read offline), None (random) or
        a ``.weights.h5`` file; must be None for ``"small_cnn"``.
    image_size : int, default=128
        Side of the square the images are letterboxed to (a multiple of 16).
    anchors : "auto" or array-like of shape (n_anchors, 2), default="auto"
        Anchor widths and heights in letterboxed pixels, or ``"auto"``:
        k-means with a 1 - IoU distance on the training boxes.
    n_anchors : int, default=5
        Number of anchors learnt with ``anchors="auto"``.
    augmentation : tuple of str or None, default=("flip", "scale", "translation")
        Random training transforms, from "flip" (left-right), "scale"
        (zoom in or out by up to 25%), "translation" (up to 10% of the side)
        and "color" (brightness, contrast, saturation). Boxes move with the
        pixels; boxes pushed out of the frame are clipped, or dropped when
        less than 30% of them stays visible.
    freeze_backbone : bool, default=False
        Keep a pretrained trunk fixed (only the neck and head train).
    score_threshold : float, default=0.25
        ``predict`` drops boxes scoring below this (overridable per call).
    iou_threshold : float, default=0.5
        Non-max suppression drops boxes overlapping a better box of the same
        class by more than this (overridable per call).
    max_detections : int, default=100
        Most boxes returned per image.
    ignore_iou : float, default=0.5
        Unassigned anchors overlapping a true box by more than this are left
        out of the objectness loss.
    match_iou : float, default=0.3
        Besides the anchor closest in shape, every anchor of a box's cell
        whose shape overlaps the box by at least this learns it too (more
        positives: measured here, mAP@0.5 after one minute rose from 0.15 to
        0.25); 1 keeps the closest only.
    box_weight : float, default=5.0
        Weight of the box terms of the loss.
    noobj_weight : float, default=0.5
        Weight of the objectness loss on anchors without an object.
{training}
{run}

    Attributes
    ----------
    classes_ : ndarray
        Class labels seen in fit, sorted.
    anchors_ : ndarray of shape (n_anchors, 2)
        Anchor widths and heights in letterboxed pixels.
    anchor_iou_ : float
        Mean over the training boxes of their best IoU with an anchor.
    model_ : keras.Model
        The Keras model: letterboxed 0-255 images in, raw grid output out.
    history_ : dict
        Per-epoch training and validation loss.
    n_iter_ : int
        Number of epochs run.
    meta_ : dict
        What the model builder learnt from the training data.

    Examples
    --------
    >>> from applied_ml.datasets import make_scenes
    >>> from applied_ml.vision import ObjectDetector
    >>> images, targets, _ = make_scenes(200, seed=0)  # doctest: +SKIP
    >>> detector = ObjectDetector(epochs=5).fit(images, targets)  # doctest: +SKIP
    >>> detector.predict(images[:1])[0]["boxes"].shape  # doctest: +SKIP
    (4, 4)
    """,
        learning_rate=0.002,
        epochs=60,
        patience=8,
    )

    _predict_batch = 256

    def __init__(
        self,
        *,
        backbone="efficientnet_lite0",
        weights="imagenet",
        image_size=128,
        anchors="auto",
        n_anchors=5,
        augmentation=("flip", "scale", "translation"),
        freeze_backbone=False,
        score_threshold=0.25,
        iou_threshold=0.5,
        max_detections=100,
        ignore_iou=0.5,
        match_iou=0.3,
        box_weight=5.0,
        noobj_weight=0.5,
        optimizer="adam",
        learning_rate=0.002,
        epochs=60,
        max_steps=None,
        batch_size=32,
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
        self.backbone = backbone
        self.weights = weights
        self.image_size = image_size
        self.anchors = anchors
        self.n_anchors = n_anchors
        self.augmentation = augmentation
        self.freeze_backbone = freeze_backbone
        self.score_threshold = score_threshold
        self.iou_threshold = iou_threshold
        self.max_detections = max_detections
        self.ignore_iou = ignore_iou
        self.match_iou = match_iou
        self.box_weight = box_weight
        self.noobj_weight = noobj_weight
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
        check_choice("backbone", self.backbone, DETECTOR_BACKBONES)
        self._check_weights(self.backbone, "backbone", "small_cnn")
        check_number("image_size", self.image_size, integer=True, low=32)
        if self.image_size % 16:
            raise ValueError(
                "`image_size` must be a multiple of 16 (the grid's cells are 8 "
                "pixels and the neck merges a 16-pixel grid). "
                f"Received: image_size={self.image_size!r}"
            )
        self._given_anchors()
        check_number("n_anchors", self.n_anchors, integer=True, low=1)
        self._check_augmentation(DETECTION_AUGMENTATIONS)
        check_bool("freeze_backbone", self.freeze_backbone)
        for name in ("score_threshold", "iou_threshold", "ignore_iou", "match_iou"):
            check_number(name, getattr(self, name), low=0, high=1)
        check_number("max_detections", self.max_detections, integer=True, low=1)
        check_number("box_weight", self.box_weight, low=0)
        check_number("noobj_weight", self.noobj_weight, low=0)

    def _given_anchors(self) -> np.ndarray | None:
        """The ``anchors`` parameter as a checked array; None for ``"auto"``."""
        if isinstance(self.anchors, str) and self.anchors == "auto":
            return None
        try:
            anchors = np.asarray(self.anchors, dtype="float32")
        except (TypeError, ValueError):
            anchors = np.empty((0,))
        if anchors.ndim != 2 or anchors.shape[1] != 2 or not len(anchors):
            raise ValueError(
                "`anchors` must be 'auto' or (width, height) pairs, an array of "
                f"shape (n_anchors, 2). Received: anchors={self.anchors!r}"
            )
        if not (np.isfinite(anchors).all() and (anchors > 0).all()):
            raise ValueError(
                "`anchors` must hold positive, finite widths and heights. "
                f"Received: anchors={self.anchors!r}"
            )
        return anchors

    # ------------------------------------------------------------------ data
    def fit(self, X, y=None, sample_weight=None):
        """Train the detector.

        Parameters
        ----------
        X : array-like, list of arrays or paths, str or tf.data.Dataset
            Images: an array (n, height, width[, channels]) with values
            0-255, a list of such images of any sizes, a list of image files,
            a YOLO dataset folder (``images/train`` and ``labels/train``;
            ``y`` must be None), or a ``tf.data.Dataset`` of ``(images,
            targets)`` batches, targets a dict of ``boxes`` (batch, M, 4) and
            ``labels`` (batch, M), ragged or padded with label -1.
        y : list, optional
            One target per image: a dict ``{"boxes", "labels"}`` or a
            ``(boxes, labels)`` pair, boxes ``x1 y1 x2 y2`` in the image's
            pixels. An image may have no boxes.
        sample_weight : array-like of shape (n_samples,), optional
            Per-image weights of the loss.

        Returns
        -------
        self
            The fitted detector.
        """
        if isinstance(X, str | os.PathLike) and os.path.isdir(X):
            if y is not None:
                raise ValueError(
                    "`y` must be None when `X` is a YOLO dataset folder: the boxes "
                    f"come with it. Received: X={os.fspath(X)!r} and a y."
                )
            from applied_ml.datasets import load_yolo_folder  # datasets imports us

            X, y, _ = load_yolo_folder(X, "train")
        return super().fit(X, y, sample_weight=sample_weight)

    def _prepare_inputs(self, X, *, reset: bool) -> dict:
        images = data.as_images(X)
        return self._with_thresholds(data.prepare_images(images, self.image_size))

    def _with_thresholds(self, inputs: dict, score=None, iou=None) -> dict:
        """Prepared inputs with each row's NMS thresholds (the parameters')."""
        score = self.score_threshold if score is None else score
        iou = self.iou_threshold if iou is None else iou
        images = inputs["images"]
        if tf.is_tensor(images):
            pair = tf.constant([[score, iou]], tf.float32)
            thresholds = tf.tile(pair, [tf.shape(images)[0], 1])
        else:
            thresholds = np.repeat(np.array([[score, iou]], "float32"), len(images), 0)
        return {**inputs, "thresholds": thresholds}

    def _prepare_targets(self, y, *, reset: bool) -> np.ndarray:
        return data.pad_targets(self._checked(y, reset=reset), self._class_index)

    def _checked(self, y, sizes=None, *, reset: bool = False) -> list[tuple]:
        """``y`` as checked (boxes, labels) pairs; learn ``classes_`` if reset."""
        targets = check_targets(y, sizes)
        # images without boxes add nothing (and their empty arrays no dtype)
        labels = [labels for _, labels in targets if len(labels)]
        labels = np.concatenate(labels) if labels else np.empty(0)
        if reset:
            if not len(labels):
                raise ValueError(
                    "`y` holds no boxes at all: the detector needs at least one "
                    "labelled box to learn from."
                )
            self.classes_ = np.unique(labels)
        else:
            unseen = np.setdiff1d(labels, self.classes_)
            if unseen.size:
                image = next(
                    i for i, (_, ls) in enumerate(targets) if np.isin(ls, unseen).any()
                )
                raise ValueError(
                    f"Image {image} has a label not seen in fit: the classes are "
                    f"{self.classes_.tolist()}. Received: {unseen.tolist()}"
                )
        return targets

    def _match_targets(self, inputs: dict, targets: np.ndarray) -> None:
        for index, (size, rows) in enumerate(
            zip(inputs["sizes"], targets, strict=True)
        ):
            check_inside(rows[rows[:, 4] >= 0, :4], size, index)

    def _learn_meta(self, inputs: dict, targets: np.ndarray) -> dict:
        anchors = self._given_anchors()
        boxes = targets[..., :4][targets[..., 4] >= 0]
        scale = np.repeat(inputs["transforms"][:, None, :2], targets.shape[1], axis=1)
        wh = (boxes[:, 2:] - boxes[:, :2]) * scale[targets[..., 4] >= 0]
        if anchors is None:
            wh = wh[(wh > 0).all(axis=1)]
            anchors, self.anchor_iou_ = kmeans_anchors(
                wh, min(self.n_anchors, len(np.unique(wh, axis=0))), seed=self._fit_seed
            )
        else:
            self.anchor_iou_ = float(wh_iou(wh, anchors).max(axis=1).mean())
        self.anchors_ = np.asarray(anchors, "float32")
        return {
            "n_classes": len(self.classes_),
            "image_size": int(self.image_size),
            "anchors": self.anchors_.tolist(),
        }

    def _build_model(self, meta: dict):
        return build_detector(
            meta,
            backbone=self.backbone,
            weights=self.weights,
            freeze_backbone=self.freeze_backbone,
        )

    def _loss(self):
        return YoloLoss(box_weight=self.box_weight, noobj_weight=self.noobj_weight)

    def _input_signature(self):
        size = self.image_size
        return {
            "images": tf.TensorSpec([None, size, size, 3], tf.uint8),
            "transforms": tf.TensorSpec([None, 4], tf.float32),
            "sizes": tf.TensorSpec([None, 2], tf.float32),
            "thresholds": tf.TensorSpec([None, 2], tf.float32),
        }

    def _dataset_inputs(self, features):
        images = features[..., tf.newaxis] if features.shape.rank == 3 else features
        if images.shape[-1] == 1:
            images = tf.tile(images, [1, 1, 1, 3])
        return self._with_thresholds(letterbox(images, self.image_size))

    def _learn_meta_from_dataset(self, dataset) -> dict:
        images_spec, targets_spec = dataset.element_spec[:2]
        if images_spec.shape.rank not in (3, 4) or images_spec.shape[-1] not in (
            1,
            3,
            None,
        ):
            raise ValueError(
                "`X` as a tf.data.Dataset must yield batches of images (batch, "
                "height, width[, 1 or 3 channels]). Received elements of shape "
                f"{images_spec.shape}."
            )
        if not isinstance(targets_spec, dict) or set(targets_spec) != {
            "boxes",
            "labels",
        }:
            raise ValueError(
                "`X` as a tf.data.Dataset must yield (images, targets) with targets "
                "a dict of 'boxes' (batch, M, 4) and 'labels' (batch, M), ragged or "
                f"padded with label -1. Received targets: {targets_spec}"
            )
        targets, sizes, transforms = [], [], []
        for images, batch in dataset:
            # only where the images would go: the pixels are not needed here
            _, transform = letterbox_geometry(tf.shape(images)[1:3], self.image_size)
            n = int(images.shape[0])
            transforms += [transform.numpy()] * n
            sizes += [tuple(images.shape[1:3])] * n
            targets += data.target_dicts(batch)
        prepared = self._prepare_targets(targets, reset=True)
        self._match_targets({"sizes": np.array(sizes)}, prepared)
        return self._learn_meta({"transforms": np.array(transforms)}, prepared)

    # --------------------------------------------------------------- decoding
    def _decode(self, raw) -> dict:
        """Every cell and anchor's box (letterboxed pixels), score and class."""
        anchors = tf.constant(self.meta_["anchors"], tf.float32)
        boxes, scores, labels = decode_grid(raw, anchors, stride=STRIDE)
        return {"boxes": boxes, "scores": scores, "labels": labels}

    def _detect(self, inputs, model) -> tuple:
        """Boxes (letterboxed pixels), scores, labels, counts of ``model``'s NMS."""
        model_inputs, _ = self._encode(inputs, None, training=False)
        candidates = self._decode(model(model_inputs, training=False))
        thresholds = inputs["thresholds"][0]  # one pair for the whole call
        return batched_nms(
            candidates["boxes"],
            candidates["scores"],
            candidates["labels"],
            n_classes=len(self.classes_),
            iou_threshold=thresholds[1],
            score_threshold=thresholds[0],
            max_detections=self.max_detections,
        )

    def _outputs(self, inputs) -> dict:
        """Detections after per-class NMS, in the original images' pixels."""
        boxes, scores, labels, count = self._detect(inputs, self._inference_model)
        boxes = unletterbox_boxes(boxes, inputs["transforms"], inputs["sizes"])
        valid = tf.range(self.max_detections)[None, :] < count[:, None]
        return {
            "boxes": tf.where(valid[..., None], boxes, 0.0),
            "scores": scores,
            "labels": self._labels_tf(labels),
            "num_detections": count,
        }

    def _sample_images(self, inputs, targets) -> list:
        inputs = {k: tf.convert_to_tensor(v) for k, v in inputs.items()}
        boxes, _, _, count = self._detect(inputs, self.model_)
        true = letterbox_boxes(targets[..., :4], inputs["transforms"]).numpy()
        return box_samples(
            inputs["images"].numpy(),
            [b[t[:, 4] >= 0] for b, t in zip(true, targets, strict=True)],
            [b[:n] for b, n in zip(boxes.numpy(), count.numpy(), strict=True)],
        )

    # -------------------------------------------------------------- predict
    def _check_thresholds(self, score_threshold, iou_threshold) -> None:
        check_number("score_threshold", score_threshold, low=0, high=1, allow_none=True)
        check_number("iou_threshold", iou_threshold, low=0, high=1, allow_none=True)

    def _detections(self, X, score_threshold=None, iou_threshold=None) -> tuple:
        """Per-image detection dicts of ``X``, and the images' sizes."""
        check_is_fitted(self)
        self._check_thresholds(score_threshold, iou_threshold)
        inputs = self._prepare_inputs(X, reset=False)
        sizes = inputs["sizes"]
        inputs = self._with_thresholds(inputs, score_threshold, iou_threshold)
        out = self._predict_prepared(inputs)
        labels = self._labels_from_tf(out["labels"])
        detections = [
            {
                "boxes": out["boxes"][i, :n],
                "scores": out["scores"][i, :n],
                "labels": labels[i, :n],
            }
            for i, n in enumerate(out["num_detections"])
        ]
        return detections, sizes

    def predict(self, X, *, score_threshold=None, iou_threshold=None) -> list[dict]:
        """Detected boxes of each image, best first.

        Parameters
        ----------
        X : array-like, list of arrays or list of paths
            Images (any sizes) or image files.
        score_threshold : float, optional
            Overrides the ``score_threshold`` parameter for this call.
        iou_threshold : float, optional
            Overrides the ``iou_threshold`` parameter for this call.

        Returns
        -------
        list of dict
            Per image: ``boxes`` (N, 4) ``x1 y1 x2 y2`` in the image's pixels,
            ``scores`` (N,) and ``labels`` (N,) from ``classes_``.
        """
        return self._detections(X, score_threshold, iou_threshold)[0]

    def evaluate(
        self, X, y, *, score_threshold: float = EVALUATION_SCORE_THRESHOLD
    ) -> dict:
        """COCO box metrics of the detections of ``X`` against ``y``.

        Parameters
        ----------
        X : array-like, list of arrays or list of paths
            Images.
        y : list
            True targets, as in ``fit``.
        score_threshold : float, default=0.001
            Lowest score kept: mAP integrates the whole precision-recall
            curve, so it is computed over low-scoring boxes too, as COCO
            evaluation does.

        Returns
        -------
        dict
            ``map`` (mAP@[.5:.95]), ``map_50``, ``map_75``, ``recall``, and
            ``per_class_ap`` and ``per_class_recall`` (label to value).
        """
        check_is_fitted(self)
        detections, sizes = self._detections(X, score_threshold)
        true = self._checked(y, sizes)
        pred = [(d["boxes"], d["scores"], d["labels"]) for d in detections]
        return detection_map(true, pred, max_detections=self.max_detections)

    def score(self, X, y, sample_weight=None) -> float:
        """mAP at IoU 0.5 of the detections of ``X`` (greater is better).

        Parameters
        ----------
        X : array-like, list of arrays or list of paths
            Images.
        y : list
            True targets, as in ``fit``.
        sample_weight : None
            Not supported (mAP has no per-image weights); must be None.

        Returns
        -------
        float
            COCO-style mAP@0.5 (score threshold 0.001).
        """
        if sample_weight is not None:
            raise ValueError(
                "`sample_weight` is not supported by ObjectDetector.score (mAP "
                f"has no per-image weights). Received: {type(sample_weight).__name__}"
            )
        return float(self.evaluate(X, y)["map_50"])

    # ----------------------------------------------------------------- export
    def _serving_inputs(self, served):
        return self._with_thresholds(letterbox(served["images"], self.image_size))
