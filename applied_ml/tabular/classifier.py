"""TabularClassifier: binary, multiclass and multilabel classification of tables."""

import numpy as np
from sklearn.base import ClassifierMixin

from applied_ml._classifier import ClassifierOutputsMixin
from applied_ml._docs import fill
from applied_ml.tabular._checks import check_finite_outputs
from applied_ml.tabular._estimator import TabularEstimator


class TabularClassifier(ClassifierMixin, ClassifierOutputsMixin, TabularEstimator):
    __doc__ = fill(
        """Classifier of tabular data with feature columns, as a Keras model.

    The model takes raw columns (numbers, strings, missing values): every
    preprocessing step (scaling, imputation, bucketizing, vocabulary lookup,
    hashing, crosses, embeddings) is a Keras layer learned in ``fit``, so the
    exported SavedModel serves raw rows.

    Parameters
    ----------
{tabular}
    threshold : float or "auto", default=0.5
        Decision threshold on the positive-class probability (binary) or on
        each label's probability (multilabel). ``"auto"`` (binary only) picks
        the threshold that maximizes F1 on the validation split.
{training}
    class_weight : dict, "balanced" or None, default=None
        Weights per class label, multiplied into the sample weights.
{run}

    Attributes
    ----------
    classes_ : ndarray
        Class labels (multilabel: label indices).
    threshold_ : float
        Decision threshold in use.
{fitted}

    Examples
    --------
    >>> from sklearn.datasets import load_breast_cancer
    >>> from applied_ml import TabularClassifier
    >>> X, y = load_breast_cancer(return_X_y=True, as_frame=True)
    >>> clf = TabularClassifier(random_state=0).fit(X, y)  # doctest: +SKIP
    >>> clf.predict_proba(X.iloc[:2]).shape  # doctest: +SKIP
    (2, 2)
    """
    )

    def __init__(
        self,
        *,
        features=None,
        model="dnn",
        hidden_units=(64, 32),
        activation="relu",
        dropout=0.0,
        batch_norm=False,
        l1=0.0,
        l2=0.0,
        threshold=0.5,
        optimizer="adam",
        learning_rate=0.01,
        epochs=200,
        max_steps=None,
        batch_size=32,
        early_stopping=True,
        patience=10,
        validation_fraction=0.1,
        class_weight=None,
        warm_start=False,
        checkpoint_dir=None,
        log_dir=None,
        callbacks=None,
        strategy="auto",
        random_state=None,
        verbose=0,
    ):
        self.features = features
        self.model = model
        self.hidden_units = hidden_units
        self.activation = activation
        self.dropout = dropout
        self.batch_norm = batch_norm
        self.l1 = l1
        self.l2 = l2
        self.threshold = threshold
        self.optimizer = optimizer
        self.learning_rate = learning_rate
        self.epochs = epochs
        self.max_steps = max_steps
        self.batch_size = batch_size
        self.early_stopping = early_stopping
        self.patience = patience
        self.validation_fraction = validation_fraction
        self.class_weight = class_weight
        self.warm_start = warm_start
        self.checkpoint_dir = checkpoint_dir
        self.log_dir = log_dir
        self.callbacks = callbacks
        self.strategy = strategy
        self.random_state = random_state
        self.verbose = verbose

    def _check_params(self) -> None:
        super()._check_params()
        self._check_threshold_params()

    def _check_outputs(self, probabilities: np.ndarray) -> None:
        check_finite_outputs(self, probabilities)

    def __sklearn_tags__(self):
        tags = super().__sklearn_tags__()
        tags.classifier_tags.multi_label = True
        return tags
