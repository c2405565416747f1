"""Image models: backbones that carry their own preprocessing, classification."""

from applied_ml.vision.backbones import imagenet_class_names, load_backbone
from applied_ml.vision.classification import ImageClassifier

__all__ = ["ImageClassifier", "imagenet_class_names", "load_backbone"]
