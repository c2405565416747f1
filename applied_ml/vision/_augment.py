"""Random image augmentation for training pipelines (never in exported models)."""

import keras

AUGMENTATIONS = (
    "flip",
    "rotation",
    "zoom",
    "translation",
    "contrast",
    "brightness",
    "crop",
)
# Share of the height and width a "crop" keeps before the model resizes it back.
CROP_FRACTION = 0.875


def check_augmentation(value, names: tuple[str, ...]) -> None:
    """Refuse an ``augmentation`` that is not None or a tuple of ``names``."""
    if value is not None and (
        not isinstance(value, tuple | list) or not set(value) <= set(names)
    ):
        listed = ", ".join(repr(a) for a in names)
        raise ValueError(
            f"`augmentation` must be None or a tuple of names from {listed}. "
            f"Received: augmentation={value!r}"
        )


def make_augmenter(names, image_shape: tuple[int, int], seed: int | None):
    """A ``keras.Sequential`` of random layers, one per name, for 0-255 images."""
    height, width = image_shape
    factories = {
        "flip": lambda s: keras.layers.RandomFlip("horizontal", seed=s),
        "rotation": lambda s: keras.layers.RandomRotation(
            0.1, fill_mode="reflect", seed=s
        ),
        "zoom": lambda s: keras.layers.RandomZoom(0.1, fill_mode="reflect", seed=s),
        "translation": lambda s: keras.layers.RandomTranslation(
            0.1, 0.1, fill_mode="reflect", seed=s
        ),
        "contrast": lambda s: keras.layers.RandomContrast(
            0.2, value_range=(0, 255), seed=s
        ),
        "brightness": lambda s: keras.layers.RandomBrightness(
            0.2, value_range=(0, 255), seed=s
        ),
        "crop": lambda s: keras.layers.RandomCrop(
            max(1, round(height * CROP_FRACTION)),
            max(1, round(width * CROP_FRACTION)),
            seed=s,
        ),
    }
    layers = [
        factories[name](None if seed is None else seed + i)
        for i, name in enumerate(names)
    ]
    return keras.Sequential(layers, name="augmentation")
