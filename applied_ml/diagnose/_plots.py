"""The figures of the diagnosis tools, written straight to PNG (no pyplot)."""

import os
import textwrap

import numpy as np
from matplotlib.figure import Figure

from applied_ml.plots import save_figure

_BASE = "#9e9e9e"
_COMPONENT = "#4c72b0"
_DOMINANT = "#d62728"
_NEGATIVE = "#c7c7c7"


class PlotMixin:
    """``plot(path)`` for a result class whose ``_figure()`` draws its chart."""

    def plot(self, path: str | os.PathLike) -> str:
        """Draw the result's chart to a PNG file.

        Parameters
        ----------
        path : str or os.PathLike
            PNG file to write (folders are made as needed).

        Returns
        -------
        str
            The path written.
        """
        return save_figure(self._figure(), path)


def gaps_figure(
    steps: list[tuple[str, float | None]],
    dominant: int | None,
    dominant_name: str | None,
) -> Figure:
    """Waterfall of human error, then each gap, ending at the dev error.

    ``steps`` are (label, value) pairs: the first is the human error (a bar
    from 0), the middle ones gaps (bars floating on the running total; a None
    gap is drawn as "n/a"), the last the dev error (a bar from 0). The gap at
    index ``dominant`` is highlighted.
    """
    fig = Figure(figsize=(7.5, 4.2))
    ax = fig.add_subplot()
    labels = [label for label, _ in steps]
    level = 0.0
    tops = []
    for i, (_, value) in enumerate(steps):
        if value is None:
            ax.text(i, level, "n/a", ha="center", va="bottom", fontsize=9)
            tops.append(level)
            continue
        if i == 0 or i == len(steps) - 1:
            bottom, height, color = 0.0, value, _BASE
            level = value
        else:
            bottom, height = level, value
            color = _DOMINANT if i == dominant else _COMPONENT
            if value < 0:
                color = _NEGATIVE
            level += value
        ax.bar(i, height, bottom=bottom, color=color, width=0.6, edgecolor="black")
        top = max(bottom, bottom + height)
        tops.append(top)
        sign = "+" if 0 < i < len(steps) - 1 and value > 0 else ""
        ax.text(i, top, f"{sign}{value:.3g}", ha="center", va="bottom", fontsize=9)
        if 0 < i:  # connector from the previous bar's running total
            joint = value if i == len(steps) - 1 else bottom
            ax.plot([i - 1.3, i - 0.3], [joint, joint], color="black", lw=0.6)
    ax.set_xticks(range(len(labels)), labels)
    ax.set_ylabel("error")
    ax.set_ylim(min(0.0, *tops), max([*tops, 1e-6]) * 1.18)
    ax.axhline(0, color="black", lw=0.8)
    ax.grid(axis="y", alpha=0.3)
    title = "Error decomposition"
    if dominant_name:
        title += f" (dominant: {dominant_name})"
    ax.set_title(title)
    return fig


def lr_find_figure(lrs, losses, raw_losses, suggestion) -> Figure:
    """Smoothed (and raw) loss against the learning rate, log x, suggestion marked."""
    fig = Figure(figsize=(6.5, 4.2))
    ax = fig.add_subplot()
    ax.plot(lrs, raw_losses, color="#bbbbbb", lw=0.8, label="batch loss")
    ax.plot(lrs, losses, color=_COMPONENT, lw=2, label="smoothed loss")
    if suggestion is not None and np.isfinite(suggestion):
        y = float(np.interp(np.log(suggestion), np.log(lrs), losses))
        ax.axvline(suggestion, color=_DOMINANT, ls="--", lw=1)
        ax.plot([suggestion], [y], "o", color=_DOMINANT)
        ax.annotate(
            f"suggested {suggestion:.2g}",
            (suggestion, y),
            xytext=(8, 12),
            textcoords="offset points",
            color=_DOMINANT,
        )
    ax.set_xscale("log")
    finite = np.asarray(losses)[np.isfinite(losses)]
    if finite.size:
        # the blow-up at the end would squash the part worth reading
        low, high = finite.min(), min(finite.max(), 1.5 * finite[0])
        pad = 0.08 * (high - low or abs(high) or 1.0)
        ax.set_ylim(low - pad, max(high, low) + pad)
    ax.set_xlabel("learning rate (log scale)")
    ax.set_ylabel("training loss")
    ax.set_title("Learning-rate range test")
    ax.legend(loc="lower left")  # the loss starts high on the left
    ax.grid(alpha=0.3)
    return fig


def learning_curve_figure(sizes, train, val, train_std, val_std, title) -> Figure:
    """Mean train and validation score against training size, with ±1 std bands."""
    fig = Figure(figsize=(6.5, 4.2))
    ax = fig.add_subplot()
    for mean, std, label, color in (
        (train, train_std, "training score", _COMPONENT),
        (val, val_std, "validation score", _DOMINANT),
    ):
        ax.plot(sizes, mean, "o-", color=color, label=label)
        ax.fill_between(sizes, mean - std, mean + std, color=color, alpha=0.15)
    ax.set_xlabel("training examples")
    ax.set_ylabel("score")
    ax.set_title(title)
    ax.legend(loc="lower right")
    ax.grid(alpha=0.3)
    return fig


def plot_image_grid(images, captions: list[str], title: str, path):
    """Images (values 0-255) in a grid, each with a caption below its title."""
    n = len(images)
    cols = max(1, min(4, n))
    rows = max(1, -(-n // cols))
    fig = Figure(figsize=(2.6 * cols, 2.9 * rows + 0.5))
    fig.suptitle(title)
    if not n:
        ax = fig.add_subplot()
        ax.text(0.5, 0.5, "no mistakes", ha="center", va="center")
        ax.axis("off")
    for k in range(n):
        ax = fig.add_subplot(rows, cols, k + 1)
        image = np.asarray(images[k])
        if image.ndim == 3 and image.shape[-1] == 1:
            image = image[..., 0]
        image = np.clip(image, 0, 255).astype("uint8")
        ax.imshow(image, cmap="gray" if image.ndim == 2 else None, vmin=0, vmax=255)
        ax.set_title(captions[k], fontsize=8)
        ax.axis("off")
    fig.tight_layout()
    return save_figure(fig, path)


def plot_text_table(rows: list[list[str]], header: list[str], title: str, path):
    """A table of texts (wrapped) with their labels, as a PNG."""
    wrapped = [[textwrap.fill(row[0], 70), *row[1:]] for row in rows]
    lines = [cell.count("\n") + 1 for cell in (r[0] for r in wrapped)]
    units = [1.0] + [n + 0.6 for n in lines]  # header, then each row
    fig = Figure(figsize=(10, 0.7 + 0.2 * sum(units)))
    ax = fig.add_subplot()
    ax.axis("off")
    ax.set_title(title)
    if not rows:
        ax.text(0.5, 0.5, "no mistakes", ha="center", va="center")
        return save_figure(fig, path)
    table = ax.table(
        cellText=wrapped,
        colLabels=header,
        colWidths=[0.64] + [0.36 / (len(header) - 1)] * (len(header) - 1),
        cellLoc="left",
        loc="upper center",
        bbox=[0, 0, 1, 1],
    )
    table.auto_set_font_size(False)
    table.set_fontsize(9)
    total = sum(units)
    for (r, c), cell in table.get_celld().items():
        cell.set_height(units[r] / total)
        cell.PAD = 0.02 if c == 0 else 0.08  # a share of the cell's width
        if r == 0:
            cell.set_text_props(weight="bold")
            cell.set_facecolor("#eeeeee")
    return save_figure(fig, path)
