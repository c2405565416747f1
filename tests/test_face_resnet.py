"""The face-api descriptor ResNet: reading its weights, and the real network."""

import json
import os
import tarfile

import keras
import numpy as np
import pytest
from PIL import Image

from applied_ml.datasets import load_att_faces
from applied_ml.vision import _face_resnet as fr
from tests.conftest import need

ATT_FACES = os.path.join(
    os.path.dirname(__file__), "..", "..", "shared", "data", "att_faces"
)
MANIFEST = "face_recognition_model-weights_manifest.json"
# dlib's own descriptor (dlib 20.0.1, dlib_face_recognition_resnet_model_v1) of
# AT&T s1/1.pgm cropped as in _crop(), times 1000 and rounded.
DLIB_S1_1 = (
    np.array(
        """
        -85 66 23 1 -123 -30 -79 -149 68 -76 121 -88 -247 16 21 132 -158 -123
        -110 -84 41 79 -23 36 -81 -263 -123 -93 69 -84 -44 23 -173 0 66 89 -40
        -93 191 23 -223 -5 62 245 247 13 -49 -52 130 -318 28 183 72 132 54 -174
        41 173 -186 38 133 -104 -28 -85 212 132 -130 -165 99 -220 -94 98 -97
        -190 -264 46 450 204 -226 -9 -37 -14 138 59 -40 -14 -96 -18 237 -33 33
        252 5 52 35 54 -63 -75 -134 -44 -6 -101 -1 139 -169 238 -17 -23 -61 -58
        -45 57 192 -274 174 179 2 130 25 114 -67 -49 -217 -104 64 -22 -16 5
        """.split(),
        np.float32,
    )
    / 1000
)


def _write_fake(folder, bin_bytes: bytes, manifest=None) -> None:
    """A face-api-like package/ folder: a uint8-quantized tensor and a float32."""
    model = folder / "package" / "model"
    model.mkdir(parents=True)
    if manifest is None:
        manifest = [
            {
                "paths": ["face_recognition_model.bin"],
                "weights": [
                    {
                        "name": "a",
                        "shape": [2, 2],
                        "dtype": "float32",
                        "quantization": {"dtype": "uint8", "scale": 0.5, "min": -1.0},
                    },
                    {"name": "b", "shape": [2], "dtype": "float32"},
                ],
            }
        ]
    (model / MANIFEST).write_text(json.dumps(manifest))
    (model / "face_recognition_model.bin").write_bytes(bin_bytes)


GOOD_BIN = bytes([0, 1, 2, 255]) + np.array([1.5, -2.0], "<f4").tobytes()


def _tgz(folder, name="fake.tgz"):
    path = folder / name
    with tarfile.open(path, "w:gz") as archive:
        archive.add(folder / "package", arcname="package")
    return path


def test_reads_and_dequantizes_a_folder_and_a_tarball(tmp_path, monkeypatch):
    _write_fake(tmp_path, GOOD_BIN)
    monkeypatch.setattr(fr, "PARAMETERS", 6)
    for source in (tmp_path, tmp_path / "package", _tgz(tmp_path)):
        tensors = fr.read_tfjs_weights(source)
        np.testing.assert_allclose(tensors["a"], [[-1.0, -0.5], [0.0, 126.5]])
        np.testing.assert_array_equal(tensors["b"], [1.5, -2.0])
        assert tensors["a"].dtype == np.float32


def test_refuses_a_wrong_package_with_a_clear_error(tmp_path, monkeypatch):
    _write_fake(tmp_path / "good", GOOD_BIN)
    # right layout, but not the face descriptor's 5,614,592 parameters
    with pytest.raises(ValueError, match=r"5,614,592 parameters\. Received: 6 "):
        fr.read_tfjs_weights(tmp_path / "good")
    monkeypatch.setattr(fr, "PARAMETERS", 6)
    _write_fake(tmp_path / "short", GOOD_BIN[:-1])
    with pytest.raises(ValueError, match=r"shorter than their manifest.*Received: 11"):
        fr.read_tfjs_weights(_tgz(tmp_path / "short"))
    _write_fake(tmp_path / "long", GOOD_BIN + b"\0")
    with pytest.raises(ValueError, match=r"not exactly the size.*Received: 13 bytes"):
        fr.read_tfjs_weights(tmp_path / "long")
    _write_fake(tmp_path / "bad", GOOD_BIN, manifest={"weights": []})
    with pytest.raises(ValueError, match=r"weights manifest.*Received: "):
        fr.read_tfjs_weights(tmp_path / "bad")
    (tmp_path / "empty.tgz").write_bytes(b"not a tarball")
    with pytest.raises(ValueError, match=r"Received: .*not a tar file"):
        fr.read_tfjs_weights(tmp_path / "empty.tgz")
    with pytest.raises(FileNotFoundError, match=r"Received: .*does not exist"):
        fr.read_tfjs_weights(tmp_path / "absent")


def test_says_how_to_fetch_the_package(tmp_path, monkeypatch):
    monkeypatch.setenv("APPLIED_ML_CACHE", str(tmp_path))
    monkeypatch.delenv(fr.PACKAGE_ENV, raising=False)
    with pytest.raises(FileNotFoundError) as error:
        fr.pretrained_weights_path()
    message = str(error.value)
    assert "make face-api" in message
    assert "npm pack @vladmandic/face-api@1.7.15 --pack-destination" in message
    assert f"Received: no {str(tmp_path / fr.TARBALL)!r}" in message


def test_saves_and_loads_in_safe_mode_without_custom_objects(tmp_path):
    model = fr.build_face_resnet()
    assert model.output_shape == (None, fr.EMBEDDING_SIZE)
    x = np.random.default_rng(0).normal(size=(1, 150, 150, 3)).astype(np.float32)
    model.save(tmp_path / "face.keras")
    loaded = keras.saving.load_model(tmp_path / "face.keras", safe_mode=True)
    np.testing.assert_allclose(loaded(x), model(x))


def _have(function) -> bool:
    try:
        function()
    except FileNotFoundError:
        return False
    return True


def test_the_real_package_fills_every_weight_exactly_once():
    need("the face-api weights (make face-api)", _have(fr.package_path))
    tensors = fr.read_tfjs_weights(fr.package_path())
    assert len(tensors) == 117
    assert sum(t.size for t in tensors.values()) == fr.PARAMETERS == 5_614_592
    model = fr.build_face_resnet()
    fr.assign_tfjs_weights(model, tensors)  # raises on a missing or unused tensor
    # the folded network: each convolution's 2 x filters scale values are gone
    scales = sum(t.size for name, t in tensors.items() if "/scale/" in name)
    assert model.count_params() == fr.PARAMETERS - scales == 5_607_488


def _crop(image: np.ndarray) -> np.ndarray:
    """Centered box shrunk 10% per side, 150x150 bilinear, grey to RGB, normalized."""
    height, width = image.shape
    dy, dx = round(0.1 * height), round(0.1 * width)
    crop = Image.fromarray(image[dy : height - dy, dx : width - dx])
    crop = np.asarray(crop.resize((150, 150), Image.BILINEAR), np.float32)
    rgb = np.repeat(crop[..., None], 3, axis=-1)
    return (rgb - np.asarray(fr.MEAN, np.float32)) / fr.PIXEL_SCALE


def test_the_pretrained_network_tells_people_apart_like_dlib():
    need("the face-api weights (make face-api)", _have(fr.pretrained_weights_path))
    need("../shared/data/att_faces", os.path.isdir(ATT_FACES))
    images, identities = load_att_faces(ATT_FACES)
    first = np.searchsorted(identities, [1, 2, 3, 4, 5])  # s1/1.pgm ... s5/1.pgm
    faces = np.stack([_crop(images[i]) for i in first])
    model = fr.build_face_resnet()
    model.load_weights(fr.pretrained_weights_path())
    batch = np.concatenate([faces, faces[:, :, ::-1]])
    descriptors = model.predict(batch, verbose=0)
    faces, mirrors = descriptors[:5], descriptors[5:]
    to_mirror = np.linalg.norm(faces - mirrors, axis=1)
    to_next_person = np.linalg.norm(faces - np.roll(faces, -1, axis=0), axis=1)
    # measured: mirror / other person 0.46..0.66 on these unaligned crops
    assert (to_mirror < 0.75 * to_next_person).all(), (to_mirror, to_next_person)
    # dlib's own descriptor of the same crop: measured 0.04 away (its weights
    # are 8-bit quantized in face-api), ~0.5 from another person
    assert np.linalg.norm(faces[0] - DLIB_S1_1) < 0.1
    assert np.linalg.norm(faces[1] - DLIB_S1_1) > 0.3
