"""FaceRecognizer: triplet-loss face embeddings, verification and identification."""

import os

import numpy as np
import tensorflow as tf
from sklearn.utils import ClassifierTags

from applied_ml._docs import fill
from applied_ml._validation import check_choice, check_number
from applied_ml.base import KerasEstimator
from applied_ml.data import read_batches, steps
from applied_ml.vision import _data
from applied_ml.vision._augment import (
    AUGMENTATIONS,
    check_augmentation,
    make_augmenter,
)
from applied_ml.vision._face_align import align_faces
from applied_ml.vision._face_crop import center_faces
from applied_ml.vision._face_inputs import FaceInputsMixin
from applied_ml.vision._face_model import (
    FACE_SIZES,
    build_face_embedder,
    trunk_of,
)
from applied_ml.vision._face_pairs import (
    THRESHOLD_TARGETS,
)
from applied_ml.vision._gallery import GalleryMixin
from applied_ml.vision._models import train_top
from applied_ml.vision._pk_batches import pk_dataset
from applied_ml.vision._verification import VerificationMixin
from applied_ml.vision.triplet import MINING, TripletLoss

FACE_AUGMENTATIONS = ("flip", "translation", "brightness", "contrast")


class FaceRecognizer(FaceInputsMixin, GalleryMixin, VerificationMixin, KerasEstimator):
    __doc__ = fill(
        """Face verification and one-shot identification with triplet-loss embeddings.

    Each face is cropped (``align``) and mapped to a unit vector; two faces
    are the same person when their Euclidean distance is at most
    ``threshold_``. ``fit`` trains the embedding with triplet loss on
    batches of ``identities_per_batch`` people x ``images_per_identity``
    images, then tunes ``threshold_`` on pairs of people held out of
    training (a threshold tuned on the training people, whom the model
    separates perfectly, would be far too loose), and enrolls the training
    images in the gallery. ``enroll`` adds people (one image each is
    enough), and ``identify`` names the nearest enrolled person, or
    ``"unknown"`` when even the nearest is beyond the threshold.

    An epoch is as many P x K batches, drawn at random, as the training
    images fill; ``epochs`` and ``fine_tune_epochs`` count those.

    ``export`` writes a SavedModel with two endpoints: ``serving_default``
    identifies against the gallery exported with it (``identity``, the
    names as strings, ``"unknown"`` or ``"no face"``, and ``distance``),
    ``embed`` returns ``embeddings``. Both take ``images``: uint8 (n, height,
    width, channels) of any size, 1 or 3 channels, and crop them as
    ``crop_faces`` does, MTCNN included.

    Parameters
    ----------
    backbone : {{"efficientnet_lite0", "face_resnet", "small_cnn"}}, \
default="efficientnet_lite0"
        ``"face_resnet"``: a pretrained 128-d face descriptor (a ResNet port
        of dlib's, read offline from npm's ``@vladmandic/face-api``; see
        ``make face-api``), usable without training. ``"efficientnet_lite0"``:
        ImageNet features with a dense projection trained here.
        ``"small_cnn"``: a small network trained from scratch.
    image_size : int or tuple of (int, int), optional
        Height and width (or one side of a square) the face crop is resized
        to; the backbone's own when None: 150 x 150 for ``"face_resnet"``
        (which needs it), 192 x 160 for Lite0, 80 x 64 for the small CNN.
    align : {{"center", "mtcnn", None}}, default=None
        None: the images are face crops; each whole image is used.
        ``"center"``: the images are photos framed on one face; the face is
        the centred box left after cutting 10% of the height and width from
        each side. ``"mtcnn"``: the MTCNN detector (``pip install mtcnn``)
        finds the largest face and its eyes, nose and mouth corners, and the
        image is warped so they land where dlib's aligned crops have them
        (what ``"face_resnet"`` was trained on). A crop of another aspect
        ratio than ``image_size`` is stretched to it. See ``crop_faces``.
    embedding_dim : int, default=128
        Size of the embedding (128 for ``"face_resnet"``).
    margin : float, default=0.2
        Triplet loss margin, in the embedding's Euclidean distance (0-2 for
        unit vectors).
    mining : {{"batch_hard", "semi_hard"}}, default="semi_hard"
        How triplets are mined in each batch (see ``TripletLoss``).
    identities_per_batch : int, default=8
        People per training batch (P).
    images_per_identity : int, default=4
        Images of each person per training batch (K); people with fewer
        images repeat some.
    fine_tune_layers : int, default=0
        Top layers (with weights) of a pretrained backbone unfrozen in a
        second training phase, the standard recipe: Lite0's projection first
        trains on the frozen trunk (``learning_rate``, ``epochs``), then the
        top of the trunk trains with it (``fine_tune_learning_rate``,
        ``fine_tune_epochs``). ``"face_resnet"`` has no new layers: only the
        second phase runs, and with 0 nothing trains (``fit`` only tunes the
        threshold and enrolls). Must be 0 for ``"small_cnn"``.
    fine_tune_learning_rate : float, default=1e-5
        Learning rate of the fine-tuning phase.
    fine_tune_epochs : int, default=10
        Maximum epochs of the fine-tuning phase.
    augmentation : tuple of str or None, default=("flip", "translation", \
"brightness", "contrast")
        Random training transforms of the face crops, from "flip",
        "rotation", "zoom", "translation", "contrast", "brightness", "crop".
    threshold_target : "balanced_accuracy" or float, default="balanced_accuracy"
        What the verification threshold is tuned for: the best balanced
        accuracy on the held-out pairs, or a float in (0, 1), the
        false-accept rate not to exceed (the most true accepts within it).
{training}
{run}

    Attributes
    ----------
    threshold_ : float or None
        Verification threshold; None after a fit without held-out people
        (``validation_fraction=0``) until :meth:`tune_threshold`.
    threshold_scores_ : dict
        Verification scores on the pairs the threshold was tuned on.
    identities_ : ndarray
        The people of the training data, sorted.
    gallery_embeddings_ : ndarray of shape (n_enrolled, embedding_dim)
        Embeddings of the enrolled images.
    gallery_names_ : ndarray of shape (n_enrolled,)
        The person of each enrolled image.
    model_ : keras.Model
        The embedding network: face crops of ``image_size`` (0-255) in, unit
        vectors out.
    history_ : dict
        Per-epoch training and validation triplet loss.
    n_iter_ : int
        Number of epochs run.
    meta_ : dict
        What the model builder learned from the training data.

    Examples
    --------
    >>> from applied_ml.datasets import load_att_faces
    >>> from applied_ml.vision import FaceRecognizer
    >>> images, people = load_att_faces("att_faces")  # doctest: +SKIP
    >>> seen = people <= 30  # doctest: +SKIP
    >>> faces = FaceRecognizer(epochs=10)
    >>> faces.fit(images[seen], people[seen])  # doctest: +SKIP
    >>> new, names = images[~seen], people[~seen]  # doctest: +SKIP
    >>> faces.enroll(new[::10], names[::10], replace=True)  # doctest: +SKIP
    >>> faces.identify(new[1::10])  # doctest: +SKIP
    """,
        optimizer="adam",
        learning_rate=0.001,
        epochs=30,
        patience=5,
        batch_size=None,
        validation_fraction=0.2,
    )

    _predict_batch = 128

    def __init__(
        self,
        *,
        backbone="efficientnet_lite0",
        image_size=None,
        align=None,
        embedding_dim=128,
        margin=0.2,
        mining="semi_hard",
        identities_per_batch=8,
        images_per_identity=4,
        fine_tune_layers=0,
        fine_tune_learning_rate=1e-5,
        fine_tune_epochs=10,
        augmentation=FACE_AUGMENTATIONS,
        threshold_target="balanced_accuracy",
        optimizer="adam",
        learning_rate=0.001,
        epochs=30,
        max_steps=None,
        early_stopping=True,
        patience=5,
        validation_fraction=0.2,
        warm_start=False,
        checkpoint_dir=None,
        log_dir=None,
        callbacks=None,
        strategy="auto",
        random_state=None,
        verbose=0,
    ):
        self.backbone = backbone
        self.image_size = image_size
        self.align = align
        self.embedding_dim = embedding_dim
        self.margin = margin
        self.mining = mining
        self.identities_per_batch = identities_per_batch
        self.images_per_identity = images_per_identity
        self.fine_tune_layers = fine_tune_layers
        self.fine_tune_learning_rate = fine_tune_learning_rate
        self.fine_tune_epochs = fine_tune_epochs
        self.augmentation = augmentation
        self.threshold_target = threshold_target
        self.optimizer = optimizer
        self.learning_rate = learning_rate
        self.epochs = epochs
        self.max_steps = max_steps
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

    @property
    def batch_size(self) -> int:
        """Images per training batch: ``identities_per_batch * images_per_identity``."""
        return self.identities_per_batch * self.images_per_identity

    # ----------------------------------------------------------------- checks
    def _check_params(self) -> None:
        self._check_crop_params()
        check_number(
            "identities_per_batch", self.identities_per_batch, integer=True, low=2
        )
        check_number(
            "images_per_identity", self.images_per_identity, integer=True, low=2
        )
        super()._check_params()
        if self._size() != FACE_SIZES["face_resnet"] and self.backbone == "face_resnet":
            raise ValueError(
                "`image_size` must be None or 150 for backbone='face_resnet', the "
                "crop its weights were trained on. Received: "
                f"image_size={self.image_size!r}"
            )
        check_number("embedding_dim", self.embedding_dim, integer=True, low=2)
        if self.backbone == "face_resnet" and self.embedding_dim != 128:
            raise ValueError(
                "`embedding_dim` must be 128 for backbone='face_resnet' (its "
                f"descriptor's size). Received: embedding_dim={self.embedding_dim!r}"
            )
        check_number("margin", self.margin, low=0)
        check_choice("mining", self.mining, MINING)
        check_number("fine_tune_layers", self.fine_tune_layers, integer=True, low=0)
        check_number(
            "fine_tune_learning_rate",
            self.fine_tune_learning_rate,
            low=0,
            low_inclusive=False,
        )
        check_number("fine_tune_epochs", self.fine_tune_epochs, integer=True, low=1)
        if self.backbone == "small_cnn" and self.fine_tune_layers:
            raise ValueError(
                "`fine_tune_layers` applies to pretrained backbones; 'small_cnn' "
                "trains all its layers, so it must be 0. "
                f"Received: fine_tune_layers={self.fine_tune_layers!r}"
            )
        check_augmentation(self.augmentation, AUGMENTATIONS)
        target = self.threshold_target
        if not (
            target in THRESHOLD_TARGETS
            or (
                isinstance(target, float | int)
                and not isinstance(target, bool)
                and 0 < target < 1
            )
        ):
            raise ValueError(
                "`threshold_target` must be 'balanced_accuracy' or a false-accept "
                f"rate in (0, 1). Received: threshold_target={target!r}"
            )

    # ------------------------------------------------------------------ data
    def fit(self, X, y=None, sample_weight=None):
        """Train the embedding, tune the threshold, enroll the training images.

        Parameters
        ----------
        X : array-like, list of arrays or paths, str or tf.data.Dataset
            Face images: an array (n, height, width[, channels]) with values
            0-255, a list of images of any sizes or of image files, a folder
            with one sub-folder of images per person (``y`` must be None),
            or a ``tf.data.Dataset`` of ``(images, identities)`` batches
            (read into memory: batches of P people x K images need every
            image of a person at hand).
        y : array-like of shape (n_samples,), optional
            The person in each image: strings or numbers. At least 2
            people, each with at least 2 images.
        sample_weight : array-like of shape (n_samples,), optional
            Per-image weights of the loss (the image as anchor).

        Returns
        -------
        self
            The fitted recognizer.
        """
        if isinstance(X, tf.data.Dataset):
            if y is not None or sample_weight is not None:
                raise ValueError(
                    "When `X` is a tf.data.Dataset it yields the identities: `y` "
                    "and `sample_weight` must be None. Received: "
                    f"y={type(y).__name__}, "
                    f"sample_weight={type(sample_weight).__name__}"
                )
            spec = X.element_spec
            if not isinstance(spec, tuple) or len(spec) != 2:
                raise ValueError(
                    "`X` as a tf.data.Dataset must yield (images, identities) "
                    "batches (per-image weights: pass arrays and sample_weight). "
                    f"Received elements of structure: {spec}"
                )
            X, y = read_batches(X, (0, 1))
        elif isinstance(X, str | os.PathLike) and os.path.isdir(X):
            if y is not None:
                raise ValueError(
                    "`y` must be None when `X` is a folder of people: the identities "
                    f"are its sub-folder names. Received: X={os.fspath(X)!r} and a y."
                )
            X, y = _data.folder_dataset(os.fspath(X))
        super().fit(X, y, sample_weight=sample_weight)
        examples = self.__dict__.pop("_fit_examples")
        self._tune_and_enroll(*examples)
        return self

    def _learn_meta(self, inputs: dict, targets: np.ndarray) -> dict:
        self.identities_ = self._fit_names
        return {
            "image_size": list(self._size()),
            "n_identities": int(len(np.unique(targets))),
        }

    def _build_model(self, meta: dict):
        return build_face_embedder(
            meta,
            backbone=self.backbone,
            embedding_dim=self.embedding_dim,
        )

    def _loss(self):
        return TripletLoss(margin=self.margin, mining=self.mining)

    def _input_signature(self):
        return {
            "images": tf.TensorSpec([None, *self._size(), 3], tf.uint8),
            "found": tf.TensorSpec([None], tf.bool),
        }

    # --------------------------------------------------------------- batches
    def _examples_pipeline(self, parts: dict, *, training: bool):
        """P x K batches: fresh draws every training epoch, fixed for validation."""
        dataset = pk_dataset(
            parts,
            self.identities_per_batch,
            self.images_per_identity,
            steps(len(parts["targets"]), self.batch_size),
            self._fit_seed,
            training=training,
        )
        return self._encoded(dataset, training=training)

    def _encoded(self, dataset, *, training: bool):
        if training and self.augmentation:
            # random layers hold state variables: one augmenter per training
            # pipeline, called one batch at a time so a seeded fit repeats
            self._train_augment = make_augmenter(
                self.augmentation, self._size(), self._fit_seed
            )
            return super()._encoded(dataset, training=training, parallel=False)
        return super()._encoded(dataset, training=training)

    def _encode(self, inputs, targets, *, training: bool):
        images = tf.cast(inputs["images"], tf.float32)
        if training and self.augmentation:
            images = tf.clip_by_value(
                self._train_augment(images, training=True), 0, 255
            )
        return images, targets

    def _decode(self, raw) -> dict:
        return {"embeddings": raw}

    def _outputs(self, inputs) -> dict:
        embeddings = super()._outputs(inputs)["embeddings"]
        found = inputs["found"][:, tf.newaxis]
        return {"embeddings": tf.where(found, embeddings, float("nan"))}

    def _phases(self) -> tuple:
        tune = ("fine_tune",) if self.fine_tune_layers else ()
        if self.backbone == "face_resnet":
            return tune  # no new layers: nothing to train before the trunk
        return ("train", *tune)

    def _fit_phase(self, phase: str, data) -> dict:
        if phase == "train":
            if self.backbone == "efficientnet_lite0":
                # frozen again when a warm start follows a fine-tuning phase
                train_top(trunk_of(self.model_), 0)
                self._compile(self.learning_rate)
            return super()._fit_phase(phase, data)
        train_top(trunk_of(self.model_), self.fine_tune_layers)
        self._compile(self.fine_tune_learning_rate)
        return self._run_fit(
            self.model_,
            data.train,
            data.validation,
            self.fine_tune_epochs,
            data.steps_per_epoch,
            phase=phase,
        )

    def _after_fit(self, data) -> None:
        self.__dict__.pop("_train_augment", None)
        names = self.__dict__.pop("_fit_names")
        self._fit_examples = (data.train_examples, data.validation_examples, names)

    def _tune_and_enroll(self, train: dict, validation: dict | None, names) -> None:
        """Threshold on the held-out people, gallery of every fit image."""
        parts = [train] if validation is None else [train, validation]
        embeddings = [self._predict_prepared(p["inputs"])["embeddings"] for p in parts]
        if not self._phases():
            # nothing was trained: every person is unseen by the model
            tuning = (
                np.concatenate(embeddings),
                np.concatenate([p["targets"] for p in parts]),
            )
        elif validation is not None:
            tuning = (embeddings[1], validation["targets"])
        else:
            tuning = None
        self.threshold_ = None
        self.threshold_scores_ = {}
        if tuning is not None:
            self._set_threshold(*tuning)
        self.gallery_embeddings_ = np.concatenate(embeddings)
        self.gallery_names_ = names[np.concatenate([p["targets"] for p in parts])]

    # ------------------------------------------------------------------ export
    def _endpoints(self) -> dict:
        size, margin = self._size(), self._margin()
        identify = self._serving_identify()
        signature = {
            "images": tf.TensorSpec([None, None, None, None], tf.uint8, name="images")
        }

        def embed(served):
            if self.align == "mtcnn":
                faces, found = align_faces(served["images"], size)
            else:
                faces = center_faces(served["images"], size, margin)
                found = tf.ones(tf.shape(faces)[:1], tf.bool)
            return self._outputs({"images": faces, "found": found})

        def serve(served):
            return identify(embed(served)["embeddings"])

        return {"serving_default": (serve, signature), "embed": (embed, signature)}

    def __sklearn_tags__(self):
        tags = super().__sklearn_tags__()
        tags.input_tags.two_d_array = False
        tags.input_tags.three_d_array = True
        tags.target_tags.required = True
        tags.non_deterministic = self.random_state is None
        # predict names people and score is accuracy: a classifier to
        # scikit-learn, whose cross-validation then stratifies by person, so
        # every person has photos in each fold's gallery
        tags.estimator_type = "classifier"
        tags.classifier_tags = ClassifierTags()
        return tags
