"""Read legacy PyTorch checkpoints (``torch.save`` before 1.6) without torch.

The legacy format is a sequence of records written one after the other into
one file:

1. a pickled magic number, 2. a pickled protocol version, 3. a pickled dict of
system facts (endianness, C type sizes), 4. the pickled object itself, where
each tensor is ``torch._utils._rebuild_tensor_v2(storage, offset, size,
stride, ...)`` and each storage is a *persistent id*
``("storage", torch.FloatStorage, key, location, numel, view)``, 5. a pickled
list of storage keys, and 6. for each key, an int64 element count followed by
the raw little-endian bytes of that storage.

Unpickling runs code named by the file, so every record is read through a
restricted unpickler that admits only the globals a tensor state dict needs,
each mapped to a harmless stand-in defined here; anything else raises
:class:`pickle.UnpicklingError` naming the refused global.
"""

import collections
import os
import pickle

import numpy as np

MAGIC_NUMBER = 0x1950A86A20F9469CFC6C
PROTOCOL_VERSION = 1001

# torch's legacy typed storages and the numpy dtypes of their elements.
_STORAGE_DTYPES = {
    "DoubleStorage": "float64",
    "FloatStorage": "float32",
    "HalfStorage": "float16",
    "LongStorage": "int64",
    "IntStorage": "int32",
    "ShortStorage": "int16",
    "CharStorage": "int8",
    "ByteStorage": "uint8",
    "BoolStorage": "bool",
}


class _StorageType:
    """Stand-in for a class such as ``torch.FloatStorage``: only a dtype."""

    __slots__ = ("name", "dtype")

    def __init__(self, name: str, dtype: str):
        self.name = name
        self.dtype = np.dtype(dtype).newbyteorder("<")

    def __repr__(self):
        return f"torch.{self.name}"


class _Storage:
    """A flat buffer whose bytes follow the pickle; filled in after it."""

    __slots__ = ("key", "storage_type", "numel", "data")

    def __init__(self, key: str, storage_type: _StorageType, numel: int):
        self.key = key
        self.storage_type = storage_type
        self.numel = numel
        self.data = None


class _StorageView:
    """A window ``[offset, offset + numel)`` onto a root storage."""

    __slots__ = ("root", "offset", "numel")

    def __init__(self, root: _Storage, offset: int, numel: int):
        self.root = root
        self.offset = offset
        self.numel = numel


class _TensorRef:
    """What ``_rebuild_tensor_v2`` returns here: a strided view, built later."""

    __slots__ = ("storage", "offset", "size", "stride")

    def __init__(self, storage, offset, size, stride):
        self.storage = storage
        self.offset = offset
        self.size = size
        self.stride = stride


def _is_index(value) -> bool:
    return isinstance(value, int) and not isinstance(value, bool) and value >= 0


def _is_shape(value) -> bool:
    return isinstance(value, tuple | list) and all(_is_index(v) for v in value)


def _rebuild_tensor(storage, storage_offset, size, stride):
    """Stand-in for ``torch._utils._rebuild_tensor``."""
    if not isinstance(storage, _Storage | _StorageView):
        raise pickle.UnpicklingError(
            f"A tensor must be built on a storage. Received: {type(storage).__name__}"
        )
    if not (
        _is_index(storage_offset)
        and _is_shape(size)
        and _is_shape(stride)
        and len(size) == len(stride)
    ):
        raise pickle.UnpicklingError(
            "A tensor needs an integer offset and integer size and stride of "
            f"equal length. Received: offset={storage_offset!r}, size={size!r}, "
            f"stride={stride!r}"
        )
    return _TensorRef(storage, storage_offset, tuple(size), tuple(stride))


def _rebuild_tensor_v2(
    storage,
    storage_offset,
    size,
    stride,
    requires_grad=False,
    backward_hooks=None,
    metadata=None,
):
    """Stand-in for ``torch._utils._rebuild_tensor_v2``; gradients are dropped."""
    return _rebuild_tensor(storage, storage_offset, size, stride)


def _allowed_globals() -> dict:
    allowed = {
        ("collections", "OrderedDict"): collections.OrderedDict,
        ("torch._utils", "_rebuild_tensor"): _rebuild_tensor,
        ("torch._utils", "_rebuild_tensor_v2"): _rebuild_tensor_v2,
    }
    for name, dtype in _STORAGE_DTYPES.items():
        allowed["torch", name] = _StorageType(name, dtype)
    return allowed


class RestrictedUnpickler(pickle.Unpickler):
    """Unpickler that admits only the globals of a tensor state dict.

    Parameters
    ----------
    file : file-like
        Binary stream positioned at a pickle.
    storages : dict or None
        Where storages named by persistent ids are collected (key -> storage);
        ``None`` refuses persistent ids (the header records have none).
    """

    def __init__(self, file, storages: dict | None = None):
        super().__init__(file)
        self._allowed = _allowed_globals()
        self._storages = storages

    def find_class(self, module: str, name: str):
        """Return the stand-in for an admitted global; refuse anything else."""
        try:
            return self._allowed[module, name]
        except KeyError:
            admitted = ", ".join(f"{m}.{n}" for m, n in self._allowed)
            raise pickle.UnpicklingError(
                f"Refusing to load the global '{module}.{name}': this reader "
                f"admits only what a tensor state dict needs ({admitted})."
            ) from None

    def persistent_load(self, pid):
        """Map a ``("storage", type, key, location, numel, view)`` id to a storage."""
        if self._storages is None or not (
            isinstance(pid, tuple) and len(pid) == 6 and pid[0] == "storage"
        ):
            raise pickle.UnpicklingError(
                f"Unsupported persistent id in a PyTorch checkpoint: {pid!r:.200}"
            )
        _, storage_type, key, _location, numel, view = pid
        if not (
            isinstance(storage_type, _StorageType)
            and isinstance(key, str)
            and _is_index(numel)
        ):
            raise pickle.UnpicklingError(f"Malformed storage id: {pid!r:.200}")
        root = self._storages.get(key)
        if root is None:
            root = self._storages[key] = _Storage(key, storage_type, numel)
        elif root.storage_type is not storage_type or root.numel != numel:
            raise pickle.UnpicklingError(f"Inconsistent storage {key!r}.")
        if view is None:
            return root
        if not (
            isinstance(view, tuple)
            and len(view) == 3
            and _is_index(view[1])
            and _is_index(view[2])
            and view[1] + view[2] <= numel
        ):
            raise pickle.UnpicklingError(f"Malformed storage view: {view!r:.200}")
        return _StorageView(root, view[1], view[2])


def _unpickle(f, source: str, storages: dict | None = None):
    try:
        return RestrictedUnpickler(f, storages).load()
    except pickle.UnpicklingError:
        raise
    except (
        EOFError,
        TypeError,
        ValueError,
        AttributeError,
        IndexError,
        KeyError,
    ) as err:
        # A crafted stream can call an admitted stand-in with bad arguments.
        raise pickle.UnpicklingError(
            f"{source!r} is not a readable PyTorch checkpoint: {err}"
        ) from err


def _read_exact(f, n: int) -> bytes:
    data = f.read(n)
    if len(data) != n:
        raise pickle.UnpicklingError(
            f"Truncated PyTorch checkpoint: wanted {n} bytes, found {len(data)}."
        )
    return data


def _read_storages(f, keys, storages: dict, remaining: int) -> None:
    if not (isinstance(keys, list) and all(isinstance(k, str) for k in keys)):
        raise pickle.UnpicklingError("Malformed list of storage keys.")
    for key in keys:
        storage = storages.get(key)
        if storage is None:
            raise pickle.UnpicklingError(f"Unknown storage key {key!r}.")
        (numel,) = np.frombuffer(_read_exact(f, 8), dtype="<i8")
        dtype = storage.storage_type.dtype
        nbytes = int(numel) * dtype.itemsize
        # Check sizes before allocating: a crafted count must not exhaust memory.
        if numel != storage.numel or nbytes > remaining:
            raise pickle.UnpicklingError(
                f"Storage {key!r} declares {int(numel)} elements; expected "
                f"{storage.numel} within the {remaining} bytes left in the file."
            )
        storage.data = np.frombuffer(_read_exact(f, nbytes), dtype=dtype)
        remaining -= nbytes + 8


def _materialize(ref: _TensorRef) -> np.ndarray:
    storage = ref.storage
    start = ref.offset
    if isinstance(storage, _StorageView):
        start += storage.offset
        limit = storage.offset + storage.numel
        storage = storage.root
    else:
        limit = storage.numel
    if storage.data is None:
        raise pickle.UnpicklingError(f"Storage {storage.key!r} has no data.")
    # Check bounds before making a strided view: as_strided does not.
    if 0 not in ref.size:
        last = start + sum(
            (n - 1) * s for n, s in zip(ref.size, ref.stride, strict=True)
        )
        if last >= limit:
            raise pickle.UnpicklingError(
                f"A tensor of size {ref.size} and stride {ref.stride} reaches "
                f"past the end of storage {storage.key!r}."
            )
    data = storage.data
    itemsize = data.dtype.itemsize
    view = np.lib.stride_tricks.as_strided(
        data[start:] if data.size > start else data[:0],
        shape=ref.size,
        strides=tuple(s * itemsize for s in ref.stride),
        writeable=False,
    )
    return np.array(view, dtype=data.dtype.newbyteorder("="), order="C")


def load_state_dict(path: str | os.PathLike) -> dict[str, np.ndarray]:
    """Read a legacy ``torch.save`` state dict into numpy arrays, without torch.

    Parameters
    ----------
    path : str or os.PathLike
        A checkpoint written by ``torch.save`` before PyTorch 1.6 (or with
        ``_use_new_zipfile_serialization=False``).

    Returns
    -------
    state_dict : dict of str to numpy.ndarray
        Tensor name to a contiguous array of the stored dtype, in file order.

    Raises
    ------
    pickle.UnpicklingError
        When the file is not a legacy checkpoint of tensors, or names any
        global beyond those a tensor state dict needs (no code from the file is
        run).
    """
    with open(path, "rb") as f:
        return _load(f, os.path.getsize(path), os.fspath(path))


def _load(f, size: int, source: str) -> dict[str, np.ndarray]:
    if f.read(2) == b"PK":
        raise pickle.UnpicklingError(
            f"{source!r} is a zip-format PyTorch checkpoint (PyTorch 1.6 or "
            "later); this reader handles only the legacy format."
        )
    f.seek(0)
    magic = _unpickle(f, source)
    if magic != MAGIC_NUMBER:
        raise pickle.UnpicklingError(
            f"{source!r} is not a legacy PyTorch checkpoint (wrong magic number)."
        )
    protocol = _unpickle(f, source)
    if protocol != PROTOCOL_VERSION:
        raise pickle.UnpicklingError(
            f"Unsupported PyTorch checkpoint protocol. Received: {protocol!r}"
        )
    sys_info = _unpickle(f, source)
    # Storage bytes are always little-endian; only the pickles could differ.
    if not isinstance(sys_info, dict):
        raise pickle.UnpicklingError(f"{source!r} has a malformed header.")
    storages: dict[str, _Storage] = {}
    obj = _unpickle(f, source, storages)
    keys = _unpickle(f, source)
    _read_storages(f, keys, storages, size - f.tell())
    if not (
        isinstance(obj, dict)
        and all(
            isinstance(k, str) and isinstance(v, _TensorRef) for k, v in obj.items()
        )
    ):
        raise pickle.UnpicklingError(
            "Expected a state dict (a mapping of names to tensors). "
            f"Received: {type(obj).__name__}"
        )
    return {name: _materialize(ref) for name, ref in obj.items()}
