"""Faces: FaceRecognizer against dlib's face descriptor and two baselines, in one run.

Protocol (AT&T faces, 40 people x 10 grey 92 x 112 photos): every method
learns or tunes on people s1..s30 only and is scored on s31..s40, people it
has never seen.

- A, one-shot identification: in each of 10 seeded draws one photo per new
  person is enrolled and the other 9 are named by their nearest enrolled
  photo; the mean and standard deviation of rank-1 accuracy over the draws.
- B, verification: all 4,950 pairs of the 100 new photos (450 of one
  person). ROC AUC of the distances, and balanced accuracy at the method's
  own threshold: ours tunes it in ``fit`` on held-out training people (or,
  untrained, on all 30), dlib's is its standard 0.6, the baselines' is tuned
  on the pairs of s1..s30.

The peer, dlib through ``face_recognition``, runs in its own venv (``make
bench-faces`` makes ``benchmarks/.venv-faces``) as a subprocess
(``benchmarks/faces_peer.py``). Throughput is faces per second from the
photo, detection and alignment included, and from the aligned crop.

Usage::

    .venv/bin/python benchmarks/faces.py [--quick] [--no-peer]
        [--methods raw_pixels,eigenfaces,...]

Results go to ``outputs/faces.json`` and to stdout as markdown; the ROC
curves to ``outputs/faces-roc.png``, queries beside their matches to
``outputs/faces-matches.png``.
"""

import argparse
import json
import os
import subprocess
import time
from pathlib import Path

import numpy as np
from _common import HERE, environment, markdown_table
from matplotlib.figure import Figure
from sklearn.decomposition import PCA
from sklearn.metrics import roc_auc_score, roc_curve

from applied_ml import FaceRecognizer
from applied_ml.datasets import load_att_faces
from applied_ml.plots import save_figure
from applied_ml.vision import load_backbone, plot_matches
from applied_ml.vision._face_pairs import all_pairs, choose_threshold

RESULTS = HERE.parent / "outputs"
ATT_FACES = Path(
    os.environ.get("ATT_FACES", HERE.parent.parent / "shared/data/att_faces")
)
PEER_PYTHON = HERE / ".venv-faces" / "bin" / "python"
SEED = 0
DRAWS = 10
DLIB_THRESHOLD = 0.6

# name -> FaceRecognizer parameters (random_state added)
OURS = {
    "small_cnn": {"backbone": "small_cnn", "epochs": 40},
    "lite0_frozen": {
        "backbone": "efficientnet_lite0",
        "learning_rate": 3e-4,
        "epochs": 30,
    },
    "lite0_fine_tuned": {
        "backbone": "efficientnet_lite0",
        "image_size": (224, 184),
        "learning_rate": 3e-4,
        "epochs": 30,
        "fine_tune_layers": 40,
        "fine_tune_learning_rate": 1e-4,
        "fine_tune_epochs": 15,
    },
    "face_resnet_center": {"backbone": "face_resnet", "align": "center"},
    "face_resnet_mtcnn": {"backbone": "face_resnet", "align": "mtcnn"},
    "face_resnet_mtcnn_fine_tuned": {
        "backbone": "face_resnet",
        "align": "mtcnn",
        "fine_tune_layers": 3,
        "fine_tune_learning_rate": 1e-4,
        "fine_tune_epochs": 20,
    },
}
BASELINES = ("raw_pixels", "eigenfaces", "lite0_imagenet_features")


# ------------------------------------------------------------------ protocol
def one_shot(embeddings: np.ndarray, people: np.ndarray) -> np.ndarray:
    """Rank-1 accuracy of each seeded draw of one enrolled photo per person."""
    names = np.unique(people)
    scores = []
    for seed in range(DRAWS):
        picks = np.random.default_rng(seed).integers(0, 10, size=len(names))
        gallery = np.array(
            [np.flatnonzero(people == p)[k] for p, k in zip(names, picks, strict=True)]
        )
        queries = np.setdiff1d(np.arange(len(people)), gallery)
        d = np.linalg.norm(
            embeddings[queries, None].astype(np.float64) - embeddings[None, gallery],
            axis=-1,
        )
        scores.append(np.mean(people[gallery][d.argmin(axis=1)] == people[queries]))
    return np.array(scores)


def score(embeddings, people, threshold) -> dict:
    accuracy = one_shot(embeddings, people)
    distances, same = all_pairs(embeddings, people)
    accepted = distances <= threshold
    balanced = (accepted[same].mean() + (~accepted[~same]).mean()) / 2
    return {
        "rank1_mean": float(accuracy.mean()),
        "rank1_std": float(accuracy.std()),
        "roc_auc": float(roc_auc_score(same, -distances)),
        "balanced_accuracy": float(balanced),
        "threshold": float(threshold),
        "curve": roc_curve(same, -distances)[:2],
    }


def tuned_on_training_people(embed, images, people) -> float:
    distances, same = all_pairs(embed(images), people)
    return choose_threshold(distances, same, "balanced_accuracy")


# ----------------------------------------------------------------- methods
def baseline(name: str, train, unseen) -> dict:
    (x_train, y_train), (x_new, y_new) = train, unseen
    if name == "raw_pixels":

        def embed(x):
            return x.reshape(len(x), -1).astype(np.float64)

    elif name == "eigenfaces":
        pca = PCA(50, whiten=True, random_state=SEED).fit(
            x_train.reshape(len(x_train), -1).astype(np.float64)
        )

        def embed(x):
            return pca.transform(x.reshape(len(x), -1).astype(np.float64))

    else:  # ImageNet features, no face training, whole photo at 192 x 160
        network = load_backbone("efficientnet_lite0", input_shape=(192, 160, 1))

        def embed(x):
            f = network.predict(x[..., None].astype(np.float32), verbose=0)
            return f / np.linalg.norm(f, axis=1, keepdims=True)

    threshold = tuned_on_training_people(embed, x_train, y_train)
    return score(embed(x_new), y_new, threshold)


def ours(name: str, params: dict, train, unseen, quick: bool) -> tuple[dict, object]:
    params = dict(params, random_state=SEED)
    if quick:
        params.update(epochs=2, fine_tune_epochs=2)
    recognizer = FaceRecognizer(**params)
    start = time.perf_counter()
    recognizer.fit(*train)
    seconds = time.perf_counter() - start
    result = score(recognizer.embed(unseen[0]), unseen[1], recognizer.threshold_)
    result.update(fit_seconds=seconds, epochs=recognizer.n_iter_)
    return result, recognizer


def dlib_peer(out: Path) -> dict:
    if not PEER_PYTHON.exists():
        raise SystemExit(
            f"{PEER_PYTHON} is missing: `make bench-faces` makes the dlib venv, or "
            "pass --no-peer."
        )
    subprocess.run(
        [
            str(PEER_PYTHON),
            str(HERE / "faces_peer.py"),
            "--data",
            str(ATT_FACES),
            "--out",
            str(out),
        ],
        check=True,
    )
    return dict(np.load(out))


# -------------------------------------------------------------- throughput
def faces_per_second(fn, n: int, passes: int = 3) -> float:
    fn()  # warm-up: traces, first detector call
    seconds = []
    for _ in range(passes):
        start = time.perf_counter()
        fn()
        seconds.append(time.perf_counter() - start)
    return n / float(np.median(seconds))


# ------------------------------------------------------------------ figures
def plot_rocs(results: dict, path: Path) -> str:
    fig = Figure(figsize=(6, 6))
    ax = fig.add_subplot()
    for name, result in results.items():
        fpr, tpr = result["curve"]
        ax.plot(fpr, tpr, label=f"{name} (AUC {result['roc_auc']:.4f})")
    ax.plot([0, 1], [0, 1], linestyle="--", color="grey")
    ax.set_xscale("symlog", linthresh=0.01)
    ax.set_xlim(0, 1)
    ax.set_xlabel("false accept rate (linear below 0.01)")
    ax.set_ylabel("true accept rate")
    ax.set_title("Verification of 10 unseen people, 4,950 pairs")
    ax.legend(loc="lower right", fontsize=7)
    ax.grid(alpha=0.3)
    return save_figure(fig, path)


def plot_match_grid(recognizer, images, people, path: Path) -> str:
    """The first one-shot draw with a miss: misses, then one hit per person."""
    names = np.unique(people)
    for seed in range(DRAWS):
        picks = np.random.default_rng(seed).integers(0, 10, size=len(names))
        gallery = np.array(
            [np.flatnonzero(people == p)[k] for p, k in zip(names, picks, strict=True)]
        )
        queries = np.setdiff1d(np.arange(len(people)), gallery)
        recognizer.enroll(images[gallery], people[gallery], replace=True)
        answers, distances = recognizer.identify(images[queries], return_distance=True)
        if (answers != people[queries]).any():
            break
    by_name = dict(zip(people[gallery].tolist(), gallery, strict=True))
    wrong = np.flatnonzero(answers != people[queries])[:3]
    _, one_each = np.unique(people[queries], return_index=True)
    right = [i for i in one_each if answers[i] == people[queries][i]]
    shown = np.concatenate([wrong, right[: 9 - len(wrong)]]).astype(int)
    matches = [
        images[by_name[a]] if a in by_name else np.zeros_like(images[0])
        for a in answers[shown]
    ]
    return plot_matches(
        images[queries[shown]],
        matches,
        distances[shown],
        path,
        true_names=[f"s{p}" for p in people[queries[shown]]],
        matched_names=[a if a == "unknown" else f"s{a}" for a in answers[shown]],
    )


# --------------------------------------------------------------------- main
def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--quick", action="store_true", help="2 epochs per fit")
    parser.add_argument("--no-peer", action="store_true", help="skip dlib")
    parser.add_argument("--methods", default=",".join((*BASELINES, *OURS)))
    args = parser.parse_args()
    methods = args.methods.split(",")
    RESULTS.mkdir(exist_ok=True)

    images, people = load_att_faces(ATT_FACES)
    known = people <= 30
    train, unseen = (images[known], people[known]), (images[~known], people[~known])
    results, fitted = {}, {}
    for name in methods:
        if name in BASELINES:
            results[name] = baseline(name, train, unseen)
        else:
            results[name], fitted[name] = ours(
                name, OURS[name], train, unseen, args.quick
            )
        print(
            name, {k: v for k, v in results[name].items() if k != "curve"}, flush=True
        )

    speed = {}
    if "face_resnet_mtcnn" in fitted:
        recognizer = fitted["face_resnet_mtcnn"]
        speed["ours_end_to_end"] = faces_per_second(
            lambda: recognizer.embed(images), 400
        )
        crops, _ = recognizer.crop_faces(images)
        recognizer.set_params(align=None)  # the crops are aligned already
        speed["ours_from_crop"] = faces_per_second(lambda: recognizer.embed(crops), 400)
        recognizer.set_params(align="mtcnn")
        plot_match_grid(recognizer, *unseen, RESULTS / "faces-matches.png")
    if not args.no_peer:
        peer = dlib_peer(RESULTS / "faces-dlib.npz")
        results["dlib"] = score(
            peer["descriptors"][~known], people[~known], DLIB_THRESHOLD
        )
        results["dlib"]["box_source"] = dict(
            zip(*np.unique(peer["box_source"], return_counts=True), strict=True)
        )
        speed["dlib_end_to_end"] = 400 / float(np.median(peer["seconds_end_to_end"]))
        speed["dlib_from_known_box"] = 400 / float(np.median(peer["seconds_known_box"]))
    plot_rocs(results, RESULTS / "faces-roc.png")

    rows = [
        [
            name,
            f"{r['rank1_mean']:.3f} ± {r['rank1_std']:.3f}",
            f"{r['roc_auc']:.4f}",
            f"{r['balanced_accuracy']:.3f} (at {r['threshold']:.3f})",
            f"{r.get('fit_seconds', 0):.0f}",
        ]
        for name, r in results.items()
    ]
    print(f"\n{environment()}\n")
    print(
        markdown_table(
            ["method", "rank-1 (10 draws)", "ROC AUC", "balanced acc.", "fit s"], rows
        )
    )
    print("\nfaces/s:", {k: round(v, 1) for k, v in speed.items()})
    for result in results.values():
        result.pop("curve")
    report = {
        "environment": environment(),
        "results": results,
        "faces_per_second": speed,
    }
    (RESULTS / "faces.json").write_text(json.dumps(report, indent=2, default=str))


if __name__ == "__main__":
    main()
