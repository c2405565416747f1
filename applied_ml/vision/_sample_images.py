"""Sample predictions of the image tasks as TensorBoard images.

Each function takes a few prepared images (0-255) with their true and
predicted targets and returns :class:`applied_ml._tensorboard.SampleImage`
summaries; the tasks' ``_sample_images`` hooks run the model and call them.
"""

import numpy as np
import tensorflow as tf

from applied_ml._tensorboard import SampleImage

# Box colours (RGB, 0-1): true boxes green, predicted boxes red
_TRUE = (0.0, 1.0, 0.0)
_PREDICTED = (1.0, 0.0, 0.0)
# Gap in pixels between side-by-side panels
_GAP = 2
# Letterbox padding in masks: PASCAL VOC's colour of "void" pixels
_PADDING = (224, 224, 192)


def label_samples(images, true, predicted, probability) -> list[SampleImage]:
    """One summary per image, tagged with its true and predicted label.

    The tag changes with the prediction, so TensorBoard shows under each
    sample one card per label predicted for it, with the epochs it was.
    """
    return [
        SampleImage(
            f"sample_{i}/true_{t}/predicted_{p}",
            _rgb_or_grey(image)[None],
            f"True label {t!r}; predicted {p!r} with probability {q:.3f}.",
        )
        for i, (image, t, p, q) in enumerate(
            zip(images, true, predicted, probability, strict=True)
        )
    ]


def box_samples(images, true_boxes, predicted_boxes) -> list[SampleImage]:
    """Each image twice, side by side: true boxes (green), predicted (red).

    Boxes are ``x1 y1 x2 y2`` in the images' pixels, one (N, 4) array per
    image (N may differ, or be 0).
    """
    panels = [
        _side_by_side(
            [
                _draw(image, boxes, _TRUE),
                _draw(image, predicted, _PREDICTED),
            ]
        )
        for image, boxes, predicted in zip(
            images, true_boxes, predicted_boxes, strict=True
        )
    ]
    return [
        SampleImage(
            "detections",
            np.stack(panels),
            "Left: true boxes (green). Right: predicted boxes (red), after "
            "non-max suppression at the detector's thresholds.",
        )
    ]


def mask_samples(images, true_masks, predicted_masks, n_classes: int) -> list:
    """Image | true mask | predicted mask, the masks in one colour per class.

    Masks hold class indices (``-1``: letterbox padding, drawn light grey).
    """
    palette = class_palette(n_classes)
    panels = [
        _side_by_side(
            [_rgb(image), _colour(true, palette), _colour(predicted, palette)]
        )
        for image, true, predicted in zip(
            images, true_masks, predicted_masks, strict=True
        )
    ]
    return [
        SampleImage(
            "segmentation",
            np.stack(panels),
            "Image | true mask | predicted mask: one colour per class index "
            "(the order of `classes_`, PASCAL VOC colours), light grey where the "
            "letterbox padded.",
        )
    ]


def class_palette(n_classes: int) -> np.ndarray:
    """Distinct RGB colours (uint8) for class indices 0 .. n_classes - 1.

    The PASCAL VOC scheme: the bits of the index spread over the three
    channels, high bits first, so neighbouring indices differ clearly.
    """
    palette = np.zeros((n_classes, 3), np.uint8)
    for index in range(n_classes):
        value, shift = index, 7
        while value:
            for channel in range(3):
                palette[index, channel] |= ((value >> channel) & 1) << shift
            value >>= 3
            shift -= 1
    return palette


def _colour(mask, palette: np.ndarray) -> np.ndarray:
    mask = np.asarray(mask)
    out = np.empty((*mask.shape, 3), np.uint8)
    out[...] = _PADDING
    known = (mask >= 0) & (mask < len(palette))
    out[known] = palette[mask[known]]
    return out


def _draw(image, boxes, colour) -> np.ndarray:
    image = _rgb(image)
    boxes = np.asarray(boxes, np.float32).reshape(-1, 4)
    if not len(boxes):
        return image
    height, width = image.shape[:2]
    # tf.image wants (y1, x1, y2, x2) as shares of the side
    scale = np.array([height - 1, width - 1, height - 1, width - 1], np.float32)
    corners = boxes[:, [1, 0, 3, 2]] / np.maximum(scale, 1)
    drawn = tf.image.draw_bounding_boxes(
        tf.cast(image[None], tf.float32),
        corners[None],
        np.array([[*(255 * np.array(colour))]], np.float32),
    )
    return np.clip(drawn[0].numpy(), 0, 255).astype(np.uint8)


def _side_by_side(panels: list[np.ndarray]) -> np.ndarray:
    height = panels[0].shape[0]
    gap = np.full((height, _GAP, 3), 255, np.uint8)
    parts = []
    for panel in panels:
        parts += [panel, gap]
    return np.concatenate(parts[:-1], axis=1)


def _rgb(image) -> np.ndarray:
    image = np.clip(np.asarray(image), 0, 255).astype(np.uint8)
    if image.ndim == 2:
        image = image[..., None]
    return np.repeat(image, 3, axis=-1) if image.shape[-1] == 1 else image


def _rgb_or_grey(image) -> np.ndarray:
    image = np.clip(np.asarray(image), 0, 255).astype(np.uint8)
    return image[..., None] if image.ndim == 2 else image
