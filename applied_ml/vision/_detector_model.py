"""Pure builder of the grid detector: a trunk, a two-scale neck, a YOLO head.

The model takes letterboxed square images (0-255 floats) and returns the raw
head output of shape (batch, S, S, A, 5 + C) on a grid of stride 8. The neck
merges the stride-8 and stride-16 feature maps (the stride-16 map upsampled),
so each cell sees both fine detail and a wider context.
"""

import keras
import numpy as np

from applied_ml.vision._blocks import conv_bn, lite0_taps
from applied_ml.vision._models import InferenceMode

STRIDE = 8
# Lite0 blocks that end the stride-8 (40 channels) and stride-16 (112
# channels) stages of the trunk.
_LITE0_TAPS = ("block4_add", "block10_add")
# A new head says "no object" with probability 0.99 everywhere: negatives
# outnumber objects a hundredfold, and a head starting at 0.5 spends its first
# steps unlearning that (the prior-probability start of RetinaNet).
_OBJECT_PRIOR = 0.01


def _residual(x, filters: int, name: str):
    y = conv_bn(x, filters // 2, 1, 1, f"{name}_reduce")
    y = conv_bn(y, filters, 3, 1, f"{name}_conv")
    return keras.layers.Add(name=f"{name}_add")([x, y])


def _small_trunk(size: int) -> keras.Model:
    """A small residual trunk from scratch: stride-8 and stride-16 maps."""
    inputs = keras.Input((size, size, 3), name="trunk_input")
    x = keras.layers.Rescaling(1 / 255, name="scale")(inputs)
    x = conv_bn(x, 16, 3, 2, "stem")
    x = conv_bn(x, 32, 3, 2, "down1")
    x = _residual(x, 32, "stage1")
    x = conv_bn(x, 64, 3, 2, "down2")
    for i in range(2):
        x = _residual(x, 64, f"stage2_{i}")
    fine = x
    x = conv_bn(x, 128, 3, 2, "down3")
    for i in range(2):
        x = _residual(x, 128, f"stage3_{i}")
    return keras.Model(inputs, [fine, x], name="backbone")


def build_detector(
    meta: dict,
    *,
    backbone: str = "small_cnn",
    weights=None,
    freeze_backbone: bool = False,
) -> keras.Model:
    """The grid detector for ``meta``.

    Parameters
    ----------
    meta : dict
        ``image_size`` (side of the square input, a multiple of 16),
        ``n_classes`` and ``anchors`` (A pairs of width, height).
    backbone : {"small_cnn", "efficientnet_lite0"}, default="small_cnn"
        The trunk: a small residual network trained from scratch, or the
        first five stages of EfficientNet-Lite0.
    weights : {"imagenet", None} or path-like, default=None
        Weights of the Lite0 trunk (ignored by ``"small_cnn"``).
    freeze_backbone : bool, default=False
        Keep a pretrained trunk's weights fixed; only the neck and head train.

    Returns
    -------
    keras.Model
        ``images`` (batch, S, S, 3) floats 0-255 in; raw head output
        (batch, S / 8, S / 8, A, 5 + C) out. Sub-models ``backbone``
        (wrapped as ``pretrained`` when its weights are pretrained), and the
        neck and head layers.
    """
    size = int(meta["image_size"])
    n_anchors = len(meta["anchors"])
    channels = 5 + int(meta["n_classes"])
    if backbone == "efficientnet_lite0":
        trunk = lite0_taps(size, weights, _LITE0_TAPS)
    else:
        trunk = _small_trunk(size)
    inputs = keras.Input((size, size, 3), name="images")
    if backbone == "efficientnet_lite0" and weights is not None:
        trunk.trainable = not freeze_backbone
        # batch norm keeps its ImageNet statistics, stochastic depth stays off
        fine, coarse = InferenceMode(trunk, name="pretrained")(inputs)
    else:
        fine, coarse = trunk(inputs)
    coarse = conv_bn(coarse, 64, 1, 1, "neck_reduce")
    up = keras.layers.UpSampling2D(2, interpolation="nearest", name="neck_up")(coarse)
    x = keras.layers.Concatenate(name="neck_concat")([fine, up])
    x = conv_bn(x, 64, 3, 1, "neck_conv0")
    x = conv_bn(x, 64, 3, 1, "neck_conv1")
    head = keras.layers.Conv2D(n_anchors * channels, 1, name="head")
    x = head(x)
    cells = size // STRIDE
    outputs = keras.layers.Reshape((cells, cells, n_anchors, channels), name="grid")(x)
    bias = np.zeros((n_anchors, channels), "float32")
    bias[:, 4] = np.log(_OBJECT_PRIOR / (1 - _OBJECT_PRIOR))
    head.bias.assign(bias.reshape(-1))
    return keras.Model(inputs, outputs, name=f"object_detector_{backbone}")
