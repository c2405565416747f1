"""applied_ml: Keras-first applied modelling with scikit-learn estimators.

Importing the package is cheap: estimators are loaded on first access, so
TensorFlow is imported only when a model is actually used.
"""

import importlib
import os

# Keras reads its backend once, at its first import; applied_ml models are
# TensorFlow models (SavedModel export, tf.distribute), so ask for that backend
# unless the user already chose one.
os.environ.setdefault("KERAS_BACKEND", "tensorflow")

__version__ = "0.1.0"

_LAZY = {
    "EmbeddingDebiaser": "applied_ml.text",
    "FaceRecognizer": "applied_ml.vision",
    "ImageClassifier": "applied_ml.vision",
    "ImageSegmenter": "applied_ml.vision",
    "LanguageModel": "applied_ml.text",
    "NGramLanguageModel": "applied_ml.text",
    "SentimentClassifier": "applied_ml.text",
    "ObjectDetector": "applied_ml.vision",
    "TabularClassifier": "applied_ml.tabular",
    "TabularRegressor": "applied_ml.tabular",
    "WordEmbeddings": "applied_ml.text",
}

__all__ = sorted(_LAZY)


def __getattr__(name: str):
    if name in _LAZY:
        return getattr(importlib.import_module(_LAZY[name]), name)
    raise AttributeError(f"module 'applied_ml' has no attribute {name!r}")


def __dir__():
    return sorted([*globals(), *_LAZY])
