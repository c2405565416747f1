"""Faces: one-shot identification of AT&T people the model never saw."""

import os
from pathlib import Path

import numpy as np

from applied_ml import FaceRecognizer
from applied_ml.datasets import load_att_faces
from applied_ml.vision import plot_matches
from demo._common import ROOT, SEED, export_fresh, metric, serve_one
from demo.parts import Skipped

TITLE = "Faces: one-shot identification"
ENV = "ATT_FACES"  # where the AT&T faces are, when not in ../shared/data
DEFAULT = ROOT.parent / "shared" / "data" / "att_faces"
KNOWN = 10  # people 1..10 tune the threshold; 31..40 are new to the model
NEW = 30


def data_folder() -> Path:
    """The AT&T faces folder: ``$ATT_FACES``, else ``../shared/data/att_faces``."""
    return Path(os.environ.get(ENV) or DEFAULT)


def run(folder) -> dict:
    """Fit, identify, compare, plot, export and serve; return the result record."""
    data = data_folder()
    if not data.is_dir():
        raise Skipped(f"no AT&T faces at {data}; set {ENV}=/path/to/att_faces")
    images, people = load_att_faces(data)
    known, new = people <= KNOWN, people > NEW
    first = new & (np.arange(len(people)) % 10 == 0)  # one photo of each new person
    queries = new & ~first
    print(
        f"  threshold tuned on people 1-{KNOWN}; people {NEW + 1}-{people.max()} "
        f"enrolled from 1 photo each, {queries.sum()} photos to name"
    )
    try:
        recognizer = FaceRecognizer(
            backbone="face_resnet", align="mtcnn", random_state=SEED
        ).fit(images[known], people[known])
    except (FileNotFoundError, ImportError) as error:
        raise Skipped(f"{error} (`make face-api`; `pip install mtcnn`)") from None
    recognizer.enroll(images[first], people[first], replace=True)
    names, distances = recognizer.identify(images[queries], return_distance=True)
    accuracy = np.mean(names == people[queries])

    gallery = images[first].reshape(first.sum(), -1).astype("float32")
    pixels = images[queries].reshape(queries.sum(), -1).astype("float32")
    nearest = ((pixels[:, None, :] - gallery[None]) ** 2).sum(-1).argmin(1)
    peer = np.mean(people[first][nearest] == people[queries])

    enrolled = dict(zip(people[first], images[first], strict=True))
    shown = np.flatnonzero(queries)[::15][:6]
    picked = np.searchsorted(np.flatnonzero(queries), shown)
    labels = [str(n) for n in names[picked]]
    png = plot_matches(
        images[shown],
        [enrolled.get(n, images[shown[k]]) for k, n in enumerate(names[picked])],
        distances[picked],
        folder / "matches.png",
        true_names=people[shown],
        matched_names=labels,
    )

    path = export_fresh(recognizer, folder)
    query = images[shown[0]]
    out = serve_one(path, images=query[None, :, :, None])
    return {
        "title": TITLE,
        "data": f"AT&T faces: {len(images)} grey photos of {people.max()} people; "
        f"10 people unseen in fit, enrolled from 1 photo each",
        "model": "FaceRecognizer: MTCNN alignment + pretrained face-api ResNet "
        "embedding (nothing trains)",
        "metric": metric("rank-1 accuracy, 1-shot", accuracy),
        "peer": metric("1-nearest neighbour on raw pixels, 1-shot", peer),
        "baseline": metric("chance", 1 / first.sum()),
        "pngs": [os.path.basename(png)],
        "serving": {
            "input": f"one raw uint8 photo {query.shape} of person {people[shown[0]]}",
            "output": f"identity {out['identity'][0].decode()} "
            f"(distance {out['distance'][0]:.3f})",
        },
    }
