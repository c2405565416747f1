"""Resumable training that never resumes the wrong thing.

:class:`BackupCallback` keeps the resume semantics of
``keras.callbacks.BackupAndRestore`` (the next ``fit`` continues at the
epoch after the last backup) and adds three guarantees:

- Atomic backups. Weights go to a new file, which is flushed to disk before
  ``state.json`` (written to a temporary file, flushed, then renamed over
  the old one) points to it; a kill at any moment leaves the previous backup
  intact. The two newest backups are kept with their SHA-256: if the newest
  is unreadable the previous one is used, and if none is, training restarts
  from the first epoch with a warning.
- Fingerprints. ``fingerprint.json`` records what the backup belongs to (the
  estimator, its parameters, the training data, the model's weight layout);
  a backup of another fit is refused with a ``ValueError``, never resumed.
- One fit per folder. A lock file (created with ``O_EXCL``, holding pid,
  host and thread) is taken at the start of training and removed at the end;
  a second fit on the same folder gets a ``ValueError``. A lock left by a
  dead process, or by an interrupted fit of this thread, is taken over.
"""

import hashlib
import json
import os
import shutil
import socket
import threading
import uuid
import warnings

import keras
import numpy as np

from applied_ml.cluster import (
    agree_with_chief,
    all_agree,
    is_chief,
    is_multi_worker,
    task_index,
)

STATE_FILE = "state.json"
FINGERPRINT_FILE = "fingerprint.json"
LOCK_FILE = "applied_ml.lock"
_WEIGHTS_PREFIX = "backup-"
_WEIGHTS_SUFFIX = ".weights.h5"
# Parameters that do not change what is trained
_UNFINGERPRINTED = frozenset({"verbose", "callbacks", "checkpoint_dir", "log_dir"})
# Rows and bytes of training data hashed for the fingerprint (evenly spaced)
_HASH_ROWS = 1024
_HASH_BYTES = 16 * 2**20


class BackupCallback(keras.callbacks.BackupAndRestore):
    """Back up training to ``directory`` and resume from it, refusing strangers.

    Parameters
    ----------
    directory : str
        Folder of this training phase's backup (created when needed). It must
        not be shared by fits that run at the same time.
    fingerprint : dict
        JSON-serializable description of the fit (see :func:`fit_fingerprint`);
        a backup written under another fingerprint is refused. The model's
        weight layout is added by the callback itself.
    save_freq : "epoch" or int, default="epoch"
        As in ``keras.callbacks.BackupAndRestore``.
    """

    def __init__(self, directory, fingerprint: dict, save_freq="epoch"):
        super().__init__(os.fspath(directory), save_freq=save_freq)
        self.fingerprint = fingerprint
        self._lock_token = None
        self._backups = []
        self._chief = True

    # ----------------------------------------------------------------- begin
    def on_train_begin(self, logs=None):
        if not self.model.built:
            raise ValueError(
                "BackupCallback needs a built model before `fit`. Received an "
                f"unbuilt model: {self.model.name}"
            )
        strategy = self.model.distribute_strategy
        self._chief = not is_multi_worker(strategy) or is_chief()
        if self._chief and not is_multi_worker(strategy):
            self._begin()
            return
        # Multi-worker: the chief owns the folder; every worker restores from
        # it (so it must be on storage all of them read), and all must resume
        # at the same epoch or none trains.
        error = None
        try:
            self._begin()
        except Exception as err:  # re-raised below, once all workers know
            error = err
        # -1 for a worker that failed, which no worker that restored matches
        epoch = -1 if error is not None else (self.model._initial_epoch or 0)
        agreed, chief_epoch = agree_with_chief(strategy, epoch)
        if error is not None:
            raise error
        if not agreed:
            raise ValueError(
                f"The workers of this multi-worker fit could not all resume from "
                f"the chief's backup in `checkpoint_dir`: every worker must read "
                f"the folder the chief writes (a shared file system or bucket). "
                f"Received: resume epoch {epoch} on this worker, {chief_epoch} on "
                f"the chief, folder {self.backup_dir!r}"
            )

    def _begin(self) -> None:
        """Check the folder and restore its newest backup, if any."""
        fingerprint = {**self.fingerprint, "model": _weight_layout(self.model)}
        if not self._chief:  # reads only
            self._backups = self._check_backup(fingerprint)
            if self._backups:
                self._restore()
            return
        os.makedirs(self.backup_dir, exist_ok=True)
        self._lock_token = _acquire_lock(self.backup_dir)
        try:
            self._backups = self._check_backup(fingerprint)
            if self._backups:
                self._restore()
            else:
                self._clear_backups()
                _write_atomic(
                    os.path.join(self.backup_dir, FINGERPRINT_FILE),
                    json.dumps(fingerprint, sort_keys=True).encode(),
                )
        except BaseException:
            _release_lock(self.backup_dir, self._lock_token)
            self._lock_token = None
            raise

    def _check_backup(self, fingerprint: dict) -> list:
        """The backups in the folder, once their fingerprint is checked."""
        folder = self.backup_dir
        state_path = os.path.join(folder, STATE_FILE)
        legacy = os.path.exists(os.path.join(folder, "latest.weights.h5"))
        if not os.path.exists(state_path):
            if legacy:
                raise ValueError(
                    f"`checkpoint_dir` holds a backup without a fingerprint "
                    f"(written by keras.callbacks.BackupAndRestore or an older "
                    f"applied_ml) in {folder!r}, so it cannot be checked against "
                    f"this fit. Remove the folder or use another `checkpoint_dir`."
                )
            return []
        try:
            with open(state_path, encoding="utf-8") as f:
                backups = json.load(f)["backups"]
        except (OSError, ValueError, KeyError, TypeError) as err:
            warnings.warn(
                f"The backup state in {folder!r} is unreadable ({err}); "
                f"training restarts from the first epoch.",
                UserWarning,
                stacklevel=2,
            )
            return []
        try:
            with open(os.path.join(folder, FINGERPRINT_FILE), encoding="utf-8") as f:
                stored = json.load(f)
        except (OSError, ValueError) as err:
            raise ValueError(
                f"`checkpoint_dir` holds a backup in {folder!r} whose fingerprint "
                f"is missing or unreadable ({err}), so it cannot be checked "
                f"against this fit. Remove the folder or use another "
                f"`checkpoint_dir`."
            ) from None
        differences = _differences(stored, fingerprint)
        if differences:
            raise ValueError(
                f"`checkpoint_dir` holds a backup of a different fit in "
                f"{folder!r}, which cannot be resumed: "
                f"{'; '.join(differences)}. Remove the folder or use another "
                f"`checkpoint_dir`."
            )
        return backups

    def _restore(self) -> None:
        """Load the newest readable backup; restart cleanly if none is."""
        model = self.model
        if model.optimizer is not None and not model.optimizer.built:
            model.optimizer.build(model.trainable_variables)
        variables = list(model.variables)
        if model.optimizer is not None:
            variables += list(model.optimizer.variables)
        snapshot = [v.numpy() for v in variables]
        for rank, backup in enumerate(self._backups):
            path = os.path.join(self.backup_dir, backup["file"])
            problem = _unreadable(path, backup["sha256"])
            if problem is None:
                try:
                    model.load_weights(path)
                except (OSError, ValueError) as err:
                    problem = str(err)
                    for variable, value in zip(variables, snapshot, strict=True):
                        variable.assign(value)
            if problem is None:
                if rank:
                    warnings.warn(
                        f"The newest backup in {self.backup_dir!r} is unreadable; "
                        f"training resumes from the previous one (epoch "
                        f"{backup['epoch']}).",
                        UserWarning,
                        stacklevel=3,
                    )
                model._initial_epoch = backup["epoch"]
                self._backups = self._backups[rank:]
                return
        warnings.warn(
            f"No backup in {self.backup_dir!r} is readable ({problem}); training "
            f"restarts from the first epoch.",
            UserWarning,
            stacklevel=3,
        )
        self._backups = []
        if self._chief:
            self._clear_backups(keep_fingerprint=True)

    # ------------------------------------------------------------------ save
    def _save_model(self):
        if not self._chief:
            # As TensorFlow's multi-worker checkpointing does: the others
            # write to a temporary folder of their own, then remove it.
            temporary = os.path.join(self.backup_dir, f"workertemp_{task_index()}")
            os.makedirs(temporary, exist_ok=True)
            self.model.save_weights(os.path.join(temporary, "backup.weights.h5"))
            shutil.rmtree(temporary, ignore_errors=True)
            return
        folder = self.backup_dir
        os.makedirs(folder, exist_ok=True)
        number = 1 + max((b["number"] for b in self._backups), default=0)
        name = f"{_WEIGHTS_PREFIX}{number}{_WEIGHTS_SUFFIX}"
        path = os.path.join(folder, name)
        self.model.save_weights(path, overwrite=True)
        _fsync(path)
        backup = {
            "file": name,
            "number": number,
            "epoch": self._current_epoch,
            "batch": self._last_batch_seen,
            "sha256": _sha256(path),
        }
        self._backups = [backup, *self._backups[:1]]
        _write_atomic(
            os.path.join(folder, STATE_FILE),
            json.dumps({"format": 1, "backups": self._backups}).encode(),
        )
        keep = {b["file"] for b in self._backups}
        for old in os.listdir(folder):
            if (
                old.startswith(_WEIGHTS_PREFIX)
                and old.endswith(_WEIGHTS_SUFFIX)
                and old not in keep
            ):
                _remove(os.path.join(folder, old))

    # ------------------------------------------------------------------- end
    def on_train_end(self, logs=None):
        # `_restore` set the epoch this fit resumed at; Keras never resets it,
        # so the model's next `fit` (the next training phase, a warm start)
        # would skip that many epochs.
        self.model._initial_epoch = None
        strategy = self.model.distribute_strategy
        if is_multi_worker(strategy):
            # a barrier: every worker has written its last backup
            all_agree(strategy, True)
        if not self._chief:
            return
        if self.delete_checkpoint:
            self._clear_backups()
        _release_lock(self.backup_dir, self._lock_token)
        self._lock_token = None
        try:
            os.rmdir(self.backup_dir)  # only when nothing else is in it
        except OSError:
            pass

    def _clear_backups(self, keep_fingerprint: bool = False) -> None:
        folder = self.backup_dir
        for name in os.listdir(folder):
            ours = (
                name.startswith(_WEIGHTS_PREFIX) and name.endswith(_WEIGHTS_SUFFIX)
            ) or name == STATE_FILE
            if ours or (name == FINGERPRINT_FILE and not keep_fingerprint):
                _remove(os.path.join(folder, name))


# ------------------------------------------------------------- fingerprints
def fit_fingerprint(estimator, data, seed: int | None) -> dict:
    """What a backup of ``estimator``'s fit on ``data`` belongs to.

    ``data`` is the fit's ``applied_ml.data.FitData`` (its in-memory examples
    when there are any, else the ``train`` tf.data pipeline); ``seed`` stands
    for ``random_state``, which may be a live ``RandomState``.
    """
    params = {
        name: _describe(value)
        for name, value in estimator.get_params(deep=False).items()
        if name not in _UNFINGERPRINTED
    }
    if "random_state" in params:
        params["random_state"] = seed
    if data.train_examples is not None:
        described = {"train": _describe_parts(_parts(data.train_examples))}
        if data.validation_examples is not None:
            described["validation"] = _describe_parts(_parts(data.validation_examples))
    else:
        train = data.train
        described = {
            "train": {
                "element_spec": str(train.element_spec),
                "batches": int(train.cardinality()),
            }
        }
    return {
        "estimator": type(estimator).__name__,
        "params": params,
        "data": described,
    }


def fingerprint_digest(fingerprint: dict) -> int:
    """A 52-bit number standing for ``fingerprint`` (exact in a float64)."""
    text = json.dumps(fingerprint, sort_keys=True).encode()
    return int(hashlib.sha256(text).hexdigest()[:13], 16)


def _parts(examples: dict) -> tuple:
    return tuple(examples[k] for k in ("inputs", "targets", "weights") if k in examples)


def _describe(value):
    """A JSON value standing for a parameter value (stable across runs)."""
    if value is None or isinstance(value, bool | int | float | str):
        return value
    if isinstance(value, np.generic):
        return value.item()
    if isinstance(value, list | tuple):
        return [_describe(v) for v in value]
    if isinstance(value, dict):
        return {str(k): _describe(v) for k, v in value.items()}
    text = repr(value)
    if " at 0x" in text:  # default repr: the type is all that is stable
        return type(value).__qualname__
    return text


def _describe_parts(parts: tuple) -> list:
    """Rows, dtypes, shapes and a hash of evenly spaced rows of each array."""
    described = []
    for part in parts:
        columns = part if isinstance(part, dict) else {"": part}
        for name, array in sorted(columns.items()):
            array = np.asarray(array)
            n = len(array)
            row_bytes = max(1, array[:1].nbytes)
            k = max(1, min(n, _HASH_ROWS, _HASH_BYTES // row_bytes))
            sample = array[np.linspace(0, max(n - 1, 0), k).astype(int)] if n else array
            digest = hashlib.sha256()
            if sample.dtype.kind == "O":
                digest.update(repr(sample.tolist()).encode())
            else:
                digest.update(np.ascontiguousarray(sample).tobytes())
            described.append(
                {
                    "name": name,
                    "dtype": str(array.dtype),
                    "shape": list(array.shape),
                    "sha256": digest.hexdigest()[:16],
                }
            )
    return described


def _weight_layout(model) -> str:
    """Digest of the shapes, dtypes and trainability of the model's weights."""
    layout = [(tuple(w.shape), str(w.dtype), bool(w.trainable)) for w in model.weights]
    return hashlib.sha256(repr(layout).encode()).hexdigest()[:16]


def _differences(stored: dict, current: dict, prefix: str = "") -> list:
    """Human-readable differences between two fingerprints."""
    found = []
    for key in sorted(set(stored) | set(current)):
        name = f"{prefix}{key}"
        old, new = stored.get(key), current.get(key)
        if isinstance(old, dict) and isinstance(new, dict):
            found += _differences(old, new, f"{name}.")
        elif old != new:
            if name == "model":
                found.append("the model's weights differ in shape or trainability")
            else:
                found.append(
                    f"{name} was {_short(old)} in the backup, now {_short(new)}"
                )
    return found


def _short(value, limit: int = 80) -> str:
    text = json.dumps(value)
    return text if len(text) <= limit else f"{text[: limit - 3]}..."


# ------------------------------------------------------------------- files
def _write_atomic(path: str, data: bytes) -> None:
    """Write ``data`` to ``path`` so that a kill leaves the old file or the new."""
    temporary = f"{path}.{uuid.uuid4().hex}.tmp"
    try:
        with open(temporary, "wb") as f:
            f.write(data)
            f.flush()
            os.fsync(f.fileno())
        os.replace(temporary, path)
    finally:
        _remove(temporary)
    _fsync_folder(os.path.dirname(path))


def _fsync(path: str) -> None:
    with open(path, "rb") as f:
        os.fsync(f.fileno())


def _fsync_folder(folder: str) -> None:
    try:
        fd = os.open(folder, os.O_RDONLY)
    except OSError:  # folders cannot be opened on Windows
        return
    try:
        os.fsync(fd)
    except OSError:
        pass
    finally:
        os.close(fd)


def _sha256(path: str) -> str:
    digest = hashlib.sha256()
    with open(path, "rb") as f:
        for block in iter(lambda: f.read(2**20), b""):
            digest.update(block)
    return digest.hexdigest()


def _unreadable(path: str, sha256: str) -> str | None:
    """Why the backup file at ``path`` cannot be used (None when it can)."""
    try:
        actual = _sha256(path)
    except OSError as err:
        return str(err)
    if actual != sha256:
        return f"{os.path.basename(path)} does not match its checksum"
    return None


def _remove(path: str) -> None:
    try:
        os.remove(path)
    except FileNotFoundError:
        pass


# -------------------------------------------------------------------- lock
def _acquire_lock(folder: str) -> str:
    """Create the folder's lock file; its token. ValueError when it is held."""
    path = os.path.join(folder, LOCK_FILE)
    token = uuid.uuid4().hex
    owner = {
        "pid": os.getpid(),
        "host": socket.gethostname(),
        "thread": threading.get_native_id(),
        "token": token,
    }
    for _ in range(3):
        try:
            fd = os.open(path, os.O_CREAT | os.O_EXCL | os.O_WRONLY, 0o644)
        except FileExistsError:
            holder = _read_lock(path)
            if holder is None or not _is_stale(holder):
                raise ValueError(_busy_message(folder, holder)) from None
            # Take the stale lock over, unless someone else just did
            if _read_lock(path) == holder:
                _remove(path)
            continue
        with os.fdopen(fd, "w", encoding="utf-8") as f:
            json.dump(owner, f)
            f.flush()
            os.fsync(f.fileno())
        return token
    raise ValueError(_busy_message(folder, _read_lock(path)))


def _release_lock(folder: str, token: str | None) -> None:
    path = os.path.join(folder, LOCK_FILE)
    holder = _read_lock(path)
    if token is not None and holder is not None and holder.get("token") == token:
        _remove(path)


def _read_lock(path: str) -> dict | None:
    try:
        with open(path, encoding="utf-8") as f:
            holder = json.load(f)
    except (OSError, ValueError):
        return None
    return holder if isinstance(holder, dict) else None


def _is_stale(holder: dict) -> bool:
    """Whether the fit that wrote this lock has certainly ended."""
    if holder.get("host") != socket.gethostname():
        return False  # no way to tell whether a process on another host runs
    pid = holder.get("pid")
    if not isinstance(pid, int):
        return False
    if pid != os.getpid():
        try:
            os.kill(pid, 0)
        except ProcessLookupError:
            return True
        except OSError:  # exists, owned by someone else
            return False
        return False
    # This process: Keras skips on_train_end when fit raises, so an
    # interrupted fit leaves its lock; it has ended unless its thread runs.
    thread = holder.get("thread")
    if thread == threading.get_native_id():
        return True
    return thread not in {t.native_id for t in threading.enumerate()}


def _busy_message(folder: str, holder: dict | None) -> str:
    who = (
        "another fit"
        if holder is None
        else f"another fit (process {holder.get('pid')} on {holder.get('host')!r})"
    )
    return (
        f"`checkpoint_dir` is in use by {who}: {folder!r} is locked. Fits that "
        f"run at the same time (e.g. GridSearchCV with n_jobs > 1) need one "
        f"`checkpoint_dir` each. If no other fit is running, remove "
        f"{os.path.join(folder, LOCK_FILE)!r}."
    )
