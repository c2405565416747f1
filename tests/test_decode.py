"""Decoding a grid head inverts the assignment; NMS then keeps one box each."""

import numpy as np
import tensorflow as tf

from applied_ml.vision._assign import assign_targets
from applied_ml.vision._decode import decode_grid
from applied_ml.vision._nms import per_class_nms
from tests.detection_helpers import ANCHORS, perfect_logits


def test_decoding_a_perfect_head_gives_back_the_boxes():
    boxes = np.array([[2.0, 3.0, 10.0, 11.0], [36.0, 40.0, 60.0, 52.0]], "float32")
    labels = np.array([2, 0])
    target = assign_targets(boxes, labels, ANCHORS, size=64, stride=16)
    raw = perfect_logits(target, n_classes=3)
    d_boxes, d_scores, d_labels = decode_grid(raw, ANCHORS, stride=16)
    assert d_boxes.shape == (4 * 4 * 2, 4)
    kept = per_class_nms(
        d_boxes, d_scores, d_labels,
        iou_threshold=0.5, score_threshold=0.5, max_detections=10,
    )  # fmt: skip
    order = np.argsort(kept[0].numpy()[:, 0])
    np.testing.assert_allclose(kept[0].numpy()[order], boxes, atol=1e-3)
    np.testing.assert_array_equal(kept[2].numpy()[order], labels)
    assert (kept[1].numpy() > 0.99).all()


def test_scores_combine_objectness_and_class():
    raw = np.zeros((1, 1, 1, 7), "float32")  # objectness 0.5, two equal classes
    _, scores, labels = decode_grid(raw, ANCHORS[:1], stride=8)
    np.testing.assert_allclose(scores.numpy(), [0.25])
    assert labels.dtype == tf.int64


def test_a_batch_decodes_like_its_images():
    rng = np.random.default_rng(0)
    raw = rng.normal(size=(3, 4, 4, 2, 8)).astype("float32")
    batch = decode_grid(raw, ANCHORS, stride=16)
    assert batch[0].shape == (3, 32, 4)
    for i in range(3):
        one = decode_grid(raw[i], ANCHORS, stride=16)
        for got, want in zip(batch, one, strict=True):
            np.testing.assert_allclose(got[i].numpy(), want.numpy(), rtol=1e-6)
