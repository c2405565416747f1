"""ToyAutoencoder: the worked example of a task (see CONTRIBUTING.md).

It learns from ``X`` alone, has a per-row output of varying length
(``explain``) and a second serving endpoint (``embed``). It is listed nowhere:
defining the class registers it, so ``ToyAutoencoder.load`` works once this
module is imported.
"""

import keras
import numpy as np
import tensorflow as tf
from sklearn.utils.validation import check_is_fitted, validate_data

from applied_ml.base import KerasEstimator


class ToyAutoencoder(KerasEstimator):
    """Dense autoencoder of numeric rows (a test and documentation example).

    Parameters
    ----------
    code_size : int, default=2
        Width of the code layer.
    optimizer, learning_rate, epochs, max_steps, batch_size, early_stopping,
    patience, validation_fraction, warm_start, checkpoint_dir, log_dir, callbacks,
    strategy, random_state, verbose
        As in the package's estimators.
    """

    def __init__(
        self,
        *,
        code_size=2,
        optimizer="adam",
        learning_rate=0.01,
        epochs=5,
        max_steps=None,
        batch_size=16,
        early_stopping=False,
        patience=3,
        validation_fraction=0.0,
        warm_start=False,
        checkpoint_dir=None,
        log_dir=None,
        callbacks=None,
        strategy="auto",
        random_state=None,
        verbose=0,
    ):
        self.code_size = code_size
        self.optimizer = optimizer
        self.learning_rate = learning_rate
        self.epochs = epochs
        self.max_steps = max_steps
        self.batch_size = batch_size
        self.early_stopping = early_stopping
        self.patience = patience
        self.validation_fraction = validation_fraction
        self.warm_start = warm_start
        self.checkpoint_dir = checkpoint_dir
        self.log_dir = log_dir
        self.callbacks = callbacks
        self.strategy = strategy
        self.random_state = random_state
        self.verbose = verbose

    def __sklearn_tags__(self):
        tags = super().__sklearn_tags__()
        tags.target_tags.required = False  # fit(X); the base refuses a y
        return tags

    # ------------------------------------------------------------- task hooks
    def _prepare_inputs(self, X, *, reset: bool) -> np.ndarray:
        return validate_data(self, X, reset=reset, dtype="float32")

    def _learn_meta(self, inputs, targets) -> dict:
        rows = inputs.astype("float64")
        std = rows.std(axis=0)
        return {
            "n_features": int(rows.shape[1]),
            "mean": rows.mean(axis=0).tolist(),
            "std": np.where(std > 0, std, 1.0).tolist(),
        }

    def _build_model(self, meta: dict) -> keras.Model:
        variance = [s**2 for s in meta["std"]]
        rows = keras.Input((meta["n_features"],), name="rows")
        scaled = keras.layers.Normalization(
            mean=meta["mean"], variance=variance, name="standardize"
        )(rows)
        code = keras.layers.Dense(self.code_size, name="code")(scaled)
        decoded = keras.layers.Dense(meta["n_features"], name="decoder")(code)
        reconstruction = keras.layers.Normalization(
            mean=meta["mean"], variance=variance, invert=True, name="unstandardize"
        )(decoded)
        # `_decode` sees only the model's outputs, so the model hands its input
        # through as a second output; its target is itself, so its loss is 0.
        echo = keras.layers.Identity(name="echo")(rows)
        return keras.Model(rows, [reconstruction, echo], name="toy_autoencoder")

    def _loss(self):
        return "mse"

    def _input_signature(self):
        return tf.TensorSpec([None, self.n_features_in_], tf.float32)

    def _encode(self, inputs, targets, *, training: bool):
        # the target of every row is the row itself (twice: see the echo output)
        return inputs, (inputs, inputs)

    def _decode(self, raw) -> dict:
        reconstruction, rows = raw
        std = tf.constant(self.meta_["std"], tf.float32)
        squared = tf.square((reconstruction - rows) / std)  # standardized units
        over = squared > tf.constant(self.threshold_, tf.float32)
        n_top = tf.reduce_sum(tf.cast(over, tf.int32), axis=1)
        order = tf.argsort(
            tf.where(over, squared, -1.0), axis=1, direction="DESCENDING"
        )
        width = tf.reduce_max(tf.concat([n_top, [0]], axis=0))
        top = tf.where(
            tf.range(width)[tf.newaxis, :] < n_top[:, tf.newaxis],
            order[:, :width],
            -1,
        )
        return {
            "reconstruction": reconstruction,
            "errors": tf.reduce_mean(squared, axis=1),
            # features over their threshold, worst first, padded with -1 to the
            # widest row of the batch (so the width varies between batches)
            "top_features": top,
            "n_top": n_top,
        }

    def _join(self, outputs: list[dict]) -> dict:
        width = max(o["top_features"].shape[1] for o in outputs)
        padded = [
            np.pad(
                o["top_features"],
                ((0, 0), (0, width - o["top_features"].shape[1])),
                constant_values=-1,
            )
            for o in outputs
        ]
        rest = [{k: v for k, v in o.items() if k != "top_features"} for o in outputs]
        joined = super()._join(rest)
        return {**joined, "top_features": np.concatenate(padded)}

    def _after_fit(self, data) -> None:
        # per feature: the mean standardized squared error on the training rows
        rows = data.train_examples["inputs"]
        reconstruction, _ = self.model_(rows, training=False)
        squared = ((np.asarray(reconstruction) - rows) / self.meta_["std"]) ** 2
        self.threshold_ = squared.astype("float64").mean(axis=0)

    def _endpoints(self) -> dict:
        spec = tf.TensorSpec([None, self.n_features_in_], tf.float32, name="rows")
        signature = {"rows": spec}
        code_model = self._code_model()

        def serve(served):
            return self._outputs(served["rows"])

        def embed(served):
            return {"codes": code_model(served["rows"], training=False)}

        return {"serving_default": (serve, signature), "embed": (embed, signature)}

    def _code_model(self) -> keras.Model:
        return keras.Model(self.model_.input, self.model_.get_layer("code").output)

    # ------------------------------------------------------------- public API
    def predict(self, X) -> np.ndarray:
        """Reconstruction of each row."""
        return self._predict_outputs(X)["reconstruction"]

    def transform(self, X) -> np.ndarray:
        """Code of each row, shape (n_samples, code_size)."""
        check_is_fitted(self)
        rows = self._prepare_inputs(X, reset=False)
        return np.asarray(self._code_model()(rows, training=False))

    def score(self, X, y=None) -> float:
        """Negative mean reconstruction error (standardized units)."""
        return -float(np.mean(self._predict_outputs(X)["errors"]))

    def explain(self, X) -> list:
        """Per row, the features over their error threshold, worst first.

        Returns a list with one integer array per row; the arrays differ in
        length (rows that reconstruct well have none).
        """
        outputs = self._predict_outputs(X)
        pairs = zip(outputs["top_features"], outputs["n_top"], strict=True)
        return [top[:n] for top, n in pairs]
