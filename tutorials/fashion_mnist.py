"""Fashion-MNIST by transfer learning: EfficientNet-Lite0 -> ImageClassifier.

With only 100 training images per class, a backbone pretrained on ImageNet
(EfficientNet-Lite0, weights read offline) gets a new softmax head. The
backbone is frozen and augmentation is off, so its features are computed once
and the head trains on them in seconds. The script reports held-out metrics,
writes learning curves, a confusion matrix and a grid of mistakes, exports a
SavedModel that takes uint8 images of any size, and serves two test images
from a fresh Python process that imports only TensorFlow.

Run from anywhere: ``python tutorials/fashion_mnist.py`` (needs Debian's
``dataset-fashion-mnist``, which ``make test`` installs where it can).
Writes ``outputs/fashion_*.png`` and ``saved_models/fashion_mnist/<version>/``.
"""

import json
import os
import subprocess
import sys
import textwrap
import time
from pathlib import Path

os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "2")

import numpy as np  # noqa: E402

from applied_ml.datasets import FASHION_MNIST_CLASSES, load_fashion_mnist  # noqa: E402
from applied_ml.plots import (  # noqa: E402
    plot_confusion_matrix,
    plot_learning_curves,
    plot_misclassified,
)
from applied_ml.vision import ImageClassifier  # noqa: E402

ROOT = Path(__file__).resolve().parent.parent
OUTPUTS = ROOT / "outputs"
MODEL_FOLDER = ROOT / "saved_models" / "fashion_mnist"
PER_CLASS = 100
N_TEST = 2000
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
    images = tf.constant(np.array(request["images"], dtype="uint8"))
    out = serve(images=images)
    print(json.dumps({
        "applied_ml_imported": "applied_ml" in sys.modules,
        "labels": [b.decode() for b in out["labels"].numpy()],
        "probabilities": out["probabilities"].numpy().astype("float64").tolist(),
    }))
    """
)


def section(title: str) -> None:
    print(f"\n== {title} " + "=" * max(0, 70 - len(title)))


def per_class_subset(y: np.ndarray, n: int, seed: int) -> np.ndarray:
    """Indices of ``n`` random examples of every class."""
    rng = np.random.default_rng(seed)
    picks = [rng.choice(np.flatnonzero(y == c), n, replace=False) for c in np.unique(y)]
    return np.sort(np.concatenate(picks))


def main() -> None:
    start = time.perf_counter()

    section("Data")
    (x_train, y_train), (x_test, y_test) = load_fashion_mnist()
    names = np.array(FASHION_MNIST_CLASSES)
    train = per_class_subset(y_train, PER_CLASS, SEED)
    x, y = x_train[train], names[y_train[train]]
    x_test, y_test = x_test[:N_TEST], names[y_test[:N_TEST]]
    print(f"train: {len(x)} images ({PER_CLASS} per class), test: {len(x_test)}")
    print(f"image shape {x.shape[1:]}, {x.dtype}; classes: {', '.join(names)}")

    section("Transfer learning (frozen EfficientNet-Lite0, cached features)")
    clf = ImageClassifier(
        backbone="efficientnet_lite0",
        image_size=96,  # 28x28 grey upscaled; 96 px keeps the CPU cost small
        augmentation=None,  # frozen backbone + no augmentation: features cached
        epochs=60,
        patience=8,
        random_state=SEED,
    )
    t0 = time.perf_counter()
    clf.fit(x, y)
    print(f"{clf.n_iter_} epochs in {time.perf_counter() - t0:.1f}s")

    section("Held-out metrics")
    for name, value in clf.evaluate(x_test, y_test).items():
        print(f"{name:>16}: {value:.4f}")
    pred = clf.predict(x_test)
    top3 = clf.predict_top_k(x_test, k=3)
    top3_acc = np.mean([t in row for t, row in zip(y_test, top3, strict=True)])
    print(f"{'top-3 accuracy':>16}: {top3_acc:.4f}")

    section("Figures")
    for png in (
        plot_learning_curves(clf, OUTPUTS / "fashion_learning_curves.png"),
        plot_confusion_matrix(
            y_test, pred, OUTPUTS / "fashion_confusion.png", labels=names
        ),
        plot_misclassified(x_test, y_test, pred, OUTPUTS / "fashion_mistakes.png"),
    ):
        print(f"wrote {Path(png).relative_to(ROOT)}")

    section("Export")
    export_path = clf.export(path=MODEL_FOLDER)
    print(f"SavedModel written to {Path(export_path).relative_to(ROOT)}")

    section("Serving from plain TensorFlow (fresh process)")
    # Two test images at twice their size: the SavedModel resizes itself.
    images = np.kron(x_test[:2, :, :, None], np.ones((1, 2, 2, 1), "uint8"))
    result = subprocess.run(
        [sys.executable, "-c", SERVE],
        input=json.dumps({"path": os.fspath(export_path), "images": images.tolist()}),
        capture_output=True,
        text=True,
        check=False,
    )
    if result.returncode != 0:
        sys.exit(f"serving process failed:\n{result.stderr}")
    served = json.loads(result.stdout.strip().splitlines()[-1])
    if served["applied_ml_imported"]:
        sys.exit("serving process imported applied_ml; it must need TensorFlow only")
    for label, truth in zip(served["labels"], y_test[:2], strict=True):
        print(f"served label: {label:<12} true: {truth}")
    local = clf.predict_proba(images)
    agree = np.allclose(local, served["probabilities"], atol=1e-5)
    print("matches clf.predict_proba in this process:", agree)

    section("Done")
    print(f"total {time.perf_counter() - start:.1f}s")


if __name__ == "__main__":
    main()
