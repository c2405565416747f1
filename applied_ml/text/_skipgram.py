"""Skip-gram with negative sampling: words, vocabulary, pairs and the network.

Training pairs follow word2vec's recipe: frequent words are dropped at
random (each kept with probability ``(sqrt(f / s) + 1) s / f`` for a word of
frequency ``f`` and ``s = sample``), each remaining word takes a window
drawn uniformly from 1 to ``window`` on each side, pairs never cross a
document's end, and each pair gets ``negatives`` words drawn from the
unigram distribution raised to 3/4. Pairs and negatives are drawn afresh
every epoch from a seeded stream.
"""

import itertools
import re
from collections import Counter

import keras
import numpy as np
import tensorflow as tf
from keras import ops

_WORD = re.compile(r"[^\W_]+(?:['’][^\W_]+)*")
_POWER = 0.75
_FINAL_RATE = 1e-4  # share of the learning rate left at the end of a decay


def words_of(text: str, lowercase: bool) -> list[str]:
    """The words of ``text`` (letters and digits, inner apostrophes kept)."""
    return _WORD.findall(text.lower() if lowercase else text)


def build_vocabulary(
    documents: list[list[str]], min_count: int, max_vocabulary: int | None
) -> tuple[list[str], np.ndarray]:
    """Words seen at least ``min_count`` times, most frequent first.

    Ties keep the order of first appearance. Returns the words and their
    counts.
    """
    counts = Counter(itertools.chain.from_iterable(documents))
    kept = [(w, c) for w, c in counts.items() if c >= min_count]
    kept.sort(key=lambda item: -item[1])  # stable: first appearance breaks ties
    if max_vocabulary is not None:
        kept = kept[:max_vocabulary]
    return [w for w, _ in kept], np.array([c for _, c in kept], np.int64)


def encode(documents: list[list[str]], index: dict[str, int]) -> list[np.ndarray]:
    """Each document's known words as vocabulary rows (unknown words dropped)."""
    return [
        np.array([index[w] for w in doc if w in index], np.int32) for doc in documents
    ]


class PairSampler:
    """Skip-gram pairs and negatives of encoded documents, one epoch at a time.

    Parameters
    ----------
    documents : list of ndarray
        Each document's word rows.
    counts : ndarray
        Training count of each vocabulary word.
    window, negatives : int
        Largest window on each side; negatives per pair.
    sample : float
        Subsampling threshold (0 keeps every word).
    """

    def __init__(self, documents, counts, window: int, negatives: int, sample: float):
        self.window, self.negatives = window, negatives
        lengths = np.array([len(d) for d in documents])
        self.words = np.concatenate(documents) if len(documents) else np.zeros(0)
        self.document = np.repeat(np.arange(len(documents)), lengths)
        frequency = counts / counts.sum()
        if sample > 0:
            ratio = sample / frequency
            self.keep = np.minimum(np.sqrt(ratio) + ratio, 1.0)
        else:
            self.keep = np.ones(len(counts))
        weights = counts.astype(np.float64) ** _POWER
        self.cumulative = np.cumsum(weights / weights.sum())

    def pairs(self, rng: np.random.Generator) -> np.ndarray:
        """One epoch's (target, context) rows, shuffled."""
        kept = rng.random(len(self.words)) < self.keep[self.words]
        words, document = self.words[kept], self.document[kept]
        reach = rng.integers(1, self.window + 1, size=len(words))
        pairs = []
        for offset in range(1, self.window + 1):
            same = document[:-offset] == document[offset:]
            forward = same & (reach[:-offset] >= offset)  # target left of context
            backward = same & (reach[offset:] >= offset)  # target right of context
            left, right = words[:-offset], words[offset:]
            pairs.append(np.stack([left[forward], right[forward]]))
            pairs.append(np.stack([right[backward], left[backward]]))
        pairs = np.concatenate(pairs, axis=1).T
        return pairs[rng.permutation(len(pairs))]

    def negative_rows(self, rng: np.random.Generator, n: int) -> np.ndarray:
        """``n`` x ``negatives`` words drawn from the unigram^3/4 distribution."""
        draws = rng.random((n, self.negatives))
        rows = np.searchsorted(self.cumulative, draws, side="right")
        return np.minimum(rows, len(self.cumulative) - 1).astype(np.int32)


def pair_dataset(
    sampler: PairSampler, batch_size: int, seed: int | None, *, training: bool
) -> tf.data.Dataset:
    """Batches of ``({"target", "context"}, labels)``; a fixed size per epoch.

    Every epoch holds as many pairs as the first draw (a later draw with more
    pairs is cut, one with fewer repeats some of its own), so that an epoch
    always has the same number of steps. Validation draws the same pairs
    every time.
    """
    base = 0 if seed is None else seed
    first = sampler.pairs(np.random.default_rng([base, 3, 0]))
    size = len(first)
    if size == 0:
        raise ValueError(
            "The corpus must hold two known words side by side in one document, "
            "after subsampling, to make a skip-gram pair (`sample` drops most "
            "words of a small corpus: try sample=0). Received documents without any."
        )
    n_batches = -(-size // batch_size)
    passes = itertools.count()
    labels = np.zeros((batch_size, sampler.negatives + 1), np.float32)
    labels[:, 0] = 1.0

    def batches():
        number = next(passes) if training else 0
        rng = (
            np.random.default_rng()
            if seed is None and training
            else np.random.default_rng([base, 3, number])
        )
        pairs = sampler.pairs(rng)
        if len(pairs) == 0:  # subsampling dropped every pair this time
            pairs = first
        if len(pairs) < size:
            pairs = np.concatenate([pairs, pairs[rng.integers(len(pairs), size=size)]])
        pairs = pairs[:size].astype(np.int32)
        for start in range(0, size, batch_size):
            part = pairs[start : start + batch_size]
            context = np.concatenate(
                [part[:, 1:], sampler.negative_rows(rng, len(part))], axis=1
            )
            yield {"target": part[:, 0], "context": context}, labels[: len(part)]

    k = sampler.negatives + 1
    spec = (
        {
            "target": tf.TensorSpec((None,), tf.int32),
            "context": tf.TensorSpec((None, k), tf.int32),
        },
        tf.TensorSpec((None, k), tf.float32),
    )
    dataset = tf.data.Dataset.from_generator(batches, output_signature=spec)
    dataset = dataset.apply(tf.data.experimental.assert_cardinality(n_batches))
    return dataset.prefetch(tf.data.AUTOTUNE)  # draw while the model trains


def build_skipgram(n_words: int, vector_size: int, negatives: int) -> keras.Model:
    """Target and context tables; the logits of a pair and its negatives.

    Target vectors start small and random, context vectors at zero (as in
    word2vec). Inputs: ``target`` (batch,) and ``context`` (batch, 1 +
    negatives) word rows; output: (batch, 1 + negatives) dot products.
    """
    target = keras.Input((), dtype="int32", name="target")
    context = keras.Input((negatives + 1,), dtype="int32", name="context")
    scale = 0.5 / vector_size
    t = keras.layers.Embedding(
        n_words,
        vector_size,
        embeddings_initializer=keras.initializers.RandomUniform(-scale, scale),
        name="target_vectors",
    )(target)
    c = keras.layers.Embedding(
        n_words, vector_size, embeddings_initializer="zeros", name="context_vectors"
    )(context)
    logits = ops.einsum("bd,bkd->bk", t, c)
    return keras.Model({"target": target, "context": context}, logits, name="skipgram")


def build_lookup(n_words: int, vector_size: int) -> keras.Model:
    """The target table alone: the model of vectors loaded, not trained."""
    target = keras.Input((), dtype="int32", name="target")
    vectors = keras.layers.Embedding(n_words, vector_size, name="target_vectors")(
        target
    )
    return keras.Model(target, vectors, name="word_vectors")


class LinearDecay(keras.callbacks.Callback):
    """word2vec's schedule: the rate falls linearly over a fit's steps.

    From ``rate`` at the fit's first step to ``rate * 1e-4`` at step
    ``steps`` (and stays there after it). Steps are counted by the
    optimizer from where it stood when training began (a warm start's new
    fit decays afresh), so a fit resumed from a backup, whose optimizer comes
    back at the step it was killed at, goes on where the schedule was.
    """

    def __init__(self, rate: float, steps: int):
        super().__init__()
        self.rate, self.steps, self.start = rate, max(int(steps), 1), 0

    def on_train_begin(self, logs=None):  # runs before a backup is restored
        self.start = int(self.model.optimizer.iterations.numpy())

    def on_train_batch_begin(self, batch, logs=None):
        done = int(self.model.optimizer.iterations.numpy()) - self.start
        left = max(1.0 - done / self.steps, _FINAL_RATE)
        self.model.optimizer.learning_rate.assign(self.rate * left)
