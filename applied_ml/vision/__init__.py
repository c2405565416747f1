"""Image models: backbones that carry their own preprocessing."""

from applied_ml.vision.backbones import imagenet_class_names, load_backbone

__all__ = ["imagenet_class_names", "load_backbone"]
