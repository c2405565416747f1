"""TimeBudget: the schedule's shape, and training that stops at the budget."""

import keras
import numpy as np
import pytest

from applied_ml.callbacks import TimeBudget


def test_schedule_warms_up_then_decays_to_the_final_fraction():
    budget = TimeBudget(1, warmup=0.1, final_fraction=0.05)
    assert budget.factor(0.0) == 0.0
    assert budget.factor(0.05) == pytest.approx(0.5)
    assert budget.factor(0.1) == pytest.approx(1.0)
    assert budget.factor(1.0) == pytest.approx(0.05)
    assert budget.factor(2.0) == pytest.approx(0.05)  # clamped
    values = [budget.factor(p) for p in np.linspace(0.1, 1, 20)]
    assert np.all(np.diff(values) < 0)
    linear = TimeBudget(1, schedule="linear", warmup=0, final_fraction=0)
    assert linear.factor(0.25) == pytest.approx(0.75)
    assert TimeBudget(1, schedule="constant", warmup=0).factor(0.9) == 1.0


def test_training_stops_at_the_budget_with_the_rate_decayed():
    model = keras.Sequential([keras.Input((2,)), keras.layers.Dense(1)])
    model.compile(keras.optimizers.SGD(0.1), "mse")
    x = np.random.default_rng(0).normal(size=(64, 2)).astype("float32")
    budget = TimeBudget(1e-9)  # spent after the first batch
    history = model.fit(
        x, x[:, :1], batch_size=8, epochs=50, callbacks=[budget], verbose=0
    )
    assert len(history.history["loss"]) == 1
    assert int(model.optimizer.iterations) == 1
    # the budget was spent when the first batch began: the final rate
    assert float(model.optimizer.learning_rate) == pytest.approx(0.1 * 0.02)


@pytest.mark.parametrize(
    ("params", "message"),
    [({"minutes": 0}, "minutes"), ({"minutes": 1, "schedule": "step"}, "schedule")],
)
def test_bad_parameters(params, message):
    with pytest.raises(ValueError, match=message):
        TimeBudget(**params)
