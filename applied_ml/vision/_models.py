"""Pure builder of the transfer-learning image classifier."""

import keras

from applied_ml.vision.backbones import load_backbone


@keras.saving.register_keras_serializable(package="applied_ml")
class InferenceMode(keras.layers.Wrapper):
    """Run the wrapped model in inference mode, also while the outer model trains.

    Keras 3 overrides a ``training=False`` given when a functional graph is
    built with the training flag of the outer call, so a pretrained backbone
    would run its dropout and stochastic depth during ``fit``. Batch norm with
    ``trainable=False`` already uses its moving statistics; this wrapper makes
    the whole backbone deterministic, frozen or fine-tuned.
    """

    def call(self, inputs):
        return self.layer(inputs, training=False)

    def compute_output_shape(self, input_shape):
        return self.layer.compute_output_shape(input_shape)


def build_image_classifier(
    meta: dict,
    *,
    backbone: str = "efficientnet_lite0",
    weights="imagenet",
    dropout: float = 0.2,
) -> keras.Model:
    """A pretrained (or fresh) backbone with a new softmax head.

    Parameters
    ----------
    meta : dict
        ``n_classes``, ``channels`` and ``image_size`` (height, width).
    backbone : str, default="efficientnet_lite0"
        A name accepted by :func:`applied_ml.vision.load_backbone`.
    weights : {"imagenet", None} or path-like, default="imagenet"
        Backbone weights.
    dropout : float, default=0.2
        Dropout before the classification layer.

    Returns
    -------
    keras.Model
        ``images`` (any size, 0-255) in, class probabilities out. Sub-models:
        ``features`` (holding ``preprocessor`` and ``backbone``) and ``head``.
        A pretrained backbone always runs in inference mode (batch norm with
        moving statistics, no dropout), also while it is fine-tuned; one
        trained from scratch (``weights=None``) trains normally.
    """
    features = load_backbone(
        backbone,
        weights=weights,
        input_shape=(*meta["image_size"], meta["channels"]),
    )
    features.name = "features"
    head = keras.Sequential(
        [
            keras.layers.Dropout(dropout, name="dropout"),
            keras.layers.Dense(meta["n_classes"], activation="softmax", name="logits"),
        ],
        name="head",
    )
    inputs = keras.Input((None, None, meta["channels"]), name="images")
    if weights is not None:
        features = InferenceMode(features, name="pretrained")
    outputs = head(features(inputs))
    return keras.Model(inputs, outputs, name=f"image_classifier_{backbone}")


def features_of(model: keras.Model) -> keras.Model:
    """The ``features`` sub-model (preprocessor, backbone, pooling) of ``model``."""
    names = [layer.name for layer in model.layers]
    if "pretrained" in names:
        return model.get_layer("pretrained").layer
    return model.get_layer("features")


def trunk(model: keras.Model) -> keras.Model:
    """The backbone trunk inside a model built by :func:`build_image_classifier`."""
    return features_of(model).get_layer("backbone")


def unfreeze_top(model: keras.Model, n_layers: int) -> None:
    """Make the top ``n_layers`` of the trunk trainable (batch norm stays frozen)."""
    train_top(trunk(model), n_layers)


def train_top(body: keras.Model, n_layers: int) -> None:
    """Make the top ``n_layers`` layers with weights of ``body`` trainable.

    The others, and every batch normalization, are frozen.
    """
    body.trainable = True
    layers = [layer for layer in body.layers if layer.weights]
    for i, layer in enumerate(layers):
        keep = i >= len(layers) - n_layers
        layer.trainable = keep and not isinstance(
            layer, keras.layers.BatchNormalization
        )
