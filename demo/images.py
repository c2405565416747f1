"""Images: Fashion-MNIST by transfer learning from a pretrained EfficientNet-Lite0."""

import os

import numpy as np
from sklearn.neighbors import KNeighborsClassifier

from applied_ml.datasets import FASHION_MNIST_CLASSES, load_fashion_mnist
from applied_ml.plots import plot_confusion_matrix
from applied_ml.vision import ImageClassifier
from demo._common import SEED, export_fresh, metric, serve_one
from demo.parts import Skipped

TITLE = "Images: Fashion-MNIST clothing"
PER_CLASS = 50  # 500 training images: where pretrained features shine
N_TEST = 1000


def per_class_subset(y, n: int, seed: int) -> np.ndarray:
    """Indices of ``n`` random examples of every class."""
    rng = np.random.default_rng(seed)
    picks = [rng.choice(np.flatnonzero(y == c), n, replace=False) for c in np.unique(y)]
    return np.sort(np.concatenate(picks))


def run(folder) -> dict:
    """Train, compare, plot, export and serve; return the part's result record."""
    try:
        (x_train, y_train), (x_test, y_test) = load_fashion_mnist()
    except (FileNotFoundError, ModuleNotFoundError) as error:
        raise Skipped(f"{error} (`make data` installs it)") from None
    names = np.array(FASHION_MNIST_CLASSES)
    pick = per_class_subset(y_train, PER_CLASS, SEED)
    x, y = x_train[pick], names[y_train[pick]]
    x_test, y_test = x_test[:N_TEST], names[y_test[:N_TEST]]
    print(f"  {len(x)} training images ({PER_CLASS} per class), {len(x_test)} test")

    clf = ImageClassifier(
        backbone="efficientnet_lite0",
        image_size=96,  # 28x28 grey upscaled; small enough for a CPU
        augmentation=None,  # frozen backbone, no augmentation: features cached
        epochs=60,
        patience=8,
        random_state=SEED,
    ).fit(x, y)
    pred = clf.predict(x_test)
    values, counts = np.unique(y, return_counts=True)
    majority = values[np.argmax(counts)]
    accuracy = np.mean(pred == y_test)
    flat = x.reshape(len(x), -1).astype("float32")
    nearest = KNeighborsClassifier(n_neighbors=1).fit(flat, y)
    peer = nearest.score(x_test.reshape(len(x_test), -1).astype("float32"), y_test)

    png = plot_confusion_matrix(
        y_test,
        pred,
        folder / "confusion.png",
        labels=names,
        title=f"Fashion-MNIST, {len(x_test)} test images",
    )

    path = export_fresh(clf, folder)
    image = x_test[0]  # raw uint8, 28x28 grey: the SavedModel resizes itself
    out = serve_one(path, images=image[None, :, :, None])
    label = out["labels"][0].decode()
    return {
        "title": TITLE,
        "data": f"Fashion-MNIST: {len(x)} training images, {len(x_test)} test, "
        "10 classes",
        "model": "ImageClassifier: frozen EfficientNet-Lite0 (ImageNet) + softmax",
        "metric": metric("accuracy", accuracy),
        "peer": metric("1-nearest neighbour on raw pixels", peer),
        "baseline": metric("majority class", np.mean(y_test == majority)),
        "pngs": [os.path.basename(png)],
        "serving": {
            "input": f"one raw uint8 image {image.shape} (test image 0)",
            "output": f"{label} (p={out['probabilities'][0].max():.3f}); "
            f"truth {y_test[0]}",
        },
    }
