"""Figures of word vectors: a 2-D projection of chosen words, bias bar charts."""

import numpy as np
from matplotlib.figure import Figure

from applied_ml.plots import save_figure


def plot_projection(
    words, vectors, path, *, groups=None, title: str | None = None
) -> str:
    """Draw words at their coordinates on the first two principal axes, to a PNG.

    The axes are those of the chosen words' vectors (centered), so the
    picture shows how these words spread, not the whole vocabulary.

    Parameters
    ----------
    words : sequence of str
        At least three words.
    vectors : array-like of shape (len(words), dim)
        Their vectors.
    path : str or os.PathLike
        Where to write the PNG.
    groups : sequence, optional
        A group label per word; each group gets its own colour and a legend.
    title : str, optional
        Figure title.

    Returns
    -------
    str
        ``path``.
    """
    words = list(words)
    vectors = np.asarray(vectors, dtype=np.float64)
    if len(words) < 3 or vectors.shape[0] != len(words):
        raise ValueError(
            "`words` must name at least 3 words, one per row of `vectors`. "
            f"Received {len(words)} word(s) and {vectors.shape[0]} vector(s)."
        )
    centered = vectors - vectors.mean(axis=0)
    _, singular, axes = np.linalg.svd(centered, full_matrices=False)
    points = centered @ axes[:2].T
    explained = singular**2 / np.sum(singular**2)
    labels = ["words"] * len(words) if groups is None else [str(g) for g in groups]
    if len(labels) != len(words):
        raise ValueError(
            f"`groups` must give one label per word. Received {len(labels)} "
            f"label(s) for {len(words)} word(s)."
        )
    fig = Figure(figsize=(7, 6))
    ax = fig.add_subplot()
    for group in dict.fromkeys(labels):
        rows = [i for i, g in enumerate(labels) if g == group]
        ax.scatter(points[rows, 0], points[rows, 1], s=18, label=group)
    for word, (x, y) in zip(words, points, strict=True):
        ax.annotate(word, (x, y), xytext=(3, 3), textcoords="offset points")
    ax.set_xlabel(f"principal axis 1 ({explained[0]:.0%} of the variance)")
    ax.set_ylabel(f"principal axis 2 ({explained[1]:.0%} of the variance)")
    ax.axhline(0, color="0.85", lw=0.8, zorder=0)
    ax.axvline(0, color="0.85", lw=0.8, zorder=0)
    if groups is not None:
        ax.legend(frameon=False)
    ax.set_title(title or "Words on their first two principal axes")
    return save_figure(fig, path)


def plot_bias(words, projections, path, *, title: str | None = None) -> str:
    """Draw each word's projection on a direction as a horizontal bar, to a PNG.

    Words are sorted by projection; bars to the right lean towards the
    direction's positive end.

    Parameters
    ----------
    words : sequence of str
        The words.
    projections : array-like of shape (len(words),)
        Cosine of each word's vector with the direction.
    path : str or os.PathLike
        Where to write the PNG.
    title : str, optional
        Figure title.

    Returns
    -------
    str
        ``path``.
    """
    words = list(words)
    projections = np.asarray(projections, dtype=np.float64)
    if not words or projections.shape != (len(words),):
        raise ValueError(
            "`projections` must give one number per word of `words`. Received "
            f"{len(words)} word(s) and shape {projections.shape}."
        )
    order = np.argsort(projections)
    fig = Figure(figsize=(7, 0.6 + 0.22 * len(words)))
    ax = fig.add_subplot()
    colours = np.where(projections[order] >= 0, "#d6604d", "#4393c3")
    ax.barh(np.arange(len(words)), projections[order], color=colours)
    ax.set_yticks(np.arange(len(words)), [words[i] for i in order])
    ax.axvline(0, color="0.3", lw=0.8)
    ax.set_ylim(-0.7, len(words) - 0.3)
    ax.set_xlabel("projection on the direction (cosine)")
    ax.set_title(title or "Projection of each word on the direction")
    return save_figure(fig, path)
