"""load_att_faces: order, identities and errors on a made folder; the real copy."""

import os

import numpy as np
import pytest
from PIL import Image

from applied_ml.datasets import load_att_faces
from tests.conftest import need

ATT_FACES = os.path.join(
    os.path.dirname(__file__), "..", "..", "shared", "data", "att_faces"
)


def _write(folder, subject: str, number: int, value: int, size=(92, 112)) -> None:
    os.makedirs(folder / subject, exist_ok=True)
    pixels = np.full(size[::-1], value, np.uint8)
    Image.fromarray(pixels).save(folder / subject / f"{number}.pgm")


def test_reads_people_and_images_in_numeric_order(tmp_path):
    _write(tmp_path, "s10", 1, 50)
    _write(tmp_path, "s2", 10, 30)
    _write(tmp_path, "s2", 2, 20)
    _write(tmp_path, "s1", 1, 10)
    (tmp_path / "README").write_text("not a face")
    images, identities = load_att_faces(tmp_path)
    assert images.shape == (4, 112, 92) and images.dtype == np.uint8
    np.testing.assert_array_equal(identities, [1, 2, 2, 10])
    np.testing.assert_array_equal(images[:, 0, 0], [10, 20, 30, 50])


def test_refuses_a_missing_or_empty_folder_and_a_size_change(tmp_path):
    with pytest.raises(FileNotFoundError, match="Received: path=.*not a folder"):
        load_att_faces(tmp_path / "absent")
    with pytest.raises(FileNotFoundError, match=r"No s<number>/<number>\.pgm"):
        load_att_faces(tmp_path)
    _write(tmp_path, "s1", 1, 10)
    _write(tmp_path, "s1", 2, 10, size=(90, 112))
    with pytest.raises(ValueError, match=r"92x112 pixels\. Received: .*2\.pgm.*90x112"):
        load_att_faces(tmp_path)


def test_reads_the_real_database():
    need("../shared/data/att_faces", os.path.isdir(ATT_FACES))
    images, identities = load_att_faces(ATT_FACES)
    assert images.shape == (400, 112, 92)
    np.testing.assert_array_equal(np.bincount(identities), [0] + [10] * 40)
    # each folder is one person: a photograph's nearest other photograph (raw
    # pixels) is nearly always of the same person (0.9625 in SOURCE.md)
    faces = images.reshape(len(images), -1).astype(np.float32)
    squared = (faces**2).sum(axis=1)
    distances = squared[:, None] + squared[None, :] - 2 * faces @ faces.T
    np.fill_diagonal(distances, np.inf)
    nearest = identities[distances.argmin(axis=1)]
    assert (nearest == identities).mean() > 0.9
