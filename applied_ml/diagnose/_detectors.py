"""The checks of :func:`diagnose_history`, one function per kind of finding.

Each reads per-epoch losses (float arrays, finite but for the divergence
check) and returns a :class:`Finding` or None.
"""

import numpy as np

from applied_ml.diagnose.finding import (
    DIVERGENCE,
    LR_TOO_HIGH,
    OVERFITTING,
    PLATEAU,
    STOPPED_EARLY,
    Finding,
)

#: Loss changes are measured relative to the loss, but at least to this share
#: of the first epoch's loss (so the noise of a loss near 0 is no oscillation).
LOSS_FLOOR = 0.01


def divergence(loss: np.ndarray, factor: float) -> Finding | None:
    bad = np.flatnonzero(~np.isfinite(loss))
    if bad.size:
        first = int(bad[0])
        last_finite = float(loss[first - 1]) if first else float("nan")
        return Finding(
            DIVERGENCE,
            (first + 1, len(loss)),
            {"first_bad_epoch": first + 1, "last_finite_loss": last_finite},
            f"The training loss became {loss[first]} at epoch {first + 1}: "
            "training diverged; lower the learning rate (try 10x lower, or "
            "lr_find) and check the inputs for extreme values.",
        )
    start = float(loss[0])
    peak = int(np.argmax(loss))
    if start > 0 and loss[peak] > factor * start:
        return Finding(
            DIVERGENCE,
            (1, peak + 1),
            {"first_loss": start, "peak_loss": float(loss[peak])},
            f"The training loss grew from {start:.4g} to {loss[peak]:.4g} by epoch "
            f"{peak + 1} ({loss[peak] / start:.0f}x): training diverged; lower "
            "the learning rate (try 10x lower, or lr_find).",
        )
    return None


def relative(now: np.ndarray, before: np.ndarray, floor: float = 1e-12) -> np.ndarray:
    return (now - before) / np.maximum(np.abs(before), floor)


def lr_too_high(
    loss: np.ndarray,
    tolerance: float,
    fraction: float,
    factor: float,
    min_progress: float,
) -> Finding | None:
    # near 0 the noise of a converged loss is large relative to the loss
    # itself: changes are measured against at least LOSS_FLOOR of the start
    floor = max(LOSS_FLOOR * abs(float(loss[0])), 1e-12)
    changes = relative(loss[1:], loss[:-1], floor)
    rises = changes > tolerance
    share = float(rises.mean())
    lowest = int(np.argmin(loss))
    end_excess = float(relative(loss[-1:], loss[lowest : lowest + 1], floor)[0])
    n = len(loss)
    middle, last = loss[n // 3 : 2 * n // 3].mean(), loss[2 * n // 3 :].mean()
    late_progress = float((middle - last) / max(abs(middle), floor))
    if rises.sum() >= 2 and share >= fraction and late_progress < min_progress:
        epochs = np.flatnonzero(rises) + 2  # the epoch that rose, 1-based
        return Finding(
            LR_TOO_HIGH,
            (int(epochs[0]) - 1, int(epochs[-1])),
            {
                "rising_epochs": int(rises.sum()),
                "rising_share": share,
                "largest_rise": float(changes.max()),
                "late_progress": late_progress,
            },
            f"The training loss went up in {int(rises.sum())} of {len(changes)} "
            f"epochs (by up to {changes.max():.0%}) and its last third is "
            f"{late_progress:.0%} below its middle third: it oscillates without "
            "progress, so the "
            "learning rate is probably too high; lower it (e.g. 3-10x, or use "
            "lr_find) or use a learning-rate schedule.",
        )
    if lowest < len(loss) - 1 and end_excess > factor:
        return Finding(
            LR_TOO_HIGH,
            (lowest + 1, len(loss)),
            {
                "lowest_loss": float(loss[lowest]),
                "lowest_epoch": lowest + 1,
                "final_loss": float(loss[-1]),
            },
            f"The training loss rose from its lowest {loss[lowest]:.4g} (epoch "
            f"{lowest + 1}) to {loss[-1]:.4g} at the end: the learning rate is "
            "probably too high; lower it or decay it over training.",
        )
    return None


def plateau(
    loss: np.ndarray,
    window: int,
    tolerance: float,
    min_progress: float,
    target_loss: float | None,
) -> Finding | None:
    tail = loss[-window:]
    spread = float((tail.max() - tail.min()) / max(abs(tail.mean()), 1e-12))
    if spread >= tolerance:
        return None
    progress = float(-relative(loss[-1:], loss[:1])[0])
    if target_loss is not None:
        if loss[-1] <= target_loss:
            return None
        why = f"above the target {target_loss:.4g}"
    elif progress < min_progress:
        why = f"only {progress:.1%} below the first epoch's {loss[0]:.4g}"
    else:
        return None
    n = len(loss)
    return Finding(
        PLATEAU,
        (n - window + 1, n),
        {
            "final_loss": float(loss[-1]),
            "first_loss": float(loss[0]),
            "window_spread": spread,
            "progress": progress,
        },
        f"The training loss is flat at {loss[-1]:.4g} over the last {window} "
        f"epochs, {why}: training has stalled; try a bigger model, another "
        "architecture, a better optimizer (Adam) or a higher learning rate, "
        "and check that the inputs are scaled.",
    )


def overfitting(
    loss: np.ndarray, val_loss: np.ndarray, tolerance: float
) -> Finding | None:
    best = int(np.argmin(val_loss))
    n = len(loss)
    if best >= n - 1:
        return None
    excess = float(relative(val_loss[-1:], val_loss[best : best + 1])[0])
    if excess <= tolerance or loss[-1] >= loss[best]:
        return None
    return Finding(
        OVERFITTING,
        (best + 1, n),
        {
            "best_epoch": best + 1,
            "best_val_loss": float(val_loss[best]),
            "final_val_loss": float(val_loss[-1]),
            "train_loss_at_best": float(loss[best]),
            "final_train_loss": float(loss[-1]),
        },
        f"The validation loss was lowest at epoch {best + 1} ({val_loss[best]:.4g}) "
        f"and rose to {val_loss[-1]:.4g} while the training loss fell from "
        f"{loss[best]:.4g} to {loss[-1]:.4g}: the model overfits after epoch "
        f"{best + 1}; use early stopping, regularization (dropout, L2) or more "
        "data.",
    )


def stopped_early(
    loss: np.ndarray,
    val_loss: np.ndarray | None,
    window: int,
    tolerance: float,
    flat: float,
) -> Finding | None:
    n = len(loss)
    before = loss[-window - 1]
    descent = float(loss.max() - loss.min())
    share = float((before - loss[-1]) / descent) if descent > 0 else 0.0
    drop = float(-relative(loss[-1:], np.array([before]))[0])
    if share <= tolerance or drop <= flat:
        return None
    evidence = {
        "descent_share": share,
        "loss_drop": drop,
        "final_loss": float(loss[-1]),
    }
    if val_loss is not None:
        val_drop = float(-relative(val_loss[-1:], val_loss[-window - 1 : -window])[0])
        near_best = val_loss[-1] <= val_loss.min() * (1 + flat)
        if val_drop <= 0 or not near_best:
            return None
        evidence["val_loss_drop"] = val_drop
    also = " and the validation loss with it" if val_loss is not None else ""
    return Finding(
        STOPPED_EARLY,
        (n - window + 1, n),
        evidence,
        f"The loss was still falling at the last epoch ({share:.0%} of its whole "
        f"descent came in the last {window} epochs{also}): training stopped too "
        "early; train for more epochs.",
    )
