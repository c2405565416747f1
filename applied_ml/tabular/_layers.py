"""Keras layers and constraints the tabular models are built from.

Numeric model inputs are float64, so that integer IDs up to 2**53 and large
values such as Unix timestamps keep their precision; the layers here compare,
standardize and format in float64 and hand float32 to the network.
"""

import keras
import tensorflow as tf

# The largest float32: a standardized value beyond it would become infinite.
FLOAT32_MAX = 3.4028234663852886e38


@keras.saving.register_keras_serializable(package="applied_ml")
class NumericTransform(keras.layers.Layer):
    """Impute, clip, log-scale and standardize a numeric column.

    Missing values (NaN) are replaced by ``fill_value`` (in raw units) before
    the other steps; with ``indicator=True`` a 0/1 missing flag is appended.
    With ``fill_value=None`` a missing value is an error at run time, in a
    SavedModel too (a ReLU downstream would otherwise silently turn NaN into 0).
    Every step runs in float64 and only the standardized value is cast to
    float32; a value too large for float32 after scaling is an error too.
    """

    def __init__(
        self,
        fill_value=0.0,
        center=0.0,
        scale=1.0,
        clip=None,
        log=False,
        indicator=False,
        **kwargs,
    ):
        super().__init__(**kwargs)
        self.fill_value = None if fill_value is None else float(fill_value)
        self.center = float(center)
        self.scale = float(scale)
        self.clip = None if clip is None else [float(c) for c in clip]
        self.log = bool(log)
        self.indicator = bool(indicator)
        # Keras would cast float64 inputs to float32 before `call`.
        self._convert_input_args = False

    def call(self, x):
        x = tf.cast(x, "float64")
        missing = tf.math.is_nan(x)
        if self.fill_value is None:
            v = tf.debugging.check_numerics(
                x, f"{self.name}: a missing value (NaN) where no imputation is set"
            )
        else:
            v = tf.where(missing, tf.constant(self.fill_value, "float64"), x)
        if self.clip is not None:
            v = tf.clip_by_value(v, self.clip[0], self.clip[1])
        if self.log:
            v = tf.sign(v) * tf.math.log1p(tf.abs(v))
        v = tf.debugging.check_numerics(
            tf.cast((v - self.center) / self.scale, "float32"),
            f"{self.name}: a value too large for float32 after scaling",
        )
        if self.indicator:
            v = tf.concat([v, tf.cast(missing, "float32")], axis=-1)
        return v

    def compute_output_shape(self, input_shape):
        return (*input_shape[:-1], 2 if self.indicator else 1)

    def get_config(self):
        config = super().get_config()
        config.update(
            fill_value=self.fill_value,
            center=self.center,
            scale=self.scale,
            clip=self.clip,
            log=self.log,
            indicator=self.indicator,
        )
        return config


def _bucketize(x, boundaries):
    # tf.raw_ops.Bucketize holds its boundaries in float32: count in float64.
    x = tf.cast(x, "float64")
    above = tf.cast(
        tf.expand_dims(x, -1) >= tf.constant(boundaries, "float64", [len(boundaries)]),
        "int64",
    )
    index = tf.reduce_sum(above, axis=-1)
    return tf.where(tf.math.is_nan(x), tf.constant(len(boundaries) + 1, "int64"), index)


@keras.saving.register_keras_serializable(package="applied_ml")
class Bucketize(keras.layers.Layer):
    """Bucket index of a numeric column; NaN gets the last bucket.

    Indices run from 0 to ``len(boundaries)``, and ``len(boundaries) + 1`` is
    the missing bucket, so there are ``len(boundaries) + 2`` buckets.
    """

    def __init__(self, boundaries=(), **kwargs):
        super().__init__(**kwargs)
        self.boundaries = [float(b) for b in boundaries]
        self._convert_input_args = False  # keep float64 inputs

    def call(self, x):
        return _bucketize(x, self.boundaries)

    def compute_output_shape(self, input_shape):
        return input_shape

    def get_config(self):
        return {**super().get_config(), "boundaries": self.boundaries}


@keras.saving.register_keras_serializable(package="applied_ml")
class HashedCross(keras.layers.Layer):
    """Hash the joint value of several columns into ``num_bins`` buckets.

    ``part_boundaries`` has one entry per input: None for a string column,
    or the bucket boundaries for a numeric one.
    """

    def __init__(self, num_bins=1000, part_boundaries=(), **kwargs):
        super().__init__(**kwargs)
        self.num_bins = int(num_bins)
        self.part_boundaries = [
            None if b is None else [float(v) for v in b] for b in part_boundaries
        ]
        self._convert_input_args = False  # keep float64 inputs

    def call(self, inputs):
        parts = [
            x if b is None else tf.strings.as_string(_bucketize(x, b))
            for x, b in zip(inputs, self.part_boundaries, strict=True)
        ]
        joined = tf.strings.join(parts, separator="\x1f")
        return tf.strings.to_hash_bucket_fast(joined, self.num_bins)

    def compute_output_shape(self, input_shape):
        return input_shape[0]

    def get_config(self):
        config = super().get_config()
        config.update(num_bins=self.num_bins, part_boundaries=self.part_boundaries)
        return config


def format_numbers(x):
    """Numbers as category strings: "3" for 3.0, "2.5" for 2.5, "" for NaN.

    Whole numbers below 2**63 are written exactly (IDs, timestamps); other
    numbers with 15 significant digits, which any decimal of up to 15 digits
    survives unchanged (the default of ``as_string`` keeps only 6).
    """
    x = tf.cast(x, "float64")
    whole = tf.logical_and(tf.equal(x, tf.round(x)), tf.abs(x) < 2.0**63)
    text = tf.where(
        whole,
        tf.strings.as_string(tf.cast(tf.round(x), "int64")),
        tf.strings.as_string(x, precision=15, shortest=True),
    )
    return tf.where(tf.math.is_nan(x), tf.constant(""), text)


@keras.saving.register_keras_serializable(package="applied_ml")
class NumberToString(keras.layers.Layer):
    """Numeric column to category strings (see :func:`format_numbers`).

    Lets a ``CategoricalFeature`` read a numeric column (codes, years) while
    the model input, and so the SavedModel input, stays numeric.
    """

    def __init__(self, **kwargs):
        super().__init__(**kwargs)
        self._convert_input_args = False  # keep float64 inputs

    def call(self, x):
        return format_numbers(x)

    def compute_output_shape(self, input_shape):
        return input_shape
