"""k-means anchors with the 1 - IoU distance."""

import numpy as np
import pytest

from applied_ml.vision._anchors import kmeans_anchors, wh_iou


def test_wh_iou_hand_values():
    iou = wh_iou(np.array([[10.0, 10.0]]), np.array([[10.0, 10.0], [20.0, 5.0]]))
    np.testing.assert_allclose(iou, [[1.0, 50 / 150]])


def test_recovers_three_clusters_of_shapes():
    rng = np.random.default_rng(0)
    truth = np.array([[8.0, 16.0], [30.0, 30.0], [60.0, 20.0]])
    wh = np.concatenate([c * rng.uniform(0.9, 1.1, size=(200, 2)) for c in truth])
    anchors, mean_iou = kmeans_anchors(wh, 3, seed=0)
    np.testing.assert_allclose(anchors, truth, rtol=0.05)  # sorted by area
    assert mean_iou > 0.85
    one, one_iou = kmeans_anchors(wh, 1, seed=0)
    assert one.shape == (1, 2) and one_iou < mean_iou  # more anchors cover better


@pytest.mark.parametrize(
    ("wh", "n", "match"),
    [
        (np.zeros((0, 2)), 1, "Anchors need training boxes of positive"),
        (np.array([[0.0, 5.0], [3, 4]]), 1, r"1 of them empty"),
        (np.array([[5.0, 5.0], [5.0, 5.0]]), 2, r"distinct training box sizes \(1\)"),
    ],
)
def test_bad_input(wh, n, match):
    with pytest.raises(ValueError, match=match):
        kmeans_anchors(wh, n)
