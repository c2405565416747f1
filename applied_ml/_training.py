"""Optimizers by name (with a proximal L1 step) and the callbacks of a fit."""

import keras
from keras import ops

OPTIMIZERS = ("adam", "adamw", "sgd", "momentum", "rmsprop", "adagrad", "ftrl")


class _ProximalL1:
    """Mixin: after each update, soft-threshold dense kernels by ``l1 * step``.

    This is the proximal step of an L1 penalty: it sets weights exactly to
    zero, which a penalty added to the loss never does with gradient steps.
    ``step`` is the optimizer's own per-coordinate step size, so the shrinkage
    matches the update it follows (``learning_rate`` for SGD,
    ``learning_rate / sqrt(v)`` for Adam, and so on).
    """

    def __init__(self, *args, l1=0.0, **kwargs):
        super().__init__(*args, **kwargs)
        self.l1 = float(l1)

    def update_step(self, gradient, variable, learning_rate):
        super().update_step(gradient, variable, learning_rate)
        # TensorFlow hands over the backing tf.Variable ("dense/kernel:0").
        if self.l1 and variable.name.split("/")[-1].split(":")[0] == "kernel":
            lr = ops.cast(learning_rate, variable.dtype)
            threshold = self.l1 * self._step_size(variable, lr)
            shrunk = ops.sign(variable) * ops.relu(ops.abs(variable) - threshold)
            self.assign(variable, shrunk)

    def _step_size(self, variable, lr):
        return lr

    def get_config(self):
        return {**super().get_config(), "l1": self.l1}


def _adam_step(optimizer, variable, lr):
    v = optimizer._velocities[optimizer._get_variable_index(variable)]
    t = ops.cast(optimizer.iterations + 1, variable.dtype)
    v_hat = v / (1 - ops.power(ops.cast(optimizer.beta_2, variable.dtype), t))
    return lr / (ops.sqrt(v_hat) + optimizer.epsilon)


@keras.saving.register_keras_serializable(package="applied_ml")
class ProximalSGD(_ProximalL1, keras.optimizers.SGD):
    """SGD (optionally with momentum) with a proximal L1 step."""


@keras.saving.register_keras_serializable(package="applied_ml")
class ProximalAdam(_ProximalL1, keras.optimizers.Adam):
    """Adam with a proximal L1 step scaled by Adam's per-coordinate step."""

    def _step_size(self, variable, lr):
        return _adam_step(self, variable, lr)


@keras.saving.register_keras_serializable(package="applied_ml")
class ProximalAdamW(_ProximalL1, keras.optimizers.AdamW):
    """AdamW with a proximal L1 step scaled by Adam's per-coordinate step."""

    def _step_size(self, variable, lr):
        return _adam_step(self, variable, lr)


@keras.saving.register_keras_serializable(package="applied_ml")
class ProximalRMSprop(_ProximalL1, keras.optimizers.RMSprop):
    """RMSprop with a proximal L1 step scaled by its per-coordinate step."""

    def _step_size(self, variable, lr):
        velocity = self._velocities[self._get_variable_index(variable)]
        return lr / ops.sqrt(velocity + self.epsilon)


@keras.saving.register_keras_serializable(package="applied_ml")
class ProximalAdagrad(_ProximalL1, keras.optimizers.Adagrad):
    """Adagrad with a proximal L1 step scaled by its per-coordinate step."""

    def _step_size(self, variable, lr):
        accumulator = self._accumulators[self._get_variable_index(variable)]
        return lr / ops.sqrt(accumulator + self.epsilon)


def make_optimizer(
    name: str, learning_rate: float, l1: float = 0.0
) -> keras.optimizers.Optimizer:
    """Return a fresh Keras optimizer for ``name`` (one of ``OPTIMIZERS``).

    With ``l1 > 0`` every dense kernel gets a proximal L1 step after each
    update (FTRL uses its own ``l1_regularization_strength``, which is
    proximal already).
    """
    if name == "ftrl":
        return keras.optimizers.Ftrl(
            learning_rate=learning_rate, l1_regularization_strength=l1
        )
    kwargs = {"learning_rate": learning_rate}
    if name == "momentum":
        kwargs["momentum"] = 0.9
    plain = {
        "adam": keras.optimizers.Adam,
        "adamw": keras.optimizers.AdamW,
        "sgd": keras.optimizers.SGD,
        "momentum": keras.optimizers.SGD,
        "rmsprop": keras.optimizers.RMSprop,
        "adagrad": keras.optimizers.Adagrad,
    }
    proximal = {
        "adam": ProximalAdam,
        "adamw": ProximalAdamW,
        "sgd": ProximalSGD,
        "momentum": ProximalSGD,
        "rmsprop": ProximalRMSprop,
        "adagrad": ProximalAdagrad,
    }
    if l1:
        return proximal[name](l1=l1, **kwargs)
    return plain[name](**kwargs)


class MaxSteps(keras.callbacks.Callback):
    """Stop training once this ``fit`` call has run ``max_steps`` optimizer steps."""

    def __init__(self, max_steps: int):
        super().__init__()
        self.max_steps = max_steps

    def on_train_begin(self, logs=None):
        # warm starts and resumed fits begin with a non-zero step count
        self._start = int(self.model.optimizer.iterations.numpy())

    def on_train_batch_end(self, batch, logs=None):
        done = int(self.model.optimizer.iterations.numpy()) - self._start
        if done >= self.max_steps:
            self.model.stop_training = True
