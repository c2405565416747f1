"""Declarative feature specs: what each column is and how to encode it.

A spec is a small frozen dataclass naming a column (or columns) and how it is
encoded; the statistics the encoding needs (means, quantiles, vocabularies)
are learned in ``fit`` and baked into Keras preprocessing layers, so the
trained model and its SavedModel take raw column values.
"""

from dataclasses import dataclass

from applied_ml._persistence import register_value_class

OUTPUTS = ("auto", "one_hot", "embedding")
SCALINGS = ("zscore", "minmax", "log", None)


def _check_name(cls_name: str, name) -> None:
    if not isinstance(name, str) or not name:
        raise TypeError(
            f"{cls_name} `name` must be a non-empty column name (str). "
            f"Received: name={name!r}"
        )


def _check_output(cls_name: str, output, embedding_dim) -> None:
    if output not in OUTPUTS:
        raise ValueError(
            f"{cls_name} `output` must be one of {OUTPUTS}. Received: output={output!r}"
        )
    if embedding_dim is not None and (
        isinstance(embedding_dim, bool)
        or not isinstance(embedding_dim, int)
        or embedding_dim < 1
    ):
        raise ValueError(
            f"{cls_name} `embedding_dim` must be a positive integer or None. "
            f"Received: embedding_dim={embedding_dim!r}"
        )


@register_value_class
@dataclass(frozen=True)
class NumericFeature:
    """A numeric column, scaled, optionally clipped, with missing values imputed.

    Parameters
    ----------
    name : str
        Column name.
    scaling : {"zscore", "minmax", "log", None}, default="zscore"
        ``"zscore"`` subtracts the training mean and divides by the standard
        deviation; ``"minmax"`` maps the training range to [0, 1]; ``"log"``
        applies ``sign(x) * log1p(|x|)`` and then z-scores; None passes the
        value through.
    clip : tuple of (float, float), optional
        Bounds applied to raw values before scaling.
    impute : bool, default=True
        Replace missing values (NaN) with the training mean. When the training
        data had missing values a 0/1 missing indicator is added as well.
        With ``impute=False`` a missing value is an error.
    """

    name: str
    scaling: str | None = "zscore"
    clip: tuple[float, float] | None = None
    impute: bool = True

    def __post_init__(self):
        _check_name("NumericFeature", self.name)
        if self.scaling not in SCALINGS:
            raise ValueError(
                f"NumericFeature `scaling` must be one of {SCALINGS}. "
                f"Received: scaling={self.scaling!r}"
            )
        if self.clip is not None and (
            len(self.clip) != 2 or not float(self.clip[0]) < float(self.clip[1])
        ):
            raise ValueError(
                "NumericFeature `clip` must be a (low, high) pair with low < high. "
                f"Received: clip={self.clip!r}"
            )


@register_value_class
@dataclass(frozen=True)
class BucketizedFeature:
    """A numeric column cut into buckets, then one-hot encoded or embedded.

    Parameters
    ----------
    name : str
        Column name.
    bins : int, default=10
        Number of quantile buckets learned from the training data (ignored
        when ``boundaries`` is given).
    boundaries : tuple of float, optional
        Explicit, increasing bucket boundaries.
    output : {"auto", "one_hot", "embedding"}, default="auto"
        How the bucket index is encoded.
    embedding_dim : int, optional
        Embedding size; defaults to the fourth root of the bucket count.
    """

    name: str
    bins: int = 10
    boundaries: tuple[float, ...] | None = None
    output: str = "auto"
    embedding_dim: int | None = None

    def __post_init__(self):
        _check_name("BucketizedFeature", self.name)
        _check_output("BucketizedFeature", self.output, self.embedding_dim)
        if (
            isinstance(self.bins, bool)
            or not isinstance(self.bins, int)
            or self.bins < 2
        ):
            raise ValueError(
                "BucketizedFeature `bins` must be an integer >= 2. "
                f"Received: bins={self.bins!r}"
            )
        if self.boundaries is not None:
            b = [float(v) for v in self.boundaries]
            if not b or any(x >= y for x, y in zip(b, b[1:], strict=False)):
                raise ValueError(
                    "BucketizedFeature `boundaries` must be a non-empty, strictly "
                    f"increasing sequence. Received: boundaries={self.boundaries!r}"
                )


@register_value_class
@dataclass(frozen=True)
class CategoricalFeature:
    """A categorical column: a learned vocabulary, or hashing.

    Values are compared as strings. With a vocabulary, unseen values go to an
    out-of-vocabulary bucket and missing values (None, NaN, "") to a missing
    bucket of their own.

    Parameters
    ----------
    name : str
        Column name.
    vocabulary : tuple of str, optional
        Fixed vocabulary; learned from the training data when None.
    max_tokens : int, optional
        Keep at most this many of the most frequent values.
    min_frequency : int, default=1
        Values seen fewer times in training go to the out-of-vocabulary bucket.
    hash_bins : int, optional
        Hash values into this many buckets instead of using a vocabulary.
    output : {"auto", "one_hot", "embedding"}, default="auto"
        ``"auto"`` one-hot encodes up to 16 buckets and embeds above that
        (linear models always one-hot encode).
    embedding_dim : int, optional
        Embedding size; defaults to ``ceil(n_buckets ** 0.25)``.
    """

    name: str
    vocabulary: tuple[str, ...] | None = None
    max_tokens: int | None = None
    min_frequency: int = 1
    hash_bins: int | None = None
    output: str = "auto"
    embedding_dim: int | None = None

    def __post_init__(self):
        _check_name("CategoricalFeature", self.name)
        _check_output("CategoricalFeature", self.output, self.embedding_dim)
        for arg in ("max_tokens", "hash_bins"):
            value = getattr(self, arg)
            if value is not None and (
                isinstance(value, bool) or not isinstance(value, int) or value < 1
            ):
                raise ValueError(
                    f"CategoricalFeature `{arg}` must be a positive integer or None. "
                    f"Received: {arg}={value!r}"
                )
        if self.hash_bins is not None and self.vocabulary is not None:
            raise ValueError(
                "CategoricalFeature takes `vocabulary` or `hash_bins`, not both. "
                f"Received: vocabulary={self.vocabulary!r}, "
                f"hash_bins={self.hash_bins!r}"
            )


@register_value_class
@dataclass(frozen=True)
class CrossedFeature:
    """A hashed cross of two or more columns (categorical or bucketized numeric).

    Parameters
    ----------
    names : tuple of str
        The columns to cross. Numeric columns are cut into ``bins`` quantile
        buckets first.
    hash_bins : int, default=1000
        Number of hash buckets of the cross.
    bins : int, default=5
        Quantile buckets for numeric columns in the cross.
    output : {"auto", "one_hot", "embedding"}, default="auto"
        How the crossed bucket is encoded (``"auto"``: one-hot in linear and
        wide parts, embedded in deep parts).
    embedding_dim : int, optional
        Embedding size; defaults to ``ceil(hash_bins ** 0.25)``.
    """

    names: tuple[str, ...]
    hash_bins: int = 1000
    bins: int = 5
    output: str = "auto"
    embedding_dim: int | None = None

    def __post_init__(self):
        if (
            not isinstance(self.names, tuple | list)
            or len(self.names) < 2
            or not all(isinstance(n, str) and n for n in self.names)
        ):
            raise ValueError(
                "CrossedFeature `names` must be a tuple of two or more column "
                f"names. Received: names={self.names!r}"
            )
        _check_output("CrossedFeature", self.output, self.embedding_dim)
        for arg, low in (("hash_bins", 1), ("bins", 2)):
            value = getattr(self, arg)
            if isinstance(value, bool) or not isinstance(value, int) or value < low:
                raise ValueError(
                    f"CrossedFeature `{arg}` must be an integer >= {low}. "
                    f"Received: {arg}={value!r}"
                )

    @property
    def name(self) -> str:
        return "_x_".join(self.names)


@register_value_class
@dataclass(frozen=True)
class PassthroughFeature:
    """A numeric column fed to the model unchanged (missing values are errors).

    Parameters
    ----------
    name : str
        Column name.
    """

    name: str

    def __post_init__(self):
        _check_name("PassthroughFeature", self.name)


FEATURE_TYPES = (
    NumericFeature,
    BucketizedFeature,
    CategoricalFeature,
    CrossedFeature,
    PassthroughFeature,
)
