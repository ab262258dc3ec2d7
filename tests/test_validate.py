"""One rule for integral arguments everywhere: any integer type in, floats, bools and strings out."""

import numpy as np
import pytest

from aelib import _validate, data, models, pca_compare, plots, spectra, training, upsampling


@pytest.mark.parametrize("value", [3, np.int64(3), np.uint8(3), np.int32(3)])
def test_integers_of_any_integer_type_are_accepted(value):
    got = _validate.integer(value, "n", "f", minimum=1)
    assert got == 3 and type(got) is int


@pytest.mark.parametrize("value", [28.7, 28.0, np.float32(3.0), True, np.bool_(True), "3", None])
def test_everything_else_is_refused_with_the_arguments_name(value):
    with pytest.raises(ValueError, match=r"f\(\): n must be a positive int, got"):
        _validate.integer(value, "n", "f", minimum=1)


def test_bounds_and_sequences():
    with pytest.raises(ValueError, match=r"k must be an int in \[1, 5\], got 6"):
        _validate.integer(6, "k", "f", minimum=1, maximum=5)
    assert _validate.integers((np.int64(32), 64), "filters", "f") == (32, 64)
    with pytest.raises(ValueError, match=r"filters\[1\] must be a positive int, got 64.5"):
        _validate.integers((32, 64.5), "filters", "f")
    with pytest.raises(ValueError, match="filters must be a sequence"):
        _validate.integers("32", "filters", "f")
    with pytest.raises(ValueError, match="at least one"):
        _validate.integers((), "filters", "f")
    assert _validate.shape(np.array([28, 28, 1]), "f") == (28, 28, 1)
    with pytest.raises(ValueError, match=r"input_shape must be \(height, width, channels\)"):
        _validate.shape((28, 28), "f")
    with pytest.raises(ValueError, match="output_activation must be one of"):
        _validate.choice("relu", "output_activation", "f", ("sigmoid", "linear"))


def test_output_path(tmp_path):
    target = _validate.output_path(tmp_path / "a" / "b.json", "f")
    assert target.parent.is_dir()
    (tmp_path / "file").write_text("x")
    with pytest.raises(NotADirectoryError, match="is not a folder"):
        _validate.output_path(tmp_path / "file" / "b.json", "f")
    with pytest.raises(ValueError, match="is a folder"):
        _validate.output_path(tmp_path, "f")


@pytest.mark.parametrize(
    "build",
    [
        lambda: models.dense_autoencoder(input_shape=(28.7, 28, 1)),
        lambda: models.dense_autoencoder(input_shape=(28.0, 28, 1)),
        lambda: models.dense_autoencoder(code_size=32.0),
        lambda: models.dense_autoencoder(hidden=(512.5,)),
        lambda: models.conv_autoencoder(filters=(32, 64.9)),
        lambda: models.conv_autoencoder(code_size=True),
        lambda: models.conv_autoencoder(kernel_size=3.0),
        lambda: upsampling.upsampling_autoencoder("nearest", filters=(16.5, 32)),
        lambda: upsampling.DepthToSpace(2.0),
        lambda: spectra.binomial_blur(np.zeros((1, 4, 4)), times=1.0),
        lambda: spectra.lattice_bins(8, 8, period=2.0),
        lambda: pca_compare.split_validation(np.zeros((10, 2)), np.zeros(10), n_val=2.0),
        lambda: data.subset(np.zeros((10, 2)), np.zeros(10), 5.0),
        lambda: data.gaussian_noise(np.zeros((1, 4, 4, 1), np.float32), 0.1, seed=1.0),
        lambda: training._positive_int("epochs", 2.0),
        lambda: plots.image_grid(np.zeros((3, 4, 4, 1)), ncols=2.5),
        lambda: plots.compare_rows({"a": np.zeros((3, 4, 4, 1))}, n=2.0),
    ],
)
def test_floats_are_never_truncated_silently(build):
    with pytest.raises(ValueError, match="must be"):
        build()


def test_numpy_integers_build_the_same_model():
    a = models.conv_autoencoder(
        input_shape=(np.int64(28), 28, np.int32(1)),
        code_size=np.int64(8),
        filters=(np.int64(8), 16),
    )
    b = models.conv_autoencoder(input_shape=(28, 28, 1), code_size=8, filters=(8, 16))
    assert a.count_params() == b.count_params()


def test_spectra_never_turn_nan_into_a_number():
    x = np.random.default_rng(0).random((4, 8, 8))
    bad = x.copy()
    bad[1, 2, 3] = np.nan
    for fn in (
        lambda: spectra.periodic_energy(bad, x),
        lambda: spectra.periodic_amplitude(bad, x),
        lambda: spectra.power_spectrum(bad),
        lambda: spectra.azimuthal_spectrum(bad),
        lambda: spectra.binomial_blur(bad),
    ):
        with pytest.raises(ValueError, match="NaN or infinite"):
            fn()
    bad[1, 2, 3] = np.inf
    with pytest.raises(ValueError, match=r"first at index \(1, 2, 3, 0\)"):
        spectra.periodic_energy(x, bad)
