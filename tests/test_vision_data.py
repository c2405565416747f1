"""Image inputs: float scales, channel counts, 16-bit files and single paths."""

import pathlib

import numpy as np
import pytest
from PIL import Image

from applied_ml.vision import ImageClassifier, _data

TINY = {
    "backbone": "small_cnn",
    "weights": None,
    "augmentation": None,
    "image_size": 32,
    "epochs": 1,
    "random_state": 0,
}


@pytest.fixture(scope="session")
def images():
    rng = np.random.default_rng(0)
    x = rng.integers(0, 256, (40, 32, 32, 1)).astype(np.uint8)
    y = np.where(x.mean(axis=(1, 2, 3)) > 127.5, "light", "dark")
    return x, y


@pytest.fixture(scope="session")
def fitted(images):
    x, y = images
    return ImageClassifier(**TINY).fit(x, y)


@pytest.fixture(scope="session")
def files(tmp_path_factory):
    """A grey PNG first, then an RGB PNG (its channels all different)."""
    folder = tmp_path_factory.mktemp("images")
    rng = np.random.default_rng(1)
    grey = rng.integers(0, 256, (32, 32)).astype(np.uint8)
    rgb = np.stack([grey, 255 - grey, np.full_like(grey, 60)], axis=-1)
    Image.fromarray(grey).save(folder / "a_grey.png")
    Image.fromarray(rgb).save(folder / "b_rgb.png")
    return folder / "a_grey.png", folder / "b_rgb.png", grey, rgb


def test_floats_in_0_1_are_scaled_to_0_255_with_a_warning(images, fitted):
    x, _ = images
    with pytest.warns(UserWarning, match="`X` holds floats in \\[0, 1\\].*uint8"):
        scaled = _data.as_image_array(x / 255)
    np.testing.assert_allclose(scaled, x, atol=1e-9)
    with pytest.warns(UserWarning, match="floats in \\[0, 1\\]"):
        proba = fitted.predict_proba(x / 255)
    np.testing.assert_allclose(proba, fitted.predict_proba(x), atol=1e-5)
    with pytest.warns(UserWarning, match="floats in \\[0, 1\\]"):
        assert fitted.predict(x / 255).tolist() == fitted.predict(x).tolist()


def test_0_255_floats_and_black_images_are_taken_as_they_are():
    # pytest turns warnings into errors: none is raised here
    black = _data.as_image_array(np.zeros((2, 8, 8)))
    assert black.max() == 0
    bright = _data.as_image_array(np.full((2, 8, 8), 2.0))
    assert bright.max() == 2.0


def test_one_colour_file_makes_all_files_rgb(files):
    grey_path, rgb_path, grey, rgb = files
    batch = _data.read_images([grey_path, rgb_path], (32, 32))
    assert batch.shape == (2, 32, 32, 3)
    for channel in range(3):
        np.testing.assert_array_equal(batch[0, ..., channel], grey)
    np.testing.assert_array_equal(batch[1], rgb)
    assert _data.read_images([grey_path, grey_path], (32, 32)).shape[-1] == 1


def test_the_fitted_channel_count_decides_at_predict_time(files):
    grey_path, rgb_path, grey, _ = files
    as_grey = _data.read_images([rgb_path, grey_path], (32, 32), channels=1)
    assert as_grey.shape == (2, 32, 32, 1)
    np.testing.assert_array_equal(as_grey[1, ..., 0], grey)
    as_rgb = _data.read_images([grey_path], (32, 32), channels=3)
    assert as_rgb.shape == (1, 32, 32, 3)


def test_16_bit_png_is_scaled_not_clipped(tmp_path):
    gradient = np.tile(np.linspace(0, 65535, 64), (32, 1)).astype(np.uint16)
    image = Image.fromarray(gradient)
    assert image.mode.startswith("I;16")
    image.save(tmp_path / "deep.png")
    read = _data.read_image(str(tmp_path / "deep.png"), (32, 64), None)
    assert read.shape == (32, 64, 1)
    row = read[16, :, 0].astype(int)
    assert row[0] <= 2 and row[-1] >= 253
    assert abs(row[32] - 130) <= 4  # mid-grey, not white
    assert (np.diff(row) >= 0).all()


def test_one_image_path_is_a_batch_of_one(fitted, images, files, tmp_path):
    x, _ = images
    grey_path, rgb_path, _, _ = files
    expected = fitted.predict_proba([str(grey_path)])
    for path in (str(grey_path), pathlib.Path(grey_path)):
        np.testing.assert_array_equal(fitted.predict_proba(path), expected)
        assert fitted.predict(path).shape == (1,)
    # the fitted channel count (grey) decides for an RGB file
    assert fitted.predict(str(rgb_path)).shape == (1,)


def test_a_string_that_is_not_a_file_is_an_error(fitted, tmp_path):
    missing = str(tmp_path / "nowhere.png")
    with pytest.raises(
        ValueError,
        match="`X` must be images \\(an array\\), a list of image files or one "
        "image file. Received: X='.*nowhere.png', which is not an existing file",
    ):
        fitted.predict(missing)
    with pytest.raises(ValueError, match="A folder of class sub-folders holds"):
        fitted.predict(str(tmp_path))


def test_32_bit_pixels_beyond_16_bits_are_an_error(tmp_path):
    Image.fromarray(np.full((8, 8), 70000, np.int32)).save(tmp_path / "wide.tif")
    with pytest.raises(ValueError, match="outside the 16-bit range \\[0, 65535\\]"):
        _data.read_image(str(tmp_path / "wide.tif"), (32, 32), None)
