"""Object detection: ObjectDetector against Ultralytics YOLO, in one run.

Both sides train from scratch (ours also with the pretrained Lite0 trunk) for
the same wall-clock budget on the same scenes, then predict the same test
images; pycocotools scores both sides' ``predict()`` output, with score
threshold 0.001 and 100 detections per image. Ultralytics runs in its own
venv (``make bench-peers`` makes ``benchmarks/.venv-peers``), as a subprocess
of this script (``benchmarks/detection_peer.py``).

Usage::

    .venv/bin/python benchmarks/detection.py [--quick] [--minutes 10]
        [--tasks fmnist10,super3,coco128] [--backbones small_cnn,efficientnet_lite0]
        [--no-peer]

Results go to ``outputs/detection-<task>.json`` and to stdout as markdown;
a grid of test scenes with predicted and true boxes to
``outputs/detection-grid-<task>.png``; the Ultralytics dataset folders, runs
and logs to ``outputs/detection/``.
"""

import json
import os
import statistics
import time
from pathlib import Path

import numpy as np
import tensorflow as tf
from _common import (
    Snapshots,
    budget_parser,
    environment,
    markdown_table,
    predict_timing,
    run_ultralytics,
)

from applied_ml import ObjectDetector
from applied_ml.callbacks import TimeBudget
from applied_ml.datasets import (
    FASHION_MNIST_CLASSES,
    load_yolo_folder,
    make_scenes,
    write_yolo_labels,
)
from applied_ml.vision import per_class_nms, plot_detections

RESULTS = Path(__file__).resolve().parent.parent / "outputs"
WORK = RESULTS / "detection"
COCO128 = Path(os.environ.get("COCO128", "/work/shared/data/coco128"))
SEED = 0
MARKS = (2.0, 5.0)  # minutes at which the mAP curve is read
# Fashion-MNIST classes grouped by shape: tops, footwear, everything else.
SUPER = {0: 0, 2: 0, 4: 0, 6: 0, 5: 1, 7: 1, 9: 1, 1: 2, 3: 2, 8: 2}
SUPER_NAMES = ("tops", "footwear", "other")


# ------------------------------------------------------------------- data
def scene_task(n_train: int, n_test: int, super_classes: bool) -> dict:
    """Train and test scenes, labels optionally grouped into super-classes."""
    train = make_scenes(n_train, image_size=128, split="train", seed=SEED)[:2]
    test = make_scenes(n_test, image_size=128, split="test", seed=SEED + 1)[:2]
    names = list(FASHION_MNIST_CLASSES)
    if super_classes:
        names = list(SUPER_NAMES)
        for _, targets in (train, test):
            for t in targets:
                t["labels"] = np.array([SUPER[int(v)] for v in t["labels"]], "int64")
    return {"train": train, "test": test, "names": names}


def coco128_task() -> dict:
    """coco128: real photos, ``train2017`` to train, ``val2017`` to test."""
    labels = COCO128 / "object_detection" / "labels"
    train = load_yolo_folder(COCO128, "train2017", labels=labels)
    test = load_yolo_folder(COCO128, "val2017", labels=labels)
    names = [train[2].get(i, str(i)) for i in range(80)]
    return {"train": train[:2], "test": test[:2], "names": names}


def write_yolo_dataset(folder: Path, task: dict) -> Path:
    """The task as an Ultralytics dataset folder (PNG images); its data.yaml."""
    from PIL import Image

    for split, (images, targets) in (("train", task["train"]), ("test", task["test"])):
        (folder / "images" / split).mkdir(parents=True, exist_ok=True)
        (folder / "labels" / split).mkdir(parents=True, exist_ok=True)
        for i, (image, target) in enumerate(zip(images, targets, strict=True)):
            Image.fromarray(image).save(folder / "images" / split / f"{i:05d}.png")
            write_yolo_labels(
                folder / "labels" / split / f"{i:05d}.txt",
                target["boxes"],
                target["labels"],
                image.shape[:2],
            )
    lines = [f"path: {folder}", "train: images/train", "val: images/test", "names:"]
    lines += [f"  {i}: {name}" for i, name in enumerate(task["names"])]
    (folder / "data.yaml").write_text("\n".join(lines) + "\n")
    return folder


# ---------------------------------------------------------------- scoring
def coco_scores(targets: list, detections: list) -> dict:
    """pycocotools' box mAP of per-image detections (dicts) against targets."""
    from pycocotools.coco import COCO
    from pycocotools.cocoeval import COCOeval

    labels = sorted(
        {int(v) for t in targets for v in t["labels"]}
        | {int(v) for d in detections for v in d["labels"]}
    )
    images, annotations, results = [], [], []
    for i, (t, d) in enumerate(zip(targets, detections, strict=True)):
        images.append({"id": i})
        for box, label in zip(t["boxes"], t["labels"], strict=True):
            x1, y1, x2, y2 = (float(v) for v in box)
            annotations.append(
                {
                    "id": len(annotations) + 1,
                    "image_id": i,
                    "category_id": int(label) + 1,
                    "bbox": [x1, y1, x2 - x1, y2 - y1],
                    "area": (x2 - x1) * (y2 - y1),
                    "iscrowd": 0,
                }
            )
        for box, score, label in zip(d["boxes"], d["scores"], d["labels"], strict=True):
            x1, y1, x2, y2 = (float(v) for v in box)
            results.append(
                {
                    "image_id": i,
                    "category_id": int(label) + 1,
                    "bbox": [x1, y1, x2 - x1, y2 - y1],
                    "score": float(score),
                }
            )
    truth = COCO()
    truth.dataset = {
        "images": images,
        "annotations": annotations,
        "categories": [{"id": c + 1} for c in labels],
    }
    truth.createIndex()
    if not results:
        return {"map_50": 0.0, "map": 0.0, "per_class_ap50": {}}
    evaluation = COCOeval(truth, truth.loadRes(results), "bbox")
    evaluation.evaluate()
    evaluation.accumulate()
    evaluation.summarize()
    precision = evaluation.eval["precision"][0, :, :, 0, 2]  # IoU .5, all areas
    per_class = {}
    for k, c in enumerate(evaluation.params.catIds):
        values = precision[:, k]
        values = values[values > -1]
        if len(values):
            per_class[int(c) - 1] = float(values.mean())
    return {
        "map": float(evaluation.stats[0]),
        "map_50": float(evaluation.stats[1]),
        "per_class_ap50": per_class,
    }


# -------------------------------------------------------------------- ours
def run_ours(task: dict, backbone: str, minutes: float, image_size: int) -> dict:
    (X, y), (X_test, y_test) = task["train"], task["test"]
    snapshots = Snapshots(MARKS)
    detector = ObjectDetector(
        backbone=backbone,
        weights="imagenet" if backbone == "efficientnet_lite0" else None,
        image_size=image_size,
        epochs=100_000,  # the time budget ends training
        validation_fraction=0,
        early_stopping=False,
        random_state=SEED,
        callbacks=[TimeBudget(minutes), snapshots],
    )
    start = time.monotonic()
    detector.fit(X, y)
    fit_seconds = time.monotonic() - start
    steps = int(detector.model_.optimizer.iterations.numpy())
    result = {
        "backbone": backbone,
        "params": int(detector.model_.count_params()),
        "epochs": detector.n_iter_,
        "steps": steps,
        "fit_seconds": fit_seconds,
        # batches of 32 (4,000 scenes make whole batches)
        "train_images_per_s": steps * 32 / snapshots.train_seconds,
        "anchors": detector.anchors_.round(1).tolist(),
        "anchor_iou": detector.anchor_iou_,
        "checkpoint_times": {f"{k:g}": v for k, v in snapshots.times.items()},
    }
    final = detector.predict(X_test, score_threshold=0.001)
    result["final"] = coco_scores(y_test, final)
    result["curve"] = {}
    trained = detector.model_.get_weights()
    for mark, weights in snapshots.weights.items():
        detector.model_.set_weights(weights)
        scores = coco_scores(y_test, detector.predict(X_test, score_threshold=0.001))
        result["curve"][f"{mark:g}"] = scores
    detector.model_.set_weights(trained)
    result["timing"] = predict_timing(detector.predict, X_test)
    result["detector"] = detector
    return result


def nms_milliseconds(n_boxes: int = 1000, n_classes: int = 10) -> float:
    """Median time of our per-class NMS of ``n_boxes`` random boxes, compiled."""
    rng = np.random.default_rng(0)
    corner = rng.uniform(0, 100, (n_boxes, 2))
    boxes = np.c_[corner, corner + rng.uniform(5, 40, (n_boxes, 2))].astype("float32")
    scores = rng.uniform(0, 1, n_boxes).astype("float32")
    labels = rng.integers(0, n_classes, n_boxes)

    @tf.function
    def nms(b, s, lab):
        return per_class_nms(
            b, s, lab, iou_threshold=0.5, score_threshold=0.001, max_detections=100
        )

    nms(boxes, scores, labels)
    times = []
    for _ in range(200):
        start = time.perf_counter()
        nms(boxes, scores, labels)[0].numpy()
        times.append((time.perf_counter() - start) * 1000)
    return statistics.median(times)


# -------------------------------------------------------------------- peer
def run_peer(task: dict, name: str, minutes: float, image_size: int) -> dict:
    folder = write_yolo_dataset(WORK / name / "data", task)
    out = WORK / name / "peer.json"
    checkpoints = ",".join(f"{m:g}" for m in MARKS)
    run_ultralytics(
        "detection_peer.py",
        folder,
        out,
        minutes,
        imgsz=image_size,
        checkpoints=checkpoints,
    )
    peer = json.loads(out.read_text())
    y_test = task["test"][1]
    peer["final_scores"] = coco_scores(y_test, peer["final"])
    peer["curve"] = {
        mark: coco_scores(y_test, detections)
        for mark, detections in peer.get("checkpoints", {}).items()
    }
    return peer


# -------------------------------------------------------------------- main
def parse_args(argv=None):
    parser = budget_parser(__doc__.splitlines()[0])
    parser.add_argument("--tasks", default="fmnist10,super3")
    parser.add_argument("--backbones", default="small_cnn,efficientnet_lite0")
    return parser.parse_args(argv)


def main(argv=None) -> None:
    args = parse_args(argv)
    minutes = 1.0 if args.quick else args.minutes
    n_train, n_test = (400, 100) if args.quick else (4000, 500)
    RESULTS.mkdir(exist_ok=True)
    print(f"Machine: {environment()}\n")
    print(f"NMS of 1,000 boxes (10 classes): {nms_milliseconds():.2f} ms (median)\n")
    for name in args.tasks.split(","):
        if name == "coco128":
            task, image_size = coco128_task(), 256
        else:
            task, image_size = scene_task(n_train, n_test, name == "super3"), 128
        report = {"task": name, "minutes": minutes, "n_train": len(task["train"][0])}
        rows = []
        for backbone in args.backbones.split(","):
            load = os.getloadavg()[0]
            ours = run_ours(task, backbone, minutes, image_size)
            detector = ours.pop("detector")
            ours["load_before"] = load
            report[backbone] = ours
            rows.append(_row(f"ours, {backbone}", ours["final"], ours, ours["timing"]))
            if backbone == args.backbones.split(",")[0] and name != "coco128":
                X_test, y_test = task["test"]
                plot_detections(
                    X_test[:12],
                    detector.predict(X_test[:12]),
                    RESULTS / f"detection-grid-{name}.png",
                    truth=y_test[:12],
                    class_names=task["names"],
                )
            print(f"  ours {backbone} done: {ours['final']}", flush=True)
        if not args.no_peer:
            load = os.getloadavg()[0]
            peer = run_peer(task, name, minutes, image_size)
            peer["load_before"] = load
            report["peer"] = {k: v for k, v in peer.items() if k != "final"}
            timing = {
                "images_per_s_b32": peer["predict_images_per_s_b32"],
                "ms_b1": peer["predict_ms_b1"],
            }
            rows.append(_row("Ultralytics yolov8n", peer["final_scores"], peer, timing))
        (RESULTS / f"detection-{name}.json").write_text(
            json.dumps(report, indent=1, default=float)
        )
        print(f"\n## {name}: {len(task['train'][0])} train images, {minutes:g} min\n")
        print(
            markdown_table(
                [
                    "model",
                    "mAP@0.5",
                    "mAP@.5:.95",
                    "mAP@0.5 at 2 / 5 min",
                    "epochs",
                    "train img/s",
                    "predict img/s (b32)",
                    "ms (b1)",
                    "load before",
                ],
                rows,
            )
        )


def _row(label: str, final: dict, run: dict, timing: dict) -> list:
    curve = " / ".join(
        f"{run['curve'][key]['map_50']:.3f}" if key in run["curve"] else "-"
        for key in (f"{m:g}" for m in MARKS)
    )
    return [
        label,
        f"{final['map_50']:.3f}",
        f"{final['map']:.3f}",
        curve,
        run["epochs"],
        f"{run['train_images_per_s']:.0f}",
        f"{timing['images_per_s_b32']:.0f}",
        f"{timing['ms_b1']:.1f}",
        f"{run['load_before']:.2f}",
    ]


if __name__ == "__main__":
    main()
