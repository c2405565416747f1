"""Docstring sections shared by several estimators (kept in one place)."""

import re

TRAINING_PARAMETERS = """\
    optimizer : {{"adam", "adamw", "sgd", "momentum", "rmsprop", "adagrad", "ftrl"}}, \
default="{optimizer}"
        Optimizer name.
    learning_rate : float, default={learning_rate}
        Optimizer step size.
    epochs : int, default={epochs}
        Maximum passes over the training data.
    max_steps : int, optional
        Train for this many optimizer steps in total instead of ``epochs``.
    batch_size : int, default={batch_size}
        Samples per gradient step (global batch under a distribution strategy).
    early_stopping : bool, default={early_stopping}
        Stop when the validation loss has not improved for ``patience``
        epochs and restore the best weights.
    patience : int, default={patience}
        Epochs without improvement before early stopping.
    validation_fraction : float, default={validation_fraction}
        Share of the training data held out for validation (stratified for
        classifiers, by person for faces); 0 disables the split."""

RUN_PARAMETERS = """\
    warm_start : bool, default=False
        Continue training the fitted model on the next ``fit`` call.
    checkpoint_dir : str, optional
        Folder where training is backed up after every epoch: an interrupted
        fit restarted with the same arguments and data continues from its
        last epoch. Each training phase has its own sub-folder. Backups are
        written atomically and deleted when the fit completes. A backup of
        another fit (other parameters, data or model) is refused with a
        ValueError, never resumed. The folder is locked while a fit trains:
        fits that run at the same time (e.g. ``GridSearchCV`` with
        ``n_jobs > 1``) need one folder each.
    log_dir : str or os.PathLike, optional
        Folder for TensorBoard logs (``tensorboard --logdir <log_dir>``). Each
        training phase writes two runs, ``<phase>/train`` and
        ``<phase>/validation``, with the loss, every metric and the learning
        rate after each epoch; steps count epochs over the whole fit, and
        over warm starts. Trained on in-memory data, the image classifier,
        detector and segmenter also log their predictions for the first 4
        validation images (training images without a split) after each
        epoch. None writes nothing; under ``strategy="multi_worker"`` only
        the chief writes.
    callbacks : tuple of keras.callbacks.Callback, optional
        Extra Keras callbacks for ``fit``.
    strategy : {{"auto", "mirrored", "one_device", "multi_worker"}} or \
tf.distribute.Strategy, default="auto"
        Distribution strategy to build and train under. ``"multi_worker"``
        trains on every worker of the cluster in ``TF_CONFIG`` (see
        :mod:`applied_ml.cluster`); only the chief then saves and exports.
    random_state : int, RandomState instance or None, default=None
        Seed for weights, shuffling and the validation split; an int makes
        ``fit`` reproducible on CPU.
    verbose : {{0, 1, 2}}, default=0
        0 is silent, 1 shows Keras' progress bar, 2 one line per epoch."""

TABULAR_PARAMETERS = """\
    features : list of feature specs, optional
        ``NumericFeature``, ``BucketizedFeature``, ``CategoricalFeature``,
        ``CrossedFeature`` and ``PassthroughFeature`` objects. When None, every
        column is used: numeric and boolean columns as ``NumericFeature``,
        others as ``CategoricalFeature``.
    model : {{"linear", "dnn", "wide_deep"}}, default="dnn"
        A linear model, a feed-forward network, or both summed (wide part:
        every feature, categories one-hot; deep part: every feature but the
        crosses, categories above 16 buckets embedded).
    hidden_units : tuple of int, default=(64, 32)
        Hidden layer widths (``"dnn"``, ``"wide_deep"``).
    activation : str, default="relu"
        Hidden-layer activation.
    dropout : float, default={dropout}
        Dropout rate after each hidden layer.
    batch_norm : bool, default=False
        Batch normalization in each hidden layer.
    l1 : float, default=0.0
        L1 regularization, applied as a proximal step so weights become
        exactly zero.
    l2 : float, default=0.0
        L2 regularization of all kernels."""

FITTED_ATTRIBUTES = """\
    model_ : keras.Model
        The trained Keras model (raw columns in).
    history_ : dict
        Per-epoch training (and validation) loss and metrics.
    n_iter_ : int
        Number of epochs run.
    feature_specs_ : tuple
        Feature specs used (inferred ones when ``features`` is None).
    input_columns_ : list of dict
        Each raw column used: its name, model input name and kind.
    meta_ : dict
        What the model builder learned from the training data.
    n_features_in_ : int
        Number of columns seen in ``fit``.
    feature_names_in_ : ndarray
        Column names seen in ``fit`` (DataFrames with string column names)."""


# Defaults the shared sections state unless an estimator passes its own.
DEFAULTS = {
    "optimizer": "adam",
    "learning_rate": 0.01,
    "epochs": 200,
    "patience": 10,
    "dropout": 0.0,
    "batch_size": 32,
    "validation_fraction": 0.1,
    "early_stopping": True,
}


def fill(doc: str, **defaults) -> str:
    """Insert the shared sections, stating the estimator's own ``defaults``.

    ``batch_size=None`` leaves the ``batch_size`` entry out, for estimators
    whose batches are made another way.
    """
    values = {**DEFAULTS, **defaults}
    training = TRAINING_PARAMETERS.format(**values)
    if values["batch_size"] is None:
        training = re.sub(r"    batch_size : .*\n.*\n", "", training)
    return doc.format(
        training=training,
        run=RUN_PARAMETERS.format(),
        tabular=TABULAR_PARAMETERS.format(**values),
        fitted=FITTED_ATTRIBUTES,
    )
