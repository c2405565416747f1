"""ImageClassifier on Fashion-MNIST: quality, a learning curve, and speed ratios.

1. Quality: ``small_cnn`` from scratch (``weights=None``) trained on all 60,000
   training images (``validation_fraction=0``, no early stopping, a fixed
   number of epochs) and scored on the 10,000 test images. Images are resized
   to 32 x 32, the smallest size allowed, because the CPU time of the network
   grows with the pixel count and 28 x 28 loses nothing at 32 x 32. The
   learning rate steps down once per epoch (a ``LearningRateScheduler``
   passed through ``callbacks``), so the last epoch settles instead of
   ending on a noisy step. Target: test accuracy ≥ 0.90.
2. Learning curve: 10, 100 and 1,000 training images per class (nested
   stratified subsets of the training set, fixed seed), EfficientNet-Lite0
   transfer (ImageNet weights, frozen backbone, head trained on cached
   features) against ``small_cnn`` from scratch on the same images, both
   scored on all 10,000 test images. Lite0 sees 96 x 96 images: Fashion-MNIST
   is 28 x 28, so larger inputs add no detail, only compute (224 x 224 costs
   5.4x the compute of 96 x 96); at 96 the last feature map is still 3 x 3.
   A small sweep of 64, 96 and 128 at 100 images per class on a fixed
   stratified 2,000-image test subset shows what the size buys. An extra row
   fine-tunes the top of the Lite0 backbone at 100 images per class. The
   curves go to ``outputs/image_learning_curve.png``. Targets: Lite0 at 100
   per class ≥ 0.80, and ≥ 0.05 above from scratch at 100 per class.
3. Speed, as ratios of runs made side by side in this process, in rotating
   order, repeated; medians of the per-round ratios:

   a. Lite0 head training on cached features against the uncached frozen path
      (``cache_features=False``, everything else equal: 1,000 images, 96 x 96,
      no augmentation, fixed epochs, no validation, no early stopping). Epoch
      times come from a callback; the first epoch (tracing) is left out of the
      per-epoch median. The rest of ``fit`` (feature extraction, building,
      compiling) is reported separately. Target: ≥ 5x faster per epoch.
   b. Training throughput (images/s) of ``ImageClassifier.fit`` against a
      hand-written ``keras.Model.fit``: the same network (``load_backbone``
      with the same arguments, Dropout + softmax Dense head), the same tf.data
      pipeline (uint8 slices, shuffle over all rows, batch, cast to float32,
      prefetch), Adam at the same learning rate, the same loss and metric,
      batch size and epochs. ``small_cnn`` from scratch at 32 x 32, and Lite0
      (frozen, 96 x 96) with flip + rotation augmentation, where the raw side
      applies the same Keras random layers in its pipeline and runs the
      backbone in inference mode as the estimator does. Ours is timed from the
      uint8 array (validation, building, compiling included); raw both as
      ``fit`` alone and as build + compile + fit. Steady-state throughput is
      from the epochs after the first. Target: ours / raw ≥ 0.95.

Run: ``TF_CPP_MIN_LOG_LEVEL=2 .venv/bin/python benchmarks/image_classification.py``
"""

import os
import resource
import time

os.environ.setdefault("KERAS_BACKEND", "tensorflow")
os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "2")

import keras  # noqa: E402
import numpy as np  # noqa: E402
import tensorflow as tf  # noqa: E402
from _common import (  # noqa: E402
    EpochTimer,
    environment,
    markdown_table,
    median,
    rotate,
    timed,
    verdict,
)

from applied_ml.datasets import load_fashion_mnist  # noqa: E402
from applied_ml.vision import ImageClassifier, load_backbone  # noqa: E402

SEED = 0
ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
PLOT_PATH = os.path.join(ROOT, "outputs", "image_learning_curve.png")

# 1. quality
QUALITY_EPOCHS = 3
QUALITY_LR = 2e-3
QUALITY_LR_DECAY = 0.4  # learning rate of epoch e: QUALITY_LR * decay**e
QUALITY_PARAMS = {
    "backbone": "small_cnn",
    "weights": None,
    "image_size": 32,
    "augmentation": None,
    "epochs": QUALITY_EPOCHS,
    "batch_size": 128,
    "learning_rate": QUALITY_LR,
    "early_stopping": False,
    "validation_fraction": 0.0,
    "random_state": SEED,
}
QUALITY_TARGET = 0.90
QUALITY_TIME_TARGET = 12 * 60

# 2. learning curve
PER_CLASS = (10, 100, 1000)
LITE0_SIZE = 96
SIZE_SWEEP = (64, 96, 128)
SWEEP_TEST = 2000
# Head epochs (on cached features, cheap) and from-scratch epochs per subset:
# enough optimizer steps for small subsets, bounded CPU time for large ones.
HEAD_EPOCHS = {10: 100, 100: 50, 1000: 20}
SCRATCH_EPOCHS = {10: 100, 100: 30, 1000: 5}
CURVE_COMMON = {
    "augmentation": None,
    "batch_size": 32,
    "learning_rate": 1e-3,
    "early_stopping": False,
    "validation_fraction": 0.0,
    "random_state": SEED,
}
LITE0_PARAMS = {"backbone": "efficientnet_lite0", "image_size": LITE0_SIZE}
SCRATCH_PARAMS = {"backbone": "small_cnn", "weights": None, "image_size": 32}
FINE_TUNE = {
    "fine_tune_layers": 20,
    "fine_tune_learning_rate": 1e-4,
    "fine_tune_epochs": 5,
}
# Skip the fine-tuning row and the size sweep when the run has already taken
# this long (s), to keep the whole script within its time budget.
FINE_TUNE_DEADLINE = 18 * 60
SWEEP_DEADLINE = 19 * 60
LITE0_TARGET = 0.80
TRANSFER_MARGIN = 0.05

# 3. speed
CACHE_ROUNDS = 3
CACHE_N = 1000
CACHE_EPOCHS = 3
CACHE_TARGET = 5.0
THROUGHPUT = {
    "small_cnn": {
        "n": 1024,
        "epochs": 3,
        "batch_size": 64,
        "rounds": 5,
        "params": {
            "backbone": "small_cnn",
            "weights": None,
            "image_size": 32,
            "augmentation": None,
        },
    },
    "efficientnet_lite0 + augmentation": {
        "n": 512,
        "epochs": 3,
        "batch_size": 32,
        "rounds": 3,
        "params": {
            "backbone": "efficientnet_lite0",
            "weights": "imagenet",
            "image_size": LITE0_SIZE,
            "augmentation": ("flip", "rotation"),
        },
    },
}
THROUGHPUT_LR = 1e-3
THROUGHPUT_TARGET = 0.95
TOTAL_TARGET = 30 * 60


def stratified_subsets(y: np.ndarray, sizes, seed: int) -> dict:
    """Nested stratified index sets: ``sizes[i]`` images of every class."""
    rng = np.random.default_rng(seed)
    order = {c: rng.permutation(np.flatnonzero(y == c)) for c in np.unique(y)}
    return {k: np.sort(np.concatenate([p[:k] for p in order.values()])) for k in sizes}


def accuracy(clf: ImageClassifier, images: np.ndarray, labels) -> float:
    proba = clf.predict_proba(images)
    return float(np.mean(clf.classes_[proba.argmax(axis=1)] == labels))


def step_decay(base: float, decay: float):
    return keras.callbacks.LearningRateScheduler(lambda epoch: base * decay**epoch)


# ------------------------------------------------------------------ 1. quality
def bench_quality(x, y, x_test, y_test) -> dict:
    timer = EpochTimer()
    clf = ImageClassifier(
        **QUALITY_PARAMS,
        callbacks=[timer, step_decay(QUALITY_LR, QUALITY_LR_DECAY)],
    )
    fit_time, _ = timed(clf.fit, x, y)
    predict_time, test_accuracy = timed(accuracy, clf, x_test, y_test)
    return {
        "accuracy": test_accuracy,
        "epochs": clf.n_iter_,
        "fit": fit_time,
        "epoch_times": timer.times,
        "train_accuracy": clf.history_["accuracy"],
        "predict": predict_time,
    }


# ----------------------------------------------------------- 2. learning curve
def fit_score(params: dict, x, y, x_test, y_test) -> dict:
    clf = ImageClassifier(**params)
    fit_time, _ = timed(clf.fit, x, y)
    predict_time, test_accuracy = timed(accuracy, clf, x_test, y_test)
    return {"accuracy": test_accuracy, "fit": fit_time, "predict": predict_time}


def bench_curve(x, y, x_test, y_test, start: float) -> dict:
    subsets = stratified_subsets(y, PER_CLASS, SEED)
    results = {"lite0": {}, "scratch": {}}
    for k in PER_CLASS:
        idx = subsets[k]
        results["lite0"][k] = fit_score(
            {**CURVE_COMMON, **LITE0_PARAMS, "epochs": HEAD_EPOCHS[k]},
            x[idx],
            y[idx],
            x_test,
            y_test,
        )
        results["scratch"][k] = fit_score(
            {**CURVE_COMMON, **SCRATCH_PARAMS, "epochs": SCRATCH_EPOCHS[k]},
            x[idx],
            y[idx],
            x_test,
            y_test,
        )
        print(f"  curve done: {k}/class ({time.perf_counter() - start:.0f} s)")
    # the same 100 per class as above: the subsets depend on the seed only
    idx = stratified_subsets(y, [100], SEED)[100]
    if time.perf_counter() - start < FINE_TUNE_DEADLINE:
        results["fine_tune"] = fit_score(
            {**CURVE_COMMON, **LITE0_PARAMS, "epochs": HEAD_EPOCHS[100], **FINE_TUNE},
            x[idx],
            y[idx],
            x_test,
            y_test,
        )
        print(f"  fine-tuning done ({time.perf_counter() - start:.0f} s)")
    # image size of Lite0, on a fixed stratified test subset
    test_idx = stratified_subsets(y_test, [SWEEP_TEST // 10], SEED)[SWEEP_TEST // 10]
    results["sweep"] = {}
    for size in SIZE_SWEEP if time.perf_counter() - start < SWEEP_DEADLINE else ():
        results["sweep"][size] = fit_score(
            {
                **CURVE_COMMON,
                **LITE0_PARAMS,
                "image_size": size,
                "epochs": HEAD_EPOCHS[100],
            },
            x[idx],
            y[idx],
            x_test[test_idx],
            y_test[test_idx],
        )
    print(f"  size sweep done ({time.perf_counter() - start:.0f} s)")
    return results


def plot_curve(results: dict, path: str) -> None:
    from matplotlib.backends.backend_agg import FigureCanvasAgg
    from matplotlib.figure import Figure

    fig = Figure(figsize=(6.4, 4.2), dpi=120)
    FigureCanvasAgg(fig)
    ax = fig.add_subplot()
    ks = list(PER_CLASS)
    ax.plot(
        ks,
        [results["lite0"][k]["accuracy"] for k in ks],
        "o-",
        label=f"EfficientNet-Lite0 transfer (frozen, {LITE0_SIZE} px)",
    )
    ax.plot(
        ks,
        [results["scratch"][k]["accuracy"] for k in ks],
        "s-",
        label="small_cnn from scratch (32 px)",
    )
    if "fine_tune" in results:
        ax.plot(
            [100],
            [results["fine_tune"]["accuracy"]],
            "^",
            color="tab:green",
            label=f"Lite0 + fine-tuning top {FINE_TUNE['fine_tune_layers']} layers",
        )
    ax.axhline(LITE0_TARGET, color="grey", linestyle=":", linewidth=1)
    ax.set_xscale("log")
    ax.set_xticks(ks, [str(k) for k in ks])
    ax.set_xlabel("training images per class (log scale)")
    ax.set_ylabel("test accuracy (10,000 images)")
    ax.set_title("Fashion-MNIST: transfer vs from scratch")
    ax.grid(True, alpha=0.3)
    ax.legend(loc="lower right")
    fig.tight_layout()
    os.makedirs(os.path.dirname(path), exist_ok=True)
    fig.savefig(path)


# ----------------------------------------------------------------- 3a. caching
def bench_cache(x, y) -> dict:
    params = {
        **LITE0_PARAMS,
        "augmentation": None,
        "epochs": CACHE_EPOCHS,
        "batch_size": 32,
        "early_stopping": False,
        "validation_fraction": 0.0,
        "random_state": SEED,
    }
    runs = {"cached": [], "uncached": []}
    fitted = {}

    def side(name: str, cache: bool):
        def run():
            timer = EpochTimer()
            clf = ImageClassifier(**params, cache_features=cache, callbacks=[timer])
            total, _ = timed(clf.fit, x, y)
            runs[name].append(
                {
                    "fit": total,
                    "epoch": median(timer.times[1:]),
                    "first": timer.times[0],
                    "outside": total - sum(timer.times),
                }
            )
            fitted[name] = clf

        return run

    cached, uncached = side("cached", True), side("uncached", False)
    cached(), uncached()  # warm-up
    for values in runs.values():
        values.clear()
    for r in range(CACHE_ROUNDS):
        rotate(r, cached, uncached)
    probe = x[:200]
    diff = float(
        np.abs(
            fitted["cached"].predict_proba(probe)
            - fitted["uncached"].predict_proba(probe)
        ).max()
    )
    pairs = list(zip(runs["cached"], runs["uncached"], strict=True))
    return {
        "runs": runs,
        "epoch_ratio": median([u["epoch"] / c["epoch"] for c, u in pairs]),
        "fit_ratio": median([u["fit"] / c["fit"] for c, u in pairs]),
        "max_proba_diff": diff,
    }


# -------------------------------------------------------------- 3b. throughput
class Inference(keras.layers.Wrapper):
    """Run the wrapped pretrained backbone in inference mode during fit too."""

    def call(self, inputs):
        return self.layer(inputs, training=False)

    def compute_output_shape(self, input_shape):
        return self.layer.compute_output_shape(input_shape)


def raw_model(params: dict, channels: int) -> keras.Model:
    """The estimator's network, written by hand from ``load_backbone``."""
    size = params["image_size"]
    features = load_backbone(
        params["backbone"],
        weights=params["weights"],
        input_shape=(size, size, channels),
    )
    inputs = keras.Input((None, None, channels))
    if params["weights"] is not None:
        features.get_layer("backbone").trainable = False
        features = Inference(features)
    head = keras.Sequential(
        [keras.layers.Dropout(0.2), keras.layers.Dense(10, activation="softmax")]
    )
    model = keras.Model(inputs, head(features(inputs)))
    model.compile(
        optimizer=keras.optimizers.Adam(learning_rate=THROUGHPUT_LR),
        loss="sparse_categorical_crossentropy",
        metrics=[keras.metrics.SparseCategoricalAccuracy(name="accuracy")],
    )
    return model


def raw_pipeline(images, labels, batch_size: int, augmentation):
    """uint8 slices, shuffle, batch, cast (and augment), prefetch."""
    n = len(labels)
    dataset = (
        tf.data.Dataset.from_tensor_slices((images, labels))
        .shuffle(n, seed=SEED, reshuffle_each_iteration=True)
        .batch(batch_size)
        .map(lambda a, b: (tf.cast(a, tf.float32), b), num_parallel_calls=-1)
    )
    if augmentation:
        layers = {
            "flip": lambda: keras.layers.RandomFlip("horizontal", seed=SEED),
            "rotation": lambda: keras.layers.RandomRotation(
                0.1, fill_mode="reflect", seed=SEED + 1
            ),
        }
        augment = keras.Sequential([layers[name]() for name in augmentation])
        dataset = dataset.map(
            lambda a, b: (augment(a, training=True), b), num_parallel_calls=-1
        )
    return dataset.prefetch(tf.data.AUTOTUNE)


def bench_throughput(name: str, spec: dict, x, y) -> dict:
    n, epochs, batch_size = spec["n"], spec["epochs"], spec["batch_size"]
    images, labels = x[:n], y[:n]
    params = spec["params"]
    ours_params = {
        **params,
        "epochs": epochs,
        "batch_size": batch_size,
        "learning_rate": THROUGHPUT_LR,
        "early_stopping": False,
        "validation_fraction": 0.0,
        "random_state": SEED,
    }
    runs = {"ours": [], "raw": []}
    steps = {}

    def run_ours():
        timer = EpochTimer()
        clf = ImageClassifier(**ours_params, callbacks=[timer])
        total, _ = timed(clf.fit, images, labels)
        runs["ours"].append(
            {"fit": total, "epoch": median(timer.times[1:]), "later": timer.times[1:]}
        )
        steps["ours"] = (
            int(clf.model_.optimizer.iterations.numpy()),
            clf.model_.count_params(),
            sum(int(np.prod(w.shape)) for w in clf.model_.trainable_weights),
        )

    def run_raw():
        timer = EpochTimer()
        start = time.perf_counter()
        keras.utils.set_random_seed(SEED)
        model = raw_model(params, channels=1)
        dataset = raw_pipeline(
            images[..., np.newaxis],
            labels.astype("int32"),
            batch_size,
            params["augmentation"],
        )
        built = time.perf_counter()
        model.fit(dataset, epochs=epochs, verbose=0, callbacks=[timer])
        end = time.perf_counter()
        runs["raw"].append(
            {
                "fit": end - built,
                "build_fit": end - start,
                "epoch": median(timer.times[1:]),
                "later": timer.times[1:],
            }
        )
        steps["raw"] = (
            int(model.optimizer.iterations.numpy()),
            model.count_params(),
            sum(int(np.prod(w.shape)) for w in model.trainable_weights),
        )

    run_ours(), run_raw()  # warm-up
    if steps["ours"] != steps["raw"]:
        raise AssertionError(
            f"{name}: unequal work (optimizer steps, parameters, trainable "
            f"parameters): ours {steps['ours']}, raw {steps['raw']}"
        )
    for values in runs.values():
        values.clear()
    for r in range(spec["rounds"]):
        rotate(r, run_ours, run_raw)
    pairs = list(zip(runs["ours"], runs["raw"], strict=True))
    images_run = n * epochs
    return {
        "name": name,
        "n": n,
        "epochs": epochs,
        "batch_size": batch_size,
        "steps": steps["ours"],
        "ours_ips": median([images_run / o["fit"] for o, _ in pairs]),
        "raw_fit_ips": median([images_run / r["fit"] for _, r in pairs]),
        "raw_build_ips": median([images_run / r["build_fit"] for _, r in pairs]),
        "ours_epoch_ips": median([n / o["epoch"] for o, _ in pairs]),
        "raw_epoch_ips": median([n / r["epoch"] for _, r in pairs]),
        # throughput ratio ours / raw = raw time / our time, paired by round
        "ratio_fit": median([r["fit"] / o["fit"] for o, r in pairs]),
        "ratio_build": median([r["build_fit"] / o["fit"] for o, r in pairs]),
        "ratio_epoch": median([r["epoch"] / o["epoch"] for o, r in pairs]),
        # fastest epoch of each side over all rounds: the least disturbed by
        # other processes on the machine
        "ratio_best": min(t for r in runs["raw"] for t in r["later"])
        / min(t for o in runs["ours"] for t in o["later"]),
        "rounds": spec["rounds"],
    }


# ----------------------------------------------------------------------- main
def main() -> None:
    start = time.perf_counter()
    print(f"Machine: {environment()}\n")
    (x, y), (x_test, y_test) = load_fashion_mnist()
    verdicts = []

    quality = bench_quality(x, y, x_test, y_test)
    print(f"  quality done ({time.perf_counter() - start:.0f} s)")
    curve = bench_curve(x, y, x_test, y_test, start)
    plot_curve(curve, PLOT_PATH)
    cache_idx = stratified_subsets(y, [CACHE_N // 10], SEED + 1)[CACHE_N // 10]
    cache = bench_cache(x[cache_idx], y[cache_idx])
    print(f"  cached-features speed done ({time.perf_counter() - start:.0f} s)")
    throughput = []
    for name, spec in THROUGHPUT.items():
        throughput.append(bench_throughput(name, spec, x, y))
        print(f"  throughput done: {name} ({time.perf_counter() - start:.0f} s)")

    # ---- 1
    q = quality
    print(
        "\n## 1. Quality: small_cnn from scratch, all 60,000 training images\n\n"
        f"image_size=32, batch_size={QUALITY_PARAMS['batch_size']}, Adam, learning "
        f"rate {QUALITY_LR:g} x {QUALITY_LR_DECAY:g}^epoch (LearningRateScheduler "
        "in `callbacks`), no augmentation, validation_fraction=0, "
        f"early_stopping=False, random_state={SEED}. Test set: 10,000 images.\n"
    )
    print(
        markdown_table(
            [
                "test accuracy",
                "epochs run",
                "fit wall time (s)",
                "seconds per epoch",
                "train accuracy per epoch",
                "predict 10,000 (s)",
            ],
            [
                [
                    f"{q['accuracy']:.4f}",
                    q["epochs"],
                    f"{q['fit']:.0f}",
                    ", ".join(f"{t:.0f}" for t in q["epoch_times"]),
                    ", ".join(f"{a:.3f}" for a in q["train_accuracy"]),
                    f"{q['predict']:.1f}",
                ]
            ],
        )
    )
    verdicts.append(
        (
            f"small_cnn, 60,000 images: test accuracy ≥ {QUALITY_TARGET}",
            f"{q['accuracy']:.4f}",
            verdict(q["accuracy"] >= QUALITY_TARGET),
        )
    )
    verdicts.append(
        (
            f"small_cnn, 60,000 images: fit ≤ {QUALITY_TIME_TARGET} s",
            f"{q['fit']:.0f} s",
            verdict(q["fit"] <= QUALITY_TIME_TARGET),
        )
    )

    # ---- 2
    print(
        "\n## 2. Learning curve: transfer vs from scratch\n\n"
        f"Nested stratified subsets of the training set (seed {SEED}); test "
        "accuracy on all 10,000 test images. Both sides: batch_size=32, Adam "
        "lr 1e-3, no augmentation, validation_fraction=0, early_stopping=False. "
        f"Lite0: ImageNet weights, frozen, {LITE0_SIZE} x {LITE0_SIZE}, head on "
        f"cached features for {HEAD_EPOCHS} epochs (images per class: epochs). "
        f"small_cnn: weights=None, 32 x 32, {SCRATCH_EPOCHS} epochs. Fit times "
        "include Lite0's feature extraction.\n"
    )
    rows = []
    for k in PER_CLASS:
        lite, scratch = curve["lite0"][k], curve["scratch"][k]
        rows.append(
            [
                f"{k:,}",
                f"{k * 10:,}",
                f"{lite['accuracy']:.4f}",
                f"{scratch['accuracy']:.4f}",
                f"{lite['accuracy'] - scratch['accuracy']:+.4f}",
                f"{lite['fit']:.0f}",
                f"{scratch['fit']:.0f}",
            ]
        )
    if "fine_tune" in curve:
        ft = curve["fine_tune"]
        scratch = curve["scratch"][100]
        rows.append(
            [
                "100, Lite0 fine-tuned (extra)",
                "1,000",
                f"{ft['accuracy']:.4f}",
                f"{scratch['accuracy']:.4f}",
                f"{ft['accuracy'] - scratch['accuracy']:+.4f}",
                f"{ft['fit']:.0f}",
                "",
            ]
        )
    print(
        markdown_table(
            [
                "images per class",
                "training images",
                "Lite0 transfer",
                "small_cnn scratch",
                "transfer − scratch",
                "Lite0 fit (s)",
                "scratch fit (s)",
            ],
            rows,
        )
    )
    if "fine_tune" in curve:
        print(
            f"\nFine-tuning row: after the head phase, the top "
            f"{FINE_TUNE['fine_tune_layers']} backbone layers with weights "
            "(batch norm stays frozen) trained for "
            f"{FINE_TUNE['fine_tune_epochs']} epochs at lr "
            f"{FINE_TUNE['fine_tune_learning_rate']:g} on the images (no cache)."
        )
    else:
        print("\nFine-tuning row skipped: the run was past its time budget.")
    print(f"\nPlot: {os.path.relpath(PLOT_PATH, ROOT)}")
    print(
        f"\nLite0 image size at 100 images per class, scored on a fixed "
        f"stratified {SWEEP_TEST:,}-image test subset (seed {SEED}):\n"
    )
    print(
        markdown_table(
            [
                "image_size",
                "test accuracy (subset)",
                "fit (s)",
                f"predict {SWEEP_TEST:,} (s)",
            ],
            [
                [
                    size,
                    f"{r['accuracy']:.4f}",
                    f"{r['fit']:.1f}",
                    f"{r['predict']:.1f}",
                ]
                for size, r in curve["sweep"].items()
            ],
        )
    )
    lite100 = curve["lite0"][100]["accuracy"]
    gap = lite100 - curve["scratch"][100]["accuracy"]
    verdicts.append(
        (
            f"Lite0 transfer, 100 per class: test accuracy ≥ {LITE0_TARGET}",
            f"{lite100:.4f}",
            verdict(lite100 >= LITE0_TARGET),
        )
    )
    verdicts.append(
        (
            f"Lite0 − scratch, 100 per class ≥ {TRANSFER_MARGIN}",
            f"{gap:+.4f}",
            verdict(gap >= TRANSFER_MARGIN),
        )
    )

    # ---- 3a
    c = cache
    cached, uncached = (
        {key: median([run[key] for run in runs]) for key in runs[0]}
        for runs in (c["runs"]["cached"], c["runs"]["uncached"])
    )
    print(
        "\n## 3a. Lite0 head training: cached features vs uncached frozen path\n\n"
        f"{CACHE_N:,} images (stratified, seed {SEED + 1}), {LITE0_SIZE} x "
        f"{LITE0_SIZE}, {CACHE_EPOCHS} epochs, batch_size=32, no augmentation, "
        "validation_fraction=0, early_stopping=False; "
        f"{CACHE_ROUNDS} rounds in rotating order after a warm-up; medians (s). "
        "Per epoch: median of epochs 2 on. Outside epochs: fit time not spent "
        "in epochs (building, compiling, and for the cached side the one-off "
        "feature extraction).\n"
    )
    print(
        markdown_table(
            [
                "path",
                "whole fit",
                "per epoch",
                "first epoch",
                "outside epochs",
            ],
            [
                [
                    name,
                    f"{r['fit']:.2f}",
                    f"{r['epoch']:.4f}",
                    f"{r['first']:.2f}",
                    f"{r['outside']:.2f}",
                ]
                for name, r in (("cached", cached), ("uncached", uncached))
            ],
        )
    )
    print(
        f"\nUncached / cached: per epoch {c['epoch_ratio']:.1f}x, whole fit "
        f"({CACHE_EPOCHS} epochs) {c['fit_ratio']:.2f}x. Largest difference of "
        f"predict_proba between the two fitted models on 200 images: "
        f"{c['max_proba_diff']:.2e}."
    )
    verdicts.append(
        (
            f"cached features ≥ {CACHE_TARGET:g}x faster per epoch",
            f"{c['epoch_ratio']:.1f}x",
            verdict(c["epoch_ratio"] >= CACHE_TARGET),
        )
    )

    # ---- 3b
    print(
        "\n## 3b. Training throughput: ImageClassifier.fit vs hand-written "
        "keras.Model.fit\n\n"
        f"Adam lr {THROUGHPUT_LR:g}, sparse categorical cross-entropy + "
        "accuracy, validation_fraction=0, early_stopping=False on our side; "
        "rounds (column) in rotating order after a warm-up; images/s are "
        "medians, ratios are medians of per-round ratios (ours / raw; > 1 "
        "means ours is faster). Steady state: epochs 2 on, median per run; "
        "best epoch: the fastest epoch 2+ of each side over all rounds (least "
        "disturbed by other processes).\n"
    )
    print(
        markdown_table(
            [
                "network",
                "images x epochs, batch",
                "rounds",
                "optimizer steps",
                "ours fit (img/s)",
                "raw fit (img/s)",
                "raw build+compile+fit (img/s)",
                "ours steady (img/s)",
                "raw steady (img/s)",
                "ours / raw fit",
                "ours / raw build+fit",
                "ours / raw steady",
                "ours / raw best epoch",
            ],
            [
                [
                    t["name"],
                    f"{t['n']:,} x {t['epochs']}, {t['batch_size']}",
                    t["rounds"],
                    t["steps"][0],
                    f"{t['ours_ips']:.0f}",
                    f"{t['raw_fit_ips']:.0f}",
                    f"{t['raw_build_ips']:.0f}",
                    f"{t['ours_epoch_ips']:.0f}",
                    f"{t['raw_epoch_ips']:.0f}",
                    f"{t['ratio_fit']:.2f}x",
                    f"{t['ratio_build']:.2f}x",
                    f"{t['ratio_epoch']:.2f}x",
                    f"{t['ratio_best']:.2f}x",
                ]
                for t in throughput
            ],
        )
    )
    for t in throughput:
        verdicts.append(
            (
                f"throughput ours / raw build+compile+fit ≥ {THROUGHPUT_TARGET} "
                f"({t['name']})",
                f"{t['ratio_build']:.2f}x",
                verdict(t["ratio_build"] >= THROUGHPUT_TARGET),
            )
        )
        verdicts.append(
            (
                f"steady-state throughput ours / raw ≥ {THROUGHPUT_TARGET} "
                f"({t['name']})",
                f"{t['ratio_epoch']:.2f}x",
                verdict(t["ratio_epoch"] >= THROUGHPUT_TARGET),
            )
        )

    total = time.perf_counter() - start
    verdicts.append(
        (
            f"whole script ≤ {TOTAL_TARGET // 60} min",
            f"{total / 60:.1f} min",
            verdict(total <= TOTAL_TARGET),
        )
    )
    print("\n## Targets\n")
    print(markdown_table(["target", "measured", "result"], verdicts))
    peak = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 2**20
    print(f"\nTotal time: {total:.0f} s; peak memory (max RSS) {peak:.1f} GB")


if __name__ == "__main__":
    main()
