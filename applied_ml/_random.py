"""Seeding of a fit: local to the fit, also when fits run in threads.

Where a fit's randomness comes from, and how it is kept to the fit:

- Initializers, ``Dropout`` and the random augmentation layers draw their
  seed when they are constructed: the explicit one they are given, else one
  from Python's global ``random`` (``keras.random.make_default_seed``). Models
  are therefore built inside :func:`seeded`, which holds a process-wide lock
  while Python's (and NumPy's) global state is seeded, and puts that state
  back afterwards. Unseeded fits take the same lock, so they cannot draw from
  the sequence of a seeded fit building at the same time.
- Keras' random ops (weights, dropout masks, augmentation) are stateless
  TensorFlow ops fed from each layer's own ``SeedGenerator``: nothing global
  is read while training.
- ``tf.data`` shuffles combine their seed with TensorFlow's *global* seed
  (``tf.random.set_seed``, process-wide and settable by any thread) when the
  dataset is made. :func:`shuffled` gives the shuffle both seeds itself, so
  the global seed is neither read nor set by a fit.

What a fit does not control: a user thread drawing from Python's global
``random`` while an applied_ml model is being built.
"""

import contextlib
import random
import threading

import numpy as np
import tensorflow as tf
from keras.src.backend.common import global_state
from keras.src.random import seed_generator
from sklearn.utils import check_random_state

# Held while a model is built with Python's and NumPy's global random state
# seeded for it (Keras draws default seeds from Python's `random`). Reentrant:
# a task may build sub-models inside the block.
_BUILD_LOCK = threading.RLock()

# Keras' names for its (thread-local) global seed state, as in
# keras/src/utils/rng_utils.py
_KERAS_SEED = "global_random_seed"
_MAXINT32 = 2**31 - 1


def seed_from(random_state) -> int | None:
    """Turn a scikit-learn ``random_state`` into an integer seed (or None)."""
    if random_state is None:
        return None
    return int(check_random_state(random_state).randint(0, 2**31 - 1))


@contextlib.contextmanager
def seeded(seed: int | None):
    """Build a fit's model and data pipelines with ``seed`` (no training inside).

    Holds a process-wide lock for the block. With a seed, Python's and NumPy's
    global random state is seeded for the block and put back afterwards, so a
    seeded fit neither depends on nor changes the user's later random draws;
    the calling thread's Keras global seed generator (thread-local) is seeded
    too. TensorFlow's global seed is left alone: see :func:`shuffled`.

    Training must run after the block: it reads no global random state, and
    holding the lock during training would serialize fits run in threads.
    """
    with _BUILD_LOCK:
        if seed is None:
            yield
            return
        py_state = random.getstate()
        np_state = np.random.get_state()  # noqa: NPY002 (restored below)
        random.seed(seed)
        np.random.seed(seed)  # noqa: NPY002
        global_state.set_global_attribute(_KERAS_SEED, seed)
        global_state.set_global_attribute(
            seed_generator.GLOBAL_SEED_GENERATOR, seed_generator.SeedGenerator(seed)
        )
        try:
            yield
        finally:
            random.setstate(py_state)
            np.random.set_state(np_state)  # noqa: NPY002


def shuffled(dataset: tf.data.Dataset, buffer_size: int, seed: int | None):
    """``dataset.shuffle(buffer_size, seed)``, independent of TF's global seed.

    ``Dataset.shuffle(seed=s)`` runs with the seed pair ``(global seed, s)``,
    reading ``tf.random.set_seed``'s process-wide value when the dataset is
    made: another thread setting it would change this fit's order. Here the
    pair is ``(s, s)``, what ``shuffle`` gave while fits set the global seed to
    their own, so the orders are those of earlier versions. Every pass
    (epoch) draws a new order, as with ``reshuffle_each_iteration=True``.
    """
    if seed is None:
        return dataset.shuffle(buffer_size, reshuffle_each_iteration=True)
    seed = seed % _MAXINT32
    # (0, 0) means "unseeded" to the kernel; TensorFlow maps it the same way
    seeds = (seed, seed) if seed else (0, _MAXINT32)
    spec = dataset.element_spec
    flat = [t for s in tf.nest.flatten(spec) for t in s._flat_tensor_specs]
    variant = tf.raw_ops.ShuffleDatasetV3(
        input_dataset=tf.data.experimental.to_variant(dataset),
        buffer_size=tf.constant(buffer_size, tf.int64),
        seed=tf.constant(seeds[0], tf.int64),
        seed2=tf.constant(seeds[1], tf.int64),
        seed_generator=tf.raw_ops.DummySeedGenerator(),
        output_types=[t.dtype for t in flat],
        output_shapes=[t.shape for t in flat],
        reshuffle_each_iteration=True,
    )
    return tf.data.experimental.from_variant(variant, spec)
