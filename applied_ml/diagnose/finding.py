"""A problem seen in a learning curve, as :func:`diagnose_history` reports it."""

from dataclasses import dataclass, field

# Kinds of finding, in the order they are reported.
DIVERGENCE = "divergence"
LR_TOO_HIGH = "lr_too_high"
PLATEAU = "plateau"
OVERFITTING = "overfitting"
STOPPED_EARLY = "stopped_early"


@dataclass(frozen=True)
class Finding:
    """One problem seen in a learning curve.

    Parameters
    ----------
    kind : str
        One of ``"divergence"``, ``"lr_too_high"``, ``"plateau"``,
        ``"overfitting"``, ``"stopped_early"``.
    epochs : tuple of int
        First and last epoch (1-based, inclusive) the finding is about.
    evidence : dict
        The numbers the finding rests on, by name.
    message : str
        One sentence: what was seen and what to try.

    Examples
    --------
    >>> from applied_ml.diagnose import diagnose_history
    >>> findings = diagnose_history({"loss": [1.0, 3.0, float("nan")]})
    >>> findings[0].kind
    'divergence'
    """

    kind: str
    epochs: tuple[int, int]
    evidence: dict = field(default_factory=dict)
    message: str = ""

    def to_dict(self) -> dict:
        """The finding as plain Python values.

        Returns
        -------
        dict
            ``kind``, ``epochs``, ``evidence`` and ``message``.
        """
        return {
            "kind": self.kind,
            "epochs": list(self.epochs),
            "evidence": dict(self.evidence),
            "message": self.message,
        }
