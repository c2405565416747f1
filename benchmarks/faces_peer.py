"""dlib's face descriptor (``face_recognition``) for the faces benchmark.

Runs in its own venv (``make bench-faces`` makes ``benchmarks/.venv-faces``:
dlib-bin, face-recognition-models, face-recognition without its
dependencies, Click), as a subprocess of ``benchmarks/faces.py``; it imports
neither applied_ml nor TensorFlow and computes no score. For each AT&T image
(grey repeated to RGB) it takes the face box of dlib's HOG detector (upsampled
once, else twice; else the image less 10% on each side, the box the
descriptor's 5-point alignment works from when no detector answers), then the
128-d descriptor through ``face_recognition.face_encodings`` (5-point
landmarks, aligned 150 x 150 chip, ResNet), the package's standard path.

Usage::

    benchmarks/.venv-faces/bin/python benchmarks/faces_peer.py \\
        --data ATT_FACES --out RESULT.npz [--passes 3]

Output ``RESULT.npz``: ``descriptors`` (400, 128) in the order s1..s40 and
1..10.pgm, ``box_source`` per image, and ``seconds_end_to_end`` and
``seconds_known_box``: the wall time of each timed pass over the 400 images
(detection, landmarks and descriptor; landmarks and descriptor from the
known box).
"""

import argparse
import time
from pathlib import Path

import face_recognition
import numpy as np
from PIL import Image

MARGIN = 0.1


def load(folder: Path) -> tuple[np.ndarray, np.ndarray]:
    people = sorted(
        (p for p in folder.iterdir() if p.is_dir() and p.name[1:].isdigit()),
        key=lambda p: int(p.name[1:]),
    )
    images, identities = [], []
    for person in people:
        for file in sorted(person.glob("*.pgm"), key=lambda f: int(f.stem)):
            images.append(np.asarray(Image.open(file).convert("RGB")))
            identities.append(int(person.name[1:]))
    return np.stack(images), np.array(identities)


def face_box(image: np.ndarray) -> tuple[tuple[int, int, int, int], str]:
    """(top, right, bottom, left) of the face, and where it came from."""
    for upsample in (1, 2):
        boxes = face_recognition.face_locations(image, upsample)
        if boxes:
            return boxes[0], f"hog_upsample_{upsample}"
    height, width = image.shape[:2]
    dy, dx = round(MARGIN * height), round(MARGIN * width)
    return (dy, width - 1 - dx, height - 1 - dy, dx), "image_less_10pct"


def describe(image: np.ndarray, box) -> np.ndarray:
    return face_recognition.face_encodings(image, known_face_locations=[box])[0]


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--data", type=Path, required=True)
    parser.add_argument("--out", type=Path, required=True)
    parser.add_argument("--passes", type=int, default=3)
    args = parser.parse_args()
    images, identities = load(args.data)
    boxes, sources = zip(*(face_box(image) for image in images), strict=True)
    descriptors = np.stack(
        [describe(image, box) for image, box in zip(images, boxes, strict=True)]
    )
    end_to_end, known_box = [], []
    for _ in range(args.passes):
        start = time.perf_counter()
        for image in images:
            describe(image, face_box(image)[0])
        end_to_end.append(time.perf_counter() - start)
        start = time.perf_counter()
        for image, box in zip(images, boxes, strict=True):
            describe(image, box)
        known_box.append(time.perf_counter() - start)
    np.savez(
        args.out,
        descriptors=descriptors.astype(np.float32),
        identities=identities,
        box_source=np.array(sources),
        seconds_end_to_end=np.array(end_to_end),
        seconds_known_box=np.array(known_box),
    )
    kinds, counts = np.unique(sources, return_counts=True)
    print(f"dlib: {len(images)} faces; boxes: {dict(zip(kinds, counts, strict=True))}")


if __name__ == "__main__":
    main()
