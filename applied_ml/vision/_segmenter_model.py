"""Pure builder of the U-Net segmenter: an encoder, a decoder with skips.

The model takes square images (0-255 floats) and returns per-pixel class
probabilities at the input's size. The encoder is EfficientNet-Lite0 (skips
at strides 4, 8 and 16, the bottom at stride 32) or the classic U-Net
encoder trained from scratch (two convolutions per level, max-pooling between
levels). The decoder doubles the resolution at each level, with a transpose
convolution or nearest upsampling followed by a convolution, concatenates the
encoder's map of that stride, and convolves twice.

Over the Lite0 encoder the decoder stops at stride 4, and the class logits are
resized bilinearly to the input's size. Decoder levels at strides 2 and 1
slowed training and left the classes speckled inside each object: on the
scenes, after 690 training steps, the mean IoU was 0.30-0.33 with the decoder
down to stride 1, 0.39 down to stride 2 (with the stride-2 skip) and 0.49
down to stride 4, at nearly the same foreground IoU (0.90, 0.90, 0.89).
"""

import keras

from applied_ml.vision._blocks import conv_bn, lite0_taps
from applied_ml.vision._models import InferenceMode

# Lite0 layers ending the stride-4, 8, 16 and 32 stages of the trunk.
LITE0_TAPS = (
    "block2_add",
    "block4_add",
    "block10_add",
    "block15_project_bn",
)
# Decoder widths at strides 16, 8 and 4 over the Lite0 encoder.
_LITE0_DECODER = (128, 64, 48)


def _unet_encoder(size: int, base_filters: int, depth: int) -> keras.Model:
    """The classic U-Net encoder: maps at strides 1, 2, ... 2**depth."""
    inputs = keras.Input((size, size, 3), name="encoder_input")
    x = keras.layers.Rescaling(1 / 255, name="scale")(inputs)
    maps = []
    for level in range(depth + 1):
        if level:
            x = keras.layers.MaxPooling2D(2, name=f"pool{level}")(x)
        filters = base_filters * 2**level
        x = conv_bn(x, filters, 3, 1, f"enc{level}_conv0", "relu")
        x = conv_bn(x, filters, 3, 1, f"enc{level}_conv1", "relu")
        maps.append(x)
    return keras.Model(inputs, maps, name="backbone")


def _up(x, filters: int, decoder: str, name: str):
    if decoder == "transpose":
        return keras.layers.Conv2DTranspose(
            filters, 2, strides=2, padding="same", name=f"{name}_transpose"
        )(x)
    x = keras.layers.UpSampling2D(2, interpolation="nearest", name=f"{name}_up")(x)
    return conv_bn(x, filters, 3, 1, f"{name}_up_conv", "relu")


def build_segmenter(
    meta: dict,
    *,
    encoder: str = "efficientnet_lite0",
    weights="imagenet",
    decoder: str = "transpose",
    base_filters: int = 16,
    depth: int = 4,
) -> keras.Model:
    """The U-Net for ``meta``.

    Parameters
    ----------
    meta : dict
        ``image_size`` (side of the square input, a multiple of 32 for
        Lite0 and of ``2**depth`` for the U-Net encoder) and ``n_classes``.
    encoder : {"efficientnet_lite0", "unet"}, default="efficientnet_lite0"
        The pretrained trunk or the classic encoder from scratch.
    weights : {"imagenet", None} or path-like, default="imagenet"
        Weights of the Lite0 encoder (ignored by ``"unet"``).
    decoder : {"transpose", "upsample"}, default="transpose"
        How each decoder level doubles the resolution.
    base_filters, depth : int, default=16, 4
        Width of the U-Net encoder's first level (doubling at each level)
        and its number of poolings.

    Returns
    -------
    keras.Model
        ``images`` (batch, S, S, 3) floats 0-255 in; ``probabilities``
        (batch, S, S, n_classes) out. The encoder is the sub-model
        ``backbone`` (wrapped as ``pretrained`` in inference mode when its
        weights are pretrained: batch normalization keeps its statistics).
    """
    size = int(meta["image_size"])
    inputs = keras.Input((size, size, 3), name="images")
    if encoder == "efficientnet_lite0":
        trunk = lite0_taps(size, weights, LITE0_TAPS)
        widths = _LITE0_DECODER
        if weights is not None:
            trunk = InferenceMode(trunk, name="pretrained")
    else:
        trunk = _unet_encoder(size, base_filters, depth)
        widths = [base_filters * 2**level for level in reversed(range(depth))]
    *skips, x = trunk(inputs)
    skips = skips[::-1]
    for level, filters in enumerate(widths):
        name = f"dec{level}"
        x = _up(x, filters, decoder, name)
        x = keras.layers.Concatenate(name=f"{name}_concat")([x, skips[level]])
        x = conv_bn(x, filters, 3, 1, f"{name}_conv0", "relu")
        x = conv_bn(x, filters, 3, 1, f"{name}_conv1", "relu")
    logits = keras.layers.Conv2D(meta["n_classes"], 1, name="logits")(x)
    factor = size // logits.shape[1]
    if factor > 1:
        logits = keras.layers.UpSampling2D(
            factor, interpolation="bilinear", name="logits_up"
        )(logits)
    outputs = keras.layers.Softmax(name="probabilities", dtype="float32")(logits)
    return keras.Model(inputs, outputs, name=f"image_segmenter_{encoder}")
