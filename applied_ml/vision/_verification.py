"""Verification: embeddings, pair distances, the threshold and its scores.

:class:`VerificationMixin` gives ``FaceRecognizer`` the methods that compare
faces pairwise (``embed``, ``distance``, ``verify``, ``evaluate``) and the
tuning of ``threshold_`` on held-out people.
"""

import numpy as np
from sklearn.utils.validation import check_is_fitted

from applied_ml.vision._face_pairs import (
    all_pairs,
    choose_threshold,
    verification_scores,
)
from applied_ml.vision._gallery import names_array


class VerificationMixin:
    """Mixin of ``FaceRecognizer``: pairwise comparison and the threshold."""

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
        check_found(~np.isnan(embeddings).any(axis=1), use)
        return embeddings

    def _check_threshold(self) -> None:
        if self.threshold_ is None:
            raise ValueError(
                "This FaceRecognizer has no verification threshold: it was fitted "
                "with validation_fraction=0, so no held-out people were left to tune "
                "it on. Call tune_threshold(images, identities) with people it was "
                "not trained on. Received: threshold_=None"
            )


def check_found(found: np.ndarray, use: str) -> None:
    """Refuse images without a face where every image must have one."""
    if not found.all():
        missing = np.flatnonzero(~found)
        raise ValueError(
            f"No face was found in {missing.size} image(s) given to {use}, at "
            f"positions {missing.tolist()[:10]}: drop them, crop them by hand, or "
            f"use align='center'. Received: align='mtcnn' and images without a face."
        )
