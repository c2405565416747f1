"""TensorBoard logs of ``log_dir``: scalars per epoch, sample images, no logs
without it, only the chief's under multi-worker."""

import os

import numpy as np
import pytest
import tensorflow as tf
from sklearn.base import clone
from tensorboard.backend.event_processing.event_accumulator import EventAccumulator

import applied_ml.base
from applied_ml import ImageClassifier, ImageSegmenter, ObjectDetector
from applied_ml._tensorboard import N_SAMPLES
from applied_ml.vision._sample_images import class_palette
from tests.test_contract import (
    CASES,
    SMALL_CNN,
    Crash,
    _boxes,
    _images,
    _masks,
    _rows,
    _table,
)
from tests.toy_estimator import ToyAutoencoder

pytestmark = pytest.mark.xdist_group("tensorboard")


def _params(cls) -> dict:
    return next(c.params for c in CASES if c.cls is cls)


def _tensors(folder) -> dict:
    """Tag to ``[(step, value as ndarray), ...]`` of a run folder."""
    events = EventAccumulator(os.fspath(folder), size_guidance={"tensors": 0})
    events.Reload()
    return {
        tag: [(e.step, tf.make_ndarray(e.tensor_proto)) for e in events.Tensors(tag)]
        for tag in events.Tags()["tensors"]
    }


def _scalars(folder) -> dict:
    return {
        tag: [(step, float(value)) for step, value in values]
        for tag, values in _tensors(folder).items()
        if tag in {"loss", "accuracy", "learning_rate"}
    }


def _decoded(value: np.ndarray) -> list[np.ndarray]:
    """The images of an image summary (width, height, then PNGs)."""
    return [tf.io.decode_png(png).numpy() for png in value[2:]]


def test_scalars_per_epoch_equal_the_history(tmp_path):
    from applied_ml import TabularClassifier

    case = next(c for c in CASES if c.cls is TabularClassifier)
    clf = case.make(epochs=3, early_stopping=False, log_dir=tmp_path)
    clf.fit(*_table("class"))
    assert sorted(os.listdir(tmp_path)) == ["train"]
    assert sorted(os.listdir(tmp_path / "train")) == ["train", "validation"]
    for run, prefix in (("train", ""), ("validation", "val_")):
        scalars = _scalars(tmp_path / "train" / run)
        for name in ("loss", "accuracy"):
            steps, values = zip(*scalars[name], strict=True)
            assert steps == (0, 1, 2)
            np.testing.assert_allclose(values, clf.history_[prefix + name], rtol=1e-6)
    rates = _scalars(tmp_path / "train" / "train")["learning_rate"]
    np.testing.assert_allclose([v for _, v in rates], clf.learning_rate, rtol=1e-6)


def test_log_dir_survives_clone_and_get_params(tmp_path):
    estimator = ToyAutoencoder(log_dir=tmp_path)
    assert estimator.get_params()["log_dir"] == tmp_path
    assert clone(estimator).log_dir == tmp_path


class _TwoPhases(ToyAutoencoder):
    """The toy task trained in two phases."""

    def _phases(self) -> tuple:
        return ("train", "again")


def test_steps_continue_over_phases_warm_starts_and_max_steps(tmp_path):
    (X,) = _rows()
    # 60 rows of batch 16 make 4 steps an epoch: max_steps=10 ends the third
    # epoch early, which is logged like the others
    estimator = _TwoPhases(epochs=3, max_steps=10, random_state=0, log_dir=tmp_path)
    estimator.fit(X)
    steps = [s for s, _ in _scalars(tmp_path / "train" / "train")["loss"]]
    assert steps == [0, 1, 2]
    steps = [s for s, _ in _scalars(tmp_path / "again" / "train")["loss"]]
    assert steps == [3, 4, 5]
    assert not (tmp_path / "train" / "validation").exists()  # no split: no run
    estimator.set_params(warm_start=True, max_steps=None, epochs=1).fit(X)
    losses = _scalars(tmp_path / "again" / "train")["loss"]
    assert [s for s, _ in losses] == [3, 4, 5, 7]
    assert losses[-1][1] == pytest.approx(estimator.history_["loss"][-1], rel=1e-6)


def test_a_resumed_fit_logs_from_the_resumed_epoch_elsewhere(tmp_path):
    # log_dir does not change what is trained: a backup resumes with another
    (X,) = _rows()
    params = {"epochs": 3, "random_state": 0, "checkpoint_dir": tmp_path / "ckpt"}
    with pytest.raises(KeyboardInterrupt):
        ToyAutoencoder(**params, log_dir=tmp_path / "a", callbacks=[Crash(0)]).fit(X)
    resumed = ToyAutoencoder(**params, log_dir=tmp_path / "b").fit(X)
    losses = _scalars(tmp_path / "b" / "train" / "train")["loss"]
    assert [s for s, _ in losses] == [1, 2]
    assert [v for _, v in losses] == pytest.approx(resumed.history_["loss"], rel=1e-6)


def test_mirrored_strategy_logs_the_history(tmp_path):
    (X,) = _rows()
    estimator = ToyAutoencoder(
        epochs=2, strategy="mirrored", random_state=0, log_dir=tmp_path
    ).fit(X)
    losses = _scalars(tmp_path / "train" / "train")["loss"]
    assert [v for _, v in losses] == pytest.approx(estimator.history_["loss"], rel=1e-6)


def test_nothing_is_written_without_log_dir(tmp_path, monkeypatch):
    def refuse(*args, **kwargs):
        raise AssertionError("a summary writer was made without log_dir")

    monkeypatch.setattr(tf.summary, "create_file_writer", refuse)
    monkeypatch.chdir(tmp_path)
    (X,) = _rows()
    ToyAutoencoder(epochs=1, random_state=0).fit(X)
    assert os.listdir(tmp_path) == []


def test_only_the_chief_writes(tmp_path, monkeypatch):
    # a worker other than the chief of a multi-worker job
    monkeypatch.setattr(applied_ml.base, "writes_here", lambda strategy: False)
    (X,) = _rows()
    ToyAutoencoder(epochs=1, random_state=0, log_dir=tmp_path / "logs").fit(X)
    assert not (tmp_path / "logs").exists()


@pytest.mark.parametrize(
    ("log_dir", "error", "match"),
    [
        (3, TypeError, r"`log_dir` must be a path .* Received: log_dir=3"),
        ("", ValueError, r"`log_dir` must be a non-empty path.* Received: log_dir=''"),
    ],
)
def test_a_bad_log_dir_is_refused(log_dir, error, match):
    with pytest.raises(error, match=match):
        ToyAutoencoder(log_dir=log_dir).fit(_rows()[0])


def test_image_classifier_logs_labelled_samples(tmp_path):
    X, y = _images()
    params = {**SMALL_CNN, "image_size": 32, "epochs": 2}
    clf = ImageClassifier(**params, random_state=0, log_dir=tmp_path).fit(X, y)
    tensors = _tensors(tmp_path / "train" / "validation")
    samples = {tag: v for tag, v in tensors.items() if tag.startswith("sample_")}
    # one card per sample and predicted label; every epoch has each sample once
    assert {tag.split("/")[0] for tag in samples} == {
        f"sample_{i}" for i in range(N_SAMPLES)
    }
    steps = sorted(step for values in samples.values() for step, _ in values)
    assert steps == [0] * N_SAMPLES + [1] * N_SAMPLES
    for tag, values in samples.items():
        _, true, label = tag.split("/")
        assert true.removeprefix("true_") in {str(c) for c in clf.classes_}
        assert label.removeprefix("predicted_") in {str(c) for c in clf.classes_}
        (image,) = _decoded(values[0][1])
        assert image.shape == (32, 32, 3)


def test_segmenter_logs_image_true_and_predicted_masks(tmp_path):
    X, y = _masks()
    params = {**_params(ImageSegmenter), "epochs": 1}
    ImageSegmenter(**params, random_state=0, log_dir=tmp_path).fit(X[:30], y[:30])
    (step, value), *_ = _tensors(tmp_path / "train" / "validation")["segmentation"]
    images = _decoded(value)
    assert step == 0
    assert len(images) == 3  # 10% of 30 images held out
    size = params["image_size"]
    assert images[0].shape == (size, 3 * size + 4, 3)  # three panels, two gaps
    true_panel = images[0][:, size + 2 : 2 * size + 2]
    palette = class_palette(3)
    colours = {tuple(c) for c in true_panel.reshape(-1, 3)}
    assert colours <= {tuple(c) for c in palette}
    assert tuple(palette[1]) in colours  # the square of class 1


def test_detector_logs_true_and_predicted_boxes(tmp_path):
    X, y = _boxes()
    params = {
        **_params(ObjectDetector),
        "epochs": 1,
        "validation_fraction": 0.0,
        "early_stopping": False,
    }
    ObjectDetector(**params, random_state=0, log_dir=tmp_path).fit(X[:16], y[:16])
    # no validation split: the first training images, with the training run
    assert not (tmp_path / "train" / "validation").exists()
    (step, value), *_ = _tensors(tmp_path / "train" / "train")["detections"]
    images = _decoded(value)
    assert len(images) == N_SAMPLES
    size = params["image_size"]
    assert images[0].shape == (size, 2 * size + 2, 3)
    with_boxes = next(i for i in range(N_SAMPLES) if len(y[i]["labels"]))
    left = images[with_boxes][:, :size].astype(int)
    green = (left[..., 1] == 255) & (left[..., 0] == 0) & (left[..., 2] == 0)
    assert green.any()  # the true boxes are drawn
