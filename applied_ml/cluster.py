"""Multi-worker training: the cluster in ``TF_CONFIG`` and its one strategy.

A multi-worker job runs the same script once per worker, each process with a
``TF_CONFIG`` environment variable naming the whole cluster and its own place
in it. Cluster platforms set it (Kubernetes operators, Vertex AI, Ray Train's
``TensorflowTrainer``); on one machine ``applied-ml launch --workers N
script.py`` does. Estimators with ``strategy="multi_worker"`` then train with
``tf.distribute.MultiWorkerMirroredStrategy``: every worker holds the whole
model, reads its share of each global batch, and the gradients are summed over
the workers at every step, so all workers end with the same weights.

Keras' own ``Model.fit`` does the training. Keras 3.15 fails under this
strategy in two places (keras-team/keras#20585), both in
``keras/src/backend/tensorflow/trainer.py``; the package fixes each where it
happens rather than replacing the training loop, so callbacks, history,
validation and early stopping stay Keras':

- ``_maybe_symbolic_build`` averages the first distributed batch over the
  workers only to learn shapes and dtypes (a cross-worker reduction of
  non-reducible values); :func:`applied_ml.distribute.build_from_first_replica`
  builds from this worker's part instead.
- ``reduce_per_replica`` averages the logged scalars over the workers with
  ``axis=0``, which scalars do not have; :func:`patch_keras_logs` averages
  rank-0 values with ``axis=None`` and leaves every other case to Keras.
"""

import json
import os
import socket
import time

import keras
import numpy as np
import tensorflow as tf

# Seconds a worker waits for all the others when the strategy is made.
TIMEOUT_VARIABLE = "APPLIED_ML_CLUSTER_TIMEOUT"
DEFAULT_TIMEOUT = 600

# One strategy per process: TensorFlow configures collective ops once.
_STRATEGY: list = []


def cluster_spec() -> dict | None:
    """The parsed and checked ``TF_CONFIG``, or None when it is not set.

    Returns
    -------
    dict or None
        ``{"cluster": {job: [address, ...]}, "task": {"type": ..., "index":
        ...}}`` as in ``TF_CONFIG``.

    Raises
    ------
    ValueError
        When ``TF_CONFIG`` is not JSON, lacks ``cluster`` or ``task``, names a
        task that is not in the cluster, or asks for parameter servers.
    """
    text = os.environ.get("TF_CONFIG")
    if not text:
        return None
    try:
        config = json.loads(text)
    except ValueError as err:
        raise ValueError(
            f"`TF_CONFIG` must be JSON with 'cluster' and 'task' ({err}). "
            f"Received: TF_CONFIG={text!r}"
        ) from None
    jobs = config.get("cluster") if isinstance(config, dict) else None
    task = config.get("task") if isinstance(config, dict) else None
    if (
        not isinstance(jobs, dict)
        or not isinstance(task, dict)
        or not all(isinstance(v, list) for v in jobs.values())
    ):
        raise ValueError(
            "`TF_CONFIG` must hold 'cluster' (a dict of job name to a list of "
            "host:port addresses) and 'task' (its 'type' and 'index'). "
            f"Received: TF_CONFIG={text!r}"
        )
    if set(jobs) - {"chief", "worker", "evaluator"}:
        raise ValueError(
            "`strategy='multi_worker'` trains synchronously on 'chief' and "
            "'worker' tasks (MultiWorkerMirroredStrategy); parameter-server "
            f"clusters are not supported. Received: cluster jobs {sorted(jobs)}"
        )
    kind, index = task.get("type"), task.get("index", 0)
    if (
        kind not in jobs
        or not isinstance(index, int)
        or not (0 <= index < len(jobs[kind]))
    ):
        raise ValueError(
            f"`TF_CONFIG` names a task that is not in its cluster "
            f"{ {k: len(v) for k, v in jobs.items()} }. Received: task={task!r}"
        )
    return config


def is_chief() -> bool:
    """Whether this process is the one that writes (exports, saves, logs).

    The chief is the ``"chief"`` task, or worker 0 of a cluster without one;
    a process without ``TF_CONFIG`` is its own chief.

    Returns
    -------
    bool

    Examples
    --------
    >>> from applied_ml.cluster import is_chief
    >>> is_chief()  # no TF_CONFIG here
    True
    """
    config = cluster_spec()
    if config is None:
        return True
    kind = config["task"]["type"]
    if kind == "chief":
        return True
    return (
        kind == "worker"
        and "chief" not in config["cluster"]
        and config["task"].get("index", 0) == 0
    )


def task_index() -> int:
    """This worker's index in its job (0 without ``TF_CONFIG``)."""
    config = cluster_spec()
    return 0 if config is None else config["task"].get("index", 0)


def multi_worker_strategy() -> tf.distribute.MultiWorkerMirroredStrategy:
    """The process's ``MultiWorkerMirroredStrategy``, made on first use.

    Call it at the top of a multi-worker script, before TensorFlow runs any
    operation (TensorFlow configures its collective ops once, at start-up);
    estimators with ``strategy="multi_worker"`` then use this strategy.
    Making it waits until every worker in ``TF_CONFIG`` has started, for at
    most ``APPLIED_ML_CLUSTER_TIMEOUT`` seconds (default 600); after that it
    raises instead of waiting forever. While training, a synchronous job
    cannot go on without any of its workers: when one dies, stop and start
    the whole job again (``applied-ml launch`` stops the others, as cluster
    platforms do), and it resumes from ``checkpoint_dir``.

    Returns
    -------
    tf.distribute.MultiWorkerMirroredStrategy

    Raises
    ------
    ValueError
        When ``TF_CONFIG`` is not set or not valid.
    RuntimeError
        When TensorFlow has already run an operation in this process.
    TimeoutError
        When some worker did not answer within the timeout.
    """
    if _STRATEGY:
        return _STRATEGY[0]
    config = cluster_spec()
    if config is None:
        raise ValueError(
            "`strategy='multi_worker'` reads the cluster from the TF_CONFIG "
            "environment variable, which is not set. Cluster platforms set it; on "
            "one machine, `applied-ml launch --workers 2 script.py` starts the "
            "workers with it. Received: TF_CONFIG unset"
        )
    timeout = _timeout()
    patch_keras_logs()
    _configure_coordination(config, timeout)
    if is_chief():
        _wait_for_peers(config, timeout)
    try:
        strategy = tf.distribute.MultiWorkerMirroredStrategy()
    except tf.errors.DeadlineExceededError:
        raise TimeoutError(
            f"`strategy='multi_worker'` waited {timeout} s for the other workers "
            f"of TF_CONFIG and not all of them answered: start every worker "
            f"(`applied-ml launch` does on one machine), check the addresses, or "
            f"raise {TIMEOUT_VARIABLE}. Received: cluster={config['cluster']}, "
            f"task={config['task']}"
        ) from None
    _STRATEGY.append(strategy)
    return strategy


def _wait_for_peers(config: dict, timeout: int) -> None:
    """Wait until every other task's port accepts connections, or raise.

    The chief leads TensorFlow's coordination service, which waits for the
    others without limit; the others give up after ``timeout`` by themselves.
    """
    jobs = config["cluster"]
    task = config["task"]
    peers = [
        (f"{job} {index}", address)
        for job in ("chief", "worker")
        for index, address in enumerate(jobs.get(job, ()))
        if (job, index) != (task["type"], task.get("index", 0))
    ]
    deadline = time.monotonic() + timeout
    while peers:
        peers = [(name, address) for name, address in peers if not _answers(address)]
        if peers and time.monotonic() > deadline:
            missing = ", ".join(f"{name} at {address}" for name, address in peers)
            raise TimeoutError(
                f"`strategy='multi_worker'` waited {timeout} s for the other "
                f"workers of TF_CONFIG and not all of them answered: start every "
                f"worker (`applied-ml launch` does on one machine), check the "
                f"addresses, or raise {TIMEOUT_VARIABLE}. Received: no answer "
                f"from {missing}"
            )
        if peers:
            time.sleep(0.2)


def _answers(address: str) -> bool:
    host, _, port = address.rpartition(":")
    try:
        with socket.create_connection((host.strip("[]"), int(port)), timeout=1):
            return True
    except (OSError, ValueError):
        return False


def _configure_coordination(config: dict, timeout: int) -> None:
    """Set up TensorFlow's coordination service with a limited wait.

    The strategy would set it up itself, but then waits for every worker to
    register without limit; configured first, with
    ``cluster_register_timeout_in_ms``, a missing worker raises instead. It
    also detects a worker that dies later, by heartbeats.
    """
    from tensorflow.compiler.xla.tsl.protobuf import coordination_config_pb2
    from tensorflow.python.eager import context

    runtime = context.context()
    if runtime._context_handle is not None:
        raise RuntimeError(
            "`strategy='multi_worker'` must be set up before TensorFlow runs its "
            "first operation (TensorFlow configures its collective ops once, at "
            "start-up): call applied_ml.cluster.multi_worker_strategy() at the top "
            "of the script, before loading data or building tensors. Received: a "
            "TensorFlow runtime that has already started"
        )
    if runtime.coordination_service is not None:
        return  # configured by the user
    jobs = config["cluster"]
    leader = "chief" if "chief" in jobs else "worker"
    runtime.configure_coordination_service(
        service_type="standalone",
        service_leader=f"/job:{leader}/replica:0/task:0",
        cluster_register_timeout_in_ms=timeout * 1000,
        coordinated_jobs=[
            coordination_config_pb2.CoordinatedJob(name=job, num_tasks=len(jobs[job]))
            for job in ("chief", "worker")
            if job in jobs
        ],
    )


def _timeout() -> int:
    text = os.environ.get(TIMEOUT_VARIABLE, str(DEFAULT_TIMEOUT))
    try:
        value = int(text)
    except ValueError:
        value = 0
    if value < 1:
        raise ValueError(
            f"`{TIMEOUT_VARIABLE}` must be a whole number of seconds, at least 1. "
            f"Received: {TIMEOUT_VARIABLE}={text!r}"
        )
    return value


def writes_here(strategy) -> bool:
    """Whether an estimator trained with ``strategy`` writes files here.

    In a multi-worker job only the chief exports, saves and backs up; the
    other workers run the same script and write nothing of their own.
    """
    multi_worker = strategy == "multi_worker" or isinstance(
        strategy, tf.distribute.MultiWorkerMirroredStrategy
    )
    return not multi_worker or is_chief()


def is_multi_worker(strategy: tf.distribute.Strategy) -> bool:
    """Whether ``strategy`` spans more than one worker process."""
    return (
        isinstance(strategy, tf.distribute.MultiWorkerMirroredStrategy)
        and strategy.extended._in_multi_worker_mode()
    )


def patch_keras_logs() -> None:
    """Let Keras average the logged scalars over workers (see module doc)."""
    from keras.src.backend.tensorflow import trainer

    original = trainer.reduce_per_replica
    if getattr(original, "applied_ml_patch", False):
        return

    def reduce_per_replica(values, strategy, reduction):
        if reduction not in ("auto", "mean") or not is_multi_worker(strategy):
            return original(values, strategy, reduction)

        def mean(value):
            local = strategy.experimental_local_results(value)[0]
            axis = None if local.shape.rank == 0 else 0
            return strategy.reduce("MEAN", value, axis=axis)

        return tf.nest.map_structure(mean, values)

    reduce_per_replica.applied_ml_patch = True
    trainer.reduce_per_replica = reduce_per_replica


def synchronize_batch_norm(model) -> None:
    """Make ``model``'s batch normalization use the global batch's statistics.

    With each worker's own statistics (Keras' default), the moving means and
    variances drift apart between workers (their other weights stay equal),
    and the saved model would depend on which worker saves it. Synchronized,
    every worker computes the statistics of the whole global batch, as one
    worker training on the same data would.
    """
    for layer in model._flatten_layers(include_self=False):
        if isinstance(layer, keras.layers.BatchNormalization):
            layer.synchronized = True


def from_chief(strategy: tf.distribute.Strategy, values) -> np.ndarray:
    """The chief's ``values`` (numbers below 2**53), on every worker.

    A variable made under the strategy starts from the first worker's value
    on all workers, which makes a broadcast.
    """
    with strategy.scope():
        shared = tf.Variable(np.asarray(values, dtype="float64"), trainable=False)
    return shared.numpy()


def agree_with_chief(strategy: tf.distribute.Strategy, value: int) -> tuple:
    """Whether every worker holds the chief's ``value``, and that value.

    ``value`` is a number below 2**53 (a digest, an epoch); all workers call
    this at the same point.
    """
    chief = int(from_chief(strategy, [value])[0])
    return all_agree(strategy, value == chief), chief


def all_agree(strategy: tf.distribute.Strategy, agrees: bool) -> bool:
    """Whether every worker passed ``agrees=True`` (a collective, all call it)."""

    @tf.function
    def count(vote):
        votes = strategy.run(tf.identity, args=(vote,))
        return strategy.reduce("SUM", votes, axis=None)

    return float(count(tf.constant(0.0 if agrees else 1.0))) == 0.0
