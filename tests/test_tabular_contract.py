"""The estimator contract: clone, params, persistence, export, reproducibility."""

import os
import pickle
import subprocess
import sys
import textwrap

import keras
import numpy as np
import pytest

from applied_ml import TabularClassifier, TabularRegressor
from applied_ml.export import load_serving
from tests.conftest import FAST


@pytest.fixture(scope="session")
def fitted_penguins(penguins):
    X, y = penguins
    return TabularClassifier(**FAST).fit(X, y), X, y


def test_set_params_round_trip():
    clf = TabularClassifier().set_params(model="linear", l1=0.1)
    assert clf.get_params()["model"] == "linear"
    assert clf.get_params()["l1"] == 0.1


def test_pickle_round_trip_fitted_and_unfitted(fitted_penguins):
    clf, X, _ = fitted_penguins
    restored = pickle.loads(pickle.dumps(clf))
    np.testing.assert_array_equal(restored.predict(X), clf.predict(X))
    np.testing.assert_allclose(
        restored.predict_proba(X), clf.predict_proba(X), rtol=1e-6
    )
    assert "model_" in vars(clf)  # pickling must not strip the live estimator
    unfitted = pickle.loads(pickle.dumps(TabularClassifier(model="linear")))
    assert unfitted.get_params()["model"] == "linear"


def test_keras_file_round_trip(fitted_penguins, tmp_path):
    clf, X, _ = fitted_penguins
    path = tmp_path / "penguins.keras"
    clf.save(path)
    loaded = TabularClassifier.load(path)
    np.testing.assert_allclose(loaded.predict_proba(X), clf.predict_proba(X), rtol=1e-6)
    assert loaded.get_params() == clf.get_params()
    assert loaded.feature_specs_ == clf.feature_specs_
    # the archive is also an ordinary Keras model file
    model = keras.saving.load_model(path, safe_mode=True)
    assert model.count_params() == clf.model_.count_params()


def test_savedmodel_serves_raw_rows_without_applied_ml(fitted_penguins, tmp_path):
    clf, X, _ = fitted_penguins
    path = clf.export(tmp_path / "penguins")
    assert path == os.path.join(tmp_path / "penguins", "1")
    rows = X.iloc[:6]
    feed = {
        c["input"]: (
            rows[c["column"]].astype(float).tolist()
            if c["kind"] == "numeric"
            else rows[c["column"]].fillna("").astype(str).tolist()
        )
        for c in clf.input_columns_
    }
    script = textwrap.dedent(
        f"""
        import json, sys
        import tensorflow as tf
        serve = tf.saved_model.load({path!r}).signatures["serving_default"]
        feed = json.loads(sys.stdin.read())
        out = serve(**{{k: tf.constant(v, tf.float64 if isinstance(v[0], float)
                        else tf.string) for k, v in feed.items()}})
        print(json.dumps({{
            "labels": [s.decode() for s in out["labels"].numpy()],
            "probabilities": out["probabilities"].numpy().tolist(),
            "applied_ml_loaded": "applied_ml" in sys.modules,
        }}))
        """
    )
    import json

    result = subprocess.run(
        [sys.executable, "-c", script],
        input=json.dumps(feed),
        capture_output=True,
        text=True,
        check=True,
    )
    served = json.loads(result.stdout.strip().splitlines()[-1])
    assert not served["applied_ml_loaded"]
    assert served["labels"] == clf.predict(rows).tolist()
    np.testing.assert_allclose(
        served["probabilities"], clf.predict_proba(rows), atol=1e-5
    )


def test_export_versions_and_no_overwrite(fitted_penguins, tmp_path):
    clf, X, _ = fitted_penguins
    first = clf.export(tmp_path / "m")
    second = clf.export(tmp_path / "m")
    assert (os.path.basename(first), os.path.basename(second)) == ("1", "2")
    with pytest.raises(FileExistsError, match="already exists"):
        clf.export(tmp_path / "m", version=1)
    serve = load_serving(second).signatures["serving_default"]
    assert set(serve.structured_outputs) == {"probabilities", "labels"}


def test_export_default_root(fitted_penguins, tmp_path, monkeypatch):
    clf, _, _ = fitted_penguins
    monkeypatch.chdir(tmp_path)
    path = clf.export()
    assert path == os.path.join("saved_models", "tabularclassifier", "1")
    assert os.path.exists(os.path.join(path, "saved_model.pb"))


def test_regressor_export_returns_predictions(tmp_path):
    from sklearn.datasets import load_diabetes

    X, y = load_diabetes(return_X_y=True)
    reg = TabularRegressor(**FAST).fit(X, y)
    serve = load_serving(reg.export(tmp_path / "r")).signatures["serving_default"]
    feed = {f"x{i}": X[:5, i] for i in range(X.shape[1])}
    np.testing.assert_allclose(
        serve(**feed)["predictions"].numpy(), reg.predict(X[:5]), rtol=1e-4
    )


def test_same_random_state_gives_identical_predictions(breast_cancer):
    X, y = breast_cancer
    a = TabularClassifier(**FAST).fit(X, y).predict_proba(X)
    b = TabularClassifier(**FAST).fit(X, y).predict_proba(X)
    np.testing.assert_array_equal(a, b)


def test_fit_leaves_global_numpy_random_state_alone(breast_cancer):
    X, y = breast_cancer
    before = np.random.get_state()[1].copy()  # noqa: NPY002
    TabularClassifier(**{**FAST, "epochs": 2}).fit(X, y)
    np.testing.assert_array_equal(np.random.get_state()[1], before)  # noqa: NPY002


def test_predict_does_not_use_keras_model_predict(fitted_penguins, monkeypatch):
    clf, X, _ = fitted_penguins
    monkeypatch.setattr(clf.model_, "predict", lambda *a, **k: pytest.fail("slow path"))
    assert clf.predict(X.iloc[:1]).shape == (1,)
    assert clf.predict_proba(X).shape == (len(X), 3)


def test_warm_start_continues_training(breast_cancer):
    X, y = breast_cancer
    clf = TabularClassifier(**{**FAST, "epochs": 3, "early_stopping": False})
    clf.set_params(warm_start=True).fit(X, y)
    model, steps = clf.model_, int(clf.model_.optimizer.iterations.numpy())
    clf.fit(X, y)
    assert clf.model_ is model
    assert int(clf.model_.optimizer.iterations.numpy()) == 2 * steps


def test_resume_from_checkpoint_dir_after_interrupted_fit(breast_cancer, tmp_path):
    X, y = breast_cancer

    class Crash(keras.callbacks.Callback):
        def on_epoch_end(self, epoch, logs=None):
            if epoch == 2:
                raise KeyboardInterrupt("simulated kill")

    params = {**FAST, "epochs": 6, "early_stopping": False}
    params["checkpoint_dir"] = str(tmp_path / "ckpt")
    with pytest.raises(KeyboardInterrupt):
        TabularClassifier(**params, callbacks=(Crash(),)).fit(X, y)
    assert os.listdir(tmp_path / "ckpt")
    resumed = TabularClassifier(**params).fit(X, y)
    # epochs 0-2 were done before the crash; only 3-5 run again
    assert resumed.n_iter_ == 3
    assert resumed.score(X, y) > 0.9


def test_verbose_1_shows_a_progress_bar(breast_cancer, capsys):
    X, y = breast_cancer
    TabularClassifier(**{**FAST, "epochs": 1, "verbose": 1}).fit(X, y)
    out = capsys.readouterr().out
    assert "step" in out and "loss" in out and "val_accuracy" in out
    TabularClassifier(**{**FAST, "epochs": 1}).fit(X, y)
    assert capsys.readouterr().out == ""


def test_mirrored_strategy_matches_single_device_quality(breast_cancer):
    import tensorflow as tf

    X, y = breast_cancer
    X, y = X.iloc[::4], y.iloc[::4]  # tiny: a mirrored step is slow on CPUs
    assert len(tf.config.list_logical_devices("CPU")) == 2
    params = {**FAST, "epochs": 8, "learning_rate": 0.05}
    single = TabularClassifier(**params).fit(X, y)
    mirrored = TabularClassifier(**params, strategy="mirrored").fit(X, y)
    assert mirrored.model_.distribute_strategy.num_replicas_in_sync == 2
    assert abs(mirrored.score(X, y) - single.score(X, y)) < 0.03
    assert mirrored.score(X, y) > 0.95
    restored = pickle.loads(pickle.dumps(mirrored))
    np.testing.assert_allclose(
        restored.predict_proba(X), mirrored.predict_proba(X), rtol=1e-5
    )


def test_mirrored_strategy_with_string_columns(penguins, tmp_path):
    X, y = penguins
    X, y = X.iloc[::3], y.iloc[::3]
    params = {**FAST, "epochs": 8, "learning_rate": 0.05}
    clf = TabularClassifier(**params, strategy="mirrored").fit(X, y)
    assert clf.model_.distribute_strategy.num_replicas_in_sync == 2
    assert clf.score(X, y) > 0.95
    serve = load_serving(clf.export(tmp_path / "m")).signatures["serving_default"]
    assert set(serve.structured_outputs) == {"labels", "probabilities"}


def test_strategy_object_is_accepted(breast_cancer):
    import tensorflow as tf

    X, y = breast_cancer
    strategy = tf.distribute.OneDeviceStrategy("/cpu:0")
    clf = TabularClassifier(**{**FAST, "epochs": 3}, strategy=strategy).fit(X, y)
    assert clf.model_.distribute_strategy is strategy
