"""Face crops without a detector: a centred box, resized to the model's input.

The same TensorFlow function crops in ``fit``/``predict`` (per group of images
of one size) and inside the exported SavedModel, so both see identical pixels.
"""

import numpy as np
import tensorflow as tf

# Share of the height and width cut from each side by align="center": the box
# a face detector gives on a photo that is already framed on the face.
CENTER_MARGIN = 0.1
# Images cropped per call: bounds TensorFlow's float32 copy.
_CHUNK = 256


def center_faces(images, size: tuple[int, int], margin: float):
    """Centred boxes of ``images``, resized to ``size``, as uint8 RGB.

    Parameters
    ----------
    images : tensor of shape (n, height, width, channels)
        Pixels 0-255, 1 (grey, repeated to RGB) or 3 channels.
    size : tuple of (int, int) or tensor
        Height and width of the output; a box of another aspect ratio is
        stretched to it.
    margin : float or tensor
        Share of the height and of the width cut from each side (0 keeps
        the whole image).

    Returns
    -------
    tensor of shape (n, height, width, 3), uint8
        Bilinear resize with antialiasing, rounded.
    """
    images = tf.convert_to_tensor(images)
    shape = tf.shape(images)
    images = tf.broadcast_to(images, tf.concat([shape[:3], [3]], axis=0))
    top, left = _cut(shape[1], margin), _cut(shape[2], margin)
    crop = images[:, top : shape[1] - top, left : shape[2] - left, :]
    resized = tf.image.resize(
        tf.cast(crop, tf.float32), size, method="bilinear", antialias=True
    )
    return tf.cast(tf.clip_by_value(tf.round(resized), 0.0, 255.0), tf.uint8)


def _cut(length, margin: float):
    """Pixels cut from each end of ``length``, leaving at least one."""
    cut = tf.cast(tf.round(tf.cast(length, tf.float32) * margin), tf.int32)
    return tf.minimum(cut, (length - 1) // 2)


# size and margin as tensors: one trace serves every recognizer's crop size
_center_faces = tf.function(
    center_faces,
    input_signature=[
        tf.TensorSpec([None, None, None, None], tf.float32),
        tf.TensorSpec([2], tf.int32),
        tf.TensorSpec([], tf.float32),
    ],
)


def crop_faces(images, size: tuple[int, int], margin: float) -> np.ndarray:
    """:func:`center_faces` over an array or a list of images of any sizes.

    Parameters
    ----------
    images : ndarray of shape (n, height, width, 3) or list of such arrays
        RGB images, 0-255.
    size : tuple of (int, int)
        Height and width of the output crops.
    margin : float
        As in :func:`center_faces`.

    Returns
    -------
    ndarray of shape (n, height, width, 3), uint8
        One crop per image, in order.
    """
    size_, margin_ = tf.constant(size, tf.int32), tf.constant(margin, tf.float32)
    (faces,) = map_by_size(
        images, lambda pixels: (_center_faces(pixels, size_, margin_),), _CHUNK
    )
    return faces


def map_by_size(images, fn, chunk: int) -> tuple[np.ndarray, ...]:
    """``fn`` over batches of same-size images, its outputs in image order.

    Parameters
    ----------
    images : ndarray of shape (n, height, width, channels) or list of arrays
        Images, 0-255.
    fn : callable
        Takes a float32 batch (at most ``chunk`` images of one size) and
        returns a tuple of tensors with one row per image.
    chunk : int
        Images per call, bounding memory.

    Returns
    -------
    tuple of ndarray
        Each of ``fn``'s outputs, one row per image of ``images``.
    """
    groups: dict = {}
    if isinstance(images, np.ndarray):
        groups[images.shape[1:]] = np.arange(len(images))
    else:
        for i, image in enumerate(images):
            groups.setdefault(image.shape, []).append(i)
    outputs = None
    for rows in groups.values():
        rows = np.asarray(rows)
        for start in range(0, len(rows), chunk):
            part = rows[start : start + chunk]
            pixels = np.stack([np.asarray(images[i], np.float32) for i in part])
            results = [r.numpy() for r in fn(pixels)]
            if outputs is None:
                outputs = [
                    np.empty((len(images), *r.shape[1:]), r.dtype) for r in results
                ]
            for out, result in zip(outputs, results, strict=True):
                out[part] = result
    return tuple(outputs)
