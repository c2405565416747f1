"""The task contract: the hooks a task fills in, with their defaults.

:class:`TaskHooks` declares every hook once. ``KerasEstimator`` (in
``applied_ml.base``) runs the lifecycle around them and documents the
contract; a concrete task class that lacks one of ``REQUIRED_HOOKS`` is
refused when it is defined.
"""

import keras
import numpy as np
import tensorflow as tf

from applied_ml._fold import fold_batch_norm
from applied_ml.data import FitData, read_batches, shuffled_batches

# Hooks without a usable default: a concrete task class that lacks one is
# refused when the class is defined, not deep inside ``fit``.
REQUIRED_HOOKS = (
    "_prepare_inputs",
    "_learn_meta",
    "_build_model",
    "_loss",
    "_input_signature",
    "_encode",
    "_decode",
)


class TaskHooks:
    """Mixin of ``KerasEstimator``: stubs of the required hooks, defaults of the rest.

    The defaults call into the estimator's machinery (``_run_fit``,
    ``_outputs``, ``_takes_targets``, ``batch_size``, the fit's seed).
    """

    def _prepare_inputs(self, X, *, reset: bool):
        """Validate in-memory ``X``; return prepared inputs (samples first)."""
        raise NotImplementedError

    def _learn_meta(self, inputs, targets) -> dict:
        """Facts the model is built from, learned on the training split."""
        raise NotImplementedError

    def _build_model(self, meta: dict) -> keras.Model:
        """The uncompiled Keras model for ``meta``."""
        raise NotImplementedError

    def _loss(self):
        """The Keras loss of the model."""
        raise NotImplementedError

    def _input_signature(self):
        """``tf.TensorSpec`` structure of a batch of prepared inputs."""
        raise NotImplementedError

    def _encode(self, inputs, targets, *, training: bool):
        """A batch of prepared inputs and raw targets to model inputs, targets."""
        raise NotImplementedError

    def _decode(self, raw) -> dict:
        """Raw model outputs to a dict of named output tensors."""
        raise NotImplementedError

    def _prepare_targets(self, y, *, reset: bool):
        """Validate ``y``; by default the task takes none."""
        if y is not None:
            raise ValueError(
                f"{type(self).__name__} learns from X alone; `y` must be None. "
                f"Received: y of type {type(y).__name__}"
            )
        return None

    def _match_targets(self, inputs, targets) -> None:
        """Check prepared targets against their prepared inputs (no check)."""

    def _metrics(self) -> list:
        return []

    def _target_weights(self, model_targets):
        """Per-example weights derived from the targets (None: unweighted)."""
        return None

    def _batch(self, dataset, *, training: bool):
        """Batch a dataset of examples: seeded shuffle when training."""
        return shuffled_batches(
            dataset, self.batch_size, shuffle=training, seed=self._fit_seed
        )

    def _dataset_inputs(self, features):
        """A batch of a user's ``tf.data`` features as prepared inputs."""
        return features

    def _learn_meta_from_dataset(self, dataset) -> dict:
        """Learn the meta from the training batches of a ``tf.data`` input."""
        if self._takes_targets():
            features, targets = read_batches(dataset, (0, 1))
            targets = self._prepare_targets(targets, reset=True)
        else:
            (features,), targets = read_batches(dataset, (0,)), None
        inputs = self._prepare_inputs(features, reset=True)
        return self._learn_meta(inputs, targets)

    def _join(self, outputs: list[dict]) -> dict:
        """Assemble the outputs of consecutive prediction chunks."""
        return {k: np.concatenate([o[k] for o in outputs]) for k in outputs[0]}

    def _serving_signature(self):
        """Input signature of the ``serving_default`` endpoint."""
        return self._input_signature()

    def _serving_inputs(self, served):
        """Served raw inputs as prepared inputs (identity by default)."""
        return served

    def _endpoints(self) -> dict:
        """Serving endpoints: name to ``(function, input signature)``."""

        def serve(served):
            return self._outputs(self._serving_inputs(served))

        return {"serving_default": (serve, self._serving_signature())}

    def _export_resources(self) -> list:
        """Layers and resources the endpoints use besides the model (tracked by
        ``export``), such as a lookup layer made after training."""
        return []

    def _phases(self) -> tuple:
        """Names of the training phases, run in order."""
        return ("train",)

    def _fit_phase(self, phase: str, data: FitData) -> dict:
        """Run one training phase; return its per-epoch history."""
        return self._run_fit(
            self.model_,
            data.train,
            data.validation,
            self.epochs,
            data.steps_per_epoch,
            phase=phase,
        )

    def _after_fit(self, data: FitData) -> None:
        """Hook run after training (threshold tuning and the like)."""

    def _sample_images(self, inputs, targets) -> list:
        """Images of the predictions of ``model_`` for a few prepared examples.

        ``inputs`` and ``targets`` are the first rows (at most
        ``applied_ml._tensorboard.N_SAMPLES``) of the prepared validation
        split, or of the training data without one; ``targets`` is None for
        tasks without targets. Called at the end of every epoch when
        ``log_dir`` is set; returns a list of
        ``applied_ml._tensorboard.SampleImage`` (none by default).
        """
        return []

    def _post_restore(self) -> None:
        """Rebuild derived state after fit, unpickling and ``load``."""
        # predict and export run the model with its normalizations folded in
        self._inference_model = fold_batch_norm(self.model_)
        self._predict_fn = tf.function(
            _Inference(self),
            input_signature=[self._input_signature()],
            # no Python control flow to convert: without AutoGraph the first
            # trace does not re-read the task's source from disk
            autograph=False,
        )


class _Inference:
    """An estimator's prepared inputs to named outputs, as a callable object.

    TensorFlow counts traces per Python code object: closures made afresh for
    every fitted model would share one count and trip its "frequent retracing"
    warning, although each model traces once. An instance is its own key.
    """

    def __init__(self, estimator):
        self.estimator = estimator

    def __call__(self, inputs):
        return self.estimator._outputs(inputs)
