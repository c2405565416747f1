"""The README's code runs as written.

The ```python blocks of the Quickstart section, and every other block that the
line ``<!-- checked -->`` directly precedes, are joined in the order they appear
and run as one script in a fresh process, in a temporary folder (so relative
paths such as ``saved_models/`` land there). Later blocks may use the names the
Quickstart defines, as a reader who follows the README would.
"""

import os
import re
import subprocess
import sys
from pathlib import Path

import pytest

README = Path(__file__).resolve().parent.parent / "README.md"
QUICKSTART = "Quickstart"
MARKER = "<!-- checked -->"
# Penguins train in about 12 s on a quiet 2-core CPU; imports take a few more.
TIMEOUT = 300

_HEADING = re.compile(r"^(#{1,6}) (.+)$")
_FENCE = re.compile(r"^```(\w*)\s*$")


def python_blocks(text: str) -> list[tuple[str | None, bool, str]]:
    """Every ```python block of a Markdown text.

    Parameters
    ----------
    text : str
        Markdown text.

    Returns
    -------
    list of (str or None, bool, str)
        For each block in order: the title of the ``##`` section holding it,
        whether ``<!-- checked -->`` is the last non-blank line before it, and
        its code without the fences.
    """
    blocks, section, previous = [], None, ""
    lines = iter(text.splitlines())
    for line in lines:
        heading = _HEADING.match(line)
        if heading and len(heading.group(1)) == 2:
            section = heading.group(2).strip()
        fence = _FENCE.match(line)
        if fence is None:
            if line.strip():
                previous = line.strip()
            continue
        body = []
        for inner in lines:
            if inner.startswith("```"):
                break
            body.append(inner)
        if fence.group(1) == "python":
            blocks.append((section, previous == MARKER, "\n".join(body) + "\n"))
        previous = ""
    return blocks


def checked_code(text: str) -> str:
    """The Quickstart's python blocks and the marked ones, joined in order."""
    return "\n".join(
        code
        for section, marked, code in python_blocks(text)
        if section == QUICKSTART or marked
    )


def test_checked_blocks_are_found():
    text = README.read_text(encoding="utf-8")
    blocks = python_blocks(text)
    assert any(section == QUICKSTART for section, _, _ in blocks), (
        f"no python block in the {QUICKSTART} section of {README}"
    )
    markers = sum(line.strip() == MARKER for line in text.splitlines())
    assert sum(marked for _, marked, _ in blocks) == markers, (
        f"every {MARKER} line must directly precede a ```python block"
    )


def test_readme_blocks_run(tmp_path):
    script = tmp_path / "readme.py"
    script.write_text(checked_code(README.read_text(encoding="utf-8")), "utf-8")
    env = {**os.environ, "TF_CPP_MIN_LOG_LEVEL": "2"}
    try:
        result = subprocess.run(
            [sys.executable, str(script)],
            cwd=tmp_path,
            env=env,
            capture_output=True,
            text=True,
            timeout=TIMEOUT,
        )
    except subprocess.TimeoutExpired:
        pytest.fail(f"the README's checked code ran longer than {TIMEOUT} s")
    assert result.returncode == 0, (
        f"the README's checked code failed (exit status {result.returncode}):\n"
        f"{result.stderr[-3000:]}"
    )
    # what the README's comments say the code writes
    versions = sorted(p.name for p in (tmp_path / "saved_models/penguins").iterdir())
    assert versions == ["1", "10", "2"]
    assert (tmp_path / "penguins.keras").is_file()
