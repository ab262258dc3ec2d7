"""PSNR and SSIM: the standard convention, one image as one image, and inputs that would mislead;
the detector metrics (AUROC, AUPRC, counts at a threshold)."""

import math

import numpy as np
import pytest

from aelib import metrics


@pytest.fixture(scope="module")
def pair():
    rng = np.random.default_rng(0)
    x = rng.random((3, 28, 28, 1)).astype(np.float32)
    y = np.clip(x + rng.normal(0, 0.2, x.shape), 0, 1).astype(np.float32)
    return x, y


def test_ssim_matches_tensorflow(pair):
    import tensorflow as tf

    x, y = pair
    np.testing.assert_allclose(metrics.ssim(x, y), tf.image.ssim(x, y, 1.0).numpy(), atol=1e-5)
    rng = np.random.default_rng(1)
    c = rng.random((2, 32, 32, 3))
    d = np.clip(c + rng.normal(0, 0.1, c.shape), 0, 1)
    expected = tf.image.ssim(tf.constant(c * 255), tf.constant(d * 255), 255.0).numpy()
    np.testing.assert_allclose(metrics.ssim(c * 255, d * 255, data_range=255), expected, atol=1e-5)


def test_ssim_matches_scikit_image(pair):
    sk = pytest.importorskip("skimage.metrics")
    x, y = pair
    want = sk.structural_similarity(
        x[0, ..., 0],
        y[0, ..., 0],
        data_range=1.0,
        gaussian_weights=True,
        sigma=1.5,
        use_sample_covariance=False,
    )
    assert metrics.ssim(x[0], y[0])[0] == pytest.approx(want, abs=1e-6)


def test_ssim_orders_noise_levels(pair):
    x, y = pair
    np.testing.assert_allclose(metrics.ssim(x, x), 1.0, atol=1e-9)
    worse = np.clip(x + np.random.default_rng(2).normal(0, 0.4, x.shape), 0, 1)
    assert np.all(metrics.ssim(x, worse) < metrics.ssim(x, y))


def test_one_image_is_one_image(pair):
    x, y = pair
    whole = metrics.psnr(x[:1], y[:1])
    for a, b in ((x[0], y[0]), (x[0, ..., 0], y[0, ..., 0])):
        np.testing.assert_allclose(metrics.psnr(a, b), whole)
        np.testing.assert_allclose(metrics.ssim(a, b), metrics.ssim(x[:1], y[:1]))
    # A batch of grayscale images without a channel axis stays a batch.
    assert metrics.psnr(x[..., 0], y[..., 0]).shape == (3,)


def test_integer_images_need_their_range(pair):
    x, y = pair
    u, v = (x * 255).round().astype(np.uint8), (y * 255).round().astype(np.uint8)
    for fn in (metrics.mean_psnr, metrics.ssim):
        with pytest.raises(
            ValueError, match="integer dtype uint8 but data_range=1.0.*data_range=255"
        ):
            fn(u, v)
    assert metrics.mean_psnr(u, v, data_range=255) == pytest.approx(
        metrics.mean_psnr(x, y), abs=0.1
    )


def test_reference_wider_than_range_is_refused(pair):
    x, y = pair
    with pytest.raises(ValueError, match=r"spans \[.*wider than data_range=1.0"):
        metrics.mean_psnr(x * 255, y * 255)
    # A prediction may overshoot the range (bicubic upscaling does); the reference may not.
    assert np.isfinite(metrics.mean_psnr(x, y * 1.2))


def test_bad_arguments_are_named(pair):
    x, y = pair
    with pytest.raises(ValueError, match="data_range must be positive"):
        metrics.psnr(x, y, data_range=0)
    with pytest.raises(TypeError, match="data_range must be a number"):
        metrics.psnr(x, y, data_range="1")
    with pytest.raises(ValueError, match="shape"):
        metrics.ssim(x, y[:2])
    with pytest.raises(ValueError, match="smaller than the 11x11 window"):
        metrics.ssim(x[:, :8, :8], y[:, :8, :8])
    with pytest.raises(ValueError, match="expected one image"):
        metrics.psnr(x.ravel(), y.ravel())


def test_nan_is_not_hidden(pair):
    x, y = pair
    y = y.copy()
    y[0, 3, 3, 0] = np.nan
    assert np.isnan(metrics.psnr(x, y)[0]) and np.isfinite(metrics.psnr(x, y)[1:]).all()
    assert np.isnan(metrics.mean_psnr(x, y))
    assert np.isnan(metrics.ssim(x, y)[0])


def test_principal_angles_agree_with_scipy():
    rng = np.random.default_rng(0)
    a, b = rng.normal(size=(12, 3)), rng.normal(size=(12, 4))
    ang = metrics.principal_angles(a, b)
    assert ang.shape == (3,) and np.all(np.diff(ang) >= 0)
    np.testing.assert_allclose(
        metrics.principal_angles(a, a @ rng.normal(size=(3, 3))), 0, atol=1e-5
    )


# --- detector metrics (the anomaly is the positive class)


def test_confusion_at_hand_made_case():
    scores = np.array([0.1, 0.2, 0.3, 0.4, 0.5, 0.6])
    is_anomaly = np.array([False, False, True, False, True, True])
    m = metrics.confusion_at(scores, is_anomaly, threshold=0.35)  # flags 0.4, 0.5, 0.6
    assert (m["tp"], m["fp"], m["tn"], m["fn"]) == (2, 1, 2, 1)
    assert m["precision"] == pytest.approx(2 / 3)
    assert m["recall"] == pytest.approx(2 / 3)
    assert m["fpr"] == pytest.approx(1 / 3)
    assert m["f1"] == pytest.approx(2 / 3)
    # a score equal to the threshold is not flagged
    assert metrics.confusion_at(scores, is_anomaly, 0.6)["tp"] == 0


def test_confusion_undefined_rates_are_nan():
    m = metrics.confusion_at([0.1, 0.2], [False, True], threshold=1.0)
    assert math.isnan(m["precision"]) and m["recall"] == 0.0 and m["fpr"] == 0.0


def test_auroc_and_auprc_hand_made_cases():
    lab = np.array([0, 0, 1, 1])
    assert metrics.auroc([0.1, 0.2, 0.8, 0.9], lab) == 1.0
    assert metrics.auroc([0.9, 0.8, 0.2, 0.1], lab) == 0.0
    # pairs (anomaly > normal): (0.35 > 0.1), (0.35 < 0.4), (0.8 > both) -> 3 of 4
    assert metrics.auroc([0.1, 0.4, 0.35, 0.8], lab) == pytest.approx(0.75)
    # ranking anomaly, normal, anomaly: AP = (1/1 + 2/3) / 2
    assert metrics.auprc([0.9, 0.5, 0.1], [1, 0, 1]) == pytest.approx((1 + 2 / 3) / 2)


def test_metrics_reject_one_class_labels_and_bad_lengths():
    with pytest.raises(ValueError, match="both anomalies"):
        metrics.auroc([0.1, 0.2], [True, True])
    with pytest.raises(ValueError, match="one entry per score"):
        metrics.auprc([0.1, 0.2, 0.3], [0, 1])
    with pytest.raises(ValueError, match="booleans or 0/1"):
        metrics.auroc([0.1, 0.2], [0, 2])
