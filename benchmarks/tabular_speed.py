"""Speed of TabularClassifier as ratios against raw Keras and scikeras, same run.

Three measurements, each taken side by side in one process. The machine is
shared and noisy, so runs of the two sides alternate (A B, B A, ...), every
measurement is repeated, and medians are reported; ratios are ours / theirs.

1. ``fit`` wall time of ``TabularClassifier`` (``early_stopping=False``,
   ``validation_fraction=0``, fixed epochs and batch size) against the same
   network trained by raw ``keras.Model.fit``: ``keras.models.clone_model`` of
   the fitted ``model_``, compiled with the same optimizer, loss and metric,
   fitted on the same rows already turned into the model's input dict (numeric
   columns as float32 arrays, string columns as ``tf.string`` tensors since
   Keras' array adapter rejects object arrays), passed either directly
   (Keras' array adapter) or through the same tf.data pipeline the estimator
   builds. On breast cancer (30 numeric columns) and Palmer penguins (strings,
   numbers, missing values). Ours is timed from the raw DataFrame, so it
   includes validation, learning the feature statistics, building and
   compiling; the baseline's ``model.fit`` is timed alone, and clone + compile
   separately. Target: ours / raw ``model.fit`` ≤ 1.1 (checked against both
   input paths).
2. ``predict_proba`` on 1, 100 and 10,000 rows from the raw DataFrame against
   ``model_.predict(inputs, verbose=0)`` on the already-prepared input dict
   (``predict_on_batch`` shown for context), and against the bare compiled
   call: ``tf.function`` of ``model_(inputs, training=False)`` with a fixed
   input signature, on the same prepared dict (one tensor per column, as a
   Keras user feeds the model). Targets: ≥ 20x faster than ``predict`` on 1
   row; at most 2x the bare compiled call on 1 row (ours includes checking
   and converting the DataFrame).
3. Against scikeras 0.13 (``pip install --no-deps scikeras==0.13.0``, as
   ``make bench`` does): a ``KerasClassifier`` with an equivalent dense network
   (Normalization, 64-32 ReLU, sigmoid) on breast cancer, fit time for the
   same epochs and batch size, and predict latency on 1/100/10,000 rows.

Run: ``TF_CPP_MIN_LOG_LEVEL=2 .venv/bin/python benchmarks/tabular_speed.py``
"""

import os
import time

os.environ.setdefault("KERAS_BACKEND", "tensorflow")
os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "2")

import keras  # noqa: E402
import numpy as np  # noqa: E402
import tensorflow as tf  # noqa: E402
from _common import (  # noqa: E402
    environment,
    keras_inputs,
    markdown_table,
    median,
    rotate,
    timed,
    verdict,
)
from sklearn.datasets import load_breast_cancer  # noqa: E402

from applied_ml import TabularClassifier  # noqa: E402
from applied_ml.datasets import load_penguins  # noqa: E402

SEED = 0
EPOCHS = 20
BATCH_SIZE = 32
LEARNING_RATE = 0.01  # the estimator's default, used by every side
FIT_REPEATS = 9
PREDICT_SIZES = (1, 100, 10_000)
PREDICT_REPEATS = {1: 50, 100: 50, 10_000: 10}
FIT_TARGET = 1.1
ONE_ROW_TARGET = 20.0
BARE_TARGET = 2.0
FIT_PARAMS = {
    "epochs": EPOCHS,
    "batch_size": BATCH_SIZE,
    "early_stopping": False,
    "validation_fraction": 0.0,
    "random_state": SEED,
}


def load_datasets() -> dict:
    X, y = load_breast_cancer(return_X_y=True, as_frame=True)
    penguins = load_penguins()
    return {"breast cancer": (X, y), "penguins": penguins}


def encoded_targets(est: TabularClassifier, y) -> np.ndarray:
    """Targets as the network is trained on them (class index; 0/1 if binary)."""
    index = np.searchsorted(est.classes_, np.asarray(y))
    if len(est.classes_) == 2:
        return index.astype("float32").reshape(-1, 1)
    return index.astype("int32")


def compile_like(model: keras.Model, est: TabularClassifier) -> None:
    """Compile ``model`` with the optimizer, loss and metric ``est`` uses."""
    binary = len(est.classes_) == 2
    model.compile(
        optimizer=keras.optimizers.Adam(learning_rate=LEARNING_RATE),
        loss=est.model_.loss,
        metrics=["binary_accuracy" if binary else "sparse_categorical_accuracy"],
    )


# ------------------------------------------------------------------------ fit
def pipeline(inputs: dict, targets: np.ndarray):
    """The input pipeline the estimator builds: slices, shuffle, batch, prefetch."""
    return (
        tf.data.Dataset.from_tensor_slices((inputs, targets))
        .shuffle(len(targets), reshuffle_each_iteration=True)
        .batch(BATCH_SIZE)
        .prefetch(tf.data.AUTOTUNE)
    )


def bench_fit(name: str, X, y) -> tuple[dict, TabularClassifier]:
    est = TabularClassifier(**FIT_PARAMS).fit(X, y)  # warm-up, and the template
    inputs = keras_inputs(est, X)
    targets = encoded_targets(est, y)
    sides = ("ours", "arrays", "arrays_build", "tf.data", "tf.data_build")
    times = {k: [] for k in sides}

    def run_ours():
        times["ours"].append(timed(TabularClassifier(**FIT_PARAMS).fit, X, y)[0])

    def fresh_model(side):
        start = time.perf_counter()
        keras.utils.set_random_seed(SEED)
        model = keras.models.clone_model(est.model_)
        compile_like(model, est)
        times[f"{side}_build"].append(time.perf_counter() - start)
        return model

    def run_arrays():
        model = fresh_model("arrays")
        kwargs = {"epochs": EPOCHS, "batch_size": BATCH_SIZE, "verbose": 0}
        times["arrays"].append(timed(model.fit, inputs, targets, **kwargs)[0])

    def run_dataset():
        model = fresh_model("tf.data")
        start = time.perf_counter()
        # shuffle=False: the pipeline shuffles, as the estimator's does.
        model.fit(pipeline(inputs, targets), epochs=EPOCHS, verbose=0, shuffle=False)
        times["tf.data"].append(time.perf_counter() - start)

    run_arrays(), run_dataset()  # warm-up of the raw paths too
    for values in times.values():
        values.clear()
    for r in range(FIT_REPEATS):
        rotate(r, run_ours, run_arrays, run_dataset)
    ours = np.array(times["ours"])

    def ratio(side: str, with_build: bool) -> float:
        theirs = np.array(times[side])
        if with_build:
            theirs = theirs + np.array(times[f"{side}_build"])
        return median(ours / theirs)  # paired by round: cancels slow drift

    ratios = {
        (side, build): ratio(side, build)
        for side in ("arrays", "tf.data")
        for build in (False, True)
    }
    build = median(times["arrays_build"] + times["tf.data_build"])
    row = [
        name,
        f"{len(X)}",
        f"{median(ours):.2f}",
        f"{median(times['arrays']):.2f}",
        f"{median(times['tf.data']):.2f}",
        f"{build:.2f}",
        *(f"{ratios[key]:.2f}x" for key in ratios),
    ]
    return {"row": row, "ratios": ratios}, est


# -------------------------------------------------------------------- predict
def rows_of(X, n: int):
    if n <= len(X):
        return X.iloc[:n]
    return X.sample(n, replace=True, random_state=SEED).reset_index(drop=True)


def check_same(ours: np.ndarray, raw: np.ndarray) -> None:
    if raw.shape[1] == 1:
        raw = np.hstack([1 - raw, raw])
    if not np.allclose(ours, raw, atol=1e-5):
        raise AssertionError("predict_proba and model_.predict disagree")


def compiled_call(model: keras.Model, inputs: dict):
    """The bare compiled model call: a fixed signature over the prepared dict."""
    signature = {
        k: tf.TensorSpec([None, 1], tf.string if v.dtype == tf.string else v.dtype)
        for k, v in inputs.items()
    }
    return tf.function(
        lambda batch: model(batch, training=False),
        input_signature=[signature],
        autograph=False,
    )


def bench_predict(name: str, est: TabularClassifier, X) -> list[dict]:
    results = []
    for n in PREDICT_SIZES:
        rows = rows_of(X, n)
        inputs = keras_inputs(est, rows)
        check_same(est.predict_proba(rows), est.model_.predict(inputs, verbose=0))
        bare = compiled_call(est.model_, inputs)
        check_same(est.predict_proba(rows), bare(inputs).numpy())
        est.model_.predict_on_batch(inputs)  # warm-up
        times = {"ours": [], "predict": [], "on_batch": [], "bare": []}

        def run_ours(rows=rows, times=times):
            times["ours"].append(timed(est.predict_proba, rows)[0])

        def run_raw(inputs=inputs, times=times, bare=bare):
            times["predict"].append(timed(est.model_.predict, inputs, verbose=0)[0])
            times["on_batch"].append(timed(est.model_.predict_on_batch, inputs)[0])
            times["bare"].append(timed(bare, inputs)[0])

        for r in range(PREDICT_REPEATS[n]):
            rotate(r, run_ours, run_raw)
        ours, predict, on_batch, compiled = (
            median(times[k]) for k in ("ours", "predict", "on_batch", "bare")
        )
        results.append(
            {
                "n": n,
                "speedup": predict / ours,
                "bare_ratio": ours / compiled,
                "row": [
                    name,
                    f"{n:,}",
                    f"{ours * 1e3:.2f}",
                    f"{predict * 1e3:.2f}",
                    f"{on_batch * 1e3:.2f}",
                    f"{compiled * 1e3:.2f}",
                    f"{predict / ours:.1f}x",
                    f"{ours / compiled:.2f}",
                ],
            }
        )
    return results


# ------------------------------------------------------------------- scikeras
def scikeras_model(X):
    """Same network as ours on numeric data: standardize, 64-32 ReLU, sigmoid."""
    mean = X.to_numpy("float32").mean(axis=0)
    variance = X.to_numpy("float32").var(axis=0)

    def build(meta):
        return keras.Sequential(
            [
                keras.Input((meta["n_features_in_"],)),
                keras.layers.Normalization(mean=mean, variance=variance),
                keras.layers.Dense(64, activation="relu"),
                keras.layers.Dense(32, activation="relu"),
                keras.layers.Dense(1, activation="sigmoid"),
            ]
        )

    return build


def bench_scikeras(X, y) -> dict:
    try:
        import scikeras
        from scikeras.wrappers import KerasClassifier
    except ImportError as err:
        return {"error": f"scikeras is not installed ({err}); run `make bench`."}

    def make():
        return KerasClassifier(
            model=scikeras_model(X),
            loss="binary_crossentropy",
            metrics=["binary_accuracy"],
            optimizer="adam",
            optimizer__learning_rate=LEARNING_RATE,
            epochs=EPOCHS,
            batch_size=BATCH_SIZE,
            verbose=0,
            random_state=SEED,
        )

    try:
        theirs = make().fit(X, y)
    except Exception as err:  # report exactly why scikeras cannot run here
        return {"error": f"scikeras {scikeras.__version__} fails: {err!r}"}
    ours = TabularClassifier(**FIT_PARAMS).fit(X, y)
    times = {"ours": [], "scikeras": []}
    for r in range(FIT_REPEATS):
        rotate(
            r,
            lambda: times["ours"].append(
                timed(TabularClassifier(**FIT_PARAMS).fit, X, y)[0]
            ),
            lambda: times["scikeras"].append(timed(make().fit, X, y)[0]),
        )
    o, s = median(times["ours"]), median(times["scikeras"])
    fit_row = [f"fit, {EPOCHS} epochs (s)", f"{o:.2f}", f"{s:.2f}", f"{o / s:.2f}x"]
    rows = [fit_row]
    for n in PREDICT_SIZES:
        batch = rows_of(X, n)
        ours.predict_proba(batch), theirs.predict_proba(batch)  # warm-up
        t = {"ours": [], "scikeras": []}
        for r in range(PREDICT_REPEATS[n]):
            rotate(
                r,
                lambda batch=batch, t=t: t["ours"].append(
                    timed(ours.predict_proba, batch)[0]
                ),
                lambda batch=batch, t=t: t["scikeras"].append(
                    timed(theirs.predict_proba, batch)[0]
                ),
            )
        o, s = median(t["ours"]), median(t["scikeras"])
        rows.append(
            [
                f"predict_proba, {n:,} row(s) (ms)",
                f"{o * 1e3:.2f}",
                f"{s * 1e3:.2f}",
                f"{o / s:.3f}x (scikeras/ours = {s / o:.1f}x)",
            ]
        )
    accuracy = (ours.score(X, y), theirs.score(X, y))
    return {"rows": rows, "version": scikeras.__version__, "accuracy": accuracy}


def main() -> None:
    start = time.perf_counter()
    print(f"Machine: {environment()}\n")
    data = load_datasets()
    fit_rows, predict_rows, fitted, verdicts = [], [], {}, []
    for name, (X, y) in data.items():
        result, fitted[name] = bench_fit(name, X, y)
        fit_rows.append(result["row"])
        for (side, build), value in result["ratios"].items():
            baseline = f"clone+compile+fit, {side}" if build else f"fit, {side}"
            verdicts.append(
                (
                    f"fit ours / raw ({baseline}) ≤ {FIT_TARGET}x ({name})",
                    f"{value:.2f}x",
                    verdict(value <= FIT_TARGET),
                )
            )
        print(f"  fit done: {name} ({time.perf_counter() - start:.0f} s)")
    for name, (X, _) in data.items():
        for result in bench_predict(name, fitted[name], X):
            predict_rows.append(result["row"])
            if result["n"] == 1:
                verdicts.append(
                    (
                        f"predict 1 row ≥ {ONE_ROW_TARGET:.0f}x faster ({name})",
                        f"{result['speedup']:.1f}x",
                        verdict(result["speedup"] >= ONE_ROW_TARGET),
                    )
                )
                verdicts.append(
                    (
                        f"predict 1 row ≤ {BARE_TARGET:.0f}x the bare compiled "
                        f"call ({name})",
                        f"{result['bare_ratio']:.2f}x",
                        verdict(result["bare_ratio"] <= BARE_TARGET),
                    )
                )
        print(f"  predict done: {name} ({time.perf_counter() - start:.0f} s)")
    sk = bench_scikeras(*data["breast cancer"])
    print(f"  scikeras done ({time.perf_counter() - start:.0f} s)")

    print(
        f"\nfit: {EPOCHS} epochs, batch_size={BATCH_SIZE}, Adam "
        f"lr={LEARNING_RATE}, no validation; {FIT_REPEATS} rounds in rotating "
        "order. Times are medians in seconds; ratios are medians of the per-round "
        "ratios. Raw Keras gets the prepared input dict either as arrays (Keras' "
        "array adapter) or through the same tf.data pipeline the estimator builds "
        "(slices, shuffle, batch, prefetch).\n"
    )
    print(
        markdown_table(
            [
                "data set",
                "rows",
                "ours fit()",
                "raw fit, arrays",
                "raw fit, tf.data",
                "raw clone+compile",
                "ours / fit (arrays)",
                "ours / clone+compile+fit (arrays)",
                "ours / fit (tf.data)",
                "ours / clone+compile+fit (tf.data)",
            ],
            fit_rows,
        )
    )
    print(
        "\npredict: median ms per call (ours from the raw DataFrame; Keras on "
        f"the prepared input dict); repeats {PREDICT_REPEATS}.\n"
    )
    print(
        markdown_table(
            [
                "data set",
                "rows",
                "ours predict_proba",
                "model_.predict",
                "model_.predict_on_batch",
                "bare compiled call",
                "speed-up vs predict",
                "ours / bare compiled call",
            ],
            predict_rows,
        )
    )
    print("\nscikeras, breast cancer (numeric), same network, medians:\n")
    if "error" in sk:
        print(sk["error"])
    else:
        print(f"scikeras {sk['version']}:\n")
        print(
            markdown_table(
                ["measure", "ours", "scikeras KerasClassifier", "ours / scikeras"],
                sk["rows"],
            )
        )
        print(
            f"\nTraining-set accuracy after the timed fits: ours "
            f"{sk['accuracy'][0]:.3f}, scikeras {sk['accuracy'][1]:.3f}."
        )
    print("\nTargets:\n")
    print(markdown_table(["target", "measured", "result"], verdicts))
    print(f"\nTotal time: {time.perf_counter() - start:.0f} s")


if __name__ == "__main__":
    main()
