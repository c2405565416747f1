"""A gallery of enrolled faces: enroll, identify, predict and score.

Identification is one TensorFlow function, run on the embeddings of
``predict`` and inside the exported SavedModel alike: the distance from each
query to every enrolled image, the nearest image of each person, the
``top_k`` nearest people.
"""

import numpy as np
import pandas as pd
import tensorflow as tf
from sklearn.utils.validation import check_is_fitted, column_or_1d

from applied_ml._validation import check_bool, check_number

UNKNOWN = "unknown"
# The answer for an image in which align="mtcnn" found no face.
NO_FACE = "no face"


def nearest_identities(embeddings, gallery, codes, n_names: int, k: int):
    """The ``k`` nearest people of each query and their distances.

    Parameters
    ----------
    embeddings : tensor of shape (n, dim)
        Queries.
    gallery : tensor of shape (m, dim)
        Enrolled embeddings.
    codes : tensor of shape (m,), int32
        Person index (0 to ``n_names - 1``) of each enrolled embedding.
    n_names : int
        Number of enrolled people.
    k : int
        People to return per query.

    Returns
    -------
    order : tensor of shape (n, k), int32
        Person indices, nearest first.
    distances : tensor of shape (n, k), float64
        Distance to each person's nearest enrolled embedding.
    """
    # float64, as the pair distances the threshold was tuned on
    embeddings = tf.cast(embeddings, tf.float64)
    gallery = tf.cast(gallery, tf.float64)
    squared = (
        tf.reduce_sum(tf.square(embeddings), axis=1)[:, None]
        - 2.0 * tf.matmul(embeddings, gallery, transpose_b=True)
        + tf.reduce_sum(tf.square(gallery), axis=1)[None, :]
    )
    distances = tf.sqrt(tf.maximum(squared, 0.0))
    per_person = tf.math.unsorted_segment_min(tf.transpose(distances), codes, n_names)
    negated, order = tf.math.top_k(-tf.transpose(per_person), k)
    return order, -negated


_nearest_identities = tf.function(nearest_identities, reduce_retracing=True)


def names_array(names) -> np.ndarray:
    """Names as a 1-D object array: strings and numbers kept as given."""
    values = names.to_numpy() if hasattr(names, "to_numpy") else names
    return column_or_1d(np.asarray(values, dtype=object))


def known_names(values, name: str) -> np.ndarray:
    """:func:`names_array` of ``values``, refusing missing names (None, NaN)."""
    names = names_array(values)
    missing = pd.isna(names)
    if missing.any():
        first = int(np.flatnonzero(missing)[0])
        raise ValueError(
            f"`{name}` contains {int(missing.sum())} missing names (None or NaN), "
            f"the first at position {first}. Received: {name}[{first}]="
            f"{names[first]!r}"
        )
    return names


def _plain(names: np.ndarray) -> np.ndarray:
    """Names as a plain array when they are all strings or all integers.

    scikit-learn's metrics take those, not an object array; names of mixed
    types (integers and ``"unknown"``) stay objects, never coerced.
    """
    values = names.ravel().tolist()
    if all(isinstance(v, str) for v in values):
        return names.astype(str)
    if all(isinstance(v, int | np.integer) and not isinstance(v, bool) for v in values):
        return names.astype(np.int64)
    return names


class GalleryMixin:
    """Mixin of ``FaceRecognizer``: the gallery and identification against it."""

    def enroll(self, X, names, *, replace: bool = False):
        """Add faces to the gallery (or start a new one).

        Parameters
        ----------
        X : array-like, list of arrays or list of paths
            Face images; one per person is enough.
        names : array-like of shape (n_samples,)
            The person in each image.
        replace : bool, default=False
            Start a new gallery with these faces instead of adding them (the
            gallery of a fit holds its training images).

        Returns
        -------
        self
            The recognizer with the enrolled faces.
        """
        check_is_fitted(self)
        check_bool("replace", replace)
        names = known_names(names, "names")
        embeddings = self._embed_matching(X, names, "enroll")
        if replace:
            self.gallery_embeddings_, self.gallery_names_ = embeddings, names
            return self
        self.gallery_embeddings_ = np.concatenate(
            [self.gallery_embeddings_, embeddings]
        )
        self.gallery_names_ = np.concatenate([self.gallery_names_, names])
        return self

    def identify(
        self, X, top_k: int = 1, *, return_distance: bool = False, unknown=UNKNOWN
    ):
        """The enrolled person nearest to each face, or ``unknown``.

        Parameters
        ----------
        X : array-like, list of arrays or list of paths
            Face images.
        top_k : int, default=1
            How many people to return per face, nearest first.
        return_distance : bool, default=False
            Also return the distance to each returned person's nearest
            enrolled image.
        unknown : object or None, default="unknown"
            The answer where the distance is beyond ``threshold_`` (at every
            rank of ``top_k``). None: always the nearest enrolled people,
            whatever their distance (as while ``threshold_`` is None).

        Returns
        -------
        names : ndarray of shape (n_samples,) or (n_samples, top_k)
            Enrolled names or ``unknown``; one column per rank when
            ``top_k > 1``. A string array when every answer is a string, an
            integer array when every answer is an integer, else an object
            array (integer names and ``"unknown"``: scikit-learn's named
            scorers refuse those; ``score`` takes them). ``"no face"``
            (distance NaN) for an image in which ``align="mtcnn"`` found no
            face.
        distances : ndarray, optional
            With ``return_distance``: the distances, of the same shape.
        """
        check_is_fitted(self)
        self._check_gallery()
        n_people = len(pd.unique(self.gallery_names_))
        check_number("top_k", top_k, integer=True, low=1, high=n_people)
        names, distances = self._identify_embeddings(self.embed(X), top_k, unknown)
        if top_k == 1:
            names, distances = names[:, 0], distances[:, 0]
        return (names, distances) if return_distance else names

    def predict(self, X) -> np.ndarray:
        """The enrolled person in each face, or ``"unknown"`` (as ``identify``).

        Parameters
        ----------
        X : array-like, list of arrays or list of paths
            Face images.

        Returns
        -------
        ndarray of shape (n_samples,)
            Names from the gallery, or ``"unknown"``.
        """
        return self.identify(X)

    def score(self, X, y, sample_weight=None) -> float:
        """Rank-1 identification accuracy against the gallery.

        Parameters
        ----------
        X : array-like, list of arrays or list of paths
            Face images.
        y : array-like of shape (n_samples,)
            The person in each image; ``"unknown"`` answers count as wrong
            unless ``y`` says ``"unknown"``.
        sample_weight : array-like of shape (n_samples,), optional
            Per-image weights.

        Returns
        -------
        float
            Share of faces named correctly.
        """
        predicted = self.predict(X)
        y = names_array(y)
        if len(y) != len(predicted):
            raise ValueError(
                f"`X` and `y` must have the same number of samples. Received: "
                f"{len(predicted)} images in X and {len(y)} identities in y."
            )
        return float(np.average(predicted == y, weights=sample_weight))

    @property
    def classes_(self) -> np.ndarray:
        """The enrolled people, in order of enrolment (scikit-learn reads it)."""
        check_is_fitted(self)
        return self._gallery_codes()[1]

    def _check_gallery(self) -> None:
        if not len(getattr(self, "gallery_names_", ())):
            raise ValueError(
                "The gallery is empty: enroll(images, names) some faces before "
                "identifying. Received: an empty gallery"
            )

    def _gallery_codes(self):
        codes, people = pd.factorize(self.gallery_names_)
        return codes.astype(np.int32), np.asarray(people, dtype=object)

    def _identify_embeddings(self, embeddings, top_k: int, unknown):
        self._check_gallery()
        codes, people = self._gallery_codes()
        order, distances = _nearest_identities(
            embeddings, self.gallery_embeddings_, codes, len(people), top_k
        )
        names, distances = people[order.numpy()], distances.numpy()
        if self.threshold_ is not None and unknown is not None:
            names[distances > self.threshold_] = unknown
        no_face = np.isnan(embeddings).any(axis=1)
        names[no_face], distances[no_face] = NO_FACE, np.nan
        return _plain(names), distances

    def _serving_identify(self):
        """Top-1 identification against the current gallery, as constants."""
        codes, people = self._gallery_codes()
        gallery = tf.constant(self.gallery_embeddings_, tf.float32)
        codes = tf.constant(codes)
        labels = tf.constant([str(p) for p in people] + [UNKNOWN, NO_FACE])
        threshold = self.threshold_
        n_people = len(people)

        def identify(embeddings):
            order, distances = nearest_identities(
                embeddings, gallery, codes, n_people, 1
            )
            order, distances = order[:, 0], distances[:, 0]
            if threshold is not None:
                order = tf.where(distances > threshold, n_people, order)
            no_face = tf.reduce_any(tf.math.is_nan(embeddings), axis=1)
            order = tf.where(no_face, n_people + 1, order)
            distances = tf.where(no_face, tf.constant(np.nan, tf.float64), distances)
            return {"identity": tf.gather(labels, order), "distance": distances}

        return identify
