"""Per-word contributions to a text classifier's probability, by occlusion.

Each word (a run of non-space characters) is removed in turn and the text
scored again: the drop in the explained class's log-odds is that word's
contribution (negative when the text scores higher without it). Log-odds, not
probabilities: a word still shows its weight when the text's probability is
already near 0 or 1. It reads the model only through its probabilities, so
it explains every encoder alike.
"""

import re

import numpy as np
import pandas as pd

_WORD = re.compile(r"\S+")
_EPSILON = 1e-7  # probabilities are clipped this far from 0 and 1


def occlusion(predict_proba, text: str, column: int) -> pd.DataFrame:
    """Each word's contribution to the log-odds of column ``column`` of the scores.

    Parameters
    ----------
    predict_proba : callable
        List of texts to an array of probabilities, one row per text.
    text : str
        The text to explain.
    column : int
        Which probability to explain.

    Returns
    -------
    pandas.DataFrame
        One row per word in order: ``token``, ``start`` and ``end`` (its
        character span in ``text``), ``contribution``; ``attrs["probability"]``
        holds the whole text's probability.
    """
    spans = [m.span() for m in _WORD.finditer(text)]
    without = [
        " ".join(text[s:e] for j, (s, e) in enumerate(spans) if j != i)
        for i in range(len(spans))
    ]
    scores = np.asarray(predict_proba([text, *without]), dtype=np.float64)[:, column]
    clipped = np.clip(scores, _EPSILON, 1 - _EPSILON)
    log_odds = np.log(clipped) - np.log1p(-clipped)
    frame = pd.DataFrame(
        {
            "token": [text[s:e] for s, e in spans],
            "start": [s for s, _ in spans],
            "end": [e for _, e in spans],
            "contribution": log_odds[0] - log_odds[1:],
        }
    )
    frame.attrs["probability"] = float(scores[0])
    return frame
