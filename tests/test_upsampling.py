"""Upsampling layers and autoencoders (aelib.upsampling), and notebook 03's written-out version.

The artefact measure (aelib.spectra) is tested in test_spectra.py.
"""

import json
from pathlib import Path

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
    # Two kernel-3 steps draw both periods: 2 from the last step, 4 from the first. As a
    # residual from a flat image, the interior's relative pattern measures about 0.48 and 0.24.
    rel = _interior(upsampling.unit_weight_response("transpose_k3"))
    rel = np.stack([rel, rel]) / rel.mean()
    flat = np.ones_like(rel)
    assert spectra.periodic_amplitude(rel, flat, 2) > 0.4
    assert spectra.periodic_amplitude(rel, flat, 4) > 0.2
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
    with pytest.raises(ValueError, match="size must be an int >= 3"):
        upsampling.unit_weight_response("nearest", size=1)


NOTEBOOK = (
    Path(__file__).resolve().parents[1] / "notebooks" / "03_upsampling_vs_transposed_conv.ipynb"
)


def _notebook_upsample_step():
    """The ``upsample_step`` function as notebook 03 writes it out, executed here."""
    cells = json.loads(NOTEBOOK.read_text())["cells"]
    sources = ["".join(c["source"]) for c in cells if c["cell_type"] == "code"]
    (source,) = [s for s in sources if s.lstrip().startswith("def upsample_step(")]
    namespace = {"keras": keras, "upsampling": upsampling}
    exec(compile(source, str(NOTEBOOK), "exec"), namespace)
    return namespace["upsample_step"]


@pytest.mark.parametrize("method", [m for m in METHODS if m != "unpool"])
def test_notebook_upsample_step_agrees_with_package(method):
    upsample_step = _notebook_upsample_step()
    inp = keras.Input((7, 7, 6))
    ours = keras.Model(inp, upsample_step(inp, method, 4))
    package = keras.Model(inp, upsampling.upsample(inp, method, 4, name="step"))
    assert [tuple(w.shape) for w in ours.weights] == [tuple(w.shape) for w in package.weights]
    rng = np.random.default_rng(0)
    package.set_weights([rng.normal(size=w.shape).astype("float32") for w in package.weights])
    ours.set_weights(package.get_weights())
    x = rng.random((2, 7, 7, 6)).astype("float32")
    np.testing.assert_allclose(to_np(ours(x)), to_np(package(x)), atol=1e-5)
    assert [type(layer).__name__ for layer in ours.layers] == [
        type(layer).__name__ for layer in package.layers
    ]
    with pytest.raises(ValueError, match="max-unpooling also needs the switches"):
        upsample_step(inp, "unpool", 4)


def test_thumbnail_baseline():
    rng = np.random.default_rng(0)
    x = rng.random((3, 28, 28, 1)).astype("float32")
    y = upsampling.thumbnail_baseline(x, 6)
    assert y.shape == x.shape and y.dtype == np.float32 and 0 <= y.min() and y.max() <= 1
    const = np.full((2, 28, 28, 2), 0.3, "float32")
    np.testing.assert_allclose(upsampling.thumbnail_baseline(const, 6), 0.3, atol=1e-5)
    # A full-size "thumbnail" gives the image back; a smaller one loses detail.
    np.testing.assert_allclose(upsampling.thumbnail_baseline(x, 28), x, atol=1e-5)
    err = [np.mean((upsampling.thumbnail_baseline(x, s) - x) ** 2) for s in (4, 14)]
    assert err[0] > err[1] > 0
    with pytest.raises(ValueError, match=r"size must be an int in \[1, 28\], got 0"):
        upsampling.thumbnail_baseline(x, 0)
    with pytest.raises(ValueError, match="images must be"):
        upsampling.thumbnail_baseline(x[..., 0], 6)
