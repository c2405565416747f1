"""Building blocks shared by the dense-prediction models (detector, segmenter).

A convolution-normalization-activation unit, and EfficientNet-Lite0 cut into a
model whose outputs are the feature maps at chosen blocks.
"""

import keras

from applied_ml.vision.backbones import load_backbone


def conv_bn(x, filters: int, kernel: int, stride: int, name: str, activation="silu"):
    """Convolution without bias, batch normalization, activation."""
    x = keras.layers.Conv2D(
        filters, kernel, strides=stride, padding="same", use_bias=False, name=name
    )(x)
    # momentum 0.9: the moving statistics settle within a few dozen steps, so
    # short fits predict with statistics that match their weights
    x = keras.layers.BatchNormalization(momentum=0.9, name=f"{name}_bn")(x)
    return keras.layers.Activation(activation, name=f"{name}_{activation}")(x)


def lite0_taps(size: int, weights, taps: tuple[str, ...]) -> keras.Model:
    """EfficientNet-Lite0 up to the last of ``taps``, returning each tap's map.

    Parameters
    ----------
    size : int
        Side of the square input images (values 0-255).
    weights : {"imagenet", None} or path-like
        The trunk's weights, as in :func:`applied_ml.vision.load_backbone`.
    taps : tuple of str
        Names of trunk layers (``block4_add``, ``block15_project_bn``...).

    Returns
    -------
    keras.Model
        Named ``backbone``: images in, the tapped feature maps out, in order.
    """
    network = load_backbone("efficientnet_lite0", weights, input_shape=(size, size, 3))
    scale = network.get_layer("preprocessor").get_layer("scale")
    trunk = network.get_layer("backbone")
    outputs = [trunk.get_layer(name).output for name in taps]
    features = keras.Model(trunk.input, outputs, name="lite0_features")
    inputs = keras.Input((size, size, 3), name="trunk_input")
    return keras.Model(inputs, features(scale(inputs)), name="backbone")
