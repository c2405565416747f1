"""Detection inputs: images letterboxed to the model's square, padded targets.

Prepared inputs are a dict of parallel arrays, one row per image:

- ``images``: uint8 (n, S, S, 3), letterboxed (the same rounding as served);
- ``transforms``: float32 (n, 4), ``scale_x, scale_y, left, top`` of the
  letterbox (letterboxed x = x * scale_x + left);
- ``sizes``: float32 (n, 2), the original ``height, width``.

Prepared targets are float32 (n, M, 5): ``x1 y1 x2 y2`` in the original
image's pixels and the class index, rows padded with class -1.
"""

import os

import numpy as np
import tensorflow as tf

from applied_ml.vision import _data
from applied_ml.vision._box_augment import letterbox

# Images letterboxed per call: bounds the float32 copy TensorFlow makes.
_LETTERBOX_CHUNK = 256
# One compiled call instead of a dozen eager ops per chunk (traced once per
# image shape, dtype and output size).
_letterbox = tf.function(letterbox, reduce_retracing=True)


def _as_rgb(image, index: int) -> np.ndarray:
    image = np.asarray(image)
    if image.ndim == 2:
        image = image[..., None]
    if image.ndim != 3 or image.shape[-1] not in (1, 3):
        raise ValueError(
            f"Image {index} must have shape (height, width), (height, width, 1) or "
            f"(height, width, 3): 1 (grayscale) or 3 (RGB) channels. Received "
            f"shape {image.shape}."
        )
    if min(image.shape[:2]) < 1:
        raise ValueError(f"Image {index} is empty. Received shape {image.shape}.")
    return np.repeat(image, 3, axis=-1) if image.shape[-1] == 1 else image


def as_images(X) -> np.ndarray | list[np.ndarray]:
    """Images as one checked RGB array (n, h, w, 3), or a list of RGB arrays.

    An array is checked as a whole; a list (images of any sizes, or files)
    image by image, errors naming the image.
    """
    from PIL import Image

    X = _data.one_file_as_list(X)
    if isinstance(X, str | os.PathLike):
        raise ValueError(
            "`X` names a folder: pass it to `fit` as a YOLO dataset folder, or "
            f"pass image files or arrays to predict. Received: X={X!r}"
        )
    if _data.is_path_list(X):
        images = []
        for path in X:
            with Image.open(path) as img:
                images.append(np.asarray(img.convert("RGB")))
        return images
    if isinstance(X, np.ndarray):
        if X.ndim not in (3, 4):
            raise ValueError(
                "`X` must be images: an array (n, height, width[, channels]) or a "
                f"list of (height, width[, channels]) arrays. Received an array of "
                f"shape {X.shape}."
            )
        images = _data.as_image_array(X)
        return np.repeat(images, 3, axis=-1) if images.shape[-1] == 1 else images
    if not isinstance(X, list | tuple) or not len(X):
        raise ValueError(
            "`X` must be a non-empty array of images, a list of images or of "
            f"image files. Received: {type(X).__name__}"
        )
    images = [_as_rgb(image, i) for i, image in enumerate(X)]
    for i, image in enumerate(images):
        checked = _data.as_image_array(image[None], name=f"X[{i}]")
        images[i] = checked[0]
    return images


def prepare_images(images, size: int) -> dict:
    """Letterbox RGB images (an array, or a list of any sizes) to prepared inputs."""
    n = len(images)
    out = {
        "images": np.empty((n, size, size, 3), np.uint8),
        "transforms": np.empty((n, 4), np.float32),
        "sizes": np.empty((n, 2), np.float32),
    }
    by_shape: dict = {}
    if isinstance(images, np.ndarray):
        by_shape[images.shape[1:]] = np.arange(n)
    else:
        for i, image in enumerate(images):
            by_shape.setdefault(image.shape, []).append(i)
    for rows in by_shape.values():
        for start in range(0, len(rows), _LETTERBOX_CHUNK):
            chunk = rows[start : start + _LETTERBOX_CHUNK]
            if isinstance(images, np.ndarray):
                pixels = images[chunk[0] : chunk[-1] + 1]
            else:
                pixels = np.stack([images[i] for i in chunk])
            batch = _letterbox(pixels, size)
            for key, value in batch.items():
                out[key][chunk] = value.numpy()
    return out


def pad_targets(targets: list[tuple], class_index) -> np.ndarray:
    """Checked ``(boxes, labels)`` per image as float32 (n, M, 5), class -1 padding."""
    width = max(1, max(len(boxes) for boxes, _ in targets))
    padded = np.zeros((len(targets), width, 5), np.float32)
    padded[..., 4] = -1
    for i, (boxes, labels) in enumerate(targets):
        padded[i, : len(boxes), :4] = boxes
        padded[i, : len(boxes), 4] = class_index(labels)
    return padded


def target_dicts(batch: dict) -> list[dict]:
    """A tf.data batch of targets (ragged, or padded with label -1) per image."""
    boxes, labels = batch["boxes"], batch["labels"]
    if isinstance(labels, tf.RaggedTensor):
        box_rows = [np.asarray(b, "float32").reshape(-1, 4) for b in boxes.to_list()]
        label_rows = [np.asarray(row) for row in labels.to_list()]
    else:
        box_rows, label_rows = [], []
        for image_boxes, image_labels in zip(
            boxes.numpy(), labels.numpy(), strict=True
        ):
            keep = (
                image_labels != -1
                if image_labels.dtype.kind in "iu"
                else np.ones(len(image_labels), bool)
            )
            box_rows.append(image_boxes[keep])
            label_rows.append(image_labels[keep])
    return [
        {
            "boxes": b,
            "labels": np.array([v.decode() if isinstance(v, bytes) else v for v in ls]),
        }
        for b, ls in zip(box_rows, label_rows, strict=True)
    ]
