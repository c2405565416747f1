"""The grid and anchor assignment of ground-truth boxes."""

import numpy as np
import tensorflow as tf

from applied_ml.vision._assign import assign_targets

ANCHORS = np.array([[8.0, 8.0], [24.0, 12.0]])


def test_each_box_goes_to_its_centre_cell_and_best_anchor():
    boxes = np.array([[2.0, 3.0, 10.0, 11.0], [36.0, 40.0, 60.0, 52.0]])
    target = assign_targets(boxes, [4, 1], ANCHORS, size=64, stride=16).numpy()
    assert target.shape == (4, 4, 2, 6)
    # box 0: centre (6, 7) in cell (row 0, column 0), square: anchor 0
    np.testing.assert_allclose(target[0, 0, 0], [6 / 16, 7 / 16, 0, 0, 1, 4], atol=1e-6)
    # box 1: centre (48, 46) -> column 3, row 2; 24x12: anchor 1, exact size
    np.testing.assert_allclose(target[2, 3, 1], [0, 14 / 16, 0, 0, 1, 1], atol=1e-6)
    assert (target[..., 4] == 1).sum() == 2


def test_log_size_and_ignored_anchors():
    boxes = np.array([[16.0, 16.0, 32.0, 32.0]])  # 16x16 centred at cell (1, 1)
    target = assign_targets(boxes, [0], ANCHORS, size=64, stride=16, ignore_iou=0.2)
    # IoU by shape: 0.25 with 8x8, 192 / 352 = 0.55 with 24x12, which learns it
    positive = target.numpy()[1, 1, 1]
    np.testing.assert_allclose(positive[2:4], np.log([16 / 24, 16 / 12]), atol=1e-6)
    assert positive[4] == 1
    # the 8x8 anchor on that cell overlaps it by 0.25 > 0.2: ignored, not negative
    assert target.numpy()[1, 1, 0, 4] == -1
    assert target.numpy()[3, 3, 0, 4] == 0  # far away: a negative


def test_no_boxes_and_graph_mode():
    @tf.function(
        input_signature=[tf.TensorSpec([None, 4]), tf.TensorSpec([None], tf.int64)]
    )
    def assign(b, lab):
        return assign_targets(b, lab, ANCHORS, size=64, stride=16)

    empty = assign(tf.zeros([0, 4]), tf.zeros([0], tf.int64)).numpy()
    assert empty.shape == (4, 4, 2, 6) and not empty.any()
    one = assign(tf.constant([[2.0, 3, 10, 11]]), tf.constant([2], tf.int64)).numpy()
    assert one[0, 0, 0, 5] == 2


def test_match_iou_adds_every_anchor_of_similar_shape():
    boxes = np.array([[16.0, 16.0, 32.0, 32.0]])  # 16x16: IoU .25 and .55
    wide = assign_targets(boxes, [3], ANCHORS, size=64, stride=16, match_iou=0.2)
    wide = wide.numpy()
    assert (wide[..., 4] == 1).sum() == 2
    np.testing.assert_allclose(wide[1, 1, 0, 2:4], np.log([2.0, 2.0]), atol=1e-6)
    np.testing.assert_array_equal(wide[1, 1, :, 5], [3, 3])
    best = assign_targets(boxes, [3], ANCHORS, size=64, stride=16).numpy()
    assert (best[..., 4] == 1).sum() == 1 and best[1, 1, 1, 4] == 1
