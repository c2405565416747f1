"""YoloLoss: near zero for a perfect head, ignores ignored anchors, serializes."""

import keras
import numpy as np
import tensorflow as tf

from applied_ml.vision._assign import assign_targets
from applied_ml.vision._yolo_loss import YoloLoss
from tests.detection_helpers import ANCHORS, perfect_logits


def _case():
    boxes = np.array([[2.0, 3.0, 10.0, 11.0], [36.0, 40.0, 60.0, 52.0]], "float32")
    target = assign_targets(boxes, [2, 0], ANCHORS, size=64, stride=16)
    return target.numpy()[None], perfect_logits(target, 3)[None]


def test_perfect_head_has_a_small_loss_and_errors_cost():
    y_true, perfect = _case()
    loss = YoloLoss()
    best = float(loss(y_true, perfect))
    # centre BCE has a floor (the entropy of soft targets): compare, not zero
    wrong_class = perfect.copy()
    wrong_class[y_true[..., 4] == 1, 5:] = wrong_class[y_true[..., 4] == 1, 5:][:, ::-1]
    missed = perfect.copy()
    missed[y_true[..., 4] == 1, 4] = -12.0
    shifted = perfect.copy()
    shifted[y_true[..., 4] == 1, 2:4] += 1.0
    for worse in (wrong_class, missed, shifted):
        assert float(loss(y_true, worse)) > best + 1.0


def test_ignored_anchors_do_not_count():
    y_true, perfect = _case()
    y_true[..., 4] = np.where(y_true[..., 4] == 0, -1.0, y_true[..., 4])  # ignore all
    noisy = perfect.copy()
    noisy[y_true[..., 4] == -1, 4] = 12.0  # confident on every ignored anchor
    np.testing.assert_allclose(
        float(YoloLoss()(y_true, noisy)), float(YoloLoss()(y_true, perfect)), rtol=1e-5
    )


def test_serializes_with_its_weights():
    loss = YoloLoss(box_weight=2.0, noobj_weight=0.1)
    restored = keras.losses.deserialize(keras.losses.serialize(loss))
    assert isinstance(restored, YoloLoss)
    assert (restored.box_weight, restored.noobj_weight) == (2.0, 0.1)
    y_true, perfect = _case()
    assert float(restored(y_true, perfect)) == float(loss(y_true, perfect))
    assert tf.is_tensor(loss(y_true, perfect))
