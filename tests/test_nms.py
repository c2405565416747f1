"""Per-class NMS against a hand-made case, eager and inside a tf.function."""

import numpy as np
import tensorflow as tf

from applied_ml.vision._nms import batched_nms, per_class_nms

BOXES = np.array(
    [
        [0, 0, 10, 10],  # class 0, best
        [1, 1, 11, 11],  # class 0, overlaps the best by 0.68: suppressed
        [1, 1, 11, 11],  # class 1: another class is never suppressed by class 0
        [20, 20, 30, 30],  # class 0, apart: kept
        [0, 0, 10, 10],  # class 0, below the score threshold
    ],
    dtype="float32",
)
SCORES = np.array([0.9, 0.8, 0.7, 0.6, 0.05], dtype="float32")
LABELS = np.array([0, 0, 1, 0, 0])
PARAMS = {"iou_threshold": 0.5, "score_threshold": 0.1, "max_detections": 10}


def test_hand_made_case():
    boxes, scores, labels = per_class_nms(BOXES, SCORES, LABELS, **PARAMS)
    np.testing.assert_array_equal(boxes.numpy(), BOXES[[0, 2, 3]])
    np.testing.assert_allclose(scores.numpy(), [0.9, 0.7, 0.6])
    np.testing.assert_array_equal(labels.numpy(), [0, 1, 0])
    few = per_class_nms(BOXES, SCORES, LABELS, **{**PARAMS, "max_detections": 2})
    np.testing.assert_array_equal(few[2].numpy(), [0, 1])


def test_in_a_graph_and_with_no_boxes():
    @tf.function(
        input_signature=[
            tf.TensorSpec([None, 4], tf.float32),
            tf.TensorSpec([None], tf.float32),
            tf.TensorSpec([None], tf.int64),
        ]
    )
    def nms(b, s, lab):
        return per_class_nms(b, s, lab, **PARAMS)

    boxes, _, labels = nms(BOXES, SCORES, LABELS.astype("int64"))
    np.testing.assert_array_equal(labels.numpy(), [0, 1, 0])
    empty = nms(
        np.zeros((0, 4), "float32"), np.zeros(0, "float32"), np.zeros(0, "int64")
    )
    assert empty[0].shape == (0, 4)


def test_a_batch_gives_each_image_its_own_result():
    boxes = np.stack([BOXES, BOXES[::-1]])
    scores = np.stack([SCORES, SCORES])
    labels = np.stack([LABELS, LABELS[::-1]])
    kept, kept_scores, kept_labels, count = batched_nms(
        boxes, scores, labels, n_classes=2, **PARAMS
    )
    assert kept.shape == (2, 10, 4) and count.numpy().tolist() == [3, 3]
    for i in range(2):
        one = per_class_nms(boxes[i], scores[i], labels[i], **PARAMS)
        n = int(count[i])
        np.testing.assert_array_equal(kept[i, :n].numpy(), one[0].numpy())
        np.testing.assert_allclose(kept_scores[i, :n].numpy(), one[1].numpy())
        np.testing.assert_array_equal(kept_labels[i, :n].numpy(), one[2].numpy())
        assert not kept[i, n:].numpy().any()  # padding
