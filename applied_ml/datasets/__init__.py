"""Offline loaders of real data that installs from the package registries."""

from applied_ml.datasets._box_files import (
    load_yolo_folder,
    read_coco_json,
    read_voc_xml,
    read_yolo_labels,
    write_coco_json,
    write_voc_xml,
    write_yolo_labels,
)
from applied_ml.datasets._faces import load_att_faces
from applied_ml.datasets._images import FASHION_MNIST_CLASSES, load_fashion_mnist
from applied_ml.datasets._scenes import make_scenes
from applied_ml.datasets._tabular import load_fair, load_penguins
from applied_ml.datasets._text import (
    load_fortunes,
    load_hamlet,
    load_rotten_tomatoes,
)
from applied_ml.datasets._word_benchmarks import load_weat_word_sets, word_benchmark

__all__ = [
    "FASHION_MNIST_CLASSES",
    "load_att_faces",
    "load_fair",
    "load_fashion_mnist",
    "load_fortunes",
    "load_hamlet",
    "load_penguins",
    "load_rotten_tomatoes",
    "load_weat_word_sets",
    "load_yolo_folder",
    "make_scenes",
    "read_coco_json",
    "read_voc_xml",
    "read_yolo_labels",
    "word_benchmark",
    "write_coco_json",
    "write_voc_xml",
    "write_yolo_labels",
]
