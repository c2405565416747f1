"""``outputs/index.html``: one static card per part, from the parts' JSON results.

The page is rebuilt from every ``outputs/demo/<part>/result.json`` present, so a
part not run this time keeps its previous card. No JavaScript, no network.
"""

import html
import json
import os
import time
from pathlib import Path

from demo._common import DEMO_OUTPUTS, OUTPUTS, RESULT_FILE
from demo.parts import PARTS

CSS = """
body { font: 15px/1.45 system-ui, -apple-system, "Segoe UI", sans-serif;
  margin: 0; background: #f4f5f7; color: #1d2330; }
header { padding: 24px 32px 8px; }
h1 { margin: 0 0 4px; font-size: 26px; }
header p { margin: 0; color: #5a6272; }
main { display: grid; grid-template-columns: repeat(auto-fill, minmax(620px, 1fr));
  gap: 20px; padding: 20px 32px 40px; }
.card { background: #fff; border-radius: 10px; padding: 18px 20px;
  box-shadow: 0 1px 3px rgba(0, 0, 0, .12); }
.card h2 { margin: 0 0 2px; font-size: 19px; }
.sub { margin: 0 0 10px; color: #5a6272; font-size: 13px; }
table { border-collapse: collapse; margin: 6px 0 10px; }
td { padding: 3px 14px 3px 0; vertical-align: top; }
td.v { font-variant-numeric: tabular-nums; font-weight: 600; text-align: right; }
tr.main td { font-size: 17px; }
tr.main td.v.ahead { color: #0b6e3d; }
tr.main td.v.behind { color: #a35f00; }
.better { color: #8a93a3; font-size: 12px; font-weight: normal; }
figure { margin: 8px 0; text-align: center; }
figure img { max-width: 100%; max-height: 400px; border: 1px solid #e3e6ea;
  border-radius: 6px; }
.serve { background: #f0f3f8; border-radius: 6px; padding: 8px 10px;
  font: 12.5px/1.4 ui-monospace, "DejaVu Sans Mono", monospace;
  white-space: pre-wrap; word-break: break-word; }
.notes { font: 12.5px/1.4 ui-monospace, "DejaVu Sans Mono", monospace;
  white-space: pre-wrap; color: #3b4352; margin: 6px 0; }
.meta { color: #8a93a3; font-size: 12px; margin-top: 8px; }
"""


def load_results(folder: Path = DEMO_OUTPUTS) -> list[dict]:
    """Every part's stored result, in the tour's order (unknown parts last)."""
    order = {name: i for i, name in enumerate(PARTS)}
    results = []
    for path in sorted(Path(folder).glob(f"*/{RESULT_FILE}")):
        try:
            record = json.loads(path.read_text())
        except (OSError, ValueError):
            continue  # a half-written or foreign file: no card rather than no page
        record.setdefault("part", path.parent.name)
        record["_folder"] = path.parent
        results.append(record)
    return sorted(results, key=lambda r: (order.get(r["part"], len(order)), r["part"]))


def _row(label: str, entry: dict | None, css: str = "", verdict: str = "") -> str:
    if not entry:
        return ""
    better = f' <span class="better">({entry.get("better", "higher")} is better)</span>'
    return (
        f'<tr class="{css}"><td>{html.escape(label)}</td>'
        f"<td>{html.escape(entry['name'])}{better}</td>"
        f'<td class="v {verdict}">{entry["value"]:.3f}</td></tr>'
    )


def verdict(record: dict) -> str:
    """ "ahead" when the model beats its peer (else its baseline), else "behind"."""
    model = record.get("metric")
    other = record.get("peer") or record.get("baseline")
    if not model or not other:
        return "ahead"
    sign = -1 if model.get("better") == "lower" else 1
    return "ahead" if sign * (model["value"] - other["value"]) >= 0 else "behind"


def card(record: dict, page_folder: Path) -> str:
    """The HTML of one part's card; image paths relative to ``page_folder``."""
    rows = "".join(
        [
            _row("model", record.get("metric"), "main", verdict(record)),
            _row("peer", record.get("peer")),
            _row("baseline", record.get("baseline")),
            *(_row("also", entry) for entry in record.get("also", [])),
        ]
    )
    alt = html.escape(record.get("title", record["part"]))
    figures = "".join(
        f'<figure><a href="{href}"><img src="{href}" alt="{alt}"></a></figure>'
        for href in (
            html.escape(_href(record, png, page_folder))
            for png in record.get("pngs", [])
        )
    )
    notes = record.get("notes")
    notes = f'<div class="notes">{html.escape(notes)}</div>' if notes else ""
    serving = record.get("serving") or {}
    serve = ""
    if serving:
        serve = (
            '<div class="serve">SavedModel serving_default (plain TensorFlow)\n'
            f"in:  {html.escape(str(serving.get('input', '')))}\n"
            f"out: {html.escape(str(serving.get('output', '')))}</div>"
        )
    seconds = record.get("seconds")
    took = f"{seconds:.0f} s" if isinstance(seconds, int | float) else "?"
    return (
        f'<section class="card" id="{html.escape(record["part"])}">'
        f"<h2>{html.escape(record.get('title', record['part']))}</h2>"
        f'<p class="sub">{html.escape(record.get("data", ""))}<br>'
        f"{html.escape(record.get('model', ''))}</p>"
        f"<table>{rows}</table>{figures}{notes}{serve}"
        f'<div class="meta">make demo TASK={html.escape(record["part"])} · {took} · '
        f"{html.escape(record.get('finished', ''))}</div></section>"
    )


def _href(record: dict, png: str, page_folder: Path) -> str:
    path = Path(png)
    if not path.is_absolute():
        path = record["_folder"] / path
    return Path(os.path.relpath(path, page_folder)).as_posix()


def build_page(
    folder: Path = DEMO_OUTPUTS, path: Path = OUTPUTS / "index.html"
) -> Path:
    """Write the index page from the results under ``folder``; return its path.

    Parameters
    ----------
    folder : Path
        Holds one sub-folder per part with its ``result.json``.
    path : Path
        The HTML file to write.

    Returns
    -------
    Path
        ``path``.
    """
    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    results = load_results(folder)
    cards = "\n".join(card(r, path.parent) for r in results)
    if not cards:
        cards = "<p>No results yet: run <code>make demo</code>.</p>"
    page = (
        '<!doctype html>\n<html lang="en"><head><meta charset="utf-8">'
        "<title>applied_ml: a tour of every task</title>"
        f"<style>{CSS}</style></head><body><header>"
        "<h1>applied_ml: a tour of every task</h1>"
        f"<p>{len(results)} parts, each on real data with quick settings; "
        "held-out metric against a cheap peer, a figure, and one prediction "
        "served from the exported SavedModel. Page written "
        f"{time.strftime('%Y-%m-%d %H:%M')}.</p></header>"
        f"<main>\n{cards}\n</main></body></html>\n"
    )
    path.write_text(page)
    return path
