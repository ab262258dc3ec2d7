"""Fourier spectra of images, and a measure of the grid-locked pattern a strided decoder leaves.

A decoder that doubles the resolution twice with unevenly overlapping kernels (or with kernels whose
phases disagree) adds a pattern that repeats every 2 pixels (the last step) and every 4 pixels (the
first step, whose period-2 pattern on the 14x14 grid becomes period 4 on the 28x28 output). In the
2-D discrete Fourier transform of an ``h x w`` image, a pattern of period ``p`` lives at the
*lattice* frequencies ``(k h / p, l w / p)`` for integers ``k, l`` (:func:`lattice_bins`).

:func:`periodic_energy` measures such a pattern in a set of reconstructions:

1. Take the **residual** ``r = output - target`` of every image, so that the content the decoder
   reproduces correctly drops out.
2. **Average the residual over the images.** A pattern tied to the pixel grid has the same phase in
   every image and survives the average; errors that depend on the content mostly cancel. (Measuring
   single images instead counts every blurred edge near those frequencies as an artefact.)
3. Sum the power of that mean residual over a **small neighbourhood** (``(2 radius + 1)^2`` bins)
   of each lattice frequency that belongs to period ``p`` and to no shorter period. The
   neighbourhood catches patterns whose strength varies across the image (a checkerboard multiplied
   by the image spreads around the lattice bin), and patterns that nearest and bilinear resizing
   leave *next to* the exact Nyquist bins, where their interpolation filters have a zero.
4. Remove the power a finite average leaves by chance (an unbiased estimate of the power of the
   expected residual), and scale by ``1 / (h w)^2`` so that, by Parseval, the result is the mean
   square of the periodic part in squared grey levels. A checkerboard ``a (-1)^(i+j)`` gives
   ``a^2``; its square root, :func:`periodic_amplitude`, is the RMS amplitude in grey levels.

No normalisation by the image's total power: a blurred decoder does not look cleaner for having
less power. What the measure cannot tell apart from an artefact is a *systematic* error of the mean
image near the lattice frequencies (the same in every image); a shift-invariant blur of the targets,
which adds no grid-locked pattern, shows that floor.

:func:`power_spectrum` and :func:`azimuthal_average` give the full picture the measure summarises:
the azimuthal average is the 1-D profile over radial frequency that Durall, Keuper and Keuper
(2020) use to show that up-convolutions distort the high end of the spectrum. All functions work in
NumPy on ``(n, h, w)`` or ``(n, h, w, c)`` batches (channels are summed).
"""

from __future__ import annotations

import numpy as np

from . import _validate


def _batch(images, fn: str, name: str = "images") -> np.ndarray:
    """Images as float64 ``(n, h, w, c)``; NaN or infinity is refused: a spectrum of such an image
    is NaN in every bin, and an energy computed from it would mean nothing."""
    try:
        x = np.asarray(images, dtype=np.float64)
    except (TypeError, ValueError):
        raise ValueError(
            f"{fn}(): {name} must be an array of numbers, got {images!r:.80}"
        ) from None
    if x.ndim == 3:
        x = x[..., None]
    if x.ndim != 4:
        raise ValueError(f"{fn}(): {name} must have shape (n, h, w) or (n, h, w, c), got {x.shape}")
    bad = ~np.isfinite(x)
    if bad.any():
        raise ValueError(
            f"{fn}(): {name} contain {int(bad.sum())} NaN or infinite values (first at index "
            f"{tuple(int(i) for i in np.argwhere(bad)[0])}); a spectrum of them is undefined"
        )
    return x


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


def _check_period(period, h: int, w: int, fn: str) -> int:
    period = _validate.integer(period, "period", fn, minimum=2)
    if h % period or w % period:
        raise ValueError(f"{fn}(): image size {(h, w)} must be divisible by period {period}")
    return int(period)


def lattice_bins(h: int, w: int, period: int = 2, own: bool = True) -> list[tuple[int, int]]:
    """Uncentred DFT indices ``(u, v)`` of the frequencies of a pattern with period ``period``.

    Every multiple of ``h / period`` by every multiple of ``w / period``, except ``(0, 0)``. With
    ``own=True`` (the default) the bins that a shorter period dividing ``period`` also has are left
    out, so period 4 and period 2 are measured on disjoint bins: 3 bins for period 2, 12 for
    period 4. ``h`` and ``w`` must be divisible by ``period``.
    """
    period = _check_period(period, h, w, "lattice_bins")
    bins = {(k * h // period, m * w // period) for k in range(period) for m in range(period)}
    bins.discard((0, 0))
    if own:
        for q in range(2, period):
            if period % q == 0:
                bins -= set(lattice_bins(h, w, q, own=False))
    return sorted(bins)


def mean_residual_power(outputs, targets) -> np.ndarray:
    """Power spectrum of the expected residual ``E[output - target]``, estimated without bias.

    With ``R_i`` the DFT of image ``i``'s residual (channels summed after the transform) and ``n``
    images, returns ``(n |mean R|^2 - mean |R|^2) / (n - 1) / (h w)^2`` per bin: the chance power
    of a finite mean (``Var R / n``) is subtracted, so independent noise averages to zero and a
    bin can come out slightly negative.

    Args:
        outputs, targets: ``(n, h, w)`` or ``(n, h, w, c)`` of the same shape, ``n >= 2``.

    Returns:
        ``(h, w)`` uncentred spectrum in squared grey levels per bin; its sum over all bins is
        (up to the chance correction) the mean square of the mean residual image.
    """
    y = _batch(outputs, "mean_residual_power", "outputs")
    x = _batch(targets, "mean_residual_power", "targets")
    if y.shape != x.shape:
        raise ValueError(
            f"mean_residual_power(): outputs and targets must have the same shape, got {y.shape} "
            f"and {x.shape}"
        )
    n, h, w, _ = y.shape
    if n < 2:
        raise ValueError(f"mean_residual_power(): needs at least 2 images, got {n}")
    spec = np.fft.fft2(y - x, axes=(1, 2)) / (h * w)  # (n, h, w, c)
    coherent = (np.abs(spec.mean(axis=0)) ** 2).sum(axis=-1)
    total = (np.abs(spec) ** 2).mean(axis=0).sum(axis=-1)
    return (n * coherent - total) / (n - 1)


def neighbourhood_sum(spectrum, bins, radius: int = 1) -> float:
    """Sum of an uncentred ``(h, w)`` spectrum over the ``(2 radius + 1)^2`` bins around each of
    ``bins`` (wrapping around the edges; a bin shared by two neighbourhoods counts once)."""
    s = np.asarray(spectrum, dtype=np.float64)
    if s.ndim != 2:
        raise ValueError(f"neighbourhood_sum(): spectrum must have shape (h, w), got {s.shape}")
    radius = _validate.integer(radius, "radius", "neighbourhood_sum", minimum=0)
    h, w = s.shape
    mask = np.zeros((h, w), dtype=bool)
    d = np.arange(-radius, radius + 1)
    for u, v in bins:
        mask[np.ix_((u + d) % h, (v + d) % w)] = True
    return float(s[mask].sum())


def periodic_energy(outputs, targets, period: int = 2, radius: int = 1) -> float:
    """Mean square (squared grey levels) of the grid-locked period-``period`` pattern in
    ``outputs - targets``: see the module's docstring for the four steps.

    Args:
        outputs: reconstructions, ``(n, h, w)`` or ``(n, h, w, c)``, ``n >= 2``.
        targets: the images they reconstruct, same shape.
        period: 2 or 4 for a decoder with two stride-2 steps (any int >= 2 dividing ``h`` and
            ``w``); only the bins of no shorter period are counted (:func:`lattice_bins`).
        radius: neighbourhood half-width in bins (0: the exact lattice bins only).

    Returns:
        A float: ``a**2`` for an added checkerboard ``a (-1)^(i+j)`` at ``period=2``, ``a**2 / 2``
        for ``a cos(pi i / 2)`` at ``period=4``, about 0 (either sign) for patterns that are not
        tied to the grid.
    """
    spec = mean_residual_power(outputs, targets)
    h, w = spec.shape
    bins = lattice_bins(h, w, period)
    return neighbourhood_sum(spec, bins, radius)


def periodic_amplitude(outputs, targets, period: int = 2, radius: int = 1) -> float:
    """RMS amplitude in grey levels of the period-``period`` pattern: ``sqrt`` of
    :func:`periodic_energy`, 0 where the estimate is negative (nothing above chance)."""
    energy = periodic_energy(outputs, targets, period, radius)
    if np.isnan(energy):  # never turn an undefined energy into 0
        return float("nan")
    return float(np.sqrt(max(energy, 0.0)))


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


def binomial_blur(images, times: int = 1) -> np.ndarray:
    """Blur with the separable ``[1, 2, 1] / 4`` kernel ``times`` times (edge pixels repeated).

    A shift-invariant low-pass with a zero at the Nyquist frequency: it adds no grid-locked
    pattern, so :func:`periodic_energy` of its residual shows the measure's floor for a systematic
    blur. Returns float64 with the input's shape, ``(n, h, w)`` or ``(n, h, w, c)``.
    """
    times = _validate.integer(times, "times", "binomial_blur", minimum=0)
    x = np.asarray(images, dtype=np.float64)
    squeeze = x.ndim == 3
    x = _batch(x, "binomial_blur")
    for _ in range(times):
        p = np.pad(x, ((0, 0), (1, 1), (1, 1), (0, 0)), mode="edge")
        x = (p[:, :-2] + 2 * p[:, 1:-1] + p[:, 2:]) / 4
        x = (x[:, :, :-2] + 2 * x[:, :, 1:-1] + x[:, :, 2:]) / 4
    return x[..., 0] if squeeze else x
