"""aelib.restoration: resolution helpers, the ESPCN and U-Net builders, masks, scenes and IoU."""

import keras
import numpy as np
import pytest

import aelib
from aelib import restoration as R


def _images(n=3, h=12, w=12, c=1, seed=0):
    return np.random.default_rng(seed).random((n, h, w, c)).astype("float32")


# --- resolution -----------------------------------------------------------------------------------


def test_downscale_averages_blocks():
    x = _images(2, 6, 6)
    small = R.downscale(x, 3)
    assert small.shape == (2, 2, 2, 1)
    assert small[1, 1, 0, 0] == pytest.approx(x[1, 3:6, 0:3, 0].mean(), rel=1e-6)


def test_bicubic_upscale_keeps_a_constant_image_and_the_range():
    flat = np.full((1, 5, 5, 1), 0.4, "float32")
    np.testing.assert_allclose(R.bicubic_upscale(flat, 3), 0.4, atol=1e-5)
    up = R.bicubic_upscale(_images(2, 7, 7), 4)
    assert up.shape == (2, 28, 28, 1) and up.min() >= 0 and up.max() <= 1


def test_shave_drops_the_border():
    assert R.shave(_images(1, 10, 12), 2).shape == (1, 6, 8, 1)
    with pytest.raises(ValueError, match="border"):
        R.shave(_images(1, 4, 4), 3)


@pytest.mark.parametrize("bad", [0, 2.0, True])
def test_downscale_refuses_a_bad_factor(bad):
    with pytest.raises(ValueError, match=r"downscale\(\): factor"):
        R.downscale(_images(), bad)


def test_resolution_helpers_refuse_uint8_images():
    with pytest.raises(ValueError, match="x / 255"):
        R.bicubic_upscale(np.zeros((1, 4, 4, 1), np.uint8), 2)


# --- models ---------------------------------------------------------------------------------------


@pytest.mark.parametrize("factor", [2, 3])
def test_espcn_shapes_and_a_copy_for_another_size(factor):
    model = R.espcn(factor, (7, 9, 1), filters=(8, 4), kernel_sizes=(5, 3))
    x = _images(2, 7, 9)
    out = R.predict(model, x)
    assert out.shape == (2, 7 * factor, 9 * factor, 1)
    assert 0 <= out.min() and out.max() <= 1
    # the convolutions run at the low resolution; the last one makes factor**2 sub-pixels
    assert model.get_layer("to_subpixels").filters == factor**2
    big = R.espcn_like(model, (14, 18, 1))
    wide = np.zeros((2, 14, 18, 1), "float32")
    wide[:, :7, :9] = x
    inner = R.predict(big, wide)[:, : 7 * factor - 3 * factor, : 9 * factor - 3 * factor]
    np.testing.assert_allclose(inner, out[:, : 4 * factor, : 6 * factor], atol=1e-5)


def test_residual_espcn_is_bicubic_plus_its_correction():
    x = _images(3, 6, 6)
    model = R.espcn(3, (6, 6, 1), filters=(4,), kernel_sizes=(3,), residual=True)
    # with the last convolution zeroed the correction is zero: the output is the bicubic image
    kernel, bias = model.get_layer("to_subpixels").get_weights()
    model.get_layer("to_subpixels").set_weights([np.zeros_like(kernel), np.zeros_like(bias)])
    up = np.asarray(keras.ops.image.resize(x, (18, 18), interpolation="bicubic", antialias=False))
    np.testing.assert_allclose(R.predict(model, x), up, atol=1e-5)
    # any other weights add a correction, which the copy for another size keeps
    model.get_layer("to_subpixels").set_weights([kernel, bias])
    out = R.predict(model, x)
    assert np.abs(out - up).max() > 1e-3
    copy = R.espcn_like(model, (6, 6, 1))
    np.testing.assert_allclose(R.predict(copy, x), out, atol=1e-6)
    with pytest.raises(ValueError, match="residual"):
        R.espcn(2, (6, 6, 1), residual="yes")


def test_clip_unit_bounds_images_and_keeps_valid_pixels():
    x = np.array([[-0.2, 0.0, 0.4, 1.0, 1.3]], np.float32)
    np.testing.assert_array_equal(R.clip_unit(x), np.array([[0.0, 0.0, 0.4, 1.0, 1.0]], np.float32))


def test_espcn_refuses_mismatched_kernel_sizes():
    with pytest.raises(ValueError, match="kernel_sizes"):
        R.espcn(2, (8, 8, 1), filters=(8, 4), kernel_sizes=(5,))


@pytest.mark.parametrize("skips", [True, False])
@pytest.mark.parametrize("convs", [1, 2])
def test_encoder_decoder_counts_its_parameters_by_hand(skips, convs):
    filters = (4, 6, 8)
    model = R.encoder_decoder(
        (16, 16, 2), filters, out_channels=3, skips=skips, convs_per_block=convs
    )
    assert model.output_shape == (None, 16, 16, 3)
    assert model.count_params() == R.encoder_decoder_params(2, filters, 3, skips, convs)
    has_skip = any(layer.name.endswith("_skip") for layer in model.layers)
    assert has_skip == skips


def test_without_skips_the_output_depends_on_the_bottleneck_only():
    """Zero the bottom level's features: a U-Net still answers from its skips, the other not."""
    import keras

    for skips, changes in ((True, True), (False, False)):
        keras.utils.set_random_seed(0)
        model = R.encoder_decoder((8, 8, 1), (4, 4), skips=skips, convs_per_block=1)
        x = _images(2, 8, 8)
        before = R.predict(model, x)
        conv = model.get_layer("bottom_conv0")
        kernel, bias = conv.get_weights()
        conv.set_weights([np.zeros_like(kernel), np.zeros_like(bias)])
        after = R.predict(model, x)
        # the bottom is dead, so without skips every image gives the same output
        assert (not np.allclose(after[0], after[1])) == changes
        assert not np.allclose(before, after)


def test_matched_filters_equalise_the_parameter_counts():
    filters = (8, 16, 32)
    target = R.encoder_decoder_params(1, filters, 11, True, 2)
    wide = R.matched_filters(1, filters, 11, 2)
    got = R.encoder_decoder_params(1, wide, 11, False, 2)
    assert all(w >= f for w, f in zip(wide, filters, strict=True))
    assert abs(got - target) / target < 0.02


def test_encoder_decoder_refuses_sizes_that_do_not_halve():
    with pytest.raises(ValueError, match="divisible by 4"):
        R.encoder_decoder((14, 14, 1), (4, 8, 16))
    with pytest.raises(ValueError, match="skips"):
        R.encoder_decoder((8, 8, 1), (4, 8), skips="yes")


def test_models_round_trip_with_safe_mode(tmp_path):
    x = _images(2, 8, 8)
    holes = R.random_boxes(2, (8, 8), sizes=(2, 4), seed=1)
    models = {
        "espcn": (R.espcn(2, (8, 8, 1), filters=(4,), kernel_sizes=(3,)), x),
        "espcn_residual": (
            R.espcn(2, (8, 8, 1), filters=(4,), kernel_sizes=(3,), residual=True),
            x,
        ),
        "unet": (R.encoder_decoder((8, 8, 1), (4, 8), out_channels=3, out_activation="softmax"), x),
        "inpaint": (
            R.inpainting_model(R.encoder_decoder((8, 8, 2), (4, 8), skips=False)),
            [R.apply_holes(x, holes), holes],
        ),
    }
    for name, (model, inputs) in models.items():
        path = tmp_path / f"{name}.keras"
        model.save(path)
        back = aelib.load_model(path, safe_mode=True)
        np.testing.assert_allclose(R.predict(back, inputs), R.predict(model, inputs), atol=1e-6)


# --- inpainting -----------------------------------------------------------------------------------


def test_random_boxes_are_deterministic_and_within_the_sizes():
    a = R.random_boxes(20, (28, 28), sizes=(5, 9), seed=3)
    np.testing.assert_array_equal(a, R.random_boxes(20, (28, 28), sizes=(5, 9), seed=3))
    assert a.shape == (20, 28, 28, 1)
    for m in a[..., 0]:
        rows, cols = np.flatnonzero(m.any(1)), np.flatnonzero(m.any(0))
        assert 5 <= len(rows) <= 9 and 5 <= len(cols) <= 9
        assert m.sum() == len(rows) * len(cols)  # one solid box


def test_the_inpainting_model_keeps_known_pixels():
    x = _images(3, 8, 8)
    holes = R.random_boxes(3, (8, 8), sizes=(3, 4), seed=0)
    model = R.inpainting_model(R.encoder_decoder((8, 8, 2), (4, 8)))
    out = R.predict(model, [R.apply_holes(x, holes), holes])
    known = holes == 0
    np.testing.assert_allclose(out[known], x[known], atol=1e-6)
    assert not np.allclose(out[~known], 0)


def test_biharmonic_fills_a_smooth_ramp_exactly_and_keeps_the_rest():
    ramp = np.tile(np.linspace(0.1, 0.9, 16, dtype="float32"), (16, 1))[None, ..., None]
    holes = np.zeros_like(ramp)
    holes[0, 5:10, 4:11] = 1
    filled = R.inpaint_biharmonic(R.apply_holes(ramp, holes), holes)
    np.testing.assert_allclose(filled, ramp, atol=1e-3)
    assert R.masked_mse(ramp, filled, holes)[0] < 1e-6


def test_masked_mse_counts_hole_pixels_only():
    x = np.zeros((1, 4, 4, 1), "float32")
    y = x.copy()
    y[0, 0, 0] = 1.0  # a known pixel, wrong: ignored
    y[0, 2, 2] = 0.5  # a hole pixel
    holes = np.zeros_like(x)
    holes[0, 2:4, 2:4] = 1
    assert R.masked_mse(x, y, holes)[0] == pytest.approx(0.25 / 4)
    with pytest.raises(ValueError, match="only 0"):
        R.masked_mse(x, y, holes * 0.5)


# --- scenes ---------------------------------------------------------------------------------------


def _garments(n=12, seed=0):
    rng = np.random.default_rng(seed)
    x = np.zeros((n, 10, 10, 1), "float32")
    for i in range(n):
        a, b = rng.integers(0, 4, 2)
        x[i, a : a + 6, b : b + 5] = rng.uniform(0.3, 1.0)
        x[i, a + 2, b + 2] = 0.0  # a dark pixel inside: still the garment
    return x, rng.integers(0, 10, n)


def test_scene_labels_are_the_garment_on_top_of_each_pixel():
    x, y = _garments()
    scenes = R.make_scenes(x, y, 30, size=24, garments=(2, 4), noise=0.0, seed=5)
    assert scenes.images.shape == (30, 24, 24, 1) and scenes.labels.shape == (30, 24, 24)
    assert scenes.n_classes == 11
    for img, lab, placed in zip(scenes.images, scenes.labels, scenes.garments, strict=True):
        assert 2 <= len(placed) <= 4
        expected = np.zeros((24, 24), np.uint8)
        pixels = np.zeros((24, 24), np.float32)
        for index, cls, top, left in placed:  # bottom to top: later garments occlude
            assert cls == y[index]
            cover = R.silhouette(x[index])
            expected[top : top + 10, left : left + 10][cover] = cls + 1
            pixels[top : top + 10, left : left + 10][cover] = x[index, ..., 0][cover]
        np.testing.assert_array_equal(lab, expected)
        np.testing.assert_array_equal(img[..., 0], pixels)
    # occlusion happens: some garment loses pixels to a later one
    hidden = [
        (lab[t : t + 10, s : s + 10][R.silhouette(x[i])] != c + 1).any()
        for lab, placed in zip(scenes.labels, scenes.garments, strict=True)
        for i, c, t, s in placed[:-1]
    ]
    assert any(hidden)


def test_scenes_are_deterministic_and_noise_leaves_labels_alone():
    x, y = _garments()
    a = R.make_scenes(x, y, 5, size=20, noise=0.2, seed=1)
    b = R.make_scenes(x, y, 5, size=20, noise=0.2, seed=1)
    clean = R.make_scenes(x, y, 5, size=20, noise=0.0, seed=1)
    np.testing.assert_array_equal(a.images, b.images)
    np.testing.assert_array_equal(a.labels, clean.labels)
    assert a.garments == clean.garments
    assert not np.array_equal(a.images, clean.images)
    assert 0 <= a.images.min() and a.images.max() <= 1
    assert not np.array_equal(a.labels, R.make_scenes(x, y, 5, size=20, seed=2).labels)


def test_make_scenes_refuses_bad_classes():
    x, y = _garments()
    with pytest.raises(ValueError, match="classes must lie"):
        R.make_scenes(x, y + 10, 2, size=16)
    with pytest.raises(ValueError, match="classes must be 12 integers"):
        R.make_scenes(x, y[:3], 2, size=16)


def test_iou_by_hand():
    t = np.array([[0, 0, 1, 1], [0, 2, 2, 1]])
    p = np.array([[0, 1, 1, 1], [0, 2, 0, 1]])
    iou = R.iou_per_class(t, p, 4)
    np.testing.assert_allclose(iou[:3], [2 / 4, 3 / 4, 1 / 2])
    assert np.isnan(iou[3])
    assert R.mean_iou(t, p, 4) == pytest.approx((0.5 + 0.75 + 0.5) / 3)
    assert R.mean_iou(t, p, 4, classes=[1, 2]) == pytest.approx((0.75 + 0.5) / 2)
    with pytest.raises(ValueError, match="argmax"):
        R.iou_per_class(t, p.astype(float), 4)


def test_guess_iou_matches_random_guesses_and_its_formula():
    rng = np.random.default_rng(0)
    labels = rng.choice(4, size=(100, 64, 64), p=[0.5, 0.3, 0.15, 0.05]).astype(np.uint8)
    shares = np.array([0.6, 0.3, 0.1])
    expected = R.guess_iou_per_class(labels, shares)
    assert np.isnan(expected[0])
    n = np.bincount(labels.ravel(), minlength=4)[1:]
    g = n.sum()
    np.testing.assert_allclose(expected[1:], n * shares / (n + g * shares - n * shares))
    # the guess itself: keep the foreground, draw each pixel's kind with the shares
    guesses = [
        np.where(labels > 0, rng.choice([1, 2, 3], size=labels.shape, p=shares), 0)
        for _ in range(3)
    ]
    measured = np.mean([R.iou_per_class(labels, gss, 4) for gss in guesses], axis=0)
    np.testing.assert_allclose(measured[1:], expected[1:], rtol=0.03)
    # a kind that never occurs and is never guessed has no IoU
    assert np.isnan(R.guess_iou_per_class(np.ones((2, 4, 4), np.uint8), [1.0, 0.0])[2])


def test_guess_iou_refuses_bad_shares():
    labels = np.ones((2, 4, 4), np.uint8)
    with pytest.raises(ValueError, match="shares must sum to 1, got a sum of 0.9"):
        R.guess_iou_per_class(labels, [0.5, 0.4])
    with pytest.raises(ValueError, match="non-negative"):
        R.guess_iou_per_class(labels, [1.5, -0.5])
    with pytest.raises(ValueError, match="y_true"):
        R.guess_iou_per_class(np.full((2, 4, 4), 3, np.uint8), [0.5, 0.5])


def test_photographs_luminance_and_patches():
    photos = R.sample_photographs()
    assert set(photos) == {"china", "flower"}
    y = R.luminance(photos["china"])
    assert y.shape == photos["china"].shape[:2] and 0 <= y.min() and y.max() <= 1
    patches = R.random_patches(y, 5, 12, seed=0, rows=(0, 100))
    np.testing.assert_array_equal(patches, R.random_patches(y, 5, 12, seed=0, rows=(0, 100)))
    assert patches.shape == (5, 12, 12, 1)
    with pytest.raises(ValueError, match="uint8"):
        R.luminance(y)
