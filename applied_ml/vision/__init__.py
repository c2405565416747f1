"""Image models: backbones with their own preprocessing, classification, detection."""

from applied_ml.vision._nms import per_class_nms
from applied_ml.vision.backbones import imagenet_class_names, load_backbone
from applied_ml.vision.classification import ImageClassifier
from applied_ml.vision.detection import ObjectDetector
from applied_ml.vision.detection_plots import plot_detections, plot_pr_curves

__all__ = [
    "ImageClassifier",
    "ObjectDetector",
    "imagenet_class_names",
    "load_backbone",
    "per_class_nms",
    "plot_detections",
    "plot_pr_curves",
]
