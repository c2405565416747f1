"""Semantic segmentation: ImageSegmenter against Ultralytics YOLO-seg, in one run.

On the 128x128 scenes (4,000 to train, 500 to test, 10 garment classes and
background), ours trains with each encoder for a wall-clock budget, and
Ultralytics ``yolov8n-seg`` trains from scratch for the same budget; both
sides' ``predict`` output is scored by
``applied_ml.vision.segmentation_scores`` (IoU pooled over every test pixel).
The peer's instance masks become a semantic map, the highest score winning
each pixel, at instance-score thresholds 0.1, 0.25 and 0.5; its best is
reported. Ultralytics runs in its own venv (``make bench-peers`` makes
``benchmarks/.venv-peers``), as a subprocess of this script
(``benchmarks/segmentation_peer.py``).

``--tasks coco128`` trains ours on the 100 masked coco128 ``train2017``
photos and scores the 100 masked ``val2017`` ones: every COCO panoptic
category is a class, ``0`` (unlabelled) counts as the background class, and
validation pixels of a category absent from the training masks count as
unlabelled.

Usage::

    .venv/bin/python benchmarks/segmentation.py [--quick] [--minutes 10]
        [--tasks scenes,coco128] [--encoders efficientnet_lite0,unet]
        [--no-peer]

Results go to ``outputs/segmentation-<task>.json`` and to stdout as markdown;
a grid of test scenes with predicted and true masks to
``outputs/segmentation-grid-<encoder>.png``; the Ultralytics dataset folder,
runs and log to ``outputs/segmentation/``.
"""

import json
import os
import time
from pathlib import Path

import numpy as np
from _common import (
    Snapshots,
    budget_parser,
    environment,
    markdown_table,
    predict_timing,
    run_ultralytics,
)
from PIL import Image

from applied_ml import ImageSegmenter
from applied_ml.callbacks import TimeBudget
from applied_ml.datasets import FASHION_MNIST_CLASSES, make_scenes
from applied_ml.vision import plot_masks, segmentation_scores

RESULTS = Path(__file__).resolve().parent.parent / "outputs"
WORK = RESULTS / "segmentation"
COCO128 = Path(os.environ.get("COCO128", "/work/shared/data/coco128"))
SEED = 0
MARKS = (2.0, 5.0)  # minutes at which the mean-IoU curve is read


# ------------------------------------------------------------------- data
def scene_task(n_train: int, n_test: int) -> dict:
    """Scenes as in the detection benchmark, with their semantic masks."""
    images, _, masks = make_scenes(n_train, 128, split="train", seed=SEED)
    test_images, _, test_masks = make_scenes(n_test, 128, split="test", seed=SEED + 1)
    return {
        "train": (images, masks),
        "test": (test_images, test_masks),
        "names": {0: "background", **dict(enumerate(FASHION_MNIST_CLASSES, 1))},
        "image_size": 128,
        # the scenes already place and size every object at random; geometric
        # augmentation on top slowed learning in the 10-minute budget
        "augmentation": ("flip",),
    }


def _coco_split(split: str) -> tuple[list, list]:
    folder = COCO128 / "semantic_segmentation" / "masks" / split
    images, masks = [], []
    for path in sorted(folder.glob("*.png")):
        photo = Image.open(COCO128 / "images" / split / f"{path.stem}.jpg")
        images.append(np.asarray(photo.convert("RGB")))
        masks.append(np.asarray(Image.open(path)))
    return images, masks


def coco128_task() -> dict:
    """coco128 photos with semantic masks: ``train2017`` and ``val2017``."""
    images, masks = _coco_split("train2017")
    test_images, test_masks = _coco_split("val2017")
    seen = np.unique(np.concatenate([np.unique(m) for m in masks]))
    unseen = sum(int((~np.isin(m, seen)).sum()) for m in test_masks)
    total = sum(m.size for m in test_masks)
    test_masks = [np.where(np.isin(m, seen), m, 0).astype(m.dtype) for m in test_masks]
    return {
        "train": (images, masks),
        "test": (test_images, test_masks),
        "names": None,
        "image_size": 256,
        "augmentation": ("flip", "scale", "translation"),
        "classes": len(seen),
        "unseen_pixel_share": unseen / total,
    }


def write_peer_dataset(folder: Path, task: dict) -> None:
    """PNG images and grey class maps, and a data.yaml, for the peer."""
    for split, (images, masks) in (("train", task["train"]), ("test", task["test"])):
        for kind in ("images", "masks"):
            (folder / kind / split).mkdir(parents=True, exist_ok=True)
        for i, (image, mask) in enumerate(zip(images, masks, strict=True)):
            Image.fromarray(image).save(folder / "images" / split / f"{i:05d}.png")
            Image.fromarray(mask.astype(np.uint8)).save(
                folder / "masks" / split / f"{i:05d}.png"
            )
    names = "".join(
        f"  {value - 1}: {name!r}\n"
        for value, name in task["names"].items()
        if value != 0
    )
    (folder / "data.yaml").write_text(
        f"path: {folder}\ntrain: images/train\nval: images/test\nnames:\n{names}"
    )


# -------------------------------------------------------------------- ours
def run_ours(task: dict, encoder: str, minutes: float) -> dict:
    (X, y), (X_test, y_test) = task["train"], task["test"]
    snapshots = Snapshots(MARKS)
    segmenter = ImageSegmenter(
        encoder=encoder,
        weights="imagenet" if encoder == "efficientnet_lite0" else None,
        image_size=task["image_size"],
        augmentation=task["augmentation"],
        epochs=100_000,  # the time budget ends training
        validation_fraction=0,
        early_stopping=False,
        random_state=SEED,
        callbacks=[TimeBudget(minutes), snapshots],
    )
    start = time.monotonic()
    segmenter.fit(X, y)
    fit_seconds = time.monotonic() - start
    steps = int(segmenter.model_.optimizer.iterations.numpy())
    result = {
        "encoder": encoder,
        "params": int(segmenter.model_.count_params()),
        "epochs": segmenter.n_iter_,
        "steps": steps,
        "fit_seconds": fit_seconds,
        "train_images_per_s": steps * segmenter.batch_size / snapshots.train_seconds,
        "checkpoint_times": {f"{k:g}": v for k, v in snapshots.times.items()},
        "final": segmenter.evaluate(X_test, y_test),
        "curve": {},
    }
    trained = segmenter.model_.get_weights()
    for mark, weights in snapshots.weights.items():
        segmenter.model_.set_weights(weights)
        result["curve"][f"{mark:g}"] = segmenter.evaluate(X_test, y_test)
    segmenter.model_.set_weights(trained)
    result["timing"] = predict_timing(segmenter.predict, X_test)
    result["segmenter"] = segmenter
    return result


# -------------------------------------------------------------------- peer
def run_peer(task: dict, minutes: float) -> dict:
    folder = WORK / "data"
    write_peer_dataset(folder, task)
    out = WORK / "peer.json"
    checkpoints = ",".join(f"{m:g}" for m in MARKS)
    run_ultralytics(
        "segmentation_peer.py",
        folder,
        out,
        minutes,
        imgsz=task["image_size"],
        checkpoints=checkpoints,
    )
    peer = json.loads(out.read_text())
    maps = np.load(out.with_suffix(".npz"))
    y_test = task["test"][1]
    labels = sorted(task["names"])

    def best(key: str) -> dict:
        scored = [
            {**segmentation_scores(y_test, m, labels=labels), "threshold": t}
            for t, m in zip(peer["thresholds"], maps[key], strict=True)
        ]
        return max(scored, key=lambda s: s["mean_iou"])

    peer["final"] = best("final")
    peer["curve"] = {mark: best(f"minute_{mark}") for mark in peer["checkpoint_times"]}
    return peer


# -------------------------------------------------------------------- main
def parse_args(argv=None):
    parser = budget_parser(__doc__.splitlines()[0])
    parser.add_argument("--tasks", default="scenes")
    parser.add_argument("--encoders", default="efficientnet_lite0,unet")
    return parser.parse_args(argv)


def main(argv=None) -> None:
    args = parse_args(argv)
    minutes = 1.0 if args.quick else args.minutes
    n_train, n_test = (400, 100) if args.quick else (4000, 500)
    RESULTS.mkdir(exist_ok=True)
    WORK.mkdir(parents=True, exist_ok=True)
    print(f"Machine: {environment()}\n")
    for name in args.tasks.split(","):
        task = coco128_task() if name == "coco128" else scene_task(n_train, n_test)
        report = {"task": name, "minutes": minutes, "n_train": len(task["train"][0])}
        if name == "coco128":
            report["classes"] = task["classes"]
            report["unseen_pixel_share"] = task["unseen_pixel_share"]
        rows, runs = [], {}
        for encoder in args.encoders.split(","):
            load = os.getloadavg()[0]
            ours = run_ours(task, encoder, minutes)
            segmenter = ours.pop("segmenter")
            ours["load_before"] = load
            report[encoder] = runs[f"ours, {encoder}"] = ours
            rows.append(_row(f"ours, {encoder}", ours, ours["timing"]))
            if name != "coco128":
                X_test, y_test = task["test"]
                plot_masks(
                    X_test[:8],
                    segmenter.predict(X_test[:8]),
                    RESULTS / f"segmentation-grid-{encoder}.png",
                    truth=y_test[:8],
                    class_names=task["names"],
                )
            print(f"  ours {encoder} done: {ours['final']['mean_iou']:.3f}", flush=True)
        if not args.no_peer and name != "coco128":
            load = os.getloadavg()[0]
            peer = run_peer(task, minutes)
            peer["load_before"] = load
            report["peer"] = runs["Ultralytics yolov8n-seg"] = peer
            timing = {
                "images_per_s_b32": peer["predict_images_per_s_b32"],
                "ms_b1": peer["predict_ms_b1"],
            }
            rows.append(_row("Ultralytics yolov8n-seg", peer, timing))
        (RESULTS / f"segmentation-{name}.json").write_text(
            json.dumps(report, indent=1, default=float)
        )
        print(f"\n## {name}: {len(task['train'][0])} train images, {minutes:g} min\n")
        print(
            markdown_table(
                [
                    "model",
                    "mean IoU",
                    "mean IoU, objects",
                    "foreground IoU",
                    "pixel accuracy",
                    "mean IoU at 2 / 5 min",
                    "epochs",
                    "train img/s",
                    "predict img/s (b32)",
                    "ms (b1)",
                    "load before",
                ],
                rows,
            )
        )
        if task["names"] is not None:
            print("\nPer-class IoU:\n")
            print(markdown_table(["class", *runs], _per_class(task["names"], runs)))


def _row(label: str, run: dict, timing: dict) -> list:
    final = run["final"]
    curve = " / ".join(
        f"{run['curve'][key]['mean_iou']:.3f}" if key in run["curve"] else "-"
        for key in (f"{m:g}" for m in MARKS)
    )
    return [
        label,
        f"{final['mean_iou']:.3f}",
        f"{final['mean_iou_foreground']:.3f}",
        f"{final['foreground_iou']:.3f}",
        f"{final['pixel_accuracy']:.3f}",
        curve,
        run["epochs"],
        f"{run['train_images_per_s']:.0f}",
        f"{timing['images_per_s_b32']:.0f}",
        f"{timing['ms_b1']:.1f}",
        f"{run['load_before']:.2f}",
    ]


def _per_class(names: dict, runs: dict) -> list:
    rows = []
    for value, name in names.items():
        ious = [run["final"]["per_class_iou"][value] for run in runs.values()]
        rows.append([name, *(f"{iou:.3f}" for iou in ious)])
    return rows


if __name__ == "__main__":
    main()
