"""Pure builders of the tabular Keras models (estimator, tuner and tests share them)."""

import keras

from applied_ml.tabular._layers import (
    Bucketize,
    HashedCross,
    NumberToString,
    NumericTransform,
)
from applied_ml.tabular._stats import embedding_dim

MODELS = ("linear", "dnn", "wide_deep")
_OUTPUT_ACTIVATION = {
    "binary": "sigmoid",
    "multilabel": "sigmoid",
    "multiclass": "softmax",
    "regression": None,
}
# Categorical features with more buckets than this are embedded (output="auto").
_ONE_HOT_LIMIT = 16


def _index(feature: dict, inputs: dict):
    """Integer bucket index of a categorical-like feature, shape (batch, 1)."""
    kind, name = feature["type"], feature["name"]
    if kind == "CrossedFeature":
        return HashedCross(
            feature["n_tokens"], feature["part_boundaries"], name=f"cross_{name}"
        )([inputs[i] for i in feature["inputs"]])
    x = inputs[feature["input"]]
    if kind == "BucketizedFeature":
        return Bucketize(feature["boundaries"], name=f"bucketize_{name}")(x)
    if feature["from_numbers"]:
        x = NumberToString(name=f"to_string_{name}")(x)
    if feature["hash_bins"]:
        return keras.layers.Hashing(feature["hash_bins"], name=f"hash_{name}")(x)
    return keras.layers.StringLookup(
        vocabulary=["", *feature["vocabulary"]],
        num_oov_indices=1,
        name=f"lookup_{name}",
    )(x)


def _encode(feature: dict, inputs: dict, index, part: str):
    """Dense encoding of one feature for the ``"linear"`` or ``"deep"`` part."""
    kind, name = feature["type"], feature["name"]
    if kind == "NumericFeature":
        return NumericTransform(
            fill_value=feature["fill_value"],
            center=feature["center"],
            scale=feature["scale"],
            clip=feature["clip"],
            log=feature["log"],
            indicator=feature["indicator"],
            name=f"numeric_{name}",
        )(inputs[feature["input"]])
    if kind == "PassthroughFeature":
        # unchanged values, but a NaN fails instead of flowing on
        return NumericTransform(fill_value=None, name=f"passthrough_{name}")(
            inputs[feature["input"]]
        )
    n = feature["n_tokens"]
    output = feature["output"]
    if output == "auto":
        output = "one_hot" if part == "linear" or n <= _ONE_HOT_LIMIT else "embedding"
    if output == "one_hot":
        return keras.layers.CategoryEncoding(
            n, output_mode="one_hot", name=f"one_hot_{part}_{name}"
        )(index)
    dim = feature["embedding_dim"] or embedding_dim(n)
    embedded = keras.layers.Embedding(n, dim, name=f"embedding_{part}_{name}")(index)
    return keras.layers.Reshape((dim,), name=f"flatten_{part}_{name}")(embedded)


def _concat(tensors, name):
    if len(tensors) == 1:
        return tensors[0]
    return keras.layers.Concatenate(name=name)(tensors)


def build_tabular_model(
    meta: dict,
    *,
    model: str = "dnn",
    hidden_units: tuple = (64, 32),
    activation: str = "relu",
    dropout: float = 0.0,
    batch_norm: bool = False,
    l2: float = 0.0,
) -> keras.Model:
    """Build an uncompiled tabular model from fitted feature descriptions.

    Parameters
    ----------
    meta : dict
        ``columns`` (input name and kind of each raw column), ``features``
        (fitted feature descriptions), ``task`` and ``n_outputs``.
    model : {"linear", "dnn", "wide_deep"}, default="dnn"
        Model family.
    hidden_units : tuple of int, default=(64, 32)
        Widths of the hidden layers of the deep part.
    activation : str, default="relu"
        Activation of the hidden layers.
    dropout : float, default=0.0
        Dropout rate after each hidden layer.
    batch_norm : bool, default=False
        Batch normalization before each hidden activation.
    l2 : float, default=0.0
        L2 penalty of every dense kernel, added to the loss. (L1 is not part
        of the model: the optimizer applies it as a proximal step, see
        ``applied_ml._training.make_optimizer``.)

    Returns
    -------
    keras.Model
        A functional model with one named input per raw column.
    """
    inputs = {
        c["input"]: keras.Input(
            shape=(1,),
            name=c["input"],
            # float64: integer IDs and timestamps keep every digit
            dtype="float64" if c["kind"] == "numeric" else "string",
        )
        for c in meta["columns"]
    }
    dense_kwargs = {"kernel_regularizer": keras.regularizers.L2(l2) if l2 else None}
    indices = {
        f["name"]: _index(f, inputs)
        for f in meta["features"]
        if f["type"] not in ("NumericFeature", "PassthroughFeature")
    }

    numeric = {
        f["name"]: _encode(f, inputs, None, "shared")
        for f in meta["features"]
        if f["type"] in ("NumericFeature", "PassthroughFeature")
    }

    def encoded(part):
        features = meta["features"]
        if model == "wide_deep" and part == "deep":
            # crosses memorize combinations: the wide part's job
            features = [
                f for f in features if f["type"] != "CrossedFeature"
            ] or features
        parts = [
            numeric[f["name"]]
            if f["name"] in numeric
            else _encode(f, inputs, indices[f["name"]], part)
            for f in features
        ]
        return _concat(parts, f"{part}_features")

    def deep_tower(x):
        for i, units in enumerate(hidden_units):
            x = keras.layers.Dense(units, name=f"hidden_{i}", **dense_kwargs)(x)
            if batch_norm:
                x = keras.layers.BatchNormalization(name=f"batch_norm_{i}")(x)
            x = keras.layers.Activation(activation, name=f"activation_{i}")(x)
            if dropout:
                x = keras.layers.Dropout(dropout, name=f"dropout_{i}")(x)
        return x

    n_out = meta["n_outputs"]
    if model == "linear":
        logits = keras.layers.Dense(n_out, name="linear", **dense_kwargs)(
            encoded("linear")
        )
    elif model == "dnn":
        logits = keras.layers.Dense(n_out, name="logits", **dense_kwargs)(
            deep_tower(encoded("deep"))
        )
    else:
        wide = keras.layers.Dense(n_out, name="wide", **dense_kwargs)(encoded("linear"))
        deep = keras.layers.Dense(n_out, name="deep", **dense_kwargs)(
            deep_tower(encoded("deep"))
        )
        logits = keras.layers.Add(name="wide_plus_deep")([wide, deep])
    outputs = keras.layers.Activation(
        _OUTPUT_ACTIVATION[meta["task"]] or "linear", name="output"
    )(logits)
    return keras.Model(inputs, outputs, name=f"tabular_{model}")
