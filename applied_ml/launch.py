"""Start a multi-worker job or a distributed search on this machine.

:func:`launch` starts N worker processes on loopback ports, each running the
same script with its own ``TF_CONFIG``, exactly as a cluster platform would
start it on N machines, so a script tried here runs unchanged on a real
cluster. :func:`launch_search` starts a keras-tuner chief (the oracle) and N
tuner workers with keras-tuner's ``KERASTUNER_*`` variables. The launcher prefixes
every line a worker prints with its index, and stops the whole job as soon as
one worker fails: a synchronous job cannot go on without it, and a platform
would restart the job (which then resumes from ``checkpoint_dir``).
"""

import json
import os
import signal
import socket
import subprocess
import sys
import threading
import time


def free_ports(n: int) -> list[int]:
    """``n`` distinct TCP ports free on 127.0.0.1 right now."""
    sockets = []
    try:
        for _ in range(n):
            s = socket.socket()
            s.bind(("127.0.0.1", 0))
            sockets.append(s)
        return [s.getsockname()[1] for s in sockets]
    finally:
        for s in sockets:
            s.close()


def tf_config(ports: list[int], index: int) -> str:
    """The ``TF_CONFIG`` of worker ``index`` of a loopback cluster."""
    workers = [f"127.0.0.1:{port}" for port in ports]
    return json.dumps(
        {"cluster": {"worker": workers}, "task": {"type": "worker", "index": index}}
    )


def launch(
    script: str,
    workers: int = 2,
    args: list[str] | None = None,
    *,
    timeout: float | None = None,
    env: dict | None = None,
    output=None,
) -> int:
    """Run ``script`` as a ``workers``-worker job on this machine.

    Parameters
    ----------
    script : str
        Python file every worker runs.
    workers : int, default=2
        Number of worker processes.
    args : list of str, optional
        Command-line arguments passed to every worker.
    timeout : float, optional
        Seconds after which the whole job is stopped (exit status 124).
    env : dict, optional
        Extra environment variables for the workers.
    output : file, optional
        Where the workers' prefixed output goes (default ``sys.stdout``).

    Returns
    -------
    int
        0 when every worker succeeded; otherwise the exit status of the first
        worker that failed (or 124 on timeout).
    """
    _check_count("workers", workers)
    ports = free_ports(workers)
    roles = [
        (f"[worker {index}] ", {"TF_CONFIG": tf_config(ports, index)})
        for index in range(workers)
    ]
    return _run(script, roles, args, timeout, env, output)


def launch_search(
    script: str,
    tuners: int = 2,
    args: list[str] | None = None,
    *,
    timeout: float | None = None,
    env: dict | None = None,
    output=None,
) -> int:
    """Run ``script`` as a distributed keras-tuner search on this machine.

    One process is the chief (``KERASTUNER_TUNER_ID=chief``), which runs
    the oracle; ``tuners`` processes (``tuner0``, ``tuner1``, ...) run the
    trials it hands out. All get ``KERASTUNER_ORACLE_IP`` and
    ``KERASTUNER_ORACLE_PORT`` of the chief.

    Parameters
    ----------
    script : str
        Python file every process runs (a ``TunerSearch`` fit, say).
    tuners : int, default=2
        Number of tuner workers, besides the chief.
    args, timeout, env, output
        As for :func:`launch`.

    Returns
    -------
    int
        As for :func:`launch`.
    """
    _check_count("tuners", tuners)
    (port,) = free_ports(1)
    oracle = {"KERASTUNER_ORACLE_IP": "127.0.0.1", "KERASTUNER_ORACLE_PORT": str(port)}
    roles = [("[chief] ", {**oracle, "KERASTUNER_TUNER_ID": "chief"})] + [
        (f"[tuner {index}] ", {**oracle, "KERASTUNER_TUNER_ID": f"tuner{index}"})
        for index in range(tuners)
    ]
    return _run(script, roles, args, timeout, env, output)


def _check_count(name: str, value) -> None:
    if isinstance(value, bool) or not isinstance(value, int) or value < 1:
        raise ValueError(
            f"`{name}` must be a positive integer. Received: {name}={value!r}"
        )


def _run(script, roles, args, timeout, env, output) -> int:
    """Start one process per role, relay their output, wait for them all."""
    if not os.path.isfile(script):
        raise FileNotFoundError(
            f"`script` must be a Python file. Received: script={script!r}"
        )
    output = sys.stdout if output is None else output
    lock = threading.Lock()
    processes, readers = [], []
    for prefix, variables in roles:
        process = subprocess.Popen(
            [sys.executable, "-u", script, *(args or [])],
            env={**os.environ, **(env or {}), **variables},
            stdout=subprocess.PIPE,
            stderr=subprocess.STDOUT,
            text=True,
            start_new_session=True,
        )
        processes.append(process)
        reader = threading.Thread(target=_relay, args=(process, prefix, output, lock))
        reader.start()
        readers.append(reader)
    status = _wait(processes, timeout)
    for reader in readers:
        reader.join()
    return status


def _relay(process, prefix: str, output, lock) -> None:
    with process.stdout:
        for line in process.stdout:
            with lock:
                output.write(prefix + line)
                output.flush()


def _wait(processes: list, timeout: float | None) -> int:
    """Wait for all; stop the rest when one fails or time runs out."""
    deadline = None if timeout is None else time.monotonic() + timeout
    while True:
        codes = [p.poll() for p in processes]
        failed = [c for c in codes if c not in (None, 0)]
        if failed:
            _stop(processes)
            return failed[0]
        if all(c == 0 for c in codes):
            return 0
        if deadline is not None and time.monotonic() > deadline:
            _stop(processes)
            return 124
        time.sleep(0.1)


def _stop(processes: list) -> None:
    """Terminate every running worker (and what it started), then kill."""
    for process in processes:
        if process.poll() is None:
            _signal(process, signal.SIGTERM)
    end = time.monotonic() + 10
    for process in processes:
        try:
            process.wait(timeout=max(0.1, end - time.monotonic()))
        except subprocess.TimeoutExpired:
            _signal(process, signal.SIGKILL)
            process.wait()


def _signal(process, sig) -> None:
    try:
        os.killpg(process.pid, sig)
    except ProcessLookupError:
        pass
