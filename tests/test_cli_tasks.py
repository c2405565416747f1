"""``applied-ml`` end to end for every task, on tiny data written to files.

One subprocess trains all nine tasks from one config file (several runs);
the commands on the saved models then run in this process.
"""

import json
import os
import subprocess
import sys

import numpy as np
import pandas as pd
import pytest
from PIL import Image

from applied_ml.cli import main
from applied_ml.datasets import write_yolo_labels
from tests.test_contract import CASES, _boxes, _faces, _images, _masks, _table

pytestmark = pytest.mark.xdist_group("cli_tasks")

# task -> the contract case whose tiny parameters it trains with
CASE_OF = {
    "tabular-classifier": "tabular_classifier",
    "tabular-regressor": "tabular_regressor",
    "image-classifier": "image_small_cnn",
    "object-detector": "object_detector",
    "image-segmenter": "image_segmenter",
    "face-recognizer": "face_recognizer",
    "sentiment": "sentiment_classifier",
    "language-model": "language_model",
    "word-embeddings": "word_embeddings",
}
SENTENCES = [
    "the cat sat on the mat .",
    "a dog ran to a log !",
    "my bird saw the tree .",
]


def _png(path, pixels) -> str:
    os.makedirs(os.path.dirname(path), exist_ok=True)
    Image.fromarray(np.asarray(pixels, np.uint8)).save(path)
    return str(path)


def _class_folders(root, X, y) -> str:
    for i, (image, label) in enumerate(zip(X, y, strict=True)):
        _png(root / f"c{label}" / f"{i:03d}.png", image)
    return str(root)


def _yolo(root) -> str:
    X, y = _boxes()
    for i, (image, target) in enumerate(zip(X, y, strict=True)):
        split = "val" if i % 4 == 0 else "train"
        _png(root / "images" / split / f"{i:03d}.png", image)
        os.makedirs(root / "labels" / split, exist_ok=True)
        write_yolo_labels(
            root / "labels" / split / f"{i:03d}.txt",
            target["boxes"],
            target["labels"],
            image.shape[:2],
        )
    return str(root)


def _mask_folder(root) -> str:
    X, masks = _masks()
    for i, (image, mask) in enumerate(zip(X, masks, strict=True)):
        _png(root / "images" / f"{i:03d}.png", image)
        _png(root / "masks" / f"{i:03d}.png", mask)
    return str(root)


def _write_data(root) -> dict:
    """task -> (training data, extra run options, prediction inputs)."""
    table, label = _table("class")
    table.assign(label=label).to_csv(root / "classes.csv", index=False)
    values, target = _table("value")
    values.assign(target=target).to_csv(root / "values.csv", index=False)
    rng = np.random.default_rng(0)
    good, bad = ["great", "lovely", "moving"], ["dull", "awful", "tedious"]
    reviews = pd.DataFrame(
        {
            "text": [f"a {rng.choice(good if i % 2 else bad)} film" for i in range(60)],
            "label": ["fresh" if i % 2 else "rotten" for i in range(60)],
        }
    )
    reviews.to_csv(root / "reviews.csv", index=False)
    lines = [SENTENCES[i % 3] for i in range(60)]
    (root / "corpus.txt").write_text("\n".join(lines) + "\n")
    (root / "words.txt").write_text("cat\ndog\nmat\n")
    (root / "unknown.txt").write_text("cat\nunicorn\n")
    (root / "analogies.txt").write_text(": tiny\ncat mat dog log\nmat cat log dog\n")
    images = _class_folders(root / "images", *_images())
    faces = _class_folders(root / "faces", *_faces())
    return {
        "tabular-classifier": (str(root / "classes.csv"), {"target": "label"}),
        "tabular-regressor": (str(root / "values.csv"), {"target": "target"}),
        "image-classifier": (images, {}),
        "object-detector": (_yolo(root / "yolo"), {}),
        "image-segmenter": (_mask_folder(root / "masks"), {}),
        "face-recognizer": (faces, {}),
        "sentiment": (str(root / "reviews.csv"), {"target": "label"}),
        "language-model": (str(root / "corpus.txt"), {}),
        "word-embeddings": (str(root / "corpus.txt"), {}),
    }


def _toml(value) -> str:
    if value is None:
        return '"none"'  # TOML has no null
    if isinstance(value, bool):
        return str(value).lower()
    if isinstance(value, list | tuple):
        return "[" + ", ".join(_toml(v) for v in value) + "]"
    return json.dumps(value)


@pytest.fixture(scope="session")  # once per worker, whatever runs in between
def trained(tmp_path_factory):
    """Every task trained by one ``applied-ml train --config`` subprocess."""
    root = tmp_path_factory.mktemp("cli_tasks")
    data = _write_data(root)
    cases = {c.id: c for c in CASES}
    lines = []
    for task, (path, options) in data.items():
        lines += ["[[runs]]", f'name = "{task}"', f'task = "{task}"']
        lines += [
            f"data = {_toml(path)}",
            f"save = {_toml(str(root / (task + '.keras')))}",
        ]
        lines += [f"{k} = {_toml(v)}" for k, v in options.items()]
        params = {"random_state": 0, **cases[CASE_OF[task]].params}
        lines += ["[runs.params]"] + [f"{k} = {_toml(v)}" for k, v in params.items()]
    (root / "runs.toml").write_text("\n".join(lines))
    done = subprocess.run(
        [sys.executable, "-m", "applied_ml.cli", "train", "--config", "runs.toml"],
        cwd=root,
        capture_output=True,
        text=True,
        timeout=600,
    )
    assert done.returncode == 0, done.stderr[-3000:]
    return root, data, done.stdout


def test_one_config_file_trains_every_task(trained):
    root, data, out = trained
    summary = out[out.index("\nruns\n") :]
    for task in data:
        assert os.path.isfile(root / f"{task}.keras")
        assert f"\n  {task} " in summary  # a row per run in the summary table
        assert f"[{task}] training (last epoch)" in out


# task -> evaluate's data (beside the training data) and a metric it reports
HELD_OUT = {
    "tabular-classifier": ([], "accuracy"),
    "tabular-regressor": ([], "rmse"),
    "image-classifier": ([], "accuracy"),
    "object-detector": (["--split", "val"], "map_50"),
    "image-segmenter": ([], "mean_iou"),
    "face-recognizer": ([], "roc_auc"),
    "sentiment": ([], "accuracy"),
    "language-model": ([], "perplexity"),
    "word-embeddings": ("analogies.txt", "accuracy"),
}


@pytest.mark.parametrize("task", list(CASE_OF))
def test_evaluate_and_predict_every_task(trained, task, tmp_path, capsys):
    root, data, _ = trained
    path, options = data[task]
    model = str(root / f"{task}.keras")
    extra, metric = HELD_OUT[task]
    if isinstance(extra, str):  # word vectors are scored on a benchmark file
        path, extra = str(root / extra), []
    given = [a for k, v in options.items() for a in (f"--{k}", v)] + extra
    report = tmp_path / "metrics.json"
    assert main(["evaluate", model, "--data", path, *given, "--json", str(report)]) == 0
    metrics = json.loads(report.read_text())
    assert np.isfinite(metrics[metric])
    assert f"{metric} " in capsys.readouterr().out  # the table too

    inputs = {
        "word-embeddings": str(root / "words.txt"),
        "image-segmenter": os.path.join(path, "images"),
    }.get(task, path)
    out = tmp_path / ("masks" if task == "image-segmenter" else "predictions.csv")
    assert main(["predict", model, "--data", inputs, *given, "--output", str(out)]) == 0
    table = pd.read_csv(out / "masks.csv" if out.suffix == "" else out)
    expected = {"word-embeddings": 3, "face-recognizer": 48}.get(task, 60)
    if task != "object-detector":  # a row per box there
        assert len(table) == expected
    if task == "image-segmenter":
        assert all(os.path.isfile(f) for f in table["mask"])


def test_an_unknown_word_is_an_input_error(trained, capsys):
    root, _, _ = trained
    model = str(root / "word-embeddings.keras")
    assert main(["predict", model, "--data", str(root / "unknown.txt")]) == 1
    assert "Received 'unicorn'" in capsys.readouterr().err


def test_sample_export_and_info(trained, capsys):
    root, _, _ = trained
    model = str(root / "language-model.keras")
    assert (
        main(["sample", model, "-n", "2", "--max-length", "8", "--temperature", "0"])
        == 0
    )
    assert capsys.readouterr().out.count("---\n") == 2
    folder = str(root / "lm_saved")
    assert main(["export", model, folder]) == 0
    version = capsys.readouterr().out.strip()
    assert main(["sample", version, "-n", "1", "--max-length", "8"]) == 0
    assert capsys.readouterr().out.count("---\n") == 1
    assert main(["info", model]) == 0
    assert "task: language-model (LanguageModel)" in capsys.readouterr().out


def test_help_lists_every_parameter_with_its_default(capsys):
    with pytest.raises(SystemExit) as exit_info:
        main(["train", "tabular-classifier", "--help"])
    assert exit_info.value.code == 0
    out = capsys.readouterr().out
    assert "  hidden_units = (64, 32)\n" in out
    assert "  learning_rate = 0.01\n" in out
    assert "  features = None\n" in out  # objects too, as tables that name a kind


@pytest.mark.parametrize(
    "argv, code, message",
    [
        (["--set", "epoch=3"], 1, "has no parameter 'epoch'. Did you mean 'epochs'?"),
        (["--set", "epochs"], 1, "`--set` takes NAME=VALUE"),
        (["--set", "callbacks=[1]"], 1, "`callbacks` takes a list of tables"),
        (
            ["--set", 'features=[{"kind": "numerik", "name": "a"}]'],
            1,
            "unknown kind 'numerik'. Did you mean 'numeric'?",
        ),
        (["--epochs", "3"], 2, "'epochs' is a parameter: set it with --set epochs="),
        (["--target", "lable"], 1, "Did you mean 'label'?"),
        (["--data", "missing.csv"], 1, "Received: 'missing.csv', which does not exist"),
    ],
)
def test_command_line_errors_are_one_line(trained, argv, code, message, capsys):
    root, data, _ = trained
    base = ["train", "tabular-classifier", "--data", data["tabular-classifier"][0]]
    assert _status(base + ["--target", "label", *argv]) == code
    err = capsys.readouterr().err
    assert message in err
    assert err.count("\n") == 1 and "Traceback" not in err


def _status(argv) -> int:
    try:
        return main(argv)
    except SystemExit as exit_:  # argparse's usage errors
        return exit_.code


def test_a_misspelled_task_and_config_key(tmp_path, capsys):
    assert _status(["train", "tabular-clasifier"]) == 2
    assert "Did you mean 'tabular-classifier'?" in capsys.readouterr().err
    (tmp_path / "bad.toml").write_text('task = "sentiment"\ntraget = "label"\n')
    assert main(["train", "--config", str(tmp_path / "bad.toml")]) == 1
    assert "unknown key 'traget' in the top level. Did you mean 'target'?" in (
        capsys.readouterr().err
    )


def test_tune_from_a_config_file(trained, tmp_path, capsys):
    root, data, _ = trained
    config = tmp_path / "search.toml"
    config.write_text(
        "\n".join(
            [
                'task = "tabular-classifier"',
                f"data = {_toml(data['tabular-classifier'][0])}",
                'target = "label"',
                f"save = {_toml(str(tmp_path / 'best.keras'))}",
                "[params]",
                "epochs = 2",
                "hidden_units = [8]",
                "random_state = 0",
                "[search]",
                'tuner = "grid"',
                "max_trials = 2",
                "[space]",
                "learning_rate = [0.001, 0.05]",
            ]
        )
    )
    assert main(["tune", "--config", str(config)]) == 0
    out = capsys.readouterr().out
    assert out.count("\n  trial ") == 2
    assert "learning_rate" in out[out.index("\nbest") :]
    assert os.path.isfile(tmp_path / "best.keras")


def test_options_before_and_after_the_task_both_count():
    from applied_ml.cli._parser import build_parser, merge_levels

    argv = ["train", "--set", "epochs=2", "tabular-classifier", "--set", "l2=0.1"]
    args = merge_levels(build_parser().parse_args(argv))
    assert args.set == ["epochs=2", "l2=0.1"]
    args = merge_levels(build_parser().parse_args(["--debug", "info", "m.keras"]))
    assert args.debug is True


def test_objects_are_tables_that_name_their_kind():
    import keras

    from applied_ml import TabularClassifier
    from applied_ml.cli._params import parameters
    from applied_ml.tabular import BucketizedFeature, NumericFeature

    features = parameters(TabularClassifier)["features"].convert(
        [{"kind": "numeric", "name": "a"}, {"kind": "bucketized", "name": "b",
                                             "boundaries": [1.0, 2.0]}]
    )  # fmt: skip
    assert features == (
        NumericFeature(name="a"),
        BucketizedFeature(name="b", boundaries=(1.0, 2.0)),
    )
    (callback,) = parameters(TabularClassifier)["callbacks"].parse(
        '[{"kind": "EarlyStopping", "patience": 2}]'
    )
    assert isinstance(callback, keras.callbacks.EarlyStopping)
    assert callback.patience == 2


def test_a_scalar_for_a_tuple_parameter_is_a_one_tuple():
    from applied_ml import ImageClassifier, TabularClassifier
    from applied_ml.cli._params import parameters

    assert parameters(TabularClassifier)["hidden_units"].parse("64") == (64,)
    assert parameters(TabularClassifier)["hidden_units"].parse("64,32") == (64, 32)
    augmentation = parameters(ImageClassifier)["augmentation"]
    assert augmentation.parse("flip") == ("flip",)
    assert augmentation.parse("none") is None
    assert augmentation.convert("none") is None  # TOML has no null


def test_masks_of_files_with_one_name_are_all_kept(trained, tmp_path):
    root, data, _ = trained
    images = os.path.join(data["image-segmenter"][0], "images")
    for folder, name in (("a", "x.png"), ("b", "x.png"), ("a", "y.png")):
        os.makedirs(tmp_path / "in" / folder, exist_ok=True)
        Image.open(os.path.join(images, "000.png")).save(
            tmp_path / "in" / folder / name
        )
    Image.open(os.path.join(images, "001.png")).save(tmp_path / "in" / "a" / "y.bmp")
    model = str(root / "image-segmenter.keras")
    out = tmp_path / "masks"
    assert (
        main(["predict", model, "--data", str(tmp_path / "in"), "--output", str(out)])
        == 0
    )
    table = pd.read_csv(out / "masks.csv")
    assert len(set(table["mask"])) == 4
    assert sorted(os.listdir(out)) == sorted(
        ["a__x.png.png", "a__y.bmp.png", "a__y.png.png", "b__x.png.png", "masks.csv"]
    )


def test_review_texts_are_read_as_written(tmp_path):
    from applied_ml.cli._errors import CommandError
    from applied_ml.cli._readers import labelled_texts

    (tmp_path / "r.csv").write_text("text,label\n007,a\nNA,b\n")
    texts, labels = labelled_texts(
        str(tmp_path / "r.csv"), "text", "label", required=True
    )
    assert texts == ["007", "NA"] and labels.tolist() == ["a", "b"]
    (tmp_path / "r.csv").write_text('text,label\n"great",a\n"",b\n')
    with pytest.raises(
        CommandError, match="must hold text in every row. Received: '' "
    ):
        labelled_texts(str(tmp_path / "r.csv"), "text", "label", required=True)


def test_bad_model_files_and_configs_are_input_errors(trained, tmp_path, capsys):
    root, data, _ = trained
    assert main(["info", data["tabular-classifier"][0]]) == 1
    assert "which is not a .keras archive" in capsys.readouterr().err
    assert main(["evaluate", str(root), "--data", "x"]) == 1
    assert "(a SavedModel only serves predictions)" in capsys.readouterr().err
    assert main(["export", str(root), str(tmp_path / "out")]) == 1
    assert "Received: the folder" in capsys.readouterr().err
    (tmp_path / "empty.toml").write_text("runs = []\n")
    assert main(["train", "--config", str(tmp_path / "empty.toml")]) == 1
    assert "must be a non-empty array of tables" in capsys.readouterr().err
    (tmp_path / "unit.toml").write_text(
        f'task = "language-model"\ndata = {_toml(str(root / "corpus.txt"))}\n'
        'unit = "paragraphs"\n'
    )
    assert main(["train", "--config", str(tmp_path / "unit.toml")]) == 1
    assert "`unit` must be one of ['line', 'paragraph', 'file']" in (
        capsys.readouterr().err
    )


def test_tables_may_be_parquet(trained, tmp_path, capsys):
    root, data, _ = trained
    path, _ = data["tabular-classifier"]
    pd.read_csv(path).to_parquet(tmp_path / "classes.parquet")
    model = str(root / "tabular-classifier.keras")
    parquet = ["--data", str(tmp_path / "classes.parquet"), "--target", "label"]
    assert main(["evaluate", model, *parquet, "--json", "-"]) == 0
    from_parquet = json.loads(capsys.readouterr().out)
    assert (
        main(["evaluate", model, "--data", path, "--target", "label", "--json", "-"])
        == 0
    )
    assert from_parquet == json.loads(capsys.readouterr().out)
