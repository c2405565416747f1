"""Data plumbing every estimator shares: rows, batches, text, fit-time data.

Prepared inputs (what a task's ``_prepare_inputs`` returns) are an array, a
dict of arrays, or a tuple of arrays, all with samples first. The helpers here
count, take and slice such structures, turn them into batched ``tf.data``
pipelines, and read a user's ``tf.data.Dataset`` back into arrays when a task
has to learn statistics from it.
"""

import dataclasses
import math

import numpy as np
import tensorflow as tf

from applied_ml._random import shuffled


@dataclasses.dataclass
class FitData:
    """The data of one ``fit`` call, ready for Keras.

    Attributes
    ----------
    train : tf.data.Dataset
        Batches of ``(inputs, targets[, sample_weight])`` for the model.
    validation : tf.data.Dataset or None
        Validation batches of the same structure, or None without a split.
    steps_per_epoch : int or None
        Batches per epoch of ``train`` (None when unknown).
    train_in_order : tf.data.Dataset
        The training batches of ``train`` in the order of the examples, without
        shuffling or augmentation (for one pass that computes features).
    train_examples : dict or None
        The in-memory training examples (``inputs``, and ``targets`` and
        ``weights`` when given) before encoding; None for ``tf.data`` input.
    validation_examples : dict or None
        The same for the validation split.
    """

    train: tf.data.Dataset
    validation: tf.data.Dataset | None
    steps_per_epoch: int | None
    train_in_order: tf.data.Dataset
    train_examples: dict | None = None
    validation_examples: dict | None = None


def n_rows(inputs) -> int:
    """Number of samples of prepared inputs (array, dict or tuple of arrays)."""
    if isinstance(inputs, dict):
        return len(next(iter(inputs.values())))
    if isinstance(inputs, tuple):
        return len(inputs[0])
    return len(inputs)


def take(inputs, index):
    """Rows ``index`` (an integer array or slice) of prepared inputs."""
    if isinstance(inputs, dict):
        return {k: take(v, index) for k, v in inputs.items()}
    if isinstance(inputs, tuple):
        return tuple(take(v, index) for v in inputs)
    return inputs[index]


def chunks(inputs, size: int):
    """Consecutive row chunks of at most ``size`` rows."""
    n = n_rows(inputs)
    return [take(inputs, slice(start, start + size)) for start in range(0, n, size)]


def examples(inputs, targets=None, weights=None) -> dict:
    """One dict of parallel arrays: ``inputs`` plus optional targets/weights."""
    parts = {"inputs": inputs}
    if targets is not None:
        parts["targets"] = targets
    if weights is not None:
        parts["weights"] = weights
    return parts


def shuffled_batches(dataset, batch_size: int, *, shuffle: bool, seed=None):
    """Batch a dataset of examples, shuffled (seeded) first when asked.

    With a ``seed`` the order depends on it alone (not on TensorFlow's global
    seed, which any thread may set), so two pipelines over the same number of
    rows visit them in the same order.
    """
    if shuffle:
        size = int(dataset.cardinality())
        dataset = shuffled(dataset, size if size > 0 else 10_000, seed)
    return dataset.batch(batch_size)


def steps(n: int, batch_size: int) -> int:
    """Batches of ``batch_size`` that ``n`` rows make."""
    return math.ceil(n / batch_size)


def decode_text(values: np.ndarray) -> np.ndarray:
    """tf.data yields text as bytes; the estimators work with ``str``."""
    if values.dtype.kind in "OS":
        return np.vectorize(
            lambda v: v.decode() if isinstance(v, bytes) else v, otypes=[object]
        )(values)
    return values


def split_batches(dataset, fraction: float):
    """(training, validation) batches of a ``tf.data.Dataset`` of batches.

    The validation batches are the first ``ceil(fraction * n)`` of the ``n``
    batches: a ``tf.data`` pipeline cannot be shuffled across its whole
    length cheaply, so the split is by position.
    """
    if fraction == 0:
        return dataset, None
    n_batches = int(dataset.cardinality())
    if n_batches < 0:
        raise ValueError(
            "`validation_fraction` > 0 needs a tf.data.Dataset of known length "
            "(its validation batches are taken from the front), but this "
            "dataset's cardinality is unknown. Set validation_fraction=0 and "
            "early_stopping=False, or use "
            "dataset.apply(tf.data.experimental.assert_cardinality(n)). "
            f"Received: validation_fraction={fraction!r}"
        )
    n_val = math.ceil(n_batches * fraction)
    if n_batches - n_val < 1:
        raise ValueError(
            f"`validation_fraction={fraction}` leaves no training batches: the "
            f"dataset has {n_batches} batch(es). Received: validation_fraction="
            f"{fraction!r}"
        )
    return dataset.skip(n_val), dataset.take(n_val)


def read_batches(dataset, parts: tuple[int, ...] = (0, 1)) -> list:
    """Concatenate parts ``parts`` of every batch of ``dataset`` into arrays.

    Feature dicts become dicts of arrays; text becomes ``str``. Used to learn
    statistics from a user's ``tf.data`` input, once per fit.
    """
    collected: list[list] = [[] for _ in parts]
    for batch in dataset.as_numpy_iterator():
        batch = batch if isinstance(batch, tuple) else (batch,)
        for slot, i in zip(collected, parts, strict=True):
            slot.append(batch[i])
    if not collected[0]:
        raise ValueError("`X` is an empty tf.data.Dataset: it yielded no batches.")
    return [_concatenate(slot) for slot in collected]


def _concatenate(batches: list):
    if isinstance(batches[0], dict):
        return {k: _concatenate([b[k] for b in batches]) for k in batches[0]}
    return decode_text(np.concatenate([np.asarray(b) for b in batches]))
