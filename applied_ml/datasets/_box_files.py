"""Box annotation files: YOLO txt, Pascal VOC XML and COCO JSON, read and written.

Every reader returns boxes in the package's one format, ``(x1, y1, x2, y2)``
float pixels (see ``applied_ml.vision.boxes``); every writer takes them.
Image sizes are ``(height, width)``.
"""

import json
import os
import xml.etree.ElementTree as ET

import numpy as np

from applied_ml.vision.boxes import (
    cxcywh_to_xyxy,
    xywh_to_xyxy,
    xyxy_to_cxcywh,
    xyxy_to_xywh,
)


def _scale(image_size) -> np.ndarray:
    height, width = image_size
    return np.array([width, height, width, height], dtype="float64")


def read_yolo_labels(path, image_size) -> tuple[np.ndarray, np.ndarray]:
    """Read a YOLO label file: one ``class cx cy w h`` line per box, normalised.

    Parameters
    ----------
    path : str or os.PathLike
        The ``.txt`` file. A missing or empty file means no boxes.
    image_size : (int, int)
        ``(height, width)`` of the image, to turn fractions into pixels.

    Returns
    -------
    boxes : ndarray of shape (N, 4)
        ``x1 y1 x2 y2`` in pixels, clipped to the image (label files round
        their fractions, so edge boxes can end a hair outside).
    labels : ndarray of shape (N,)
        Integer class ids.
    """
    rows = []
    if os.path.exists(path):
        with open(path) as f:
            for number, line in enumerate(f, start=1):
                fields = line.split()
                if not fields:
                    continue
                if len(fields) != 5:
                    raise ValueError(
                        f"{os.fspath(path)}, line {number}: a YOLO box line holds "
                        "5 numbers, 'class cx cy w h' (segment polygons are not "
                        f"read). Received: {line.strip()!r}"
                    )
                rows.append([float(v) for v in fields])
    table = np.array(rows, dtype="float64").reshape(-1, 5)
    scale = _scale(image_size)
    # label files round their fractions: a box on the edge can end at 1.0000005
    boxes = np.clip(cxcywh_to_xyxy(table[:, 1:]) * scale, 0, scale)
    return boxes, table[:, 0].astype("int64")


def write_yolo_labels(path, boxes, labels, image_size) -> None:
    """Write boxes as a YOLO label file (``class cx cy w h``, normalised).

    Parameters
    ----------
    path : str or os.PathLike
        The ``.txt`` file to write.
    boxes : array-like of shape (N, 4)
        ``x1 y1 x2 y2`` in pixels.
    labels : array-like of shape (N,)
        Integer class ids.
    image_size : (int, int)
        ``(height, width)`` of the image.
    """
    normalised = xyxy_to_cxcywh(boxes) / _scale(image_size)
    with open(path, "w") as f:
        for label, box in zip(np.asarray(labels).reshape(-1), normalised, strict=True):
            f.write(f"{int(label)} " + " ".join(f"{v:.8g}" for v in box) + "\n")


def read_voc_xml(path) -> dict:
    """Read a Pascal VOC annotation file.

    Coordinates are taken as written (VOC's pixel indices, no offset applied).

    Parameters
    ----------
    path : str or os.PathLike
        The ``.xml`` file.

    Returns
    -------
    dict
        ``filename``, ``image_size`` ``(height, width)``, ``boxes`` (N×4,
        ``x1 y1 x2 y2``) and ``labels`` (N class names).
    """
    root = ET.parse(path).getroot()
    size = root.find("size")
    if size is None:
        raise ValueError(
            f"{os.fspath(path)} is not a Pascal VOC annotation: it has no <size>. "
            f"Received: root element <{root.tag}>"
        )
    boxes, labels = [], []
    for obj in root.iter("object"):
        box = obj.find("bndbox")
        boxes.append([float(box.findtext(k)) for k in ("xmin", "ymin", "xmax", "ymax")])
        labels.append(obj.findtext("name"))
    return {
        "filename": root.findtext("filename"),
        "image_size": (int(size.findtext("height")), int(size.findtext("width"))),
        "boxes": np.array(boxes, dtype="float64").reshape(-1, 4),
        "labels": np.array(labels, dtype=object),
    }


def write_voc_xml(path, filename: str, image_size, boxes, labels) -> None:
    """Write a Pascal VOC annotation file.

    Parameters
    ----------
    path : str or os.PathLike
        The ``.xml`` file to write.
    filename : str
        The image's file name, stored in ``<filename>``.
    image_size : (int, int)
        ``(height, width)`` of the image.
    boxes : array-like of shape (N, 4)
        ``x1 y1 x2 y2`` in pixels.
    labels : array-like of shape (N,)
        Class names.
    """
    root = ET.Element("annotation")
    ET.SubElement(root, "filename").text = filename
    size = ET.SubElement(root, "size")
    height, width = image_size
    for key, value in (("width", width), ("height", height), ("depth", 3)):
        ET.SubElement(size, key).text = str(int(value))
    for label, box in zip(labels, np.asarray(boxes, "float64"), strict=True):
        obj = ET.SubElement(root, "object")
        ET.SubElement(obj, "name").text = str(label)
        bndbox = ET.SubElement(obj, "bndbox")
        for key, value in zip(("xmin", "ymin", "xmax", "ymax"), box, strict=True):
            ET.SubElement(bndbox, key).text = repr(float(value))
    ET.ElementTree(root).write(path, encoding="utf-8", xml_declaration=True)


def read_coco_json(path) -> tuple[list[dict], dict]:
    """Read COCO detection annotations.

    Parameters
    ----------
    path : str or os.PathLike
        The ``instances_*.json``-style file.

    Returns
    -------
    images : list of dict
        Per image, in file order: ``file_name``, ``image_id``, ``image_size``
        ``(height, width)``, ``boxes`` (N×4, ``x1 y1 x2 y2``) and ``labels``
        (N category ids). Crowd annotations (``iscrowd=1``) are left out.
    categories : dict
        Category id to name.
    """
    with open(path) as f:
        data = json.load(f)
    missing = {"images", "annotations"} - set(data)
    if missing:
        raise ValueError(
            f"{os.fspath(path)} is not COCO detection JSON: it lacks "
            f"{sorted(missing)}. Received: keys {sorted(data)}"
        )
    per_image: dict = {image["id"]: ([], []) for image in data["images"]}
    for ann in data["annotations"]:
        if ann.get("iscrowd", 0):
            continue
        boxes, labels = per_image[ann["image_id"]]
        boxes.append(ann["bbox"])
        labels.append(ann["category_id"])
    images = [
        {
            "file_name": image["file_name"],
            "image_id": image["id"],
            "image_size": (int(image["height"]), int(image["width"])),
            "boxes": xywh_to_xyxy(np.array(per_image[image["id"]][0], "float64")),
            "labels": np.array(per_image[image["id"]][1], dtype="int64"),
        }
        for image in data["images"]
    ]
    categories = {c["id"]: c["name"] for c in data.get("categories", [])}
    return images, categories


def write_coco_json(path, images: list[dict], categories: dict) -> None:
    """Write COCO detection annotations.

    Parameters
    ----------
    path : str or os.PathLike
        The ``.json`` file to write.
    images : list of dict
        Per image: ``file_name``, ``image_size`` ``(height, width)``,
        ``boxes`` (N×4, ``x1 y1 x2 y2``), ``labels`` (N category ids) and
        optionally ``image_id`` (default: its position, from 1).
    categories : dict
        Category id to name.
    """
    out_images, annotations = [], []
    for position, image in enumerate(images, start=1):
        image_id = int(image.get("image_id", position))
        height, width = image["image_size"]
        out_images.append(
            {
                "id": image_id,
                "file_name": image["file_name"],
                "height": int(height),
                "width": int(width),
            }
        )
        boxes = xyxy_to_xywh(image["boxes"])
        for box, label in zip(boxes, image["labels"], strict=True):
            annotations.append(
                {
                    "id": len(annotations) + 1,
                    "image_id": image_id,
                    "category_id": int(label),
                    "bbox": [float(v) for v in box],
                    "area": float(box[2] * box[3]),
                    "iscrowd": 0,
                }
            )
    data = {
        "images": out_images,
        "annotations": annotations,
        "categories": [{"id": int(k), "name": v} for k, v in categories.items()],
    }
    with open(path, "w") as f:
        json.dump(data, f)


_IMAGE_SUFFIXES = (".bmp", ".jpeg", ".jpg", ".png", ".tif", ".tiff", ".webp")


def _yaml_names(path) -> dict:
    """The ``names:`` block of an Ultralytics data file (map or list form)."""
    names: dict = {}
    with open(path) as f:
        lines = f.read().splitlines()
    for i, line in enumerate(lines):
        if line.split("#")[0].strip().startswith("names:"):
            inline = line.split(":", 1)[1].strip()
            if inline.startswith("["):  # names: [a, b, c]
                items = inline.strip("[]").split(",")
                return {k: v.strip().strip("'\"") for k, v in enumerate(items)}
            for entry in lines[i + 1 :]:
                if entry and not entry[0].isspace():
                    break
                text = entry.strip()
                if text.startswith("- "):  # list form, one per line
                    names[len(names)] = text[2:].strip().strip("'\"")
                elif ":" in text:
                    key, value = text.split(":", 1)
                    names[int(key)] = value.strip().strip("'\"")
            return names
    return names


def load_yolo_folder(
    path, split: str = "train", *, labels=None, names=None
) -> tuple[list[np.ndarray], list[dict], dict]:
    """Read an Ultralytics-style YOLO dataset: images, their boxes, class names.

    Images are listed from ``<path>/images/<split>/`` (every image, also
    those without a label file, which have no boxes); each image's labels are
    ``<labels>/<split>/<stem>.txt``.

    Parameters
    ----------
    path : str or os.PathLike
        The dataset's root folder.
    split : str, default="train"
        The sub-folder of ``images/`` (and of the labels folder) to read.
    labels : str or os.PathLike, optional
        The labels root; ``<path>/labels`` by default.
    names : sequence or dict, optional
        Class names by id. By default, the ``names:`` of the first ``*.yaml``
        file in the labels root's parent or in ``path``; ids as names if none.

    Returns
    -------
    images : list of ndarray
        uint8 RGB images (H, W, 3), sizes may differ.
    targets : list of dict
        Per image, ``boxes`` (N×4, ``x1 y1 x2 y2`` pixels) and ``labels``.
    names : dict
        Class id to name.
    """
    from PIL import Image

    root = os.fspath(path)
    image_folder = os.path.join(root, "images", split)
    if not os.path.isdir(image_folder):
        raise FileNotFoundError(
            f"No image folder {image_folder!r}: a YOLO dataset keeps its images in "
            f"images/<split>/. Received: path={root!r}, split={split!r}"
        )
    label_root = os.path.join(root, "labels") if labels is None else os.fspath(labels)
    files = sorted(
        f for f in os.listdir(image_folder) if f.lower().endswith(_IMAGE_SUFFIXES)
    )
    images, targets = [], []
    for name in files:
        with Image.open(os.path.join(image_folder, name)) as image:
            pixels = np.asarray(image.convert("RGB"))
        stem = os.path.splitext(name)[0]
        label_file = os.path.join(label_root, split, f"{stem}.txt")
        boxes, ids = read_yolo_labels(label_file, pixels.shape[:2])
        images.append(pixels)
        targets.append({"boxes": boxes, "labels": ids})
    if names is None:
        folders = (os.path.dirname(os.path.abspath(label_root)), root)
        data_files = [
            os.path.join(folder, f)
            for folder in folders
            for f in sorted(os.listdir(folder))
            if f.endswith((".yaml", ".yml"))
        ]
        names = _yaml_names(data_files[0]) if data_files else {}
    elif not isinstance(names, dict):
        names = dict(enumerate(names))
    return images, targets, names
