"""``applied-ml``: inspect an exported SavedModel and predict from a CSV file.

Works on any SavedModel written by ``export()``: only TensorFlow and pandas
are used, never the estimator.
"""

import argparse
import sys

import numpy as np
import pandas as pd


def _signature(path: str):
    import tensorflow as tf

    return tf.saved_model.load(path).signatures["serving_default"]


def _info(args) -> int:
    serve = _signature(args.path)
    print("inputs:")
    for name, spec in sorted(serve.structured_input_signature[1].items()):
        print(f"  {name}: {spec.dtype.name} {spec.shape.as_list()}")
    print("outputs:")
    for name, spec in sorted(serve.structured_outputs.items()):
        print(f"  {name}: {spec.dtype.name} {spec.shape.as_list()}")
    return 0


def _feed(serve, frame: pd.DataFrame) -> dict:
    import tensorflow as tf

    specs = serve.structured_input_signature[1]
    missing = sorted(set(specs) - set(frame.columns))
    if missing:
        raise SystemExit(
            f"error: the CSV lacks input column(s) {missing}; the model takes "
            f"{sorted(specs)}."
        )
    feed = {}
    for name, spec in specs.items():
        column = frame[name]
        if spec.dtype == tf.string:
            feed[name] = tf.constant(column.fillna("").astype(str).to_numpy())
        else:
            values = pd.to_numeric(column, errors="coerce")
            bad = column[values.isna() & column.notna()]
            if len(bad):
                raise SystemExit(
                    f"error: column {name!r} must hold numbers; found {bad.iloc[0]!r}."
                )
            feed[name] = tf.constant(values.to_numpy(dtype="float32"))
    return feed


def _predict(args) -> int:
    serve = _signature(args.path)
    frame = pd.read_csv(args.csv)
    outputs = {k: v.numpy() for k, v in serve(**_feed(serve, frame)).items()}
    table = {}
    for name, values in sorted(outputs.items()):
        if values.dtype == object:
            values = np.array([v.decode() for v in values.ravel()]).reshape(
                values.shape
            )
        if values.ndim == 2:
            for j in range(values.shape[1]):
                table[f"{name}_{j}"] = values[:, j]
        else:
            table[name] = values
    pd.DataFrame(table).to_csv(args.output or sys.stdout, index=False)
    return 0


def main(argv=None) -> int:
    """Run the ``applied-ml`` command.

    Parameters
    ----------
    argv : list of str, optional
        Arguments (defaults to ``sys.argv[1:]``).

    Returns
    -------
    int
        Exit status.
    """
    parser = argparse.ArgumentParser(
        prog="applied-ml", description="Use SavedModels exported by applied_ml."
    )
    commands = parser.add_subparsers(dest="command", required=True)
    info = commands.add_parser("info", help="show a SavedModel's inputs and outputs")
    info.add_argument("path", help="a version folder written by export()")
    info.set_defaults(run=_info)
    predict = commands.add_parser("predict", help="predict the rows of a CSV file")
    predict.add_argument("path", help="a version folder written by export()")
    predict.add_argument("--csv", required=True, help="CSV with one column per input")
    predict.add_argument("--output", help="CSV file to write (default: stdout)")
    predict.set_defaults(run=_predict)
    args = parser.parse_args(argv)
    return args.run(args)


if __name__ == "__main__":
    sys.exit(main())
