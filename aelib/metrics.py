"""Reconstruction error and subspace measures, computed in NumPy."""

from __future__ import annotations

import numpy as np


def _pair(x, x_hat, fn: str):
    x = np.asarray(x, dtype=np.float64)
    x_hat = np.asarray(x_hat, dtype=np.float64)
    if x.shape != x_hat.shape:
        raise ValueError(f"{fn}(): x has shape {x.shape} but x_hat has shape {x_hat.shape}")
    if x.ndim < 2:
        raise ValueError(f"{fn}(): expected a batch (n, ...), got shape {x.shape}")
    return x, x_hat


def per_sample_mse(x, x_hat) -> np.ndarray:
    """Mean squared error of each example over all its pixels: shape ``(n,)``."""
    x, x_hat = _pair(x, x_hat, "per_sample_mse")
    return ((x - x_hat) ** 2).reshape(len(x), -1).mean(axis=1)


def mse(x, x_hat) -> float:
    """Mean squared error per pixel over the whole batch."""
    return float(per_sample_mse(x, x_hat).mean())


def sse_per_image(x, x_hat) -> float:
    """Mean over images of the summed squared error (the unit Hinton and Salakhutdinov 2006 report)."""
    x, x_hat = _pair(x, x_hat, "sse_per_image")
    return float(((x - x_hat) ** 2).reshape(len(x), -1).sum(axis=1).mean())


def principal_angles(a, b) -> np.ndarray:
    """Principal angles in degrees between the column spaces of ``a`` (d, k) and ``b`` (d, m).

    Both bases are orthonormalised first, so any spanning set works. Returns ``min(k, m)`` angles,
    smallest first. Angles near 0 mean the two subspaces coincide.
    """
    a = np.asarray(a, dtype=np.float64)
    b = np.asarray(b, dtype=np.float64)
    if a.ndim != 2 or b.ndim != 2 or a.shape[0] != b.shape[0]:
        raise ValueError(
            f"principal_angles(): need (d, k) and (d, m) matrices, got {a.shape} and {b.shape}"
        )
    qa, _ = np.linalg.qr(a)
    qb, _ = np.linalg.qr(b)
    cosines = np.clip(np.linalg.svd(qa.T @ qb, compute_uv=False), -1.0, 1.0)
    return np.degrees(np.arccos(cosines))


def psnr(x, x_hat, data_range: float = 1.0) -> np.ndarray:
    """Peak signal-to-noise ratio in dB of each example: ``10 log10(range^2 / MSE)``, shape ``(n,)``.

    A perfect reconstruction gives ``inf``; average PSNR over a set with :func:`mean_psnr`.
    """
    err = per_sample_mse(x, x_hat)
    with np.errstate(divide="ignore"):
        return 10.0 * np.log10(data_range**2 / err)


def mean_psnr(x, x_hat, data_range: float = 1.0) -> float:
    """PSNR averaged over examples (in dB), with perfect examples capped at 100 dB."""
    return float(np.minimum(psnr(x, x_hat, data_range), 100.0).mean())


def ssim(x, x_hat, data_range: float = 1.0, sigma: float = 1.5) -> np.ndarray:
    """Structural similarity (Wang et al. 2004) of each example, averaged over pixels and channels.

    Uses a Gaussian window (``sigma`` 1.5, as in the paper) and the usual constants
    ``K1 = 0.01, K2 = 0.03``. Inputs are ``(n, h, w)`` or ``(n, h, w, c)``; returns shape ``(n,)``.
    """
    from scipy.ndimage import gaussian_filter

    x, y = _pair(x, x_hat, "ssim")
    if x.ndim == 3:
        x, y = x[..., None], y[..., None]
    if x.ndim != 4:
        raise ValueError(f"ssim(): expected (n, h, w) or (n, h, w, c), got shape {x.shape}")
    c1, c2 = (0.01 * data_range) ** 2, (0.03 * data_range) ** 2
    sig = (0, sigma, sigma, 0)

    def blur(a):
        return gaussian_filter(a, sigma=sig, mode="reflect", truncate=3.5)

    mx, my = blur(x), blur(y)
    vx = blur(x * x) - mx**2
    vy = blur(y * y) - my**2
    cxy = blur(x * y) - mx * my
    s = ((2 * mx * my + c1) * (2 * cxy + c2)) / ((mx**2 + my**2 + c1) * (vx + vy + c2))
    return s.reshape(len(s), -1).mean(axis=1)
