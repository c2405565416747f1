"""Resolution of the ``strategy`` parameter to a ``tf.distribute.Strategy``.

Estimators take a strategy by name so that ``sklearn.base.clone`` keeps
working; a ready ``tf.distribute.Strategy`` object is accepted as well (TPUs,
custom cluster resolvers). ``"multi_worker"`` reads the cluster from
``TF_CONFIG`` (see :mod:`applied_ml.cluster`).
"""

import tensorflow as tf

from applied_ml import cluster

STRATEGIES = ("auto", "mirrored", "one_device", "multi_worker")

# One MirroredStrategy per device set and process: separate instances share
# TensorFlow's collective instance keys, so a second one can abort with "Shape
# mismatch in the collective instance" once the first has trained a model.
_MIRRORED: dict[tuple, tf.distribute.MirroredStrategy] = {}


def resolve_strategy(strategy) -> tf.distribute.Strategy:
    """Return the ``tf.distribute.Strategy`` that ``strategy`` names.

    Parameters
    ----------
    strategy : {"auto", "mirrored", "one_device", "multi_worker"} or \
tf.distribute.Strategy
        ``"auto"`` mirrors over all local GPUs when there are several and
        otherwise uses the default (single-device) strategy. ``"mirrored"``
        mirrors over all local GPUs, or over all logical CPU devices on a
        machine without GPUs. ``"one_device"`` places everything on the first
        GPU, or on the CPU. ``"multi_worker"`` trains synchronously on every
        worker of the cluster that ``TF_CONFIG`` describes (one per process
        and machine, see :func:`applied_ml.cluster.multi_worker_strategy`).

    Returns
    -------
    tf.distribute.Strategy
        The strategy to build, compile and train under.

    Examples
    --------
    >>> from applied_ml.distribute import resolve_strategy
    >>> resolve_strategy("one_device").num_replicas_in_sync
    1
    """
    if isinstance(strategy, tf.distribute.Strategy):
        if isinstance(strategy, tf.distribute.MultiWorkerMirroredStrategy):
            cluster.patch_keras_logs()
        return strategy
    if not isinstance(strategy, str) or strategy not in STRATEGIES:
        listed = ", ".join(repr(s) for s in STRATEGIES)
        raise ValueError(
            f"`strategy` must be one of {listed} or a tf.distribute.Strategy. "
            f"Received: strategy={strategy!r}"
        )
    if strategy == "multi_worker":
        return cluster.multi_worker_strategy()
    gpus = tf.config.list_logical_devices("GPU")
    if strategy == "auto":
        if len(gpus) > 1:
            return _mirrored(gpus)
        return tf.distribute.get_strategy()
    if strategy == "mirrored":
        return _mirrored(gpus or tf.config.list_logical_devices("CPU"))
    return tf.distribute.OneDeviceStrategy(gpus[0].name if gpus else "/cpu:0")


def _mirrored(devices) -> tf.distribute.MirroredStrategy:
    key = tuple(d.name for d in devices)
    if key not in _MIRRORED:
        _MIRRORED[key] = tf.distribute.MirroredStrategy(list(key))
    return _MIRRORED[key]


def build_from_first_replica(model) -> None:
    """Let ``model`` train on string features under a multi-replica strategy.

    Before its first step, Keras' TensorFlow trainer (``_maybe_symbolic_build``
    in keras/src/backend/tensorflow/trainer.py, Keras 3.15) averages the first
    distributed batch over the replicas only to build the compiled metrics;
    string tensors cannot be averaged, so that fails. Building from the first
    replica's share of the batch gives the same shapes and dtypes. The
    override lives on this model instance only.
    """
    strategy = model.distribute_strategy

    def local(value):
        if isinstance(value, tf.distribute.DistributedValues):
            return strategy.experimental_local_results(value)[0]
        return value

    def maybe_symbolic_build(iterator=None, data_batch=None):
        if iterator is not None:
            for _, _, it in iterator:
                data_batch = tf.nest.map_structure(local, next(it))
                break
        with strategy.scope():
            model._symbolic_build(data_batch=data_batch)

    model._maybe_symbolic_build = maybe_symbolic_build
