"""Letterboxing and augmentation of one image with its boxes, in TensorFlow.

The zoom-and-shift warp and the colour jitter also serve masks, which move
with their image through the same warp (nearest-neighbour resampled).

Boxes are ``x1 y1 x2 y2`` float pixels. Every transform moves the boxes with
the pixels; boxes pushed partly out of the frame are clipped, and boxes left
with less than ``min_visible`` of their area are dropped with their labels.
"""

import tensorflow as tf

PAD_VALUE = 114.0  # grey padding, the YOLO convention: neither black nor white


def letterbox_geometry(image_shape, size: int):
    """Where letterboxing puts an image of ``image_shape`` in the square.

    Parameters
    ----------
    image_shape : tf.Tensor of shape (2,)
        The image's ``(height, width)``.
    size : int
        Side of the square output.

    Returns
    -------
    new : tf.Tensor of shape (2,)
        The resized ``(height, width)``, int32.
    transform : tf.Tensor of shape (4,)
        ``(scale_x, scale_y, left, top)`` as :func:`letterbox` returns it.
    """
    shape = tf.cast(image_shape, tf.float32)
    scale = size / tf.reduce_max(shape)
    new = tf.clip_by_value(tf.cast(tf.round(shape * scale), tf.int32), 1, size)
    top = (size - new[0]) // 2
    left = (size - new[1]) // 2
    # the actual scale per axis after rounding, so boxes land on the pixels
    scale_yx = tf.cast(new, tf.float32) / shape
    transform = tf.stack(
        [scale_yx[1], scale_yx[0], tf.cast(left, tf.float32), tf.cast(top, tf.float32)]
    )
    return new, transform


def letterbox(images, size: int) -> dict:
    """Resize a batch of images to fit ``size`` x ``size``, keeping the aspect.

    The images are resized (antialiased) so their longer side is ``size``,
    then padded equally on both sides with ``PAD_VALUE`` grey, and rounded to
    uint8: ``predict`` and the SavedModel see the same pixels.

    Parameters
    ----------
    images : tf.Tensor of shape (B, H, W, C)
        Pixels 0-255, any numeric dtype; one size for the batch.
    size : int
        Side of the square output.

    Returns
    -------
    dict
        ``images``: uint8 (B, size, size, C); ``transforms``: float32 (B, 4),
        ``(scale_x, scale_y, left, top)``, so that output x = input x *
        scale_x + left (y likewise; :func:`letterbox_boxes` applies it,
        :func:`unletterbox_boxes` inverts it); ``sizes``: float32 (B, 2),
        the input ``(height, width)``.
    """
    images = tf.cast(images, tf.float32)
    shape = tf.cast(tf.shape(images)[1:3], tf.float32)
    new, transform = letterbox_geometry(tf.shape(images)[1:3], size)
    resized = tf.cond(
        tf.reduce_all(new == tf.shape(images)[1:3]),
        lambda: images,  # already the size: no resampling at all
        lambda: tf.image.resize(images, new, antialias=True),
    )
    left = tf.cast(transform[2], tf.int32)
    top = tf.cast(transform[3], tf.int32)
    padded = (
        tf.image.pad_to_bounding_box(resized - PAD_VALUE, top, left, size, size)
        + PAD_VALUE
    )
    n = tf.shape(images)[0]
    return {
        "images": tf.cast(tf.clip_by_value(tf.round(padded), 0, 255), tf.uint8),
        "transforms": tf.tile(transform[None], [n, 1]),
        "sizes": tf.tile(shape[None], [n, 1]),
    }


def letterbox_boxes(boxes, transforms):
    """Boxes (..., N, 4) of each image in its letterboxed pixels.

    ``transforms`` has one ``(scale_x, scale_y, left, top)`` row per image,
    of shape (..., 4), as returned by :func:`letterbox`.
    """
    transforms = tf.cast(transforms, tf.float32)[..., None, :]
    scale = tf.concat([transforms[..., :2], transforms[..., :2]], axis=-1)
    offset = tf.concat([transforms[..., 2:], transforms[..., 2:]], axis=-1)
    return tf.cast(boxes, tf.float32) * scale + offset


def unletterbox_boxes(boxes, transforms, sizes):
    """Map boxes from letterboxed pixels back to each original image's pixels.

    Parameters
    ----------
    boxes : tf.Tensor of shape (..., N, 4)
        Boxes in the letterboxed images.
    transforms : tf.Tensor of shape (..., 4)
        Per image, ``(scale_x, scale_y, left, top)`` from :func:`letterbox`.
    sizes : tf.Tensor of shape (..., 2)
        Per image, the original ``(height, width)``.

    Returns
    -------
    tf.Tensor of shape (..., N, 4)
        Boxes in the original pixels, clipped to their images.
    """
    transforms = tf.cast(transforms, tf.float32)[..., None, :]
    scale = tf.concat([transforms[..., :2], transforms[..., :2]], axis=-1)
    offset = tf.concat([transforms[..., 2:], transforms[..., 2:]], axis=-1)
    original = (tf.cast(boxes, tf.float32) - offset) / scale
    height_width = tf.cast(sizes, tf.float32)[..., None, :]
    width_height = tf.reverse(height_width, axis=[-1])
    limit = tf.concat([width_height, width_height], axis=-1)
    return tf.clip_by_value(original, 0.0, limit)


def _clip_and_drop(boxes, labels, size, min_visible: float):
    """Clip boxes to the frame; drop those with too little area left."""
    area = (boxes[:, 2] - boxes[:, 0]) * (boxes[:, 3] - boxes[:, 1])
    clipped = tf.clip_by_value(boxes, 0.0, tf.cast(size, tf.float32))
    kept_area = (clipped[:, 2] - clipped[:, 0]) * (clipped[:, 3] - clipped[:, 1])
    keep = (kept_area > 0) & (kept_area >= min_visible * area)
    return tf.boolean_mask(clipped, keep), tf.boolean_mask(labels, keep)


def flip_left_right(image, boxes):
    """Mirror a square image and its boxes."""
    width = tf.cast(tf.shape(image)[1], tf.float32)
    flipped = tf.stack(
        [width - boxes[:, 2], boxes[:, 1], width - boxes[:, 0], boxes[:, 3]], axis=1
    )
    return tf.image.flip_left_right(image), flipped


def zoom_shift(image, zoom, shift, *, fill_value, interpolation="BILINEAR"):
    """Zoom a square image about its centre by ``zoom``, then shift it.

    Parameters
    ----------
    image : tf.Tensor of shape (S, S, C)
        A float32 image (or class map with ``interpolation="NEAREST"``).
    zoom : tf.Tensor
        Scale factor (> 1 crops in, < 1 shows more of the fill).
    shift : tf.Tensor of shape (2,)
        ``(dx, dy)`` in pixels.
    fill_value : float
        Value of the pixels the zoom and shift uncover.
    interpolation : {"BILINEAR", "NEAREST"}, default="BILINEAR"
        Resampling of the pixels.

    Returns
    -------
    tf.Tensor
        The moved image, of ``image``'s shape and dtype.
    """
    size = tf.shape(image)[0]
    centre = tf.cast(size, tf.float32) / 2.0
    zoom = tf.cast(zoom, tf.float32)
    shift = tf.cast(shift, tf.float32)
    # output pixel p comes from input (p - shift - centre) / zoom + centre
    a = 1.0 / zoom
    tx = centre - (centre + shift[0]) * a
    ty = centre - (centre + shift[1]) * a
    # the kernel indexes pixel centres (i, not i + 0.5): shift by half a pixel
    half = 0.5 * a - 0.5
    transform = tf.stack([a, 0.0, tx + half, 0.0, a, ty + half, 0.0, 0.0])
    dtype = image.dtype
    moved = tf.raw_ops.ImageProjectiveTransformV3(
        images=tf.cast(image, tf.float32)[None],
        transforms=transform[None],
        output_shape=tf.stack([size, size]),
        fill_value=fill_value,
        interpolation=interpolation,
        fill_mode="CONSTANT",
    )[0]
    return tf.cast(moved, dtype)


def scale_translate(image, boxes, labels, *, zoom, shift, min_visible: float = 0.3):
    """Zoom a square image about its centre, then shift it; boxes follow.

    Parameters
    ----------
    image : tf.Tensor of shape (S, S, C)
        float32 image.
    boxes : tf.Tensor of shape (N, 4)
        Boxes in its pixels.
    labels : tf.Tensor of shape (N,)
        Their labels (dropped with their boxes).
    zoom : tf.Tensor
        Scale factor (> 1 crops in, < 1 shows more padding).
    shift : tf.Tensor of shape (2,)
        ``(dx, dy)`` in pixels.
    min_visible : float, default=0.3
        Fraction of a box's area that must stay in the frame.

    Returns
    -------
    image, boxes, labels : tf.Tensor
        The transformed image (padding ``PAD_VALUE``) and kept boxes/labels.
    """
    size = tf.shape(image)[0]
    centre = tf.cast(size, tf.float32) / 2.0
    zoom = tf.cast(zoom, tf.float32)
    shift = tf.cast(shift, tf.float32)
    moved = zoom_shift(image, zoom, shift, fill_value=PAD_VALUE)
    offset = tf.stack([shift[0], shift[1], shift[0], shift[1]])
    new_boxes = (boxes - centre) * zoom + centre + offset
    new_boxes, new_labels = _clip_and_drop(new_boxes, labels, size, min_visible)
    return moved, new_boxes, new_labels


def jitter_color(image, seed):
    """Random brightness, contrast and saturation of a 0-255 image."""
    seeds = tf.random.experimental.stateless_split(seed, 3)
    image = image / 255.0
    image = tf.image.stateless_random_brightness(image, 0.15, seeds[0])
    image = tf.image.stateless_random_contrast(image, 0.75, 1.25, seeds[1])
    image = tf.image.stateless_random_saturation(image, 0.6, 1.4, seeds[2])
    return tf.clip_by_value(image, 0.0, 1.0) * 255.0
