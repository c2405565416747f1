"""Figures of segmentations: class masks laid over their images."""

import numpy as np
from matplotlib.figure import Figure

from applied_ml.plots import class_name, save_figure

_ALPHA = 0.55


def _overlay(image, mask, colors: dict, background) -> np.ndarray:
    """The image (as RGB 0-1) with every non-background pixel tinted."""
    image = np.asarray(image, "float32")
    if image.ndim == 2 or image.shape[-1] == 1:
        image = np.repeat(image.reshape(*image.shape[:2], 1), 3, axis=-1)
    out = image / 255.0
    for label, color in colors.items():
        if background is not None and label == background:
            continue
        where = mask == label
        out[where] = (1 - _ALPHA) * out[where] + _ALPHA * np.asarray(color[:3])
    return out


def plot_masks(
    images,
    masks,
    path,
    *,
    truth=None,
    class_names=None,
    background=0,
    columns: int = 4,
) -> str:
    """Draw class masks over their images (and the true masks beside), to a PNG.

    Parameters
    ----------
    images : array-like or list of arrays
        One image (height, width[, channels]) or several.
    masks : array-like or list of arrays
        The masks to draw (``ImageSegmenter.predict`` output), one per image,
        of the image's height and width.
    path : str or os.PathLike
        PNG file to write.
    truth : array-like or list of arrays, optional
        True masks: each image is then drawn twice, true and predicted.
    class_names : sequence or dict, optional
        Names for the legend (label -> name).
    background : label or None, default=0
        The mask value left untinted.
    columns : int, default=4
        Panels per row of the grid.

    Returns
    -------
    str
        The path written.
    """
    single = np.ndim(masks) == 2
    images = [images] if single else list(images)
    masks = [masks] if single else list(masks)
    truths = None
    if truth is not None:
        truths = [truth] if single else list(truth)
    for name, given in (("masks", masks), ("truth", truths)):
        if given is None:
            continue
        if len(given) != len(images):
            raise ValueError(
                f"`images` and `{name}` must have one entry per image. Received: "
                f"{len(images)} image(s) and {len(given)} mask(s)"
            )
        for i, (image, mask) in enumerate(zip(images, given, strict=True)):
            if np.shape(mask)[:2] != np.shape(image)[:2]:
                raise ValueError(
                    f"`{name}[{i}]` must have its image's height and width "
                    f"{np.shape(image)[:2]}. Received shape {np.shape(mask)}."
                )
    every = np.concatenate([np.ravel(m) for m in masks + (truths or [])])
    labels = [v for v in np.unique(every) if background is None or v != background]
    colors = class_colors(labels, class_names, background)
    panels = []
    for i, (image, mask) in enumerate(zip(images, masks, strict=True)):
        if truths is not None:
            panels.append((image, np.asarray(truths[i]), "true"))
        panels.append((image, np.asarray(mask), "predicted" if truths else None))
    columns = min(columns, len(panels))
    rows = -(-len(panels) // columns)
    fig = Figure(figsize=(2.4 * columns, 2.4 * rows + 0.6), layout="constrained")
    for i, (image, mask, title) in enumerate(panels):
        ax = fig.add_subplot(rows, columns, i + 1)
        ax.imshow(_overlay(image, mask, colors, background))
        ax.set_axis_off()
        if title:
            ax.set_title(title, fontsize=7)
    from matplotlib.patches import Patch

    handles = [
        Patch(color=colors[label], label=class_name(label, class_names))
        for label in labels
    ]
    if handles:
        fig.legend(
            handles=handles,
            loc="outside lower center",
            ncols=min(len(handles), 6),
            fontsize=7,
            frameon=False,
        )
    return save_figure(fig, path)


def class_colors(labels, class_names=None, background=0) -> dict:
    """A colour for each label in ``labels``, fixed by ``class_names``.

    With ``class_names``, a label's colour follows its place among all the
    named classes, so it is the same in every figure whichever classes the
    figure shows; labels without a name come after them.

    Parameters
    ----------
    labels : sequence
        The labels to colour.
    class_names : sequence or dict, optional
        Names by label (or by index for a sequence).
    background : label or None, default=0
        The label left out of the palette.

    Returns
    -------
    dict
        Label to RGBA colour.
    """
    named = []
    if isinstance(class_names, dict):
        named = list(class_names)
    elif class_names is not None:
        named = list(range(len(class_names)))
    order = [k for k in named if background is None or k != background]
    order += [label for label in labels if label not in order]
    palette = _palette(len(order))
    return {label: palette[order.index(label)] for label in labels}


def _palette(n: int) -> list:
    from matplotlib import colormaps

    cmap = colormaps["tab20" if n > 10 else "tab10"]
    return [cmap(i % cmap.N) for i in range(n)]
