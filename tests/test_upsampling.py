"""Upsampling layers and autoencoders (aelib.upsampling) and image spectra (aelib.spectra)."""

import numpy as np
import pytest

keras = pytest.importorskip("keras")
from aelib import spectra, upsampling  # noqa: E402

METHODS = upsampling.METHODS
to_np = keras.ops.convert_to_numpy


@pytest.mark.parametrize(
    "method,shape",
    [(m, (28, 28, 1)) for m in METHODS] + [("unpool", (32, 32, 3)), ("subpixel", (32, 32, 3))],
)
def test_shapes_and_halves(method, shape):
    m = upsampling.upsampling_autoencoder(method, shape, code_size=5, filters=(4, 8))
    x = np.random.default_rng(0).random((3, *shape), dtype=np.float32)
    y = to_np(m(x))
    assert y.shape == (3, *shape) and y.min() >= 0 and y.max() <= 1
    enc, dec = m.get_layer("encoder"), m.get_layer("decoder")
    z = enc(x)
    if method == "unpool":
        code, *switches = z
        h, w = shape[:2]
        assert [tuple(s.shape) for s in switches] == [
            (3, h // 2, w // 2, 4),
            (3, h // 4, w // 4, 8),
        ]
    else:
        code = z
    assert code.shape == (3, 5)
    np.testing.assert_allclose(to_np(dec(z)), y, atol=1e-6)


def _expected_params(method, c_in, c_out):
    weights = 16 if method in ("transpose_k4", "subpixel") else 9
    biases = 4 * c_out if method == "subpixel" else c_out
    return weights * c_in * c_out + biases


@pytest.mark.parametrize("method", METHODS)
def test_parameter_counts(method):
    m = upsampling.upsampling_autoencoder(method, (28, 28, 1), code_size=5, filters=(4, 8))
    enc = (9 * 1 * 4 + 4) + (9 * 4 * 8 + 8) + (7 * 7 * 8 * 5 + 5)
    dec = (
        (5 * 7 * 7 * 8 + 7 * 7 * 8)
        + _expected_params(method, 8, 4)
        + _expected_params(method, 4, 1)
    )
    assert m.get_layer("encoder").count_params() == enc
    assert m.get_layer("decoder").count_params() == dec
    # Every method lies within 10% of the cheapest: the comparison is between comparable models.
    cheapest = (
        enc
        + (5 * 7 * 7 * 8 + 7 * 7 * 8)
        + _expected_params("nearest", 8, 4)
        + _expected_params("nearest", 4, 1)
    )
    assert cheapest <= m.count_params() <= 1.1 * cheapest


def test_switch_bits():
    m = upsampling.upsampling_autoencoder("unpool", (28, 28, 1), code_size=5, filters=(4, 8))
    assert upsampling.switch_bits(m) == 2 * (14 * 14 * 4 + 7 * 7 * 8)
    assert upsampling.switch_bits(upsampling.upsampling_autoencoder("nearest", filters=(4, 8))) == 0


def test_pooling_switches_and_unpooling():
    x = np.array([[1, 5, 0, 0], [2, 3, 0, 7], [0, 0, 4, 4], [9, 0, 4, 4]], np.float32).reshape(
        1, 4, 4, 1
    )
    pooled, switches = upsampling.MaxPoolingWithArgmax2D()(x)
    np.testing.assert_array_equal(to_np(pooled)[0, :, :, 0], [[5, 7], [9, 4]])
    np.testing.assert_array_equal(to_np(pooled), to_np(keras.layers.MaxPooling2D(2)(x)))
    # Row-major position of each maximum in its window; the tie (all 4s) goes to the first.
    np.testing.assert_array_equal(to_np(switches)[0, :, :, 0], [[1, 3], [2, 0]])
    assert to_np(switches).dtype == np.int32
    up = to_np(upsampling.MaxUnpooling2D()([pooled, switches]))[0, :, :, 0]
    np.testing.assert_array_equal(up, [[0, 5, 0, 0], [0, 0, 0, 7], [0, 0, 4, 0], [9, 0, 0, 0]])
    # Multi-channel round trip: unpooling puts every maximum back where it was, zeros elsewhere.
    rng = np.random.default_rng(1)
    x = rng.random((2, 6, 8, 3)).astype(np.float32)
    pooled, switches = upsampling.MaxPoolingWithArgmax2D()(x)
    back = to_np(upsampling.MaxUnpooling2D()([pooled, switches]))
    assert np.all((back == x) | (back == 0)) and np.count_nonzero(back) == np.prod(pooled.shape)
    with pytest.raises(ValueError, match="switches must have the shape of x"):
        upsampling.MaxUnpooling2D()([pooled, switches[:, :1]])


def test_depth_to_space_layout():
    tf = pytest.importorskip("tensorflow")
    x = np.arange(2 * 3 * 3 * 8, dtype=np.float32).reshape(2, 3, 3, 8)
    out = to_np(upsampling.DepthToSpace(2)(x))
    np.testing.assert_array_equal(out, tf.nn.depth_to_space(x, 2).numpy())
    assert out.shape == (2, 6, 6, 2)
    with pytest.raises(ValueError, match="block_size must be an int >= 2, got 1"):
        upsampling.DepthToSpace(1)


@pytest.mark.parametrize("method", ["unpool", "subpixel"])
def test_save_load_safe_mode(method, tmp_path):
    keras.utils.set_random_seed(0)
    x = np.random.default_rng(0).random((32, 28, 28, 1)).astype(np.float32)
    m = upsampling.upsampling_autoencoder(method, code_size=4, filters=(4, 8))
    m.compile(optimizer="adam", loss="mse")
    before = m.evaluate(x, x, verbose=0)
    m.fit(x, x, epochs=2, batch_size=8, verbose=0)
    assert m.evaluate(x, x, verbose=0) < before
    path = tmp_path / f"{method}.keras"
    m.save(path)
    again = keras.models.load_model(path, safe_mode=True)
    np.testing.assert_allclose(
        again.predict(x[:4], verbose=0), m.predict(x[:4], verbose=0), atol=1e-6
    )


def _interior(a, margin=6):
    return a[margin:-margin, margin:-margin]


def test_unit_weights_checkerboard_only_with_uneven_overlap():
    one_step = upsampling.unit_weight_response("transpose_k3", size=8, steps=1)
    inner = _interior(one_step)
    # Kernel 3, stride 2: each output row gets 1 or 2 kernel taps in turn, so 1, 2, 4 in 2-D.
    np.testing.assert_array_equal(inner[:2, :2], [[4, 2], [2, 1]])
    np.testing.assert_array_equal(
        inner, np.tile(inner[:2, :2], (inner.shape[0] // 2, inner.shape[1] // 2))
    )
    for method in ("nearest", "bilinear", "transpose_k4", "subpixel"):
        flat = _interior(upsampling.unit_weight_response(method))
        assert np.ptp(flat) == 0, method
        assert spectra.stride_energy(flat[None]) == pytest.approx(0.0, abs=1e-12)
    checker = _interior(upsampling.unit_weight_response("transpose_k3"))
    assert spectra.stride_energy(checker[None])[0] > 0.01
    assert upsampling.unit_weight_response("nearest").shape == (28, 28)


def test_bad_arguments_are_named():
    with pytest.raises(ValueError, match=r"method must be one of .* got 'cubic'"):
        upsampling.upsampling_autoencoder("cubic")
    with pytest.raises(ValueError, match="method 'unpool' needs switches"):
        upsampling.upsample(keras.Input((7, 7, 4)), "unpool", 2, name="up")
    with pytest.raises(ValueError, match="method 'nearest' takes no switches"):
        upsampling.upsample(
            keras.Input((7, 7, 4)), "nearest", 2, name="up", switches=keras.Input((7, 7, 4))
        )
    with pytest.raises(ValueError, match=r"divisible by 4"):
        upsampling.upsampling_autoencoder("nearest", (30, 30, 1))
    with pytest.raises(ValueError, match="code_size must be a positive int"):
        upsampling.upsampling_autoencoder("nearest", code_size=0)
    with pytest.raises(ValueError, match="need size >= 3"):
        upsampling.unit_weight_response("nearest", size=1)


def test_stride_energy_checkerboard_vs_smooth():
    i, j = np.mgrid[:28, :28]
    checker = (-1.0) ** (i + j)
    assert spectra.stride_energy(checker[None])[0] == pytest.approx(1.0)
    stripes = 0.5 + 0.5 * (-1.0) ** i  # half the power at DC, half at (14, 0)
    assert spectra.stride_energy(stripes[None])[0] == pytest.approx(0.5)
    smooth = np.exp(-((i - 13.5) ** 2 + (j - 13.5) ** 2) / (2 * 4.0**2))
    assert spectra.stride_energy(smooth[None])[0] < 1e-6
    # A smooth image modulated by a faint checkerboard carries measurably more stride energy.
    faint = smooth * (1 + 0.1 * checker)
    e = spectra.stride_energy(np.stack([smooth, faint])[..., None])
    assert e.shape == (2,) and e[1] > 1e-3 > e[0]
    assert spectra.stride_energy(np.zeros((1, 4, 4)))[0] == 0
    assert spectra.stride_bins(28, 28) == [(0, 14), (14, 0), (14, 14)]
    assert len(spectra.stride_bins(12, 12, stride=3)) == 8
    with pytest.raises(ValueError, match=r"image size \(27, 28\) must be divisible by stride 2"):
        spectra.stride_energy(np.zeros((1, 27, 28)))
    with pytest.raises(ValueError, match="images must have shape"):
        spectra.stride_energy(np.zeros(28))


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
    # A spectrum equal to the radius gives back the ring centres (up to rounding to rings).
    r = spectra.radial_frequency(28, 28)
    freqs, prof = spectra.azimuthal_average(r[None].repeat(2, axis=0))
    assert prof.shape == (2, len(freqs))
    np.testing.assert_allclose(prof[0], freqs, atol=0.5 / 28)
    # Smooth images put relatively less power at high radial frequencies than noise does.
    rng = np.random.default_rng(0)
    noise = rng.random((8, 28, 28))
    i, j = np.mgrid[:28, :28]
    blobs = np.stack([np.exp(-((i - c) ** 2 + (j - c) ** 2) / 20.0) for c in range(10, 18)])
    _, p_noise = spectra.azimuthal_spectrum(noise)
    _, p_blob = spectra.azimuthal_spectrum(blobs)
    assert p_blob[14] / p_blob[1] < 1e-3 < p_noise[14] / p_noise[1]
    with pytest.raises(ValueError, match="spectra must have shape"):
        spectra.azimuthal_average(np.ones(5))
