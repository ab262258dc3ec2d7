import numpy as np
import pytest

keras = pytest.importorskip("keras")
from aelib import models  # noqa: E402


@pytest.mark.parametrize(
    "builder", [models.dense_autoencoder, models.linear_autoencoder, models.conv_autoencoder]
)
@pytest.mark.parametrize("shape", [(28, 28, 1), (32, 32, 3)])
def test_shapes_and_halves(builder, shape):
    m = builder(shape, code_size=5)
    x = np.random.default_rng(0).random((3, *shape), dtype=np.float32)
    assert m(x).shape == (3, *shape)
    z = models.encoder_of(m)(x)
    assert z.shape == (3, 5)
    assert models.decoder_of(m)(z).shape == (3, *shape)


def test_parameter_counts():
    # 784*5+5 (encoder) + 5*784+784 (decoder)
    assert models.linear_autoencoder((28, 28, 1), 5).count_params() == 784 * 5 + 5 + 5 * 784 + 784
    dense = models.dense_autoencoder((28, 28, 1), 2, hidden=(10,))
    assert dense.count_params() == (784 * 10 + 10) + (10 * 2 + 2) + (2 * 10 + 10) + (10 * 784 + 784)
    conv = models.conv_autoencoder((28, 28, 1), 4, filters=(8, 16))
    enc = (9 * 1 * 8 + 8) + (9 * 8 * 16 + 16) + (7 * 7 * 16 * 4 + 4)
    dec = (4 * 7 * 7 * 16 + 7 * 7 * 16) + (9 * 16 * 8 + 8) + (9 * 8 * 1 + 1)
    assert conv.count_params() == enc + dec


@pytest.mark.parametrize(
    "down,up", [("pool", "nearest"), ("stride", "bilinear"), ("stride", "transpose")]
)
def test_conv_variants_output_range(down, up):
    m = models.conv_autoencoder((28, 28, 1), 3, filters=(4, 8), downsampling=down, upsampling=up)
    y = np.asarray(m(np.ones((2, 28, 28, 1), np.float32)))
    assert y.shape == (2, 28, 28, 1) and y.min() >= 0 and y.max() <= 1


def test_bad_arguments_are_named():
    with pytest.raises(ValueError, match="code_size must be a positive int, got 0"):
        models.dense_autoencoder(code_size=0)
    with pytest.raises(ValueError, match="input_shape must be"):
        models.dense_autoencoder((28, 28), 4)
    with pytest.raises(ValueError, match=r"divisible by 4"):
        models.conv_autoencoder((30, 30, 1), 4)
    with pytest.raises(ValueError, match="upsampling must be one of"):
        models.conv_autoencoder(upsampling="cubic")
    with pytest.raises(ValueError, match="output_activation"):
        models.dense_autoencoder(output_activation="softmax")


def test_training_lowers_loss_and_save_load_roundtrip(tmp_path):
    keras.utils.set_random_seed(0)
    x = np.random.default_rng(0).random((64, 28, 28, 1)).astype(np.float32)
    m = models.conv_autoencoder((28, 28, 1), 4, filters=(4, 8))
    m.compile(optimizer="adam", loss="mse")
    before = m.evaluate(x, x, verbose=0)
    m.fit(x, x, epochs=3, batch_size=16, verbose=0)
    assert m.evaluate(x, x, verbose=0) < before
    path = tmp_path / "ae.keras"
    m.save(path)
    again = keras.models.load_model(path, safe_mode=True)
    np.testing.assert_allclose(
        again.predict(x[:4], verbose=0), m.predict(x[:4], verbose=0), atol=1e-6
    )
    assert models.encoder_of(again).output.shape[-1] == 4


def test_predict_matches_keras_predict_in_batches_and_for_several_inputs_and_outputs():
    m = models.conv_autoencoder((28, 28, 1), code_size=4, filters=(8, 16))
    x = np.random.default_rng(0).random((11, 28, 28, 1), dtype=np.float32)
    expected = m.predict(x, verbose=0)
    for batch_size in (1, 4, 11, 500):  # slices of every size, the last one short
        out = models.predict(m, x, batch_size)
        assert isinstance(out, np.ndarray) and out.shape == (11, 28, 28, 1)
        np.testing.assert_allclose(out, expected, atol=1e-5)
    a, b = keras.Input((3,)), keras.Input((2,))
    joined = keras.layers.Concatenate()([a, b])
    two = keras.Model([a, b], [keras.layers.Dense(1)(joined), joined])
    xa, xb = np.arange(15.0, dtype=np.float32).reshape(5, 3), np.ones((5, 2), np.float32)
    first, second = models.predict(two, [xa, xb], batch_size=2)
    np.testing.assert_allclose(second, np.concatenate([xa, xb], axis=1))
    np.testing.assert_allclose(first, two.predict([xa, xb], verbose=0)[0], atol=1e-5)
    with pytest.raises(ValueError, match="different numbers of samples"):
        models.predict(two, [xa, xb[:4]])
    with pytest.raises(ValueError, match="x holds no samples"):
        models.predict(m, x[:0])
    with pytest.raises(ValueError, match="x is an empty list"):
        models.predict(m, [])
    with pytest.raises(ValueError, match="batch_size"):
        models.predict(m, x, batch_size=0)
