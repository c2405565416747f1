"""SavedModel export: every endpoint of an estimator, over raw inputs.

The exported folder needs only TensorFlow to serve: preprocessing is part of
the graph, and outputs are named (``probabilities``/``labels``,
``predictions``...). Folders follow TensorFlow Serving's layout,
``<model folder>/<integer version>/``.
"""

import json
import os

import keras
import tensorflow as tf

DEFAULT_ROOT = "saved_models"


def next_version(folder: str | os.PathLike) -> int:
    """One more than the highest integer sub-folder of ``folder``.

    Parameters
    ----------
    folder : str or os.PathLike
        A model folder holding version sub-folders (it may not exist yet).

    Returns
    -------
    int
        The next version number; 1 for a missing or empty folder.
    """
    if not os.path.isdir(folder):
        return 1
    versions = [int(n) for n in os.listdir(folder) if n.isdigit()]
    return max(versions, default=0) + 1


def export_saved_model(estimator, path=None, version=None) -> str:
    """Write ``estimator``'s serving SavedModel (``KerasEstimator.export``).

    Parameters
    ----------
    estimator : KerasEstimator
        A fitted estimator.
    path : str or os.PathLike, optional
        Model folder; defaults to ``saved_models/<class name in lower case>``.
    version : int, optional
        Version sub-folder; defaults to :func:`next_version`.

    Returns
    -------
    str
        The version folder written.
    """
    folder = os.fspath(path) if path is not None else None
    if folder is None:
        folder = os.path.join(DEFAULT_ROOT, type(estimator).__name__.lower())
    if version is None:
        version = next_version(folder)
    if isinstance(version, bool) or not isinstance(version, int) or version < 0:
        raise ValueError(
            "`version` must be a non-negative integer or None. "
            f"Received: version={version!r}"
        )
    target = os.path.join(folder, str(version))
    if os.path.exists(target):
        raise FileExistsError(
            f"{target!r} already exists; pick another `version` or leave it None "
            "to write the next one."
        )
    archive = keras.export.ExportArchive()
    archive.track(estimator._inference_model)
    for resource in estimator._export_resources():
        archive.track(resource)
    for name, (fn, signature) in estimator._endpoints().items():
        archive.add_endpoint(name=name, fn=fn, input_signature=[signature])
    archive.write_out(target, verbose=False)
    columns = getattr(estimator, "input_columns_", None)
    if columns:
        write_input_columns(target, {c["input"]: c["column"] for c in columns})
    return target


def write_input_columns(folder: str | os.PathLike, inputs: dict[str, str]) -> str:
    """Record the original column name of each SavedModel input.

    Input names are sanitized column names; ``applied-ml predict`` reads this
    file to accept a CSV with the original names. It goes to
    ``assets.extra``, which TensorFlow loaders ignore (TensorFlow Serving's
    convention for files that travel with a model).

    Parameters
    ----------
    folder : str or os.PathLike
        A version folder written by ``export``.
    inputs : dict of str to str
        Input name to original column name.

    Returns
    -------
    str
        The file written, ``<folder>/assets.extra/applied_ml.json``.
    """
    extra = os.path.join(os.fspath(folder), "assets.extra")
    os.makedirs(extra, exist_ok=True)
    file = os.path.join(extra, "applied_ml.json")
    with open(file, "w", encoding="utf-8") as f:
        json.dump({"inputs": dict(inputs)}, f, indent=2, ensure_ascii=False)
    return file


def load_serving(path: str | os.PathLike):
    """Load an exported SavedModel (a thin ``tf.saved_model.load``).

    Parameters
    ----------
    path : str or os.PathLike
        A version folder written by ``export``.

    Returns
    -------
    object
        The loaded SavedModel; call ``.signatures["serving_default"]`` with
        one keyword argument per raw input.

    Examples
    --------
    >>> from applied_ml.export import load_serving  # doctest: +SKIP
    >>> serve = load_serving("saved_models/penguins/1").signatures["serving_default"]
    """
    return tf.saved_model.load(os.fspath(path))
