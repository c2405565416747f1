"""Language model: a character GRU on Debian's fortunes, against Kneser-Ney."""

import os
import textwrap

import numpy as np
from matplotlib.figure import Figure

from applied_ml.datasets import load_fortunes
from applied_ml.plots import save_figure
from applied_ml.text import LanguageModel, NGramLanguageModel
from demo._common import SEED, export_fresh, metric, serve_one
from demo.parts import Skipped

TITLE = "Language model: fortunes, character by character"
UNITS, STEPS = 128, 400  # about 20 s on a quiet 2-core CPU
PROMPT = "The early bird gets the "


def plot_bits(scores: dict, path) -> str:
    """Bits per held-out character of each model, as horizontal bars."""
    fig = Figure(figsize=(6.4, 2.6))
    ax = fig.add_subplot()
    names = list(scores)
    values = [scores[n] for n in names]
    colors = ["#9aa5b8"] * (len(names) - 1) + ["#2b6cb0"]
    ax.barh(names, values, color=colors)
    for y, value in enumerate(values):
        ax.text(value + 0.05, y, f"{value:.2f}", va="center", fontsize=9)
    ax.set_xlim(0, max(values) * 1.15)
    ax.invert_yaxis()
    ax.set_xlabel("bits per held-out character (lower is better)")
    ax.set_title("Fortunes: held-out bits per character")
    ax.grid(axis="x", alpha=0.3)
    return save_figure(fig, path)


def run(folder) -> dict:
    """Train, compare, sample, export and serve; return the part's result record."""
    try:
        records = load_fortunes()
    except FileNotFoundError as error:
        raise Skipped(f"{error} (`make data` installs them)") from None
    held = np.random.default_rng(SEED).random(len(records)) < 0.1
    train = [r for r, h in zip(records, held, strict=True) if not h]
    test = [r for r, h in zip(records, held, strict=True) if h]
    print(f"  {len(train)} fortunes to train on, {len(test)} held out")

    scores = {
        f"Kneser-Ney, order {order}": NGramLanguageModel(order=order)
        .fit(train)
        .bits_per_char(test)
        for order in (1, 3, 5)
    }
    lm = LanguageModel(
        units=UNITS,
        max_steps=STEPS,
        early_stopping=False,
        validation_fraction=0.0,
        random_state=SEED,
    ).fit(train)
    bits = lm.bits_per_char(test)
    scores[f"GRU {UNITS} units, {STEPS} steps"] = bits
    png = plot_bits(scores, folder / "bits_per_char.png")

    samples = lm.sample(3, 120, 0.5, random_state=SEED)
    print("  three samples at temperature 0.5:")
    for sample in samples:
        print(textwrap.indent(textwrap.fill(" ".join(sample.split()), 76), "    | "))

    path = export_fresh(lm, folder)
    out = serve_one(path, texts=[PROMPT])
    return {
        "title": TITLE,
        "data": f"fortunes (Debian): {len(records):,} records, "
        f"{sum(map(len, records)):,} characters; a random tenth held out",
        "model": f"LanguageModel: character GRU, {UNITS} units, {STEPS} steps",
        "metric": metric("bits per character", bits, better="lower"),
        "peer": metric(
            "Kneser-Ney 5-gram", scores["Kneser-Ney, order 5"], better="lower"
        ),
        "baseline": metric("unigram", scores["Kneser-Ney, order 1"], better="lower"),
        "notes": "samples (temperature 0.5):\n"
        + "\n".join(" ".join(s.split()) for s in samples),
        "pngs": [os.path.basename(png)],
        "serving": {
            "input": repr(PROMPT),
            "output": f"next character {out['next_token'][0].decode()!r}",
        },
    }
