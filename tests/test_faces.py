"""FaceRecognizer: triplet loss, P x K batches, threshold, gallery, errors."""

import os
import pickle

import keras
import numpy as np
import pytest
import tensorflow as tf
from sklearn.exceptions import NotFittedError

from applied_ml.vision import FaceRecognizer, TripletLoss
from applied_ml.vision._face_pairs import all_pairs, choose_threshold
from applied_ml.vision._pk_batches import pk_batches
from tests.conftest import need

ATT_FACES = os.path.join(
    os.path.dirname(__file__), "..", "..", "shared", "data", "att_faces"
)
# Two people: 0 at (0, 0) and (2, 0), 1 at (0, 1) and (3, 0).
POINTS = np.array([[0.0, 0.0], [2.0, 0.0], [0.0, 1.0], [3.0, 0.0]])
LABELS = np.array([0, 0, 1, 1])


def _per_anchor(loss: TripletLoss, labels, points) -> np.ndarray:
    return np.asarray(loss.call(tf.constant(labels), tf.constant(points, tf.float32)))


def test_batch_hard_loss_by_hand():
    # anchor: farthest positive, nearest negative, margin 0.5
    expected = [
        2 - 1 + 0.5,  # d(0,1)=2; negatives at 1 and 3
        2 - 1 + 0.5,  # d(1,0)=2; negatives at sqrt(5) and 1
        np.sqrt(10) - 1 + 0.5,  # d(2,3)=sqrt(10); negatives at 1 and sqrt(5)
        np.sqrt(10) - 1 + 0.5,  # d(3,2)=sqrt(10); negatives at 3 and 1
    ]
    loss = TripletLoss(margin=0.5, mining="batch_hard")
    np.testing.assert_allclose(_per_anchor(loss, LABELS, POINTS), expected, rtol=1e-6)
    assert float(loss(LABELS, POINTS)) == pytest.approx(np.mean(expected), rel=1e-6)


def test_semi_hard_loss_by_hand():
    # the nearest negative farther than the positive, else the farthest one
    expected = [
        0.0,  # d_ap=2, negative at 3: 2 - 3 + 0.5 < 0
        2 - np.sqrt(5) + 0.5,  # d_ap=2, negative at sqrt(5)
        np.sqrt(10) - np.sqrt(5) + 0.5,  # no negative beyond sqrt(10): farthest
        np.sqrt(10) - 3 + 0.5,  # no negative beyond sqrt(10): farthest, 3
    ]
    loss = TripletLoss(margin=0.5, mining="semi_hard")
    np.testing.assert_allclose(
        _per_anchor(loss, LABELS, POINTS), expected, rtol=1e-6, atol=1e-7
    )


@pytest.mark.parametrize("mining", ["batch_hard", "semi_hard"])
def test_an_anchor_without_a_positive_adds_nothing(mining):
    loss = TripletLoss(margin=0.5, mining=mining)
    per_anchor = _per_anchor(loss, np.array([0, 0, 1]), POINTS[:3])
    assert per_anchor[2] == 0.0 and per_anchor[0] > 0.0


def test_triplet_loss_is_keras_serializable_and_checks_its_arguments():
    loss = TripletLoss(margin=0.3, mining="semi_hard")
    again = keras.losses.deserialize(keras.losses.serialize(loss))
    assert isinstance(again, TripletLoss)
    assert (again.margin, again.mining) == (0.3, "semi_hard")
    with pytest.raises(ValueError, match="`mining` must be one of"):
        TripletLoss(mining="hardest")
    with pytest.raises(ValueError, match="`margin` must be >= 0"):
        TripletLoss(margin=-1)


def test_pk_batches_hold_p_people_of_k_images():
    # person 2 has 3 images, fewer than K = 4
    identities = np.repeat([0, 1, 2, 3, 4], [10, 10, 3, 6, 8])
    batches = pk_batches(identities, 3, 4, 6, np.random.default_rng(0))
    assert batches.shape == (6, 12)
    seen = set()
    for batch in batches:
        people = identities[batch].reshape(3, 4)
        assert (people == people[:, :1]).all()  # K images of one person per group
        assert len(set(people[:, 0])) == 3  # P different people
        for group in batch.reshape(3, 4):
            person = identities[group[0]]
            seen.add(int(person))
            expected_distinct = min(4, int(np.sum(identities == person)))
            assert len(set(group)) == expected_distinct
    assert seen == {0, 1, 2, 3, 4}
    # fewer people than P: every person in every batch
    small = pk_batches(np.array([0, 0, 1, 1]), 8, 2, 1, np.random.default_rng(0))
    assert small.shape == (1, 4) and sorted(small[0]) == [0, 1, 2, 3]


def test_threshold_choice_on_pairs():
    same = np.array([True, True, False, False])
    assert choose_threshold(
        np.array([0.1, 0.2, 0.6, 0.8]), same, "balanced_accuracy"
    ) == (pytest.approx(0.4))
    # at most 1 false accept in 4: the most true accepts within it
    distances = np.array([0.1, 0.2, 0.5, 0.3, 0.6, 0.7, 0.9])
    same = np.array([True, True, True, False, False, False, False])
    assert choose_threshold(distances, same, 0.25) == pytest.approx(0.55)
    with pytest.raises(ValueError, match="pairs of the same identity and pairs of"):
        choose_threshold(distances, np.zeros(7, bool), "balanced_accuracy")
    d, s = all_pairs(np.array([[0.0, 0.0], [3.0, 4.0], [0.0, 1.0]]), [1, 1, 2])
    np.testing.assert_allclose(d, [5.0, 1.0, np.sqrt(18)])
    np.testing.assert_array_equal(s, [True, False, False])


# ---------------------------------------------------------------- estimator
def _people(n_people: int = 8, n_images: int = 6, size: int = 32, seed: int = 0):
    """Each person a fixed random pattern; each image a noisy view of it."""
    rng = np.random.default_rng(seed)
    patterns = rng.integers(0, 256, size=(n_people, size, size, 3))
    y = np.repeat(np.arange(n_people), n_images)
    noise = rng.integers(0, 256, size=(len(y), size, size, 3))
    return (0.7 * patterns[y] + 0.3 * noise).astype("uint8"), y


SMALL = {
    "backbone": "small_cnn",
    "image_size": 32,
    "identities_per_batch": 4,
    "augmentation": None,
    "random_state": 0,
}


@pytest.fixture(scope="module")
def trained():
    X, y = _people(10)
    return FaceRecognizer(**SMALL, epochs=8, early_stopping=False).fit(X, y), X, y


def test_fits_from_tf_data():
    X, y = _people(6, 4)
    dataset = tf.data.Dataset.from_tensor_slices((X, y)).batch(8)
    recognizer = FaceRecognizer(**SMALL, epochs=1, validation_fraction=0.34)
    recognizer.fit(dataset)
    assert len(recognizer.gallery_names_) == len(y)
    assert recognizer.identities_.tolist() == list(range(6))


def test_threshold_is_tuned_on_held_out_people_only(trained):
    recognizer, X, y = trained
    train_idx, val_idx = recognizer._split(len(y), y)
    held_out = np.unique(y[val_idx])
    assert not set(held_out) & set(y[train_idx])
    assert len(held_out) == 2  # 20% of 10 people
    embeddings = recognizer.embed(X[val_idx])
    distances, same = all_pairs(embeddings, y[val_idx])
    assert recognizer.threshold_scores_["n_pairs"] == len(distances) == 66
    assert recognizer.threshold_ == pytest.approx(
        choose_threshold(distances, same, "balanced_accuracy")
    )
    # every fit image is in the gallery
    assert len(recognizer.gallery_names_) == len(y)


def test_unknown_for_a_person_outside_the_gallery(trained):
    recognizer, X, y = trained
    recognizer = pickle.loads(pickle.dumps(recognizer))
    enrolled = np.isin(y, [0, 1, 2, 3])
    recognizer.enroll(X[enrolled][::6], y[enrolled][::6], replace=True)
    names = recognizer.identify(X[y == 9])
    assert (names == "unknown").mean() >= 0.5, names
    nearest = recognizer.identify(X[y == 9], unknown=None)
    assert set(nearest) <= {0, 1, 2, 3}
    known = recognizer.identify(X[y == 1])
    assert (known == 1).mean() >= 0.8
    top = recognizer.identify(X[:2], top_k=3)
    assert top.shape == (2, 3)


def test_the_gallery_survives_pickle_save_and_export(trained, tmp_path):
    recognizer, X, y = trained
    recognizer = pickle.loads(pickle.dumps(recognizer))
    recognizer.enroll(X[::6][:3], ["ann", "bob", "cy"], replace=True)
    recognizer.enroll(X[::6][3:5], ["dee", "eve"])
    expected = recognizer.identify(X, return_distance=True)
    for restored in (
        pickle.loads(pickle.dumps(recognizer)),
        FaceRecognizer.load(_saved(recognizer, tmp_path)),
    ):
        names, distances = restored.identify(X, return_distance=True)
        np.testing.assert_array_equal(names, expected[0])
        np.testing.assert_allclose(distances, expected[1], atol=1e-6)
    served = tf.saved_model.load(recognizer.export(tmp_path / "export"))
    out = served.signatures["serving_default"](images=tf.constant(X))
    np.testing.assert_array_equal(
        out["identity"].numpy().astype(str), expected[0].astype(str)
    )
    np.testing.assert_allclose(out["distance"].numpy(), expected[1], atol=1e-5)


def _saved(recognizer, folder) -> str:
    path = folder / "faces.keras"
    recognizer.save(path)
    return path


def test_verify_distance_and_evaluate(trained):
    recognizer, X, y = trained
    same = recognizer.verify(X[0:6:2], X[1:6:2])
    assert same.dtype == bool and same.shape == (3,)
    distances = recognizer.distance(X[:3], X[6:9])
    assert distances.shape == (3,) and (distances >= 0).all()
    scores = recognizer.evaluate(X, y)
    assert scores["n_pairs"] == len(y) * (len(y) - 1) // 2
    assert {"roc_auc", "balanced_accuracy", "accuracy"} <= set(scores)
    assert recognizer.score(X, y) == scores["accuracy"]


def test_grid_search_folds_keep_every_person_in_the_gallery():
    from sklearn.base import is_classifier
    from sklearn.model_selection import GridSearchCV

    X, y = _people(8, 6)
    recognizer = FaceRecognizer(**SMALL, epochs=3, validation_fraction=0.25)
    assert is_classifier(recognizer)  # so cross-validation stratifies by person
    search = GridSearchCV(recognizer, {"margin": [0.1, 0.3]}, cv=3).fit(X, y)
    assert search.best_score_ >= 0.8, search.cv_results_["mean_test_score"]
    # a named scorer reads classes_ and takes string names: a score, not NaN
    named = GridSearchCV(recognizer, {"margin": [0.1]}, cv=3, scoring="accuracy")
    names = np.array([f"person {i}" for i in y])
    assert named.fit(X, names).best_score_ >= 0.8


def test_names_of_several_types_stay_as_given(trained):
    recognizer, X, y = trained
    recognizer = pickle.loads(pickle.dumps(recognizer))
    recognizer.enroll(X[[0, 6]], ["ann", 3], replace=True)
    assert recognizer.gallery_names_.tolist() == ["ann", 3]
    names = recognizer.identify(X[[1, 7]], unknown=None)
    assert names.tolist() == ["ann", 3]
    assert recognizer.score(X[[1, 7]], ["ann", 3]) == 1.0


def test_bad_input_gets_clear_errors(trained):
    X, y = _people(4, 3)
    recognizer = FaceRecognizer(**SMALL, epochs=1, validation_fraction=0)
    recognizer.set_params(early_stopping=False)
    with pytest.raises(ValueError, match="at least 2 people.*Received images of 1"):
        recognizer.fit(X, np.zeros(len(X), int))
    lonely = y.copy()
    lonely[0] = 99
    with pytest.raises(ValueError, match="at least 2 images.*Received 1 person.*99"):
        recognizer.fit(X, lonely)
    with pytest.raises(ValueError, match="same number of samples.*12.*11"):
        recognizer.fit(X, y[:-1])
    with pytest.raises(ValueError, match=r"`y` contains 1 missing names.*y\[2\]=None"):
        recognizer.fit(X, [*y[:2], None, *y[3:]])
    with pytest.raises(NotFittedError):
        recognizer.identify(X)
    with pytest.raises(NotFittedError):
        recognizer.enroll(X, y)
    fitted, X, y = trained
    with pytest.raises(ValueError, match="same number of samples"):
        fitted.enroll(X[:3], ["a", "b"])
    with pytest.raises(ValueError, match=r"`names` contains 1 missing names"):
        fitted.enroll(X[:2], ["a", np.nan])
    with pytest.raises(ValueError, match="`images_a` and `images_b`"):
        fitted.verify(X[:3], X[:2])
    with pytest.raises(ValueError, match="`top_k`"):
        fitted.identify(X[:2], top_k=11)
    with pytest.raises(ValueError, match="pairs of the same identity and pairs"):
        fitted.evaluate(X[:6], y[:6])  # one person only
    with pytest.raises(ValueError, match="A folder of people"):
        fitted.identify(str(os.path.dirname(__file__)))
    triples = tf.data.Dataset.from_tensor_slices((X, y, np.ones(len(y)))).batch(8)
    with pytest.raises(ValueError, match=r"\(images, identities\) batches"):
        FaceRecognizer(**SMALL).fit(triples)
    with pytest.raises(ValueError, match="`validation_fraction=0.5` holds out"):
        FaceRecognizer(**SMALL, validation_fraction=0.5).fit(*_people(3, 3))
    no_threshold = FaceRecognizer(
        **SMALL, epochs=1, validation_fraction=0, early_stopping=False
    ).fit(*_people(4, 3))
    with pytest.raises(ValueError, match="no verification threshold"):
        no_threshold.verify(X[:2], X[2:4])


@pytest.mark.parametrize(
    ("params", "match"),
    [
        ({"backbone": "vgg"}, "`backbone`"),
        ({"align": "eyes"}, "`align`"),
        ({"image_size": (64,)}, "`image_size`"),
        ({"backbone": "face_resnet", "image_size": 160}, "150 for backbone"),
        (
            {"backbone": "face_resnet", "image_size": None, "embedding_dim": 64},
            "128 for backbone",
        ),
        ({"threshold_target": 1.5}, "`threshold_target`"),
        ({"identities_per_batch": 1}, "`identities_per_batch`"),
        ({"fine_tune_layers": 2}, "`fine_tune_layers` applies"),
        ({"augmentation": ("blur",)}, "`augmentation`"),
    ],
)
def test_bad_parameters_are_refused(params, match):
    X, y = _people(4, 3)
    with pytest.raises(ValueError, match=match):
        FaceRecognizer(**{**SMALL, **params}).fit(X, y)


def test_trained_embedding_separates_unseen_people_better_than_pixels():
    """Real faces: 20 people to train on, 10 unseen ones to tell apart."""
    need("../shared/data/att_faces", os.path.isdir(ATT_FACES))
    from sklearn.metrics import roc_auc_score

    from applied_ml.datasets import load_att_faces

    images, people = load_att_faces(ATT_FACES)
    train, unseen = people <= 20, people > 30
    recognizer = FaceRecognizer(
        backbone="efficientnet_lite0",
        image_size=(96, 80),
        epochs=4,
        early_stopping=False,
        random_state=0,
    ).fit(images[train], people[train])
    scores = recognizer.evaluate(images[unseen], people[unseen])
    pixels = images[unseen].reshape(100, -1).astype("float64")
    distances, same = all_pairs(pixels, people[unseen])
    pixel_auc = roc_auc_score(same, -distances)
    assert scores["roc_auc"] >= pixel_auc + 0.02, (scores, pixel_auc)


# ---------------------------------------------------------------- alignment
def test_similarity_recovers_a_known_transform():
    from applied_ml.vision._face_align import TEMPLATE, similarity

    angle, scale, shift = 0.3, 1.7, np.array([12.0, -5.0])
    rotation = np.array(
        [[np.cos(angle), -np.sin(angle)], [np.sin(angle), np.cos(angle)]]
    )
    target = TEMPLATE * 100
    source = (target - shift) @ rotation / scale  # target = scale R source + shift
    mirrored = source * [-1, 1]  # a reflection is not a similarity: no exact fit
    matrix = similarity(np.stack([source, mirrored]), target).numpy()
    np.testing.assert_allclose(matrix[0, :2, :2], scale * rotation, atol=1e-9)
    np.testing.assert_allclose(matrix[0, :2, 2], shift, atol=1e-9)
    np.testing.assert_allclose(matrix[:, 2], [[0, 0, 1]] * 2, atol=0)
    assert np.linalg.det(matrix[1, :2, :2]) > 0  # rotation and scale, no flip


def _att_faces():
    need("../shared/data/att_faces", os.path.isdir(ATT_FACES))
    from applied_ml.datasets import load_att_faces

    return load_att_faces(ATT_FACES)


def _need_mtcnn_and_face_api():
    import importlib.util

    from applied_ml.vision import _face_resnet

    need("mtcnn (make install)", importlib.util.find_spec("mtcnn") is not None)
    try:
        _face_resnet.package_path()
    except FileNotFoundError:
        need("the face-api weights (make face-api)", False)


def _on_canvas(faces, shape=(240, 200), corner=(70, 30)):
    """Grey AT&T faces pasted off-centre onto larger mid-grey photos."""
    canvas = np.full((len(faces), *shape), 128, np.uint8)
    top, left = corner
    canvas[:, top : top + faces.shape[1], left : left + faces.shape[2]] = faces
    return canvas


def _landmarks(images):
    from applied_ml.vision._mtcnn import largest_face_landmarks

    rgb = (
        np.broadcast_to(images[..., None], (*images.shape, 3))
        if images.ndim == 3
        else images
    )
    return np.stack(
        [largest_face_landmarks(tf.constant(i, tf.float32)).numpy() for i in rgb]
    )


def test_mtcnn_in_tensorflow_ops_finds_the_packages_landmarks():
    images, _ = _att_faces()
    _need_mtcnn_and_face_api()
    from mtcnn import MTCNN

    photos = [*images[::50], *_on_canvas(images[5::100])]
    ours = _landmarks(np.stack(photos[:8])), _landmarks(np.stack(photos[8:]))
    ours = np.concatenate(ours)
    detector = MTCNN(device="CPU:0")
    for photo, points in zip(photos, ours, strict=True):
        faces = detector.detect_faces(np.repeat(photo[..., None], 3, -1))
        largest = max(faces, key=lambda f: f["box"][2] * f["box"][3])
        marks = largest["keypoints"]  # rounded to pixels by the package
        names = ["left_eye", "right_eye", "nose", "mouth_left", "mouth_right"]
        expected = np.array([marks[n] for n in names], float)
        np.testing.assert_allclose(points, expected, atol=0.5 + 1e-3)


def test_mtcnn_crops_put_the_landmarks_on_the_template():
    images, _ = _att_faces()
    _need_mtcnn_and_face_api()
    from applied_ml.vision._face_align import TEMPLATE

    recognizer = FaceRecognizer(backbone="face_resnet", align="mtcnn")
    faces, found = recognizer.crop_faces(images[::40])
    assert faces.shape == (10, 150, 150, 3) and found.all()
    # the same faces off-centre on larger photos: the same alignment
    moved, found = recognizer.crop_faces(_on_canvas(images[::40]))
    assert found.all()
    for crops in faces, moved:
        error = np.abs(_landmarks(crops) - TEMPLATE * 150).mean(axis=(0, 1))
        assert (error < 6).all(), error  # pixels of the 150 px crop


def test_pretrained_face_model_identifies_unseen_people():
    """face_resnet + MTCNN, nothing trained: one photo enrolled per person."""
    images, people = _att_faces()
    _need_mtcnn_and_face_api()
    seen, unseen = people <= 10, people > 30
    recognizer = FaceRecognizer(backbone="face_resnet", align="mtcnn")
    recognizer.fit(images[seen], people[seen])
    assert recognizer.n_iter_ == 0 and recognizer.threshold_ is not None
    new, names = images[unseen], people[unseen]
    recognizer.enroll(new[::10], names[::10], replace=True)
    queries = np.arange(len(new)) % 10 != 0
    assert recognizer.score(new[queries], names[queries]) >= 0.97
    # a blank image has no face: a per-image answer, not a crash
    blank = np.full((112, 92), 128, np.uint8)
    answers = recognizer.identify([new[1], blank])
    assert answers[0] == names[1] and answers[1] == "no face"
    assert np.isnan(recognizer.embed([blank])).all()
    assert not recognizer.verify([blank], [new[1]])[0]
    with pytest.raises(ValueError, match=r"No face was found in 1 image.*\[1\]"):
        recognizer.enroll([new[0], blank], ["a", "b"])


def test_fine_tuning_the_face_model_runs_one_phase_on_its_top():
    images, people = _att_faces()
    _need_mtcnn_and_face_api()
    recognizer = FaceRecognizer(
        backbone="face_resnet",
        fine_tune_layers=1,
        fine_tune_learning_rate=1e-4,
        fine_tune_epochs=2,
        early_stopping=False,
        random_state=0,
    )
    assert recognizer._phases() == ("fine_tune",)
    before = FaceRecognizer(backbone="face_resnet").fit(images[:60], people[:60])
    recognizer.fit(images[:60], people[:60])
    assert recognizer.n_iter_ == 2
    trainable = [w.name for w in recognizer.model_.trainable_weights]
    assert trainable == ["kernel"]  # the fc layer alone (no bias)
    # the trunk below did not move: the penultimate features agree
    changed = np.abs(recognizer.embed(images[:5]) - before.embed(images[:5])).max()
    assert changed > 0
    lite0 = FaceRecognizer(backbone="efficientnet_lite0", fine_tune_layers=3)
    assert lite0._phases() == ("train", "fine_tune")


def test_mtcnn_export_finds_faces_in_photos_of_any_size(tmp_path):
    images, people = _att_faces()
    _need_mtcnn_and_face_api()
    recognizer = FaceRecognizer(backbone="face_resnet", align="mtcnn")
    recognizer.fit(images[:40], people[:40])
    served = tf.saved_model.load(recognizer.export(tmp_path / "faces"))
    blank = np.full((1, 240, 200), 128, np.uint8)
    photos = np.concatenate([_on_canvas(images[:40:7]), blank])[..., None]
    out = served.signatures["serving_default"](images=tf.constant(photos))
    answers = recognizer.identify(photos)
    assert answers[-1] == "no face" and (answers[:-1] == people[:40:7]).all()
    np.testing.assert_array_equal(
        out["identity"].numpy().astype(str), answers.astype(str)
    )
    assert np.isnan(out["distance"].numpy()[-1])
    embed = served.signatures["embed"](images=tf.constant(photos))["embeddings"]
    np.testing.assert_allclose(embed, recognizer.embed(photos), atol=1e-5)


def test_the_faces_tutorial_runs_end_to_end(tmp_path):
    import subprocess
    import sys

    _att_faces()
    _need_mtcnn_and_face_api()
    tutorial = os.path.join(os.path.dirname(__file__), "..", "tutorials", "faces.py")
    result = subprocess.run(
        [sys.executable, tutorial], capture_output=True, text=True, check=False
    )
    assert result.returncode == 0, result.stderr[-3000:]
    out = result.stdout
    rank1 = float(out.split("rank-1 accuracy: ")[1].split()[0])
    assert rank1 >= 0.97, out
    assert "same as recognizer.identify in this process: True" in out, out
    assert "wrote outputs/faces_matches.png" in out, out
