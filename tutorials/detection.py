"""Object detection on scenes of Fashion-MNIST items: ObjectDetector end to end.

Generates semi-synthetic scenes (real Fashion-MNIST silhouettes pasted on
real photos and textures, with exact boxes), trains a YOLO-style detector on a
pretrained EfficientNet-Lite0 trunk for a few minutes on the CPU, reports COCO
metrics on held-out scenes, draws detections and per-class precision-recall
curves, exports a SavedModel that takes uint8 images of any size, and serves
two test scenes from a fresh Python process that imports only TensorFlow.

Run from anywhere: ``python tutorials/detection.py [--minutes M]`` (needs
Debian's ``dataset-fashion-mnist``, which ``make test`` installs where it
can). Writes ``outputs/detection_*.png`` and ``saved_models/detection/<version>/``.
"""

import argparse
import json
import os
import subprocess
import sys
import textwrap
import time
from pathlib import Path

os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "2")

import numpy as np  # noqa: E402

from applied_ml.callbacks import TimeBudget  # noqa: E402
from applied_ml.datasets import FASHION_MNIST_CLASSES, make_scenes  # noqa: E402
from applied_ml.vision import (  # noqa: E402
    ObjectDetector,
    plot_detections,
    plot_pr_curves,
)

ROOT = Path(__file__).resolve().parent.parent
OUTPUTS = ROOT / "outputs"
MODEL_FOLDER = ROOT / "saved_models" / "detection"
SEED = 0

# Runs in a fresh interpreter: plain TensorFlow, no applied_ml. Reads the
# SavedModel path and uint8 images (JSON lists) from stdin.
SERVE = textwrap.dedent(
    """
    import json, sys
    import numpy as np
    import tensorflow as tf

    request = json.loads(sys.stdin.read())
    serve = tf.saved_model.load(request["path"]).signatures["serving_default"]
    out = serve(images=tf.constant(np.array(request["images"], dtype="uint8")))
    count = out["num_detections"].numpy()
    print(json.dumps({
        "applied_ml_imported": "applied_ml" in sys.modules,
        "boxes": [b[:n].tolist() for b, n in zip(out["boxes"].numpy(), count)],
        "labels": [lab[:n].tolist() for lab, n in zip(out["labels"].numpy(), count)],
    }))
    """
)


def section(title: str) -> None:
    print(f"\n== {title} " + "=" * max(0, 70 - len(title)))


def main(argv=None) -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--minutes", type=float, default=3.0, help="training budget")
    parser.add_argument("--scenes", type=int, default=2000, help="training scenes")
    args = parser.parse_args(argv)
    start = time.perf_counter()

    section("Data")
    images, targets, _ = make_scenes(args.scenes, image_size=128, seed=SEED)
    test_images, test_targets, _ = make_scenes(
        300, image_size=128, split="test", seed=SEED + 1
    )
    n_boxes = sum(len(t["boxes"]) for t in targets)
    print(f"train: {len(images)} scenes with {n_boxes} boxes; test: 300 scenes")
    print(f"image shape {images.shape[1:]}; one target: {targets[0]}")

    section(f"Training ({args.minutes:g} min on the CPU, pretrained Lite0 trunk)")
    detector = ObjectDetector(
        backbone="efficientnet_lite0",  # ImageNet weights, read offline
        epochs=1000,  # the time budget below ends training
        validation_fraction=0,
        early_stopping=False,
        callbacks=[TimeBudget(args.minutes)],  # cosine decay over the budget
        random_state=SEED,
    )
    t0 = time.perf_counter()
    detector.fit(images, targets)
    print(f"{detector.n_iter_} epochs in {time.perf_counter() - t0:.0f}s")
    print(f"anchors (w, h): {detector.anchors_.round(1).tolist()}")
    print(f"mean best IoU of a training box with an anchor: {detector.anchor_iou_:.3f}")

    section("Held-out COCO metrics")
    metrics = detector.evaluate(test_images, test_targets)
    for name in ("map_50", "map", "map_75", "recall"):
        print(f"{name:>8}: {metrics[name]:.4f}")
    for label, ap in metrics["per_class_ap"].items():
        print(f"{FASHION_MNIST_CLASSES[label]:>12} AP@[.5:.95] {ap:.3f}")

    section("Figures")
    results = detector.predict(test_images[:12])
    grid = plot_detections(
        test_images[:12],
        results,
        OUTPUTS / "detection_scenes.png",
        truth=test_targets[:12],
        class_names=FASHION_MNIST_CLASSES,
    )
    curves = plot_pr_curves(
        test_targets,
        detector.predict(test_images, score_threshold=0.001),
        OUTPUTS / "detection_pr_curves.png",
        class_names=FASHION_MNIST_CLASSES,
    )
    for png in (grid, curves):
        print(f"wrote {Path(png).relative_to(ROOT)}")

    section("Export")
    export_path = detector.export(path=MODEL_FOLDER)
    print(f"SavedModel written to {Path(export_path).relative_to(ROOT)}")

    section("Serving from plain TensorFlow (fresh process)")
    # Two scenes at 1.5 times their size: the SavedModel letterboxes itself,
    # and its boxes come back in the pixels of the images it was given.
    big = np.array(
        [
            np.kron(image, np.ones((3, 3, 1), "uint8"))[::2, ::2]
            for image in test_images[:2]
        ]
    )
    result = subprocess.run(
        [sys.executable, "-c", SERVE],
        input=json.dumps({"path": os.fspath(export_path), "images": big.tolist()}),
        capture_output=True,
        text=True,
        check=False,
    )
    if result.returncode != 0:
        sys.exit(f"serving process failed:\n{result.stderr}")
    served = json.loads(result.stdout.strip().splitlines()[-1])
    if served["applied_ml_imported"]:
        sys.exit("serving process imported applied_ml; it must need TensorFlow only")
    local = detector.predict(big)
    for i, (boxes, labels) in enumerate(
        zip(served["boxes"], served["labels"], strict=True)
    ):
        print(f"scene {i}: served {len(boxes)} boxes, labels {labels}")
        served_boxes = np.reshape(boxes, (-1, 4))
        same = np.allclose(served_boxes, local[i]["boxes"], atol=1e-3) and labels == (
            local[i]["labels"].tolist()
        )
        print(f"  same as detector.predict in this process: {same}")

    section("Done")
    print(f"total {time.perf_counter() - start:.1f}s")


if __name__ == "__main__":
    main()
