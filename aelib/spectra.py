"""Fourier power spectra of images, and the energy a strided decoder leaves at its stride's frequency.

A decoder that doubles the resolution with unevenly overlapping kernels multiplies its output by a
pattern that repeats every 2 pixels. In the 2-D discrete Fourier transform of an ``h x w`` image,
a pattern of period ``s`` lives at the frequencies ``(k h / s, l w / s)`` for integers ``k, l``;
for ``s = 2`` these are the three Nyquist bins ``(h/2, 0)``, ``(0, w/2)`` and ``(h/2, w/2)``.
:func:`stride_energy` measures the share of an image's power at those bins, and
:func:`azimuthal_average` reduces a 2-D spectrum to a 1-D profile over the radial frequency, the
view Durall, Keuper and Keuper (2020) use to show that up-convolutions distort the high end of
the spectrum. All functions work in NumPy on ``(n, h, w)`` or ``(n, h, w, c)`` batches.
"""

from __future__ import annotations

import numpy as np


def _batch(images, fn: str) -> np.ndarray:
    x = np.asarray(images, dtype=np.float64)
    if x.ndim == 4:
        return x
    if x.ndim == 3:
        return x[..., None]
    raise ValueError(f"{fn}(): images must have shape (n, h, w) or (n, h, w, c), got {x.shape}")


def power_spectrum(images, subtract_mean: bool = False, centered: bool = True) -> np.ndarray:
    """``|DFT|^2`` of each image, summed over channels.

    Args:
        images: ``(n, h, w)`` or ``(n, h, w, c)``.
        subtract_mean: remove each image's mean first, which empties the zero-frequency bin.
        centered: shift the zero frequency to index ``(h // 2, w // 2)`` (``np.fft.fftshift``).

    Returns:
        ``(n, h, w)`` power. Uncentred, ``[:, u, v]`` is the frequency ``(u/h, v/w)`` cycles per
        pixel, and the total over ``(u, v)`` is ``h * w`` times the image's sum of squares
        (Parseval).
    """
    x = _batch(images, "power_spectrum")
    if subtract_mean:
        x = x - x.mean(axis=(1, 2), keepdims=True)
    power = (np.abs(np.fft.fft2(x, axes=(1, 2))) ** 2).sum(axis=-1)
    return np.fft.fftshift(power, axes=(1, 2)) if centered else power


def stride_bins(h: int, w: int, stride: int = 2) -> list[tuple[int, int]]:
    """Uncentred DFT indices ``(u, v)`` of the frequencies of a pattern with period ``stride``.

    Every multiple of ``h / stride`` by every multiple of ``w / stride``, except ``(0, 0)``:
    ``stride**2 - 1`` bins. ``h`` and ``w`` must be divisible by ``stride``.
    """
    if not isinstance(stride, int) or stride < 2:
        raise ValueError(f"stride_bins(): stride must be an int >= 2, got {stride!r}")
    if h % stride or w % stride:
        raise ValueError(f"stride_bins(): image size {(h, w)} must be divisible by stride {stride}")
    return [
        (k * h // stride, m * w // stride) for k in range(stride) for m in range(stride) if k or m
    ]


def stride_energy(images, stride: int = 2) -> np.ndarray:
    """Share of each image's power at the frequencies of a period-``stride`` pattern.

    ``sum over stride_bins of |X(u, v)|^2`` divided by the total power ``sum |X|^2`` (zero
    frequency included). A constant image gives 0; a pure checkerboard ``(-1)^(i+j)`` gives 1.
    Natural images put little power there; an unevenly overlapping stride-2 decoder puts more.

    Args:
        images: ``(n, h, w)`` or ``(n, h, w, c)``, with ``h`` and ``w`` divisible by ``stride``.

    Returns:
        ``(n,)`` shares in ``[0, 1]`` (0 for an all-zero image).
    """
    x = _batch(images, "stride_energy")
    power = power_spectrum(x, centered=False)
    bins = stride_bins(x.shape[1], x.shape[2], stride)
    at_stride = sum(power[:, u, v] for u, v in bins)
    total = power.reshape(len(power), -1).sum(axis=1)
    return np.divide(at_stride, total, out=np.zeros_like(total), where=total > 0)


def radial_frequency(h: int, w: int) -> np.ndarray:
    """Radial frequency in cycles per pixel of every bin of a centred ``(h, w)`` spectrum."""
    fu = np.fft.fftshift(np.fft.fftfreq(h))[:, None]
    fv = np.fft.fftshift(np.fft.fftfreq(w))[None, :]
    return np.sqrt(fu**2 + fv**2)


def azimuthal_average(spectra) -> tuple[np.ndarray, np.ndarray]:
    """Average a centred 2-D spectrum over rings of equal radial frequency.

    Rings are ``1 / max(h, w)`` cycles per pixel wide, so ring ``r`` of a square image holds the
    bins at distance ``r`` (rounded) from the centre; the last rings reach the corners, up to
    ``sqrt(2) / 2`` cycles per pixel.

    Args:
        spectra: ``(h, w)`` or ``(n, h, w)`` centred spectra, e.g. from :func:`power_spectrum`.

    Returns:
        ``(freqs, profile)``: ring centres ``(n_rings,)`` in cycles per pixel and the mean of each
        ring, ``(n_rings,)`` or ``(n, n_rings)``.
    """
    s = np.asarray(spectra, dtype=np.float64)
    single = s.ndim == 2
    if single:
        s = s[None]
    if s.ndim != 3:
        raise ValueError(
            f"azimuthal_average(): spectra must have shape (h, w) or (n, h, w), got {s.shape}"
        )
    h, w = s.shape[1:]
    step = 1.0 / max(h, w)
    ring = np.rint(radial_frequency(h, w) / step).astype(int).ravel()
    counts = np.bincount(ring)
    flat = s.reshape(len(s), -1)
    sums = np.stack([np.bincount(ring, weights=row, minlength=len(counts)) for row in flat])
    profile = sums / counts
    freqs = np.arange(len(counts)) * step
    return freqs, profile[0] if single else profile


def azimuthal_spectrum(images, subtract_mean: bool = True) -> tuple[np.ndarray, np.ndarray]:
    """Mean power per ring of radial frequency, averaged over a batch (Durall et al. 2020).

    Args:
        images: ``(n, h, w)`` or ``(n, h, w, c)``.
        subtract_mean: drop each image's mean, so the profile starts with the first nonzero ring.

    Returns:
        ``(freqs, profile)``, both ``(n_rings,)``: cycles per pixel and the batch's mean power.
    """
    freqs, profile = azimuthal_average(
        power_spectrum(images, subtract_mean=subtract_mean).mean(axis=0)
    )
    return freqs, profile
