"""Batch normalization folded into the convolutions before it, for inference.

In inference mode a batch normalization layer is a per-channel affine map,
``gamma * (x - mean) / sqrt(var + eps) + beta``. When it directly follows a
convolution whose output nothing else reads, the map folds into the
convolution's kernel and bias, and the layer disappears. On a CPU this roughly
halves the time of an EfficientNet trunk: the two elementwise passes of every
normalization go, and TensorFlow fuses convolution, bias and activation into one
kernel. The folded model shares every other layer (and its weights) with the
original; it is a snapshot of the normalization statistics and convolution
weights, taken again after each fit.
"""

import keras
import numpy as np

_CONVOLUTIONS = (
    keras.layers.Conv1D,
    keras.layers.Conv2D,
    keras.layers.Conv3D,
    keras.layers.DepthwiseConv1D,
    keras.layers.DepthwiseConv2D,
)
_DEPTHWISE = (keras.layers.DepthwiseConv1D, keras.layers.DepthwiseConv2D)


class _Identity(keras.layers.Layer):
    """Stands in for a folded normalization; takes its call arguments."""

    def call(self, inputs, training=None, mask=None):
        return inputs


def _functional_models(model: keras.Model):
    """``model`` and every functional model nested in it."""
    yield model
    for layer in model.layers:
        if isinstance(layer, keras.Model) and hasattr(layer, "_nodes_by_depth"):
            yield from _functional_models(layer)


def _foldable(conv, norm) -> bool:
    channel_axis = len(conv.kernel.shape) - 1  # of the convolution's output
    return (
        type(conv) in _CONVOLUTIONS
        and conv.data_format == "channels_last"
        and conv.activation is keras.activations.linear
        and norm.axis in (-1, channel_axis)
        and len(conv._inbound_nodes) == 1
        and len(norm._inbound_nodes) == 1
    )


def _pairs(model: keras.Model) -> dict:
    """Normalization layer to the convolution it can fold into."""
    pairs = {}
    for graph in _functional_models(model):
        nodes = [n for depth in graph._nodes_by_depth.values() for n in depth]
        readers = {}
        for node in nodes:
            for tensor in node.input_tensors:
                readers[id(tensor)] = readers.get(id(tensor), 0) + 1
        for tensor in keras.tree.flatten(graph.outputs):
            readers[id(tensor)] = readers.get(id(tensor), 0) + 1
        producers = {
            id(node.output_tensors[0]): node.operation
            for node in nodes
            if type(node.operation) in _CONVOLUTIONS
        }
        for node in nodes:
            norm = node.operation
            if not isinstance(norm, keras.layers.BatchNormalization):
                continue
            source = id(node.input_tensors[0])
            conv = producers.get(source)
            if conv is not None and readers[source] == 1 and _foldable(conv, norm):
                pairs[norm] = conv
    return pairs


def _folded_weights(conv, norm) -> list:
    kernel = keras.ops.convert_to_numpy(conv.kernel).astype(np.float64)
    channels = (
        kernel.shape[-2] * kernel.shape[-1]
        if type(conv) in _DEPTHWISE
        else kernel.shape[-1]
    )
    bias = (
        keras.ops.convert_to_numpy(conv.bias).astype(np.float64)
        if conv.use_bias
        else np.zeros(channels)
    )
    mean = keras.ops.convert_to_numpy(norm.moving_mean).astype(np.float64)
    variance = keras.ops.convert_to_numpy(norm.moving_variance).astype(np.float64)
    gamma = keras.ops.convert_to_numpy(norm.gamma) if norm.scale else 1.0
    beta = keras.ops.convert_to_numpy(norm.beta) if norm.center else 0.0
    factor = np.asarray(gamma, np.float64) / np.sqrt(variance + norm.epsilon)
    if type(conv) in _DEPTHWISE:
        kernel = kernel * factor.reshape(kernel.shape[-2:])
    else:
        kernel = kernel * factor
    dtype = keras.backend.standardize_dtype(conv.kernel.dtype)
    return [kernel.astype(dtype), ((bias - mean) * factor + beta).astype(dtype)]


def _folded_wrappers(model: keras.Model) -> dict:
    """Wrapper of a functional model to a new wrapper of its folded model.

    Only wrappers configured by their layer alone (such as one that runs the
    layer in inference mode) are rebuilt; others are left as they are.
    """
    wrappers = {}
    for graph in _functional_models(model):
        for layer in graph.layers:
            if not isinstance(layer, keras.layers.Wrapper):
                continue
            if set(layer.get_config()) - {"name", "trainable", "dtype", "layer"}:
                continue
            inner = fold_batch_norm(layer.layer)
            if inner is not layer.layer:
                wrappers[layer] = type(layer)(inner, name=layer.name)
    return wrappers


def fold_batch_norm(model: keras.Model) -> keras.Model:
    """An inference copy of ``model`` with batch normalization folded away.

    Parameters
    ----------
    model : keras.Model
        A functional model; functional models nested in it, directly or in a
        wrapper layer, are folded too.

    Returns
    -------
    keras.Model
        ``model`` itself when nothing folds (a subclassed model, or no
        convolution followed by a normalization only it feeds); otherwise a
        functional model computing the same outputs in inference mode, up to
        float rounding, that shares every layer but the folded ones.
    """
    if not hasattr(model, "_nodes_by_depth"):
        return model
    pairs = _pairs(model)
    wrappers = _folded_wrappers(model)
    if not pairs and not wrappers:
        return model
    convs = {conv: norm for norm, conv in pairs.items()}
    folded = {}

    def clone(layer):
        if layer in wrappers:
            return wrappers[layer]
        if layer in pairs:
            return _Identity(name=layer.name)
        if layer in convs:
            copy = type(layer).from_config({**layer.get_config(), "use_bias": True})
            folded[copy] = layer
            return copy
        return layer

    copy = keras.models.clone_model(model, clone_function=clone, recursive=True)
    for new, conv in folded.items():
        new.set_weights(_folded_weights(conv, convs[conv]))
    return copy
