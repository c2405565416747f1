"""The result of :func:`diagnose`: errors, gaps, verdict, and its reports."""

import os
from dataclasses import dataclass, field

from applied_ml.diagnose import _recipe
from applied_ml.diagnose._checks import check_output_dir
from applied_ml.diagnose._plots import PlotMixin, gaps_figure
from applied_ml.diagnose._report import diagnosis_html, diagnosis_markdown
from applied_ml.diagnose.finding import Finding

#: Gaps (in error units) at or below this are "small".
TOLERANCE = 0.02
#: File names that :meth:`Diagnosis.save` writes.
REPORT_FILES = {
    "markdown": "report.md",
    "html": "report.html",
    "figure": "errors.png",
}


@dataclass
class Diagnosis(PlotMixin):
    """Errors of a model, their gaps, the dominant problem and what to try.

    Made by :func:`diagnose`; all errors are in the same unit
    (``error_name``). :meth:`plot` draws human error, each gap and the dev
    error as a waterfall, the dominant gap highlighted.

    Parameters
    ----------
    task : str
        ``"classification"`` or ``"regression"``.
    error_name : str
        How the errors were measured.
    human_error : float
        Human-level error, the proxy for Bayes error.
    human_error_assumed : bool
        True when ``human_error`` was not given and 0 was assumed.
    train_error : float
        Error on the training set.
    train_dev_error : float or None
        Error on the train-dev set (None when none was given).
    dev_error : float
        Error on the dev set.
    avoidable_bias : float
        ``train_error - human_error``.
    variance : float
        ``train_dev_error - train_error`` (``dev_error - train_error`` without
        a train-dev set; it then includes any data mismatch).
    data_mismatch : float or None
        ``dev_error - train_dev_error``; None without a train-dev set.
    dominant : str
        ``"avoidable_bias"``, ``"variance"``, ``"data_mismatch"`` or
        ``"none"`` (every gap at most ``tolerance``).
    recommendation : str
        One-paragraph verdict for the dominant problem.
    actions : tuple of str
        The recipe's actions for the dominant problem.
    reasoning : str
        How the numbers lead to the verdict.
    tolerance : float
        Gaps at or below this are small.
    history_findings : list of Finding
        What :func:`diagnose_history` found in the estimator's ``history_``
        (empty when nothing was found, or there is no history).
    history_checked : bool
        True when the estimator had a ``history_`` to read.
    fitted_here : bool
        True when :func:`diagnose` fitted the estimator on the training set.

    Examples
    --------
    >>> import numpy as np
    >>> from sklearn.linear_model import LinearRegression
    >>> from applied_ml.diagnose import diagnose
    >>> X = np.linspace(-2, 2, 300).reshape(-1, 1)
    >>> y = X[:, 0] ** 2  # a line cannot follow a parabola
    >>> report = diagnose(LinearRegression(), X[::2], y[::2], X[1::2], y[1::2])
    >>> report.dominant, sorted(report.gaps())
    ('avoidable_bias', ['avoidable_bias', 'variance'])
    """

    task: str
    error_name: str
    human_error: float
    human_error_assumed: bool
    train_error: float
    train_dev_error: float | None
    dev_error: float
    avoidable_bias: float
    variance: float
    data_mismatch: float | None
    dominant: str
    recommendation: str
    actions: tuple[str, ...]
    reasoning: str
    tolerance: float = TOLERANCE
    history_findings: list[Finding] = field(default_factory=list)
    history_checked: bool = False
    fitted_here: bool = False

    def gaps(self) -> dict:
        """The gaps by name (data mismatch left out when not measurable).

        Returns
        -------
        dict
            ``{"avoidable_bias": ..., "variance": ..., "data_mismatch": ...}``.
        """
        return _recipe.gaps(self.avoidable_bias, self.variance, self.data_mismatch)

    def to_dict(self) -> dict:
        """The diagnosis as plain Python values (JSON-ready).

        Returns
        -------
        dict
            Every field; findings as dicts.
        """
        values = {k: getattr(self, k) for k in self.__dataclass_fields__}
        values["actions"] = list(self.actions)
        values["history_findings"] = [f.to_dict() for f in self.history_findings]
        return values

    def to_markdown(self) -> str:
        """The report as Markdown.

        Returns
        -------
        str
            A table of errors and gaps, the verdict, the actions, the
            reasoning and the learning-curve findings.
        """
        return diagnosis_markdown(self)

    def to_html(self, image: str | None = None) -> str:
        """The report as a standalone HTML page.

        Parameters
        ----------
        image : str, optional
            Source (path or URL) of the error chart to show, e.g. the
            ``errors.png`` that :meth:`save` writes next to the page.

        Returns
        -------
        str
            The HTML document.
        """
        return diagnosis_html(self, image)

    def _figure(self):
        measured = self.train_dev_error is not None
        human = "human error\n(assumed)" if self.human_error_assumed else "human error"
        variance = "variance" if measured else "variance\n(+ mismatch)"
        steps = [
            (human, self.human_error),
            ("avoidable bias", self.avoidable_bias),
            (variance, self.variance),
            ("data mismatch", self.data_mismatch),
            ("dev error", self.dev_error),
        ]
        order = [_recipe.AVOIDABLE_BIAS, _recipe.VARIANCE, _recipe.DATA_MISMATCH]
        dominant = order.index(self.dominant) + 1 if self.dominant in order else None
        title = _recipe.TITLES[self.dominant] if dominant else None
        return gaps_figure(steps, dominant, title)

    def save(self, output_dir: str | os.PathLike) -> dict:
        """Write ``report.md``, ``report.html`` and the chart ``errors.png``.

        Parameters
        ----------
        output_dir : str or os.PathLike
            Folder to write into (made if missing).

        Returns
        -------
        dict
            Paths written, by kind: ``markdown``, ``html``, ``figure``.
        """
        check_output_dir(output_dir)
        folder = os.fspath(output_dir)
        os.makedirs(folder, exist_ok=True)
        paths = {k: os.path.join(folder, name) for k, name in REPORT_FILES.items()}
        self.plot(paths["figure"])
        with open(paths["markdown"], "w", encoding="utf-8") as f:
            f.write(self.to_markdown())
        with open(paths["html"], "w", encoding="utf-8") as f:
            f.write(self.to_html(REPORT_FILES["figure"]))
        return paths
