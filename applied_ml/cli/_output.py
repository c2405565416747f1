"""Metrics as an aligned table on stdout, and as JSON."""

import json
import math
import numbers
import sys

import numpy as np


def flatten(metrics: dict, prefix: str = "") -> dict:
    """Scalar metrics by name; nested dicts become ``outer.inner``.

    Values that are not numbers or text (tables, lists of questions) are
    left out: they do not fit in a table or a JSON of numbers.
    """
    flat = {}
    for key, value in metrics.items():
        name = f"{prefix}{key}"
        if isinstance(value, dict):
            flat.update(flatten(value, f"{name}."))
        elif isinstance(value, np.generic):
            flat[name] = value.item()
        elif isinstance(value, numbers.Number | str):
            flat[name] = value
        elif isinstance(value, tuple) and all(
            isinstance(v, numbers.Number | str) for v in value
        ):  # a parameter value such as hidden_units
            flat[name] = str(value)
    return flat


def _text(value) -> str:
    if isinstance(value, bool) or not isinstance(value, numbers.Real):
        return str(value)
    if isinstance(value, numbers.Integral):
        return str(value)
    if math.isnan(value) or math.isinf(value):
        return str(value)
    return f"{value:.4f}" if abs(value) >= 1e-3 or value == 0 else f"{value:.3e}"


def print_table(title: str, metrics: dict, file=None) -> None:
    """``metrics`` as two aligned columns under ``title``."""
    file = file or sys.stdout
    flat = flatten(metrics)
    width = max([len(k) for k in flat] + [6])
    print(f"\n{title}", file=file)
    print(f"  {'metric':<{width}}  value", file=file)
    print(f"  {'-' * width}  {'-' * 10}", file=file)
    for name, value in flat.items():
        print(f"  {name:<{width}}  {_text(value)}", file=file)


def print_runs(runs: dict[str, dict], file=None) -> None:
    """One row per run, one column per metric (the runs of a config file)."""
    file = file or sys.stdout
    flat = {name: flatten(m) for name, m in runs.items()}
    columns = list(dict.fromkeys(k for m in flat.values() for k in m))
    rows = [["run", *columns]] + [
        [name, *(_text(m.get(c, "")) for c in columns)] for name, m in flat.items()
    ]
    widths = [max(len(row[j]) for row in rows) for j in range(len(rows[0]))]
    print("\nruns", file=file)
    for i, row in enumerate(rows):
        print(
            "  " + "  ".join(f"{v:<{w}}" for v, w in zip(row, widths, strict=True)),
            file=file,
        )
        if i == 0:
            print("  " + "  ".join("-" * w for w in widths), file=file)


def write_json(results: dict, path: str) -> None:
    """``results`` (flattened) as JSON, to ``path`` or stdout for ``-``."""
    data = {k: flatten(v) if isinstance(v, dict) else v for k, v in results.items()}
    text = json.dumps(_finite(data), indent=2, allow_nan=False)
    if path == "-":
        print(text)
    else:
        with open(path, "w", encoding="utf-8") as f:
            f.write(text + "\n")


def _finite(value):
    """NaN and infinities as null: JSON has no number for them."""
    if isinstance(value, dict):
        return {k: _finite(v) for k, v in value.items()}
    if isinstance(value, float) and not math.isfinite(value):
        return None
    return value


def last_epoch(history: dict) -> dict:
    """Each history key's value at the last epoch."""
    return {k: float(v[-1]) for k, v in (history or {}).items() if len(v)}
