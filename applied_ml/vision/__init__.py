"""Image models: backbones that carry their own preprocessing, classification."""

from applied_ml.vision.backbones import imagenet_class_names, load_backbone
from applied_ml.vision.classification import ImageClassifier
from applied_ml.vision.detection import ObjectDetector

__all__ = ["ImageClassifier", "ObjectDetector", "imagenet_class_names", "load_backbone"]
