"""Image models: backbones with their own preprocessing, classification, detection,
segmentation, faces."""

from applied_ml.vision._iou import segmentation_scores
from applied_ml.vision._nms import per_class_nms
from applied_ml.vision.backbones import imagenet_class_names, load_backbone
from applied_ml.vision.classification import ImageClassifier
from applied_ml.vision.detection import ObjectDetector
from applied_ml.vision.detection_plots import plot_detections, plot_pr_curves
from applied_ml.vision.face_plots import plot_matches
from applied_ml.vision.faces import FaceRecognizer
from applied_ml.vision.folders import list_images, read_image_folder, read_mask_folder
from applied_ml.vision.segmentation import ImageSegmenter
from applied_ml.vision.segmentation_plots import plot_masks
from applied_ml.vision.triplet import TripletLoss

__all__ = [
    "FaceRecognizer",
    "ImageClassifier",
    "ImageSegmenter",
    "ObjectDetector",
    "imagenet_class_names",
    "list_images",
    "load_backbone",
    "per_class_nms",
    "plot_detections",
    "plot_masks",
    "plot_matches",
    "plot_pr_curves",
    "read_image_folder",
    "read_mask_folder",
    "segmentation_scores",
    "TripletLoss",
]
