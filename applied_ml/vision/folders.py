"""Image data laid out in folders, as the estimators' ``fit`` reads it."""

import os

import numpy as np

from applied_ml.vision import _data, _mask_data


def read_image_folder(path: str | os.PathLike) -> tuple[list[str], np.ndarray]:
    """Image files and labels of a folder with one sub-folder per class.

    The layout ``ImageClassifier.fit`` and ``FaceRecognizer.fit`` take as a
    folder (one sub-folder per class or person), read into a list of files
    and their labels, for a held-out set or a prediction.

    Parameters
    ----------
    path : str or os.PathLike
        The folder.

    Returns
    -------
    paths : list of str
        Image files, sorted by class then name.
    labels : ndarray of shape (n_files,)
        Each file's sub-folder name.
    """
    paths, labels = _data.folder_dataset(os.fspath(path))
    return paths, np.array(labels)


def read_mask_folder(path: str | os.PathLike) -> tuple[list, list]:
    """Images and masks of a folder holding ``images/`` and ``masks/``.

    The layout ``ImageSegmenter.fit`` takes as a folder: files pair up by
    name without the suffix; an unpaired file is an error.

    Parameters
    ----------
    path : str or os.PathLike
        The folder.

    Returns
    -------
    images : list of ndarray
        RGB images (height, width, 3).
    masks : list of ndarray
        Class maps as stored (palette indices or grey values).
    """
    return _mask_data.read_mask_folder(path)


def list_images(path: str | os.PathLike) -> list[str]:
    """Every image file in a folder and its sub-folders, or one image file.

    Parameters
    ----------
    path : str or os.PathLike
        An image file or a folder.

    Returns
    -------
    list of str
        Image files, sorted.
    """
    path = os.fspath(path)
    if os.path.isfile(path):
        return [path]
    if not os.path.isdir(path):
        raise FileNotFoundError(
            f"`path` must be an image file or a folder of images. Received: "
            f"path={path!r}, which does not exist."
        )
    files = sorted(
        os.path.join(root, name)
        for root, _, names in os.walk(path)
        for name in names
        if name.lower().endswith(_data.IMAGE_SUFFIXES)
    )
    if not files:
        raise ValueError(
            f"`path` must hold image files ({', '.join(_data.IMAGE_SUFFIXES)}). "
            f"Received: path={path!r}, with none."
        )
    return files
