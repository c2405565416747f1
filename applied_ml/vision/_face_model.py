"""Pure builder of the face embedding network: face crops in, unit vectors out."""

import keras

from applied_ml.vision import _face_resnet
from applied_ml.vision._models import InferenceMode, train_top, trunk
from applied_ml.vision.backbones import _ImageScaling, load_backbone

# Backbone name -> (height, width) of the face crop it takes by default: the
# portrait shape of face photos, but for the face model's own square crop.
FACE_SIZES = {
    "face_resnet": (150, 150),
    "efficientnet_lite0": (192, 160),
    "small_cnn": (80, 64),
}
FACE_BACKBONES = tuple(FACE_SIZES)


def build_face_embedder(
    meta: dict, *, backbone: str, embedding_dim: int
) -> keras.Model:
    """The embedding network; a pretrained trunk starts frozen.

    Parameters
    ----------
    meta : dict
        ``image_size``: (height, width) of the uint8 RGB crops it takes.
    backbone : {"face_resnet", "efficientnet_lite0", "small_cnn"}
        The pretrained face descriptor (its own 128-d output), ImageNet
        EfficientNet-Lite0 features or a small CNN from scratch, the last
        two with a dense projection to ``embedding_dim``.
    embedding_dim : int
        Size of the embedding (128 for ``"face_resnet"``).

    Returns
    -------
    keras.Model
        ``images`` (batch, height, width, 3) with values 0-255 in, L2-normalised
        embeddings (batch, ``embedding_dim``) out.
    """
    size = tuple(meta["image_size"])
    inputs = keras.Input((*size, 3), name="images")
    if backbone == "face_resnet":
        network = _face_resnet.build_face_resnet()
        network.load_weights(_face_resnet.pretrained_weights_path())
        train_top(network, 0)
        scaled = _ImageScaling(
            mean=_face_resnet.MEAN, std=_face_resnet.PIXEL_SCALE, name="face_scaling"
        )(inputs)
        x = network(scaled)
    else:
        pretrained = backbone == "efficientnet_lite0"
        features = load_backbone(
            backbone,
            weights="imagenet" if pretrained else None,
            input_shape=(*size, 3),
        )
        if pretrained:
            train_top(features.get_layer("backbone"), 0)
            features = InferenceMode(features, name="pretrained")
        x = keras.layers.Dense(embedding_dim, name="projection")(features(inputs))
    outputs = keras.layers.UnitNormalization(name="l2_normalize")(x)
    return keras.Model(inputs, outputs, name=f"face_embedder_{backbone}")


def trunk_of(model: keras.Model) -> keras.Model:
    """The pretrained network inside a model of :func:`build_face_embedder`."""
    names = [layer.name for layer in model.layers]
    if "face_resnet" in names:
        return model.get_layer("face_resnet")
    return trunk(model)
