"""ObjectDetector: learning, bad input, thresholds, sizes, label types, tf.data.

The estimator contract (clone, pickle, export served without the package,
resume...) is checked in ``test_contract.py``; this file covers what is
particular to detection.
"""

import os

import numpy as np
import pytest
import tensorflow as tf

from applied_ml import ObjectDetector
from applied_ml.datasets._images import DEBIAN_FOLDER
from applied_ml.vision import plot_detections, plot_pr_curves
from applied_ml.vision._map import precision_recall
from applied_ml.vision.boxes import iou_matrix
from tests.conftest import need
from tests.test_contract import _boxes

TINY = {
    "backbone": "small_cnn",
    "weights": None,
    "image_size": 64,
    "n_anchors": 2,
    # the two anchors overlap by 0.4 in shape: with match_iou=0.3 every box
    # would teach both, which 40 steps do not untangle
    "match_iou": 1.0,
    "epochs": 2,
    "random_state": 0,
}


@pytest.fixture(scope="module")
def boxes_data():
    return _boxes()


@pytest.fixture(scope="module")
def fitted(boxes_data):
    X, y = boxes_data
    # enough epochs for scores above the 0.01 prior of a new head
    params = {"epochs": 20, "validation_fraction": 0, "early_stopping": False}
    return ObjectDetector(**{**TINY, **params}).fit(X, y)


@pytest.fixture(scope="module")
def scenes():
    need("Debian's dataset-fashion-mnist", os.path.isdir(DEBIAN_FOLDER))
    from applied_ml.datasets import make_scenes

    classes = [0, 5, 7]  # T-shirt, sandal, sneaker: three distinct shapes
    train = make_scenes(400, image_size=64, classes=classes, object_size=(14, 30),
                        seed=0)  # fmt: skip
    test = make_scenes(100, image_size=64, classes=classes, object_size=(14, 30),
                       split="test", seed=1)  # fmt: skip
    return train[:2], test[:2]


def test_learns_to_find_objects_far_better_than_untrained(scenes):
    (X, y), (X_test, y_test) = scenes
    params = {
        "backbone": "small_cnn",
        "weights": None,
        "image_size": 64,
        "random_state": 0,
        "early_stopping": False,
        # no held-out epoch ends: every image trains, and 20 epochs are enough
        # (mAP@0.5 0.41, 0.34, 0.48 with random_state 0, 1, 2; untrained < 0.001)
        "validation_fraction": 0,
    }
    untrained = ObjectDetector(**params, max_steps=1).fit(X, y)
    trained = ObjectDetector(**params, epochs=20).fit(X, y)
    baseline = untrained.score(X_test, y_test)
    score = trained.score(X_test, y_test)
    assert baseline < 0.05
    assert score > baseline + 0.2, (score, baseline)


# ------------------------------------------------------------------ bad input
def _target(boxes, labels):
    return {"boxes": np.array(boxes, "float32").reshape(-1, 4), "labels": labels}


@pytest.mark.parametrize(
    ("target", "message"),
    [
        (_target([[30, 5, 20, 15]], [0]), "Image 1 has a box with x2 < x1"),
        (_target([[50, 50, 70, 60]], [0]), "Image 1 has a box outside the image"),
        (_target([[5, 5, 20, 15], [1, 1, 4, 4]], [0]), "Image 1 has 2 box"),
    ],
)
def test_bad_boxes_name_the_image(boxes_data, target, message):
    X, y = boxes_data
    y = [y[0], target, *y[2:]]
    with pytest.raises(ValueError, match=message):
        ObjectDetector(**TINY).fit(X, y)


def test_wrong_number_of_targets(boxes_data):
    X, y = boxes_data
    with pytest.raises(ValueError, match="same number of samples"):
        ObjectDetector(**TINY).fit(X, y[:-1])


@pytest.mark.parametrize("channels", [2, 4])
def test_images_with_2_or_4_channels_name_the_image(boxes_data, channels):
    X, y = boxes_data
    images = list(X)
    images[3] = np.zeros((64, 64, channels), "uint8")
    with pytest.raises(ValueError, match=f"Image 3 must .* shape .*{channels}"):
        ObjectDetector(**TINY).fit(images, y)


def test_label_not_seen_in_fit_names_the_image(fitted, boxes_data):
    X, y = boxes_data
    y = [*y[:4], _target([[5, 5, 20, 15]], [7]), *y[5:]]
    with pytest.raises(ValueError, match=r"Image 4 has a label not seen in fit"):
        fitted.score(X, y)


def test_images_without_boxes_are_valid(boxes_data):
    X, y = boxes_data
    y = [_target([], []) if i % 2 else t for i, t in enumerate(y)]
    detector = ObjectDetector(**TINY).fit(X, y)
    assert len(detector.predict(X[:3])) == 3


def test_no_box_at_all_is_refused(boxes_data):
    X, _ = boxes_data
    with pytest.raises(ValueError, match="no boxes at all"):
        ObjectDetector(**TINY).fit(X, [_target([], [])] * len(X))


@pytest.mark.parametrize(
    ("params", "message"),
    [
        ({"image_size": 72}, "multiple of 16"),
        ({"anchors": [[10, 0]]}, "positive, finite"),
        ({"anchors": [1, 2, 3]}, r"shape \(n_anchors, 2\)"),
        ({"augmentation": ("rotate",)}, "augmentation"),
        ({"weights": "imagenet"}, "must be None for backbone='small_cnn'"),
        ({"backbone": "yolo"}, "backbone"),
    ],
)
def test_bad_parameters(boxes_data, params, message):
    with pytest.raises(ValueError, match=message):
        ObjectDetector(**{**TINY, **params}).fit(*boxes_data)


# --------------------------------------------------------------- prediction
def test_thresholds_can_be_overridden_per_call(fitted, boxes_data):
    X, _ = boxes_data
    loose = fitted.predict(X[:5], score_threshold=0.01)
    strict = fitted.predict(X[:5], score_threshold=0.5)
    assert sum(len(d["scores"]) for d in loose) > sum(len(d["scores"]) for d in strict)
    for d in strict:
        assert (d["scores"] >= 0.5).all()
        assert (np.diff(d["scores"]) <= 0).all()  # best first
    with pytest.raises(ValueError, match="score_threshold"):
        fitted.predict(X[:5], score_threshold=2.0)


def test_boxes_come_back_in_each_image_own_pixels(fitted, boxes_data):
    X, y = boxes_data
    # an image with an object in its left part
    image = X[next(i for i, t in enumerate(y) if (t["boxes"][:, 2] < 36).any())]
    # twice as large: letterboxed to the same input, boxes twice as large
    big = np.kron(image, np.ones((2, 2, 1), "uint8"))
    small, large = fitted.predict([image, big], score_threshold=0.1)
    assert len(small["boxes"]) and len(small["boxes"]) == len(large["boxes"])
    # (order may differ between near-equal scores)
    assert iou_matrix(2 * small["boxes"], large["boxes"]).max(axis=1).min() > 0.8
    # the left 48 columns: not resized, padded 8 pixels on each side; the
    # objects well inside it keep their boxes in the cropped image's pixels
    # (a box 8 pixels off would overlap its place by less than 0.4)
    narrow = fitted.predict([image[:, :48]], score_threshold=0.1)[0]
    inside = small["boxes"][small["boxes"][:, 2] < 40]
    assert len(inside)
    assert iou_matrix(inside, narrow["boxes"]).max(axis=1).min() > 0.8


def test_string_labels_come_back_as_given(boxes_data, fitted):
    X, y = boxes_data
    names = np.array(["square", "bar"])
    named = [{"boxes": t["boxes"], "labels": names[t["labels"].astype(int)]} for t in y]
    detector = ObjectDetector(**fitted.get_params()).fit(X, named)
    assert detector.classes_.tolist() == ["bar", "square"]
    labels = np.concatenate(
        [d["labels"] for d in detector.predict(X, score_threshold=0.01)]
    )
    assert set(labels) <= {"bar", "square"} and len(labels)
    assert 0 <= detector.score(X, named) <= 1


def test_evaluate_reports_coco_metrics(fitted, boxes_data):
    result = fitted.evaluate(*boxes_data)
    assert {"map", "map_50", "map_75", "recall", "per_class_ap"} <= set(result)
    assert set(result["per_class_ap"]) == {0, 1}
    assert result["map"] <= result["map_50"]


def test_fits_from_tf_data_with_ragged_targets(boxes_data, fitted):
    X, y = boxes_data
    boxes = tf.ragged.constant([t["boxes"].tolist() for t in y], inner_shape=(4,))
    labels = tf.ragged.constant([t["labels"].tolist() for t in y], dtype=tf.int64)
    dataset = tf.data.Dataset.from_tensor_slices(
        (X, {"boxes": boxes, "labels": labels})
    ).batch(16)
    detector = ObjectDetector(**TINY, validation_fraction=0, early_stopping=False)
    detector.fit(dataset)
    assert detector.classes_.tolist() == [0, 1]
    np.testing.assert_allclose(detector.anchors_, fitted.anchors_, atol=1e-4)
    assert len(detector.predict(X[:2])) == 2


# -------------------------------------------------------------------- plots
def test_plots_write_pngs(fitted, boxes_data, tmp_path):
    X, y = boxes_data
    results = fitted.predict(X[:6], score_threshold=0.05)
    one = plot_detections(X[0], results[0], tmp_path / "one.png")
    grid = plot_detections(
        X[:6], results, tmp_path / "grid.png", truth=y[:6], class_names=["sq", "bar"]
    )
    curves = plot_pr_curves(
        y, fitted.predict(X, score_threshold=0.001), tmp_path / "pr.png"
    )
    for path in (one, grid, curves):
        assert os.path.getsize(path) > 5_000
    with pytest.raises(ValueError, match="one entry per image"):
        plot_detections(X[:2], results, tmp_path / "bad.png")


def test_precision_recall_ends_at_the_recall_of_map(fitted, boxes_data):
    X, y = boxes_data
    detections = fitted.predict(X, score_threshold=0.001)
    true = [(t["boxes"], t["labels"]) for t in y]
    pred = [(d["boxes"], d["scores"], d["labels"]) for d in detections]
    precision, recall = precision_recall(true, pred, 0)
    assert np.all(np.diff(recall) >= 0) and 0 < recall[-1] <= 1
    assert ((precision >= 0) & (precision <= 1)).all()
