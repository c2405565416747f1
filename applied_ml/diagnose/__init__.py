"""What to try next: bias, variance, data mismatch, learning curves, mistakes.

The recipe of the Deep Learning Specialization, as tools over applied_ml
(and any scikit-learn) estimators:

- :func:`diagnose`: human, training, train-dev and dev errors; avoidable
  bias, variance and data mismatch; the dominant problem and what to try.
- :func:`diagnose_history`: divergence, too high a learning rate, plateau,
  overfitting and stopping too early, read from a Keras history.
- :func:`lr_find`: the learning-rate range test.
- :func:`learning_curve`: score against training size; would more data help?
- :func:`confused_pairs` and :func:`worst_mistakes`: error analysis of a
  classifier.
"""

from applied_ml.diagnose.bias_variance import diagnose
from applied_ml.diagnose.diagnosis import Diagnosis
from applied_ml.diagnose.error_analysis import confused_pairs, worst_mistakes
from applied_ml.diagnose.finding import Finding
from applied_ml.diagnose.history import diagnose_history
from applied_ml.diagnose.learning_curves import LearningCurveResult, learning_curve
from applied_ml.diagnose.lr_finder import LRFindResult, lr_find

__all__ = [
    "Diagnosis",
    "Finding",
    "LRFindResult",
    "LearningCurveResult",
    "confused_pairs",
    "diagnose",
    "diagnose_history",
    "learning_curve",
    "lr_find",
    "worst_mistakes",
]
