"""Figures of face identification: each query beside the face it matched."""

import numpy as np
from matplotlib.figure import Figure

from applied_ml._validation import check_number
from applied_ml.plots import save_figure

_HIT, _MISS = "#1a7f37", "#cf222e"


def _grey_or_rgb(image) -> tuple[np.ndarray, str | None]:
    image = np.asarray(image)
    if image.ndim == 3 and image.shape[-1] == 1:
        image = image[..., 0]
    return image, ("gray" if image.ndim == 2 else None)


def plot_matches(
    queries,
    matches,
    distances,
    path,
    *,
    true_names,
    matched_names,
    columns: int = 3,
) -> str:
    """Draw each query face beside its gallery match, with the distance, to a PNG.

    Pairs whose matched name equals the true name are titled in green, the
    others (wrong person or ``"unknown"``) in red.

    Parameters
    ----------
    queries : array-like or list of arrays
        Query images (height, width[, channels]), values 0-255.
    matches : array-like or list of arrays
        For each query, the enrolled image it matched (or any image to show
        for an ``"unknown"`` answer).
    distances : array-like of shape (n,)
        Distance of each query to its match.
    path : str or os.PathLike
        PNG file to write.
    true_names : array-like of shape (n,)
        The person in each query.
    matched_names : array-like of shape (n,)
        The answer for each query (a name or ``"unknown"``).
    columns : int, default=3
        Query-match pairs per row.

    Returns
    -------
    str
        The path written.
    """
    check_number("columns", columns, integer=True, low=1)
    n = len(queries)
    lengths = {len(matches), len(distances), len(true_names), len(matched_names)}
    if lengths != {n} or n == 0:
        raise ValueError(
            "`queries`, `matches`, `distances`, `true_names` and `matched_names` "
            "must have one entry per query (at least one). Received lengths "
            f"{n}, {len(matches)}, {len(distances)}, {len(true_names)} and "
            f"{len(matched_names)}."
        )
    columns = min(columns, n)
    rows = -(-n // columns)
    fig = Figure(figsize=(3.2 * columns, 2.1 * rows))
    grid = fig.add_gridspec(rows, 2 * columns, wspace=0.05, hspace=0.35)
    for i in range(n):
        row, col = divmod(i, columns)
        hit = str(matched_names[i]) == str(true_names[i])
        for side, image in enumerate((queries[i], matches[i])):
            ax = fig.add_subplot(grid[row, 2 * col + side])
            pixels, cmap = _grey_or_rgb(image)
            ax.imshow(pixels, cmap=cmap, vmin=0, vmax=255)
            ax.set_xticks([])
            ax.set_yticks([])
            if side == 0:
                ax.set_title(f"query: {true_names[i]}", fontsize=8)
            else:
                ax.set_title(
                    f"{matched_names[i]}  d={float(distances[i]):.2f}",
                    fontsize=8,
                    color=_HIT if hit else _MISS,
                )
    return save_figure(fig, path)
