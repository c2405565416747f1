"""Markdown and HTML renderings of a diagnosis."""

import html

from applied_ml.diagnose import _recipe


def _fmt(value) -> str:
    return "n/a" if value is None else f"{value:.4f}"


def _rows(diagnosis) -> list[tuple[str, str]]:
    human = _fmt(diagnosis.human_error)
    if diagnosis.human_error_assumed:
        human += " (assumed)"
    train_dev = _fmt(diagnosis.train_dev_error)
    if diagnosis.train_dev_error is None:
        train_dev += " (no train-dev set; dev used)"
    mismatch = _fmt(diagnosis.data_mismatch)
    if diagnosis.data_mismatch is None:
        mismatch += " (not computable without a train-dev set)"
    return [
        ("Human-level error", human),
        ("Training error", _fmt(diagnosis.train_error)),
        ("Train-dev error", train_dev),
        ("Dev error", _fmt(diagnosis.dev_error)),
        ("Avoidable bias", _fmt(diagnosis.avoidable_bias)),
        ("Variance", _fmt(diagnosis.variance)),
        ("Data mismatch", mismatch),
    ]


def _no_findings(diagnosis) -> str:
    if diagnosis.history_checked:
        return "No problem found in the training history (history_)."
    return "The estimator has no training history (history_) to read."


def diagnosis_markdown(diagnosis) -> str:
    lines = [
        "# Diagnosis: what to try next",
        "",
        f"Errors: {diagnosis.error_name}.",
        "",
        "| quantity | value |",
        "| --- | --- |",
        *(f"| {name} | {value} |" for name, value in _rows(diagnosis)),
        "",
        f"**Dominant problem: {_recipe.TITLES[diagnosis.dominant]}.** "
        f"{diagnosis.recommendation}",
        "",
        "## What to try",
        "",
        *(f"- {action}" for action in diagnosis.actions),
        "",
        "## Reasoning",
        "",
        diagnosis.reasoning,
        "",
        "## Learning curve",
        "",
    ]
    if diagnosis.history_findings:
        lines += [
            f"- **{f.kind}** (epochs {f.epochs[0]}-{f.epochs[1]}): {f.message}"
            for f in diagnosis.history_findings
        ]
    else:
        lines.append(_no_findings(diagnosis))
    return "\n".join(lines) + "\n"


def diagnosis_html(diagnosis, image: str | None) -> str:
    esc = html.escape
    rows = "\n".join(
        f"<tr><td>{esc(name)}</td><td>{esc(value)}</td></tr>"
        for name, value in _rows(diagnosis)
    )
    actions = "\n".join(f"<li>{esc(a)}</li>" for a in diagnosis.actions)
    findings = (
        "\n".join(
            f"<li><b>{esc(f.kind)}</b> (epochs {f.epochs[0]}-{f.epochs[1]}): "
            f"{esc(f.message)}</li>"
            for f in diagnosis.history_findings
        )
        or f"<li>{esc(_no_findings(diagnosis))}</li>"
    )
    figure = (
        f'<p><img src="{esc(image, quote=True)}" alt="error decomposition"></p>'
        if image
        else ""
    )
    return f"""<!DOCTYPE html>
<html lang="en">
<head>
<meta charset="utf-8">
<title>Diagnosis: what to try next</title>
<style>
body {{ font-family: sans-serif; max-width: 50em; margin: 2em auto; }}
table {{ border-collapse: collapse; }}
td {{ border: 1px solid #ccc; padding: 0.3em 0.8em; }}
</style>
</head>
<body>
<h1>Diagnosis: what to try next</h1>
<p>Errors: {esc(diagnosis.error_name)}.</p>
<table>
{rows}
</table>
{figure}
<p><b>Dominant problem: {esc(_recipe.TITLES[diagnosis.dominant])}.</b>
{esc(diagnosis.recommendation)}</p>
<h2>What to try</h2>
<ul>
{actions}
</ul>
<h2>Reasoning</h2>
<p>{esc(diagnosis.reasoning)}</p>
<h2>Learning curve</h2>
<ul>
{findings}
</ul>
</body>
</html>
"""
