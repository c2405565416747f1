"""Seeding of a fit without leaving the user's global random state changed."""

import contextlib
import random

import keras
import numpy as np
import tensorflow as tf
from sklearn.utils import check_random_state


def seed_from(random_state) -> int | None:
    """Turn a scikit-learn ``random_state`` into an integer seed (or None)."""
    if random_state is None:
        return None
    return int(check_random_state(random_state).randint(0, 2**31 - 1))


@contextlib.contextmanager
def seeded(seed: int | None):
    """Seed Python, NumPy, TensorFlow and Keras for the block.

    Python's and NumPy's global states and TensorFlow's global seed are put
    back afterwards, so a seeded fit does not make the user's later random
    draws repeat.
    """
    if seed is None:
        yield
        return
    py_state = random.getstate()
    np_state = np.random.get_state()  # noqa: NPY002 (restored below)
    tf_seed = tf.compat.v1.get_seed(None)[0]
    keras.utils.set_random_seed(seed)
    try:
        yield
    finally:
        random.setstate(py_state)
        np.random.set_state(np_state)  # noqa: NPY002
        tf.random.set_seed(tf_seed)
