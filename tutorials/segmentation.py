"""Semantic segmentation of Fashion-MNIST scenes: ImageSegmenter end to end.

Generates semi-synthetic scenes (real Fashion-MNIST silhouettes pasted on
real photos and textures, with an exact class for every pixel), trains a
U-Net on a pretrained EfficientNet-Lite0 encoder for a few minutes on the
CPU, reports IoU and Dice on held-out scenes, draws true and predicted masks
over the images, exports a SavedModel that takes uint8 images of any size,
and serves two test scenes from a fresh Python process that imports only
TensorFlow.

Run from anywhere: ``python tutorials/segmentation.py [--minutes M]`` (needs
Debian's ``dataset-fashion-mnist``, which ``make test`` installs where it
can). Writes ``outputs/segmentation_scenes.png`` and
``saved_models/segmentation/<version>/``.
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
from applied_ml.vision import ImageSegmenter, plot_masks  # noqa: E402

ROOT = Path(__file__).resolve().parent.parent
OUTPUTS = ROOT / "outputs"
MODEL_FOLDER = ROOT / "saved_models" / "segmentation"
SEED = 0
# mask value -> name: 0 is the background, an item's pixels hold its class + 1
NAMES = {0: "background"} | {i + 1: n for i, n in enumerate(FASHION_MNIST_CLASSES)}

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
    print(json.dumps({
        "applied_ml_imported": "applied_ml" in sys.modules,
        "masks": out["mask"].numpy().tolist(),
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
    images, _, masks = make_scenes(args.scenes, image_size=128, seed=SEED)
    test_images, _, test_masks = make_scenes(
        300, image_size=128, split="test", seed=SEED + 1
    )
    share = (masks == 0).mean()
    print(f"train: {len(images)} scenes; test: 300; masks {masks.shape[1:]}")
    print(f"background is {share:.0%} of the training pixels")

    section(f"Training ({args.minutes:g} min on the CPU, pretrained Lite0 encoder)")
    segmenter = ImageSegmenter(
        encoder="efficientnet_lite0",  # ImageNet weights, read offline
        loss="ce+dice",  # Dice weighs every class alike, whatever its pixels
        epochs=1000,  # the time budget below ends training
        validation_fraction=0,
        early_stopping=False,
        callbacks=[TimeBudget(args.minutes)],  # cosine decay over the budget
        random_state=SEED,
    )
    t0 = time.perf_counter()
    segmenter.fit(images, masks)
    print(f"{segmenter.n_iter_} epochs in {time.perf_counter() - t0:.0f}s")

    section("Held-out metrics")
    metrics = segmenter.evaluate(test_images, test_masks)
    for name in ("mean_iou", "mean_iou_foreground", "foreground_iou", "mean_dice"):
        print(f"{name:>20}: {metrics[name]:.4f}")
    print(f"{'pixel_accuracy':>20}: {metrics['pixel_accuracy']:.4f}")
    for label, iou in metrics["per_class_iou"].items():
        print(f"{NAMES[label]:>20} IoU {iou:.3f}")

    section("Figure")
    grid = plot_masks(
        test_images[:6],
        segmenter.predict(test_images[:6]),
        OUTPUTS / "segmentation_scenes.png",
        truth=test_masks[:6],
        class_names=NAMES,
    )
    print(f"wrote {Path(grid).relative_to(ROOT)}")

    section("Export")
    export_path = segmenter.export(path=MODEL_FOLDER)
    print(f"SavedModel written to {Path(export_path).relative_to(ROOT)}")

    section("Serving from plain TensorFlow (fresh process)")
    # Two scenes at 1.5 times their size: the SavedModel letterboxes itself,
    # and its masks come back at the size of the images it was given.
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
    served_masks = np.array(served["masks"])
    local = segmenter.predict(big)
    print(f"served masks of shape {served_masks.shape} for images of {big.shape}")
    same = np.array_equal(served_masks, local)
    print(f"same as segmenter.predict in this process: {same}")

    section("Done")
    print(f"total {time.perf_counter() - start:.1f}s")


if __name__ == "__main__":
    main()
