"""Offline loaders of real data that installs from the package registries."""

from applied_ml.datasets._tabular import load_fair, load_penguins

__all__ = ["load_fair", "load_penguins"]
