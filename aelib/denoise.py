"""Denoising autoencoders: training batches with fresh corruption, and the classical filters they
are measured against.

The corruptions themselves (Gaussian noise, salt-and-pepper, erasing, a watermark) live in
:mod:`aelib.data` as :func:`aelib.data.corrupt`; the model is the course's
:func:`aelib.models.conv_autoencoder`, trained on ``(corrupted, clean)`` pairs instead of
``(clean, clean)``. This module imports Keras, so import it after :func:`aelib.setup`.
"""

from __future__ import annotations

from collections.abc import Sequence

import keras
import numpy as np

from .data import CORRUPTIONS, _check_images, corrupt

Spec = tuple[str, float]


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
            gets one of them, drawn uniformly); kinds are those of :data:`aelib.data.CORRUPTIONS`.
        seed: the result is a function of the inputs and the seed alone.

    Returns:
        Corrupted images, same shape and dtype as ``x``.
    """
    specs = _check_specs(corruption, "corrupt_mixed")
    x = _check_images(x, "corrupt_mixed")
    if len(specs) == 1:
        return corrupt(x, *specs[0], seed=seed)
    rng = np.random.default_rng(seed)
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
        self.x = _check_images(x, "CorruptedBatches")
        self.specs = _check_specs(corruption, "CorruptedBatches")
        if (
            isinstance(batch_size, bool)
            or not isinstance(batch_size, (int, np.integer))
            or batch_size <= 0
        ):
            raise ValueError(
                f"CorruptedBatches(): batch_size must be a positive int, got {batch_size!r}"
            )
        if isinstance(seed, bool) or not isinstance(seed, (int, np.integer)) or seed < 0:
            raise ValueError(f"CorruptedBatches(): seed must be a non-negative int, got {seed!r}")
        self.batch_size = int(batch_size)
        self.seed = int(seed)
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

    x = _check_images(x, "gaussian_blur")
    if not np.isfinite(sigma) or sigma <= 0:
        raise ValueError(
            f"gaussian_blur(): sigma must be a positive number of pixels, got {sigma!r}"
        )
    return ndimage.gaussian_filter(x, sigma=(0, sigma, sigma, 0), mode="reflect").astype(x.dtype)


def median_filter(x, size: int) -> np.ndarray:
    """Replace each pixel by the median of its ``size`` x ``size`` neighbourhood (scipy.ndimage).

    ``x``: ``(n, h, w, c)``; returns the same shape and dtype. ``size`` must be an odd int >= 3.
    """
    from scipy import ndimage

    x = _check_images(x, "median_filter")
    if (
        isinstance(size, bool)
        or not isinstance(size, (int, np.integer))
        or size < 3
        or size % 2 == 0
    ):
        raise ValueError(f"median_filter(): size must be an odd int >= 3, got {size!r}")
    return ndimage.median_filter(x, size=(1, size, size, 1), mode="reflect").astype(x.dtype)


FILTERS = {"gaussian blur": gaussian_blur, "median filter": median_filter}
# The parameter each filter is tuned over: blur sigma in pixels, median window size.
FILTER_GRIDS = {"gaussian blur": (0.5, 0.75, 1.0, 1.25, 1.5, 2.0), "median filter": (3, 5, 7)}


def tune_filter(name: str, noisy, clean, grid: Sequence | None = None):
    """Choose a filter's parameter by mean PSNR on a validation pair (never on the test set).

    Args:
        name: a key of :data:`FILTERS` (``"gaussian blur"`` or ``"median filter"``).
        noisy: corrupted validation images ``(n, h, w, c)`` in [0, 1].
        clean: the same images before corruption.
        grid: the parameters to try; default :data:`FILTER_GRIDS[name]`.

    Returns:
        ``(best, scores)``: the parameter with the highest mean PSNR, and ``{parameter: PSNR}``.
    """
    from .metrics import mean_psnr

    if name not in FILTERS:
        raise ValueError(
            f"tune_filter(): unknown filter {name!r}: expected one of {', '.join(FILTERS)}"
        )
    noisy = _check_images(noisy, "tune_filter")
    clean = _check_images(clean, "tune_filter")
    if noisy.shape != clean.shape:
        raise ValueError(
            f"tune_filter(): noisy has shape {noisy.shape} but clean has shape {clean.shape}"
        )
    grid = tuple(FILTER_GRIDS[name] if grid is None else grid)
    if not grid:
        raise ValueError("tune_filter(): grid is empty")
    scores = {p: mean_psnr(clean, FILTERS[name](noisy, p)) for p in grid}
    best = max(scores, key=scores.get)
    return best, scores


__all__ = [
    "CORRUPTIONS", "CorruptedBatches", "FILTERS", "FILTER_GRIDS", "corrupt_mixed",
    "gaussian_blur", "median_filter", "tune_filter",
]  # fmt: skip
