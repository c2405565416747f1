"""Face alignment by landmarks: MTCNN's five points warped onto a template.

MTCNN (the ``mtcnn`` package, TensorFlow, weights in its wheel) finds each
face's box and five landmarks: the eyes, the nose tip and the mouth corners.
A similarity transform (rotation, uniform scale, shift; least squares over
the five points) maps them onto :data:`TEMPLATE`, and the image is warped
through it to the model's input size.

The template is where those five points fall in dlib's aligned 150 x 150
chip (``get_face_chip`` with padding 0.25), the crop dlib's face descriptor
and its ports were trained on: MTCNN's points averaged over the chips dlib
made of the 400 AT&T faces (396 detected; each coordinate's spread is 1.5-5
pixels).
"""

import numpy as np
import tensorflow as tf

# (x, y) of the left eye, right eye, nose tip, left and right mouth corners,
# as fractions of the chip's width and height.
TEMPLATE = (
    np.array(
        [
            [46.70, 45.35],
            [101.32, 45.05],
            [73.64, 74.78],
            [50.31, 100.70],
            [97.59, 100.71],
        ]
    )
    / 150.0
)
INSTALL = "pip install mtcnn==1.0.0 lz4"
# Images per detector call: MTCNN pads a batch to its largest image and runs
# the pyramid once for all of them.
_DETECT_CHUNK = 64
_detector = None


def _mtcnn():
    """The shared MTCNN detector (built once: it loads three networks)."""
    global _detector
    if _detector is None:
        try:
            from mtcnn import MTCNN
        except ImportError as err:
            raise ImportError(
                f"align='mtcnn' needs the mtcnn package: `{INSTALL}`, or install "
                "applied_ml with its `vision` extra. Received: align='mtcnn' without "
                "mtcnn installed."
            ) from err
        _detector = MTCNN(device="CPU:0")
    return _detector


def detect_landmarks(images) -> np.ndarray:
    """The five landmarks of the largest face in each image.

    Images in which MTCNN finds no face get a second look at twice their
    size: its image pyramid starts from a fixed smallest face, and a face
    that fills a small image can fall between its levels.

    Parameters
    ----------
    images : ndarray of shape (n, height, width, 3) or list of such arrays
        RGB images, 0-255.

    Returns
    -------
    ndarray of shape (n, 5, 2), float64
        ``(x, y)`` of each landmark in the image's pixels; NaN for an image
        in which no face was found.
    """
    points = _detect(images)
    missing = np.flatnonzero(np.isnan(points).any(axis=(1, 2)))
    if missing.size:
        larger = [_twice(images[i]) for i in missing]
        points[missing] = _detect(larger) / 2.0
    return points


def _twice(image) -> np.ndarray:
    image = tf.constant(np.asarray(image, np.float32))
    size = tf.shape(image)[:2] * 2
    larger = tf.image.resize(image, size, method="bilinear")
    return np.clip(np.round(larger.numpy()), 0, 255).astype(np.uint8)


def _detect(images) -> np.ndarray:
    """Landmarks of the largest face in each image (NaN where none)."""
    points = np.full((len(images), 5, 2), np.nan)
    groups: dict = {}
    for i, image in enumerate(images):
        groups.setdefault(np.shape(image), []).append(i)
    detector = _mtcnn()
    for rows in groups.values():
        for start in range(0, len(rows), _DETECT_CHUNK):
            chunk = rows[start : start + _DETECT_CHUNK]
            found = detector.detect_faces(
                [np.asarray(images[i], np.uint8) for i in chunk],
                output_type="numpy",
                box_format="xyxy",
            )
            # one row per face: image index, x1 y1 x2 y2, confidence, the
            # landmarks' five x then five y
            found = np.asarray(found, dtype=np.float64).reshape(-1, 16)
            area = (found[:, 3] - found[:, 1]) * (found[:, 4] - found[:, 2])
            for k, i in enumerate(chunk):
                mine = np.flatnonzero(found[:, 0] == k)
                if mine.size:
                    face = found[mine[np.argmax(area[mine])]]
                    points[i] = np.stack([face[6:11], face[11:16]], axis=1)
    return points


def similarity(source: np.ndarray, target: np.ndarray) -> np.ndarray:
    """The similarity transform that best maps ``source`` points onto ``target``.

    Umeyama's least-squares solution (no reflection).

    Parameters
    ----------
    source, target : ndarray of shape (k, 2)
        Corresponding points.

    Returns
    -------
    ndarray of shape (3, 3)
        Homogeneous matrix ``T`` with ``target ~ T @ [x, y, 1]``.
    """
    mean_s, mean_t = source.mean(axis=0), target.mean(axis=0)
    s, t = source - mean_s, target - mean_t
    covariance = t.T @ s / len(source)
    u, d, vt = np.linalg.svd(covariance)
    sign = np.ones(2)
    if np.linalg.det(u) * np.linalg.det(vt) < 0:
        sign[-1] = -1.0
    rotation = u @ np.diag(sign) @ vt
    scale = (d * sign).sum() / s.var(axis=0).sum()
    matrix = np.eye(3)
    matrix[:2, :2] = scale * rotation
    matrix[:2, 2] = mean_t - scale * rotation @ mean_s
    return matrix


def align_faces(images, points: np.ndarray, size: tuple[int, int]) -> np.ndarray:
    """Warp each image so its landmarks land on the template.

    Parameters
    ----------
    images : ndarray of shape (n, height, width, 3) or list of such arrays
        RGB images, 0-255.
    points : ndarray of shape (n, 5, 2)
        Landmarks from :func:`detect_landmarks` (rows with NaN give black
        crops).
    size : tuple of (int, int)
        Height and width of the crops; the template is stretched to them.

    Returns
    -------
    ndarray of shape (n, height, width, 3), uint8
        Bilinear samples; pixels from outside the image are black.
    """
    height, width = size
    target = TEMPLATE * [width, height]
    out = np.zeros((len(images), height, width, 3), np.uint8)
    for i, image in enumerate(images):
        if np.isnan(points[i]).any():
            continue
        # the warp reads, for each output pixel, the input pixel it came from
        inverse = np.linalg.inv(similarity(points[i], target))
        transform = np.concatenate([inverse[0], inverse[1], [0.0, 0.0]])
        warped = tf.raw_ops.ImageProjectiveTransformV3(
            images=tf.constant(np.asarray(image, np.float32)[None]),
            transforms=tf.constant(transform[None], tf.float32),
            output_shape=tf.constant([height, width], tf.int32),
            fill_value=tf.constant(0.0),
            interpolation="BILINEAR",
            fill_mode="CONSTANT",
        )
        out[i] = np.clip(np.round(warped.numpy()[0]), 0, 255).astype(np.uint8)
    return out
