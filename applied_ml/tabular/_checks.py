"""Checks that keep extreme values from turning silently into NaN predictions."""

import numpy as np

from applied_ml.tabular._layers import FLOAT32_MAX


def _scaled(feature: dict, x: np.ndarray) -> np.ndarray:
    """What ``NumericTransform`` computes in float64 before its float32 cast."""
    v = x.astype("float64", copy=False)
    if feature.get("fill_value") is not None:
        v = np.where(np.isnan(v), feature["fill_value"], v)
    if feature.get("clip") is not None:
        v = np.clip(v, *feature["clip"])
    with np.errstate(over="ignore", invalid="ignore"):
        if feature.get("log"):
            v = np.sign(v) * np.log1p(np.abs(v))
        return (v - feature.get("center", 0.0)) / feature.get("scale", 1.0)


def check_scaled_range(features: list[dict], inputs: dict) -> None:
    """Raise if a numeric column's scaled value does not fit in float32.

    The model computes in float32 after scaling: such a value would become
    infinite, and the predictions of its row NaN.
    """
    for feature in features:
        if feature["type"] not in ("NumericFeature", "PassthroughFeature"):
            continue
        x = inputs[feature["input"]].ravel()
        v = _scaled(feature, x)
        with np.errstate(invalid="ignore"):
            bad = np.flatnonzero(np.abs(v) > FLOAT32_MAX)
        if bad.size:
            i, value = bad[0], float(x[bad[0]])
            raise ValueError(
                f"Column {feature['column']!r} holds a value too large for the "
                f"model: {value!r} (row {i}) is {v[i]:.3g} after scaling, beyond "
                "the float32 range (3.4e38). Clip or rescale the column, e.g. "
                "NumericFeature(..., clip=(low, high)) or scaling='log'. "
                f"Received: {value!r} in {bad.size} row(s)."
            )


def check_finite_outputs(estimator, raw: np.ndarray) -> None:
    """Raise if the model produced NaN or infinity for some row."""
    finite = np.isfinite(raw)
    if finite.all():
        return
    rows = np.flatnonzero(~finite.reshape(len(raw), -1).all(axis=1))
    raise ValueError(
        f"The outputs of this {type(estimator).__name__} are not finite (NaN or "
        f"infinity) for {rows.size} of {len(raw)} row(s), first row {rows[0]}: "
        "an input of that row is probably too large for the model (a numeric "
        "column far outside its training range). Received outputs: "
        f"{raw[rows[0]].tolist()}."
    )
