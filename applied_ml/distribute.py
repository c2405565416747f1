"""Resolution of the ``strategy`` parameter to a ``tf.distribute.Strategy``.

Estimators take a strategy by name so that ``sklearn.base.clone`` keeps
working; a ready ``tf.distribute.Strategy`` object is accepted as well (TPUs,
custom cluster resolvers).
"""

import tensorflow as tf

STRATEGIES = ("auto", "mirrored", "one_device")

# One MirroredStrategy per device set and process: separate instances share
# TensorFlow's collective instance keys, so a second one can abort with "Shape
# mismatch in the collective instance" once the first has trained a model.
_MIRRORED: dict[tuple, tf.distribute.MirroredStrategy] = {}


def resolve_strategy(strategy) -> tf.distribute.Strategy:
    """Return the ``tf.distribute.Strategy`` that ``strategy`` names.

    Parameters
    ----------
    strategy : {"auto", "mirrored", "one_device"} or tf.distribute.Strategy
        ``"auto"`` mirrors over all local GPUs when there are several and
        otherwise uses the default (single-device) strategy. ``"mirrored"``
        mirrors over all local GPUs, or over all logical CPU devices on a
        machine without GPUs. ``"one_device"`` places everything on the first
        GPU, or on the CPU.

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
        return strategy
    if not isinstance(strategy, str) or strategy not in STRATEGIES:
        listed = ", ".join(repr(s) for s in STRATEGIES)
        raise ValueError(
            f"`strategy` must be one of {listed} or a tf.distribute.Strategy. "
            f"Received: strategy={strategy!r}"
        )
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
