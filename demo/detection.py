"""Detection: Fashion-MNIST items pasted on real photos, found by a YOLO-style head."""

import os

import numpy as np

from applied_ml.datasets import FASHION_MNIST_CLASSES, make_scenes
from applied_ml.vision import ObjectDetector, plot_detections
from demo._common import SEED, export_fresh, metric, serve_one, step_budget
from demo.parts import Skipped

TITLE = "Object detection: clothing in scenes"
N_TRAIN, N_TEST = 800, 150
STEPS = 200  # training batches: the same work on a busy machine as a quiet one


def run(folder) -> dict:
    """Train, evaluate, plot, export and serve; return the part's result record."""
    try:
        images, targets, _ = make_scenes(N_TRAIN, image_size=128, seed=SEED)
    except (FileNotFoundError, ModuleNotFoundError) as error:
        raise Skipped(f"{error} (`make data` installs Fashion-MNIST)") from None
    test_images, test_targets, _ = make_scenes(
        N_TEST, image_size=128, split="test", seed=SEED + 1
    )
    n_boxes = sum(len(t["boxes"]) for t in targets)
    print(f"  {N_TRAIN} training scenes ({n_boxes} boxes), {N_TEST} test scenes")
    detector = ObjectDetector(
        backbone="efficientnet_lite0",  # ImageNet weights, read offline
        freeze_backbone=True,  # 2.5x cheaper steps for nearly the same mAP here
        augmentation=None,  # 200 steps: plain scenes teach faster than augmented
        learning_rate=4e-3,  # for the short budget (mAP@0.5 0.55 vs 0.40)
        epochs=1000,
        validation_fraction=0,
        early_stopping=False,
        callbacks=[step_budget(STEPS)],  # warm-up, then cosine decay
        random_state=SEED,
    ).fit(images, targets)
    print(f"  {STEPS} steps ({detector.n_iter_} epochs)")
    scores = detector.evaluate(test_images, test_targets)

    shown = 6
    png = plot_detections(
        test_images[:shown],
        detector.predict(test_images[:shown]),
        folder / "scenes.png",
        truth=test_targets[:shown],
        class_names=FASHION_MNIST_CLASSES,
        columns=3,  # large enough to read the labels on the page
    )

    path = export_fresh(detector, folder)
    out = serve_one(path, images=test_images[:1])
    count = int(out["num_detections"][0])
    found = [
        f"{FASHION_MNIST_CLASSES[int(label)]} at {np.round(box).astype(int).tolist()}"
        for box, label in zip(
            out["boxes"][0][:count], out["labels"][0][:count], strict=True
        )
    ]
    truth = [FASHION_MNIST_CLASSES[int(i)] for i in test_targets[0]["labels"]]
    return {
        "title": TITLE,
        "data": f"make_scenes: {N_TRAIN} training and {N_TEST} test scenes of "
        "128 px, 1-4 items each, exact boxes",
        "model": "ObjectDetector: frozen EfficientNet-Lite0 trunk, anchors, "
        f"{STEPS} steps of 32 scenes",
        "metric": metric("mAP@0.5 (COCO-style)", scores["map_50"]),
        "also": [
            metric("mAP@[.5:.95]", scores["map"]),
            metric("recall", scores["recall"]),
        ],
        "pngs": [os.path.basename(png)],
        "serving": {
            "input": "one raw uint8 scene (128, 128, 3) (test scene 0)",
            "output": f"{count} boxes: {'; '.join(found) or 'none'}; "
            f"truth: {', '.join(truth)}",
        },
    }
