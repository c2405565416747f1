"""What a face recognizer's data goes through before the model: face crops
(by ``align``) and identities, and the validation split by person."""

import os

import numpy as np
import pandas as pd

from applied_ml._validation import check_choice
from applied_ml.vision import _data
from applied_ml.vision import _detection_data as images_data
from applied_ml.vision._face_align import mtcnn_faces
from applied_ml.vision._face_crop import CENTER_MARGIN, crop_faces
from applied_ml.vision._face_model import FACE_BACKBONES, FACE_SIZES
from applied_ml.vision._gallery import known_names
from applied_ml.vision._verification import check_found

ALIGNMENTS = ("center", "mtcnn")


class FaceInputsMixin:
    """Mixin of ``FaceRecognizer``: crops, identities and the person split."""

    def _check_crop_params(self) -> None:
        """The parameters ``crop_faces`` reads (checked on every call)."""
        check_choice("backbone", self.backbone, FACE_BACKBONES)
        if self.align is not None:
            check_choice("align", self.align, ALIGNMENTS)
        self._size()

    def _size(self) -> tuple[int, int]:
        return _data.image_size_pair(self.image_size, FACE_SIZES[self.backbone])

    def _margin(self) -> float:
        return 0.0 if self.align is None else CENTER_MARGIN

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
            return mtcnn_faces(images, self._size())
        faces = crop_faces(images, self._size(), self._margin())
        return faces, np.ones(len(faces), bool)

    def _match_targets(self, inputs: dict, targets) -> None:
        check_found(inputs["found"], "fit")

    def _prepare_targets(self, y, *, reset: bool) -> np.ndarray:
        y = known_names(y, "y")
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
