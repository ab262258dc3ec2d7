"""Denoising autoencoders: the corruptions they learn to undo (Gaussian noise, salt-and-pepper,
erasing, a watermark; :func:`corrupt`), training batches with fresh corruption, the classical
denoisers they are measured against (blur, median, total variation, wavelet shrinkage, non-local
means, BM3D, PCA projection, a correction for clipped noise), the exact posterior mean under a
training-set prior, and stamps for watermarks a model never saw.

Total variation, wavelets and non-local means use scikit-image; BM3D uses the optional ``bm3d``
package (:func:`bm3d_available`); both are imported only when those methods run.

The model is the course's :func:`aelib.models.conv_autoencoder`, trained on ``(corrupted, clean)``
pairs instead of ``(clean, clean)``. This module imports Keras, so import it after
:func:`aelib.setup`.
"""

from __future__ import annotations

from collections.abc import Sequence

import keras
import numpy as np

from . import _validate

Spec = tuple[str, float]

# --- Corruptions: what a denoising autoencoder learns to undo --------------------------------------
# Each takes a batch of images (n, height, width, channels) with values in [0, 1] and returns a new
# array of the same shape and dtype, still in [0, 1]. The same seed gives the same corruption.


def glyph(*rows: str) -> np.ndarray:
    """A boolean glyph from rows of text, ``"#"`` for ink: ``glyph("#.#", ".#.")``."""
    if not rows or len({len(r) for r in rows}) != 1:
        raise ValueError("glyph(): give one or more rows of equal length")
    return np.array([[ch == "#" for ch in row] for row in rows], dtype=bool)


# A 7x11 pixel stamp of the letters "AE" for the watermark ("#" is ink).
WATERMARK = glyph(
    ".###..#####",
    "#...#.#....",
    "#...#.#....",
    "#####.####.",
    "#...#.#....",
    "#...#.#....",
    "#...#.#####",
)

# A mark that the watermark's training never shows: the letters "NO", as large as "AE".
OTHER_MARK = glyph(
    "#...#..###.",
    "##..#.#...#",
    "#.#.#.#...#",
    "#..##.#...#",
    "#...#.#...#",
    "#...#.#...#",
    "#...#..###.",
)


def _rng(seed, fn: str) -> np.random.Generator:
    return np.random.default_rng(_validate.integer(seed, "seed", fn, minimum=0))


def gaussian_noise(x, sigma: float, seed: int = 0) -> np.ndarray:
    """Add Gaussian noise of standard deviation ``sigma`` to every value, then clip to [0, 1].

    Clipping keeps the images valid but makes the noise one-sided near black and white, so the
    corruption shifts the mean of dark pixels up and of bright pixels down.

    Args:
        x: images ``(n, h, w, c)`` in [0, 1], floating point.
        sigma: the noise's standard deviation, ``>= 0`` (0 returns a copy).
        seed: the noise is a function of the seed alone.

    Returns:
        The noisy images, same shape and dtype as ``x``.
    """
    x = _validate.images(x, "gaussian_noise")
    sigma = _validate.number(sigma, "sigma", "gaussian_noise", minimum=0)
    noise = _rng(seed, "gaussian_noise").standard_normal(x.shape, dtype=np.float32)
    return np.clip(x + np.asarray(sigma * noise, dtype=x.dtype), 0, 1).astype(x.dtype)


def salt_and_pepper(x, rate: float, seed: int = 0) -> np.ndarray:
    """Replace a fraction ``rate`` of the pixels by black (half of them) or white (the other half).

    All channels of a chosen pixel change together. Args and returns as :func:`gaussian_noise`, with
    ``rate`` in [0, 1].
    """
    x = _validate.images(x, "salt_and_pepper")
    rate = _validate.number(rate, "rate", "salt_and_pepper", minimum=0, maximum=1)
    u = _rng(seed, "salt_and_pepper").random((*x.shape[:3], 1))
    out = np.where(u < rate / 2, 0, np.where(u < rate, 1, x))
    return out.astype(x.dtype)


def random_erasing(x, fraction: float, seed: int = 0) -> np.ndarray:
    """Black out one square box per image, covering about ``fraction`` of its area (inpainting).

    The box's side is ``round(sqrt(fraction) * min(h, w))`` and its position is drawn uniformly
    so that it lies inside the image. Args and returns as :func:`gaussian_noise`, with ``fraction``
    in [0, 1].
    """
    x = _validate.images(x, "random_erasing")
    fraction = _validate.number(fraction, "fraction", "random_erasing", minimum=0, maximum=1)
    n, h, w, _ = x.shape
    side = int(round(np.sqrt(fraction) * min(h, w)))
    rng = _rng(seed, "random_erasing")
    top = rng.integers(0, h - side + 1, size=n)
    left = rng.integers(0, w - side + 1, size=n)
    rows = np.arange(h)[None, :, None]
    cols = np.arange(w)[None, None, :]
    inside = (
        (rows >= top[:, None, None])
        & (rows < (top + side)[:, None, None])
        & (cols >= left[:, None, None])
        & (cols < (left + side)[:, None, None])
    )
    return np.where(inside[..., None], 0, x).astype(x.dtype)


def _stamp(x, mark, opacity, seed, fn: str) -> np.ndarray:
    x = _validate.images(x, fn)
    opacity = _validate.number(opacity, "opacity", fn, minimum=0, maximum=1)
    mark = np.asarray(mark, dtype=bool)
    n, h, w, _ = x.shape
    if mark.ndim != 2 or not mark.any():
        raise ValueError(
            f"{fn}(): glyph must be a 2-D boolean array with some ink, got {mark.shape}"
        )
    gh, gw = mark.shape
    if h < gh or w < gw:
        raise ValueError(f"{fn}(): images must be at least {gh}x{gw} pixels, got {h}x{w}")
    rng = _rng(seed, fn)
    top = rng.integers(0, h - gh + 1, size=n)
    left = rng.integers(0, w - gw + 1, size=n)
    ink = np.zeros((n, h, w, 1), dtype=x.dtype)
    r, c = np.nonzero(mark)
    ink[np.arange(n)[:, None], top[:, None] + r, left[:, None] + c, 0] = opacity
    return (x * (1 - ink) + ink).astype(x.dtype)


def watermark(x, opacity: float, seed: int = 0) -> np.ndarray:
    """Stamp the white letters "AE" (:data:`WATERMARK`, 7x11 pixels) onto each image.

    Each image gets the stamp at its own random position, fully inside the image, blended as
    ``(1 - opacity) * x + opacity * 1`` on the stamp's pixels. Args and returns as
    :func:`gaussian_noise`, with ``opacity`` in [0, 1]; images must be at least 7x11 pixels.
    """
    return _stamp(x, WATERMARK, opacity, seed, "watermark")


def stamp(x, glyph, opacity: float, seed: int = 0) -> np.ndarray:
    """Stamp a white ``glyph`` (a boolean array, ``True`` = ink) at a random place in each image,
    blended as ``(1 - opacity) * x + opacity`` on its pixels.

    :func:`watermark` is this with the letters "AE" (:data:`WATERMARK`); another glyph or opacity
    gives a mark that a model trained on that watermark never saw (:data:`OTHER_MARK`).
    ``x``: ``(n, h, w, c)`` in [0, 1]; returns the same shape and dtype.
    """
    return _stamp(x, glyph, opacity, seed, "stamp")


CORRUPTIONS = {
    "gaussian": gaussian_noise,
    "salt_pepper": salt_and_pepper,
    "mask": random_erasing,
    "watermark": watermark,
}


def corrupt(x, kind: str, level: float, seed: int = 0) -> np.ndarray:
    """Corrupt a batch of images with one of :data:`CORRUPTIONS`.

    Args:
        x: images ``(n, h, w, c)`` in [0, 1], floating point (as :func:`aelib.data.load` returns
            them).
        kind: ``"gaussian"`` (level = sigma, >= 0), ``"salt_pepper"`` (level = rate in [0, 1]),
            ``"mask"`` (level = fraction of the area erased, in [0, 1]) or ``"watermark"``
            (level = opacity in [0, 1]).
        level: the corruption's strength, as above.
        seed: the corruption is a function of ``x``, ``kind``, ``level`` and the seed alone.

    Returns:
        The corrupted images: a new array of the same shape and dtype, values in [0, 1].

    Raises:
        ValueError: unknown ``kind`` (the message lists the valid ones), a level out of range, a
            negative or non-integer seed, or ``x`` not floating point, not 4-D or not in [0, 1].
    """
    if not isinstance(kind, str) or kind not in CORRUPTIONS:
        valid = ", ".join(CORRUPTIONS)
        raise ValueError(f"corrupt(): unknown kind {kind!r}: expected one of {valid}")
    return CORRUPTIONS[kind](x, level, seed=seed)


# --- Training batches with fresh corruption -------------------------------------------------------


def _check_specs(corruption, fn: str) -> list[Spec]:
    """``("gaussian", 0.5)`` or a sequence of such pairs -> a list of validated pairs."""
    if isinstance(corruption, tuple) and len(corruption) == 2 and isinstance(corruption[0], str):
        specs = [corruption]
    elif (
        isinstance(corruption, Sequence) and not isinstance(corruption, str) and len(corruption) > 0
    ):
        specs = list(corruption)
    else:
        raise ValueError(
            f"{fn}(): corruption must be a (kind, level) pair such as ('gaussian', 0.5) or a "
            f"non-empty list of such pairs, got {corruption!r}"
        )
    probe = np.zeros((1, 12, 12, 1), dtype=np.float32)
    out = []
    for spec in specs:
        if not (isinstance(spec, Sequence) and len(spec) == 2 and isinstance(spec[0], str)):
            raise ValueError(f"{fn}(): each corruption must be a (kind, level) pair, got {spec!r}")
        kind, level = spec
        corrupt(probe, kind, level, seed=0)  # raises a clear ValueError for a bad kind or level
        out.append((kind, float(level)))
    return out


def corrupt_mixed(x, corruption, seed: int = 0) -> np.ndarray:
    """Corrupt each image with one corruption drawn at random from ``corruption``.

    Args:
        x: images ``(n, h, w, c)`` in [0, 1], floating point.
        corruption: a ``(kind, level)`` pair (every image gets it) or a list of pairs (each image
            gets one of them, drawn uniformly); kinds are those of :data:`CORRUPTIONS`.
        seed: the result is a function of the inputs and the seed alone.

    Returns:
        Corrupted images, same shape and dtype as ``x``.
    """
    specs = _check_specs(corruption, "corrupt_mixed")
    x = _validate.images(x, "corrupt_mixed")
    if len(specs) == 1:
        return corrupt(x, *specs[0], seed=seed)
    rng = _rng(seed, "corrupt_mixed")
    choice = rng.integers(len(specs), size=len(x))
    seeds = rng.integers(2**31, size=len(specs))
    out = np.array(x, copy=True)
    for j, (kind, level) in enumerate(specs):
        picked = choice == j
        if picked.any():
            out[picked] = corrupt(x[picked], kind, level, seed=int(seeds[j]))
    return out


class CorruptedBatches(keras.utils.PyDataset):
    """Training batches ``(corrupted, clean)`` with fresh corruption in every batch of every epoch.

    Pass it to ``model.fit`` in place of ``(x, y)``. Batch ``i`` of epoch ``e`` is corrupted with a
    seed derived from ``(seed, e, i)``, so no corrupted image is seen twice, yet a run is
    reproducible. The order of the images is reshuffled every epoch when ``shuffle`` is true.

    Args:
        x: clean images ``(n, h, w, c)`` in [0, 1], floating point.
        corruption: a ``(kind, level)`` pair or a list of pairs (see :func:`corrupt_mixed`).
        batch_size: images per batch; the last batch may be smaller.
        seed: the base seed of the corruption and the shuffling.
        shuffle: reshuffle the images every epoch.
        **kwargs: ``workers``, ``use_multiprocessing``, ``max_queue_size`` of
            ``keras.utils.PyDataset``.
    """

    def __init__(
        self, x, corruption, batch_size: int = 128, seed: int = 0, shuffle: bool = True, **kwargs
    ):
        super().__init__(**kwargs)
        self.x = _validate.images(x, "CorruptedBatches")
        self.specs = _check_specs(corruption, "CorruptedBatches")
        self.batch_size = _validate.integer(batch_size, "batch_size", "CorruptedBatches", minimum=1)
        self.seed = _validate.integer(seed, "seed", "CorruptedBatches", minimum=0)
        self.shuffle = bool(shuffle)
        self.epoch = 0
        self._order = self._make_order()

    def _make_order(self) -> np.ndarray:
        if not self.shuffle:
            return np.arange(len(self.x))
        return np.random.default_rng((self.seed, self.epoch, 1)).permutation(len(self.x))

    def __len__(self) -> int:
        return -(-len(self.x) // self.batch_size)

    def batch_seed(self, index: int) -> int:
        """The corruption seed of batch ``index`` in the current epoch."""
        return int(np.random.SeedSequence((self.seed, self.epoch, int(index))).generate_state(1)[0])

    def __getitem__(self, index: int):
        if not 0 <= index < len(self):
            raise IndexError(f"batch index {index} out of range for {len(self)} batches")
        clean = self.x[self._order[index * self.batch_size : (index + 1) * self.batch_size]]
        return corrupt_mixed(clean, self.specs, seed=self.batch_seed(index)), clean

    def on_epoch_end(self) -> None:
        self.epoch += 1
        self._order = self._make_order()


# --- Classical baselines ------------------------------------------------------------------------


def gaussian_blur(x, sigma: float) -> np.ndarray:
    """Blur each image with a Gaussian of standard deviation ``sigma`` pixels (scipy.ndimage).

    Height and width are blurred, the batch and channel axes are not. ``x``: ``(n, h, w, c)``;
    returns the same shape and dtype.
    """
    from scipy import ndimage

    x = _validate.images(x, "gaussian_blur")
    sigma = _validate.number(sigma, "sigma", "gaussian_blur", minimum=0, exclusive=True)
    return ndimage.gaussian_filter(x, sigma=(0, sigma, sigma, 0), mode="reflect").astype(x.dtype)


def median_filter(x, size: int) -> np.ndarray:
    """Replace each pixel by the median of its ``size`` x ``size`` neighbourhood (scipy.ndimage).

    ``x``: ``(n, h, w, c)``; returns the same shape and dtype. ``size`` must be an odd int >= 3.
    """
    from scipy import ndimage

    x = _validate.images(x, "median_filter")
    if _validate.integer(size, "size", "median_filter", minimum=3) % 2 == 0:
        raise ValueError(f"median_filter(): size must be an odd int >= 3, got {size!r}")
    return ndimage.median_filter(x, size=(1, size, size, 1), mode="reflect").astype(x.dtype)


def _per_image(x, fn, name: str) -> np.ndarray:
    """Apply ``fn(image_2d_or_3d) -> same shape`` to each image of a batch; clip to [0, 1]."""
    x = _validate.images(x, name)
    out = np.empty_like(x)
    for i, img in enumerate(x):
        y = fn(img[..., 0] if x.shape[-1] == 1 else img)
        out[i] = np.asarray(y).reshape(img.shape)
    return np.clip(out, 0, 1).astype(x.dtype)


def total_variation(x, weight: float) -> np.ndarray:
    """Total-variation denoising (Rudin, Osher and Fatemi, 1992) of each image, by Chambolle's
    algorithm (``skimage.restoration.denoise_tv_chambolle``).

    It finds the image closest to the input whose total variation (the summed size of its
    gradients) is small; a larger ``weight`` means flatter regions and sharper steps.
    ``x``: ``(n, h, w, c)`` in [0, 1]; returns the same shape and dtype.
    """
    from skimage.restoration import denoise_tv_chambolle

    weight = _validate.number(weight, "weight", "total_variation", minimum=0, exclusive=True)
    multichannel = np.ndim(x) == 4 and np.shape(x)[-1] > 1
    return _per_image(
        x,
        lambda img: denoise_tv_chambolle(
            img, weight=weight, channel_axis=-1 if multichannel else None
        ),
        "total_variation",
    )


def wavelet_shrinkage(x, sigma: float) -> np.ndarray:
    """Wavelet denoising with BayesShrink soft thresholds (Chang, Yu and Vetterli, 2000), by
    ``skimage.restoration.denoise_wavelet`` (Daubechies-2 wavelet, 2 levels).

    ``sigma`` is the noise level the thresholds assume; it is tuned like any other parameter.
    ``x``: ``(n, h, w, c)`` in [0, 1]; returns the same shape and dtype.
    """
    from skimage.restoration import denoise_wavelet

    sigma = _validate.number(sigma, "sigma", "wavelet_shrinkage", minimum=0, exclusive=True)
    multichannel = np.ndim(x) == 4 and np.shape(x)[-1] > 1
    return _per_image(
        x,
        lambda img: denoise_wavelet(
            img,
            sigma=sigma,
            wavelet="db2",
            wavelet_levels=2,
            mode="soft",
            method="BayesShrink",
            channel_axis=-1 if multichannel else None,
        ),
        "wavelet_shrinkage",
    )


def non_local_means(x, h: float) -> np.ndarray:
    """Non-local means (Buades, Coll and Morel, 2005), by ``skimage.restoration.denoise_nl_means``.

    Each pixel becomes a weighted mean of the pixels whose 5x5 patch looks like its own, searched
    within 6 pixels; ``h`` sets how fast the weight falls with the patch distance.
    ``x``: ``(n, h, w, c)`` in [0, 1]; returns the same shape and dtype.
    """
    from skimage.restoration import denoise_nl_means

    h = _validate.number(h, "h", "non_local_means", minimum=0, exclusive=True)
    multichannel = np.ndim(x) == 4 and np.shape(x)[-1] > 1
    return _per_image(
        x,
        lambda img: denoise_nl_means(
            img,
            h=h,
            patch_size=5,
            patch_distance=6,
            fast_mode=True,
            channel_axis=-1 if multichannel else None,
        ),
        "non_local_means",
    )


def bm3d_available() -> bool:
    """True when the optional ``bm3d`` package imports."""
    try:
        import bm3d  # noqa: F401
    except ImportError:
        return False
    return True


def bm3d_denoise(x, sigma: float, per_mosaic: int = 100, pad: int = 8) -> np.ndarray:
    """BM3D (Dabov, Foi, Katkovnik and Egiazarian, 2007), by the optional ``bm3d`` package.

    BM3D groups similar patches into 3-D stacks, shrinks each stack in a transform domain and
    averages the estimates back. The package has a fixed cost of about half a second per call, so
    up to ``per_mosaic`` images are denoised at once as a mosaic in which every image is surrounded
    by ``pad`` pixels of its own mirror image. Block matching may then find a similar patch in a
    neighbouring image: on noisy Fashion-MNIST (sigma 0.5) the mean PSNR agrees with
    image-by-image denoising to about 0.01 dB, on the synthetic images of
    ``tests/test_denoise.py`` to within 0.3 dB. Single-channel images only.

    Args:
        x: ``(n, h, w, 1)`` in [0, 1].
        sigma: the noise standard deviation BM3D assumes (tuned like any other parameter).
        per_mosaic: images per call.
        pad: mirrored border around each image, in pixels.

    Returns:
        The denoised images, same shape and dtype, clipped to [0, 1].

    Raises:
        ImportError: ``bm3d`` is not installed (``pip install bm3d``).
    """
    try:
        import bm3d
    except ImportError as err:
        raise ImportError(
            "bm3d_denoise() needs the optional package bm3d: pip install bm3d"
        ) from err
    x = _validate.images(x, "bm3d_denoise")
    per_mosaic = _validate.integer(per_mosaic, "per_mosaic", "bm3d_denoise", minimum=1)
    pad = _validate.integer(pad, "pad", "bm3d_denoise", minimum=0)
    sigma = _validate.number(sigma, "sigma", "bm3d_denoise", minimum=0, exclusive=True)
    if x.shape[-1] != 1:
        raise ValueError(f"bm3d_denoise(): single-channel images only, got {x.shape[-1]} channels")
    n, h, w, _ = x.shape
    th, tw = h + 2 * pad, w + 2 * pad
    out = np.empty_like(x)
    for start in range(0, n, per_mosaic):
        chunk = x[start : start + per_mosaic, ..., 0]
        cols = int(np.ceil(np.sqrt(len(chunk))))
        rows = -(-len(chunk) // cols)
        mosaic = np.zeros((rows * th, cols * tw), np.float64)
        for j, img in enumerate(chunk):
            r, c = divmod(j, cols)
            mosaic[r * th : (r + 1) * th, c * tw : (c + 1) * tw] = np.pad(img, pad, mode="reflect")
        clean = bm3d.bm3d(mosaic, sigma_psd=sigma)
        for j in range(len(chunk)):
            r, c = divmod(j, cols)
            top, left = r * th + pad, c * tw + pad
            out[start + j, ..., 0] = clean[top : top + h, left : left + w]
    return np.clip(out, 0, 1).astype(x.dtype)


class PCAProjection:
    """Denoise by projecting onto the top principal components of clean images.

    ``PCAProjection(x_clean)(x, k) = clip(mean + (x - mean) V_k V_kᵀ)``, with ``V_k`` the top ``k``
    principal directions of ``x_clean``: what the images have in common is kept, the directions in
    which clean images hardly vary (where most white noise lives) are dropped.

    Args:
        x_clean: clean training images ``(n, h, w, c)`` in [0, 1]; never test images.
        max_k: the most components kept (the SVD is computed once, up to this many).
    """

    def __init__(self, x_clean, max_k: int = 256):
        x_clean = _validate.images(x_clean, "PCAProjection", "x_clean")
        max_k = _validate.integer(max_k, "max_k", "PCAProjection", minimum=1)
        flat = x_clean.reshape(len(x_clean), -1).astype(np.float64)
        self.mean = flat.mean(axis=0)
        _, _, vt = np.linalg.svd(flat - self.mean, full_matrices=False)
        self.components = vt[:max_k]
        self.shape = x_clean.shape[1:]

    def __call__(self, x, k: int) -> np.ndarray:
        x = _validate.images(x, "PCAProjection")
        if x.shape[1:] != self.shape:
            raise ValueError(
                f"PCAProjection: images of shape {self.shape} expected, got {x.shape[1:]}"
            )
        k = _validate.integer(k, "k", "PCAProjection", minimum=1, maximum=len(self.components))
        v = self.components[:k]
        centred = x.reshape(len(x), -1) - self.mean
        out = self.mean + (centred @ v.T) @ v
        return np.clip(out, 0, 1).reshape(x.shape).astype(x.dtype)


METHODS = {
    "gaussian blur": gaussian_blur,
    "median filter": median_filter,
    "total variation": total_variation,
    "wavelet shrinkage": wavelet_shrinkage,
    "non-local means": non_local_means,
    "BM3D": bm3d_denoise,
}
# The parameter each method is tuned over (for images in [0, 1]): blur sigma in pixels, median
# window, TV weight, the wavelet thresholds' noise level, the NL-means decay h, BM3D's noise level.
GRIDS = {
    "gaussian blur": (0.5, 0.75, 1.0, 1.25, 1.5, 2.0),
    "median filter": (3, 5, 7),
    "total variation": (0.05, 0.1, 0.2, 0.3, 0.5),
    "wavelet shrinkage": (0.1, 0.2, 0.35, 0.5, 0.7),
    "non-local means": (0.1, 0.2, 0.3, 0.45, 0.6),
    "BM3D": (0.2, 0.3, 0.4),
}
FILTERS = {name: METHODS[name] for name in ("gaussian blur", "median filter")}
FILTER_GRIDS = {name: GRIDS[name] for name in FILTERS}
PCA_GRID = (4, 8, 16, 32, 64, 128)  # components kept by PCAProjection


class Corrected:
    """A denoiser whose output may be corrected afterwards: one method with a pair parameter.

    ``Corrected(method, correction)(noisy, (p, True))`` is ``correction(method(noisy, p))`` and
    ``(p, False)`` is ``method(noisy, p)`` as it is. Tuning the pair decides on validation images
    whether the correction helps, e.g. :func:`unclip` after a filter made for unclipped noise.
    :func:`tune` runs ``method`` once for each ``p`` of its grid and scores that output both ways.

    Args:
        method: ``method(noisy, p) -> restored``.
        correction: ``correction(restored) -> restored``.
    """

    def __init__(self, method, correction):
        for name, f in (("method", method), ("correction", correction)):
            if not callable(f):
                raise TypeError(f"Corrected(): {name} must be a function, got {f!r}")
        self.method = method
        self.correction = correction

    @staticmethod
    def split(parameter, fn: str = "Corrected") -> tuple:
        """``(p, apply)`` from a pair parameter, checked."""
        if not isinstance(parameter, (tuple, list)) or len(parameter) != 2:
            raise ValueError(
                f"{fn}(): a Corrected method takes a pair (parameter, apply the correction), "
                f"got {parameter!r}"
            )
        return parameter[0], _validate.flag(parameter[1], "the pair's second element", fn)

    def __call__(self, noisy, parameter) -> np.ndarray:
        p, apply = self.split(parameter)
        restored = self.method(noisy, p)
        return self.correction(restored) if apply else restored


def tune(method, noisy, clean, grid: Sequence):
    """Choose a denoiser's parameter by mean PSNR on a validation pair (never on the test set).

    Args:
        method: ``method(noisy, parameter) -> restored`` (a function of :data:`METHODS`, a
            :class:`PCAProjection`, ...). For a :class:`Corrected` method the parameters are
            pairs, and each of their first elements is run once.
        noisy: corrupted validation images ``(n, h, w, c)`` in [0, 1].
        clean: the same images before corruption.
        grid: the parameters to try (at least one).

    Returns:
        ``(best, scores)``: the parameter with the highest mean PSNR, and ``{parameter: PSNR}``.
    """
    from .metrics import mean_psnr

    noisy = _validate.images(noisy, "tune")
    clean = _validate.images(clean, "tune")
    if noisy.shape != clean.shape:
        raise ValueError(f"tune(): noisy has shape {noisy.shape} but clean has shape {clean.shape}")
    grid = tuple(grid)
    if not grid:
        raise ValueError("tune(): grid is empty")
    if isinstance(method, Corrected):
        runs, scores = {}, {}  # the method's output for each p, then scored as it is and corrected
        for pair in grid:
            p, apply = Corrected.split(pair, "tune")
            if p not in runs:
                runs[p] = method.method(noisy, p)
            scores[pair] = mean_psnr(clean, method.correction(runs[p]) if apply else runs[p])
    else:
        scores = {p: mean_psnr(clean, method(noisy, p)) for p in grid}
    best = max(scores, key=scores.get)
    return best, scores


def tune_filter(name: str, noisy, clean, grid: Sequence | None = None):
    """:func:`tune` for a method of :data:`METHODS` by name, over :data:`GRIDS` by default."""
    if name not in METHODS:
        raise ValueError(
            f"tune_filter(): unknown filter {name!r}: expected one of {', '.join(METHODS)}"
        )
    return tune(METHODS[name], noisy, clean, GRIDS[name] if grid is None else grid)


def posterior_mean(noisy, prior, sigma: float, chunk: int = 256):
    """``E[x | x_noisy]`` when the clean image is one of ``prior``'s images, each equally likely,
    and the noise is Gaussian with standard deviation ``sigma`` clipped to [0, 1].

    This is the best denoiser in squared error for that prior, computed exactly: each prior image
    ``x_i`` gets the weight ``p(x_noisy | x_i)`` (normalised), where a pixel strictly inside
    (0, 1) has the Gaussian density and a pixel at 0 or 1 the probability that the noise pushed it
    there, ``Phi(-x/sigma)`` or ``Phi((x-1)/sigma)``. The estimate is the weighted average of the
    prior images.

    Args:
        noisy: noisy images ``(m, h, w, c)`` made by :func:`gaussian_noise`.
        prior: clean images ``(n, h, w, c)`` (training images, never the test images).
        sigma: the noise level.
        chunk: noisy images per step (memory: ``chunk * n`` floats).

    Returns:
        ``(mean, ess)``: the posterior means, shape of ``noisy``, and for each image the effective
        number of prior images behind it, ``1 / sum(w_i^2)`` (1 = a single nearest image).
    """
    from scipy.special import log_ndtr

    noisy = _validate.images(noisy, "posterior_mean")
    prior = _validate.images(prior, "posterior_mean")
    sigma = _validate.number(sigma, "sigma", "posterior_mean", minimum=0, exclusive=True)
    chunk = _validate.integer(chunk, "chunk", "posterior_mean", minimum=1)
    if noisy.shape[1:] != prior.shape[1:]:
        raise ValueError(
            f"posterior_mean(): noisy images {noisy.shape[1:]} and prior images "
            f"{prior.shape[1:]} differ in shape"
        )
    p = prior.reshape(len(prior), -1).astype(np.float64)
    low = log_ndtr(-p / sigma)  # log P(pixel clipped to 0 | clean value)
    high = log_ndtr((p - 1) / sigma)  # log P(pixel clipped to 1 | clean value)
    p_sq = p**2
    means, ess = [], []
    for start in range(0, len(noisy), chunk):
        y = noisy[start : start + chunk].reshape(-1, p.shape[1]).astype(np.float64)
        at0, at1 = y <= 0, y >= 1
        inside = ~(at0 | at1)
        yi = np.where(inside, y, 0.0)
        sq = (yi**2).sum(1)[:, None] - 2 * yi @ p.T + inside.astype(np.float64) @ p_sq.T
        log_w = -sq / (2 * sigma**2) + at0 @ low.T + at1 @ high.T
        log_w -= log_w.max(axis=1, keepdims=True)
        w = np.exp(log_w)
        w /= w.sum(axis=1, keepdims=True)
        means.append(w @ p)
        ess.append(1.0 / (w**2).sum(axis=1))
    mean = np.concatenate(means).reshape(noisy.shape).astype(noisy.dtype)
    return mean, np.concatenate(ess)


__all__ = [
    "CORRUPTIONS", "Corrected", "CorruptedBatches", "FILTERS", "FILTER_GRIDS", "GRIDS", "METHODS",
    "OTHER_MARK", "PCAProjection", "PCA_GRID", "WATERMARK", "bm3d_available", "bm3d_denoise",
    "clipped_mean", "corrupt", "corrupt_mixed", "gaussian_blur", "gaussian_noise", "glyph",
    "median_filter", "non_local_means", "posterior_mean", "random_erasing", "salt_and_pepper",
    "stamp", "total_variation", "tune", "tune_filter", "unclip", "watermark", "wavelet_shrinkage",
]  # fmt: skip


def clipped_mean(x, sigma: float) -> np.ndarray:
    """``E[clip(x + sigma * eps, 0, 1)]`` for ``eps ~ N(0, 1)``: what a clipped noisy pixel whose
    clean value is ``x`` averages to. Near black it is lifted (by about ``sigma / sqrt(2 pi)`` at 0),
    near white lowered by as much."""
    from scipy.stats import norm

    x = np.asarray(x, dtype=np.float64)
    sigma = _validate.number(sigma, "sigma", "clipped_mean", minimum=0, exclusive=True)
    a, b = -x / sigma, (1 - x) / sigma
    return x * (norm.cdf(b) - norm.cdf(a)) + sigma * (norm.pdf(a) - norm.pdf(b)) + norm.sf(b)


def unclip(y, sigma: float) -> np.ndarray:
    """Undo the bias of clipped Gaussian noise in a denoised image (Foi, 2009).

    A filter that averages clipped noisy pixels estimates :func:`clipped_mean` of the clean value,
    not the value itself; this maps each estimate back through the inverse of that curve (values
    beyond its ends go to 0 or 1). ``y``: any shape in [0, 1]; returns the same shape and dtype.
    """
    y = np.asarray(y)
    grid = np.linspace(0.0, 1.0, 1001)
    return np.interp(y, clipped_mean(grid, sigma), grid).astype(y.dtype)
