"""The applied_ml tour: ``make demo`` runs every part, ``make demo TASK=faces`` one.

Usage: ``python demo/tour.py [PART ...]`` with parts among tabular, images,
detection, segmentation, faces, sentiment, language_model, word_embeddings
(comma-separated lists work too). Each part writes ``outputs/demo/<part>/``
(its PNG, its ``result.json`` and a SavedModel); then ``outputs/index.html``
is rebuilt from every part's results present, including earlier runs.
"""

import os
import sys
import time
import traceback
from pathlib import Path

os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "2")
# Run as a script, demo/ is on the path but the repository root is not.
sys.path.insert(0, os.fspath(Path(__file__).resolve().parent.parent))

from demo._common import part_folder, relative, show, write_result  # noqa: E402
from demo.page import build_page  # noqa: E402
from demo.parts import Skipped, check_tasks, load  # noqa: E402


def run_part(name: str) -> tuple[str, float, float]:
    """Run one part, store its result, print its lines.

    Returns (status, wall seconds, CPU seconds of this process).
    """
    start, cpu = time.perf_counter(), time.process_time()
    module = load(name)
    print(f"\n== {module.TITLE} " + "=" * max(0, 70 - len(module.TITLE)), flush=True)
    folder = part_folder(name)
    try:
        result = module.run(folder)
    except Skipped as reason:
        print(f"  skipped: {reason}")
        return "skipped", time.perf_counter() - start, time.process_time() - cpu
    seconds = time.perf_counter() - start
    write_result(folder, {"part": name, **result, "seconds": seconds})
    show("model", result["metric"])
    show("peer", result.get("peer"))
    show("baseline", result.get("baseline"))
    for entry in result.get("also", []):
        show("also", entry)
    for png in result.get("pngs", []):
        print(f"  png      {relative(folder / png)}")
    serving = result["serving"]
    print(f"  served   {serving['input']}\n        -> {serving['output']}")
    cpu = time.process_time() - cpu
    print(f"  [{name}: {seconds:.1f}s wall, {cpu:.1f}s CPU]", flush=True)
    return "ok", seconds, cpu


def main(argv=None) -> int:
    """Run the parts named in ``argv`` (all by default); return the exit code."""
    try:
        names = check_tasks(sys.argv[1:] if argv is None else argv)
    except ValueError as error:
        print(f"demo/tour.py: {error}", file=sys.stderr)
        return 2
    start = time.perf_counter()
    timings, failed = {}, []
    for name in names:
        try:
            timings[name] = run_part(name)
        except Exception:  # one broken part should not hide the others' results
            traceback.print_exc()
            timings[name] = ("failed", float("nan"), float("nan"))
            failed.append(name)
    page = build_page()
    total = time.perf_counter() - start
    print("\n== Timings (wall, CPU of this process) " + "=" * 32)
    for name, (status, seconds, cpu) in timings.items():
        print(f"  {name:<16} {seconds:6.1f}s {cpu:6.1f}s  {status}")
    print(f"  {'total':<16} {total:6.1f}s {time.process_time():6.1f}s")
    load, cores = os.getloadavg()[0], os.cpu_count()
    print(f"  (load average {load:.1f} on {cores} cores at the end)")
    print(f"page: {relative(page)}")
    if failed:
        print(f"failed: {', '.join(failed)}", file=sys.stderr)
        return 1
    return 0


if __name__ == "__main__":
    sys.exit(main())
