"""aelib.timeseries: windows, per-step scores, events, baselines and the generation helpers."""

import keras
import numpy as np
import pytest

from aelib import metrics
from aelib import timeseries as T

# --- preparing a series ----------------------------------------------------------------------------


def test_as_series_accepts_1d_and_2d_and_refuses_the_rest():
    assert T.as_series(np.arange(5), "f").shape == (5, 1)
    assert T.as_series(np.zeros((5, 3)), "f").shape == (5, 3)
    with pytest.raises(ValueError, match=r"f\(\): x must have shape"):
        T.as_series(np.zeros((2, 2, 2)), "f")
    with pytest.raises(ValueError, match="NaN or infinite"):
        T.as_series([1.0, np.nan, 2.0], "f")
    with pytest.raises(ValueError, match="at least 4"):
        T.as_series([1.0, 2.0], "f", min_length=4)
    with pytest.raises(ValueError, match="array of numbers"):
        T.as_series(["a", "b"], "f")


def test_standardizer_uses_training_statistics_only():
    train = np.array([[1.0, 10.0], [3.0, 30.0]])
    scaler = T.fit_standardizer(train)
    np.testing.assert_allclose(scaler.mean, [2.0, 20.0])
    np.testing.assert_allclose(scaler.std, [1.0, 10.0])
    out = T.standardize(np.array([[2.0, 40.0]]), scaler)
    assert out.dtype == np.float32
    np.testing.assert_allclose(out, [[0.0, 2.0]])
    with pytest.raises(ValueError, match="constant"):
        T.fit_standardizer(np.ones((4, 1)))
    with pytest.raises(ValueError, match="channel"):
        T.standardize(np.zeros((3, 1)), scaler)


def test_dominant_period_finds_a_sine_cycle():
    t = np.arange(2_000)
    x = np.sin(2 * np.pi * t / 37) + 0.1 * np.random.default_rng(0).standard_normal(len(t))
    assert abs(T.dominant_period(x) - 37) <= 1
    with pytest.raises(ValueError, match="no autocorrelation peak"):
        T.dominant_period(np.arange(100.0), min_lag=4, max_lag=10)


def test_windows_are_every_stride_th_slice():
    x = np.arange(10.0)
    w = T.windows(x, 4)
    assert w.shape == (7, 4, 1) and w.dtype == np.float32
    np.testing.assert_array_equal(w[3, :, 0], [3, 4, 5, 6])
    w2 = T.windows(np.stack([x, -x], axis=1), 4, stride=3)
    assert w2.shape == (3, 4, 2)
    np.testing.assert_array_equal(w2[1, :, 1], [-3, -4, -5, -6])
    with pytest.raises(ValueError, match=r"windows\(\): length must be an int >= 2"):
        T.windows(x, 1)
    with pytest.raises(ValueError, match="at least 20"):
        T.windows(x, 20)
    with pytest.raises(ValueError, match="stride"):
        T.windows(x, 4, stride=0)


# --- models -----------------------------------------------------------------------------------------


def test_conv_autoencoder_shapes_and_layers():
    model = T.conv_autoencoder(32, 2, filters=(8, 4), kernel_size=3)
    assert model.output_shape == (None, 32, 2)
    kinds = [type(layer).__name__ for layer in model.layers]
    assert kinds.count("Conv1D") == 5 and kinds.count("UpSampling1D") == 2
    assert model.get_layer("down_1").output.shape[1] == 8  # two halvings of 32
    with pytest.raises(ValueError, match="divisible by 4"):
        T.conv_autoencoder(30, filters=(8, 4))
    with pytest.raises(ValueError, match="kernel_size"):
        T.conv_autoencoder(32, kernel_size=0)


def test_dense_autoencoder_shapes():
    model = T.dense_autoencoder(24, 3, hidden=10, code_size=4)
    assert model.output_shape == (None, 24, 3)
    assert model.get_layer("code").output.shape[-1] == 4
    with pytest.raises(ValueError, match="code_size"):
        T.dense_autoencoder(24, code_size=0)


def test_a_conv_autoencoder_learns_a_periodic_series():
    keras.utils.set_random_seed(0)
    x = np.sin(2 * np.pi * np.arange(600) / 16)[:, None].astype("float32")
    w = T.windows(x, 16, stride=2)
    model = T.conv_autoencoder(16, filters=(8, 4), kernel_size=3)
    model.compile(keras.optimizers.Adam(1e-2), "mse")
    before = float(np.mean(T.window_step_errors(model, w)))
    model.fit(w, w, epochs=30, batch_size=32, verbose=0)
    assert float(np.mean(T.window_step_errors(model, w))) < 0.1 * before


# --- scores per step ---------------------------------------------------------------------------------


class _Shift:
    """A stand-in model: its reconstruction is the window plus a constant."""

    def predict_on_batch(self, w):
        return w + 1.0


def test_window_step_errors_average_channels():
    w = np.zeros((3, 5, 2), "float32")
    err = T.window_step_errors(_Shift(), w)
    assert err.shape == (3, 5)
    np.testing.assert_allclose(err, 1.0)
    with pytest.raises(ValueError, match="windows"):
        T.window_step_errors(_Shift(), np.zeros((3, 5)))


def test_step_scores_average_the_windows_covering_each_step():
    # 3 windows of length 2 over 4 steps: step 0 in window 0; step 1 in windows 0, 1; ...
    err = np.array([[1.0, 2.0], [3.0, 4.0], [5.0, 6.0]])
    np.testing.assert_allclose(T.step_scores(err), [1.0, (2 + 3) / 2, (4 + 5) / 2, 6.0])
    np.testing.assert_allclose(T.spread_window_scores([1.0, 3.0, 5.0], 2), [1, 2, 4, 5])
    with pytest.raises(ValueError, match="n_windows, length"):
        T.step_scores(np.zeros(4))


def test_ae_step_scores_cover_every_step():
    x = np.random.default_rng(0).standard_normal((50, 1)).astype("float32")
    s = T.ae_step_scores(_Shift(), x, 8)
    assert s.shape == (50,)
    np.testing.assert_allclose(s, 1.0, rtol=1e-6)


# --- baselines ---------------------------------------------------------------------------------------


def test_moving_average_residual_by_hand():
    x = np.array([1.0, 3.0, 5.0, 4.0])
    # width 2, lag 1: forecasts x0 (no history), 1, (1+3)/2, (3+5)/2
    np.testing.assert_allclose(T.moving_average_residual(x, 2), [0.0, 2.0, 3.0, 0.0])
    # lag 2, width 1: x_t - x_{t-2}
    np.testing.assert_allclose(T.moving_average_residual(x, 1, lag=2), [0.0, 0.0, 4.0, 1.0])
    with pytest.raises(ValueError, match="width"):
        T.moving_average_residual(x, 0)


def test_choose_forecast_prefers_the_seasonal_lag_on_a_periodic_series():
    t = np.arange(400)
    x = np.where(t % 10 == 0, 5.0, 0.0) + 0.01 * np.random.default_rng(1).standard_normal(len(t))
    (width, lag), cost = T.choose_forecast(x, (1, 2, 4), lags=(1, 10))
    assert lag == 10 and cost[(width, lag)] == min(cost.values())
    with pytest.raises(ValueError, match="too few"):
        T.choose_forecast(x[:10], (8,), lags=(10,))


def test_nearest_neighbour_distance_finds_the_odd_window():
    t = np.arange(600)
    x = np.sin(2 * np.pi * t / 25)
    odd = x.copy()
    odd[300:310] = np.linspace(-1, 1, 10)  # a shape that occurs nowhere else
    ab = T.nearest_neighbour_distance(odd, 25, reference=x[:250])
    self_join = T.nearest_neighbour_distance(odd, 25)
    assert ab.shape == self_join.shape == (600 - 25 + 1,)
    assert 276 <= int(np.argmax(ab)) <= 310 and 276 <= int(np.argmax(self_join)) <= 310
    # an exact repeat of the reference is at distance 0
    assert T.nearest_neighbour_distance(x[:100], 25, reference=x).max() < 1e-3
    # the self-join never matches a window with itself or its overlapping neighbours
    assert T.nearest_neighbour_distance(x[:200], 25, exclusion=10).min() < 1e-3
    # distances agree with a direct computation
    w = T.windows(odd[:80], 25)[:, :, 0].astype(float)
    z = (w - w.mean(1, keepdims=True)) / w.std(1, keepdims=True)
    d = np.sqrt(((z[:, None] - z[None]) ** 2).sum(-1))
    d[np.abs(np.arange(len(w))[:, None] - np.arange(len(w))[None]) <= 12] = np.inf
    np.testing.assert_allclose(
        T.nearest_neighbour_distance(odd[:80], 25), d.min(1), rtol=1e-5, atol=1e-5
    )


# --- events ------------------------------------------------------------------------------------------


def test_events_are_runs_of_labels():
    assert T.events([0, 1, 1, 0, 0, 1]) == [(1, 3), (5, 6)]
    assert T.events(np.zeros(4, bool)) == []
    with pytest.raises(ValueError, match="1-D"):
        T.events(np.zeros((2, 2)))


def test_event_report_counts_hits_and_false_alarm_runs():
    labels = np.zeros(1_000, bool)
    labels[100:110] = True
    labels[500:520] = True
    flags = np.zeros(1_000, bool)
    flags[105] = True  # hits the first anomaly
    flags[300:305] = True  # one false alarm, five steps long
    flags[800] = True  # another
    rep = T.event_report(flags, labels)
    assert rep["events"] == 2 and rep["hits"] == 1 and rep["recall"] == 0.5
    assert rep["false_alarms"] == 2 and rep["flagged_steps"] == 7
    assert rep["false_alarms_per_1000"] == pytest.approx(1000 * 2 / 970)
    # a flag just before an anomaly is a hit only with a tolerance
    flags2 = np.zeros(1_000, bool)
    flags2[497] = True
    assert T.event_report(flags2, labels)["false_alarms"] == 1
    rep2 = T.event_report(flags2, labels, tolerance=5)
    assert rep2["hits"] == 1 and rep2["false_alarms"] == 0
    with pytest.raises(ValueError, match=r"labels must be 1-D with one entry per score \(5\)"):
        T.event_report(np.zeros(5, bool), labels)


def test_top_hit_uses_the_margin():
    labels = np.zeros(1_000, bool)
    labels[400:410] = True
    s = np.zeros(1_000)
    s[505] = 1.0
    assert not T.top_hit(s, labels, margin=50)
    assert T.top_hit(s, labels, margin=100)


def test_point_adjust_inflates_random_scores():
    rng = np.random.default_rng(0)
    labels = np.zeros(5_000, bool)
    for start in (1_000, 3_000):
        labels[start : start + 100] = True
    noise = rng.random(len(labels))
    adjusted = T.point_adjust(noise, labels)
    assert adjusted[1_000:1_100].min() == noise[1_000:1_100].max()
    np.testing.assert_array_equal(adjusted[~labels], noise[~labels])
    assert abs(metrics.auroc(noise, labels) - 0.5) < 0.05
    assert metrics.auroc(adjusted, labels) > 0.95


# --- generation --------------------------------------------------------------------------------------


def test_unit_map_round_trips_and_clips():
    w = np.array([-1.0, 0.0, 3.0])
    u = T.to_unit(w, -1.0, 3.0)
    np.testing.assert_allclose(u, [0.0, 0.25, 1.0])
    np.testing.assert_allclose(T.from_unit(u, -1.0, 3.0), w)
    assert T.to_unit([10.0], 0.0, 1.0)[0] == 1.0
    with pytest.raises(ValueError, match="high must exceed low"):
        T.to_unit(w, 1.0, 1.0)


def test_simple_generators_keep_shapes_and_statistics():
    rng = np.random.default_rng(0)
    w = (np.sin(np.arange(16) / 3)[None, :, None] + 0.1 * rng.standard_normal((500, 16, 1))).astype(
        "float32"
    )
    g = T.gaussian_windows(w, 2_000, seed=1)
    s = T.shuffled_steps(w, 2_000, seed=1)
    assert g.shape == s.shape == (2_000, 16, 1)
    np.testing.assert_allclose(g.mean(0), w.mean(0), atol=0.02)
    np.testing.assert_allclose(s.mean(0), w.mean(0), atol=0.02)
    assert set(np.unique(s[:, 3, 0])) <= set(np.unique(w[:, 3, 0]))


def test_discriminative_accuracy_is_near_half_for_the_same_source_and_high_for_noise():
    rng = np.random.default_rng(0)
    phase = rng.uniform(0, 2 * np.pi, (600, 1))
    real = np.sin(np.arange(32)[None] / 4 + phase)[..., None]
    same = np.sin(np.arange(32)[None] / 4 + rng.uniform(0, 2 * np.pi, (600, 1)))[..., None]
    noise = rng.standard_normal((600, 32, 1))
    # 30 trees instead of the default 100: the same verdicts, a third of the time
    assert T.discriminative_accuracy(real, same, max_iter=30) < 0.65
    assert T.discriminative_accuracy(real, noise, max_iter=30) > 0.95
    with pytest.raises(ValueError, match="one shape"):
        T.discriminative_accuracy(real, noise[:, :16])


def test_plot_scores_draws_one_row_per_score(monkeypatch):
    monkeypatch.setenv("MPLBACKEND", "Agg")
    import matplotlib

    matplotlib.use("Agg")
    labels = np.zeros(200, bool)
    labels[50:60] = True
    fig = T.plot_scores(np.arange(200.0), labels, {"a": np.ones(200)}, {"a": 0.5}, span=(20, 120))
    assert len(fig.axes) == 2
    with pytest.raises(ValueError, match="score 'b' has 3 steps"):
        T.plot_scores(np.arange(200.0), labels, {"b": np.ones(3)})
