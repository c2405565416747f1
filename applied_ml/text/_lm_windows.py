"""Training windows of a token stream: (inputs, next tokens) pairs for Keras."""

import itertools

import numpy as np
import tensorflow as tf


def n_windows(stream: np.ndarray, length: int) -> int:
    """How many non-overlapping windows of ``length`` (+1 target) ``stream`` holds."""
    return max(1, (len(stream) - 1) // length)


def window_dataset(
    stream: np.ndarray,
    length: int,
    batch_size: int,
    seed: int | None,
    *,
    training: bool,
) -> tf.data.Dataset:
    """Batches of windows of ``stream``: token ids and the ids that follow them.

    Training reads windows that start anywhere, fresh every pass (epoch),
    seeded by ``seed`` and the pass; a pass has as many windows as the
    stream holds side by side. Validation reads those side-by-side windows,
    the same every pass.

    Parameters
    ----------
    stream : ndarray of shape (n,), int
        The documents' ids end to end, each document followed by its end.
    length : int
        Tokens per window (shortened to fit a shorter stream).
    batch_size : int
        Windows per batch.
    seed : int or None
        The fit's seed (None: unseeded training draws).
    training : bool
        Random windows, or the fixed side-by-side ones.

    Returns
    -------
    tf.data.Dataset
        ``(inputs, targets)`` int32 batches of shape (batch, length).
    """
    length = min(length, len(stream) - 1)
    count = n_windows(stream, length)
    n_batches = -(-count // batch_size)
    base = 0 if seed is None else seed
    passes = itertools.count()
    offsets = np.arange(length + 1)

    def batches():
        if training:
            rng = (
                np.random.default_rng()
                if seed is None
                else np.random.default_rng([base, 2, next(passes)])
            )
            starts = rng.integers(0, len(stream) - length, size=count)
        else:
            starts = np.arange(count) * length
        for b in range(n_batches):
            rows = stream[starts[b * batch_size : (b + 1) * batch_size, None] + offsets]
            rows = rows.astype(np.int32)
            yield rows[:, :-1], rows[:, 1:]

    spec = tf.TensorSpec((None, length), tf.int32)
    dataset = tf.data.Dataset.from_generator(batches, output_signature=(spec, spec))
    return dataset.apply(tf.data.experimental.assert_cardinality(n_batches))
