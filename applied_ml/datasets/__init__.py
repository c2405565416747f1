"""Offline loaders of real data that installs from the package registries."""

from applied_ml.datasets._images import FASHION_MNIST_CLASSES, load_fashion_mnist
from applied_ml.datasets._tabular import load_fair, load_penguins

__all__ = ["FASHION_MNIST_CLASSES", "load_fair", "load_fashion_mnist", "load_penguins"]
