"""The variational autoencoder: shapes, the loss, evaluation, serialization and the likelihood measures.

Every model here is tiny (8x8 images, a few dozen units) so the whole file runs in seconds.
"""

import math

import numpy as np
import pytest

keras = pytest.importorskip("keras")
from aelib import vae  # noqa: E402

SHAPE = (8, 8, 1)


def _binary_data(n=128, seed=0):
    """Binary images drawn around two prototypes, so there is structure to learn."""
    rng = np.random.default_rng(seed)
    protos = np.stack([np.tri(8, 8), np.tri(8, 8).T])[..., None] * 0.8 + 0.1
    which = rng.integers(0, 2, n)
    return (rng.random((n, *SHAPE)) < protos[which]).astype(np.float32)


def _tiny(latent=2, likelihood="bernoulli", beta=1.0, seed=0, **kw):
    keras.utils.set_random_seed(seed)
    m = vae.build_vae(
        SHAPE, latent, hidden=(16,), likelihood=likelihood, beta=beta, seed=seed, **kw
    )
    m.compile(optimizer=keras.optimizers.Adam(1e-2))
    return m


def test_shapes_dense_and_conv():
    x = _binary_data(5)
    for arch in ("dense", "conv"):
        m = vae.build_vae(SHAPE, 3, architecture=arch, hidden=(16,), filters=(4, 8))
        out = m(x)
        assert set(out) == {"z_mean", "z_log_var", "z", "decoded"}
        assert out["z_mean"].shape == (5, 3) and out["z"].shape == (5, 3)
        assert out["decoded"].shape == (5, *SHAPE)
        mean, log_var = m.encode(x)
        assert mean.shape == (5, 3) and log_var.shape == (5, 3)
        imgs = m.decode(mean)
        assert imgs.shape == (5, *SHAPE) and imgs.min() >= 0 and imgs.max() <= 1
        assert m.generate(4).shape == (4, *SHAPE)
        assert m.sample_posterior(x).shape == (5, 3)


def test_parameter_count_of_dense_vae():
    m = vae.build_vae(SHAPE, 2, hidden=(10,))
    enc = (64 * 10 + 10) + 2 * (10 * 2 + 2)
    dec = (2 * 10 + 10) + (10 * 64 + 64)
    assert m.encoder.count_params() == enc and m.decoder.count_params() == dec


def test_loss_terms_match_closed_forms():
    # KL of N(0, I) to itself is 0; of N(m, s^2) it is 0.5 (s^2 + m^2 - 1 - log s^2) per unit.
    assert float(vae.gaussian_kl(np.zeros((1, 3)), np.zeros((1, 3)))[0]) == pytest.approx(0.0)
    kl = float(vae.gaussian_kl(np.array([[1.0]]), np.array([[math.log(4.0)]]))[0])
    assert kl == pytest.approx(0.5 * (4 + 1 - 1 - math.log(4)))
    x = np.array([[1.0, 0.0]])
    logits = np.array([[0.3, -1.2]])
    p = 1 / (1 + np.exp(-logits))
    expected = np.log(p[0, 0]) + np.log(1 - p[0, 1])
    assert float(vae.bernoulli_log_likelihood(x, logits)[0]) == pytest.approx(expected, rel=1e-5)
    g = float(vae.gaussian_log_likelihood(np.array([[1.0]]), np.array([[0.5]]), math.log(0.5))[0])
    assert g == pytest.approx(-0.5 * 1.0 - math.log(0.5) - 0.5 * math.log(2 * math.pi), rel=1e-6)


def test_training_lowers_the_loss_and_evaluate_reports_the_terms():
    x = _binary_data()
    m = _tiny()
    before = m.evaluate(x, verbose=0, return_dict=True)
    assert set(before) == {"loss", "reconstruction", "kl"}
    assert before["loss"] == pytest.approx(before["reconstruction"] + before["kl"], rel=1e-5)
    hist = m.fit(x, epochs=3, batch_size=32, verbose=0, validation_data=x[:32])
    assert {"loss", "reconstruction", "kl", "val_loss", "val_kl"} <= set(hist.history)
    after = m.evaluate(x, verbose=0, return_dict=True)
    assert after["loss"] < before["loss"] - 1.0
    assert after["kl"] >= 0


def test_evaluation_loss_is_the_elbo_whatever_beta_was():
    x = _binary_data(64)
    m = _tiny(beta=5.0)
    y_pred = m(x)
    train_loss = float(m.compute_loss(x, None, y_pred, training=True))
    test_loss = float(m.compute_loss(x, None, y_pred, training=False))
    kl = float(np.mean(vae.gaussian_kl(y_pred["z_mean"], y_pred["z_log_var"])))
    recon = -float(np.mean(m.log_likelihood(x, y_pred["decoded"])))
    assert test_loss == pytest.approx(recon + kl, rel=1e-5)
    assert train_loss == pytest.approx(recon + 5.0 * kl, rel=1e-5)


def test_kl_warmup_ramps_beta_from_zero():
    x = _binary_data(64)
    m = _tiny(beta=2.0)
    seen = []
    probe = keras.callbacks.LambdaCallback(
        on_train_batch_begin=lambda b, logs: seen.append(float(m.beta.numpy()))
    )
    hist = m.fit(x, epochs=3, batch_size=16, verbose=0, callbacks=[vae.KLWarmup(2), probe])
    assert len(seen) == 12 and seen[0] == 0.0
    assert all(a <= b + 1e-7 for a, b in zip(seen, seen[1:], strict=False))
    np.testing.assert_allclose(seen[:8], np.arange(8) / 8 * 2.0, rtol=1e-6)  # linear over 2 epochs
    assert seen[8:] == pytest.approx([2.0] * 4)
    assert hist.history["beta"][-1] == pytest.approx(2.0)
    with pytest.raises(ValueError, match="epochs must be a positive number"):
        vae.KLWarmup(0)


def test_kl_warmup_with_several_steps_per_execution_moves_once_per_execution():
    # Keras calls batch callbacks once per execution: with 2 steps per execution and 4 batches per
    # epoch the ramp is set at batches 0 and 2 of each epoch, to the value of that batch.
    x = _binary_data(64)
    m = _tiny(beta=2.0)
    m.compile(optimizer="adam", steps_per_execution=2)
    seen = []
    probe = keras.callbacks.LambdaCallback(
        on_train_batch_begin=lambda b, logs: seen.append((b, float(m.beta.numpy())))
    )
    m.fit(x, epochs=3, batch_size=16, verbose=0, callbacks=[vae.KLWarmup(2), probe])
    assert [b for b, _ in seen] == [0, 2] * 3
    np.testing.assert_allclose(
        [v for _, v in seen[:4]], np.array([0, 2, 4, 6]) / 8 * 2.0, rtol=1e-6
    )
    assert [v for _, v in seen[4:]] == pytest.approx([2.0, 2.0])


@pytest.mark.parametrize("likelihood", ["bernoulli", "gaussian"])
def test_save_load_roundtrip(tmp_path, likelihood):
    x = _binary_data(32)
    keras.utils.set_random_seed(0)
    m = vae.build_vae(SHAPE, 3, hidden=(16,), likelihood=likelihood, beta=0.5, seed=0)
    if likelihood == "gaussian":
        m.log_sigma.assign(-1.25)  # as if learned
    path = tmp_path / "vae.keras"
    m.save(path)
    again = keras.models.load_model(path, safe_mode=True)
    assert isinstance(again, vae.VAE) and again.likelihood == likelihood and again.latent_dim == 3
    assert float(again.beta.numpy()) == pytest.approx(0.5)
    for a, b in zip(m.encode(x), again.encode(x), strict=True):
        np.testing.assert_array_equal(a, b)
    z = np.random.default_rng(1).standard_normal((6, 3)).astype(np.float32)
    np.testing.assert_array_equal(m.decode(z), again.decode(z))
    if likelihood == "gaussian":
        assert float(again.log_sigma.numpy()) == pytest.approx(-1.25)
        assert again.log_sigma.trainable
    else:
        again.compile(optimizer="adam")
        assert set(again.evaluate(x, verbose=0, return_dict=True)) == {
            "loss",
            "reconstruction",
            "kl",
        }


def test_importance_weighted_bound_tightens_the_elbo():
    x = _binary_data(256, seed=3)
    m = _tiny(latent=2)
    m.fit(x, epochs=2, batch_size=64, verbose=0)
    elbo_nll = vae.importance_weighted_nll(m, x, k=1, seed=0)
    iw_nll = vae.importance_weighted_nll(m, x, k=50, seed=0)
    assert elbo_nll.shape == (256,)
    assert iw_nll.mean() < elbo_nll.mean()
    assert iw_nll.mean() <= m.evaluate(x, verbose=0, return_dict=True)["loss"]
    np.testing.assert_array_equal(iw_nll, vae.importance_weighted_nll(m, x, k=50, seed=0))


def test_importance_weighted_nll_is_exact_when_the_code_is_ignored():
    # Encoder outputs the prior (all weights 0) and the decoder ignores z (kernels 0, biases b):
    # then every weight p(x|z) p(z) / q(z|x) equals p(x|z), and -log p(x) is a sum of cross-entropies.
    x = _binary_data(10)
    m = vae.build_vae(SHAPE, 2, hidden=(4,))
    for w in m.encoder.weights:
        w.assign(np.zeros(w.shape))
    bias = np.random.default_rng(0).normal(size=64).astype(np.float32)
    for w in m.decoder.weights:
        w.assign(bias if w.path.endswith("pixel_logits/bias") else np.zeros(w.shape))
    p = 1 / (1 + np.exp(-bias))
    flat = x.reshape(10, -1)
    exact = -(flat * np.log(p) + (1 - flat) * np.log(1 - p)).sum(axis=1)
    np.testing.assert_allclose(vae.importance_weighted_nll(m, x, k=7), exact, rtol=1e-5)


def test_active_units_and_gaussian_fit_kl():
    rng = np.random.default_rng(0)
    z = np.concatenate([rng.normal(size=(2000, 3)), 0.05 * rng.normal(size=(2000, 2))], axis=1)
    assert vae.active_units(z) == 3
    np.testing.assert_allclose(vae.unit_activity(z)[:3], 1.0, atol=0.1)
    std = rng.normal(size=(20000, 2))
    assert vae.gaussian_fit_kl(std) < 1e-3
    shifted = std + np.array([2.0, 0.0])
    assert vae.gaussian_fit_kl(shifted) == pytest.approx(0.5 * 4.0, abs=0.02)
    assert vae.gaussian_fit_kl(np.c_[std[:, 0], std[:, 0]]) == math.inf
    with pytest.raises(ValueError, match="n > d"):
        vae.gaussian_fit_kl(std[:2])
    with pytest.raises(ValueError, match=r"z_mean must have shape \(n >= 2, d\)"):
        vae.active_units(np.ones(5))


def test_binarize():
    x = np.linspace(0, 1, 10_000, dtype=np.float32).reshape(100, 10, 10, 1)
    b = vae.binarize(x, seed=3)
    assert b.dtype == np.float32 and set(np.unique(b)) <= {0.0, 1.0}
    np.testing.assert_array_equal(b, vae.binarize(x, seed=3))
    assert abs(b.mean() - x.mean()) < 0.02
    np.testing.assert_array_equal(vae.binarize(x, method="threshold"), (x > 0.5).astype(np.float32))
    with pytest.raises(ValueError, match=r"intensities in \[0, 1\]"):
        vae.binarize(x * 2)
    with pytest.raises(ValueError, match="method must be"):
        vae.binarize(x, method="round")


def test_bad_inputs_are_named():
    m = _tiny()
    grey = np.full((4, *SHAPE), 0.5, np.float32)
    with pytest.raises(ValueError, match=r"needs binary x .*got 256 non-binary values.*binarize"):
        m.fit(grey, epochs=1, verbose=0)
    with pytest.raises(ValueError, match="needs binary validation_data"):
        m.fit(_binary_data(4), validation_data=grey, epochs=1, verbose=0)
    with pytest.raises(ValueError, match="needs binary x"):
        m.evaluate(grey, verbose=0)
    with pytest.raises(ValueError, match="needs binary x"):
        vae.importance_weighted_nll(m, grey, k=2)
    with pytest.raises(ValueError, match=r"x must have shape \(n, 8, 8, 1\), got \(4, 28, 28, 1\)"):
        m.evaluate(np.zeros((4, 28, 28, 1), np.float32), verbose=0)
    with pytest.raises(ValueError, match=r"^VAE\.fit\(\): a VAE reconstructs its input; pass the"):
        m.fit(_binary_data(4), _binary_data(4), verbose=0)
    with pytest.raises(ValueError, match=r"^VAE\.evaluate\(\): a VAE reconstructs its input"):
        m.evaluate(_binary_data(4), _binary_data(4), verbose=0)
    with pytest.raises(ValueError, match=r"^VAE\.fit\(\): validation_data must be images only"):
        m.fit(_binary_data(4), validation_data=(_binary_data(4), _binary_data(4)), verbose=0)
    with pytest.raises(ValueError, match="k must be an int >= 1, got 0"):
        vae.importance_weighted_nll(m, _binary_data(4), k=0)
    with pytest.raises(ValueError, match=r"z must have shape \(n, 2\)"):
        m.decode(np.zeros((3, 5)))
    with pytest.raises(ValueError, match="likelihood must be one of"):
        vae.build_vae(SHAPE, 2, likelihood="poisson")
    with pytest.raises(ValueError, match="beta must be a finite number >= 0, got -1"):
        vae.build_vae(SHAPE, 2, beta=-1)
    with pytest.raises(ValueError, match="latent_dim must be a positive int, got 0"):
        vae.build_vae(SHAPE, 0)
    with pytest.raises(ValueError, match="architecture must be one of"):
        vae.build_vae(SHAPE, 2, architecture="rnn")
    with pytest.raises(ValueError, match="divisible by 4"):
        vae.build_vae((10, 10, 1), 2, architecture="conv", filters=(4, 8))
    enc = vae.dense_encoder(SHAPE, 2, hidden=(4,))
    with pytest.raises(ValueError, match=r"decoder must map \(batch, 2\)"):
        vae.VAE(enc, vae.dense_decoder((4, 4, 1), 2, hidden=(4,)))


def test_gaussian_decoder_accepts_grey_images():
    rng = np.random.default_rng(0)
    grey = rng.random((64, *SHAPE)).astype(np.float32)
    m = _tiny(likelihood="gaussian", sigma=0.1)
    r = m.evaluate(grey, verbose=0, return_dict=True)
    assert np.isfinite(r["loss"])
    assert float(m.log_sigma.numpy()) == pytest.approx(math.log(0.1))
    assert not m.log_sigma.trainable


def test_importance_weighted_summary_separates_monte_carlo_from_image_spread():
    x = _binary_data(64, seed=4)
    m = _tiny(latent=2)
    m.fit(x, epochs=2, batch_size=32, verbose=0)
    s = vae.importance_weighted_summary(m, x, k=5, repeats=3, seed=10)
    runs = np.stack([vae.importance_weighted_nll(m, x, k=5, seed=10 + r) for r in range(3)])
    assert s["iw_nll"] == pytest.approx(runs.mean())
    np.testing.assert_allclose(s["repeat_means"], runs.mean(axis=1))
    assert s["mc_se"] == pytest.approx(runs.mean(axis=1).std(ddof=1) / math.sqrt(3))
    assert s["image_se"] == pytest.approx(runs.mean(axis=0).std(ddof=1) / math.sqrt(64))
    assert s["per_image"].shape == (64,)
    one = vae.importance_weighted_summary(m, x, k=5, repeats=1)
    assert math.isnan(one["mc_se"]) and np.isfinite(one["image_se"])
    with pytest.raises(ValueError, match="repeats must be an int >= 1"):
        vae.importance_weighted_summary(m, x, k=5, repeats=0)


def test_sampled_nll_matches_a_direct_computation():
    rng = np.random.default_rng(0)
    x = (rng.random((7, 4, 4, 1)) < 0.5).astype(np.float32)
    g = rng.uniform(0.05, 0.95, (5, 4, 4, 1))
    flat_x, flat_g = x.reshape(7, -1), g.reshape(5, -1)
    log_p = np.array(
        [[np.sum(xi * np.log(gm) + (1 - xi) * np.log(1 - gm)) for gm in flat_g] for xi in flat_x]
    )
    expected = -np.log(np.exp(log_p).mean(axis=1))
    np.testing.assert_allclose(vae.sampled_nll(g, x, chunk=3), expected, rtol=1e-10)
    # one sample equal to the image's own probabilities: the Bernoulli NLL of that sample
    assert vae.sampled_nll(np.full((1, 4, 4, 1), 0.5), x)[0] == pytest.approx(16 * math.log(2))
    # saturated probabilities cost a finite amount
    assert np.isfinite(vae.sampled_nll(np.zeros((2, 4, 4, 1)), x)).all()
    with pytest.raises(ValueError, match="same image shape"):
        vae.sampled_nll(g, x[:, :2])
    with pytest.raises(ValueError, match="must be binary"):
        vae.sampled_nll(g, x * 0.5)
    with pytest.raises(ValueError, match=r"must lie in \[0, 1\]"):
        vae.sampled_nll(g * 2, x)


def test_activity_monitor_counts_units_after_every_epoch():
    x = _binary_data(64)
    m = _tiny(latent=3)
    monitor = vae.ActivityMonitor(x[:32])
    m.fit(x, epochs=3, batch_size=32, verbose=0, callbacks=[monitor])
    assert len(monitor.activity) == 3 and monitor.activity[0].shape == (3,)
    np.testing.assert_allclose(
        monitor.activity[-1], vae.unit_activity(m.encode(x[:32])[0]), rtol=1e-5
    )
    assert monitor.active(0.01) == [int(np.sum(a > 0.01)) for a in monitor.activity]
    assert vae.ActivityMonitor(x[:4]).active() == []
    with pytest.raises(ValueError, match="at least 2 images"):
        vae.ActivityMonitor(x[:1])


def test_sizes_follow_the_one_integer_rule():
    """Integral numbers of any integer type are accepted; floats and booleans are refused by name."""
    assert vae._check_latent(np.int64(4), "f") == 4
    assert vae._check_widths((np.int32(8), 4), "hidden widths", "f") == (8, 4)
    for bad in (4.0, True, np.bool_(True), "4"):
        with pytest.raises(ValueError, match="latent_dim must be a positive int"):
            vae._check_latent(bad, "f")
    with pytest.raises(ValueError, match=r"hidden widths\[1\] must be a positive int, got 25.6"):
        vae._check_widths((512, 25.6), "hidden widths", "f")
