"""Letterboxing and box-aware augmentation keep boxes on their objects."""

import numpy as np
import pytest
import tensorflow as tf

from applied_ml.vision._box_augment import (
    PAD_VALUE,
    flip_left_right,
    letterbox,
    letterbox_boxes,
    scale_translate,
    unletterbox_boxes,
)


def _scene(height, width, box):
    image = np.full((height, width, 3), 30, dtype="float32")
    x1, y1, x2, y2 = box
    image[y1:y2, x1:x2] = 250
    return image, np.array([box], dtype="float32")


def _on_object(image, box) -> float:
    x1, y1, x2, y2 = np.round(np.asarray(box)).astype(int)
    return float(np.asarray(image)[y1:y2, x1:x2].mean())


def test_letterbox_keeps_the_aspect_and_maps_boxes_back():
    image, boxes = _scene(96, 128, (20, 30, 52, 70))
    batch = letterbox(image[None], 64)
    out, transform = batch["images"][0], batch["transforms"][0]
    moved = letterbox_boxes(boxes, transform)
    assert out.shape == (64, 64, 3) and out.dtype == tf.uint8
    np.testing.assert_array_equal(batch["sizes"], [[96, 128]])
    np.testing.assert_allclose(moved.numpy(), [[10, 23, 26, 43]], atol=0.01)
    assert _on_object(out, moved[0]) > 200
    assert int(out[0, 0, 0]) == PAD_VALUE and int(out[63, 0, 0]) == PAD_VALUE
    back = unletterbox_boxes(moved, transform, tf.constant([96, 128]))
    np.testing.assert_allclose(back.numpy(), boxes, atol=1e-4)


def test_flip_moves_the_box_with_the_pixels():
    image, boxes = _scene(64, 64, (5, 10, 25, 30))
    flipped, moved = flip_left_right(image, boxes)
    np.testing.assert_allclose(moved.numpy(), [[39, 10, 59, 30]])
    assert _on_object(flipped, moved[0]) == 250


@pytest.mark.parametrize(("zoom", "shift"), [(1.5, (6.0, -4.0)), (0.6, (0.0, 10.0))])
def test_scale_translate_keeps_boxes_on_their_objects(zoom, shift):
    image, boxes = _scene(64, 64, (20, 24, 40, 44))
    out, moved, labels = scale_translate(
        image, boxes, tf.constant([3]), zoom=zoom, shift=shift
    )
    assert labels.numpy().tolist() == [3]
    x1, y1, x2, y2 = moved[0].numpy()
    assert x2 - x1 == pytest.approx(20 * zoom, abs=1e-4)
    inside = _on_object(out, (x1 + 1, y1 + 1, x2 - 1, y2 - 1))
    assert inside > 245  # the object, not its surroundings
    ring = np.asarray(out)[int(y2) + 2 : int(y2) + 4, int(x1) : int(x2)]
    assert ring.size == 0 or ring.mean() < 60


def test_boxes_pushed_out_are_clipped_or_dropped():
    image = np.zeros((64, 64, 3), "float32")
    boxes = tf.constant([[50.0, 10, 62, 20], [2, 10, 14, 20]])
    _, moved, labels = scale_translate(
        image, boxes, tf.constant([1, 2]), zoom=1.0, shift=(8.0, 0.0)
    )
    # the first box loses 6 of 12 columns (kept, clipped); the second moves in
    np.testing.assert_allclose(moved.numpy(), [[58, 10, 64, 20], [10, 10, 22, 20]])
    _, moved, labels = scale_translate(
        image, boxes, tf.constant([1, 2]), zoom=1.0, shift=(12.0, 0.0)
    )
    assert labels.numpy().tolist() == [2]  # 2 of 12 columns left: under 30%
