"""The tasks ``applied-ml`` trains: their estimator and how files feed them.

Each task says how ``--data`` becomes training data, held-out data (for
``evaluate``) and inputs (for ``predict``), how its predictions are written,
and which metrics ``evaluate`` reports.
"""

import dataclasses
import os
from collections.abc import Callable

import numpy as np
import pandas as pd

import applied_ml
from applied_ml.cli import _readers as readers
from applied_ml.cli._errors import CommandError


@dataclasses.dataclass(frozen=True)
class ReadOptions:
    """How a run's files are read: its label and text columns, text unit and
    (for masks) output folder."""

    target: str | None = None
    text_column: str = "text"
    unit: str = "line"
    output: str | None = None

    @classmethod
    def of(cls, given: dict) -> "ReadOptions":
        """The options in a run of a config file or the command's arguments."""
        return cls(
            target=given.get("target"),
            text_column=given.get("text_column") or "text",
            unit=given.get("unit") or "line",
            output=given.get("output"),
        )


@dataclasses.dataclass(frozen=True)
class Task:
    name: str
    estimator: str  # its class in ``applied_ml``
    data: str  # what ``--data`` holds, for the help
    labelled: Callable  # (args, path, split) -> (X, y): fit and evaluate
    inputs: Callable  # (args, path) -> (X, row ids): predict
    predictions: Callable  # (estimator, X, ids, args) -> DataFrame
    metrics: Callable = lambda estimator, X, y: estimator.evaluate(X, y)
    held_out: Callable | None = None  # evaluate's reader, when not ``labelled``

    @property
    def cls(self) -> type:
        return getattr(applied_ml, self.estimator)


# ------------------------------------------------------------------ tabular
def _table(args, path, split):
    frame = readers.read_table(path)
    return readers.split_target(frame, args.target, path)


def _table_inputs(args, path):
    frame = readers.read_table(path)
    if args.target is not None and args.target in frame.columns:
        frame = frame.drop(columns=[args.target])
    return frame, np.arange(len(frame))


def _labels_table(estimator, X, ids, args) -> pd.DataFrame:
    out = {"row": ids, "label": estimator.predict(X)}
    if hasattr(estimator, "predict_proba"):
        probabilities = estimator.predict_proba(X)
        for j, name in enumerate(estimator.classes_):
            out[f"probability_{name}"] = probabilities[:, j]
    return pd.DataFrame(out)


def _values_table(estimator, X, ids, args) -> pd.DataFrame:
    return pd.DataFrame({"row": ids, "prediction": estimator.predict(X)})


# ------------------------------------------------------------------- images
def _image_folder(args, path, split):
    readers.existing(path, "a folder with one sub-folder of images per class")
    try:
        from applied_ml.vision import read_image_folder

        return read_image_folder(path)
    except (ValueError, OSError) as err:
        raise CommandError(str(err)) from err


def _image_inputs(args, path):
    try:
        from applied_ml.vision import list_images

        files = list_images(path)
    except (ValueError, OSError) as err:
        raise CommandError(str(err)) from err
    return files, files


def _best_labels(estimator, X, first: dict) -> pd.DataFrame:
    """The most probable label of each input, after the columns ``first``."""
    probabilities = estimator.predict_proba(X)
    best = probabilities.argmax(axis=1)
    return pd.DataFrame(
        {
            **first,
            "label": estimator.classes_[best],
            "probability": probabilities[np.arange(len(best)), best],
        }
    )


def _image_labels(estimator, X, ids, args) -> pd.DataFrame:
    return _best_labels(estimator, X, {"file": ids})


def _yolo(args, path, split):
    readers.existing(path, "a YOLO dataset folder (images/<split>, labels/<split>)")
    try:
        from applied_ml.datasets import load_yolo_folder

        images, targets, _ = load_yolo_folder(path, split)
    except (ValueError, OSError) as err:
        raise CommandError(str(err)) from err
    return images, targets


def _boxes(estimator, X, ids, args) -> pd.DataFrame:
    rows = []
    for file, found in zip(ids, estimator.predict(X), strict=True):
        for box, label, score in zip(
            found["boxes"], found["labels"], found["scores"], strict=True
        ):
            rows.append([file, label, float(score), *(float(v) for v in box)])
    columns = ["file", "label", "score", "x1", "y1", "x2", "y2"]
    return pd.DataFrame(rows, columns=columns)


def _mask_folder(args, path, split):
    readers.existing(path, "a folder holding images/ and masks/")
    try:
        from applied_ml.vision import read_mask_folder

        return read_mask_folder(path)
    except (ValueError, OSError) as err:
        raise CommandError(str(err)) from err


def _masks(estimator, X, ids, args) -> pd.DataFrame:
    from PIL import Image

    if args.output is None:
        raise CommandError(
            "`--output` must name a folder for the predicted masks (one PNG per "
            "image). Received: none"
        )
    os.makedirs(args.output, exist_ok=True)
    root = os.path.commonpath([os.path.dirname(os.path.abspath(f)) for f in ids])
    files = []
    for file, mask in zip(ids, estimator.predict(X), strict=True):
        # the path below the common folder names the mask: "a/x.jpg" and
        # "b/x.jpg" (or x.jpg and x.png) get masks of their own
        name = os.path.relpath(os.path.abspath(file), root).replace(os.sep, "__")
        target = os.path.join(args.output, name + ".png")
        mask = np.asarray(mask)
        low, high = mask.min(initial=0), mask.max(initial=0)
        if low < 0 or high > 65535:
            raise CommandError(
                f"Mask PNGs hold class values 0-65535. Received: values from {low} "
                f"to {high} for {file!r}"
            )
        Image.fromarray(mask.astype(np.uint8 if high <= 255 else np.uint16)).save(
            target
        )
        files.append(target)
    return pd.DataFrame({"file": ids, "mask": files})


def _identities(estimator, X, ids, args) -> pd.DataFrame:
    names, distances = estimator.identify(X, return_distance=True)
    return pd.DataFrame({"file": ids, "identity": names, "distance": distances})


# --------------------------------------------------------------------- text
def _reviews(args, path, split):
    return readers.labelled_texts(path, args.text_column, args.target, required=True)


def _review_inputs(args, path):
    texts, _ = readers.labelled_texts(
        path, args.text_column, args.target, required=False
    )
    return texts, np.arange(len(texts))


def _review_labels(estimator, X, ids, args) -> pd.DataFrame:
    return _best_labels(estimator, X, {"text": X})


def _documents(args, path, split):
    return readers.read_texts(path, args.unit), None


def _lines(args, path):
    texts = readers.read_texts(path, "line")
    return texts, np.arange(len(texts))


def _next_tokens(estimator, X, ids, args) -> pd.DataFrame:
    return pd.DataFrame({"text": X, "next_token": estimator.predict(X)})


def _perplexity(estimator, X, y) -> dict:
    return {"perplexity": estimator.perplexity(X), "score": estimator.score(X)}


def _word_vectors(estimator, X, ids, args) -> pd.DataFrame:
    try:
        vectors = estimator.transform(np.asarray(X, dtype=object))
    except KeyError as err:  # an unknown word, as gensim reports it
        raise CommandError(err.args[0]) from err
    frame = pd.DataFrame(vectors, columns=[f"v{j}" for j in range(vectors.shape[1])])
    frame.insert(0, "word", X)
    return frame


def _word_benchmark(estimator, X, y) -> dict:
    """Analogy accuracy or word-pair correlation, by the file's layout."""
    path = X
    with open(path, encoding="utf-8") as f:
        lines = [line.split() for line in f if line.strip() and line[0] != "#"]
    if lines and all(line[0] == ":" or len(line) == 4 for line in lines):
        result = estimator.evaluate_analogies(path)
        keys = ("accuracy", "correct", "total", "oov_ratio")
    else:
        result = estimator.evaluate_word_pairs(path)
        keys = ("spearman", "pearson", "oov_ratio", "pairs")
    return {k: result[k] for k in keys}


def _benchmark_file(args, path, split):
    return readers.existing(path, "an analogy or word-pair file"), None


def _word_inputs(args, path):
    words = readers.read_texts(path, "line")
    return words, np.arange(len(words))


_IMAGES = "a folder with one sub-folder of images per class"
TASKS = {
    t.name: t
    for t in (
        Task("tabular-classifier", "TabularClassifier", "a CSV or Parquet table",
             _table, _table_inputs, _labels_table),
        Task("tabular-regressor", "TabularRegressor", "a CSV or Parquet table",
             _table, _table_inputs, _values_table),
        Task("image-classifier", "ImageClassifier", _IMAGES, _image_folder,
             _image_inputs, _image_labels),
        Task("object-detector", "ObjectDetector",
             "a YOLO folder: images/<split>/ and labels/<split>/ (--split)",
             _yolo, _image_inputs, _boxes),
        Task("image-segmenter", "ImageSegmenter",
             "a folder holding images/ and masks/ (files paired by name)",
             _mask_folder, _image_inputs, _masks),
        Task("face-recognizer", "FaceRecognizer", "a folder with one sub-folder "
             "of images per person", _image_folder, _image_inputs, _identities),
        Task("sentiment", "SentimentClassifier", "a CSV or Parquet table with a "
             "text column (--text-column) and a label column (--target)",
             _reviews, _review_inputs, _review_labels),
        Task("language-model", "LanguageModel", "a text file or a folder of .txt "
             "files (one text per --unit)", _documents, _lines, _next_tokens,
             _perplexity),
        Task("word-embeddings", "WordEmbeddings", "a text file or a folder of .txt "
             "files (one sentence per --unit)", _documents, _word_inputs,
             _word_vectors, _word_benchmark, _benchmark_file),
    )
}  # fmt: skip


def held_out(task: Task, args, path: str, split: str):
    """(X, y) that ``evaluate`` scores the model on."""
    return (task.held_out or task.labelled)(args, path, split)


def task_of(estimator) -> Task:
    """The task of a loaded estimator (for ``evaluate`` and ``predict``)."""
    for task in TASKS.values():
        if type(estimator) is task.cls:
            return task
    raise CommandError(
        f"The model must be one of applied_ml's task estimators "
        f"({', '.join(t.estimator for t in TASKS.values())}). Received: "
        f"{type(estimator).__name__}"
    )
