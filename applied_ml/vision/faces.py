"""FaceRecognizer: triplet-loss face embeddings, verification and identification."""

import itertools
import os

import numpy as np
import pandas as pd
import tensorflow as tf
from sklearn.utils import ClassifierTags
from sklearn.utils.validation import check_is_fitted

from applied_ml._docs import fill
from applied_ml._validation import check_choice, check_number
from applied_ml.base import KerasEstimator
from applied_ml.data import read_batches, steps, take
from applied_ml.vision import _data
from applied_ml.vision import _detection_data as images_data
from applied_ml.vision._augment import (
    AUGMENTATIONS,
    check_augmentation,
    make_augmenter,
)
from applied_ml.vision._face_align import align_faces, detect_landmarks
from applied_ml.vision._face_crop import CENTER_MARGIN, center_faces, crop_faces
from applied_ml.vision._face_model import (
    FACE_BACKBONES,
    FACE_SIZES,
    build_face_embedder,
    trunk_of,
)
from applied_ml.vision._face_pairs import (
    THRESHOLD_TARGETS,
    all_pairs,
    choose_threshold,
    verification_scores,
)
from applied_ml.vision._gallery import GalleryMixin, names_array
from applied_ml.vision._models import train_top
from applied_ml.vision._pk_batches import pk_batches
from applied_ml.vision.triplet import MINING, TripletLoss

ALIGNMENTS = ("center", "mtcnn")
FACE_AUGMENTATIONS = ("flip", "translation", "brightness", "contrast")


class FaceRecognizer(GalleryMixin, KerasEstimator):
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
    names as strings or ``"unknown"``, and ``distance``), ``embed`` returns
    ``embeddings``. Both take ``images``: uint8 (n, height, width, channels)
    of any size, 1 or 3 channels; with ``align="mtcnn"``, ``faces``: the
    crops of ``crop_faces`` instead.

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
        self.callbacks = callbacks
        self.strategy = strategy
        self.random_state = random_state
        self.verbose = verbose

    @property
    def batch_size(self) -> int:
        """Images per training batch: ``identities_per_batch * images_per_identity``."""
        return self.identities_per_batch * self.images_per_identity

    # ----------------------------------------------------------------- checks
    def _check_crop_params(self) -> None:
        """The parameters ``crop_faces`` reads (checked on every call)."""
        check_choice("backbone", self.backbone, FACE_BACKBONES)
        if self.align is not None:
            check_choice("align", self.align, ALIGNMENTS)
        self._size()

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

    def _size(self) -> tuple[int, int]:
        return _data.image_size_pair(self.image_size, FACE_SIZES[self.backbone])

    def _margin(self) -> float:
        return 0.0 if self.align is None else CENTER_MARGIN

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

    def _prepare_inputs(self, X, *, reset: bool) -> dict:
        if isinstance(X, str | os.PathLike) and os.path.isdir(X):
            raise ValueError(
                "A folder of people holds its own identities: pass it to `fit` "
                f"without `y`; elsewhere pass images or image files. Received: "
                f"X={os.fspath(X)!r}"
            )
        faces, found = self.crop_faces(X)
        return {"images": faces, "found": found}

    def crop_faces(self, X) -> tuple[np.ndarray, np.ndarray]:
        """The face crops the network takes, as ``align`` makes them.

        Parameters
        ----------
        X : array-like, list of arrays or list of paths
            Images (any sizes) or image files.

        Returns
        -------
        faces : ndarray of shape (n, height, width, 3), uint8
            One crop of ``image_size`` per image (black where no face was
            found).
        found : ndarray of shape (n,), bool
            False for images in which ``align="mtcnn"`` found no face.
        """
        self._check_crop_params()
        images = images_data.as_images(X)
        if self.align == "mtcnn":
            points = detect_landmarks(images)
            found = ~np.isnan(points).any(axis=(1, 2))
            return align_faces(images, points, self._size()), found
        faces = crop_faces(images, self._size(), self._margin())
        return faces, np.ones(len(faces), bool)

    def _match_targets(self, inputs: dict, targets) -> None:
        _check_found(inputs["found"], "fit")

    def _prepare_targets(self, y, *, reset: bool) -> np.ndarray:
        y = names_array(y)
        missing = pd.isna(y)
        if missing.any():
            first = int(np.flatnonzero(missing)[0])
            raise ValueError(
                f"`y` contains {int(missing.sum())} missing identities (None or NaN), "
                f"the first at position {first}. Received: y[{first}]={y[first]!r}"
            )
        try:
            codes, names = pd.factorize(y, sort=True)
        except TypeError:  # names of several types: in order of appearance
            codes, names = pd.factorize(y)
        names = np.asarray(names, dtype=object)
        counts = np.bincount(codes, minlength=len(names))
        if len(names) < 2:
            raise ValueError(
                "`y` must name at least 2 people: every anchor needs a negative, "
                f"every threshold pairs of different people. Received images of 1 "
                f"person: {names[0]!r}."
            )
        lonely = names[counts < 2]
        if lonely.size:
            raise ValueError(
                "`y` must give every person at least 2 images (an anchor and a "
                f"positive, a pair of one person). Received {lonely.size} person(s) "
                f"with 1 image: {lonely.tolist()[:10]}."
            )
        self._fit_names = names  # codes -> identities, for this fit only
        return codes.astype(np.int64)

    def _split(self, n: int, targets: np.ndarray):
        """Hold out whole people: the threshold is tuned on unseen identities."""
        if self.validation_fraction == 0:
            return np.arange(n), None
        people = np.unique(targets)
        n_val = max(2, int(np.ceil(len(people) * self.validation_fraction)))
        if len(people) - n_val < 2:
            raise ValueError(
                f"`validation_fraction={self.validation_fraction}` holds out {n_val} "
                f"of the {len(people)} people, leaving fewer than 2 to train on (the "
                "split is by person, at least 2 each side). Use more people or set "
                "validation_fraction=0 and early_stopping=False. Received: "
                f"validation_fraction={self.validation_fraction!r}"
            )
        rng = np.random.default_rng(self._fit_seed)
        held_out = np.isin(targets, rng.choice(people, size=n_val, replace=False))
        return np.flatnonzero(~held_out), np.flatnonzero(held_out)

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
        identities = parts["targets"]
        n_batches = steps(len(identities), self.batch_size)
        seed = 0 if self._fit_seed is None else self._fit_seed
        epochs = itertools.count()

        def batches():
            if not training:
                rng = np.random.default_rng([seed, 1])
            elif self._fit_seed is None:
                rng = np.random.default_rng()
            else:
                rng = np.random.default_rng([seed, 0, next(epochs)])
            for rows in pk_batches(
                identities,
                self.identities_per_batch,
                self.images_per_identity,
                n_batches,
                rng,
            ):
                yield take(parts, rows)

        spec = tf.nest.map_structure(
            lambda a: tf.TensorSpec((None, *a.shape[1:]), tf.as_dtype(a.dtype)), parts
        )
        dataset = tf.data.Dataset.from_generator(batches, output_signature=spec)
        dataset = dataset.apply(tf.data.experimental.assert_cardinality(n_batches))
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

    def _set_threshold(self, embeddings: np.ndarray, identities: np.ndarray) -> None:
        distances, same = all_pairs(embeddings, identities)
        self.threshold_ = choose_threshold(distances, same, self.threshold_target)
        self.threshold_scores_ = verification_scores(distances, same, self.threshold_)

    # ------------------------------------------------------------ embeddings
    def embed(self, X) -> np.ndarray:
        """The embedding of each face.

        Parameters
        ----------
        X : array-like, list of arrays or list of paths
            Face images (any sizes) or image files.

        Returns
        -------
        ndarray of shape (n_samples, embedding_dim)
            Unit vectors (float32); NaN rows for images in which
            ``align="mtcnn"`` found no face.
        """
        return self._predict_outputs(X)["embeddings"]

    def distance(self, images_a, images_b) -> np.ndarray:
        """Euclidean distance between the embeddings of paired images.

        Parameters
        ----------
        images_a, images_b : array-like, list of arrays or list of paths
            Two sequences of the same length; row i of one pairs with row i
            of the other.

        Returns
        -------
        ndarray of shape (n_pairs,)
            Distances, 0 (identical) to 2 (opposite).
        """
        a, b = self.embed(images_a), self.embed(images_b)
        if len(a) != len(b):
            raise ValueError(
                "`images_a` and `images_b` must hold the same number of images (row i "
                "of one pairs with row i of the other). Received: "
                f"{len(a)} images in images_a and {len(b)} in images_b."
            )
        return np.linalg.norm(a.astype(np.float64) - b, axis=1)

    def verify(self, images_a, images_b) -> np.ndarray:
        """Whether each pair of images shows the same person.

        Parameters
        ----------
        images_a, images_b : array-like, list of arrays or list of paths
            Two sequences of the same length.

        Returns
        -------
        ndarray of shape (n_pairs,), bool
            True where the distance is at most ``threshold_``.
        """
        check_is_fitted(self)
        self._check_threshold()
        return self.distance(images_a, images_b) <= self.threshold_

    def tune_threshold(self, X, y):
        """Tune ``threshold_`` on every pair of these images of held-out people.

        Parameters
        ----------
        X : array-like, list of arrays or list of paths
            Face images of people the model was not trained on.
        y : array-like of shape (n_samples,)
            The person in each image (at least 2 people with 2 images each).

        Returns
        -------
        self
            The recognizer with its new threshold.
        """
        check_is_fitted(self)
        identities = self._prepare_targets(y, reset=False)
        self.__dict__.pop("_fit_names", None)
        self._set_threshold(
            self._embed_matching(X, identities, "tune_threshold"), identities
        )
        return self

    def evaluate(self, X, y) -> dict:
        """Verification over every pair of ``X``, identification against the gallery.

        Parameters
        ----------
        X : array-like, list of arrays or list of paths
            Face images.
        y : array-like of shape (n_samples,)
            The person in each image.

        Returns
        -------
        dict
            ``accuracy`` (rank-1 identification against the gallery), and
            over all pairs of ``X``: ``roc_auc``, ``n_pairs``, ``n_same`` and,
            with a threshold, ``balanced_accuracy``, ``true_accept_rate``,
            ``false_accept_rate`` and ``pair_accuracy``.
        """
        check_is_fitted(self)
        y = names_array(y)
        embeddings = self._embed_matching(X, y, "evaluate")
        scores = verification_scores(*all_pairs(embeddings, y), self.threshold_)
        names = self._identify_embeddings(embeddings, 1, "unknown")[0][:, 0]
        scores["accuracy"] = float(np.mean(names == y))
        return scores

    def _embed_matching(self, X, y, use: str) -> np.ndarray:
        """Embeddings of ``X``, which must match ``y`` and all show a face."""
        embeddings = self.embed(X)
        if len(embeddings) != len(y):
            label = "names" if use == "enroll" else "y"
            raise ValueError(
                f"`X` and `{label}` must have the same number of samples. Received: "
                f"{len(embeddings)} images in X and {len(y)} in {label}."
            )
        _check_found(~np.isnan(embeddings).any(axis=1), use)
        return embeddings

    def _check_threshold(self) -> None:
        if self.threshold_ is None:
            raise ValueError(
                "This FaceRecognizer has no verification threshold: it was fitted "
                "with validation_fraction=0, so no held-out people were left to tune "
                "it on. Call tune_threshold(images, identities) with people it was "
                "not trained on. Received: threshold_=None"
            )

    # ------------------------------------------------------------------ export
    def _endpoints(self) -> dict:
        size, margin = self._size(), self._margin()
        identify = self._serving_identify()
        if self.align == "mtcnn":
            # MTCNN runs NumPy between its networks: it cannot be part of a
            # graph, so these endpoints take the crops of crop_faces
            signature = {
                "faces": tf.TensorSpec([None, *size, 3], tf.uint8, name="faces")
            }
        else:
            signature = {
                "images": tf.TensorSpec(
                    [None, None, None, None], tf.uint8, name="images"
                )
            }

        def embed(served):
            if self.align == "mtcnn":
                faces = served["faces"]
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


def _check_found(found: np.ndarray, use: str) -> None:
    """Refuse images without a face where every image must have one."""
    if not found.all():
        missing = np.flatnonzero(~found)
        raise ValueError(
            f"No face was found in {missing.size} image(s) given to {use}, at "
            f"positions {missing.tolist()[:10]}: drop them, crop them by hand, or "
            f"use align='center'. Received: align='mtcnn' and images without a face."
        )
