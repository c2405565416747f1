"""MTCNN's face landmarks in TensorFlow ops, so a SavedModel finds faces itself.

The ``mtcnn`` package (1.0.0) ships the three networks of MTCNN (P-Net,
R-Net and O-Net, as Keras models) and their weights, but runs NumPy between
them. This module runs the same pipeline as graph ops around those networks:

1. P-Net slides over an image pyramid (smallest face 20 px, factor 0.709);
   cells above 0.6 give boxes, thinned per level and then across levels.
2. R-Net rescores square crops of those boxes at 24 x 24 (above 0.7 kept)
   and refines them; thinned again.
3. O-Net does the same at 48 x 48 (above 0.8 kept) and places five
   landmarks: the eyes, the nose tip and the mouth corners.

The numbers and rules are the package's, its thinning included: a box is
dropped when any higher-scored box overlaps it beyond the threshold (even
one dropped itself), overlap being intersection over union, or over the
smaller box after O-Net. Landmarks therefore agree with the package's to
float rounding (tested).
"""

import math

import tensorflow as tf

INSTALL = "pip install mtcnn==1.0.0 lz4"
MIN_FACE, CELL, SCALE_FACTOR = 20, 12, 0.709
THRESHOLDS = {"pnet": 0.6, "rnet": 0.7, "onet": 0.8}
NMS = {"level": 0.5, "pnet": 0.7, "rnet": 0.7, "onet": 0.7}
_networks = None


@tf.autograph.experimental.do_not_convert
def networks() -> dict:
    """P-Net, R-Net and O-Net with the mtcnn package's weights (built once)."""
    global _networks
    if _networks is None:
        try:
            from mtcnn.network.onet import ONet
            from mtcnn.network.pnet import PNet
            from mtcnn.network.rnet import RNet
            from mtcnn.utils.tensorflow import load_weights
        except ImportError as err:
            raise ImportError(
                f"align='mtcnn' needs the mtcnn package: `{INSTALL}`, or install "
                "applied_ml with its `vision` extra. Received: align='mtcnn' without "
                "mtcnn installed."
            ) from err
        built = {}
        # eagerly, even when first called while a tf.function is traced
        with tf.init_scope():
            for name, network in (("pnet", PNet), ("rnet", RNet), ("onet", ONet)):
                model = network()
                model.build()
                model.set_weights(load_weights(f"{name}.lz4"))
                built[name] = model
        _networks = built
    return _networks


def largest_face_landmarks(image: tf.Tensor) -> tf.Tensor:
    """The five landmarks of the largest face MTCNN finds in one image.

    A face that fills a small image can fall between the pyramid's levels,
    so an image without a face gets a second look at twice its size.

    Parameters
    ----------
    image : tf.Tensor of shape (height, width, 3)
        RGB, 0-255, float32.

    Returns
    -------
    tf.Tensor of shape (5, 2), float32
        ``(x, y)`` in the image's pixels of the left eye, right eye, nose
        tip, left and right mouth corners; NaN when no face was found.
    """
    points = _landmarks(image)

    def twice():
        size = tf.shape(image)[:2] * 2
        larger = tf.image.resize(image, size, method="bilinear")
        return _landmarks(tf.clip_by_value(tf.round(larger), 0.0, 255.0)) / 2.0

    return tf.cond(tf.reduce_any(tf.math.is_nan(points)), twice, lambda: points)


def _landmarks(image: tf.Tensor) -> tf.Tensor:
    nets = networks()
    normalized = (image - 127.5) / 128.0
    shape = tf.cast(tf.shape(image)[:2], tf.float32)
    boxes = _square(_thin(_proposals(nets["pnet"], normalized), NMS["pnet"]))

    def refined():
        boxes_r = _refine(nets["rnet"], normalized, boxes, shape)
        return _if_any(_square(_thin(boxes_r, NMS["rnet"])), placed)

    def placed(boxes_r):
        boxes_o, points = _output(nets["onet"], normalized, boxes_r, shape)
        # the largest face, by its box fitted inside the image
        x1, y1, x2, y2 = tf.unstack(boxes_o[:, :4], axis=1)
        x1, x2 = (tf.clip_by_value(v, 0.0, shape[1] - 1.0) for v in (x1, x2))
        y1, y2 = (tf.clip_by_value(v, 0.0, shape[0] - 1.0) for v in (y1, y2))
        area = tf.concat([(x2 - x1) * (y2 - y1), [-1.0]], axis=0)
        points = tf.concat([points, tf.fill([1, 5, 2], float("nan"))], axis=0)
        return points[tf.argmax(area, output_type=tf.int32)]

    return _if_any(boxes, lambda _: refined())


def _if_any(boxes: tf.Tensor, then) -> tf.Tensor:
    """``then(boxes)``, or NaN landmarks when there are no boxes.

    The networks are not called on an empty batch: TensorFlow's CPU
    convolution returns its input unchanged for one.
    """
    return tf.cond(
        tf.shape(boxes)[0] > 0,
        lambda: then(boxes),
        lambda: tf.fill([5, 2], float("nan")),
    )


def _proposals(pnet, normalized: tf.Tensor) -> tf.Tensor:
    """P-Net's boxes over the pyramid: (n, 5) x1 y1 x2 y2 score."""
    size = tf.cast(tf.shape(normalized)[:2], tf.float64)
    smallest = tf.reduce_min(size)
    levels = tf.cast(
        tf.round(-(tf.math.log(smallest / CELL) / math.log(SCALE_FACTOR) + 1.0)),
        tf.int32,
    )
    # an empty first entry: concat then works with no level at all
    found = tf.TensorArray(tf.float32, size=1, dynamic_size=True, infer_shape=False)
    found = found.write(0, tf.zeros([0, 5]))

    def level(k, found):
        scale = (CELL / MIN_FACE) * tf.pow(
            tf.constant(SCALE_FACTOR, tf.float64), tf.cast(k, tf.float64)
        )
        scaled = tf.image.resize(
            normalized[tf.newaxis], tf.cast(size * scale, tf.int32), method="area"
        )
        offsets, scores = pnet(scaled)
        boxes = _cells(offsets[0], scores[0, :, :, 1])
        boxes = tf.concat([boxes[:, :4] / tf.cast(scale, tf.float32), boxes[:, 4:]], 1)
        return k + 1, found.write(k + 1, _thin(boxes, NMS["level"], sort=False))

    _, found = tf.while_loop(lambda k, _: k < levels, level, (0, found))
    return tf.reshape(found.concat(), [-1, 5])


def _cells(offsets: tf.Tensor, scores: tf.Tensor) -> tf.Tensor:
    """Boxes of the P-Net cells above threshold, highest score first."""
    where = tf.where(scores > THRESHOLDS["pnet"])
    corner = tf.cast(where[:, ::-1], tf.float32) * 2.0  # (x, y), stride 2
    shift = tf.gather_nd(offsets, where) * (CELL - 1.0)
    start = corner + 1.0 + shift[:, :2]
    end = corner + CELL + shift[:, 2:]
    score = tf.gather_nd(scores, where)
    boxes = tf.concat([start, end, score[:, tf.newaxis]], axis=1)
    return tf.gather(boxes, tf.argsort(score, direction="DESCENDING"))


def _thin(boxes: tf.Tensor, threshold: float, *, sort: bool = True) -> tf.Tensor:
    """The boxes ``_kept`` keeps, highest score first if ``sort``."""
    if sort:
        boxes = tf.gather(boxes, tf.argsort(boxes[:, 4], direction="DESCENDING"))
    return tf.boolean_mask(boxes, _kept(boxes, threshold))


def _kept(boxes: tf.Tensor, threshold: float, over: str = "union") -> tf.Tensor:
    """False for each box overlapping an earlier one beyond ``threshold``."""
    x1, y1, x2, y2 = (boxes[:, i] for i in range(4))
    area = (x2 - x1) * (y2 - y1)
    width = tf.maximum(
        0.0, tf.minimum(x2[:, None], x2[None]) - tf.maximum(x1[:, None], x1[None])
    )
    height = tf.maximum(
        0.0, tf.minimum(y2[:, None], y2[None]) - tf.maximum(y1[:, None], y1[None])
    )
    inter = width * height
    if over == "union":
        overlap = inter / (area[:, None] + area[None] - inter)
    else:  # over the smaller box
        overlap = inter / tf.minimum(area[:, None], area[None])
    order = tf.range(tf.shape(boxes)[0])
    earlier = order[:, None] < order[None]
    return ~tf.reduce_any((overlap > threshold) & earlier, axis=0)


def _square(boxes: tf.Tensor) -> tf.Tensor:
    """Grow each box's shorter side about its centre to make it square."""
    x1, y1, x2, y2, score = tf.unstack(boxes, axis=1)
    width, height = x2 - x1, y2 - y1
    side = tf.maximum(width, height)
    x1 = x1 + (width - side) / 2.0
    y1 = y1 + (height - side) / 2.0
    return tf.stack([x1, y1, x1 + side, y1 + side, score], axis=1)


def _crops(normalized, boxes, shape, size: int):
    corners = tf.gather(boxes, [1, 0, 3, 2], axis=1) / tf.tile(shape, [2])
    return tf.image.crop_and_resize(
        normalized[tf.newaxis],
        corners,
        tf.zeros(tf.shape(boxes)[:1], tf.int32),
        (size, size),
    )


def _shifted(boxes, offsets, scores):
    """Boxes moved by a network's offsets (in box sizes), rescored."""
    size = boxes[:, 2:4] - boxes[:, 0:2] + 1.0
    corners = boxes[:, :4] + offsets * tf.tile(size, [1, 2])
    return tf.concat([corners, scores[:, 1:2]], axis=1)


def _refine(rnet, normalized, boxes, shape):
    offsets, scores = rnet(_crops(normalized, boxes, shape, 24))
    boxes = _shifted(boxes, offsets, scores)
    return tf.boolean_mask(boxes, boxes[:, 4] > THRESHOLDS["rnet"])


def _output(onet, normalized, boxes, shape):
    """O-Net's boxes (n, 5) and landmarks (n, 5, 2), thinned."""
    offsets, marks, scores = onet(_crops(normalized, boxes, shape, 48))
    size = boxes[:, 2:4] - boxes[:, 0:2] + 1.0
    origin = boxes[:, 0:2] - 1.0
    points = tf.stack([marks[:, :5], marks[:, 5:]], axis=-1)
    points = points * size[:, None] + origin[:, None]
    boxes = _shifted(boxes, offsets, scores)
    keep = boxes[:, 4] > THRESHOLDS["onet"]
    boxes, points = tf.boolean_mask(boxes, keep), tf.boolean_mask(points, keep)
    order = tf.argsort(boxes[:, 4], direction="DESCENDING")
    boxes, points = tf.gather(boxes, order), tf.gather(points, order)
    kept = _kept(boxes, NMS["onet"], over="min")
    return tf.boolean_mask(boxes, kept), tf.boolean_mask(points, kept)
