"""The grid-locked artefact measure of aelib.spectra, on synthetic patterns of known amplitude."""

import numpy as np
import pytest

from aelib import spectra

ROW, COL = np.mgrid[:28, :28]
CHECKER = (-1.0) ** (ROW + COL)  # period 2 in both directions, RMS 1
ROWS4 = np.cos(np.pi * ROW / 2)  # period 4 down the rows, RMS 1/sqrt(2)
GRID4 = np.cos(np.pi * ROW / 2) * np.cos(np.pi * COL / 2)  # period 4 both ways, RMS 1/2


def _images(n=400, seed=0):
    """Smooth random blobs in [0, 1]: image-like content with no grid-locked pattern."""
    rng = np.random.default_rng(seed)
    c = rng.uniform(6, 22, size=(n, 2, 1, 1))
    s = rng.uniform(2, 6, size=(n, 1, 1))
    return np.exp(-((ROW - c[:, 0]) ** 2 + (COL - c[:, 1]) ** 2) / (2 * s**2))


def test_lattice_bins():
    assert spectra.lattice_bins(28, 28, 2) == [(0, 14), (14, 0), (14, 14)]
    four = spectra.lattice_bins(28, 28, 4)
    assert len(four) == 12 and not set(four) & set(spectra.lattice_bins(28, 28, 2))
    assert len(spectra.lattice_bins(28, 28, 4, own=False)) == 15
    assert len(spectra.lattice_bins(12, 12, 3)) == 8
    with pytest.raises(ValueError, match=r"image size \(27, 28\) must be divisible by period 2"):
        spectra.lattice_bins(27, 28, 2)
    with pytest.raises(ValueError, match="period must be an int >= 2, got 1"):
        spectra.lattice_bins(28, 28, 1)


@pytest.mark.parametrize("a", [0.003, 0.01, 0.05])
def test_known_amplitudes_on_a_clean_residual(a):
    x = _images()
    y = x + a * CHECKER  # a checkerboard of amplitude a, nothing else
    assert spectra.periodic_energy(y, x, 2) == pytest.approx(a**2, rel=1e-9)
    assert spectra.periodic_amplitude(y, x, 2) == pytest.approx(a, rel=1e-9)
    assert spectra.periodic_energy(y, x, 4) == pytest.approx(0, abs=1e-12 * a)
    y4 = x + a * ROWS4  # period 4 only: its own bins, none of period 2
    assert spectra.periodic_amplitude(y4, x, 4) == pytest.approx(a / np.sqrt(2), rel=1e-9)
    assert spectra.periodic_energy(y4, x, 2) == pytest.approx(0, abs=1e-12 * a)
    y44 = x + a * GRID4
    assert spectra.periodic_amplitude(y44, x, 4) == pytest.approx(a / 2, rel=1e-9)
    # Channels: the same pattern in all three channels counts three times the energy.
    rgb = np.repeat(x[..., None], 3, axis=-1)
    assert spectra.periodic_energy(rgb + a * CHECKER[..., None], rgb, 2) == pytest.approx(3 * a**2)


def test_noise_and_content_average_out():
    rng = np.random.default_rng(1)
    x = _images(2000)
    noisy = x + rng.normal(0, 0.1, x.shape)  # errors that differ from image to image
    assert abs(spectra.periodic_energy(noisy, x, 2)) < 2e-6  # about 0.1**2 * 9 / 2000, either sign
    assert spectra.periodic_amplitude(noisy + 0.01 * CHECKER, x, 2) == pytest.approx(0.01, rel=0.1)
    # Measured per image, the same noise would count as a large "artefact": 9 bins x 0.01 / 784.
    per_image = sum(
        spectra.neighbourhood_sum(p, spectra.lattice_bins(28, 28, 2))
        for p in spectra.power_spectrum(noisy - x, centered=False)[:50] / 784**2
    )
    assert per_image / 50 > 50 * abs(spectra.periodic_energy(noisy, x, 2))


def test_a_checkerboard_times_the_image_is_caught_by_the_neighbourhood():
    x = _images()
    a = 0.05
    y = x * (1 + a * CHECKER)  # the artefact's strength follows the image
    expected = a**2 * np.mean(x.mean(axis=0) ** 2)  # the pattern that survives the mean
    exact = spectra.periodic_energy(y, x, 2, radius=0)
    near = spectra.periodic_energy(y, x, 2, radius=1)
    # The exact Nyquist bins hold only the copy of the mean brightness; the rest of the pattern
    # lies next to them, where the neighbourhood finds it.
    assert exact == pytest.approx(a**2 * x.mean() ** 2, rel=0.01)
    assert exact < 0.7 * expected
    assert near == pytest.approx(expected, rel=0.1)


def test_blur_is_not_an_artefact_and_is_not_rewarded():
    x = _images()
    blurred = spectra.binomial_blur(x, times=3)
    assert spectra.periodic_energy(blurred, x, 2) < 1e-3 * np.mean((blurred - x) ** 2)
    # A blurred output with a checkerboard measures the checkerboard: less power elsewhere does
    # not shrink it (the old share-of-total-power measure grew as the image got blurrier).
    for times in (0, 3):
        y = spectra.binomial_blur(x, times) + 0.01 * CHECKER
        assert spectra.periodic_amplitude(y, x, 2) == pytest.approx(0.01, rel=0.05)


def test_binomial_blur():
    x = np.random.default_rng(0).random((2, 8, 6))
    assert spectra.binomial_blur(x, 0) == pytest.approx(x)
    b = spectra.binomial_blur(x[..., None], 1)
    assert b.shape == (2, 8, 6, 1)
    np.testing.assert_allclose(spectra.binomial_blur(np.full((1, 5, 5), 0.3), 2), 0.3)
    # [1, 2, 1] / 4 cancels the checkerboard exactly away from the edges.
    assert np.abs(spectra.binomial_blur(CHECKER[None], 1)[0, 1:-1, 1:-1]).max() < 1e-12
    with pytest.raises(ValueError, match="times must be a non-negative int"):
        spectra.binomial_blur(x, -1)


def test_bad_arguments_are_named():
    x = np.zeros((3, 28, 28))
    with pytest.raises(ValueError, match="outputs and targets must have the same shape"):
        spectra.periodic_energy(x, np.zeros((3, 28, 20)))
    with pytest.raises(ValueError, match="needs at least 2 images, got 1"):
        spectra.periodic_energy(x[:1], x[:1])
    with pytest.raises(ValueError, match="outputs must have shape"):
        spectra.periodic_energy(np.zeros(28), x)
    with pytest.raises(ValueError, match="radius must be a non-negative int"):
        spectra.periodic_energy(x, x, radius=-1)
    with pytest.raises(ValueError, match="must be divisible by period 4"):
        spectra.periodic_energy(np.zeros((3, 30, 30)), np.zeros((3, 30, 30)), 4)


def test_power_spectrum_parseval_and_centring():
    rng = np.random.default_rng(0)
    x = rng.random((3, 16, 12, 2))
    p = spectra.power_spectrum(x, centered=False)
    assert p.shape == (3, 16, 12)
    np.testing.assert_allclose(p.sum(axis=(1, 2)), 16 * 12 * (x**2).sum(axis=(1, 2, 3)))
    centred = spectra.power_spectrum(x)
    np.testing.assert_allclose(centred[:, 8, 6], p[:, 0, 0])
    assert np.allclose(spectra.power_spectrum(x, subtract_mean=True, centered=False)[:, 0, 0], 0)


def test_azimuthal_average():
    freqs, prof = spectra.azimuthal_average(np.ones((28, 28)))
    np.testing.assert_allclose(prof, 1.0)
    assert (
        freqs[0] == 0 and freqs[1] == pytest.approx(1 / 28) and freqs[-1] <= np.sqrt(2) / 2 + 1 / 28
    )
    r = spectra.radial_frequency(28, 28)
    freqs, prof = spectra.azimuthal_average(r[None].repeat(2, axis=0))
    assert prof.shape == (2, len(freqs))
    np.testing.assert_allclose(prof[0], freqs, atol=0.5 / 28)
    rng = np.random.default_rng(0)
    noise = rng.random((8, 28, 28))
    blobs = np.stack([np.exp(-((ROW - c) ** 2 + (COL - c) ** 2) / 20.0) for c in range(10, 18)])
    _, p_noise = spectra.azimuthal_spectrum(noise)
    _, p_blob = spectra.azimuthal_spectrum(blobs)
    assert p_blob[14] / p_blob[1] < 1e-3 < p_noise[14] / p_noise[1]
    with pytest.raises(ValueError, match="spectra must have shape"):
        spectra.azimuthal_average(np.ones(5))
