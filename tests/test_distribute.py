"""Resolution of the ``strategy`` parameter."""

import pytest
import tensorflow as tf

from applied_ml.distribute import resolve_strategy


def test_names_resolve_to_strategies():
    assert resolve_strategy("auto") is tf.distribute.get_strategy()
    assert isinstance(resolve_strategy("one_device"), tf.distribute.OneDeviceStrategy)
    mirrored = resolve_strategy("mirrored")
    assert isinstance(mirrored, tf.distribute.MirroredStrategy)
    assert mirrored.num_replicas_in_sync == 2  # two logical CPUs (conftest)


def test_strategy_objects_pass_through():
    strategy = tf.distribute.OneDeviceStrategy("/cpu:0")
    assert resolve_strategy(strategy) is strategy


@pytest.mark.parametrize("bad", ["tpu", None, 3])
def test_unknown_strategy(bad):
    with pytest.raises(ValueError, match="`strategy` must be one of 'auto'"):
        resolve_strategy(bad)
