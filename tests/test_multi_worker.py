"""Multi-worker training on loopback: 2 worker processes, each with TF_CONFIG.

Every job runs through ``applied_ml.launch`` (as ``applied-ml launch`` does),
bounded in time, so no process outlives its test.
"""

import io
import json
import os
import subprocess
import sys

import numpy as np
import pytest

from applied_ml.cluster import cluster_spec, is_chief, writes_here
from applied_ml.datasets import load_penguins
from applied_ml.distribute import resolve_strategy
from applied_ml.launch import free_ports, launch, tf_config
from applied_ml.tabular import TabularClassifier

JOB = os.path.join(os.path.dirname(__file__), "multi_worker_job.py")
QUIET = {"TF_CPP_MIN_LOG_LEVEL": "2"}
pytestmark = pytest.mark.xdist_group("multi_worker")


def run_job(out, *args, timeout=90) -> tuple[int, str]:
    log = io.StringIO()
    status = launch(JOB, 2, [str(out), *args], timeout=timeout, env=QUIET, output=log)
    return status, log.getvalue()


def results(out) -> list[dict]:
    found = []
    for index in range(2):
        with open(out / f"worker-{index}.json", encoding="utf-8") as f:
            found.append(json.load(f))
    return found


def test_two_workers_agree_and_match_one_worker(tmp_path):
    status, log = run_job(tmp_path)
    assert status == 0, log[-3000:]
    chief, other = results(tmp_path)
    assert chief["weights"] == other["weights"]
    assert chief["loss"] == other["loss"]
    # Only the chief writes.
    assert chief["export"] == str(tmp_path / "export" / "1")
    assert other["export"] is None
    assert os.listdir(tmp_path / "export") == ["1"]

    # One worker on the same data: the same examples per step (each worker
    # takes half of every global batch), so the first epoch's mean loss
    # agrees to float rounding and the quality is the same.
    subprocess.run(
        [sys.executable, JOB, str(tmp_path), "--single"],
        env={k: v for k, v in {**os.environ, **QUIET}.items() if k != "TF_CONFIG"},
        check=True,
        timeout=60,
    )
    with open(tmp_path / "single.json", encoding="utf-8") as f:
        single = json.load(f)
    np.testing.assert_allclose(chief["loss"][0], single["loss"][0], rtol=1e-4)
    assert abs(chief["accuracy"] - single["accuracy"]) <= 0.02
    _, y = load_penguins()
    assert chief["accuracy"] >= y.value_counts(normalize=True).max() + 0.3


def test_killed_worker_resumes_from_checkpoint(tmp_path):
    checkpoint = tmp_path / "checkpoint"
    args = ["--checkpoint", str(checkpoint), "--epochs", "5"]
    status, log = run_job(tmp_path, *args, "--crash-after", "2")
    assert status == -9, log[-3000:]  # worker 1 was killed; the job stopped
    assert not (tmp_path / "worker-0.json").exists()
    with open(checkpoint / "train" / "state.json", encoding="utf-8") as f:
        done = json.load(f)["backups"][0]["epoch"]  # epochs backed up
    assert done >= 1

    status, log = run_job(tmp_path, *args)  # the platform restarts the job
    assert status == 0, log[-3000:]
    chief, other = results(tmp_path)
    assert chief["weights"] == other["weights"]
    assert len(chief["loss"]) == 5 - done  # only the epochs left ran
    assert chief["accuracy"] >= 0.9
    assert not checkpoint.exists()  # the finished fit removed its backups


@pytest.mark.parametrize("index", [0, 1])
def test_missing_peer_fails_with_a_timeout(tmp_path, index):
    env = {
        **os.environ,
        **QUIET,
        # free ports: nobody answers on the other worker's
        "TF_CONFIG": tf_config(free_ports(2), index),
        "APPLIED_ML_CLUSTER_TIMEOUT": "3",
    }
    done = subprocess.run(
        [sys.executable, JOB, str(tmp_path)],
        env=env,
        capture_output=True,
        text=True,
        timeout=60,
    )
    assert done.returncode != 0
    assert "waited 3 s for the other workers of TF_CONFIG" in done.stderr


def test_strategy_made_after_tensorflow_started(tmp_path):
    env = {**os.environ, **QUIET, "TF_CONFIG": tf_config(free_ports(1), 0)}
    done = subprocess.run(
        [sys.executable, JOB, str(tmp_path), "--late"],
        env=env,
        capture_output=True,
        text=True,
        timeout=60,
    )
    assert done.returncode != 0
    assert "call applied_ml.cluster.multi_worker_strategy() at the top" in (done.stderr)


def test_launcher_stops_the_job_when_a_worker_fails(tmp_path):
    script = tmp_path / "job.py"
    script.write_text(
        "import json, os, sys, time\n"
        "index = json.loads(os.environ['TF_CONFIG'])['task']['index']\n"
        "print('started', index)\n"
        "sys.exit(3) if index == 1 else time.sleep(60)\n"
    )
    log = io.StringIO()
    assert launch(str(script), 2, timeout=30, output=log) == 3
    assert "[worker 0] started 0" in log.getvalue()
    assert "[worker 1] started 1" in log.getvalue()

    script.write_text("import time\ntime.sleep(60)\n")
    assert launch(str(script), 2, timeout=1, output=io.StringIO()) == 124


@pytest.mark.parametrize(
    ("workers", "message"), [(0, "`workers` must be a positive"), (True, "`workers`")]
)
def test_launcher_checks_its_arguments(workers, message):
    with pytest.raises(ValueError, match=message):
        launch(JOB, workers)
    with pytest.raises(FileNotFoundError, match="`script` must be a Python file"):
        launch("missing.py", 2)


@pytest.mark.parametrize(
    ("config", "chief"),
    [
        (None, True),
        (
            {
                "cluster": {"worker": ["a:1", "b:1"]},
                "task": {"type": "worker", "index": 0},
            },
            True,
        ),
        (
            {
                "cluster": {"worker": ["a:1", "b:1"]},
                "task": {"type": "worker", "index": 1},
            },
            False,
        ),
        (
            {
                "cluster": {"chief": ["c:1"], "worker": ["a:1"]},
                "task": {"type": "worker", "index": 0},
            },
            False,
        ),
        (
            {
                "cluster": {"chief": ["c:1"], "worker": ["a:1"]},
                "task": {"type": "chief", "index": 0},
            },
            True,
        ),
    ],
)
def test_chief(monkeypatch, config, chief):
    if config is None:
        monkeypatch.delenv("TF_CONFIG", raising=False)
    else:
        monkeypatch.setenv("TF_CONFIG", json.dumps(config))
    assert is_chief() is chief
    assert writes_here("multi_worker") is chief
    assert writes_here("auto")  # not a multi-worker fit: always writes


@pytest.mark.parametrize(
    ("text", "message"),
    [
        ("{not json", "`TF_CONFIG` must be JSON"),
        ('{"cluster": {"worker": ["a:1"]}}', "must hold 'cluster'"),
        (
            '{"cluster": {"worker": ["a:1"], "ps": ["b:1"]}, "task": {}}',
            "parameter-server clusters are not supported",
        ),
        (
            '{"cluster": {"worker": ["a:1"]}, "task": {"type": "worker", "index": 1}}',
            "names a task that is not in its cluster",
        ),
    ],
)
def test_bad_tf_config(monkeypatch, text, message):
    monkeypatch.setenv("TF_CONFIG", text)
    with pytest.raises(ValueError, match=message):
        cluster_spec()


def test_multi_worker_needs_tf_config(monkeypatch):
    monkeypatch.delenv("TF_CONFIG", raising=False)
    with pytest.raises(ValueError, match="TF_CONFIG environment variable, which is"):
        resolve_strategy("multi_worker")
    with pytest.raises(ValueError, match="TF_CONFIG environment variable"):
        TabularClassifier(strategy="multi_worker").fit(*load_penguins())


@pytest.mark.parametrize(
    "cases",
    [
        ["image_small_cnn", "object_detector", "image_segmenter", "face_recognizer"],
        [
            "tabular_regressor",
            "language_model",
            "sentiment_classifier",
            "word_embeddings",
            "toy_autoencoder",
        ],
    ],
    ids=["vision", "others"],
)
def test_every_estimator_trains_on_two_workers(tmp_path, cases):
    # Through the core's one training loop: every task, the same weights on
    # both workers (batch normalization included: it is synchronized).
    log = io.StringIO()
    job = os.path.join(os.path.dirname(__file__), "multi_worker_contract_job.py")
    status = launch(job, 2, [str(tmp_path), *cases], timeout=120, env=QUIET, output=log)
    assert status == 0, log.getvalue()[-3000:]
    found = []
    for index in range(2):
        with open(tmp_path / f"contract-{index}.json", encoding="utf-8") as f:
            found.append(json.load(f))
    assert sorted(found[0]) == sorted(cases)
    for case in cases:
        assert found[0][case]["weights"] == found[1][case]["weights"], case
        assert np.all(np.isfinite(found[0][case]["loss"])), case
