"""Segmentation targets: class maps checked image by image, then letterboxed.

Prepared targets are a dict of parallel arrays, one row per image:

- ``masks``: int16 (n, S, S), each pixel's index in ``classes_``, letterboxed
  like the images (nearest neighbour), -1 on the padding;
- ``sizes``: float32 (n, 2), the mask's original ``height, width``.
"""

import os

import numpy as np

from applied_ml.vision._data import IMAGE_SUFFIXES

IGNORE = -1


def as_masks(y, name: str = "y") -> list[np.ndarray]:
    """``y`` as a list of 2-D integer class maps; errors name the image.

    ``name`` is the argument's name in the error messages.
    """
    if isinstance(y, str | os.PathLike):
        raise TypeError(
            f"`{name}` must be masks (arrays), not a path: pass a folder of images "
            f"and masks as `X` alone. Received: {name}={y!r}"
        )
    if isinstance(y, np.ndarray):
        if y.ndim not in (3, 4):
            raise ValueError(
                f"`{name}` must be masks: an array (n, height, width) or a list of "
                f"(height, width) arrays. Received an array of shape {y.shape}."
            )
        masks = list(y)
    elif isinstance(y, list | tuple):
        masks = [np.asarray(mask) for mask in y]
    else:
        raise TypeError(
            f"`{name}` must be an array of masks or a list of masks. Received: "
            f"{type(y).__name__}"
        )
    where = "" if name == "y" else f" of `{name}`"
    return [_as_class_map(mask, f"Mask {i}{where}") for i, mask in enumerate(masks)]


def _as_class_map(mask: np.ndarray, which: str) -> np.ndarray:
    if mask.ndim == 3 and mask.shape[-1] == 1:
        mask = mask[..., 0]
    if mask.ndim != 2:
        raise ValueError(
            f"{which} must be a class map of shape (height, width): one class "
            "value per pixel (a colour mask with 3 channels must be mapped to "
            f"class values first). Received shape {mask.shape}."
        )
    if mask.dtype.kind not in "iub":
        raise TypeError(
            f"{which} must hold integer (or boolean) class values. Received "
            f"dtype {mask.dtype}; cast it with mask.astype(int) if its values are "
            "whole numbers."
        )
    return mask.astype(np.int64) if mask.dtype.kind == "b" else mask


def check_seen(masks: list[np.ndarray], classes: np.ndarray) -> None:
    """Every mask value is one of ``classes``; the error names the first mask."""
    for index, mask in enumerate(masks):
        unseen = np.setdiff1d(np.unique(mask), classes)
        if unseen.size:
            raise ValueError(
                f"Mask {index} has a value not seen in fit: the classes are "
                f"{classes.tolist()}. Received: {unseen.tolist()}"
            )


def check_sizes(masks_sizes: np.ndarray, image_sizes: np.ndarray) -> None:
    """Each mask has its image's height and width; the error names the first."""
    if len(masks_sizes) != len(image_sizes):
        raise ValueError(
            f"`X` and `y` must have the same number of samples. Received: "
            f"{len(image_sizes)} images and {len(masks_sizes)} masks."
        )
    wrong = np.flatnonzero((masks_sizes != image_sizes).any(axis=1))
    if len(wrong):
        i = int(wrong[0])
        expected = image_sizes[i].astype(int).tolist()
        received = masks_sizes[i].astype(int).tolist()
        raise ValueError(
            f"Mask {i} must have the size of its image, {expected} (height, "
            f"width). Received {received}."
        )


def letterbox_masks(masks: list[np.ndarray], class_index, size: int) -> dict:
    """Masks as prepared targets: class indices, letterboxed, -1 padding.

    The geometry is :func:`applied_ml.vision._box_augment.letterbox_geometry`'s:
    the longer side scaled to ``size`` (the shorter rounded), centred; each
    output pixel takes the class of the input pixel under its centre.
    """
    out = np.full((len(masks), size, size), IGNORE, np.int16)
    sizes = np.empty((len(masks), 2), np.float32)
    for i, mask in enumerate(masks):
        height, width = mask.shape
        sizes[i] = height, width
        # float32 and round-half-to-even, as letterbox_geometry computes it
        scale = np.float32(size) / np.float32(max(height, width))
        new_h, new_w = np.clip(
            np.round(np.array([height, width], np.float32) * scale), 1, size
        ).astype(int)
        rows = _sources(new_h, height)
        cols = _sources(new_w, width)
        top, left = (size - new_h) // 2, (size - new_w) // 2
        indices = class_index(mask.ravel()).reshape(mask.shape)
        out[i, top : top + new_h, left : left + new_w] = indices[np.ix_(rows, cols)]
    return {"masks": out, "sizes": sizes}


def _sources(new: int, old: int) -> np.ndarray:
    """For each of ``new`` output pixels, the input pixel under its centre."""
    return np.minimum(((np.arange(new) + 0.5) * old / new).astype(int), old - 1)


def _files_by_stem(folder: str) -> dict[str, str]:
    return {
        os.path.splitext(name)[0]: os.path.join(folder, name)
        for name in sorted(os.listdir(folder))
        if name.lower().endswith(IMAGE_SUFFIXES)
    }


def read_mask_folder(folder: str | os.PathLike) -> tuple[list, list]:
    """Images and masks of a folder with ``images/`` and ``masks/``, by stem.

    Images are read as RGB; masks as stored (a palette PNG gives its palette
    indices, a greyscale image its grey values). An image without a mask, or
    a mask without an image, is an error: nothing is left out silently.
    """
    from PIL import Image

    folder = os.fspath(folder)
    parts = [os.path.join(folder, name) for name in ("images", "masks")]
    missing = [p for p in parts if not os.path.isdir(p)]
    if missing:
        raise ValueError(
            f"`X` names the folder {folder!r}, which must hold the sub-folders "
            f"'images' and 'masks'. Received no {missing[0]!r}."
        )
    images, masks = (_files_by_stem(p) for p in parts)
    unpaired = sorted(set(images) ^ set(masks))
    if unpaired:
        raise ValueError(
            f"Every file in {parts[0]!r} needs a file of the same name (without "
            f"its suffix) in {parts[1]!r} and back. Received unpaired: "
            f"{unpaired[:5]}"
        )
    if not images:
        raise ValueError(f"The folder {parts[0]!r} holds no image files.")
    pixels, maps = [], []
    for stem in images:
        with Image.open(images[stem]) as img:
            pixels.append(np.asarray(img.convert("RGB")))
        with Image.open(masks[stem]) as img:
            maps.append(np.asarray(img))
    return pixels, maps
