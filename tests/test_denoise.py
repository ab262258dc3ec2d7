"""aelib.denoise: the corruptions, training batches with fresh corruption and the classical filters."""

import numpy as np
import pytest

from aelib import data, metrics

denoise = pytest.importorskip("aelib.denoise")

KINDS = {"gaussian": 0.5, "salt_pepper": 0.2, "mask": 0.25, "watermark": 0.8}


def _images(n=6, h=28, w=28, c=1, seed=0, dtype=np.float32):
    return np.random.default_rng(seed).random((n, h, w, c)).astype(dtype)


@pytest.mark.parametrize("kind,level", KINDS.items())
@pytest.mark.parametrize("dtype", [np.float32, np.float64])
def test_corrupt_keeps_shape_dtype_range_and_is_seeded(kind, level, dtype):
    x = _images(dtype=dtype)
    before = x.copy()
    y = denoise.corrupt(x, kind, level, seed=3)
    assert y.shape == x.shape and y.dtype == x.dtype
    assert 0.0 <= y.min() and y.max() <= 1.0
    assert not np.array_equal(y, x)
    np.testing.assert_array_equal(x, before)  # the input is not modified
    np.testing.assert_array_equal(y, denoise.corrupt(x, kind, level, seed=3))
    assert not np.array_equal(y, denoise.corrupt(x, kind, level, seed=4))


def test_corrupt_accepts_read_only_input_and_colour():
    (x, _), _ = data._prepare(
        (
            (np.full((3, 28, 28), 128, np.uint8), np.zeros(3)),
            (np.zeros((1, 28, 28), np.uint8), np.zeros(1)),
        )
    )
    assert not x.flags.writeable
    for kind, level in KINDS.items():
        assert denoise.corrupt(x, kind, level, seed=0).shape == x.shape
        rgb = denoise.corrupt(_images(2, 32, 32, 3), kind, level, seed=0)
        assert rgb.shape == (2, 32, 32, 3)


@pytest.mark.parametrize("kind", list(KINDS))
def test_level_zero_changes_nothing(kind):
    x = _images()
    np.testing.assert_array_equal(denoise.corrupt(x, kind, 0.0, seed=1), x)


def test_gaussian_noise_has_the_requested_spread():
    x = np.full((200, 28, 28, 1), 0.5, np.float32)
    y = denoise.gaussian_noise(x, 0.1, seed=0)
    assert abs(float((y - x).std()) - 0.1) < 0.005
    assert abs(float((y - x).mean())) < 0.002
    # Clipping: at sigma 0.5 about 32% of a mid-grey image's pixels land on 0 or 1.
    big = denoise.gaussian_noise(x, 0.5, seed=0)
    assert 0.29 < np.mean((big == 0) | (big == 1)) < 0.35
    # The noisy input's PSNR matches the noise power: 10 log10(1 / 0.01) = 20 dB.
    assert abs(metrics.mean_psnr(x, y) - 20.0) < 0.2


def test_salt_and_pepper_rate_and_values():
    x = np.full((50, 28, 28, 3), 0.5, np.float32)
    y = denoise.salt_and_pepper(x, 0.3, seed=0)
    changed = np.any(y != 0.5, axis=-1)
    assert abs(changed.mean() - 0.3) < 0.01
    assert set(np.unique(y)) == {0.0, 0.5, 1.0}
    assert abs(np.mean(y[..., 0][changed] == 1.0) - 0.5) < 0.03  # half salt, half pepper
    assert np.all(y.min(axis=-1) == y.max(axis=-1))  # all channels of a pixel change together
    assert np.all(denoise.salt_and_pepper(x, 1.0, seed=0) != 0.5)


def test_random_erasing_blacks_out_one_box_of_the_requested_area():
    x = np.ones((20, 28, 28, 1), np.float32)
    y = denoise.random_erasing(x, 0.25, seed=0)
    for img in y[..., 0]:
        rows, cols = np.nonzero(img == 0)
        assert rows.max() - rows.min() + 1 == 14 and cols.max() - cols.min() + 1 == 14
        assert len(rows) == 14 * 14
    corners = {tuple(np.argwhere(img[..., 0] == 0).min(axis=0)) for img in y}
    assert len(corners) > 5  # the box moves from image to image
    assert np.all(denoise.random_erasing(x, 1.0, seed=0) == 0)


def test_watermark_stamps_the_glyph_at_varying_places():
    x = np.zeros((30, 28, 28, 1), np.float32)
    y = denoise.watermark(x, 0.8, seed=0)
    ink = int(denoise.WATERMARK.sum())
    places = set()
    for img in y[..., 0]:
        assert np.sum(img > 0) == ink
        np.testing.assert_allclose(img[img > 0], 0.8, rtol=1e-6)
        r, c = np.nonzero(img)
        top, left = r.min(), c.min()
        gh, gw = denoise.WATERMARK.shape
        np.testing.assert_array_equal(img[top : top + gh, left : left + gw] > 0, denoise.WATERMARK)
        places.add((top, left))
    assert len(places) > 10
    # On white, a white stamp is invisible; at full opacity it replaces the pixels.
    np.testing.assert_array_equal(denoise.watermark(np.ones_like(x), 1.0, seed=0), np.ones_like(x))
    full = denoise.watermark(np.full_like(x, 0.2), 1.0, seed=0)
    assert np.sum(full == 1.0) == ink * len(x)


def test_corrupt_rejects_bad_arguments():
    x = _images()
    with pytest.raises(
        ValueError,
        match=r"unknown kind 'speckle': expected one of gaussian, salt_pepper, mask, watermark",
    ):
        denoise.corrupt(x, "speckle", 0.1)
    with pytest.raises(ValueError, match=r"sigma must be a number >= 0, got -0.1"):
        denoise.corrupt(x, "gaussian", -0.1)
    with pytest.raises(ValueError, match=r"rate must be a number in \[0, 1\], got 1.5"):
        denoise.corrupt(x, "salt_pepper", 1.5)
    with pytest.raises(ValueError, match=r"rate must be a number in \[0, 1\], got -0.2"):
        denoise.salt_and_pepper(x, -0.2)
    with pytest.raises(ValueError, match=r"fraction must be a number in \[0, 1\]"):
        denoise.corrupt(x, "mask", 2)
    with pytest.raises(ValueError, match=r"opacity must be a number in \[0, 1\], got nan"):
        denoise.corrupt(x, "watermark", float("nan"))
    with pytest.raises(ValueError, match="sigma must be a number >= 0, got 'big'"):
        denoise.corrupt(x, "gaussian", "big")
    with pytest.raises(
        ValueError, match=r"shape \(n, height, width, channels\), got \(28, 28, 1\)"
    ):
        denoise.corrupt(x[0], "gaussian", 0.1)
    with pytest.raises(ValueError, match=r"values in \[0, 1\], got min 0.* and max 25\d"):
        denoise.corrupt(x * 255, "gaussian", 0.1)
    with pytest.raises(ValueError, match=r"values in \[0, 1\]"):
        denoise.corrupt(np.full_like(x, np.nan), "mask", 0.1)
    with pytest.raises(ValueError, match="floating-point images in \\[0, 1\\], got dtype uint8"):
        denoise.corrupt((x * 255).astype(np.uint8), "gaussian", 0.1)
    with pytest.raises(ValueError, match=r"seed must be a non-negative int(eger)?, got -1"):
        denoise.corrupt(x, "gaussian", 0.1, seed=-1)
    with pytest.raises(ValueError, match="at least 7x11 pixels, got 8x8"):
        denoise.watermark(_images(h=8, w=8), 0.5)


# --- aelib.denoise -------------------------------------------------------------------------------

keras = pytest.importorskip("keras")


def test_corrupt_mixed_uses_every_kind():
    x = np.full((400, 28, 28, 1), 0.5, np.float32)
    spec = [("gaussian", 0.3), ("mask", 0.25), ("watermark", 1.0)]
    y = denoise.corrupt_mixed(x, spec, seed=0)
    assert y.shape == x.shape and y.dtype == x.dtype and 0 <= y.min() and y.max() <= 1
    np.testing.assert_array_equal(y, denoise.corrupt_mixed(x, spec, seed=0))
    flat = y.reshape(len(y), -1)
    masked = np.all((flat == 0.5) | (flat == 0.0), axis=1) & np.any(flat == 0.0, axis=1)
    stamped = np.all((flat == 0.5) | (flat == 1.0), axis=1) & np.any(flat == 1.0, axis=1)
    noisy = ~masked & ~stamped
    for share in (masked.mean(), stamped.mean(), noisy.mean()):
        assert 0.25 < share < 0.42
    # One pair means every image gets that corruption, exactly as corrupt() does it.
    np.testing.assert_array_equal(
        denoise.corrupt_mixed(x, ("gaussian", 0.3), seed=5),
        denoise.corrupt(x, "gaussian", 0.3, seed=5),
    )


def test_corrupted_batches_give_fresh_noise_every_batch_and_epoch():
    x = _images(n=10)
    ds = denoise.CorruptedBatches(x, ("gaussian", 0.4), batch_size=4, seed=1)
    assert len(ds) == 3
    noisy0, clean0 = ds[0]
    assert noisy0.shape == (4, 28, 28, 1) and clean0.shape == (4, 28, 28, 1)
    assert ds[2][0].shape == (2, 28, 28, 1)  # the last batch holds the remainder
    # Every image appears once per epoch, clean targets are untouched originals.
    seen = np.concatenate([ds[i][1] for i in range(len(ds))])
    assert sorted(map(float, seen[:, 0, 0, 0])) == sorted(map(float, x[:, 0, 0, 0]))
    np.testing.assert_array_equal(ds[0][0], noisy0)  # same batch, same epoch: reproducible
    assert not np.allclose(ds[1][0][:2], noisy0[:2])  # another batch: other noise
    ds.on_epoch_end()
    noisy_again, clean_again = ds[0]
    assert not np.array_equal(clean_again, clean0)  # reshuffled
    # The same image in the next epoch carries a different noise.
    first = {float(c[0, 0, 0]): n for n, c in zip(noisy0, clean0, strict=True)}
    nxt = {float(c[0, 0, 0]): n for b in range(len(ds)) for n, c in zip(*ds[b], strict=True)}
    assert all(not np.array_equal(first[k], nxt[k]) for k in first)
    with pytest.raises(IndexError):
        ds[3]
    unshuffled = denoise.CorruptedBatches(x, ("mask", 0.2), batch_size=5, shuffle=False)
    np.testing.assert_array_equal(unshuffled[1][1], x[5:])


def test_corrupted_batches_reject_bad_arguments():
    x = _images(n=4)
    with pytest.raises(ValueError, match="unknown kind 'blur'"):
        denoise.CorruptedBatches(x, ("blur", 1.0))
    with pytest.raises(ValueError, match="sigma must be a number >= 0"):
        denoise.CorruptedBatches(x, [("mask", 0.2), ("gaussian", -1)])
    with pytest.raises(ValueError, match=r"corruption must be a \(kind, level\) pair"):
        denoise.CorruptedBatches(x, "gaussian")
    with pytest.raises(ValueError, match="batch_size must be a positive int, got 0"):
        denoise.CorruptedBatches(x, ("gaussian", 0.1), batch_size=0)
    with pytest.raises(ValueError, match=r"values in \[0, 1\]"):
        denoise.CorruptedBatches(x + 1, ("gaussian", 0.1))


def test_fit_with_corrupted_batches_learns_to_denoise():
    from aelib import models

    keras.utils.set_random_seed(0)
    # Smooth blobs: an easy image family that a small model learns in a few epochs.
    yy, xx = np.mgrid[:28, :28]
    centres = np.random.default_rng(0).uniform(8, 20, (256, 2))
    x = np.exp(-((yy - centres[:, :1, None]) ** 2 + (xx - centres[:, 1:, None]) ** 2) / 30.0)
    x = x[..., None].astype(np.float32)
    model = models.dense_autoencoder((28, 28, 1), 8, hidden=(64,))
    model.compile(optimizer=keras.optimizers.Adam(3e-3), loss="mse")
    seeds = []

    class Recording(denoise.CorruptedBatches):
        def __getitem__(self, index):
            seeds.append(self.batch_seed(index))
            return super().__getitem__(index)

    ds = Recording(x, ("gaussian", 0.3), batch_size=16, seed=0)
    model.fit(ds, epochs=3, verbose=0)
    # Keras reads every batch of every epoch, and each one carried its own corruption seed.
    assert len(seeds) >= 3 * len(ds) and len(set(seeds)) == len(seeds)
    noisy = denoise.corrupt(x[:64], "gaussian", 0.3, seed=99)
    out = model.predict(noisy, verbose=0)
    assert metrics.mean_psnr(x[:64], out) > metrics.mean_psnr(x[:64], noisy) + 2


def test_filters_keep_shape_and_reduce_noise():
    x = np.full((4, 28, 28, 1), 0.5, np.float32)
    noisy = denoise.gaussian_noise(x, 0.2, seed=0)
    for name, fn in denoise.FILTERS.items():
        for p in denoise.FILTER_GRIDS[name]:
            out = fn(noisy, p)
            assert out.shape == x.shape and out.dtype == x.dtype, name
            assert metrics.mse(x, out) < 0.6 * metrics.mse(x, noisy), (name, p)
    # The median filter removes isolated salt-and-pepper pixels completely on a flat image.
    sp = denoise.salt_and_pepper(x, 0.05, seed=0)
    assert metrics.mse(x, denoise.median_filter(sp, 3)) < 1e-4
    with pytest.raises(ValueError, match="sigma must be a positive number, got 0"):
        denoise.gaussian_blur(x, 0)
    with pytest.raises(ValueError, match="size must be an odd int >= 3, got 4"):
        denoise.median_filter(x, 4)


def test_tune_filter_picks_the_best_on_validation():
    rng = np.random.default_rng(0)
    x = np.clip(rng.random((8, 28, 28, 1)) * 0.2 + 0.4, 0, 1).astype(np.float32)
    noisy = denoise.gaussian_noise(x, 0.3, seed=1)
    best, scores = denoise.tune_filter("gaussian blur", noisy, x)
    assert set(scores) == set(denoise.FILTER_GRIDS["gaussian blur"])
    assert scores[best] == max(scores.values())
    assert best > 0.5  # a nearly flat image wants a wide blur
    best_m, scores_m = denoise.tune_filter("median filter", noisy, x, grid=(3, 5))
    assert set(scores_m) == {3, 5} and scores_m[best_m] == max(scores_m.values())
    with pytest.raises(
        ValueError, match="unknown filter .wiener.: expected one of gaussian blur, median filter, "
    ):
        denoise.tune_filter("wiener", noisy, x)
    with pytest.raises(ValueError, match="noisy has shape"):
        denoise.tune_filter("median filter", noisy[:2], x)


def test_corrected_runs_the_method_once_per_value_and_scores_both_ways():
    rng = np.random.default_rng(0)
    x = np.clip(rng.random((6, 28, 28, 1)) * 0.6 + 0.2, 0, 1).astype(np.float32)
    noisy = denoise.gaussian_noise(x, 0.5, seed=1)
    calls = []

    def blur(z, s):
        calls.append(s)
        return denoise.gaussian_blur(z, s)

    def unclip(y):
        return denoise.unclip(y, 0.5)

    method = denoise.Corrected(blur, unclip)
    np.testing.assert_array_equal(method(noisy, (1.0, False)), denoise.gaussian_blur(noisy, 1.0))
    np.testing.assert_array_equal(
        method(noisy, (1.0, True)), unclip(denoise.gaussian_blur(noisy, 1.0))
    )
    calls.clear()
    grid = [(s, u) for s in (0.5, 1.0, 1.5) for u in (False, True)]
    best, scores = denoise.tune(method, noisy, x, grid)
    assert calls == [0.5, 1.0, 1.5]  # one run per value, not per pair
    expected = {pair: metrics.mean_psnr(x, method(noisy, pair)) for pair in grid}
    assert scores == pytest.approx(expected, abs=0) and best == max(expected, key=expected.get)
    with pytest.raises(ValueError, match=r"tune\(\): a Corrected method takes a pair"):
        denoise.tune(method, noisy, x, [1.0])
    with pytest.raises(ValueError, match="the pair's second element must be True or False, got 1"):
        method(noisy, (1.0, 1))
    with pytest.raises(TypeError, match="Corrected\\(\\): correction must be a function"):
        denoise.Corrected(blur, 0.5)


skimage = pytest.importorskip("skimage")


@pytest.mark.parametrize(
    "name", ["total variation", "wavelet shrinkage", "non-local means", "gaussian blur"]
)
def test_classical_methods_keep_shape_and_reduce_noise(name):
    x = np.full((3, 28, 28, 1), 0.5, np.float32)
    noisy = denoise.gaussian_noise(x, 0.15, seed=0)
    fn = denoise.METHODS[name]
    best, scores = denoise.tune_filter(name, noisy, x)
    out = fn(noisy, best)
    assert out.shape == x.shape and out.dtype == x.dtype
    assert 0 <= out.min() and out.max() <= 1
    assert metrics.mse(x, out) < 0.5 * metrics.mse(x, noisy), scores
    rgb = fn(np.full((2, 16, 16, 3), 0.5, np.float32), denoise.GRIDS[name][0])
    assert rgb.shape == (2, 16, 16, 3)
    with pytest.raises(ValueError, match="must be a positive number"):
        fn(noisy, -1.0)


def test_bm3d_mosaic_agrees_with_one_image_at_a_time():
    bm3d = pytest.importorskip("bm3d")
    rng = np.random.default_rng(0)
    yy, xx = np.mgrid[:28, :28]
    x = np.stack([(np.hypot(yy - c, xx - 14) < 8 + c % 3) for c in (10, 13, 16)]).astype(np.float32)
    x = x[..., None] * 0.8 + 0.1
    noisy = np.clip(x + 0.2 * rng.standard_normal(x.shape), 0, 1).astype(np.float32)
    together = denoise.bm3d_denoise(noisy, 0.2)
    alone = np.stack([np.pad(im[..., 0].astype(np.float64), 8, mode="reflect") for im in noisy])
    alone = np.stack([np.clip(bm3d.bm3d(im, 0.2)[8:-8, 8:-8], 0, 1) for im in alone])[..., None]
    assert together.shape == x.shape and together.dtype == x.dtype
    assert abs(metrics.mean_psnr(x, together) - metrics.mean_psnr(x, alone)) < 0.3
    assert metrics.mean_psnr(x, together) > metrics.mean_psnr(x, noisy) + 3
    with pytest.raises(ValueError, match="single-channel"):
        denoise.bm3d_denoise(np.zeros((1, 16, 16, 3), np.float32), 0.2)


def test_pca_projection_keeps_the_subspace_and_drops_the_rest():
    rng = np.random.default_rng(0)
    basis = rng.standard_normal((3, 64))
    x = (0.5 + 0.05 * rng.standard_normal((200, 3)) @ basis).reshape(200, 8, 8, 1)
    x = np.clip(x, 0, 1).astype(np.float32)
    pca = denoise.PCAProjection(x, max_k=10)
    np.testing.assert_allclose(pca(x[:5], 10), x[:5], atol=0.02)
    noisy = np.clip(x + 0.05 * rng.standard_normal(x.shape), 0, 1).astype(np.float32)
    assert metrics.mse(x, pca(noisy, 3)) < 0.2 * metrics.mse(x, noisy)
    best, scores = denoise.tune(pca, noisy, x, (1, 3, 10))
    assert best == 3 and set(scores) == {1, 3, 10}
    with pytest.raises(ValueError, match=r"k must be an int in \[1, 10\], got 11"):
        pca(noisy, 11)
    with pytest.raises(ValueError, match="images of shape"):
        pca(np.zeros((1, 4, 4, 1), np.float32), 2)
    with pytest.raises(ValueError, match="grid is empty"):
        denoise.tune(pca, noisy, x, ())


def test_unclip_inverts_the_bias_of_clipped_noise():
    x = np.linspace(0, 1, 11)
    eps = np.random.default_rng(0).standard_normal((200_000, 1))
    simulated = np.clip(x + 0.5 * eps, 0, 1).mean(axis=0)
    np.testing.assert_allclose(denoise.clipped_mean(x, 0.5), simulated, atol=0.003)
    # black is lifted by about sigma phi(0)
    assert abs(denoise.clipped_mean(0.0, 0.5) - 0.5 / np.sqrt(2 * np.pi)) < 0.005
    np.testing.assert_allclose(denoise.unclip(denoise.clipped_mean(x, 0.5), 0.5), x, atol=2e-3)
    y = np.array([0.0, 1.0], np.float32)  # beyond the curve's ends: black and white
    np.testing.assert_array_equal(denoise.unclip(y, 0.5), [0.0, 1.0])
    assert denoise.unclip(y, 0.5).dtype == np.float32


def test_posterior_mean_weights_the_prior_by_the_clipped_likelihood():
    from scipy.stats import norm

    prior = np.stack([np.full((4, 4, 1), v, np.float32) for v in (0.0, 0.3, 0.9)])
    noisy = denoise.gaussian_noise(prior[1:2], 0.2, seed=0)
    mean, ess = denoise.posterior_mean(noisy, prior, 0.2)
    y = noisy.ravel()
    logw = []
    for v in (0.0, 0.3, 0.9):
        ll = np.where(
            y <= 0, norm.logcdf(-v / 0.2), np.where(y >= 1, norm.logcdf((v - 1) / 0.2), 0.0)
        )
        inside = (y > 0) & (y < 1)
        logw.append(ll.sum() - ((y[inside] - v) ** 2).sum() / (2 * 0.04))
    w = np.exp(np.array(logw) - max(logw))
    w /= w.sum()
    np.testing.assert_allclose(mean.ravel(), np.full(16, w @ [0.0, 0.3, 0.9]), rtol=1e-4)
    np.testing.assert_allclose(ess, [1 / (w**2).sum()], rtol=1e-4)
    assert 1 <= ess[0] <= 3
    # Heavy noise spreads the weight over every prior image.
    _, ess_big = denoise.posterior_mean(noisy, prior, 5.0)
    assert ess_big[0] > 2.9
    with pytest.raises(ValueError, match="differ in shape"):
        denoise.posterior_mean(noisy, np.zeros((2, 5, 5, 1), np.float32), 0.2)


def test_stamp_generalises_the_watermark():
    x = _images(n=12)
    np.testing.assert_array_equal(
        denoise.stamp(x, denoise.WATERMARK, 0.8, seed=3), denoise.watermark(x, 0.8, seed=3)
    )
    assert denoise.OTHER_MARK.shape == denoise.WATERMARK.shape
    assert not np.array_equal(denoise.OTHER_MARK, denoise.WATERMARK)
    y = denoise.stamp(np.zeros_like(x), denoise.OTHER_MARK, 0.5, seed=0)
    assert np.all(np.sum(y > 0, axis=(1, 2, 3)) == denoise.OTHER_MARK.sum())
    np.testing.assert_allclose(y[y > 0], 0.5)
    with pytest.raises(ValueError, match="rows of equal length"):
        denoise.glyph("#.", "#")
    with pytest.raises(ValueError, match="some ink"):
        denoise.stamp(x, np.zeros((3, 3), bool), 0.5)
    with pytest.raises(ValueError, match="opacity must be a number in"):
        denoise.stamp(x, denoise.OTHER_MARK, 1.5)
