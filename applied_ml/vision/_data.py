"""Image inputs: arrays, lists of files, class folders and tfds names."""

import os
import re
import warnings

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
# PIL modes of one-channel images (16-bit PNGs open as "I;16" or "I")
_GREY_MODES = ("1", "L", "LA", "I", "I;16", "I;16B", "I;16L", "I;16N", "F")


def image_size_pair(image_size, default: tuple[int, int]) -> tuple[int, int]:
    """``image_size`` (None, an int or a pair) as a (height, width) pair."""
    size = image_size
    if size is None:
        return tuple(default)
    if isinstance(size, int) and not isinstance(size, bool):
        size = (size, size)
    if (
        not isinstance(size, tuple | list)
        or len(size) != 2
        or not all(
            isinstance(s, int) and not isinstance(s, bool) and s >= 32 for s in size
        )
    ):
        raise ValueError(
            "`image_size` must be None, an int >= 32 or a (height, width) pair "
            f"of such ints. Received: image_size={image_size!r}"
        )
    return tuple(size)


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
        if X.dtype.kind == "f" and 0 < X.max() <= 1:
            warnings.warn(
                f"`{name}` holds floats in [0, 1], taken as intensities scaled to "
                "[0, 1] and multiplied by 255 (the model takes 0-255 pixels). "
                "Pass uint8 images or floats in [0, 255] to silence this warning.",
                UserWarning,
                stacklevel=2,
            )
            X = X * 255
    return X


def read_image(path: str, size: tuple[int, int], channels: int | None) -> np.ndarray:
    """One image file, centre-cropped to the aspect of ``size`` and resized.

    ``channels=None`` keeps the file's own: 1 for grey, 3 for anything else.
    """
    from PIL import Image, ImageOps, UnidentifiedImageError

    try:
        with Image.open(path) as img:
            img.load()
            if channels is None:
                channels = 1 if img.mode in _GREY_MODES else 3
            img = _as_8_bit(img, path)
            img = img.convert("L" if channels == 1 else "RGB")
    except (OSError, UnidentifiedImageError) as err:
        raise ValueError(f"Cannot read the image file {path!r}: {err}") from err
    fitted = ImageOps.fit(img, (size[1], size[0]), method=Image.Resampling.BILINEAR)
    array = np.asarray(fitted, dtype=np.uint8)
    return array[..., np.newaxis] if array.ndim == 2 else array


def _as_8_bit(img, path: str):
    """16-bit grey scaled to 8 bits (``convert("L")`` would clip it to white)."""
    from PIL import Image

    if not (img.mode == "I" or img.mode.startswith("I;16")):
        return img
    array = np.asarray(img)
    if array.min() < 0 or array.max() > 65535:
        raise ValueError(
            f"Cannot read the image file {path!r}: its 32-bit integer pixels hold "
            f"values in [{array.min()}, {array.max()}], outside the 16-bit range "
            "[0, 65535]; convert it to 8 or 16 bits first."
        )
    return Image.fromarray(np.rint(array / 257).astype(np.uint8))


def read_images(
    paths, size: tuple[int, int], channels: int | None = None
) -> np.ndarray:
    """Image files as one uint8 array (n, height, width, channels).

    ``channels=None`` (fit) reads all files as RGB when any one is colour,
    grey files then repeated to 3 channels; all grey files stay grey.
    """
    if not paths:
        raise ValueError("`X` is an empty list of image files.")
    images = [read_image(os.fspath(path), size, channels) for path in paths]
    if channels is None and any(image.shape[-1] == 3 for image in images):
        images = [
            np.repeat(image, 3, axis=-1) if image.shape[-1] == 1 else image
            for image in images
        ]
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


def one_file_as_list(X):
    """``[X]`` when ``X`` is one image file path; ``X`` itself otherwise.

    A folder is returned as is (the caller says what it means there); any
    other string or path is an error.
    """
    if not isinstance(X, str | os.PathLike) or os.path.isdir(X):
        return X
    if not os.path.isfile(X):
        raise ValueError(
            "`X` must be images (an array), a list of image files or one image "
            f"file. Received: X={X!r}, which is not an existing file."
        )
    return [os.fspath(X)]


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
