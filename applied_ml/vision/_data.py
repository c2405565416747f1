"""Image inputs: arrays, lists of files, class folders and tfds names."""

import os
import re

import numpy as np

IMAGE_SUFFIXES = (
    ".bmp",
    ".gif",
    ".jpeg",
    ".jpg",
    ".pgm",
    ".png",
    ".ppm",
    ".tif",
    ".tiff",
    ".webp",
)
_TFDS_NAME = re.compile(r"^[a-z0-9_]+(/[\w.-]+)?(:[\d.*]+)?$")


def as_image_array(X, *, name: str = "X") -> np.ndarray:
    """Validate in-memory images: (n, h, w) or (n, h, w, 1|3), values 0-255."""
    if isinstance(X, list | tuple):
        shapes = {np.shape(x) for x in X}
        if len(shapes) > 1:
            raise ValueError(
                f"`{name}` holds images of different sizes {sorted(shapes)[:4]}; "
                "an array batch needs one size. Pass file paths or a folder "
                "instead (they are resized on loading), or resize them first."
            )
        X = np.stack([np.asarray(x) for x in X]) if X else np.empty((0, 0, 0))
    X = np.asarray(X)
    if X.dtype == object:
        raise ValueError(
            f"`{name}` holds images of different sizes (an object array); pass "
            "file paths or a folder instead, or resize them first."
        )
    if X.ndim == 3:
        X = X[..., np.newaxis]
    if X.ndim != 4:
        raise ValueError(
            f"`{name}` must be images of shape (n, height, width) or (n, height, "
            f"width, channels). Received an array of shape {X.shape}."
        )
    if X.shape[0] == 0:
        raise ValueError(f"`{name}` holds no images (0 samples).")
    if X.shape[-1] not in (1, 3):
        raise ValueError(
            f"`{name}` must have 1 (grayscale) or 3 (RGB) channels. Received "
            f"{X.shape[-1]} channels (shape {X.shape}); drop an alpha channel "
            "with X[..., :3]."
        )
    if X.dtype.kind not in "uif":
        raise TypeError(f"`{name}` must hold numbers 0-255. Received dtype {X.dtype}.")
    if X.dtype != np.uint8:
        finite = np.isfinite(X).all()
        if not finite or X.min() < 0 or X.max() > 255:
            raise ValueError(
                f"`{name}` must hold pixel values in [0, 255] (uint8 or float). "
                f"Received values in [{X.min()}, {X.max()}]."
            )
    return X


def read_image(path: str, size: tuple[int, int], channels: int | None) -> np.ndarray:
    """One image file, centre-cropped to the aspect of ``size`` and resized."""
    from PIL import Image, ImageOps, UnidentifiedImageError

    try:
        with Image.open(path) as img:
            img.load()
            if channels is None:
                channels = 1 if img.mode in ("L", "I", "I;16", "F", "1") else 3
            img = img.convert("L" if channels == 1 else "RGB")
    except (OSError, UnidentifiedImageError) as err:
        raise ValueError(f"Cannot read the image file {path!r}: {err}") from err
    fitted = ImageOps.fit(img, (size[1], size[0]), method=Image.Resampling.BILINEAR)
    array = np.asarray(fitted, dtype=np.uint8)
    return array[..., np.newaxis] if array.ndim == 2 else array


def read_images(
    paths, size: tuple[int, int], channels: int | None = None
) -> np.ndarray:
    """Image files as one uint8 array (n, height, width, channels)."""
    if not paths:
        raise ValueError("`X` is an empty list of image files.")
    images = []
    for path in paths:
        image = read_image(os.fspath(path), size, channels)
        channels = image.shape[-1]  # the first file decides for the rest
        images.append(image)
    return np.stack(images)


def folder_dataset(folder: str) -> tuple[list[str], list[str]]:
    """Image paths and labels of a folder with one sub-folder per class."""
    classes = sorted(
        d for d in os.listdir(folder) if os.path.isdir(os.path.join(folder, d))
    )
    if not classes:
        raise ValueError(
            f"`X` names the folder {folder!r}, which has no class sub-folders; "
            "expected one sub-folder of images per class."
        )
    paths, labels = [], []
    for label in classes:
        class_dir = os.path.join(folder, label)
        files = sorted(
            f for f in os.listdir(class_dir) if f.lower().endswith(IMAGE_SUFFIXES)
        )
        if not files:
            raise ValueError(
                f"The class folder {class_dir!r} holds no image files "
                f"(looked for {', '.join(IMAGE_SUFFIXES)})."
            )
        paths += [os.path.join(class_dir, f) for f in files]
        labels += [label] * len(files)
    return paths, labels


def is_path_list(X) -> bool:
    return (
        isinstance(X, list | tuple)
        and bool(X)
        and all(isinstance(x, str | os.PathLike) for x in X)
    )


def load_tfds(name: str, split: str):
    """A tensorflow-datasets split as an unbatched (image, label) dataset."""
    if not _TFDS_NAME.match(name):
        raise ValueError(
            f"`X` is the string {name!r}: neither an existing folder nor a "
            "tensorflow-datasets name."
        )
    import tensorflow_datasets as tfds

    try:
        return tfds.load(name, split=split, as_supervised=True)
    except Exception as err:  # offline: a download or connection error
        raise ConnectionError(
            f"Loading the tensorflow-datasets set {name!r} failed "
            f"({type(err).__name__}: {err}). Offline, pass arrays (e.g. "
            "applied_ml.datasets.load_fashion_mnist()), image files or a folder "
            "of class sub-folders."
        ) from err
