"""Word embeddings: GloVe's gender direction, and what debiasing removes."""

import os

import numpy as np

from applied_ml.datasets import word_benchmark
from applied_ml.text import (
    EmbeddingDebiaser,
    WordEmbeddings,
    direct_bias,
    gender_word_lists,
    plot_bias,
    projections,
)
from demo._common import export_fresh, metric, serve_one
from demo.parts import Skipped

TITLE = "Word embeddings: debiasing GloVe"
PROFESSIONS = ["nurse", "receptionist", "librarian", "homemaker", "dancer"]
PROFESSIONS += ["doctor", "lawyer", "scientist", "architect", "carpenter"]
EXPORTED = 50_000  # the most frequent words go into the SavedModel
QUERY = "nurse"


def analogy_accuracy(embeddings) -> float | None:
    """Google analogies (first 30,000 words), or None without ``make word-data``."""
    try:
        questions = word_benchmark("questions-words")
    except FileNotFoundError:
        return None
    return embeddings.evaluate_analogies(questions)["accuracy"]


def run(folder) -> dict:
    """Debias, measure, plot, export and serve; return the part's result record."""
    try:
        glove = WordEmbeddings.from_pretrained("glove-6b-50d")
    except (FileNotFoundError, ModuleNotFoundError) as error:
        raise Skipped(str(error)) from None
    print(f"  GloVe 6B: {len(glove.vocabulary_):,} words of 50 numbers")
    print(f"  man : king :: woman : {glove.analogy('man', 'king', 'woman')}")
    debiaser = EmbeddingDebiaser().fit(glove)
    debiased = debiaser.transform(glove)
    g = debiaser.direction_
    lists = gender_word_lists()
    specific = set(lists["gender_specific"])
    neutral = [w for w in lists["professions"] if w not in specific]
    before, after = direct_bias(glove, neutral, g), direct_bias(debiased, neutral, g)
    analogies = [analogy_accuracy(e) for e in (glove, debiased)]
    also = [
        metric(f"Google analogies, {name}", value)
        for name, value in zip(("GloVe", "debiased"), analogies, strict=True)
        if value is not None
    ]

    was = projections(glove, PROFESSIONS, g).to_numpy()
    now = projections(debiased, PROFESSIONS, g).to_numpy()
    png = plot_bias(
        [f"{w} (GloVe)" for w in PROFESSIONS]
        + [f"{w} (debiased)" for w in PROFESSIONS],
        np.concatenate([was, now]),
        folder / "profession_bias.png",
        title="Cosine with the she - he direction, before and after debiasing",
    )

    top = debiased.vocabulary_[:EXPORTED]
    small = WordEmbeddings.from_vectors(top, debiased.vectors_[:EXPORTED])
    path = export_fresh(small, folder)
    out = serve_one(path, words=[QUERY])
    vector = out["vectors"][0]
    served = float(vector @ g / (np.linalg.norm(vector) * np.linalg.norm(g)))
    original = float(projections(glove, [QUERY], g).iloc[0])
    return {
        "title": TITLE,
        "data": f"GloVe 6B 50-d ({len(glove.vocabulary_):,} words); "
        f"Bolukbasi et al. word lists, {len(neutral)} neutral professions",
        "model": "EmbeddingDebiaser: gender direction from 10 definitional pairs, "
        "neutralize + equalize",
        "metric": metric("direct bias of professions, debiased", after, better="lower"),
        "baseline": metric("direct bias of professions, GloVe", before, better="lower"),
        "also": also,
        "pngs": [os.path.basename(png)],
        "serving": {
            "input": f"words=[{QUERY!r}] ({EXPORTED:,} debiased words exported)",
            "output": f"known={bool(out['known'][0])}, 50-d vector "
            f"[{', '.join(f'{v:.2f}' for v in vector[:3])}, ...]; cosine with "
            f"she - he {served:+.3f} (GloVe {original:+.3f})",
        },
    }
