"""Our COCO mAP against pycocotools on fixed predictions, and by hand."""

import contextlib
import io

import numpy as np
import pytest

from applied_ml.vision._map import detection_map
from applied_ml.vision.boxes import xyxy_to_xywh


def _random_case(seed: int, n_images: int = 12, n_classes: int = 3):
    rng = np.random.default_rng(seed)
    true, pred = [], []
    for _ in range(n_images):
        k = int(rng.integers(0, 5))
        xy = rng.uniform(0, 80, size=(k, 2))
        boxes = np.c_[xy, xy + rng.uniform(8, 40, size=(k, 2))]
        labels = rng.integers(0, n_classes, size=k)
        true.append((boxes, labels))
        # detections: jittered copies of the truth (some with the wrong class)
        # plus random false positives, each with a distinct score
        jitter = boxes + rng.normal(0, 4, size=boxes.shape)
        noise_xy = rng.uniform(0, 80, size=(3, 2))
        noise = np.c_[noise_xy, noise_xy + rng.uniform(8, 40, size=(3, 2))]
        p_boxes = np.concatenate([jitter, noise])
        p_labels = np.concatenate(
            [
                np.where(rng.uniform(size=k) < 0.8, labels, (labels + 1) % n_classes),
                rng.integers(0, n_classes, size=3),
            ]
        )
        pred.append((p_boxes, rng.uniform(0.01, 1, size=len(p_boxes)), p_labels))
    return true, pred


def _pycocotools(true, pred) -> dict:
    from pycocotools.coco import COCO
    from pycocotools.cocoeval import COCOeval

    classes = sorted({int(c) for _, labels in true for c in labels})
    gt = COCO()
    annotations, detections = [], []
    for image_id, ((boxes, labels), (p_boxes, scores, p_labels)) in enumerate(
        zip(true, pred, strict=True), start=1
    ):
        for box, label in zip(xyxy_to_xywh(boxes), labels, strict=True):
            annotations.append(
                {
                    "id": len(annotations) + 1,
                    "image_id": image_id,
                    "category_id": int(label),
                    "bbox": box.tolist(),
                    "area": float(box[2] * box[3]),
                    "iscrowd": 0,
                }
            )
        for box, score, label in zip(
            xyxy_to_xywh(p_boxes), scores, p_labels, strict=True
        ):
            detections.append(
                {
                    "image_id": image_id,
                    "category_id": int(label),
                    "bbox": box.tolist(),
                    "score": float(score),
                }
            )
    gt.dataset = {
        "images": [{"id": i + 1} for i in range(len(true))],
        "annotations": annotations,
        "categories": [{"id": c} for c in classes],
    }
    with contextlib.redirect_stdout(io.StringIO()):
        gt.createIndex()
        evaluation = COCOeval(gt, gt.loadRes(detections), "bbox")
        evaluation.evaluate()
        evaluation.accumulate()
        evaluation.summarize()
    return {"map": evaluation.stats[0], "map_50": evaluation.stats[1],
            "map_75": evaluation.stats[2], "recall": evaluation.stats[8]}  # fmt: skip


@pytest.mark.parametrize("seed", [0, 1, 2])
def test_agrees_with_pycocotools(seed):
    pytest.importorskip("pycocotools")
    true, pred = _random_case(seed)
    ours = detection_map(true, pred)
    theirs = _pycocotools(true, pred)
    for key, value in theirs.items():
        assert ours[key] == pytest.approx(value, abs=1e-4), key
    assert 0.1 < ours["map_50"] < 0.95  # neither trivial nor perfect


def test_hand_made_case():
    true = [(np.array([[0, 0, 10, 10], [20, 20, 30, 30]]), np.array([0, 0]))]
    perfect = [(true[0][0], np.array([0.9, 0.8]), np.array([0, 0]))]
    assert detection_map(true, perfect)["map"] == pytest.approx(1.0)
    # one hit, then a false positive, then nothing: recall 1/2 at precision 1
    half = [(np.array([[0, 0, 10, 10], [50, 50, 60, 60]]), np.array([0.9, 0.8]),
             np.array([0, 0]))]  # fmt: skip
    result = detection_map(true, half)
    assert result["map_50"] == pytest.approx(51 / 101)  # recall points 0..0.5
    assert result["per_class_recall"] == {0: 0.5}
    with pytest.raises(ValueError, match="holds no boxes"):
        detection_map([(np.zeros((0, 4)), np.zeros(0))], [(np.zeros((0, 4)), [], [])])
