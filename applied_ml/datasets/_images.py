"""Fashion-MNIST from Debian's ``dataset-fashion-mnist`` package (or Keras)."""

import gzip
import os

import numpy as np

DEBIAN_FOLDER = "/usr/share/datasets/fashion-mnist"
FASHION_MNIST_CLASSES = (
    "T-shirt/top",
    "Trouser",
    "Pullover",
    "Dress",
    "Coat",
    "Sandal",
    "Shirt",
    "Sneaker",
    "Bag",
    "Ankle boot",
)


def _read_idx(path: str) -> np.ndarray:
    """An IDX file (the MNIST format): big-endian header, then uint8 data."""
    with gzip.open(path, "rb") as f:
        data = f.read()
    if data[:2] != b"\x00\x00" or data[2] != 0x08:
        raise ValueError(f"{path!r} is not an IDX file of unsigned bytes.")
    ndim = data[3]
    shape = tuple(
        int.from_bytes(data[4 + 4 * i : 8 + 4 * i], "big") for i in range(ndim)
    )
    return np.frombuffer(data, np.uint8, offset=4 + 4 * ndim).reshape(shape)


def load_fashion_mnist(
    folder: str | os.PathLike | None = None,
) -> tuple[tuple[np.ndarray, np.ndarray], tuple[np.ndarray, np.ndarray]]:
    """Fashion-MNIST: 60,000 + 10,000 grey 28x28 clothing images in 10 classes.

    Read from Debian's ``dataset-fashion-mnist`` package when it is installed
    (no network); otherwise from ``keras.datasets.fashion_mnist``, which
    downloads when online.

    Parameters
    ----------
    folder : str or os.PathLike, optional
        Folder holding ``{train,t10k}-{images-idx3,labels-idx1}-ubyte.gz``;
        defaults to the Debian package's ``/usr/share/datasets/fashion-mnist``.

    Returns
    -------
    (x_train, y_train), (x_test, y_test) : tuple of tuples of ndarray
        uint8 images of shape (n, 28, 28) and uint8 labels 0-9 (names in
        ``FASHION_MNIST_CLASSES``).

    Examples
    --------
    >>> from applied_ml.datasets import load_fashion_mnist
    >>> (x_train, y_train), (x_test, y_test) = load_fashion_mnist()  # doctest: +SKIP
    >>> x_train.shape, x_test.shape  # doctest: +SKIP
    ((60000, 28, 28), (10000, 28, 28))
    """
    folder = os.fspath(folder) if folder is not None else DEBIAN_FOLDER
    names = [
        f"{s}-{k}-ubyte.gz"
        for s in ("train", "t10k")
        for k in ("images-idx3", "labels-idx1")
    ]
    paths = [os.path.join(folder, n) for n in names]
    if all(os.path.exists(p) for p in paths):
        x_train, y_train, x_test, y_test = (_read_idx(p) for p in paths)
        return (x_train, y_train), (x_test, y_test)
    try:
        import keras

        return keras.datasets.fashion_mnist.load_data()
    except Exception as err:  # offline: a URL, socket or HTTP error
        raise FileNotFoundError(
            f"Fashion-MNIST is not in {folder!r} and could not be downloaded "
            f"({type(err).__name__}). Offline, install it with "
            "`apt-get install dataset-fashion-mnist` (Debian)."
        ) from err
