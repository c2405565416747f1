"""Semi-synthetic detection and segmentation scenes with exact ground truth.

Real Fashion-MNIST items, cut to their silhouettes, resized and tinted, are
pasted (overlaps allowed) onto crops of real photos and textures that ship
with scikit-image. The ground truth comes from the pixels that stay visible
after every paste, so boxes and masks are exact even where items overlap.
"""

import functools
import os

import numpy as np

from applied_ml.datasets._images import load_fashion_mnist

# scikit-image's bundled images (no download): photos and textures, grey or RGB
_BACKGROUNDS = (
    "astronaut",
    "brick",
    "camera",
    "chelsea",
    "coffee",
    "coins",
    "grass",
    "gravel",
    "hubble_deep_field",
    "immunohistochemistry",
    "moon",
    "rocket",
)
_MIN_VISIBLE = 0.3  # objects with less of their area visible have no box
_SILHOUETTE = 16  # grey level above which a Fashion-MNIST pixel is the item


@functools.cache
def _backgrounds() -> tuple[np.ndarray, ...]:
    try:
        import skimage.data
    except ImportError as err:
        raise ImportError(
            "make_scenes needs scikit-image for its background photos. Run "
            "`pip install scikit-image` (or the package's `data` extra)."
        ) from err
    images = []
    for name in _BACKGROUNDS:
        image = getattr(skimage.data, name)()
        if image.ndim == 2:
            image = np.repeat(image[..., None], 3, axis=-1)
        images.append(np.ascontiguousarray(image[..., :3]))
    return tuple(images)


@functools.cache
def _items(split: str, folder: str | None) -> tuple[np.ndarray, np.ndarray]:
    (x_train, y_train), (x_test, y_test) = load_fashion_mnist(folder)
    return (x_train, y_train) if split == "train" else (x_test, y_test)


def _resize(image: np.ndarray, size: tuple[int, int]) -> np.ndarray:
    """Bilinear resize of a uint8 image to ``(height, width)``."""
    from PIL import Image

    resized = Image.fromarray(image).resize(size[::-1], Image.Resampling.BILINEAR)
    return np.asarray(resized)


def _background(rng, image_size: int) -> np.ndarray:
    photos = _backgrounds()
    photo = photos[rng.integers(len(photos))]
    height, width = photo.shape[:2]
    side = int(rng.integers(image_size, min(height, width) + 1))
    top = int(rng.integers(height - side + 1))
    left = int(rng.integers(width - side + 1))
    crop = photo[top : top + side, left : left + side]
    return _resize(crop, (image_size, image_size)).copy()


def _item(rng, grey: np.ndarray, min_size: int, max_size: int) -> tuple:
    """A tinted item and its silhouette, its longer side in [min, max] pixels."""
    rows, cols = np.nonzero(grey > _SILHOUETTE)
    grey = grey[rows.min() : rows.max() + 1, cols.min() : cols.max() + 1]
    longer = int(rng.integers(min_size, max_size + 1))
    scale = longer / max(grey.shape)
    size = (max(1, round(grey.shape[0] * scale)), max(1, round(grey.shape[1] * scale)))
    grey = _resize(grey, size).astype("float32")
    silhouette = grey > _SILHOUETTE
    tint = rng.uniform(40, 255, size=3)
    # shading kept, so folds and prints stay visible in every tint
    rgb = (0.35 + 0.65 * grey[..., None] / 255.0) * tint
    return np.clip(rgb, 0, 255).astype("uint8"), silhouette


def make_scenes(
    n: int,
    image_size: int = 128,
    classes=None,
    *,
    split: str = "train",
    max_objects: int = 4,
    object_size: tuple[int, int] = (24, 56),
    seed: int | None = None,
    folder: str | os.PathLike | None = None,
) -> tuple[np.ndarray, list[dict], np.ndarray]:
    """Scenes of 1 to ``max_objects`` Fashion-MNIST items on real photos.

    Each item is cut to its silhouette, resized so its longer side is within
    ``object_size``, tinted, and pasted at a random place; later items may
    cover earlier ones. Boxes and masks are computed from the pixels still
    visible after all pastes. An item with less than 30% of its area visible
    gets no box, but its visible pixels keep their class in the mask.

    Parameters
    ----------
    n : int
        Number of scenes.
    image_size : int, default=128
        Height and width of each scene, in pixels.
    classes : sequence of int, optional
        Fashion-MNIST class ids to draw items from (names in
        ``FASHION_MNIST_CLASSES``); all ten by default.
    split : {"train", "test"}, default="train"
        Draw items from Fashion-MNIST's training or test images, so that
        train and test scenes never share an item.
    max_objects : int, default=4
        Most items per scene (at least 1).
    object_size : (int, int), default=(24, 56)
        Range of an item's longer side, in pixels.
    seed : int, optional
        Seed of the scene generator: equal seeds give equal scenes.
    folder : str or os.PathLike, optional
        Fashion-MNIST folder, as in :func:`load_fashion_mnist`.

    Returns
    -------
    images : ndarray of shape (n, image_size, image_size, 3)
        uint8 RGB scenes.
    targets : list of dict
        Per scene, ``boxes`` (float32, N×4, ``x1 y1 x2 y2`` in pixels, pixel
        edges) and ``labels`` (int64 Fashion-MNIST class ids).
    masks : ndarray of shape (n, image_size, image_size)
        uint8 semantic masks: 0 is background, an item's pixels hold its
        class id + 1.

    Examples
    --------
    >>> from applied_ml.datasets import make_scenes
    >>> images, targets, masks = make_scenes(8, seed=0)  # doctest: +SKIP
    >>> images.shape, targets[0]["boxes"].shape[1]  # doctest: +SKIP
    ((8, 128, 128, 3), 4)
    """
    if split not in ("train", "test"):
        raise ValueError(f"`split` must be 'train' or 'test'. Received: {split!r}")
    low, high = object_size
    if not (0 < low <= high <= image_size):
        raise ValueError(
            f"`object_size` must be (low, high) with 0 < low <= high <= "
            f"image_size={image_size}. Received: object_size={object_size!r}"
        )
    if max_objects < 1:
        raise ValueError(
            f"`max_objects` must be at least 1. Received: max_objects={max_objects!r}"
        )
    x, y = _items(split, None if folder is None else os.fspath(folder))
    chosen = np.arange(10) if classes is None else np.asarray(classes).reshape(-1)
    unknown = set(chosen.tolist()) - set(range(10))
    if unknown or len(chosen) == 0:
        raise ValueError(
            "`classes` must be Fashion-MNIST class ids in 0-9. Received: "
            f"classes={classes!r}"
        )
    pool = np.flatnonzero(np.isin(y, chosen))
    rng = np.random.default_rng(seed)
    images = np.empty((n, image_size, image_size, 3), dtype="uint8")
    masks = np.zeros((n, image_size, image_size), dtype="uint8")
    targets = []
    for i in range(n):
        scene = _background(rng, image_size)
        owner = np.full((image_size, image_size), -1, dtype="int64")
        picks = rng.choice(pool, size=int(rng.integers(1, max_objects + 1)))
        areas = []
        for j, index in enumerate(picks):
            rgb, silhouette = _item(rng, x[index], low, high)
            h, w = silhouette.shape
            top = int(rng.integers(image_size - h + 1))
            left = int(rng.integers(image_size - w + 1))
            window = (slice(top, top + h), slice(left, left + w))
            scene[window][silhouette] = rgb[silhouette]
            owner[window][silhouette] = j
            areas.append(int(silhouette.sum()))
        boxes, labels = [], []
        for j, index in enumerate(picks):
            visible = owner == j
            count = int(visible.sum())
            if count:
                masks[i][visible] = int(y[index]) + 1
            if count < _MIN_VISIBLE * areas[j]:
                continue
            rows, cols = np.nonzero(visible)
            boxes.append([cols.min(), rows.min(), cols.max() + 1, rows.max() + 1])
            labels.append(int(y[index]))
        images[i] = scene
        targets.append(
            {
                "boxes": np.array(boxes, dtype="float32").reshape(-1, 4),
                "labels": np.array(labels, dtype="int64"),
            }
        )
    return images, targets, masks
