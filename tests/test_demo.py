"""The tour behind ``make demo``: TASK validation and the index page (no training)."""

import json
import subprocess
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parent.parent
# demo/ is a folder of the repository, not of the installed package.
sys.path.insert(0, str(ROOT))

from demo.page import build_page  # noqa: E402
from demo.parts import PARTS, check_tasks  # noqa: E402


def test_check_tasks_defaults_orders_and_dedups():
    assert check_tasks([]) == list(PARTS)
    assert check_tasks(["all"]) == list(PARTS)
    assert check_tasks(["faces,tabular", "faces"]) == ["tabular", "faces"]


def test_check_tasks_lists_the_valid_names():
    with pytest.raises(ValueError, match="TASK must be one or more of tabular, "):
        check_tasks(["face"])


def test_tour_rejects_an_unknown_task_before_importing_tensorflow():
    result = subprocess.run(
        [sys.executable, str(ROOT / "demo" / "tour.py"), "nope"],
        capture_output=True,
        text=True,
        check=False,
        timeout=60,
    )
    assert result.returncode == 2
    assert "Received: TASK='nope'" in result.stderr


def _record(folder: Path, part: str, **extra) -> None:
    (folder / part).mkdir(parents=True)
    (folder / part / "plot.png").write_bytes(b"\x89PNG")
    record = {
        "part": part,
        "title": f"<{part}>",
        "metric": {"name": "accuracy", "value": 0.91, "better": "higher"},
        "peer": {"name": "peer", "value": 0.8, "better": "higher"},
        "pngs": ["plot.png"],
        "serving": {"input": "x", "output": "y & z"},
        "seconds": 3.2,
        **extra,
    }
    (folder / part / "result.json").write_text(json.dumps(record))


def test_page_has_a_card_per_result_in_tour_order(tmp_path):
    results = tmp_path / "demo"
    _record(results, "word_embeddings")
    _record(results, "tabular", also=[{"name": "recall", "value": 0.5}])
    (results / "broken").mkdir()
    (results / "broken" / "result.json").write_text("{not json")
    page = build_page(results, tmp_path / "index.html").read_text()
    assert page.index('id="tabular"') < page.index('id="word_embeddings"')
    assert 'src="demo/tabular/plot.png"' in page
    assert "&lt;tabular&gt;" in page and "y &amp; z" in page
    assert "recall" in page and "0.910" in page
    assert "<script" not in page and "http" not in page


def test_page_without_results_says_how_to_make_them(tmp_path):
    page = build_page(tmp_path / "none", tmp_path / "index.html").read_text()
    assert "make demo" in page
