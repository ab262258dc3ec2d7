"""aelib.regularized: the sparse and contractive penalties, the code layer, and the code measures."""

import math

import keras
import numpy as np
import pytest

from aelib import models
from aelib import regularized as R


def _codes(n=6, units=5, seed=0):
    return np.random.default_rng(seed).uniform(0.01, 0.99, size=(n, units)).astype("float32")


# --- the penalties against hand-computed values ---------------------------------------------------


def test_l1_penalty_is_the_mean_sum_of_absolute_activations():
    h = np.array([[0.1, -0.2, 0.3], [0.0, 0.5, -0.5]], dtype="float32")
    assert float(R.l1_penalty(h)) == pytest.approx((0.6 + 1.0) / 2)


def test_kl_penalty_by_hand():
    h = np.array([[0.1, 0.4], [0.3, 0.2]], dtype="float32")
    rho = 0.05
    q = np.array([0.2, 0.3])
    expected = np.sum(rho * np.log(rho / q) + (1 - rho) * np.log((1 - rho) / (1 - q)))
    assert float(R.kl_penalty(h, rho)) == pytest.approx(expected, rel=1e-5)


def test_kl_penalty_is_zero_at_the_target_and_finite_for_dead_units():
    assert float(R.kl_penalty(np.full((4, 3), 0.05, "float32"), 0.05)) == pytest.approx(0, abs=1e-6)
    dead = float(R.kl_penalty(np.zeros((4, 3), "float32"), 0.05))
    assert math.isfinite(dead) and dead > 0


def test_contractive_closed_form_matches_autodiff_on_a_small_layer():
    keras.utils.set_random_seed(0)
    layer = R.SigmoidCode(7)
    x = np.random.default_rng(1).random((4, 5)).astype("float32")
    h = layer(x)
    jac = R.autodiff_jacobian(layer, x)  # (4, 7, 5)
    assert jac.shape == (4, 7, 5)
    by_autodiff = np.mean(np.sum(jac**2, axis=(1, 2)))
    assert float(R.contractive_penalty(h, layer.kernel)) == pytest.approx(by_autodiff, rel=1e-4)


def test_jacobian_norm_of_an_autoencoder_matches_autodiff():
    keras.utils.set_random_seed(0)
    model = R.autoencoder((4, 4, 1), code_size=20)
    x = np.random.default_rng(2).random((3, 4, 4, 1)).astype("float32")
    jac = R.autodiff_jacobian(models.encoder_of(model), x)
    assert jac.shape == (3, 20, 16)
    np.testing.assert_allclose(
        R.jacobian_norm(model, x), np.sqrt(np.sum(jac**2, axis=(1, 2))), rtol=1e-4
    )


# --- the code layer and the model -----------------------------------------------------------------


@pytest.mark.parametrize("penalty", ["l1", "kl", "contractive"])
def test_the_code_layer_adds_its_weighted_penalty(penalty):
    keras.utils.set_random_seed(0)
    layer = R.SigmoidCode(6, penalty=penalty, weight=0.5, rho=0.1)
    x = np.random.default_rng(3).random((8, 4)).astype("float32")
    h = layer(x)
    expected = {
        "l1": lambda: R.l1_penalty(h),
        "kl": lambda: R.kl_penalty(h, 0.1),
        "contractive": lambda: R.contractive_penalty(h, layer.kernel),
    }[penalty]()
    assert len(layer.losses) == 1
    assert float(layer.losses[0]) == pytest.approx(0.5 * float(expected), rel=1e-5)


def test_no_penalty_adds_no_loss():
    layer = R.SigmoidCode(3)
    layer(np.ones((2, 4), "float32"))
    assert layer.losses == []
    assert R.SigmoidCode(3, penalty="l1", weight=0.0)(np.ones((2, 4), "float32")) is not None


def test_autoencoder_shapes_and_sub_models():
    model = R.autoencoder((4, 4, 1), code_size=24, penalty="kl", weight=0.1, noise=0.2)
    assert model.output_shape == (None, 4, 4, 1)
    assert models.encoder_of(model).output_shape == (None, 24)
    assert R.code_layer(model).penalty == "kl"
    assert model.get_layer("input_noise").stddev == pytest.approx(0.2)
    assert R.encode(model, np.zeros((2, 4, 4, 1), "float32")).shape == (2, 24)


@pytest.mark.parametrize("penalty", R.PENALTIES)
def test_save_and_load_with_safe_mode(tmp_path, penalty):
    keras.utils.set_random_seed(0)
    model = R.autoencoder((4, 4, 1), code_size=10, penalty=penalty, weight=0.3, rho=0.2, noise=0.1)
    x = np.random.default_rng(4).random((3, 4, 4, 1)).astype("float32")
    path = tmp_path / "reg.keras"
    model.save(path)
    back = keras.models.load_model(path, safe_mode=True)
    np.testing.assert_allclose(np.asarray(back(x)), np.asarray(model(x)), atol=1e-6)
    layer = R.code_layer(back)
    assert (layer.penalty, layer.weight, layer.rho) == (penalty, 0.3, 0.2)
    assert back.get_layer("input_noise").stddev == pytest.approx(0.1)


def test_training_with_the_kl_penalty_moves_the_mean_activation_to_rho():
    keras.utils.set_random_seed(0)
    x = np.random.default_rng(5).random((256, 4, 4, 1)).astype("float32")
    model = R.autoencoder((4, 4, 1), code_size=32, penalty="kl", weight=1.0, rho=0.1)
    before = R.activity(R.encode(model, x)).mean_activation
    model.compile(optimizer=keras.optimizers.Adam(0.02), loss="mse")
    model.fit(x, x, epochs=30, batch_size=64, verbose=0)
    after = R.activity(R.encode(model, x)).mean_activation
    assert before > 0.3 and abs(after - 0.1) < 0.03


# --- measures --------------------------------------------------------------------------------------


def test_activity_by_hand():
    h = np.array([[0.9, 0.1, 0.0], [0.8, 0.7, 0.2]])
    a = R.activity(h, threshold=0.5)
    assert a.mean_activation == pytest.approx(h.mean())
    np.testing.assert_allclose(a.active_per_image, [1 / 3, 2 / 3])
    np.testing.assert_allclose(a.active_per_unit, [1.0, 0.5, 0.0])
    assert a.dead_units == pytest.approx(1 / 3)


def test_sensitivity_follows_the_jacobian():
    keras.utils.set_random_seed(0)
    model = R.autoencoder((8, 8, 1), code_size=64)
    x = np.random.default_rng(6).random((64, 8, 8, 1)).astype("float32")
    gain = R.sensitivity(model, x, eps=1e-3)
    expected = R.jacobian_norm(model, x) / np.sqrt(64)
    assert np.mean(gain) == pytest.approx(np.mean(expected), rel=0.15)
    jac = R.autodiff_jacobian(model, x[:4]).reshape(4, 64, 64)
    whole = R.sensitivity(model, x[:4], eps=1e-3, of="reconstruction")
    assert np.mean(whole) == pytest.approx(np.mean(np.sqrt((jac**2).sum(axis=(1, 2))) / 8), rel=0.3)


def test_precision_at_k_excludes_the_query():
    z = np.array([[0.0], [0.1], [0.2], [10.0], [10.1], [10.2]])
    y = np.array([0, 0, 0, 1, 1, 1])
    assert R.precision_at_k(z, y, k=2) == pytest.approx(1.0)
    assert R.precision_at_k(z, y, k=3) == pytest.approx(2 / 3)
    assert R.precision_at_k(z, y, k=2, queries=3, seed=1) == pytest.approx(1.0)


def test_linear_probe_chooses_c_on_validation_and_scores_the_test_set():
    rng = np.random.default_rng(7)

    def pair(n):
        y = rng.integers(0, 2, n)
        return rng.normal(size=(n, 3)) + 3.0 * y[:, None], y

    acc, c = R.linear_probe(pair(40), pair(40), pair(40), cs=(0.1, 1.0))
    assert acc > 0.9 and c in (0.1, 1.0)


# --- bad input -------------------------------------------------------------------------------------


@pytest.mark.parametrize("rho", [0, 1, -0.1, float("nan"), "0.05", None, True])
def test_bad_rho(rho):
    with pytest.raises(ValueError, match="rho must be a finite number in"):
        R.kl_penalty(np.ones((2, 2), "float32") * 0.5, rho)
    with pytest.raises(ValueError, match="SigmoidCode\\(\\): rho"):
        R.SigmoidCode(3, penalty="kl", weight=1.0, rho=rho)


@pytest.mark.parametrize("weight", [-1.0, float("inf"), "1", None])
def test_bad_weight(weight):
    with pytest.raises(ValueError, match="autoencoder\\(\\): weight must be"):
        R.autoencoder((4, 4, 1), 8, penalty="l1", weight=weight)


def test_bad_arguments_name_themselves():
    with pytest.raises(ValueError, match="penalty must be one of"):
        R.autoencoder((4, 4, 1), 8, penalty="sparse")
    with pytest.raises(ValueError, match="noise must be"):
        R.autoencoder((4, 4, 1), 8, noise=-0.1)
    with pytest.raises(ValueError, match="code_size must be a positive int"):
        R.autoencoder((4, 4, 1), 0)
    with pytest.raises(ValueError, match="input_shape"):
        R.autoencoder((4, 4), 8)
    with pytest.raises(ValueError, match="units must be a positive int"):
        R.SigmoidCode(True)


def test_code_layer_refuses_other_models():
    with pytest.raises(ValueError, match="not a SigmoidCode"):
        R.code_layer(models.dense_autoencoder((4, 4, 1), 3, hidden=()))
    with pytest.raises(TypeError, match="must be a keras.Model"):
        R.code_layer("model")


def test_bad_codes_for_the_measures():
    with pytest.raises(ValueError, match=r"activity\(\): h must hold sigmoid activations"):
        R.activity(np.array([[0.5, 1.5]]))
    with pytest.raises(ValueError, match="shape \\(n_images, n_units\\)"):
        R.activity(np.ones(4))
    with pytest.raises(ValueError, match="NaN"):
        R.activity(np.array([[np.nan, 0.1]]))
    with pytest.raises(ValueError, match="threshold must be"):
        R.activity(_codes(), threshold=1.0)
    with pytest.raises(ValueError, match="k must be an int in"):
        R.precision_at_k(np.zeros((5, 2)), np.zeros(5), k=5)
    with pytest.raises(ValueError, match="5 rows but y has 4"):
        R.precision_at_k(np.zeros((5, 2)), np.zeros(4))
    with pytest.raises(ValueError, match="eps must be"):
        R.sensitivity(R.autoencoder((4, 4, 1), 4), np.zeros((1, 4, 4, 1)), eps=0)
    with pytest.raises(ValueError, match="of must be one of"):
        R.sensitivity(R.autoencoder((4, 4, 1), 4), np.zeros((1, 4, 4, 1)), of="decoder")
    with pytest.raises(ValueError, match="autodiff_jacobian\\(\\): x must be a finite batch"):
        R.autodiff_jacobian(lambda t: t, np.zeros((0, 3)))


def test_bad_probe_input():
    ok = (np.zeros((4, 2)), np.array([0, 1, 0, 1]))
    with pytest.raises(ValueError, match="train has 4 feature rows and 3 labels"):
        R.linear_probe((np.zeros((4, 2)), np.array([0, 1, 0])), ok, ok)
    with pytest.raises(ValueError, match="same feature width"):
        R.linear_probe(ok, (np.zeros((4, 3)), ok[1]), ok)
    with pytest.raises(ValueError, match="at least two classes"):
        R.linear_probe((ok[0], np.zeros(4)), ok, ok)
    with pytest.raises(ValueError, match=r"cs\[1\] must be"):
        R.linear_probe(ok, ok, ok, cs=(1.0, 0.0))
    with pytest.raises(ValueError, match="must be a pair"):
        R.linear_probe(ok[0], ok, ok)
