"""Read a Keras training history and say what went wrong with the curve.

Each check looks at the per-epoch training loss (``"loss"``) and, where it
needs one, the validation loss (``"val_loss"``). The thresholds are the
module constants below, each overridable by a keyword of
:func:`diagnose_history`; they are relative to the loss level, so they do not
depend on the loss's scale.
"""

import numpy as np

from applied_ml.diagnose import _detectors
from applied_ml.diagnose._checks import check_positive_number
from applied_ml.diagnose.finding import Finding

#: Epochs at the end of training that the plateau and still-improving checks read.
WINDOW = 5
#: An epoch whose loss is this much (relative) above the previous one is a rise.
RISE_TOLERANCE = 0.02
#: Share of epoch-to-epoch changes that are rises for the loss to oscillate.
OSCILLATION_FRACTION = 0.3
#: A final loss this much (relative) above the lowest loss is a rising loss.
RISE_FACTOR = 0.25
#: A loss this many times the first epoch's loss has diverged.
DIVERGENCE_FACTOR = 10.0
#: A window whose loss range is below this share of its mean loss is flat.
PLATEAU_TOLERANCE = 0.01
#: Relative drop from the first to the last epoch below which nothing was learned.
MIN_PROGRESS = 0.1
#: A final validation loss this much (relative) above its lowest is overfitting.
OVERFIT_TOLERANCE = 0.1
#: Share of the loss's whole descent (highest minus lowest) made in the last
#: window that counts as still improving.
IMPROVING_TOLERANCE = 0.05
#: Histories shorter than this are too short to judge the shape of the curve.
MIN_EPOCHS = 3


def _losses(history, key: str) -> np.ndarray | None:
    values = history.get(key)
    if values is None:
        return None
    try:
        array = np.asarray(values, dtype="float64")
    except (TypeError, ValueError):
        raise TypeError(
            f"`history[{key!r}]` must be a list of numbers, one per epoch. "
            f"Received: history[{key!r}]={values!r}"
        ) from None
    if array.ndim != 1:
        raise ValueError(
            f"`history[{key!r}]` must be a flat list, one number per epoch. "
            f"Received: history[{key!r}] of shape {array.shape}"
        )
    return array


def _check_history(history) -> dict:
    history = getattr(history, "history_", history)
    if not isinstance(history, dict):
        raise TypeError(
            "`history` must be a dict of per-epoch lists (a Keras History's "
            "`.history`, or an estimator's `history_`) or an estimator that has "
            f"`history_`. Received: history={history!r}"
        )
    if "loss" not in history:
        raise ValueError(
            "`history` must have a 'loss' list (the training loss per epoch). "
            f"Received: history with keys {sorted(history)}"
        )
    return history


def diagnose_history(
    history,
    *,
    window: int = WINDOW,
    rise_tolerance: float = RISE_TOLERANCE,
    oscillation_fraction: float = OSCILLATION_FRACTION,
    rise_factor: float = RISE_FACTOR,
    divergence_factor: float = DIVERGENCE_FACTOR,
    plateau_tolerance: float = PLATEAU_TOLERANCE,
    min_progress: float = MIN_PROGRESS,
    target_loss: float | None = None,
    overfit_tolerance: float = OVERFIT_TOLERANCE,
    improving_tolerance: float = IMPROVING_TOLERANCE,
) -> list[Finding]:
    """Diagnose a learning curve: divergence, too high a rate, plateau, overfitting.

    The checks, on the training loss ``loss`` unless said otherwise:

    - **divergence**: a NaN or infinite loss, or a loss above
      ``divergence_factor`` times the first epoch's. Nothing else is checked
      then.
    - **lr_too_high**: the loss oscillates without progress (at least
      ``oscillation_fraction`` of the epoch-to-epoch changes are rises of
      more than ``rise_tolerance``, relative, and the mean loss of the last
      third of the epochs is less than ``min_progress`` below that of the
      middle third), or it ends ``rise_factor`` (relative) above its lowest
      value. Changes are relative to the loss but at least to
      1% of the first epoch's loss, so the noise of a loss
      near 0 does not count.
    - **plateau**: the loss is flat over the last ``window`` epochs (range
      below ``plateau_tolerance`` of its mean) while still high: above
      ``target_loss`` when given, else less than ``min_progress`` (relative)
      below the first epoch's loss.
    - **overfitting**: ``val_loss`` ends ``overfit_tolerance`` (relative)
      above its lowest value while the training loss kept falling after that
      epoch; the finding names the epoch of the lowest validation loss.
    - **stopped_early**: more than ``improving_tolerance`` of the loss's
      whole descent (highest minus lowest loss) came in the last ``window``
      epochs, the loss is not flat there (it fell by more than
      ``plateau_tolerance``, relative), and ``val_loss``, if any, fell too
      and is within ``plateau_tolerance`` of its lowest at the end: more
      epochs would still help. (A loss creeping towards 0 after a steep
      descent, as when memorizing, is not flagged.)

    Histories of fewer than ``MIN_EPOCHS`` epochs get the divergence check
    only.

    Parameters
    ----------
    history : dict or estimator
        Per-epoch lists by name, as Keras' ``History.history`` or an applied_ml
        estimator's ``history_`` (the estimator itself is accepted too); must
        have ``"loss"``, may have ``"val_loss"``.
    window : int, default=5
        Epochs at the end of training read by the plateau and still-improving
        checks.
    rise_tolerance : float, default=0.02
        Relative epoch-to-epoch increase that counts as a rise.
    oscillation_fraction : float, default=0.3
        Share of rises among the epoch-to-epoch changes that makes the loss
        oscillating.
    rise_factor : float, default=0.25
        Relative excess of the final loss over its lowest value that makes the
        loss rising.
    divergence_factor : float, default=10.0
        Multiple of the first epoch's loss that counts as diverged.
    plateau_tolerance : float, default=0.01
        Relative range over the last ``window`` epochs below which the loss is
        flat.
    min_progress : float, default=0.1
        Relative drop below which there is no progress: from the first epoch
        to the last for a flat loss (when ``target_loss`` is None), from the
        middle third of the epochs to the last for an oscillating one.
    target_loss : float, optional
        The loss you expect to reach (e.g. a reference model's); a flat loss
        above it is a plateau.
    overfit_tolerance : float, default=0.1
        Relative rise of the final validation loss over its lowest value that
        counts as overfitting.
    improving_tolerance : float, default=0.05
        Share of the whole descent made in the last ``window`` epochs that
        counts as still improving.

    Returns
    -------
    list of Finding
        In the order of the checks above; empty for a healthy curve.

    Examples
    --------
    >>> from applied_ml.diagnose import diagnose_history
    >>> healthy = {"loss": [1.0, 0.5, 0.3, 0.25, 0.24, 0.24, 0.24, 0.24, 0.24]}
    >>> diagnose_history(healthy)
    []
    >>> rising = {"loss": [1.0, 0.6, 0.4, 0.35, 0.3, 0.3, 0.3, 0.3, 0.3, 0.3],
    ...           "val_loss": [1.0, 0.6, 0.45, 0.5, 0.55, 0.6, 0.7, 0.8, 0.85, 0.9]}
    >>> [f.kind for f in diagnose_history(rising)]
    ['overfitting']
    """
    history = _check_history(history)
    for name, value in {
        "window": window,
        "rise_tolerance": rise_tolerance,
        "oscillation_fraction": oscillation_fraction,
        "rise_factor": rise_factor,
        "divergence_factor": divergence_factor,
        "plateau_tolerance": plateau_tolerance,
        "min_progress": min_progress,
        "overfit_tolerance": overfit_tolerance,
        "improving_tolerance": improving_tolerance,
    }.items():
        check_positive_number(name, value, integer=name == "window")
    if target_loss is not None:
        check_positive_number("target_loss", target_loss, allow_zero=True)
    loss = _losses(history, "loss")
    val_loss = _losses(history, "val_loss")
    if val_loss is not None and len(val_loss) != len(loss):
        raise ValueError(
            f"`history['val_loss']` must have one value per epoch ({len(loss)}, as "
            f"`history['loss']`). Received: {len(val_loss)} values"
        )
    if len(loss) == 0:
        return []
    diverged = _detectors.divergence(loss, divergence_factor)
    if diverged is not None:
        return [diverged]
    if val_loss is not None and not np.isfinite(val_loss).all():
        val_loss = None  # a non-finite validation loss says nothing about shape
    if len(loss) < MIN_EPOCHS:
        return []
    window = min(window, len(loss) - 1)
    findings = []
    too_high = _detectors.lr_too_high(
        loss, rise_tolerance, oscillation_fraction, rise_factor, min_progress
    )
    if too_high is not None:
        findings.append(too_high)
    plateau = _detectors.plateau(
        loss, window, plateau_tolerance, min_progress, target_loss
    )
    if plateau is not None:
        findings.append(plateau)
    overfit = None
    if val_loss is not None:
        overfit = _detectors.overfitting(loss, val_loss, overfit_tolerance)
        if overfit is not None:
            findings.append(overfit)
    if too_high is None and overfit is None:
        early = _detectors.stopped_early(
            loss, val_loss, window, improving_tolerance, plateau_tolerance
        )
        if early is not None:
            findings.append(early)
    return findings
