"""Seeding of a fit without leaving the user's global random state changed."""

import contextlib
import random

import keras
import numpy as np
from sklearn.utils import check_random_state


def seed_from(random_state) -> int | None:
    """Turn a scikit-learn ``random_state`` into an integer seed (or None)."""
    if random_state is None:
        return None
    return int(check_random_state(random_state).randint(0, 2**31 - 1))


@contextlib.contextmanager
def seeded(seed: int | None):
    """Seed Python, NumPy and Keras for the block, then restore Python/NumPy."""
    if seed is None:
        yield
        return
    py_state, np_state = random.getstate(), np.random.get_state()  # noqa: NPY002 (restored below)
    keras.utils.set_random_seed(seed)
    try:
        yield
    finally:
        random.setstate(py_state)
        np.random.set_state(np_state)  # noqa: NPY002
