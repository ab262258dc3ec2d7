"""aelib.vqvae: quantisation, its gradient and losses, the codebook's health, the prior, saving."""

import math

import keras
import numpy as np
import pytest
import tensorflow as tf

import aelib
from aelib import vqvae as V


def _grid(n=3, d=4, seed=0):
    return np.random.default_rng(seed).normal(size=(n, 7, 7, d)).astype("float32")


def _quantizer(k=8, d=4, seed=0, **kwargs):
    keras.utils.set_random_seed(seed)
    q = V.VectorQuantizer(k, d, **kwargs)
    q.build((None, 7, 7, d))
    q.codebook.assign(np.random.default_rng(seed + 1).normal(size=(k, d)).astype("float32"))
    if q.ema:
        q.ema_sums.assign(q.codebook)
    return q


# --- nearest-code assignment ----------------------------------------------------------------------


def test_nearest_codes_match_a_brute_force_search():
    z = _grid()
    codebook = np.random.default_rng(5).normal(size=(10, 4)).astype("float32")
    got = np.asarray(V.nearest_codes(z, codebook))
    brute = np.argmin(((z[..., None, :] - codebook) ** 2).sum(-1), axis=-1)
    assert got.shape == (3, 7, 7)
    np.testing.assert_array_equal(got, brute)


def test_the_layer_outputs_the_nearest_codebook_vectors():
    q = _quantizer()
    z = _grid()
    out = np.asarray(q(z))
    codes = np.asarray(q.codes_of(z))
    np.testing.assert_allclose(out, q.codebook.numpy()[codes], atol=1e-6)


def test_a_code_vector_is_its_own_nearest_code():
    q = _quantizer(k=5, d=3)
    cb = q.codebook.numpy()
    np.testing.assert_array_equal(np.asarray(V.nearest_codes(cb, cb)), np.arange(5))


# --- the straight-through gradient and the loss terms ---------------------------------------------


def test_the_gradient_reaches_the_encoder_unchanged():
    q = _quantizer()
    z = tf.constant(_grid())
    w = tf.constant(np.random.default_rng(2).normal(size=z.shape).astype("float32"))
    with tf.GradientTape() as tape:
        tape.watch(z)
        out = q(z)
        downstream = tf.reduce_sum(w * out)  # what a decoder's loss would send back: w
    grad = tape.gradient(downstream, z)
    np.testing.assert_allclose(grad.numpy(), w.numpy(), atol=1e-6)


def test_codebook_and_commitment_losses_by_hand():
    z_e = np.array([[[[1.0, 2.0]]], [[[0.0, -1.0]]]], dtype="float32")  # (2, 1, 1, 2)
    z_q = np.array([[[[1.5, 2.0]]], [[[0.0, 0.0]]]], dtype="float32")
    expected = (0.25 + 0.0 + 0.0 + 1.0) / 4  # mean over every number
    assert float(V.codebook_loss(z_e, z_q)) == pytest.approx(expected)
    assert float(V.commitment_loss(z_e, z_q)) == pytest.approx(expected)


def test_each_loss_moves_only_its_own_side():
    z_e = tf.Variable(_grid(n=2))
    z_q = tf.Variable(_grid(n=2, seed=1))
    with tf.GradientTape(persistent=True) as tape:
        cb = V.codebook_loss(z_e, z_q)
        cm = V.commitment_loss(z_e, z_q)
    assert tape.gradient(cb, z_e) is None or not np.any(tape.gradient(cb, z_e).numpy())
    assert tape.gradient(cm, z_q) is None or not np.any(tape.gradient(cm, z_q).numpy())
    n = z_e.numpy().size
    np.testing.assert_allclose(
        tape.gradient(cm, z_e).numpy(), 2 * (z_e.numpy() - z_q.numpy()) / n, rtol=1e-5
    )
    np.testing.assert_allclose(
        tape.gradient(cb, z_q).numpy(), 2 * (z_q.numpy() - z_e.numpy()) / n, rtol=1e-5
    )


@pytest.mark.parametrize("ema", [False, True])
def test_the_layer_adds_codebook_plus_beta_commitment(ema):
    q = _quantizer(beta=0.4, ema=ema)
    z = _grid()
    q(z)
    cb = q.codebook.numpy()
    distance = np.mean((z - cb[np.asarray(q.codes_of(z))]) ** 2)
    expected = 0.4 * distance + (0.0 if ema else distance)
    assert len(q.losses) == 1
    assert float(q.losses[0]) == pytest.approx(expected, rel=1e-5)


def test_the_codebook_gets_the_codebook_loss_gradient():
    q = _quantizer(beta=0.25)
    z = tf.constant(_grid())
    with tf.GradientTape() as tape:
        q(z)
        loss = q.losses[0]
    grad = tf.convert_to_tensor(tape.gradient(loss, q.codebook)).numpy()
    cb, codes = q.codebook.numpy(), np.asarray(q.codes_of(z)).ravel()
    flat = z.numpy().reshape(-1, 4)
    expected = np.zeros_like(cb)
    np.add.at(expected, codes, 2 * (cb[codes] - flat) / flat.size)
    np.testing.assert_allclose(grad, expected, rtol=1e-4, atol=1e-7)


def test_the_moving_average_update_by_hand():
    q = _quantizer(k=3, d=2, ema=True, decay=0.5, epsilon=1e-9)
    q.codebook.assign(np.array([[0.0, 0.0], [10.0, 10.0], [-10.0, 5.0]], "float32"))
    q.ema_sums.assign(q.codebook)
    z = np.array([[[[1.0, 1.0], [3.0, 1.0]], [[9.0, 9.0], [-1.0, 0.0]]]], "float32")  # (1,2,2,2)
    q(z, training=True)
    counts = 0.5 * np.ones(3) + 0.5 * np.array([3.0, 1.0, 0.0])
    sums = 0.5 * np.array([[0, 0], [10, 10], [-10, 5]]) + 0.5 * np.array(
        [[3.0, 2.0], [9.0, 9.0], [0.0, 0.0]]
    )
    np.testing.assert_allclose(q.ema_counts.numpy(), counts, rtol=1e-6)
    np.testing.assert_allclose(q.codebook.numpy(), sums / counts[:, None], rtol=1e-5)
    # an unused code keeps its place
    np.testing.assert_allclose(q.codebook.numpy()[2], [-10.0, 5.0], rtol=1e-5)


def test_no_update_outside_training():
    q = _quantizer(ema=True)
    before = q.codebook.numpy().copy()
    q(_grid(), training=False)
    np.testing.assert_array_equal(q.codebook.numpy(), before)


# --- the codebook's health -------------------------------------------------------------------------


def test_perplexity_by_hand():
    assert V.perplexity(np.arange(8), 8) == pytest.approx(8.0)
    assert V.perplexity(np.zeros(20, int), 8) == pytest.approx(1.0)
    codes = np.array([0, 0, 1, 1, 1, 1, 2, 2])  # p = 1/4, 1/2, 1/4: H = 1.5 bits
    assert V.perplexity(codes, 8) == pytest.approx(2**1.5)


def test_dead_fraction_and_usage():
    codes = np.array([[0, 0], [3, 3]])
    np.testing.assert_array_equal(V.code_usage(codes, 4), [2, 0, 0, 2])
    assert V.dead_fraction(codes, 4) == pytest.approx(0.5)


@pytest.mark.parametrize("ema", [False, True])
def test_restart_moves_dead_codes_onto_encoder_outputs(ema):
    q = _quantizer(k=6, d=4, ema=ema)
    z = _grid(n=2)
    cb = q.codebook.numpy().copy()
    cb[4] = 1e3  # far from everything: dead
    cb[5] = -1e3
    q.codebook.assign(cb)
    if ema:
        q.ema_sums.assign(cb * 3)
        q.ema_counts.assign(np.full(6, 3.0, "float32"))
    used_before = V.code_usage(np.asarray(q.codes_of(z)), 6)
    dead = np.flatnonzero(used_before == 0)
    assert {4, 5} <= set(dead)
    moved = V.restart_dead_codes(q, z, seed=0)
    assert moved == len(dead)
    new = q.codebook.numpy()
    flat = z.reshape(-1, 4)
    for k in dead:
        assert np.min(np.abs(flat - new[k]).sum(axis=1)) < 1e-6  # it is one of the vectors
    alive = np.setdiff1d(np.arange(6), dead)
    np.testing.assert_array_equal(new[alive], cb[alive])
    assert V.code_usage(np.asarray(q.codes_of(z)), 6)[dead].min() >= 1  # now used
    if ema:
        np.testing.assert_allclose(q.ema_counts.numpy()[dead], 1.0)
        np.testing.assert_allclose(q.ema_sums.numpy()[dead], new[dead])
    assert V.restart_dead_codes(q, z) == 0


# --- the model ---------------------------------------------------------------------------------------


@pytest.fixture(scope="module")
def small_model():
    keras.utils.set_random_seed(0)
    return V.build_vqvae(num_codes=8, code_dim=4, filters=(4, 8), variance=0.1)


def test_model_shapes_and_bits(small_model):
    x = np.random.default_rng(0).random((2, 28, 28, 1)).astype("float32")
    out = small_model(x)
    assert tuple(out["z_e"].shape) == (2, 7, 7, 4)
    assert tuple(out["codes"].shape) == (2, 7, 7)
    assert tuple(out["decoded"].shape) == (2, 28, 28, 1)
    assert small_model.bits_per_image == pytest.approx(49 * 3)
    codes = small_model.encode_codes(x)
    np.testing.assert_allclose(
        small_model.decode_codes(codes), small_model.reconstruct(x), atol=1e-6
    )


def test_the_loss_is_reconstruction_plus_the_quantiser_loss(small_model):
    x = np.random.default_rng(1).random((4, 28, 28, 1)).astype("float32")
    small_model.compile(keras.optimizers.Adam(1e-3))
    logs = small_model.evaluate(x, verbose=0, return_dict=True, batch_size=4)
    out = small_model(x)
    recon = np.mean((x - np.asarray(out["decoded"])) ** 2) / 0.1
    d = np.mean((np.asarray(out["z_e"]) - np.asarray(out["z_q"])) ** 2)
    assert logs["reconstruction"] == pytest.approx(recon, rel=1e-4)
    assert logs["quantization"] == pytest.approx(d, rel=1e-4)
    assert logs["loss"] == pytest.approx(recon + 1.25 * d, rel=1e-4)


@pytest.mark.parametrize("ema", [False, True])
def test_safe_mode_round_trip(tmp_path, ema):
    keras.utils.set_random_seed(0)
    model = V.build_vqvae(num_codes=8, code_dim=4, filters=(4, 8), ema=ema, beta=0.3)
    x = np.random.default_rng(2).random((16, 28, 28, 1)).astype("float32")
    model.compile(keras.optimizers.Adam(1e-2))
    model.fit(x, epochs=1, batch_size=8, verbose=0)
    path = tmp_path / "vq.keras"
    model.save(path)
    loaded = aelib.load_model(path, safe_mode=True)
    assert isinstance(loaded, V.VQVAE)
    assert loaded.quantizer.ema is ema and loaded.quantizer.beta == pytest.approx(0.3)
    np.testing.assert_allclose(
        loaded.quantizer.codebook.numpy(),
        model.quantizer.codebook.numpy(),
    )
    np.testing.assert_allclose(loaded.reconstruct(x), model.reconstruct(x), atol=1e-6)
    if ema:
        np.testing.assert_allclose(
            loaded.quantizer.ema_counts.numpy(),
            model.quantizer.ema_counts.numpy(),
        )


def test_callbacks_record_and_restart():
    keras.utils.set_random_seed(0)
    model = V.build_vqvae(num_codes=16, code_dim=4, filters=(4, 8))
    x = np.random.default_rng(3).random((32, 28, 28, 1)).astype("float32")
    monitor, restart = V.CodebookMonitor(x[:8]), V.DeadCodeRestart(x, n_images=16)
    model.compile(keras.optimizers.Adam(1e-3))
    model.fit(x, epochs=3, batch_size=16, verbose=0, callbacks=[monitor, restart])
    assert len(monitor.perplexity) == len(monitor.dead) == 4  # before training, then per epoch
    assert all(1 <= p <= 16 for p in monitor.perplexity)
    assert len(restart.restarted) == 2  # not after the last epoch


# --- the prior -------------------------------------------------------------------------------------


def test_the_mask_by_hand():
    a = V.pixelcnn_mask(3, 1, 1, "A")[:, :, 0, 0]
    b = V.pixelcnn_mask(3, 1, 1, "B")[:, :, 0, 0]
    np.testing.assert_array_equal(a, [[1, 1, 1], [1, 0, 0], [0, 0, 0]])
    np.testing.assert_array_equal(b, [[1, 1, 1], [1, 1, 0], [0, 0, 0]])


def test_the_prior_sees_only_earlier_positions():
    keras.utils.set_random_seed(0)
    prior = V.pixelcnn_prior((7, 7), num_codes=6, filters=8, hidden_layers=2, embed_dim=4)
    rng = np.random.default_rng(0)
    codes = rng.integers(0, 6, size=(1, 7, 7)).astype("int32")
    base = np.asarray(prior(codes))
    for r, c in [(0, 0), (3, 4), (6, 6)]:
        changed = codes.copy()
        changed[0, r, c] = (changed[0, r, c] + 1) % 6
        moved = np.abs(np.asarray(prior(changed)) - base).max(axis=-1)[0]  # (7, 7)
        order = np.arange(49).reshape(7, 7)
        assert moved[order <= order[r, c]].max() == 0  # itself and everything before it
        if (r, c) != (6, 6):
            assert moved[order > order[r, c]].max() > 0


def test_a_flat_prior_costs_log2_k_bits_and_samples_in_range():
    prior = V.pixelcnn_prior((7, 7), num_codes=8, filters=4, hidden_layers=0, embed_dim=2)
    logits = prior.get_layer("logits")
    logits.set_weights([np.zeros_like(w) for w in logits.get_weights()])
    codes = np.random.default_rng(0).integers(0, 8, size=(5, 7, 7))
    np.testing.assert_allclose(V.prior_nll_bits(prior, codes), 3.0, rtol=1e-6)
    samples = V.sample_prior(prior, 4, seed=1)
    assert samples.shape == (4, 7, 7) and samples.min() >= 0 and samples.max() < 8


def test_unigram_bits_by_hand():
    train = np.array([0, 0, 0, 1])  # counts + 1: 4, 2, 1, 1 of 8
    assert V.unigram_bits(train, np.array([0, 1]), 4) == pytest.approx((1 + 2) / 2)


# --- judging images ----------------------------------------------------------------------------------


def test_high_frequency_energy():
    flat = np.full((1, 28, 28), 0.5)
    board = 0.5 + 0.25 * (-1.0) ** np.add.outer(np.arange(28), np.arange(28))[None]
    assert V.high_frequency_energy(flat)[0] == pytest.approx(0.0, abs=1e-12)
    assert V.high_frequency_energy(board)[0] == pytest.approx(0.0625)  # 0.25 ** 2
    x = np.random.default_rng(0).random((4, 28, 28, 1))
    from aelib.spectra import binomial_blur

    assert np.all(V.high_frequency_energy(binomial_blur(x)) < V.high_frequency_energy(x))


def test_judge_summarises_a_classifier():
    class Fixed:
        def __call__(self, x, training=False):
            p = np.zeros((len(x), 3), "float32")
            p[:, 0] = 0.95
            p[:, 1:] = 0.025
            p[1::2] = [0.2, 0.5, 0.3]
            return p

    out = V.judge(Fixed(), np.zeros((4, 28, 28, 1), "float32"))
    np.testing.assert_allclose(out["histogram"], [0.5, 0.5, 0.0])
    assert out["class_entropy_bits"] == pytest.approx(1.0)
    assert out["confidence"] == pytest.approx((0.95 + 0.5) / 2)
    assert out["confident"] == pytest.approx(0.5)


# --- bad input ---------------------------------------------------------------------------------------


@pytest.mark.parametrize(
    "kwargs, words",
    [
        ({"num_codes": 1, "code_dim": 4}, "num_codes"),
        ({"num_codes": 8.0, "code_dim": 4}, "num_codes"),
        ({"num_codes": 8, "code_dim": 0}, "code_dim"),
        ({"num_codes": 8, "code_dim": 4, "beta": -1}, "beta"),
        ({"num_codes": 8, "code_dim": 4, "decay": 1.0}, "decay"),
        ({"num_codes": 8, "code_dim": 4, "ema": "yes"}, "ema"),
    ],
)
def test_bad_quantizer_arguments(kwargs, words):
    with pytest.raises(ValueError, match=words):
        V.VectorQuantizer(**kwargs)


def test_bad_inputs_name_the_argument(small_model):
    q = V.VectorQuantizer(8, 4)
    with pytest.raises(ValueError, match="code_dim=4"):
        q(np.zeros((1, 7, 7, 3), "float32"))
    with pytest.raises(ValueError, match=r"codes must lie in \[0, 7\]"):
        V.perplexity(np.array([0, 8]), 8)
    with pytest.raises(ValueError, match="integer code indices"):
        V.dead_fraction(np.array([0.5]), 8)
    x = np.zeros((2, 28, 28, 1), "float32")
    with pytest.raises(ValueError, match=r"^VQVAE\.fit\(\): a VQ-VAE reconstructs its input; pass"):
        small_model.fit(x, x)
    with pytest.raises(ValueError, match=r"^VQVAE\.evaluate\(\): a VQ-VAE reconstructs its input"):
        small_model.evaluate(x, x)
    with pytest.raises(ValueError, match=r"^VQVAE\.fit\(\): validation_data must be images only"):
        small_model.fit(x, validation_data=(x, x), epochs=1)
    with pytest.raises(ValueError, match=r"^VQVAE\.fit\(\): validation_data must have shape"):
        small_model.fit(x, validation_data=(x[:, :14, :14],), epochs=1)
    with pytest.raises(ValueError, match=r"values in \[0, 1\]"):
        small_model.fit(np.full((2, 28, 28, 1), 2.0, "float32"), epochs=1)
    with pytest.raises(ValueError, match="shape"):
        small_model.encode_codes(np.zeros((2, 14, 14, 1), "float32"))
    with pytest.raises(ValueError, match=r"codes must have shape \(n, 7, 7\)"):
        small_model.decode_codes(np.zeros((2, 49), int))
    with pytest.raises(ValueError, match="odd"):
        V.MaskedConv2D(4, 4)
    with pytest.raises(ValueError, match="mask_type"):
        V.MaskedConv2D(4, 3, mask_type="C")
    with pytest.raises(ValueError, match="z_e must have shape"):
        V.restart_dead_codes(small_model.quantizer, np.zeros((5, 3), "float32"))
    with pytest.raises(TypeError, match="VectorQuantizer"):
        V.restart_dead_codes("codebook", np.zeros((5, 4), "float32"))
    with pytest.raises(ValueError, match="cutoff"):
        V.high_frequency_energy(np.zeros((1, 8, 8)), cutoff=0.7)
    with pytest.raises(ValueError, match="temperature"):
        V.sample_prior(V.pixelcnn_prior((7, 7), 4, filters=2, hidden_layers=0), 2, temperature=0)


def test_bad_model_parts():
    enc = V.vq_encoder(code_dim=4, filters=(4, 8))
    dec = V.vq_decoder(code_dim=5, filters=(8, 4))
    with pytest.raises(ValueError, match="decoder must map"):
        V.VQVAE(enc, dec)
    with pytest.raises(ValueError, match="variance"):
        V.build_vqvae(num_codes=4, code_dim=2, filters=(2, 2), variance=0)
    assert math.isfinite(V.build_vqvae(num_codes=4, code_dim=2, filters=(2, 2)).bits_per_image)
