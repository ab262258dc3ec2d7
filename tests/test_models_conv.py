"""The convolutional autoencoder as notebook 02 builds it, and the model-inspection helpers."""

import numpy as np
import pytest

keras = pytest.importorskip("keras")
from aelib import models  # noqa: E402


def _pool_nearest(shape, code_size, filters=(16, 32)):
    return models.conv_autoencoder(
        shape, code_size, filters=filters, downsampling="pool", upsampling="nearest"
    )


def test_layer_table_traces_shapes_through_both_halves():
    rows = models.layer_table(_pool_nearest((28, 28, 1), 32))
    got = [(r["model"], r["layer"], r["output_shape"]) for r in rows]
    assert got == [
        ("encoder", "image", (28, 28, 1)),
        ("encoder", "enc_conv_0", (28, 28, 16)),
        ("encoder", "enc_pool_0", (14, 14, 16)),
        ("encoder", "enc_conv_1", (14, 14, 32)),
        ("encoder", "enc_pool_1", (7, 7, 32)),
        ("encoder", "flatten", (1568,)),
        ("encoder", "code", (32,)),
        ("decoder", "code_in", (32,)),
        ("decoder", "dec_dense", (1568,)),
        ("decoder", "to_feature_map", (7, 7, 32)),
        ("decoder", "dec_up_0", (14, 14, 32)),
        ("decoder", "dec_conv_0", (14, 14, 16)),
        ("decoder", "dec_up_1", (28, 28, 16)),
        ("decoder", "pixels", (28, 28, 1)),
    ]


@pytest.mark.parametrize("shape,code", [((28, 28, 1), 32), ((32, 32, 3), 128)])
def test_parameter_counts_pool_nearest(shape, code):
    h, w, c = shape
    m = _pool_nearest(shape, code)
    flat = (h // 4) * (w // 4) * 32
    enc = (9 * c * 16 + 16) + (9 * 16 * 32 + 32) + (flat * code + code)
    dec = (code * flat + flat) + (9 * 32 * 16 + 16) + (9 * 16 * c + c)
    assert m.count_params() == enc + dec
    assert sum(r["params"] for r in models.layer_table(m)) == enc + dec
    assert models.encoder_of(m).count_params() == enc
    text = models.describe_layers(m)
    assert text.splitlines()[-1].split()[-1] == f"{enc + dec:,}"
    assert len(text.splitlines()) == len(models.layer_table(m)) + 2


def test_one_builder_serves_grey_and_colour():
    rng = np.random.default_rng(0)
    for shape in [(28, 28, 1), (32, 32, 3)]:
        m = _pool_nearest(shape, 8, filters=(4, 8))
        x = rng.random((2, *shape), dtype=np.float32)
        y = np.asarray(m(x))
        assert y.shape == (2, *shape) and 0 <= y.min() and y.max() <= 1
        assert models.encoder_of(m)(x).shape == (2, 8)


def test_receptive_fields_of_pool_and_stride_encoders():
    pool = models.receptive_fields(models.encoder_of(_pool_nearest((28, 28, 1), 4)))
    assert [r["layer"] for r in pool] == [
        "image",
        "enc_conv_0",
        "enc_pool_0",
        "enc_conv_1",
        "enc_pool_1",
    ]
    assert [r["rf"][0] for r in pool] == [1, 3, 4, 8, 10]
    assert [r["jump"][0] for r in pool] == [1, 1, 2, 2, 4]
    stride = models.receptive_fields(models.conv_autoencoder((28, 28, 1), 4, filters=(4, 8)))
    assert [r["rf"] for r in stride] == [(1, 1), (3, 3), (7, 7)]
    assert stride[-1]["jump"] == (4, 4)


def test_receptive_field_counts_dilation_and_skips_activations():
    inp = keras.Input((32, 32, 1))
    h = keras.layers.Conv2D(2, 3, dilation_rate=2, padding="same", name="dil")(inp)
    h = keras.layers.ReLU(name="act")(h)
    h = keras.layers.AveragePooling2D(2, name="avg")(h)
    h = keras.layers.Conv2D(2, (3, 1), padding="same", name="tall")(h)
    h = keras.layers.Flatten(name="flat")(h)
    rows = models.receptive_fields(keras.Model(inp, keras.layers.Dense(2)(h)))
    assert [r["layer"] for r in rows][1:] == ["dil", "act", "avg", "tall"]
    assert rows[1]["rf"] == (5, 5) and rows[2]["rf"] == (5, 5)
    assert rows[3]["rf"] == (6, 6) and rows[4]["rf"] == (10, 6)


def test_receptive_field_matches_measured_support():
    # Every kernel set to ones and biases to zero: a unit responds to exactly the pixels in its field.
    enc = models.encoder_of(_pool_nearest((28, 28, 1), 4, filters=(2, 2)))
    probe = keras.Model(enc.input, enc.get_layer("enc_pool_1").output)
    for w in probe.weights:
        w.assign(
            np.ones(w.shape, np.float32) if "kernel" in w.path else np.zeros(w.shape, np.float32)
        )
    impulses = np.eye(28 * 28, dtype=np.float32).reshape(-1, 28, 28, 1)
    response = np.asarray(probe.predict(impulses, verbose=0, batch_size=256))[:, 3, 3, 0]
    rows, cols = np.nonzero(response.reshape(28, 28) > 0)
    size = (rows.max() - rows.min() + 1, cols.max() - cols.min() + 1)
    assert size == models.receptive_fields(probe)[-1]["rf"] == (10, 10)


def test_inspection_errors_are_named():
    with pytest.raises(TypeError, match=r"layer_table\(\): model must be a keras.Model, got str"):
        models.layer_table("encoder")
    inp = keras.Input((4,))
    dense_only = keras.Model(inp, keras.layers.Dense(2)(inp), name="mlp")
    with pytest.raises(ValueError, match="'mlp' does not start with a convolution"):
        models.receptive_fields(dense_only)


def test_save_load_safe_mode_roundtrip(tmp_path):
    keras.utils.set_random_seed(0)
    x = np.random.default_rng(1).random((16, 32, 32, 3)).astype(np.float32)
    m = _pool_nearest((32, 32, 3), 6, filters=(4, 8))
    m.compile(optimizer="adam", loss="binary_crossentropy")
    m.fit(x, x, epochs=1, batch_size=8, verbose=0)
    path = tmp_path / "conv.keras"
    m.save(path)
    again = keras.models.load_model(path, safe_mode=True)
    np.testing.assert_allclose(
        again.predict(x[:4], verbose=0), m.predict(x[:4], verbose=0), atol=1e-6
    )
    assert [r["output_shape"] for r in models.layer_table(again)] == [
        r["output_shape"] for r in models.layer_table(m)
    ]
