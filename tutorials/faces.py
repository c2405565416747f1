"""Face recognition on the AT&T faces: FaceRecognizer end to end.

Splits the 40 people of the AT&T (ORL) database by person: 1-30 are known
to the model, 31-40 are new people it never sees before they are enrolled.
Aligns every face with MTCNN and embeds it with a pretrained face descriptor
(``face_resnet``: nothing trains; ``fit`` on people 1-30 only tunes the
verification threshold on their pairs and enrolls them). Then enrolls the
ten new people from one photo each and names their other nine photos,
answers "unknown" for a person who was not enrolled, verifies pairs and
scores all 4,950 pairs of the new people, draws queries beside the faces
they matched, exports a SavedModel with the gallery in it, and serves three
queries from a fresh Python process that imports only TensorFlow.
``--backbone efficientnet_lite0`` trains a triplet-loss embedding on people
1-30 instead (for ``--epochs``), holding some of them out for the threshold;
``--align center`` crops the middle of each photo instead of using MTCNN.

Run from anywhere: ``python tutorials/faces.py [--data PATH] [--backbone B]
[--epochs N] [--align A]`` (seconds to a minute on a CPU; the database
defaults to ``../shared/data/att_faces`` from the repository; ``face_resnet``
needs ``make face-api``, ``align="mtcnn"`` needs ``pip install mtcnn``).
Writes ``outputs/faces_matches.png`` and ``saved_models/faces/<version>/``.
"""

import argparse
import json
import os
import subprocess
import sys
import textwrap
import time
from pathlib import Path

os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "2")

import numpy as np  # noqa: E402

from applied_ml import FaceRecognizer  # noqa: E402
from applied_ml.datasets import load_att_faces  # noqa: E402
from applied_ml.vision import plot_matches  # noqa: E402

ROOT = Path(__file__).resolve().parent.parent
DATA = ROOT.parent / "shared" / "data" / "att_faces"
OUTPUTS = ROOT / "outputs"
MODEL_FOLDER = ROOT / "saved_models" / "faces"
SEED = 0
KNOWN = 30  # people 1..30 train or tune the model; 31..40 are new to it

# Runs in a fresh interpreter: plain TensorFlow, no applied_ml. Reads the
# SavedModel path and uint8 photos of any size (JSON
# lists) from stdin.
SERVE = textwrap.dedent(
    """
    import json, sys
    import numpy as np
    import tensorflow as tf

    request = json.loads(sys.stdin.read())
    model = tf.saved_model.load(request["path"])
    pixels = tf.constant(np.array(request["images"], dtype="uint8"))
    out = model.signatures["serving_default"](images=pixels)
    print(json.dumps({
        "applied_ml_imported": "applied_ml" in sys.modules,
        "endpoints": sorted(model.signatures),
        "identity": [name.decode() for name in out["identity"].numpy()],
        "distance": out["distance"].numpy().tolist(),
    }))
    """
)


def section(title: str) -> None:
    print(f"\n== {title} " + "=" * max(0, 70 - len(title)))


def main(argv=None) -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--data", type=Path, default=DATA, help="AT&T faces folder")
    parser.add_argument(
        "--backbone",
        choices=("face_resnet", "efficientnet_lite0"),
        default="face_resnet",
        help="pretrained face descriptor, or Lite0 trained with triplet loss",
    )
    parser.add_argument(
        "--align", choices=("mtcnn", "center"), default="mtcnn", help="face crops"
    )
    parser.add_argument(
        "--epochs", type=int, default=15, help="training epochs (Lite0 only)"
    )
    args = parser.parse_args(argv)
    start = time.perf_counter()

    section("Data")
    images, people = load_att_faces(args.data)
    known = people <= KNOWN
    new_images, new_people = images[~known], people[~known]
    print(f"{len(images)} grey photos {images.shape[1:]} of {people.max()} people")
    print(
        f"known (fit): people 1-{KNOWN}, {known.sum()} photos; "
        f"new (never seen): people {KNOWN + 1}-{people.max()}, {len(new_images)}"
    )

    trains = args.backbone != "face_resnet"
    section(f"Fit on people 1-{KNOWN}: {args.backbone}, align={args.align}")
    recognizer = FaceRecognizer(
        backbone=args.backbone,
        align=args.align,  # MTCNN: eyes, nose and mouth where dlib puts them
        epochs=args.epochs,
        random_state=SEED,
    )
    t0 = time.perf_counter()
    try:
        recognizer.fit(images[known], people[known])
    except (FileNotFoundError, ImportError) as error:
        sys.exit(
            f"{error}\n\nface_resnet's weights come from `make face-api`; "
            "align='mtcnn' needs `pip install mtcnn`."
        )
    seconds = time.perf_counter() - t0
    if trains:
        print(f"{recognizer.n_iter_} epochs of triplet loss in {seconds:.0f}s")
        print("threshold tuned on the people fit held out of training")
    else:
        print(f"nothing trained; {seconds:.0f}s to crop and embed {known.sum()} photos")
        print(f"threshold tuned on all pairs of the {KNOWN} people")
    print(f"threshold_ = {recognizer.threshold_:.3f}")
    for name, value in recognizer.threshold_scores_.items():
        text = f"{value:.4f}" if isinstance(value, float) else value
        print(f"{name:>20}: {text}")
    print(f"gallery after fit: {len(recognizer.gallery_names_)} photos")

    section("One-shot identification of the 10 new people")
    first = np.arange(len(new_images)) % 10 == 0  # photo 1 of each person
    enrolled = dict(zip(new_people[first], new_images[first], strict=True))
    recognizer.enroll(new_images[first], new_people[first], replace=True)
    queries, truth = new_images[~first], new_people[~first]
    t0 = time.perf_counter()
    names, distances = recognizer.identify(queries, return_distance=True)
    seconds = time.perf_counter() - t0
    hits = names == truth
    print(f"enrolled 1 photo each of people {new_people[first].tolist()}")
    print(f"named {len(queries)} other photos in {seconds:.1f}s")
    print(f"rank-1 accuracy: {hits.mean():.3f} ({hits.sum()}/{len(hits)})")
    for i in range(0, len(queries), 19)[:5]:
        print(f"  photo of {truth[i]} -> {names[i]!s:>7} (distance {distances[i]:.3f})")
    # unknown=None: the nearest people whatever their distance (otherwise
    # every rank beyond the threshold reads "unknown")
    top, top_distances = recognizer.identify(
        queries[:1], top_k=3, return_distance=True, unknown=None
    )
    ranked = ", ".join(
        f"{n} ({d:.3f})" for n, d in zip(top[0], top_distances[0], strict=True)
    )
    print(f"top 3 for a photo of {truth[0]}: {ranked}")

    section("A person who is not enrolled")
    few = first & (new_people <= KNOWN + 5)
    recognizer.enroll(new_images[few], new_people[few], replace=True)
    stranger = new_images[(new_people == KNOWN + 8)][3:4]
    answer, distance = recognizer.identify(stranger, return_distance=True)
    print(f"enrolled people {new_people[few].tolist()} only")
    print(
        f"a photo of {KNOWN + 8} -> {answer[0]!s} (nearest at distance "
        f"{distance[0]:.3f}; threshold {recognizer.threshold_:.3f})"
    )
    recognizer.enroll(new_images[first], new_people[first], replace=True)

    section("Verification of the new people")
    a = new_images[[0, 0]]  # a photo of person 31 ...
    b = new_images[[5, 15]]  # ... against another of 31, then one of 32
    same = recognizer.verify(a, b)
    pair_distances = recognizer.distance(a, b)
    for label, s, d in zip(("31 vs 31", "31 vs 32"), same, pair_distances, strict=True):
        print(f"{label}: same person {s} (distance {d:.3f})")
    t0 = time.perf_counter()
    scores = recognizer.evaluate(new_images, new_people)
    seconds = time.perf_counter() - t0
    print(
        f"all {scores['n_pairs']} pairs ({scores['n_same']} of the same person) "
        f"in {seconds:.1f}s:"
    )
    for name in (
        "roc_auc",
        "balanced_accuracy",
        "true_accept_rate",
        "false_accept_rate",
    ):
        print(f"{name:>20}: {scores[name]:.4f}")

    section("Figure")
    # 6 queries of different people: the misses first, then the hits with
    # the largest distances (the closest calls); each beside the enrolled
    # photo of the person it was named as (for "unknown", the nearest one)
    order = np.lexsort((-distances, hits))
    _, first_of_person = np.unique(truth[order], return_index=True)
    shown = order[np.sort(first_of_person)][:6]
    matched, labels = [], []
    for i in shown:
        if names[i] in enrolled:
            matched.append(enrolled[names[i]])
            labels.append(names[i])
        else:  # "unknown": show the nearest enrolled person, threshold aside
            nearest = recognizer.identify(queries[i : i + 1], unknown=None)[0]
            matched.append(enrolled[nearest])
            labels.append(f"{names[i]} ({nearest}?)")
    grid = plot_matches(
        queries[shown],
        matched,
        distances[shown],
        OUTPUTS / "faces_matches.png",
        true_names=truth[shown],
        matched_names=labels,
    )
    misses = int((~hits[shown]).sum())
    print(f"wrote {Path(grid).relative_to(ROOT)}: {misses} misses, ", end="")
    print(f"{len(shown) - misses} hits of people {truth[shown].tolist()}")

    section("Export")
    export_path = recognizer.export(path=MODEL_FOLDER)
    print(f"SavedModel written to {Path(export_path).relative_to(ROOT)}")
    print(f"with the gallery of {len(enrolled)} people enrolled above")

    section("Serving from plain TensorFlow (fresh process)")
    picks = queries[[0, 40, 80]]
    # the model finds and crops the faces itself (MTCNN is in the graph);
    # it needs a channel axis, 1 (grey) or 3
    pixels = picks[..., None]
    result = subprocess.run(
        [sys.executable, "-c", SERVE],
        input=json.dumps(
            {
                "path": os.fspath(export_path),
                "images": pixels.tolist(),
            }
        ),
        capture_output=True,
        text=True,
        check=False,
    )
    if result.returncode != 0:
        sys.exit(f"serving process failed:\n{result.stderr}")
    served = json.loads(result.stdout.strip().splitlines()[-1])
    if served["applied_ml_imported"]:
        sys.exit("serving process imported applied_ml; it must need TensorFlow only")
    local = recognizer.identify(picks)
    print(f"endpoints: {served['endpoints']}; input images {pixels.shape}")
    for name, d, here in zip(
        served["identity"], served["distance"], local, strict=True
    ):
        print(f"  served {name:>7} (distance {d:.3f}); identify here: {here}")
    # the SavedModel returns names as strings, identify as they were enrolled
    same = [str(n) for n in local] == served["identity"]
    print(f"same as recognizer.identify in this process: {same}")

    section("Done")
    print(f"total {time.perf_counter() - start:.1f}s")


if __name__ == "__main__":
    main()
