"""fold_batch_norm: the folded model computes what the original does."""

import keras
import numpy as np
import pytest

from applied_ml._fold import fold_batch_norm
from applied_ml.vision._models import InferenceMode


def _randomize_statistics(model: keras.Model, seed: int = 0) -> None:
    """Move every normalization away from the identity it starts as."""
    rng = np.random.default_rng(seed)
    stack = [model]
    while stack:
        layer = stack.pop()
        stack.extend(getattr(layer, "layers", ()))
        if hasattr(layer, "layer"):
            stack.append(layer.layer)
        if isinstance(layer, keras.layers.BatchNormalization):
            shape = layer.moving_mean.shape
            layer.moving_mean.assign(rng.normal(0, 0.5, shape))
            layer.moving_variance.assign(rng.uniform(0.2, 3.0, shape))
            if layer.scale:
                layer.gamma.assign(rng.uniform(0.5, 2.0, shape))
            if layer.center:
                layer.beta.assign(rng.normal(0, 0.5, shape))


def _norms(model: keras.Model) -> int:
    count, stack = 0, [model]
    while stack:
        layer = stack.pop()
        stack.extend(getattr(layer, "layers", ()))
        if hasattr(layer, "layer"):
            stack.append(layer.layer)
        count += isinstance(layer, keras.layers.BatchNormalization)
    return count


def _same_outputs(model, folded, shape, seed=1):
    x = np.random.default_rng(seed).normal(size=(4, *shape)).astype("float32")
    expected = keras.ops.convert_to_numpy(model(x, training=False))
    received = keras.ops.convert_to_numpy(folded(x, training=False))
    np.testing.assert_allclose(received, expected, rtol=1e-4, atol=1e-4)


def _chain(conv, **norm):
    inputs = keras.Input((8, 8, 3))
    # named: ``conv`` was made at collection time, and after a clear_session
    # in an earlier test an unnamed layer here could take the same name
    x = keras.layers.Conv2D(6, 3, padding="same", use_bias=False, name="lead")(inputs)
    x = conv(x)
    x = keras.layers.BatchNormalization(**norm)(x)
    x = keras.layers.ReLU(6.0)(x)
    return keras.Model(inputs, keras.layers.GlobalAveragePooling2D()(x))


@pytest.mark.parametrize(
    ("conv", "norm"),
    [
        (keras.layers.Conv2D(5, 3, padding="same"), {}),
        (keras.layers.Conv2D(5, 1, use_bias=False), {"scale": False}),
        (keras.layers.DepthwiseConv2D(3, depth_multiplier=2, padding="same"), {}),
        (keras.layers.DepthwiseConv2D(3, use_bias=False), {"center": False}),
    ],
)
def test_convolution_and_normalization_fold_into_one_layer(conv, norm):
    model = _chain(conv, **norm)
    _randomize_statistics(model)
    folded = fold_batch_norm(model)
    assert _norms(model) == 1 and _norms(folded) == 0
    _same_outputs(model, folded, (8, 8, 3))


def test_one_dimensional_convolutions_fold():
    inputs = keras.Input((16, 4))
    x = keras.layers.Conv1D(7, 3)(inputs)
    model = keras.Model(inputs, keras.layers.BatchNormalization()(x))
    _randomize_statistics(model)
    folded = fold_batch_norm(model)
    assert _norms(folded) == 0
    _same_outputs(model, folded, (16, 4))


def test_a_convolution_read_elsewhere_or_activated_keeps_its_normalization():
    inputs = keras.Input((8, 8, 3))
    shared = keras.layers.Conv2D(4, 3, padding="same")(inputs)
    normed = keras.layers.BatchNormalization()(shared)
    activated = keras.layers.Conv2D(4, 3, padding="same", activation="relu")(inputs)
    after = keras.layers.BatchNormalization()(activated)
    outputs = keras.layers.Concatenate()([normed, shared, after])
    model = keras.Model(inputs, outputs)
    _randomize_statistics(model)
    assert fold_batch_norm(model) is model


def test_nested_and_wrapped_models_fold_and_other_layers_are_shared():
    inner = _chain(keras.layers.Conv2D(5, 3, padding="same"))
    wrapped = _chain(keras.layers.DepthwiseConv2D(3, padding="same"))
    inputs = keras.Input((8, 8, 3))
    head = keras.layers.Dense(2, name="head")
    outputs = head(
        keras.layers.Concatenate()(
            [inner(inputs), InferenceMode(wrapped, name="pretrained")(inputs)]
        )
    )
    model = keras.Model(inputs, outputs)
    _randomize_statistics(model)
    folded = fold_batch_norm(model)
    assert _norms(model) == 2 and _norms(folded) == 0
    assert folded.get_layer("head") is head
    _same_outputs(model, folded, (8, 8, 3))


def test_models_without_a_functional_graph_come_back_unchanged():
    sequential = keras.Sequential(
        [keras.Input((4, 4, 1)), keras.layers.Conv2D(2, 1), keras.layers.Flatten()]
    )
    assert fold_batch_norm(sequential) is sequential
    inputs = keras.Input((3,))
    dense = keras.Model(inputs, keras.layers.Dense(2)(inputs))
    assert fold_batch_norm(dense) is dense


def test_the_folded_model_follows_later_changes_to_the_weights():
    model = _chain(keras.layers.DepthwiseConv2D(3, padding="same"))
    folded = fold_batch_norm(model)
    # no weights of its own: every variable is the original's
    assert all(any(w is v for v in model.weights) for w in folded.weights)
    # new statistics and kernels after folding (a further fit, set_weights)
    _randomize_statistics(model, seed=3)
    rng = np.random.default_rng(4)
    model.set_weights([rng.normal(size=w.shape) for w in model.get_weights()])
    _same_outputs(model, folded, (8, 8, 3))
