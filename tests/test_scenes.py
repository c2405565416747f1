"""make_scenes: reproducible scenes whose boxes and masks match their pixels."""

import os

import numpy as np
import pytest

from applied_ml.datasets import make_scenes
from applied_ml.datasets._images import DEBIAN_FOLDER
from applied_ml.vision.boxes import check_targets
from tests.conftest import need


@pytest.fixture(scope="session", autouse=True)  # before the session's `scenes`
def _fashion_mnist():
    need("Debian's dataset-fashion-mnist", os.path.isdir(DEBIAN_FOLDER))


@pytest.fixture(scope="session")
def scenes():
    return make_scenes(40, image_size=96, seed=3)


def test_same_seed_same_scenes(scenes):
    images, targets, masks = make_scenes(5, image_size=96, seed=3)
    np.testing.assert_array_equal(images, scenes[0][:5])
    np.testing.assert_array_equal(masks, scenes[2][:5])
    for a, b in zip(targets, scenes[1][:5], strict=True):
        np.testing.assert_array_equal(a["boxes"], b["boxes"])
    other = make_scenes(5, image_size=96, seed=4)[0]
    assert not np.array_equal(other, images)


def test_boxes_are_the_extent_of_visible_pixels_of_their_class(scenes):
    images, targets, masks = scenes
    assert images.shape == (40, 96, 96, 3) and images.dtype == np.uint8
    check_targets(targets, [(96, 96)] * 40)  # valid boxes, inside the images
    assert all(len(t["boxes"]) <= 4 for t in targets)
    n_boxes = 0
    for target, mask in zip(targets, masks, strict=True):
        for box, label in zip(
            target["boxes"].astype(int), target["labels"], strict=True
        ):
            x1, y1, x2, y2 = box
            inside = mask[y1:y2, x1:x2] == label + 1
            # the box touches a pixel of its class on each of its four edges
            assert inside[0].any() and inside[-1].any()
            assert inside[:, 0].any() and inside[:, -1].any()
            n_boxes += 1
    assert n_boxes >= 40  # at least one box a scene on average
    assert 0.7 < (masks == 0).mean() < 0.97  # mostly background, as in photos


def test_train_and_test_scenes_draw_from_different_items():
    train = make_scenes(3, image_size=64, seed=0, split="train")[0]
    test = make_scenes(3, image_size=64, seed=0, split="test")[0]
    assert not np.array_equal(train, test)


def test_classes_restrict_the_labels():
    _, targets, masks = make_scenes(10, image_size=64, classes=[5, 7], seed=0)
    labels = np.concatenate([t["labels"] for t in targets])
    assert set(labels.tolist()) <= {5, 7}
    assert set(np.unique(masks).tolist()) <= {0, 6, 8}


@pytest.mark.parametrize(
    ("kwargs", "match"),
    [
        ({"split": "val"}, r"`split` must be 'train' or 'test'"),
        ({"classes": [3, 12]}, r"`classes` must be Fashion-MNIST class ids"),
        ({"object_size": (30, 200)}, r"`object_size` must be \(low, high\)"),
        ({"max_objects": 0}, r"`max_objects` must be at least 1"),
    ],
)
def test_bad_parameters(kwargs, match):
    with pytest.raises(ValueError, match=match):
        make_scenes(2, image_size=64, **kwargs)
