"""Estimator state as JSON (for ``.keras`` archives) and models as bytes.

``save``/``load`` must not unpickle anything, so an estimator's parameters and
learned attributes are written as tagged JSON: arrays, tuples, dicts with
non-string keys and the package's own value classes (feature specs) each get
a tag, and loading only ever constructs classes registered here.
"""

import dataclasses
import importlib
import json
import os
import tempfile
import warnings
import zipfile

import keras
import numpy as np
from sklearn.utils.validation import check_is_fitted

from applied_ml.cluster import writes_here

STATE_FILE = "applied_ml.json"
_VALUE_CLASSES: dict[str, type] = {}
_ESTIMATORS: dict[str, type] = {}


def register_value_class(cls: type) -> type:
    """Allow instances of dataclass ``cls`` in saved estimator state."""
    _VALUE_CLASSES[cls.__name__] = cls
    return cls


def register_estimator(cls: type) -> type:
    """Let ``load`` rebuild estimators of class ``cls`` (done by the base class).

    Every concrete ``KerasEstimator`` subclass registers itself when it is
    defined, so a new task saves and loads without being listed anywhere.
    """
    _ESTIMATORS[_class_key(cls.__module__, cls.__qualname__)] = cls
    return cls


def registered_estimators() -> list[type]:
    """Every estimator class registered so far (those of imported modules)."""
    return list(_ESTIMATORS.values())


def _class_key(module: str, name: str) -> str:
    return f"{module}:{name}"


def _estimator_class(state: dict) -> type:
    """The registered class that ``state`` names, imported if it is ours."""
    name, module = state.get("class"), state.get("module")
    if module is None:  # archives written before classes were registered
        import applied_ml

        module = getattr(applied_ml, str(name), type).__module__
    key = _class_key(str(module), str(name))
    if key not in _ESTIMATORS and str(module).split(".")[0] == "applied_ml":
        importlib.import_module(module)  # our own modules only: never arbitrary
    if key not in _ESTIMATORS:
        raise ValueError(
            f"Unknown estimator class in saved state: {name!r} from module "
            f"{module!r}. Import the module that defines it before loading."
        )
    return _ESTIMATORS[key]


def model_to_bytes(model: keras.Model) -> bytes:
    """Serialize a Keras model to the bytes of a ``.keras`` archive."""
    with tempfile.TemporaryDirectory() as tmp:
        path = os.path.join(tmp, "model.keras")
        model.save(path)
        with open(path, "rb") as f:
            return f.read()


def model_from_bytes(data: bytes) -> keras.Model:
    """Inverse of :func:`model_to_bytes` (safe mode: no arbitrary code)."""
    with tempfile.TemporaryDirectory() as tmp:
        path = os.path.join(tmp, "model.keras")
        with open(path, "wb") as f:
            f.write(data)
        return keras.saving.load_model(path, safe_mode=True)


def _encode(value):
    if isinstance(value, np.ndarray):
        dtype = "object" if value.dtype == object else value.dtype.str
        return {"__ndarray__": _encode(value.tolist()), "dtype": dtype}
    if isinstance(value, np.generic):
        return value.item()
    if isinstance(value, tuple):
        return {"__tuple__": [_encode(v) for v in value]}
    if isinstance(value, list):
        return [_encode(v) for v in value]
    if isinstance(value, dict):
        if all(isinstance(k, str) for k in value):
            return {k: _encode(v) for k, v in value.items()}
        return {"__items__": [[_encode(k), _encode(v)] for k, v in value.items()]}
    if dataclasses.is_dataclass(value) and type(value).__name__ in _VALUE_CLASSES:
        fields = {
            f.name: _encode(getattr(value, f.name)) for f in dataclasses.fields(value)
        }
        return {"__value__": type(value).__name__, "fields": fields}
    if value is None or isinstance(value, bool | int | float | str):
        return value
    if isinstance(value, os.PathLike):
        return os.fspath(value)
    raise TypeError(f"Cannot save a value of type {type(value).__name__}: {value!r}")


def _decode(value):
    if isinstance(value, list):
        return [_decode(v) for v in value]
    if not isinstance(value, dict):
        return value
    if "__ndarray__" in value:
        return np.array(_decode(value["__ndarray__"]), dtype=np.dtype(value["dtype"]))
    if "__tuple__" in value:
        return tuple(_decode(v) for v in value["__tuple__"])
    if "__items__" in value:
        return {_decode(k): _decode(v) for k, v in value["__items__"]}
    if "__value__" in value:
        cls = _VALUE_CLASSES.get(value["__value__"])
        if cls is None:
            raise ValueError(
                f"Unknown value class in saved state: {value['__value__']!r}"
            )
        return cls(**{k: _decode(v) for k, v in value["fields"].items()})
    return {k: _decode(v) for k, v in value.items()}


def dump_state(estimator) -> str:
    """JSON text of an estimator's class, parameters and learned attributes."""
    params = estimator.get_params(deep=False)
    defaults = {"strategy": "auto", "callbacks": None, "random_state": None}
    for name, default in defaults.items():
        value = params.get(name)
        if value is not None and not isinstance(value, str | int):
            warnings.warn(
                f"`{name}` holds a live object ({type(value).__name__}) that a "
                f".keras archive cannot store; the saved {type(estimator).__name__} "
                f"gets {name}={default!r} instead.",
                UserWarning,
                stacklevel=3,
            )
            params[name] = default
    attributes = {
        k: v
        for k, v in vars(estimator).items()
        if k.endswith("_") and not k.startswith("_") and k != "model_"
    }
    state = {
        "class": type(estimator).__qualname__,
        "module": type(estimator).__module__,
        "params": _encode(params),
        "attributes": _encode(attributes),
    }
    return json.dumps(state)


def restore_state(state: dict):
    """Rebuild an (unfitted-model) estimator from :func:`dump_state` output."""
    estimator = _estimator_class(state)(**_decode(state["params"]))
    for key, value in _decode(state["attributes"]).items():
        setattr(estimator, key, value)
    return estimator


class PersistenceMixin:
    """Mixin of ``KerasEstimator``: pickling and ``.keras`` save/load.

    The Keras model travels as a ``.keras`` archive inside a pickle; ``save``
    writes a ``.keras`` archive with the estimator's state as JSON, which
    ``load`` reads without unpickling anything. Both rebuild derived state
    through the estimator's ``_post_restore`` hook.
    """

    def __getstate__(self):
        # object.__getstate__ hands back the live __dict__: copy before editing.
        state = dict(super().__getstate__())
        state.pop("_predict_fn", None)
        state.pop("_inference_model", None)
        if "model_" in state:
            state["model_"] = model_to_bytes(state["model_"])
        if not isinstance(self.strategy, str):
            raise TypeError(
                f"Cannot pickle this {type(self).__name__}: its `strategy` is a "
                "tf.distribute.Strategy object. Set strategy to a name "
                "('auto', 'mirrored', 'one_device') with set_params first."
            )
        return state

    def __setstate__(self, state):
        if isinstance(state.get("model_"), bytes):
            state = dict(state, model_=model_from_bytes(state["model_"]))
        super().__setstate__(state)
        if "model_" in state:
            self._post_restore()

    def save(self, path: str | os.PathLike) -> None:
        """Save the fitted estimator to a ``.keras`` archive.

        The archive is a regular Keras model file (``keras.saving.load_model``
        opens it) with the estimator's parameters and learned attributes added
        as JSON, so loading never unpickles anything.

        Parameters
        ----------
        path : str or os.PathLike
            File to write; it must end in ``.keras``. Missing parent folders
            are created. On a worker other than the chief of a
            ``strategy="multi_worker"`` job nothing is written (see
            :func:`applied_ml.cluster.is_chief`).
        """
        check_is_fitted(self)
        path = os.fspath(path)
        if not path.endswith(".keras"):
            raise ValueError(f"`path` must end in '.keras'. Received: path={path!r}")
        if not writes_here(self.strategy):
            return
        state = dump_state(self)  # fails before anything is written
        folder = os.path.dirname(os.path.abspath(path))
        os.makedirs(folder, exist_ok=True)
        partial = f"{path}.partial.keras"
        try:
            self.model_.save(partial)
            with zipfile.ZipFile(partial, "a") as archive:
                archive.writestr(STATE_FILE, state)
            os.replace(partial, path)
        finally:
            if os.path.exists(partial):
                os.remove(partial)

    @classmethod
    def load(cls, path: str | os.PathLike):
        """Load an estimator written by :meth:`save`.

        Parameters
        ----------
        path : str or os.PathLike
            A ``.keras`` file written by ``save``.

        Returns
        -------
        estimator
            The fitted estimator, ready to predict.
        """
        path = os.fspath(path)
        if not os.path.isfile(path):
            raise FileNotFoundError(
                f"`path` must be a .keras file written by save(). Received: "
                f"path={path!r}, which does not exist."
            )
        with zipfile.ZipFile(path) as archive:
            if STATE_FILE not in archive.namelist():
                raise ValueError(
                    f"{path!r} is a Keras model file without applied_ml estimator "
                    "state; load it with keras.saving.load_model instead."
                )
            state = json.loads(archive.read(STATE_FILE))
        estimator = restore_state(state)
        if not isinstance(estimator, cls):
            raise TypeError(
                f"{path!r} holds a {type(estimator).__name__}, not a {cls.__name__}."
            )
        estimator.model_ = keras.saving.load_model(path, safe_mode=True)
        estimator._post_restore()
        return estimator
