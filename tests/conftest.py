"""Shared fixtures: tiny real data, seeds, and two logical CPU devices."""

import os

os.environ.setdefault("KERAS_BACKEND", "tensorflow")
os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "2")

import numpy as np  # noqa: E402
import pytest  # noqa: E402
import tensorflow as tf  # noqa: E402


def pytest_configure(config):
    # Mirrored-strategy tests need two devices; on a CPU machine split the CPU
    # into two logical devices before TensorFlow initializes its runtime.
    cpus = tf.config.list_physical_devices("CPU")
    tf.config.set_logical_device_configuration(
        cpus[0],
        [
            tf.config.LogicalDeviceConfiguration(),
            tf.config.LogicalDeviceConfiguration(),
        ],
    )


def need(what: str, ok: bool) -> None:
    """Skip when ``what`` is missing here; fail under CI=true, which installs it."""
    if not ok:
        if os.environ.get("CI") == "true":
            pytest.fail(f"{what} is missing on CI; `make test` installs it.")
        pytest.skip(f"{what} is not installed")


@pytest.fixture(autouse=True)
def _seed():
    np.random.seed(0)  # noqa: NPY002 (tests that forget a seed stay repeatable)
    tf.random.set_seed(0)


@pytest.fixture(scope="session")
def penguins():
    from applied_ml.datasets import load_penguins

    return load_penguins()


@pytest.fixture(scope="session")
def breast_cancer():
    from sklearn.datasets import load_breast_cancer

    return load_breast_cancer(return_X_y=True, as_frame=True)


# Small, fast settings for tests that need a trained model, not a good one.
FAST = {"epochs": 30, "hidden_units": (16,), "learning_rate": 0.02, "random_state": 0}
