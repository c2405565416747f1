"""Ultralytics YOLO-seg peer for the segmentation benchmark: train, predict, time.

Trains ``yolov8n-seg`` from scratch (no pretrained weights) under a
wall-clock budget, predicts the test images through the deployable
``model.predict`` path, and turns its instance masks into semantic maps: at
each pixel the class of the highest-scoring instance covering it, background
elsewhere. The driver (``benchmarks/segmentation.py``) scores the maps with
``applied_ml.vision.segmentation_scores``; this script computes no IoU.

It runs in the peers' venv (torch and ultralytics, no ``applied_ml``), as a
subprocess of the driver::

    benchmarks/.venv-peers/bin/python benchmarks/segmentation_peer.py \\
        --data DIR --minutes 10 --out RESULT.json \\
        [--imgsz 128] [--batch 32] [--workdir DIR2] [--checkpoints 2,5] \\
        [--threads N]

``DIR`` holds ``images/{train,test}/<stem>.png``, class maps
``masks/{train,test}/<stem>.png`` (grey values: 0 background, ``k + 1`` the
class ``k`` of ``data.yaml``) and ``data.yaml``. Ultralytics takes polygons:
this script writes ``labels/{train,test}/<stem>.txt``, one polygon per
8-connected region of one class, traced on the mask upsampled 4x (traced on
the pixel grid itself, a polygon runs through the centres of the edge pixels
and loses half a pixel all round). A region with a hole is traced by its
outline, hole filled: the polygon format has no holes.

Output: ``RESULT.json`` (keys as in ``detection_peer.py``, with
``val_mask_map50`` and ``val_mask_map`` from Ultralytics' own validator,
``thresholds`` and ``maps``) and ``RESULT.npz``: for ``final`` and each
checkpoint mark reached (``minute_<mark>``), uint8 semantic maps of shape
(thresholds, images, height, width), in the test images' sorted name order.
"""

import json
import time

import numpy as np
from detection_peer import (
    TIMING_CONF,
    TrainingLog,
    configure_ultralytics,
    parse_args,
    predict,
    prepare_environment,
    read_test_images,
    time_predict,
    train,
    ultralytics_val,
)

# Instance scores at or above which an instance paints its pixels; the
# driver reports each and takes the best for the peer.
THRESHOLDS = (0.1, 0.25, 0.5)
UPSAMPLE = 4


def polygons(mask: np.ndarray) -> list[str]:
    """YOLO-seg label lines of one class map: one polygon per region.

    Parameters
    ----------
    mask : numpy.ndarray
        uint8 (height, width) class map, 0 background.

    Returns
    -------
    list of str
        ``"<class> x1 y1 x2 y2 ..."`` with the class ``value - 1`` and the
        vertices normalized to [0, 1].
    """
    import cv2

    height, width = mask.shape
    lines = []
    for value in np.unique(mask[mask > 0]):
        region_mask = (mask == value).astype(np.uint8)
        count, regions = cv2.connectedComponents(region_mask, connectivity=8)
        for region in range(1, count):
            big = np.kron(regions == region, np.ones((UPSAMPLE, UPSAMPLE), np.uint8))
            contours, _ = cv2.findContours(
                big, cv2.RETR_EXTERNAL, cv2.CHAIN_APPROX_SIMPLE
            )
            outline = max(contours, key=cv2.contourArea).reshape(-1, 2)
            # vertex (u, v) of the upsampled grid is the centre of its pixel
            points = (outline + 0.5) / UPSAMPLE / [width, height]
            coords = " ".join(f"{v:.5f}" for v in points.ravel())
            lines.append(f"{int(value) - 1} {coords}")
    return lines


def write_labels(data_dir) -> int:
    """Write the polygon labels of every mask; return the polygon count."""
    import cv2

    total = 0
    for mask_path in sorted((data_dir / "masks").glob("*/*.png")):
        mask = cv2.imread(str(mask_path), cv2.IMREAD_UNCHANGED)
        lines = polygons(mask)
        out = data_dir / "labels" / mask_path.parent.name / f"{mask_path.stem}.txt"
        out.parent.mkdir(parents=True, exist_ok=True)
        out.write_text("".join(f"{line}\n" for line in lines))
        total += len(lines)
    return total


def semantic(result, threshold: float) -> np.ndarray:
    """One Ultralytics result as a class map: highest score wins each pixel."""
    height, width = result.orig_shape
    out = np.zeros((height, width), np.uint8)
    if result.masks is None:
        return out
    masks = result.masks.data.cpu().numpy() > 0.5
    scores = result.boxes.conf.cpu().numpy()
    classes = result.boxes.cls.cpu().numpy().astype(int)
    for i in np.argsort(scores, kind="stable"):  # the highest is painted last
        if scores[i] >= threshold:
            out[masks[i]] = classes[i] + 1
    return out


def semantic_maps(model, images, imgsz: int, batch: int) -> np.ndarray:
    """Maps at each of ``THRESHOLDS``: uint8 (thresholds, images, h, w)."""
    results = predict(
        model, images, imgsz, batch, conf=min(THRESHOLDS), retina_masks=True
    )
    return np.stack([np.stack([semantic(r, t) for r in results]) for t in THRESHOLDS])


def main(argv=None) -> None:
    """Write labels, train, predict, time, and write the JSON and maps."""
    wall_start = time.perf_counter()
    args = parse_args(argv)
    prepare_environment(args.workdir, args.threads)
    # Imported only now, after the environment it reads at import is set.
    import torch
    import ultralytics
    from ultralytics import YOLO

    configure_ultralytics(args.threads)
    print(f"{write_labels(args.data)} polygons written")
    log = TrainingLog(args.checkpoints)
    trainer, fit_seconds = train(args, log, "yolov8n-seg.yaml")
    print(
        f"{log.epochs} epochs, {log.images} images in {log.train_seconds:.1f} s of "
        f"batch loops ({fit_seconds:.1f} s with validation)"
    )
    names, images = read_test_images(args.data)
    final = YOLO(trainer.last)
    maps = {"final": semantic_maps(final, images, args.imgsz, args.batch)}
    result = {
        "peer": f"ultralytics {ultralytics.__version__}, torch {torch.__version__}",
        "params": sum(p.numel() for p in final.model.parameters()),
        "epochs": log.epochs,
        "train_seconds": log.train_seconds,
        "fit_seconds": fit_seconds,
        "train_images_per_s": log.images / log.train_seconds,
        "torch_threads": torch.get_num_threads(),
        "thresholds": THRESHOLDS,
        "files": names,
        "checkpoint_times": {},
    }
    for mark, info in log.checkpoints.items():
        snapshot = YOLO(info["path"])
        maps[f"minute_{mark}"] = semantic_maps(snapshot, images, args.imgsz, args.batch)
        result["checkpoint_times"][mark] = {
            "seconds": info["seconds"],
            "epoch": info["epoch"],
        }
    metrics = ultralytics_val(final, args)
    result["val_mask_map50"] = float(metrics.seg.map50)
    result["val_mask_map"] = float(metrics.seg.map)
    # end to end: masks at the image's size and the semantic map made of them
    result["predict_images_per_s_b32"], result["predict_ms_b1"] = time_predict(
        final,
        images,
        args.imgsz,
        args.batch,
        retina_masks=True,
        finish=lambda r: semantic(r, TIMING_CONF),
    )
    result["wall_seconds"] = time.perf_counter() - wall_start
    args.out.parent.mkdir(parents=True, exist_ok=True)
    args.out.write_text(json.dumps(result))
    np.savez_compressed(args.out.with_suffix(".npz"), **maps)
    print(
        f"val mask mAP50 {result['val_mask_map50']:.3f}; predict "
        f"{result['predict_images_per_s_b32']:.0f} img/s at batch {args.batch}, "
        f"{result['predict_ms_b1']:.1f} ms at batch 1"
    )


if __name__ == "__main__":
    main()
