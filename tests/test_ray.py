"""Ray Train's TensorflowTrainer runs a multi-worker fit (optional: needs ray)."""

import json
import os
import subprocess
import sys

import pytest

pytest.importorskip("ray.train.tensorflow")
pytestmark = pytest.mark.xdist_group("multi_worker")


def test_ray_trainer_runs_a_multi_worker_fit(tmp_path):
    job = os.path.join(os.path.dirname(__file__), "ray_job.py")
    done = subprocess.run(
        [sys.executable, job, str(tmp_path)],
        env={**os.environ, "TF_CPP_MIN_LOG_LEVEL": "2"},
        capture_output=True,
        text=True,
        timeout=300,
    )
    assert done.returncode == 0, done.stderr[-3000:]
    found = []
    for index in range(2):
        with open(tmp_path / f"ray-{index}.json", encoding="utf-8") as f:
            found.append(json.load(f))
    assert found[0]["weights"] == found[1]["weights"]
    assert found[0]["accuracy"] >= 0.9
