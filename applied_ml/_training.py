"""Optimizers by name and the callbacks the estimators add to a fit."""

import keras

OPTIMIZERS = ("adam", "adamw", "sgd", "momentum", "rmsprop", "adagrad", "ftrl")


def make_optimizer(name: str, learning_rate: float) -> keras.optimizers.Optimizer:
    """Return a fresh Keras optimizer for ``name`` (one of ``OPTIMIZERS``)."""
    if name == "momentum":
        return keras.optimizers.SGD(learning_rate=learning_rate, momentum=0.9)
    classes = {
        "adam": keras.optimizers.Adam,
        "adamw": keras.optimizers.AdamW,
        "sgd": keras.optimizers.SGD,
        "rmsprop": keras.optimizers.RMSprop,
        "adagrad": keras.optimizers.Adagrad,
        "ftrl": keras.optimizers.Ftrl,
    }
    return classes[name](learning_rate=learning_rate)


class MaxSteps(keras.callbacks.Callback):
    """Stop training once ``max_steps`` optimizer steps have run in total."""

    def __init__(self, max_steps: int):
        super().__init__()
        self.max_steps = max_steps

    def on_train_batch_end(self, batch, logs=None):
        if int(self.model.optimizer.iterations.numpy()) >= self.max_steps:
            self.model.stop_training = True
