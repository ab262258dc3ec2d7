import os

os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "3")
os.environ.setdefault("KERAS_BACKEND", "tensorflow")
os.environ.setdefault("MPLBACKEND", "Agg")
import math

import numpy as np
import pytest

from aelib import anomaly, metrics, plots


def synthetic_errors(n=2000, seed=0):
    """Normal errors ~ lognormal, anomalies shifted up: a stand-in for reconstruction errors."""
    rng = np.random.default_rng(seed)
    return rng.lognormal(-4.0, 0.3, n), rng.lognormal(-3.0, 0.3, n)


# ----- threshold rules


def test_threshold_fpr_hits_its_target_on_fresh_normal_data():
    val, _ = synthetic_errors(20_000, seed=1)
    test, _ = synthetic_errors(20_000, seed=2)
    for target in (0.01, 0.05, 0.2):
        t = anomaly.threshold_fpr(val, target)
        fpr = np.mean(test > t)
        assert abs(fpr - target) <= anomaly.fpr_tolerance(target, len(val), len(test))
        assert t == pytest.approx(anomaly.threshold_percentile(val, 100 * (1 - target)))


def test_threshold_percentile_small_exact_case():
    # np.percentile with linear interpolation: the 50th of 1..5 is 3, the 75th is 4.
    assert anomaly.threshold_percentile([5, 1, 3, 2, 4], 50) == 3.0
    assert anomaly.threshold_percentile([5, 1, 3, 2, 4], 75) == 4.0


def test_mean_std_and_max_rules():
    e = np.array([1.0, 2.0, 3.0, 4.0, 5.0])
    assert anomaly.threshold_mean_std(e, k=0) == 3.0
    assert anomaly.threshold_mean_std(e, k=2) == pytest.approx(3.0 + 2 * math.sqrt(2.5))
    assert anomaly.threshold_max(e) == 5.0


@pytest.mark.parametrize("percentile", [0, 100, -5, 150, float("nan"), "95", True])
def test_percentile_outside_open_interval_is_rejected(percentile):
    with pytest.raises(ValueError, match="percentile"):
        anomaly.threshold_percentile([0.1, 0.2], percentile)


@pytest.mark.parametrize("target", [0, 1, -0.1, 5, float("inf")])
def test_target_fpr_outside_open_interval_is_rejected(target):
    with pytest.raises(ValueError, match="target_fpr"):
        anomaly.threshold_fpr([0.1, 0.2], target)


@pytest.mark.parametrize(
    "rule",
    [
        anomaly.threshold_percentile,
        anomaly.threshold_fpr,
        anomaly.threshold_mean_std,
        anomaly.threshold_max,
    ],
)
def test_rules_reject_empty_nan_and_2d_errors(rule):
    with pytest.raises(ValueError, match="is empty"):
        rule([])
    with pytest.raises(ValueError, match="1 NaN or infinite"):
        rule([0.1, float("nan"), 0.3])
    with pytest.raises(ValueError, match="1-D"):
        rule(np.ones((3, 2)))


def test_mean_std_bad_k_and_single_error():
    with pytest.raises(ValueError, match="k must be a number >= 0"):
        anomaly.threshold_mean_std([1.0, 2.0], k=-1)
    with pytest.raises(ValueError, match="at least 2 errors"):
        anomaly.threshold_mean_std([1.0], k=1)


def test_fpr_tolerance_formula_and_arguments():
    assert anomaly.fpr_tolerance(0.05, 100, 100, z=1) == pytest.approx(
        math.sqrt(0.05 * 0.95 * 0.02)
    )
    with pytest.raises(ValueError, match="n_val"):
        anomaly.fpr_tolerance(0.05, 0, 10)
    with pytest.raises(ValueError, match="target_fpr"):
        anomaly.fpr_tolerance(1.5, 10, 10)


# ----- baselines


def test_baselines_rank_off_manifold_points_higher():
    rng = np.random.default_rng(0)
    basis = rng.normal(size=(3, 20))
    normal = rng.normal(size=(300, 3)) @ basis
    test_normal = rng.normal(size=(50, 3)) @ basis
    test_anom = test_normal + 3.0 * rng.normal(size=(50, 20))
    x_test = np.concatenate([test_normal, test_anom])
    lab = np.r_[np.zeros(50, bool), np.ones(50, bool)]
    assert metrics.auroc(anomaly.pca_scores(normal, x_test, 3), lab) > 0.99
    assert metrics.auroc(anomaly.ocsvm_scores(normal, x_test, max_train=200), lab) > 0.9
    assert metrics.auroc(anomaly.iforest_scores(normal, x_test), lab) > 0.8
    with pytest.raises(ValueError, match="n_components"):
        anomaly.pca_scores(normal, x_test, 0)
    with pytest.raises(ValueError, match="nu"):
        anomaly.ocsvm_scores(normal, x_test, nu=0)
    # the PCA-code kNN distance sees anomalies inside the subspace but far from the normal codes
    # (their reconstruction error is zero up to rounding); whitened, so it does not depend on scale
    x_far = np.concatenate([test_normal, (rng.normal(size=(50, 3)) + 6.0) @ basis])
    code = anomaly.pca_code_scores(normal, x_far, 3, k=5)
    assert code.shape == (100,) and metrics.auroc(code, lab) > 0.99
    np.testing.assert_allclose(anomaly.pca_code_scores(10 * normal, 10 * x_far, 3), code, rtol=1e-5)
    with pytest.raises(ValueError, match="k must be an int"):
        anomaly.pca_code_scores(normal, x_test, 3, k=0)
    # gamma as a multiple of the "scale" value equals the explicit number
    g = 1.0 / (normal.shape[1] * normal.var())
    np.testing.assert_allclose(
        anomaly.ocsvm_scores(normal, x_test, gamma=("scale", 2.0)),
        anomaly.ocsvm_scores(normal, x_test, gamma=2 * g),
        rtol=1e-6,
    )
    with pytest.raises(ValueError, match="gamma"):
        anomaly.ocsvm_scores(normal, x_test, gamma=("auto", 1.0))
    with pytest.raises(ValueError, match="gamma must be a positive number"):
        anomaly.ocsvm_scores(normal, x_test, gamma=-1.0)
    assert anomaly.iforest_scores(normal, x_test, max_samples=1000).shape == (100,)
    with pytest.raises(ValueError, match="max_samples"):
        anomaly.iforest_scores(normal, x_test, max_samples=0.5)


def test_format_table_mean_row():
    rows = [{"class": 0, "a": 0.9, "b": 0.5}, {"class": 1, "a": 0.7, "b": 0.5}]
    text = anomaly.format_table(rows, class_names=["x", "y"], columns={"b": "B", "a": "A"})
    lines = text.splitlines()
    assert lines[0].split() == ["class", "B", "A"]
    assert lines[1].split() == ["0", "x", "50.0", "90.0"]
    assert lines[-1].split() == ["mean", "50.0", "80.0"]
    with pytest.raises(ValueError, match=r"\['c'\] are missing"):
        anomaly.format_table(rows, columns=["c"])


def test_format_table_with_seeds_shows_mean_and_spread():
    rows = [{"class": 0, "a": [0.9, 0.8]}, {"class": 1, "a": [0.7, 0.6]}]
    lines = anomaly.format_table(rows).splitlines()
    assert lines[1].split() == ["0", "85.0", "±", "7.1"]
    # the mean row: per seed means (0.8, 0.7), then their mean and std
    assert lines[-1].split() == ["mean", "75.0", "±", "7.1"]
    with pytest.raises(ValueError, match="different numbers of seeds"):
        anomaly.format_table([{"class": 0, "a": [0.9, 0.8]}, {"class": 1, "a": [0.7]}])


# ----- the Keras parts


@pytest.fixture(scope="module")
def tiny():
    keras = pytest.importorskip("keras")
    from aelib import models

    keras.utils.set_random_seed(0)
    rng = np.random.default_rng(0)
    # normal: a bright square top-left; anomalies: the square bottom-right
    normal = np.zeros((64, 8, 8, 1), np.float32)
    normal[:, 1:4, 1:4] = rng.uniform(0.6, 1.0, (64, 1, 1, 1))
    anom = np.zeros((16, 8, 8, 1), np.float32)
    anom[:, 4:7, 4:7] = rng.uniform(0.6, 1.0, (16, 1, 1, 1))
    model = models.dense_autoencoder((8, 8, 1), code_size=2, hidden=(16,))
    model.compile(optimizer=keras.optimizers.Adam(1e-2), loss="mse")
    tracker = anomaly.GroupErrorTracker({"normal": normal[:16], "anomalous": anom}, batch_size=32)
    model.fit(normal[16:], normal[16:], epochs=3, batch_size=16, verbose=0, callbacks=[tracker])
    return model, tracker, normal, anom


def test_tracker_records_one_mean_error_per_epoch(tiny):
    model, tracker, normal, anom = tiny
    assert tracker.epochs == [0, 1, 2, 3]
    assert set(tracker.history) == {"normal", "anomalous"}
    assert all(len(v) == 4 for v in tracker.history.values())
    # the last entry is the mean error of the trained model on that group
    last = anomaly.reconstruction_errors(model, anom).mean()
    assert tracker.history["anomalous"][-1] == pytest.approx(last, rel=1e-5)
    # training on normal images lowers their error
    assert tracker.history["normal"][-1] < tracker.history["normal"][0]


def test_tracker_rejects_bad_groups():
    with pytest.raises(ValueError, match="non-empty dict"):
        anomaly.GroupErrorTracker({})
    with pytest.raises(ValueError, match="group 'a'"):
        anomaly.GroupErrorTracker({"a": np.zeros((0, 8, 8, 1))})


def test_ae_scorer_parts_and_standardisation(tiny):
    model, _, normal, anom = tiny
    scorer = anomaly.AEScorer(model).fit(normal[16:], normal[:16])
    parts = scorer.parts(normal[:16])
    assert set(parts) == {"mse", "pixel", "code"} and parts["pixel"].shape == (16,)
    # the "mse" part is the plain per-image error
    np.testing.assert_allclose(
        parts["mse"], anomaly.reconstruction_errors(model, normal[:16]), rtol=1e-4
    )
    # on the validation images the standardised parts have mean 0, so the score has mean 0
    assert scorer.score(normal[:16]).mean() == pytest.approx(0.0, abs=1e-6)
    only_pixels = anomaly.AEScorer(model, use_code=False).fit(normal[16:], normal[:16])
    assert set(only_pixels.parts(anom)) == {"mse", "pixel"}
    # the Gaussian code distance is the Mahalanobis distance to the mean training code
    gauss = anomaly.AEScorer(model, code_distance="gaussian").fit(normal[16:], normal[:16])
    codes = np.asarray(model.get_layer("encoder").predict(normal, verbose=0), np.float64)
    fit_codes, d = codes[16:], codes[:16] - codes[16:].mean(axis=0)
    precision = np.linalg.inv(np.cov(fit_codes, rowvar=False) + 1e-6 * np.eye(2))
    expected = np.sqrt(np.einsum("ij,jk,ik->i", d, precision, d))
    np.testing.assert_allclose(gauss.parts(normal[:16])["code"], expected, rtol=1e-4)
    with pytest.raises(ValueError, match="code_distance"):
        anomaly.AEScorer(model, code_distance="cosine")
    with pytest.raises(RuntimeError, match="call fit"):
        anomaly.AEScorer(model).score(anom)
    with pytest.raises(ValueError, match="eps must be a positive number"):
        anomaly.AEScorer(model, eps=0)


def test_one_class_run_on_tiny_images():
    pytest.importorskip("keras")
    from aelib import models

    rng = np.random.default_rng(0)
    x = np.zeros((90, 8, 8, 1), np.float32)
    y = np.repeat([0, 1, 2], 30)
    for i, label in enumerate(y):  # class k: a bright square at offset 2k
        x[i, 2 * label : 2 * label + 3, 2 * label : 2 * label + 3] = rng.uniform(0.6, 1.0)
    x_fit, x_val, x_cal = anomaly.split_normal(x[y == 0][:20], None, 5, 5, seed=0)
    x_test = x[20::3]
    grid = [(0.1, ("scale", 1.0)), (0.5, 0.02)]
    scores = anomaly.one_class_run(
        x_fit, x_val, x_test, lambda: models.dense_autoencoder((8, 8, 1), code_size=2, hidden=(8,)),
        epochs=1, batch_size=8, seed=0, k=2, pca_components=(1, 2), ocsvm_grid=grid,
        iforest_grid=(4, "auto"),
    )  # fmt: skip
    expected = [f"ae0:{k}" for k in anomaly.AE_SCORES] + [f"ae:{k}" for k in anomaly.AE_SCORES]
    expected += ["pca:1", "pca:2", "pca_code:2", "ocsvm:0.1,scale*1", "ocsvm:0.5,0.02"]
    expected += ["iforest:4", "iforest:auto"]
    assert list(scores) == expected
    assert all(v.shape == (len(x_test),) and np.all(np.isfinite(v)) for v in scores.values())
    np.testing.assert_allclose(scores["pca:2"], anomaly.pca_scores(x_fit, x_test, 2))
    no_ref = anomaly.one_class_run(
        x_fit, x_val, x_test, lambda: models.dense_autoencoder((8, 8, 1), code_size=2, hidden=(8,)),
        epochs=1, batch_size=8, k=2, pca_components=(2,), untrained=False,
    )  # fmt: skip
    assert not any(k.startswith("ae0:") for k in no_ref)
    with pytest.raises(ValueError, match="x_val must hold at least 2"):
        anomaly.one_class_run(x_fit, x_val[:1], x_test, None, epochs=1, batch_size=8)
    with pytest.raises(ValueError, match="pca_components"):
        anomaly.one_class_run(x_fit, x_val, x_test, None, epochs=1, batch_size=8, pca_components=())


def test_split_normal_parts_are_disjoint_and_sized():
    x = np.arange(20)
    fit, val, cal = anomaly.split_normal(x, 8, 5, 4, seed=3)
    assert (len(fit), len(val), len(cal)) == (8, 5, 4)
    assert len(set(fit) | set(val) | set(cal)) == 17
    rest, val2, _ = anomaly.split_normal(x, None, 5, seed=3)
    assert len(rest) == 15 and np.array_equal(val2, anomaly.split_normal(x, 15, 5, seed=3)[1])
    with pytest.raises(ValueError, match="cannot give"):
        anomaly.split_normal(x, 10, 10, 1)
    with pytest.raises(ValueError, match="n_val must be a non-negative int"):
        anomaly.split_normal(x, 10, -1)


def test_best_setting_and_keys():
    aurocs = {"ocsvm:0.1,scale*1": [0.8, 0.9], "ocsvm:0.5,scale*3": [0.9, 0.95], "ae:mse": [1, 1]}
    assert anomaly.best_setting(aurocs, "ocsvm:") == "ocsvm:0.5,scale*3"
    assert anomaly.ocsvm_key(0.5, ("scale", 3.0)) == "ocsvm:0.5,scale*3"
    assert anomaly.iforest_key(256) == "iforest:256"
    with pytest.raises(ValueError, match="no method starts with 'iforest:'"):
        anomaly.best_setting(aurocs, "iforest:")


def test_figures_are_drawn_and_check_their_input():
    import matplotlib

    matplotlib.use("Agg")
    normal, anom = synthetic_errors(200)
    fig = plots.score_histograms(normal, anom, {"95th percentile": np.percentile(normal, 95)})
    assert len(fig.axes) == 1 and len(fig.axes[0].lines) == 1
    lab = np.r_[np.zeros(200, bool), np.ones(200, bool)]
    fig = plots.roc_pr_curves({"a": np.r_[normal, anom]}, lab)
    assert [ax.get_title() for ax in fig.axes] == ["ROC", "precision-recall"]
    with pytest.raises(ValueError, match="logx=True needs positive scores"):
        plots.score_histograms(normal - 1, anom)
    with pytest.raises(ValueError, match="no scores"):
        plots.roc_pr_curves({}, lab)
