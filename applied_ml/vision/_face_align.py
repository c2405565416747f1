"""Face alignment by landmarks: MTCNN's five points warped onto a template.

MTCNN (the ``mtcnn`` package, TensorFlow, weights in its wheel) finds each
face's box and five landmarks: the eyes, the nose tip and the mouth corners.
A similarity transform (rotation, uniform scale, shift; least squares over
the five points) maps them onto :data:`TEMPLATE`, and the image is warped
through it to the model's input size.

All of it is TensorFlow ops (:mod:`._mtcnn` runs the detector's networks
in the graph): one function crops in ``fit``/``predict`` and inside the
exported SavedModel, which therefore takes photos of any size.

The template is where those five points fall in dlib's aligned 150 x 150
chip (``get_face_chip`` with padding 0.25), the crop dlib's face descriptor
and its ports were trained on: MTCNN's points averaged over the chips dlib
made of the 400 AT&T faces (396 detected; each coordinate's spread is 1.5-5
pixels).
"""

import numpy as np
import tensorflow as tf

from applied_ml.vision._face_crop import map_by_size
from applied_ml.vision._mtcnn import largest_face_landmarks, networks

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
# Images per call: MTCNN's pyramid of each is held at once.
_CHUNK = 64


def align_faces(images, size) -> tuple[tf.Tensor, tf.Tensor]:
    """Each image warped so its largest face's landmarks land on the template.

    Parameters
    ----------
    images : tensor of shape (n, height, width, channels)
        Pixels 0-255, 1 (grey, repeated to RGB) or 3 channels.
    size : tuple of (int, int) or tensor
        Height and width of the crops; the template is stretched to them.

    Returns
    -------
    faces : tensor of shape (n, height, width, 3), uint8
        Bilinear samples, rounded; pixels from outside the image are black,
        and so is the whole crop of an image in which no face was found.
    found : tensor of shape (n,), bool
        Whether MTCNN found a face.
    """
    images = tf.cast(tf.convert_to_tensor(images), tf.float32)
    shape = tf.shape(images)
    images = tf.broadcast_to(images, tf.concat([shape[:3], [3]], axis=0))
    points = tf.map_fn(
        largest_face_landmarks,
        images,
        fn_output_signature=tf.TensorSpec([5, 2], tf.float32),
    )
    found = ~tf.reduce_any(tf.math.is_nan(points), axis=[1, 2])
    size = tf.convert_to_tensor(size, tf.int32)
    target = tf.constant(TEMPLATE) * tf.cast(tf.gather(size, [1, 0]), tf.float64)
    # no face: any finite points, the crop is blanked below
    points = tf.where(found[:, None, None], tf.cast(points, tf.float64), target)
    # the warp reads, for each output pixel, the input pixel it came from
    inverse = tf.linalg.inv(similarity(points, target))
    transforms = tf.concat(
        [inverse[:, 0], inverse[:, 1], tf.zeros_like(inverse[:, 2, :2])], axis=1
    )
    warped = tf.raw_ops.ImageProjectiveTransformV3(
        images=images,
        transforms=tf.cast(transforms, tf.float32),
        output_shape=size,
        fill_value=tf.constant(0.0),
        interpolation="BILINEAR",
        fill_mode="CONSTANT",
    )
    faces = tf.cast(tf.clip_by_value(tf.round(warped), 0.0, 255.0), tf.uint8)
    return tf.where(found[:, None, None, None], faces, tf.zeros_like(faces)), found


def similarity(source, target) -> tf.Tensor:
    """The similarity transforms that best map each ``source`` onto ``target``.

    Umeyama's least-squares solution (rotation, uniform scale and shift; no
    reflection).

    Parameters
    ----------
    source : tensor of shape (n, k, 2), float64
        Points of each of ``n`` images.
    target : tensor of shape (k, 2), float64
        The points they should land on.

    Returns
    -------
    tensor of shape (n, 3, 3), float64
        Homogeneous matrices ``T`` with ``target ~ T @ [x, y, 1]``.
    """
    source = tf.convert_to_tensor(source, tf.float64)
    target = tf.convert_to_tensor(target, tf.float64)
    mean_s = tf.reduce_mean(source, axis=1, keepdims=True)
    mean_t = tf.reduce_mean(target, axis=0)
    s, t = source - mean_s, target - mean_t
    covariance = tf.einsum("ki,nkj->nij", t, s) / tf.cast(tf.shape(t)[0], tf.float64)
    d, u, v = tf.linalg.svd(covariance)
    flip = tf.linalg.det(u) * tf.linalg.det(v) < 0
    one = tf.ones_like(d[:, 0])
    sign = tf.stack([one, tf.where(flip, -one, one)], axis=1)
    rotation = tf.matmul(u * sign[:, None, :], v, transpose_b=True)
    spread = tf.reduce_sum(tf.reduce_mean(tf.square(s), axis=1), axis=1)
    scale = tf.reduce_sum(d * sign, axis=1) / spread
    linear = scale[:, None, None] * rotation
    shift = mean_t - tf.linalg.matvec(linear, mean_s[:, 0])
    top = tf.concat([linear, shift[:, :, None]], axis=2)
    bottom = tf.broadcast_to(
        tf.constant([[[0.0, 0.0, 1.0]]], tf.float64), [tf.shape(top)[0], 1, 3]
    )
    return tf.concat([top, bottom], axis=1)


_align_faces = tf.function(
    align_faces,
    input_signature=[
        tf.TensorSpec([None, None, None, None], tf.float32),
        tf.TensorSpec([2], tf.int32),
    ],
)


def mtcnn_faces(images, size: tuple[int, int]) -> tuple[np.ndarray, np.ndarray]:
    """:func:`align_faces` over an array or a list of images of any sizes.

    Parameters
    ----------
    images : ndarray of shape (n, height, width, 3) or list of such arrays
        RGB images, 0-255.
    size : tuple of (int, int)
        Height and width of the crops.

    Returns
    -------
    faces : ndarray of shape (n, height, width, 3), uint8
    found : ndarray of shape (n,), bool
    """
    networks()  # built outside the trace (and the install error raised here)
    return map_by_size(
        images, lambda pixels: _align_faces(pixels, tf.constant(size, tf.int32)), _CHUNK
    )
