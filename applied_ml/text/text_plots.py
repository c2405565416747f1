"""Figures of text models: words shaded by how much they moved a prediction."""

import matplotlib as mpl
import numpy as np
import pandas as pd
from matplotlib.backends.backend_agg import FigureCanvasAgg
from matplotlib.figure import Figure

from applied_ml.plots import save_figure

_WIDTH = 9.0  # inches
_LINE = 0.34  # inches per line of words


def plot_token_contributions(explanations, path, *, title: str | None = None) -> str:
    """Draw each explained text with its words shaded by contribution, to a PNG.

    Words that raise the explained class's probability are shaded red,
    words that lower it blue, in proportion to the largest contribution
    shown; each text is headed by its class and probability.

    Parameters
    ----------
    explanations : pandas.DataFrame or list of DataFrame
        What ``SentimentClassifier.explain`` returns, for one or more texts.
    path : str or os.PathLike
        Where to write the PNG.
    title : str, optional
        Figure title.

    Returns
    -------
    str
        ``path``.
    """
    if isinstance(explanations, pd.DataFrame):
        explanations = [explanations]
    explanations = list(explanations)
    if not explanations or not all(
        isinstance(e, pd.DataFrame) and {"token", "contribution"} <= set(e.columns)
        for e in explanations
    ):
        raise ValueError(
            "`explanations` must be one or more DataFrames from `explain`. "
            f"Received: {type(explanations).__name__} of {len(explanations)} item(s)"
        )
    largest = max(
        (float(np.abs(e["contribution"]).max()) for e in explanations if len(e)),
        default=0.0,
    )
    scale = largest if largest > 0 else 1.0
    colours = mpl.colormaps["RdBu_r"]
    fig = Figure(figsize=(_WIDTH, 1.0))
    renderer = FigureCanvasAgg(fig).get_renderer()  # to measure the words
    width_px = _WIDTH * fig.dpi
    # (x px, line, token, contribution / largest) laid out first, drawn after
    # the figure's height is known
    rows = []
    line = 0
    for explanation in explanations:
        rows.append((0.0, line, _heading(explanation), None))
        line += 1
        x = 0.0
        for token, value in zip(
            explanation["token"], explanation["contribution"], strict=True
        ):
            probe = fig.text(0, 0, token + " ", fontsize=11)
            size = probe.get_window_extent(renderer).width + 4
            probe.remove()
            if x and x + size > width_px:
                x, line = 0.0, line + 1
            rows.append((x, line, token, value / scale))
            x += size
        line += 2
    top = 0.4 if title else 0.0
    height = top + max(line, 1) * _LINE + 0.1
    fig.set_size_inches(_WIDTH, height)
    for x, row, token, share in rows:
        y = 1 - (top + (row + 1) * _LINE) / height
        if share is None:  # a text's heading
            fig.text(x / width_px, y, token, fontsize=10, color="#444444")
        else:
            fig.text(
                x / width_px,
                y,
                token,
                fontsize=11,
                color="white" if abs(share) > 0.6 else "black",
                bbox={
                    "facecolor": colours(0.5 + 0.5 * share),
                    "edgecolor": "none",
                    "pad": 1.5,
                },
            )
    if title:
        fig.suptitle(title, y=1 - 0.1 / height, va="top")
    return save_figure(fig, path)


def _heading(explanation: pd.DataFrame) -> str:
    attrs = explanation.attrs
    if "target" in attrs and "probability" in attrs:
        target = attrs["target"]
        return (
            f"P({target}) = {attrs['probability']:.3f}     red: towards "
            f"{target}, blue: away from it"
        )
    return ""
