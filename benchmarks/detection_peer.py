"""Ultralytics YOLO peer for the detection benchmark: train, predict, time.

Trains ``yolov8n`` from scratch (no pretrained weights) on a YOLO-format
dataset under a wall-clock budget, predicts the test images through the
deployable ``model.predict`` path and writes the detections and timings as
JSON. The benchmark driver scores the detections with pycocotools; this script
computes no mAP of its own apart from recording Ultralytics' ``model.val``.

It runs in the peers' venv (torch and ultralytics, no ``applied_ml``), as a
subprocess of the driver::

    benchmarks/.venv-peers/bin/python benchmarks/detection_peer.py \\
        --data DIR --minutes 10 --out RESULT.json \\
        [--imgsz 128] [--batch 32] [--workdir DIR2] [--checkpoints 2,5] \\
        [--threads N]

``DIR/data.yaml`` names the train and test folders (``train:`` and ``val:``).
Ultralytics writes label caches next to the label folders
(``DIR/labels/*.cache``) and its runs under ``--workdir`` (default
``ultralytics_work`` next to ``--out``): ``train/weights/last.pt`` and, for
each checkpoint mark reached, ``train/weights/minute_<mark>.pt``.

Training uses ``time=minutes / 60``. After the first epoch Ultralytics
re-estimates the number of epochs from the mean epoch time (validation
included) and rebuilds the linear learning-rate schedule, so the rate reaches
its final value at the end of the budget; the last epoch stops mid-way once
the budget is spent. The final detections come from ``last.pt`` (the EMA
weights at the end of the budget), not ``best.pt``, which Ultralytics picks by
its fitness on the ``val`` split, here the test images. A checkpoint mark
keeps the EMA weights saved at the end of the first epoch that ends at or
after the mark (time counted as ``time=`` counts it).

Torch gets ``--threads`` threads (default: all usable cores). Left alone,
Ultralytics would run on ``cpu_count - 1`` threads, one on two cores.

Output JSON keys: ``peer``, ``params``, ``epochs``, ``train_seconds`` (batch
loops only), ``fit_seconds`` (the budgeted span, per-epoch validation
included), ``train_images_per_s``, ``val_map50``, ``val_map``,
``predict_images_per_s_b32``, ``predict_ms_b1`` (both at ``conf=0.25``),
``torch_threads``, ``files`` (test image names, sorted), ``final`` and
``checkpoints`` (mark -> list of per-image ``{"boxes", "scores", "labels"}``,
boxes ``x1 y1 x2 y2`` in pixels of the original image, labels the class ids
of ``data.yaml``), ``checkpoint_times``, ``predict_args`` and
``wall_seconds``.
"""

import argparse
import json
import os
import shutil
import statistics
import time
from pathlib import Path

# Detections for scoring: a low threshold so that the whole precision-recall
# curve is there, and Ultralytics' default NMS IoU (also used by its val).
SCORE_PREDICT_ARGS = {"conf": 0.001, "iou": 0.7, "max_det": 100}
# Timing uses Ultralytics' predict default threshold, as a deployment would.
TIMING_CONF = 0.25
TIMING_REPEATS = 3
LATENCY_CALLS = 50
INTEGRATIONS = ("clearml", "comet", "dvc", "mlflow", "raytune", "tensorboard", "wandb")


def parse_args(argv=None) -> argparse.Namespace:
    """Read the command line.

    Parameters
    ----------
    argv : list of str, optional
        Arguments; ``sys.argv[1:]`` by default.

    Returns
    -------
    argparse.Namespace
        The parsed arguments, ``workdir`` filled in and ``checkpoints`` split
        into a list of mark strings.
    """
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--data", required=True, type=Path, help="dataset folder")
    parser.add_argument("--minutes", required=True, type=float, help="budget")
    parser.add_argument("--out", required=True, type=Path, help="result JSON")
    parser.add_argument("--imgsz", type=int, default=128)
    parser.add_argument("--batch", type=int, default=32)
    parser.add_argument("--workdir", type=Path, help="Ultralytics runs and config")
    parser.add_argument(
        "--checkpoints", default="2,5", help="minute marks to snapshot, e.g. 2,5"
    )
    parser.add_argument(
        "--threads",
        type=int,
        default=len(os.sched_getaffinity(0)),
        help="torch CPU threads (default: all usable cores)",
    )
    args = parser.parse_args(argv)
    args.data = args.data.resolve()
    args.out = args.out.resolve()
    args.workdir = (args.workdir or args.out.parent / "ultralytics_work").resolve()
    args.checkpoints = [m.strip() for m in args.checkpoints.split(",") if m.strip()]
    return args


def prepare_environment(workdir: Path, threads: int) -> None:
    """Set the variables Ultralytics and torch read when first imported.

    Parameters
    ----------
    workdir : pathlib.Path
        Folder for Ultralytics' settings (``workdir/config``).
    threads : int
        CPU threads for torch.
    """
    os.environ["YOLO_CONFIG_DIR"] = str(workdir / "config")
    # Offline mode skips the DNS probe behind Ultralytics' ONLINE flag, which
    # gates telemetry, crash reports and update checks.
    os.environ["YOLO_OFFLINE"] = "1"
    # Importing ultralytics sets OMP_NUM_THREADS=1 unless it is already set,
    # which would leave torch with a single thread.
    os.environ["OMP_NUM_THREADS"] = str(threads)


def configure_ultralytics(threads: int) -> None:
    """Turn off syncing and integrations, find fonts locally, set threads.

    Checking a dataset calls ``check_font("Arial.ttf")`` even with
    ``plots=False``; when the font is not in the config folder or among
    matplotlib's fonts it asks the network. Matplotlib's DejaVu Sans, copied
    there under the expected names, ends the search locally. Plots are off, so
    the font is never drawn with.

    Every ``train``, ``val`` and ``predict`` on the CPU calls
    ``select_device``, which resets torch to ``NUM_THREADS`` threads
    (``cpu_count - 1``, so one thread on two cores); that value is replaced
    with ``threads``.

    Parameters
    ----------
    threads : int
        CPU threads for torch.
    """
    import matplotlib
    from ultralytics import settings
    from ultralytics.utils import USER_CONFIG_DIR, torch_utils

    settings.update({"sync": False, **dict.fromkeys(INTEGRATIONS, False)})
    font = Path(matplotlib.get_data_path()) / "fonts" / "ttf" / "DejaVuSans.ttf"
    for name in ("Arial.ttf", "Arial.Unicode.ttf"):
        if not (USER_CONFIG_DIR / name).exists():
            shutil.copyfile(font, USER_CONFIG_DIR / name)
    torch_utils.NUM_THREADS = threads


class TrainingLog:
    """Ultralytics callbacks that time the batch loops and snapshot weights.

    Parameters
    ----------
    marks : list of str
        Minute marks; the first checkpoint saved after each mark is kept.

    Attributes
    ----------
    epochs : int
        Epochs started and finished (the last one may stop early).
    images : int
        Training images passed through the network.
    train_seconds : float
        Time spent in the batch loops, validation excluded.
    checkpoints : dict
        Mark -> ``{"path", "seconds", "epoch"}`` for each mark reached.
    """

    def __init__(self, marks):
        self.marks = marks
        self.epochs = 0
        self.images = 0
        self.train_seconds = 0.0
        self.checkpoints = {}
        self._epoch_start = 0.0
        self._batches = 0

    def attach(self, model) -> None:
        """Register the callbacks on an Ultralytics model before ``train``."""
        for event in (
            "on_train_epoch_start",
            "on_train_batch_end",
            "on_train_epoch_end",
            "on_model_save",
        ):
            model.add_callback(event, getattr(self, event))

    def on_train_epoch_start(self, trainer) -> None:
        self._epoch_start = time.perf_counter()
        self._batches = 0

    def on_train_batch_end(self, trainer) -> None:
        self._batches += 1

    def on_train_epoch_end(self, trainer) -> None:
        self.train_seconds += time.perf_counter() - self._epoch_start
        # Only the last batch of a full pass is short.
        n_train = len(trainer.train_loader.dataset)
        self.images += min(self._batches * trainer.batch_size, n_train)
        self.epochs += 1

    def on_model_save(self, trainer) -> None:
        # Fired inside the epoch loop only (not by the final validation),
        # right after last.pt received this epoch's EMA weights.
        elapsed = time.time() - trainer.train_time_start
        for mark in self.marks:
            if mark not in self.checkpoints and elapsed >= float(mark) * 60:
                path = trainer.wdir / f"minute_{mark}.pt"
                shutil.copyfile(trainer.last, path)
                self.checkpoints[mark] = {
                    "path": path,
                    "seconds": elapsed,
                    "epoch": trainer.epoch + 1,
                }


def train(args, log: TrainingLog, config: str = "yolov8n.yaml"):
    """Train a model from scratch within the time budget.

    Parameters
    ----------
    args : argparse.Namespace
        Parsed command line.
    log : TrainingLog
        Callbacks to attach.
    config : str, default="yolov8n.yaml"
        Ultralytics model configuration (``yolov8n-seg.yaml`` segments).

    Returns
    -------
    trainer : ultralytics.engine.trainer.BaseTrainer
        The finished trainer (``trainer.last`` is the final checkpoint).
    fit_seconds : float
        Seconds from the start of the first epoch to the end of the last one,
        the span that ``time=`` budgets.
    """
    from ultralytics import YOLO

    model = YOLO(config)
    log.attach(model)
    model.train(
        data=str(args.data / "data.yaml"),
        imgsz=args.imgsz,
        batch=args.batch,
        time=args.minutes / 60,
        pretrained=False,
        amp=False,
        plots=False,
        device="cpu",
        workers=0,  # Ultralytics forces 0 on CPU anyway
        project=str(args.workdir),
        name="train",
        exist_ok=True,
        val=True,
        seed=0,
        deterministic=False,
        verbose=False,
    )
    trainer = model.trainer
    fit_seconds = trainer.epoch_time_start - trainer.train_time_start
    return trainer, fit_seconds


def read_test_images(data_dir: Path):
    """Read the test split named by ``data.yaml`` in sorted filename order.

    Parameters
    ----------
    data_dir : pathlib.Path
        Dataset folder.

    Returns
    -------
    names : list of str
        File names, sorted.
    images : list of numpy.ndarray
        Images as read by OpenCV (BGR, uint8), the order Ultralytics expects
        for arrays and uses in training.
    """
    import cv2
    import yaml
    from ultralytics.data.utils import IMG_FORMATS

    config = yaml.safe_load((data_dir / "data.yaml").read_text())
    folder = Path(config.get("path") or data_dir) / config["val"]
    paths = sorted(
        p for p in folder.iterdir() if p.suffix.lower().lstrip(".") in IMG_FORMATS
    )
    return [p.name for p in paths], [cv2.imread(str(p)) for p in paths]


def predict(model, images, imgsz: int, batch: int, **kwargs):
    """Run ``model.predict`` over arrays, ``batch`` images per call.

    A list of arrays given to ``predict`` is one batch whatever its ``batch``
    argument, so the list is cut into chunks here.

    Parameters
    ----------
    model : ultralytics.YOLO
        Model to run.
    images : list of numpy.ndarray
        BGR images.
    imgsz, batch : int
        Inference size and images per call.
    **kwargs
        Further ``predict`` arguments (``conf``, ``iou``, ``max_det``).

    Returns
    -------
    list of ultralytics.engine.results.Results
        One per image.
    """
    results = []
    for start in range(0, len(images), batch):
        results += model.predict(
            images[start : start + batch],
            imgsz=imgsz,
            device="cpu",
            verbose=False,
            **kwargs,
        )
    return results


def detections(model, images, imgsz: int, batch: int) -> list:
    """Per-image detections for scoring, as JSON-ready dicts.

    Returns
    -------
    list of dict
        ``{"boxes": [[x1, y1, x2, y2], ...], "scores": [...], "labels": [...]}``
        per image, boxes in original-image pixels.
    """
    out = []
    for result in predict(model, images, imgsz, batch, **SCORE_PREDICT_ARGS):
        boxes = result.boxes
        out.append(
            {
                "boxes": [[round(v, 3) for v in b] for b in boxes.xyxy.tolist()],
                "scores": [round(s, 6) for s in boxes.conf.tolist()],
                "labels": [int(c) for c in boxes.cls.tolist()],
            }
        )
    return out


def time_predict(
    model, images, imgsz: int, batch: int, finish=None, **kwargs
) -> tuple[float, float]:
    """Measure predict throughput at ``batch`` and single-image latency.

    Parameters
    ----------
    model : ultralytics.YOLO
        Model to run.
    images : list of numpy.ndarray
        BGR images.
    imgsz, batch : int
        Inference size and images per call.
    finish : callable, optional
        Applied to each result inside the timed span (the output a
        deployment would make of it).
    **kwargs
        Further ``predict`` arguments.

    Returns
    -------
    images_per_s : float
        All test images, ``batch`` per call, best of ``TIMING_REPEATS`` runs
        after a warm-up run.
    ms_b1 : float
        Median of ``LATENCY_CALLS`` single-image calls after a warm-up call.
    """

    def run(chunk, size):
        results = predict(model, chunk, imgsz, size, conf=TIMING_CONF, **kwargs)
        if finish is not None:
            for result in results:
                finish(result)

    run(images, batch)
    runs = []
    for _ in range(TIMING_REPEATS):
        start = time.perf_counter()
        run(images, batch)
        runs.append(time.perf_counter() - start)

    run(images[:1], 1)
    latencies = []
    for i in range(LATENCY_CALLS):
        image = images[i % len(images)]
        start = time.perf_counter()
        run([image], 1)
        latencies.append(time.perf_counter() - start)
    return len(images) / min(runs), 1000 * statistics.median(latencies)


def ultralytics_val(model, args):
    """Ultralytics' own validator on the ``val`` split, at ``conf=0.001``.

    Its NMS is multi-label (a box may carry several classes), so it scores
    somewhat above the ``predict`` detections.

    Returns
    -------
    ultralytics.utils.metrics.DetMetrics or SegmentMetrics
        ``.box.map50`` and ``.box.map`` (and ``.seg`` for a segmenter).
    """
    metrics = model.val(
        data=str(args.data / "data.yaml"),
        split="val",
        imgsz=args.imgsz,
        batch=args.batch,
        conf=0.001,
        plots=False,
        device="cpu",
        project=str(args.workdir),
        name="val",
        exist_ok=True,
        verbose=False,
    )
    return metrics


def main(argv=None) -> None:
    """Train, predict, time and write the result JSON."""
    wall_start = time.perf_counter()
    args = parse_args(argv)
    prepare_environment(args.workdir, args.threads)
    # Imported only now, after the environment it reads at import is set.
    import torch
    import ultralytics
    from ultralytics import YOLO

    configure_ultralytics(args.threads)
    log = TrainingLog(args.checkpoints)
    trainer, fit_seconds = train(args, log)
    print(
        f"{log.epochs} epochs, {log.images} images in {log.train_seconds:.1f} s of "
        f"batch loops ({fit_seconds:.1f} s with validation)"
    )

    names, images = read_test_images(args.data)
    final = YOLO(trainer.last)
    params = sum(p.numel() for p in final.model.parameters())
    result = {
        "peer": f"ultralytics {ultralytics.__version__}, torch {torch.__version__}",
        "params": params,
        "epochs": log.epochs,
        "train_seconds": log.train_seconds,
        "fit_seconds": fit_seconds,
        "train_images_per_s": log.images / log.train_seconds,
        "torch_threads": torch.get_num_threads(),
        "predict_args": {**SCORE_PREDICT_ARGS, "imgsz": args.imgsz},
        "files": names,
        "final": detections(final, images, args.imgsz, args.batch),
        "checkpoints": {},
        "checkpoint_times": {},
    }
    for mark, info in log.checkpoints.items():
        snapshot = YOLO(info["path"])
        result["checkpoints"][mark] = detections(
            snapshot, images, args.imgsz, args.batch
        )
        result["checkpoint_times"][mark] = {
            "seconds": info["seconds"],
            "epoch": info["epoch"],
        }
    missed = [m for m in args.checkpoints if m not in log.checkpoints]
    if missed:
        print(f"checkpoint marks not reached within the budget: {missed}")

    metrics = ultralytics_val(final, args)
    result["val_map50"] = float(metrics.box.map50)
    result["val_map"] = float(metrics.box.map)
    result["predict_images_per_s_b32"], result["predict_ms_b1"] = time_predict(
        final, images, args.imgsz, args.batch
    )
    result["wall_seconds"] = time.perf_counter() - wall_start
    args.out.parent.mkdir(parents=True, exist_ok=True)
    args.out.write_text(json.dumps(result))
    print(
        f"val mAP50 {result['val_map50']:.3f}, mAP {result['val_map']:.3f}; "
        f"predict {result['predict_images_per_s_b32']:.0f} img/s at batch "
        f"{args.batch}, {result['predict_ms_b1']:.1f} ms at batch 1"
    )


if __name__ == "__main__":
    main()
