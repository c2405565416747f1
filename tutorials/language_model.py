"""A character language model on Debian's fortunes: LanguageModel end to end.

Holds out a random tenth of the fortunes (seed 0), trains a character GRU on
the rest for ``--steps`` optimizer steps (random 100-character windows of the
records laid end to end), and scores the held-out records in bits per
character against Kneser-Ney n-grams fitted on the same records (orders 1, 3
and 5). Then samples fortunes at three temperatures, exports a SavedModel
and asks it, from a fresh Python process that imports only TensorFlow, for
the next character of a few texts and for a generated fortune.

Run from anywhere: ``python tutorials/language_model.py [--steps N]
[--units U]`` (2.5 minutes with the defaults on a 2-core CPU; needs
``apt-get install fortunes``). Writes ``saved_models/fortunes/<version>/``.
"""

import argparse
import json
import os
import subprocess
import sys
import textwrap
import time
from pathlib import Path

os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "2")

import numpy as np  # noqa: E402

from applied_ml.datasets import load_fortunes  # noqa: E402
from applied_ml.text import LanguageModel, NGramLanguageModel  # noqa: E402

ROOT = Path(__file__).resolve().parent.parent
MODEL_FOLDER = ROOT / "saved_models" / "fortunes"
SEED = 0
TEMPERATURES = (0.2, 0.7, 1.0)

# Runs in a fresh interpreter: plain TensorFlow, no applied_ml.
SERVE = textwrap.dedent(
    """
    import json, sys
    import tensorflow as tf

    request = json.loads(sys.stdin.read())
    model = tf.saved_model.load(request["path"])
    nxt = model.signatures["serving_default"](texts=tf.constant(request["texts"]))
    out = model.signatures["generate"](
        seed_text=tf.constant(["Q: "]),
        temperature=tf.constant(0.7),
        max_length=tf.constant(200),
    )
    print(json.dumps({
        "applied_ml_imported": "applied_ml" in sys.modules,
        "endpoints": sorted(model.signatures),
        "next_token": [t.decode() for t in nxt["next_token"].numpy()],
        "generated": out["texts"].numpy()[0].decode(),
    }))
    """
)


def section(title: str) -> None:
    print(f"\n== {title} " + "=" * max(0, 70 - len(title)))


def main(argv=None) -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--steps", type=int, default=1500, help="optimizer steps")
    parser.add_argument("--units", type=int, default=256, help="GRU units")
    args = parser.parse_args(argv)
    start = time.perf_counter()

    section("Data")
    try:
        records = load_fortunes()
    except FileNotFoundError as error:
        sys.exit(str(error))
    held = np.random.default_rng(SEED).random(len(records)) < 0.1
    train = [r for r, h in zip(records, held, strict=True) if not h]
    test = [r for r, h in zip(records, held, strict=True) if h]
    print(f"{len(records)} fortunes, {sum(map(len, records)):,} characters")
    print(f"train on {len(train)}, hold out {len(test)} (a random tenth)")

    section("Kneser-Ney baselines (same records)")
    for order in (1, 3, 5):
        t0 = time.perf_counter()
        bits = NGramLanguageModel(order=order).fit(train).bits_per_char(test)
        took = time.perf_counter() - t0
        print(f"order {order}: {bits:.3f} bits per character ({took:.1f}s)")

    section(f"Character GRU, {args.units} units, {args.steps} steps")
    lm = LanguageModel(
        units=args.units,
        max_steps=args.steps,
        early_stopping=False,
        validation_fraction=0.0,
        random_state=SEED,
    )
    t0 = time.perf_counter()
    lm.fit(train)
    print(f"trained in {time.perf_counter() - t0:.0f}s on {len(lm.vocabulary_)} tokens")
    print(f"held out: {lm.bits_per_char(test):.3f} bits per character")
    print(f"          perplexity {lm.perplexity(test):.2f} per character")
    texts = ["The early bird gets the ", "Q: What do you call a "]
    for text, token in zip(texts, lm.predict(texts), strict=True):
        print(f"after {text!r} the likeliest next character is {token!r}")

    section("Samples")
    for temperature in TEMPERATURES:
        print(f"-- temperature {temperature}:")
        samples = lm.sample(2, 200, temperature, random_state=SEED)
        for sample in samples:
            print(textwrap.indent(sample, "   "))

    section("Export and serving from plain TensorFlow (fresh process)")
    export_path = lm.export(path=MODEL_FOLDER)
    print(f"SavedModel written to {Path(export_path).relative_to(ROOT)}")
    result = subprocess.run(
        [sys.executable, "-c", SERVE],
        input=json.dumps({"path": os.fspath(export_path), "texts": texts}),
        capture_output=True,
        text=True,
        check=False,
    )
    if result.returncode != 0:
        sys.exit(f"serving process failed:\n{result.stderr}")
    served = json.loads(result.stdout.strip().splitlines()[-1])
    if served["applied_ml_imported"]:
        sys.exit("serving process imported applied_ml; it must need TensorFlow only")
    print(f"endpoints: {served['endpoints']}")
    print(f"next characters: {served['next_token']} (here: {list(lm.predict(texts))})")
    print("generated from 'Q: ' at temperature 0.7:")
    print(textwrap.indent(served["generated"], "   "))

    section("Done")
    print(f"total {time.perf_counter() - start:.1f}s")


if __name__ == "__main__":
    main()
