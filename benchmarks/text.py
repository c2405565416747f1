"""Text: a character LanguageModel against Kneser-Ney n-grams, in one run.

Protocol: Debian's fortunes, a random tenth of the records held out (seed 0),
every model fitted on the rest and scored in bits per character on the
held-out records (each record's end counting as a character; the same
vocabulary, the training records' characters).

- Kneser-Ney n-grams (``NGramLanguageModel``) of orders 3, 5 and 7.
- A character GRU (``LanguageModel``) trained for ``--minutes`` (a cosine
  learning-rate decay over the budget, ``TimeBudget``), scored with the
  weights it had after 2 and 5 minutes and at the end.
- Samples at temperatures 0.5 and 1.0, and generation throughput: characters
  per second of ``sample`` (one compiled loop, the recurrent state carried)
  against re-running the network over the growing text for every character
  (``predict_proba`` of each prefix), the naive way.

Usage::

    .venv/bin/python benchmarks/text.py [--quick] [--minutes 10] [--units 512]

Results go to ``outputs/text.json`` and to stdout as markdown.
"""

import json
import statistics
import time

import numpy as np
from _common import HERE, Snapshots, budget_parser, environment, markdown_table

from applied_ml.callbacks import TimeBudget
from applied_ml.datasets import load_fortunes
from applied_ml.text import LanguageModel, NGramLanguageModel

RESULTS = HERE.parent / "outputs"
SEED = 0
ORDERS = (3, 5, 7)
MARKS = (2, 5)
TEMPERATURES = (0.5, 1.0)


def split(records: list[str]) -> tuple[list[str], list[str]]:
    held = np.random.default_rng(SEED).random(len(records)) < 0.1
    train = [r for r, h in zip(records, held, strict=True) if not h]
    test = [r for r, h in zip(records, held, strict=True) if h]
    return train, test


def kneser_ney(train, test) -> dict:
    results = {}
    for order in ORDERS:
        start = time.perf_counter()
        model = NGramLanguageModel(order=order).fit(train)
        fit = time.perf_counter() - start
        results[f"kn{order}"] = {
            "bits_per_char": model.bits_per_char(test),
            "fit_seconds": fit,
        }
    return results


def recurrent(train, test, minutes: float, units: int) -> tuple[dict, LanguageModel]:
    snapshots = Snapshots(MARKS)
    lm = LanguageModel(
        units=units,
        epochs=100_000,  # the time budget ends training
        early_stopping=False,
        validation_fraction=0.0,
        random_state=SEED,
        callbacks=[TimeBudget(minutes), snapshots],
    )
    start = time.perf_counter()
    lm.fit(train)
    fit = time.perf_counter() - start
    result = {
        "units": units,
        "params": int(lm.model_.count_params()),
        "steps": int(lm.model_.optimizer.iterations.numpy()),
        "fit_seconds": fit,
        "curve": {},
    }
    trained = lm.model_.get_weights()
    for mark, weights in snapshots.weights.items():
        lm.model_.set_weights(weights)
        result["curve"][f"{mark:g}"] = {
            **snapshots.times[mark],
            "bits_per_char": lm.bits_per_char(test),
        }
    lm.model_.set_weights(trained)
    result["curve"][f"{minutes:g}"] = {
        "minutes": minutes,
        "step": result["steps"],
        "bits_per_char": lm.bits_per_char(test),
    }
    result["samples"] = {
        f"{t:g}": lm.sample(3, 300, t, random_state=SEED) for t in TEMPERATURES
    }
    return result, lm


def generation_speed(lm: LanguageModel, naive_chars: int = 150) -> dict:
    """Characters per second: the compiled stateful loop against prefix re-runs."""
    lm.sample(1, 50, random_state=0)  # warm-up: traces
    rates = []
    for k in range(3):
        start = time.perf_counter()
        text = lm.sample(1, 2000, 1.0, seed_text="A", random_state=k)[0]
        rates.append((len(text) - 1) / (time.perf_counter() - start))
    rng = np.random.default_rng(SEED)
    vocabulary = np.array(lm.vocabulary_, dtype=object)
    text = "A"
    lm.predict_proba([text])  # warm-up
    start = time.perf_counter()
    for _ in range(naive_chars):
        p = lm.predict_proba([text])[0]
        p[0] = 0.0  # never <unk>, as sample
        token = vocabulary[rng.choice(len(p), p=p / p.sum())]
        text += "\n" if token == "<eod>" else token
    naive = naive_chars / (time.perf_counter() - start)
    return {
        "stateful_chars_per_s": statistics.median(rates),
        "naive_chars_per_s": naive,
        "ratio": statistics.median(rates) / naive,
    }


def main() -> None:
    parser = budget_parser(__doc__.splitlines()[0])
    parser.add_argument("--units", type=int, default=512)
    args = parser.parse_args()
    RESULTS.mkdir(exist_ok=True)
    records = load_fortunes()
    if args.quick:
        records, args.minutes = records[:3000], 1.0
    train, test = split(records)
    print(f"{len(train)} training records, {len(test)} held out", flush=True)

    results = kneser_ney(train, test)
    for name, r in results.items():
        print(name, r, flush=True)
    results["gru"], lm = recurrent(train, test, args.minutes, args.units)
    print("gru", {k: v for k, v in results["gru"].items() if k != "samples"})
    speed = generation_speed(lm)
    print("generation", speed)

    print(f"\n{environment()}\n")
    rows = [
        [name, f"{r['bits_per_char']:.3f}", f"{r['fit_seconds']:.1f}"]
        for name, r in results.items()
        if name != "gru"
    ]
    for mark, point in results["gru"]["curve"].items():
        rows.append(
            [
                f"GRU {args.units}, after {mark} min (step {point['step']})",
                f"{point['bits_per_char']:.3f}",
                f"{point['minutes'] * 60:.0f}",
            ]
        )
    print(markdown_table(["model", "bits/char (held out)", "train s"], rows))
    print(
        f"\ngeneration: {speed['stateful_chars_per_s']:.0f} chars/s stateful, "
        f"{speed['naive_chars_per_s']:.1f} re-running the prefix "
        f"({speed['ratio']:.0f}x)"
    )
    for t, samples in results["gru"]["samples"].items():
        print(f"\ntemperature {t}:")
        for s in samples:
            print("  " + s.replace("\n", "\n  "))
    report = {"environment": environment(), "results": results, "generation": speed}
    (RESULTS / "text.json").write_text(json.dumps(report, indent=2, default=str))


if __name__ == "__main__":
    main()
