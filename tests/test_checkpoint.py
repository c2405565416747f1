"""checkpoint_dir: atomic, fingerprinted, locked backups that resume a fit."""

import json
import os
import socket
import subprocess
import sys
import threading
import warnings
from contextlib import contextmanager

import keras
import numpy as np
import pytest
from conftest import FAST

from applied_ml import TabularClassifier, _checkpoint
from applied_ml._checkpoint import LOCK_FILE, STATE_FILE

PARAMS = {**FAST, "epochs": 5, "early_stopping": False, "validation_fraction": 0}


class Crash(keras.callbacks.Callback):
    """Interrupts training at the end of epoch ``at`` (after its backup)."""

    def __init__(self, at):
        super().__init__()
        self.at = at

    def on_epoch_end(self, epoch, logs=None):
        if epoch == self.at:
            raise KeyboardInterrupt("simulated kill")


@pytest.fixture(scope="session")
def data(breast_cancer):
    X, y = breast_cancer
    return X.iloc[:200], y.iloc[:200]


@contextmanager
def _warns(match):
    """pytest.warns, without re-raising Keras' own deprecation warnings."""
    with pytest.warns(UserWarning, match=match), warnings.catch_warnings():
        warnings.filterwarnings("ignore", category=DeprecationWarning)
        yield


def _interrupted(folder, X, y, at=2, **params):
    """A fit killed after epoch ``at``: backups of epochs at+1 and at remain."""
    with pytest.raises(KeyboardInterrupt):
        TabularClassifier(
            **{**PARAMS, **params}, checkpoint_dir=folder.parent, callbacks=(Crash(at),)
        ).fit(X, y)
    return json.loads((folder / STATE_FILE).read_text())["backups"]


def test_completed_fit_removes_its_backup(data, tmp_path):
    X, y = data
    folder = tmp_path / "ckpt" / "train"
    TabularClassifier(**PARAMS, checkpoint_dir=folder.parent).fit(X, y)
    assert not folder.exists()


def test_resumes_the_same_fit(data, tmp_path):
    X, y = data
    folder = tmp_path / "ckpt" / "train"
    backups = _interrupted(folder, X, y)
    assert [b["epoch"] for b in backups] == [3, 2]
    resumed = TabularClassifier(**PARAMS, checkpoint_dir=folder.parent).fit(X, y)
    assert resumed.n_iter_ == 2
    assert not folder.exists()


def test_corrupt_newest_backup_falls_back_to_the_previous(data, tmp_path):
    X, y = data
    folder = tmp_path / "ckpt" / "train"
    newest = folder / _interrupted(folder, X, y)[0]["file"]
    newest.write_bytes(newest.read_bytes()[:100])  # truncated mid-write
    with _warns(r"resumes from the previous one \(epoch 2"):
        resumed = TabularClassifier(**PARAMS, checkpoint_dir=folder.parent).fit(X, y)
    assert resumed.n_iter_ == 3


def test_no_readable_backup_restarts_with_a_warning(data, tmp_path):
    X, y = data
    folder = tmp_path / "ckpt" / "train"
    for backup in _interrupted(folder, X, y):
        (folder / backup["file"]).write_bytes(b"garbage")
    with _warns("restarts from the first epoch"):
        restarted = TabularClassifier(**PARAMS, checkpoint_dir=folder.parent).fit(X, y)
    assert restarted.n_iter_ == PARAMS["epochs"]
    fresh = TabularClassifier(**PARAMS).fit(X, y)
    np.testing.assert_array_equal(restarted.predict_proba(X), fresh.predict_proba(X))


def test_unreadable_state_restarts_with_a_warning(data, tmp_path):
    X, y = data
    folder = tmp_path / "ckpt" / "train"
    _interrupted(folder, X, y)
    (folder / STATE_FILE).write_text('{"backups": [')
    with _warns("state .* is unreadable"):
        restarted = TabularClassifier(**PARAMS, checkpoint_dir=folder.parent).fit(X, y)
    assert restarted.n_iter_ == PARAMS["epochs"]


def test_kill_while_writing_a_backup_keeps_the_previous_one(
    data, tmp_path, monkeypatch
):
    X, y = data
    folder = tmp_path / "ckpt" / "train"
    calls = []
    real = _checkpoint._write_atomic

    def killed_on_third_state(path, payload):
        if path.endswith(STATE_FILE):
            calls.append(path)
            if len(calls) == 3:  # the weights of epoch 2 are written, not committed
                raise KeyboardInterrupt("killed mid-backup")
        real(path, payload)

    monkeypatch.setattr(_checkpoint, "_write_atomic", killed_on_third_state)
    with pytest.raises(KeyboardInterrupt):
        TabularClassifier(**PARAMS, checkpoint_dir=folder.parent).fit(X, y)
    monkeypatch.undo()
    resumed = TabularClassifier(**PARAMS, checkpoint_dir=folder.parent).fit(X, y)
    assert resumed.n_iter_ == PARAMS["epochs"] - 2


def test_write_atomic_keeps_the_old_file_when_interrupted(tmp_path, monkeypatch):
    path = tmp_path / "state.json"
    path.write_text("old")

    def killed(src, dst):
        raise KeyboardInterrupt

    monkeypatch.setattr(os, "replace", killed)
    with pytest.raises(KeyboardInterrupt):
        _checkpoint._write_atomic(str(path), b"new")
    monkeypatch.undo()
    assert path.read_text() == "old"
    assert os.listdir(tmp_path) == ["state.json"]


def test_backup_of_another_architecture_is_refused(data, tmp_path):
    X, y = data
    folder = tmp_path / "ckpt" / "train"
    _interrupted(folder, X, y)
    other = TabularClassifier(
        **{**PARAMS, "hidden_units": (8,)}, checkpoint_dir=folder.parent
    )
    with pytest.raises(ValueError, match="backup of a different fit") as err:
        other.fit(X, y)
    message = str(err.value)
    assert repr(str(folder)) in message
    assert "params.hidden_units was [16] in the backup, now [8]" in message
    assert "Remove the folder or use another `checkpoint_dir`" in message
    # the backup is untouched: the original fit still resumes
    resumed = TabularClassifier(**PARAMS, checkpoint_dir=folder.parent).fit(X, y)
    assert resumed.n_iter_ == 2


def test_backup_of_other_data_is_refused(data, tmp_path):
    X, y = data
    folder = tmp_path / "ckpt" / "train"
    _interrupted(folder, X, y)
    other = TabularClassifier(**PARAMS, checkpoint_dir=folder.parent)
    with pytest.raises(ValueError, match=r"different fit .*data\.train"):
        other.fit(X.iloc[:150], y.iloc[:150])
    shifted = X.copy()
    shifted.iloc[0, 0] += 1.0  # same shape, other values
    with pytest.raises(ValueError, match=r"data\.train was .*sha256"):
        other.fit(shifted, y)


def test_backup_of_another_seed_is_refused(data, tmp_path):
    X, y = data
    folder = tmp_path / "ckpt" / "train"
    _interrupted(folder, X, y)
    other = TabularClassifier(
        **{**PARAMS, "random_state": 1}, checkpoint_dir=folder.parent
    )
    with pytest.raises(ValueError, match="params.random_state"):
        other.fit(X, y)


def test_backup_without_fingerprint_is_refused(data, tmp_path):
    X, y = data
    folder = tmp_path / "ckpt" / "train"
    folder.mkdir(parents=True)
    (folder / "latest.weights.h5").write_bytes(b"")
    (folder / "training_metadata.json").write_text('{"epoch": 2}')
    with pytest.raises(ValueError, match="backup without a fingerprint"):
        TabularClassifier(**PARAMS, checkpoint_dir=folder.parent).fit(X, y)


def test_lock_refuses_a_concurrent_fit_in_another_thread(data, tmp_path):
    X, y = data
    folder = tmp_path / "ckpt" / "train"
    training, release = threading.Event(), threading.Event()

    class Pause(keras.callbacks.Callback):
        def on_epoch_end(self, epoch, logs=None):
            if epoch == 0:
                training.set()
                release.wait(60)

    first = TabularClassifier(
        **PARAMS, checkpoint_dir=folder.parent, callbacks=(Pause(),)
    )
    errors = []

    def run():
        try:
            first.fit(X, y)
        except Exception as err:  # reported by the assertion below
            errors.append(err)

    thread = threading.Thread(target=run)
    thread.start()
    try:
        assert training.wait(60)
        second = TabularClassifier(**PARAMS, checkpoint_dir=folder.parent)
        with pytest.raises(ValueError, match="is in use by another fit") as err:
            second.fit(X, y)
        assert "need one `checkpoint_dir` each" in str(err.value)
        assert repr(str(folder)) in str(err.value)
    finally:
        release.set()
        thread.join()
    assert errors == []
    assert first.n_iter_ == PARAMS["epochs"]
    assert not folder.exists()


def test_lock_of_a_live_process_is_refused(data, tmp_path):
    X, y = data
    folder = tmp_path / "ckpt" / "train"
    folder.mkdir(parents=True)
    holder = {"pid": os.getppid(), "host": socket.gethostname(), "thread": 1}
    (folder / LOCK_FILE).write_text(json.dumps(holder))
    with pytest.raises(ValueError, match=f"process {os.getppid()}"):
        TabularClassifier(**PARAMS, checkpoint_dir=folder.parent).fit(X, y)
    assert (folder / LOCK_FILE).exists()


def test_stale_lock_of_a_dead_process_is_taken_over(data, tmp_path):
    X, y = data
    folder = tmp_path / "ckpt" / "train"
    folder.mkdir(parents=True)
    dead = subprocess.run(
        [sys.executable, "-c", "import os; print(os.getpid())"],
        capture_output=True,
        text=True,
        check=True,
    )
    holder = {"pid": int(dead.stdout), "host": socket.gethostname(), "thread": 1}
    (folder / LOCK_FILE).write_text(json.dumps(holder))
    clf = TabularClassifier(**PARAMS, checkpoint_dir=folder.parent).fit(X, y)
    assert clf.n_iter_ == PARAMS["epochs"]
    assert not folder.exists()


def test_backup_callback_on_a_plain_keras_model(tmp_path):
    x = np.random.RandomState(0).normal(size=(32, 3)).astype("float32")
    y = x.sum(axis=1)

    def model():
        m = keras.Sequential([keras.Input((3,)), keras.layers.Dense(1)])
        m.compile("sgd", "mse")
        return m

    folder = str(tmp_path / "phase")
    fingerprint = {"task": "plain"}
    with pytest.raises(KeyboardInterrupt):
        model().fit(
            x,
            y,
            epochs=4,
            verbose=0,
            callbacks=[_checkpoint.BackupCallback(folder, fingerprint), Crash(1)],
        )
    history = model().fit(
        x,
        y,
        epochs=4,
        verbose=0,
        callbacks=[_checkpoint.BackupCallback(folder, fingerprint)],
    )
    assert len(history.history["loss"]) == 2
    assert not os.path.exists(folder)


def test_tf_data_fit_is_fingerprinted_by_its_spec_and_length(data, tmp_path):
    import tensorflow as tf

    X, y = data
    folder = tmp_path / "ckpt" / "train"

    def dataset(n):
        return tf.data.Dataset.from_tensor_slices((dict(X[:n]), y[:n])).batch(32)

    with pytest.raises(KeyboardInterrupt):
        TabularClassifier(
            **PARAMS, checkpoint_dir=folder.parent, callbacks=(Crash(1),)
        ).fit(dataset(200))
    with pytest.raises(ValueError, match=r"data\.train\.batches was 7 .*now 5"):
        TabularClassifier(**PARAMS, checkpoint_dir=folder.parent).fit(dataset(150))
    resumed = TabularClassifier(**PARAMS, checkpoint_dir=folder.parent).fit(
        dataset(200)
    )
    assert resumed.n_iter_ == PARAMS["epochs"] - 2
