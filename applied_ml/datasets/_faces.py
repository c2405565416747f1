"""The AT&T (ORL) face database, read from a local copy of its folder."""

import os
import re

import numpy as np
from PIL import Image

_SUBJECT = re.compile(r"s(\d+)")
_IMAGE = re.compile(r"(\d+)\.pgm")


def load_att_faces(path: str | os.PathLike) -> tuple[np.ndarray, np.ndarray]:
    """AT&T (ORL) faces: 40 people, 10 grey 92x112 photographs each.

    The folder holds one sub-folder per person, ``s1`` to ``s40``, each with
    ``1.pgm`` to ``10.pgm``. Nothing is downloaded.

    Parameters
    ----------
    path : str or os.PathLike
        The database's folder (the one holding ``s1`` ... ``s40``).

    Returns
    -------
    images : ndarray of shape (n, 112, 92)
        uint8 grey images, ordered by person, then by image number.
    identities : ndarray of shape (n,)
        The person's number (1 for ``s1``) of each image.

    Examples
    --------
    >>> from applied_ml.datasets import load_att_faces
    >>> images, identities = load_att_faces("data/att_faces")  # doctest: +SKIP
    >>> images.shape, identities[:3]  # doctest: +SKIP
    ((400, 112, 92), array([1, 1, 1]))
    """
    folder = os.fspath(path)
    if not os.path.isdir(folder):
        raise FileNotFoundError(
            "`path` must be the AT&T faces folder, holding s1/ ... s40/ with "
            f"1.pgm ... 10.pgm each. Received: path={folder!r}, not a folder."
        )
    subjects = sorted(
        (int(match.group(1)), name)
        for name in os.listdir(folder)
        if (match := _SUBJECT.fullmatch(name))
        and os.path.isdir(os.path.join(folder, name))
    )
    images, identities = [], []
    for subject, name in subjects:
        files = sorted(
            (int(match.group(1)), file)
            for file in os.listdir(os.path.join(folder, name))
            if (match := _IMAGE.fullmatch(file))
        )
        for _, file in files:
            file_path = os.path.join(folder, name, file)
            with Image.open(file_path) as photo:
                image = np.asarray(photo.convert("L"))
            if images and image.shape != images[0].shape:
                raise ValueError(
                    f"Every AT&T face is {images[0].shape[1]}x{images[0].shape[0]} "
                    f"pixels. Received: {file_path!r} of "
                    f"{image.shape[1]}x{image.shape[0]}."
                )
            images.append(image)
            identities.append(subject)
    if not images:
        raise FileNotFoundError(
            f"No s<number>/<number>.pgm images in `path`. Received: path={folder!r}"
        )
    return np.stack(images), np.array(identities)
