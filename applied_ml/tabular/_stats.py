"""What the feature encodings learn from the training columns."""

import math
import re
from collections import Counter

import numpy as np

from applied_ml.tabular._checks import check_scaled_range
from applied_ml.tabular._columns import NUMERIC
from applied_ml.tabular._layers import format_numbers
from applied_ml.tabular.features import (
    BucketizedFeature,
    CategoricalFeature,
    CrossedFeature,
    NumericFeature,
    PassthroughFeature,
)


def quantile_boundaries(values: np.ndarray, bins: int) -> list[float]:
    """Distinct inner quantiles of the non-missing ``values``."""
    present = values[~np.isnan(values)]
    if present.size == 0:
        return []
    qs = np.quantile(present, np.linspace(0, 1, bins + 1)[1:-1])
    return [float(q) for q in np.unique(qs)]


def _mean_std(values: np.ndarray) -> tuple[float, float]:
    """Mean and standard deviation, in units of the largest value.

    The units keep sums and squares finite up to the largest float64 values
    (the squares of 1e200 would overflow).
    """
    unit = float(np.abs(values).max()) or 1.0
    scaled = values / unit
    return unit * float(scaled.mean()), unit * float(scaled.std())


def _numeric(spec: NumericFeature, values: np.ndarray, name: str) -> dict:
    missing = np.isnan(values)
    present = values[~missing]
    if present.size == 0:
        raise ValueError(
            f"Column {name!r} has no non-missing values in the training data."
        )
    if spec.clip is not None:
        present = np.clip(present, spec.clip[0], spec.clip[1])
    fill = _mean_std(present)[0]
    t = (
        np.sign(present) * np.log1p(np.abs(present))
        if spec.scaling == "log"
        else present
    )
    if spec.scaling in ("zscore", "log"):
        center, scale = _mean_std(t)
    elif spec.scaling == "minmax":
        with np.errstate(over="ignore"):
            center, scale = float(t.min()), float(t.max()) - float(t.min())
    else:
        center, scale = 0.0, 1.0
    if not (math.isfinite(center) and math.isfinite(scale)):
        raise ValueError(
            f"Column {name!r} has values too large to scale in float64 (from "
            f"{float(present.min())!r} to {float(present.max())!r}); rescale it "
            f"first. Received: center={center!r}, scale={scale!r}."
        )
    return {
        "fill_value": fill if spec.impute else None,
        "center": center,
        "scale": scale if scale > 0 else 1.0,
        "clip": None if spec.clip is None else [float(c) for c in spec.clip],
        "log": spec.scaling == "log",
        "indicator": bool(spec.impute and missing.any()),
    }


def _vocabulary(spec: CategoricalFeature, values: np.ndarray) -> list[str]:
    if spec.vocabulary is not None:
        return [str(v) for v in spec.vocabulary if str(v) != ""]
    counts = Counter(v for v in values if v != "")
    kept = [(v, c) for v, c in counts.items() if c >= spec.min_frequency]
    kept.sort(key=lambda vc: (-vc[1], vc[0]))
    if spec.max_tokens is not None:
        kept = kept[: spec.max_tokens]
    return [v for v, _ in kept]


def learn_features(specs, inputs: dict, input_names: dict, kinds: dict) -> list[dict]:
    """Fitted description of each feature: its inputs and learned statistics."""
    fitted = []
    for i, spec in enumerate(specs):
        # "name" doubles as a Keras layer-name suffix, so keep it plain.
        key = re.sub(r"[^A-Za-z0-9_]", "_", spec.name)
        common = {
            "name": f"{i}_{key}",
            "column": spec.name,
            "type": type(spec).__name__,
        }
        if isinstance(spec, CrossedFeature):
            parts = [
                quantile_boundaries(inputs[input_names[n]].ravel(), spec.bins)
                if kinds[n] == NUMERIC
                else None
                for n in spec.names
            ]
            fitted.append(
                {
                    **common,
                    "inputs": [input_names[n] for n in spec.names],
                    "part_boundaries": parts,
                    "n_tokens": spec.hash_bins,
                    "output": spec.output,
                    "embedding_dim": spec.embedding_dim,
                }
            )
            continue
        key = input_names[spec.name]
        values = inputs[key].ravel()
        common["input"] = key
        if isinstance(spec, NumericFeature):
            fitted.append({**common, **_numeric(spec, values, spec.name)})
        elif isinstance(spec, PassthroughFeature):
            fitted.append(common)
        elif isinstance(spec, BucketizedFeature):
            boundaries = (
                [float(b) for b in spec.boundaries]
                if spec.boundaries is not None
                else quantile_boundaries(values, spec.bins)
            )
            fitted.append(
                {
                    **common,
                    "boundaries": boundaries,
                    "n_tokens": len(boundaries) + 2,
                    "output": spec.output,
                    "embedding_dim": spec.embedding_dim,
                }
            )
        else:
            from_numbers = kinds[spec.name] == NUMERIC
            if from_numbers:
                values = np.array([v.decode() for v in format_numbers(values).numpy()])
            vocab = None if spec.hash_bins else _vocabulary(spec, values)
            fitted.append(
                {
                    **common,
                    "from_numbers": from_numbers,
                    "vocabulary": vocab,
                    "hash_bins": spec.hash_bins,
                    # out-of-vocabulary, missing (""), then the vocabulary
                    "n_tokens": spec.hash_bins or len(vocab) + 2,
                    "output": spec.output,
                    "embedding_dim": spec.embedding_dim,
                }
            )
    check_scaled_range(fitted, inputs)
    return fitted


def embedding_dim(n_tokens: int) -> int:
    """Fourth-root rule for embedding sizes."""
    return max(1, math.ceil(n_tokens**0.25))
