"""Boxes: conversions, IoU, target checks, and the annotation file formats."""

import json
import os

import numpy as np
import pytest

from applied_ml.datasets import (
    read_coco_json,
    read_voc_xml,
    read_yolo_labels,
    write_coco_json,
    write_voc_xml,
    write_yolo_labels,
)
from applied_ml.vision.boxes import (
    box_area,
    check_targets,
    cxcywh_to_xyxy,
    iou_matrix,
    xywh_to_xyxy,
    xyxy_to_cxcywh,
    xyxy_to_xywh,
)

BOXES = np.array(
    [[10.0, 20.0, 50.0, 40.0], [0.0, 0.0, 64.0, 48.0], [30.5, 5.25, 31.5, 9]]
)
LABELS = np.array([3, 0, 7])
SIZE = (48, 64)  # height, width


def test_conversions_round_trip_and_agree_with_hand_values():
    np.testing.assert_allclose(xyxy_to_cxcywh(BOXES)[0], [30, 30, 40, 20])
    np.testing.assert_allclose(xyxy_to_xywh(BOXES)[0], [10, 20, 40, 20])
    np.testing.assert_allclose(cxcywh_to_xyxy(xyxy_to_cxcywh(BOXES)), BOXES)
    np.testing.assert_allclose(xywh_to_xyxy(xyxy_to_xywh(BOXES)), BOXES)
    assert xyxy_to_cxcywh(np.zeros((0, 4))).shape == (0, 4)
    with pytest.raises(ValueError, match=r"must have shape \(N, 4\)"):
        xyxy_to_cxcywh([[1, 2, 3]])


def test_iou_matrix_hand_made_case():
    a = np.array([[0, 0, 10, 10], [0, 0, 0, 0]])
    b = np.array([[5, 5, 15, 15], [0, 0, 10, 10], [20, 20, 30, 30]])
    iou = iou_matrix(a, b)
    np.testing.assert_allclose(iou[0], [25 / 175, 1.0, 0.0])
    np.testing.assert_array_equal(iou[1], [0, 0, 0])  # empty box: no NaN
    np.testing.assert_allclose(box_area(a), [100, 0])
    assert iou_matrix(a, np.zeros((0, 4))).shape == (2, 0)


def test_check_targets_accepts_pairs_dicts_and_empty_images():
    y = [(BOXES, LABELS), {"boxes": [], "labels": []}]
    checked = check_targets(y, [SIZE, SIZE])
    assert checked[0][0].dtype == np.float32 and checked[0][0].shape == (3, 4)
    assert checked[1][0].shape == (0, 4) and len(checked[1][1]) == 0


@pytest.mark.parametrize(
    ("target", "match"),
    [
        (([[5, 5, 1, 9]], [0]), r"Image 1 has a box with x2 < x1"),
        (([[5, 5, 70, 9]], [0]), r"Image 1 has a box outside the image \(64x48"),
        (([[5, 5, 7, 9]], [0, 1]), r"Image 1 has 1 box\(es\) but 2 label\(s\)"),
        (([[5, 5, np.nan, 9]], [0]), r"Image 1 has a box that is not finite"),
        (([[5, 5, 7]], [0]), r"Image 1: `boxes` must have shape \(N, 4\)"),
        ({"boxes": [[1, 1, 2, 2]]}, r"target of image 1 must have the keys"),
        ("boxes", r"target of image 1 must be a \(boxes, labels\) pair"),
    ],
)
def test_check_targets_names_the_image(target, match):
    with pytest.raises((ValueError, TypeError), match=match):
        check_targets([(BOXES, LABELS), target], [SIZE, SIZE])


def test_check_targets_counts_targets():
    with pytest.raises(ValueError, match=r"one target per image: 2 image\(s\)"):
        check_targets([(BOXES, LABELS)], [SIZE, SIZE])
    with pytest.raises(TypeError, match="one target per image"):
        check_targets({"boxes": BOXES, "labels": LABELS}, [SIZE])


def test_yolo_round_trip(tmp_path):
    path = tmp_path / "image.txt"
    write_yolo_labels(path, BOXES, LABELS, SIZE)
    first = path.read_text().splitlines()[0].split()
    assert first[0] == "3"
    np.testing.assert_allclose(
        [float(v) for v in first[1:]], [30 / 64, 30 / 48, 40 / 64, 20 / 48]
    )
    boxes, labels = read_yolo_labels(path, SIZE)
    np.testing.assert_allclose(boxes, BOXES, atol=1e-5)
    np.testing.assert_array_equal(labels, LABELS)
    empty, none = read_yolo_labels(tmp_path / "missing.txt", SIZE)
    assert empty.shape == (0, 4) and none.shape == (0,)
    path.write_text("0 0.5 0.5 0.2\n")
    with pytest.raises(ValueError, match=r"line 1: a YOLO box line holds 5 numbers"):
        read_yolo_labels(path, SIZE)


def test_voc_round_trip(tmp_path):
    path = tmp_path / "image.xml"
    names = np.array(["dog", "person", "cat"], dtype=object)
    write_voc_xml(path, "image.jpg", SIZE, BOXES, names)
    record = read_voc_xml(path)
    assert record["filename"] == "image.jpg"
    assert record["image_size"] == SIZE
    np.testing.assert_array_equal(record["boxes"], BOXES)
    assert list(record["labels"]) == list(names)
    (tmp_path / "bad.xml").write_text("<other/>")
    with pytest.raises(ValueError, match="is not a Pascal VOC annotation"):
        read_voc_xml(tmp_path / "bad.xml")


def test_coco_round_trip(tmp_path):
    path = tmp_path / "instances.json"
    images = [
        {"file_name": "a.jpg", "image_size": SIZE, "boxes": BOXES, "labels": LABELS},
        {"file_name": "b.jpg", "image_size": (10, 20), "boxes": [], "labels": []},
    ]
    write_coco_json(path, images, {0: "person", 3: "dog", 7: "cat"})
    data = json.loads(path.read_text())
    assert data["annotations"][0]["bbox"] == [10.0, 20.0, 40.0, 20.0]  # x, y, w, h
    read, categories = read_coco_json(path)
    assert categories == {0: "person", 3: "dog", 7: "cat"}
    assert [r["file_name"] for r in read] == ["a.jpg", "b.jpg"]
    np.testing.assert_allclose(read[0]["boxes"], BOXES)
    np.testing.assert_array_equal(read[0]["labels"], LABELS)
    assert read[1]["boxes"].shape == (0, 4) and read[1]["image_size"] == (10, 20)
    data["annotations"][0]["iscrowd"] = 1  # crowd regions are not boxes to find
    path.write_text(json.dumps(data))
    assert len(read_coco_json(path)[0][0]["boxes"]) == 2
    path.write_text(json.dumps({"images": []}))
    with pytest.raises(ValueError, match=r"lacks \['annotations'\]"):
        read_coco_json(path)


def _yolo_dataset(root, yaml_text: str):
    from PIL import Image

    (root / "images" / "train").mkdir(parents=True)
    (root / "labels" / "train").mkdir(parents=True)
    Image.fromarray(np.zeros((48, 64, 3), "uint8")).save(root / "images/train/a.png")
    Image.fromarray(np.zeros((20, 30), "uint8")).save(root / "images/train/b.png")
    write_yolo_labels(root / "labels/train/a.txt", BOXES, LABELS, SIZE)
    (root / "labels/train/orphan.txt").write_text("0 0.5 0.5 0.1 0.1\n")
    (root / "data.yaml").write_text(yaml_text)


@pytest.mark.parametrize(
    "yaml_text",
    [
        "path: .\ntrain: images/train\nnames:\n  0: person\n  3: dog\n  7: cat\n",
        "names: [person, bicycle, car, dog, e, f, g, cat]\n",
        "names:\n"
        + "".join(
            f"  - {n}\n"
            for n in ("person", "bicycle", "car", "dog", "e", "f", "g", "cat")
        ),
    ],
)
def test_load_yolo_folder(tmp_path, yaml_text):
    from applied_ml.datasets import load_yolo_folder

    _yolo_dataset(tmp_path, yaml_text)
    images, targets, names = load_yolo_folder(tmp_path)
    assert [im.shape for im in images] == [(48, 64, 3), (20, 30, 3)]  # grey -> RGB
    np.testing.assert_allclose(targets[0]["boxes"], BOXES, atol=1e-4)
    np.testing.assert_array_equal(targets[0]["labels"], LABELS)
    assert targets[1]["boxes"].shape == (0, 4)  # no label file: no boxes
    assert (names[0], names[3], names[7]) == ("person", "dog", "cat")
    with pytest.raises(FileNotFoundError, match=r"images/<split>/"):
        load_yolo_folder(tmp_path, split="val")


COCO128 = os.path.join(
    os.path.dirname(__file__), "..", "..", "shared", "data", "coco128"
)


@pytest.mark.skipif(
    not os.path.isdir(COCO128), reason="the shared coco128 copy is absent"
)
def test_coco128_reads_as_real_data():
    from applied_ml.datasets import load_yolo_folder

    labels = os.path.join(COCO128, "object_detection", "labels")
    images, targets, names = load_yolo_folder(COCO128, "train2017", labels=labels)
    assert len(images) == 128 and len(names) == 80 and names[0] == "person"
    check_targets(targets, [im.shape[:2] for im in images])
    assert sum(len(t["boxes"]) for t in targets) > 800
