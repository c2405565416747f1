"""Triplet loss with online mining, for embeddings that separate identities.

A triplet is an anchor, a positive (another example of the anchor's identity)
and a negative (an example of another identity). The loss asks the anchor to
be closer to the positive than to the negative by ``margin``:
``max(d(a, p) - d(a, n) + margin, 0)`` with Euclidean distances. Triplets are
mined online, inside each batch, from the labels that come with it; batches of
P identities x K images give every anchor K - 1 positives.
"""

import keras
from keras import ops

MINING = ("batch_hard", "semi_hard")


def pairwise_distances(embeddings):
    """Euclidean distances between all rows, with a gradient that stays finite.

    Parameters
    ----------
    embeddings : tensor of shape (n, dim)
        One embedding per row.

    Returns
    -------
    tensor of shape (n, n)
        ``d[i, j] = ||embeddings[i] - embeddings[j]||``; the diagonal is 0.
    """
    squared_norms = ops.sum(ops.square(embeddings), axis=1)
    squared = (
        squared_norms[:, None]
        - 2.0 * ops.matmul(embeddings, ops.transpose(embeddings))
        + squared_norms[None, :]
    )
    squared = ops.maximum(squared, 0.0)
    positive = squared > 0.0
    # sqrt has an infinite slope at 0: take it only where the value is positive
    return ops.where(positive, ops.sqrt(ops.where(positive, squared, 1.0)), 0.0)


@keras.saving.register_keras_serializable(package="applied_ml")
class TripletLoss(keras.losses.Loss):
    """Triplet loss over a batch of embeddings and their identity labels.

    ``y_true`` holds an integer identity per row, ``y_pred`` the embeddings.
    The loss of each row is computed with that row as the anchor, so
    per-sample weights apply to anchors.

    Parameters
    ----------
    margin : float, default=0.2
        How much closer the positive must be than the negative.
    mining : {"batch_hard", "semi_hard"}, default="batch_hard"
        ``"batch_hard"``: each anchor is paired with its farthest positive
        and its nearest negative in the batch, one triplet per anchor.
        ``"semi_hard"`` (FaceNet): every positive of the anchor is paired
        with the nearest negative that is still farther than that positive,
        or with the farthest negative when none is; the anchor's loss is the
        mean over its positives.
    name : str, default="triplet_loss"
        Name of the loss.
    **kwargs
        Passed to ``keras.losses.Loss`` (``reduction``, ``dtype``).

    Notes
    -----
    An anchor without a positive or a negative in its batch has loss 0 (it
    still counts in the batch mean).

    Examples
    --------
    >>> import numpy as np
    >>> from applied_ml.vision import TripletLoss
    >>> embeddings = np.array([[0.0, 0.0], [1.0, 0.0], [0.0, 2.0], [0.0, 3.0]])
    >>> loss = TripletLoss(margin=0.5)
    >>> round(float(loss(np.array([0, 0, 1, 1]), embeddings)), 4)
    0.0
    """

    def __init__(
        self,
        margin: float = 0.2,
        mining: str = "batch_hard",
        name: str = "triplet_loss",
        **kwargs,
    ):
        super().__init__(name=name, **kwargs)
        if mining not in MINING:
            raise ValueError(
                f"`mining` must be one of {MINING}. Received: mining={mining!r}"
            )
        if isinstance(margin, bool) or not isinstance(margin, int | float):
            raise TypeError(f"`margin` must be a number. Received: margin={margin!r}")
        if margin < 0:
            raise ValueError(f"`margin` must be >= 0. Received: margin={margin!r}")
        self.margin = float(margin)
        self.mining = mining

    def call(self, y_true, y_pred):
        labels = ops.reshape(ops.cast(y_true, "int32"), (-1,))
        distances = pairwise_distances(ops.cast(y_pred, "float32"))
        same = labels[:, None] == labels[None, :]
        n = ops.shape(labels)[0]
        positive = ops.logical_and(same, ops.logical_not(ops.eye(n, dtype="bool")))
        negative = ops.logical_not(same)
        if self.mining == "batch_hard":
            loss = self._batch_hard(distances, positive, negative)
        else:
            loss = self._semi_hard(distances, positive, negative)
        valid = ops.logical_and(ops.any(positive, axis=1), ops.any(negative, axis=1))
        return ops.where(valid, loss, 0.0)

    def _batch_hard(self, distances, positive, negative):
        hardest_positive = ops.max(ops.where(positive, distances, 0.0), axis=1)
        far = ops.max(distances) + 1.0
        hardest_negative = ops.min(ops.where(negative, distances, far), axis=1)
        return ops.relu(hardest_positive - hardest_negative + self.margin)

    def _semi_hard(self, distances, positive, negative):
        # [anchor, positive, negative] distances, for every pair of columns
        d_ap = distances[:, :, None]
        d_an = distances[:, None, :]
        negative = negative[:, None, :]
        farther = ops.logical_and(negative, d_an > d_ap)
        far = ops.max(distances) + 1.0
        nearest_farther = ops.min(ops.where(farther, d_an, far), axis=2)
        farthest = ops.max(ops.where(negative, d_an, 0.0), axis=2)
        chosen = ops.where(ops.any(farther, axis=2), nearest_farther, farthest)
        per_pair = ops.relu(distances - chosen + self.margin)
        per_pair = ops.where(positive, per_pair, 0.0)
        count = ops.sum(ops.cast(positive, "float32"), axis=1)
        return ops.sum(per_pair, axis=1) / ops.maximum(count, 1.0)

    def get_config(self) -> dict:
        return {**super().get_config(), "margin": self.margin, "mining": self.mining}
