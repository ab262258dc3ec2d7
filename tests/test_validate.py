"""One rule for integral arguments everywhere: any integer type in, floats, bools and strings out;
validation lives in aelib/_validate.py, and no module reaches into another module's private names."""

import ast
from pathlib import Path

import numpy as np
import pytest

from aelib import (
    _validate,
    anomaly,
    data,
    models,
    pca_compare,
    plots,
    spectra,
    training,
    upsampling,
)

AELIB = Path(__file__).resolve().parent.parent / "aelib"


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


def _denoise():
    return pytest.importorskip("aelib.denoise")


_X = np.random.default_rng(0).random((40, 6))
_IMG = np.random.default_rng(0).random((4, 12, 12, 1)).astype(np.float32)


@pytest.mark.parametrize(
    "call,where",
    [
        (lambda: anomaly.fpr_tolerance(0.05, 100.0, 10), r"fpr_tolerance\(\): n_val"),
        (lambda: anomaly.fpr_tolerance(0.05, 100, True), r"fpr_tolerance\(\): n_test"),
        (lambda: anomaly.split_normal(np.arange(20), 5.0, 5), r"split_normal\(\): n_fit"),
        (lambda: anomaly.split_normal(np.arange(20), 5, 5, seed=1.5), r"split_normal\(\): seed"),
        (lambda: anomaly.pca_scores(_X, _X, n_components=2.0), r"pca_scores\(\): n_components"),
        (lambda: anomaly.pca_code_scores(_X, _X, 2, k=True), r"pca_code_scores\(\): k"),
        (lambda: anomaly.iforest_scores(_X, _X, n_estimators=10.5), r"iforest_scores\(\): n_est"),
        (lambda: anomaly.ocsvm_scores(_X, _X, max_train=30.0), r"ocsvm_scores\(\): max_train"),
        (lambda: anomaly.AEScorer(None, k=2.0), r"AEScorer\(\): k"),
        (lambda: anomaly.AEScorer(None, batch_size="64"), r"AEScorer\(\): batch_size"),
        (lambda: anomaly.format_table([{"class": 0, "a": 0.5}], digits=1.0), r"digits"),
        (
            lambda: plots.score_histograms([1.0, 2], [3.0, 4], bins=10.0),
            r"score_histograms\(\): bins",
        ),
        (lambda: _denoise().median_filter(_IMG, 3.0), r"median_filter\(\): size"),
        (lambda: _denoise().PCAProjection(_IMG, max_k=4.5), r"PCAProjection\(\): max_k"),
        (lambda: _denoise().PCAProjection(_IMG)(_IMG, 2.0), r"PCAProjection\(\): k"),
        (
            lambda: _denoise().corrupt_mixed(_IMG, [("gaussian", 0.1), ("mask", 0.1)], seed=1.0),
            r"corrupt_mixed\(\): seed",
        ),
        (
            lambda: _denoise().CorruptedBatches(_IMG, ("gaussian", 0.1), batch_size=np.float64(2)),
            r"CorruptedBatches\(\): batch_size",
        ),
        (
            lambda: _denoise().posterior_mean(_IMG, _IMG, 0.1, chunk=2.0),
            r"posterior_mean\(\): chunk",
        ),
        (lambda: _denoise().gaussian_noise(_IMG, 0.1, seed=1.0), r"gaussian_noise\(\): seed"),
        (lambda: _denoise().bm3d_denoise(_IMG, 0.1, per_mosaic=2.5), r"per_mosaic|bm3d"),
    ],
)
def test_anomaly_and_denoise_refuse_non_integers_by_name(call, where):
    try:
        call()
    except ImportError:  # bm3d_denoise without the optional bm3d package
        pytest.skip("optional package missing")
    except ValueError as err:
        assert __import__("re").search(where, str(err)), str(err)
    else:
        pytest.fail("accepted a non-integer")


def test_anomaly_and_denoise_accept_numpy_integers():
    denoise = _denoise()
    assert anomaly.fpr_tolerance(0.05, np.int64(100), np.uint16(50)) == anomaly.fpr_tolerance(
        0.05, 100, 50
    )
    fit, val, cal = anomaly.split_normal(np.arange(20), np.int64(5), np.uint8(5), np.int32(2))
    assert (len(fit), len(val), len(cal)) == (5, 5, 2)
    np.testing.assert_array_equal(
        anomaly.pca_scores(_X, _X, np.int64(2)), anomaly.pca_scores(_X, _X, 2)
    )
    assert anomaly.AEScorer(None, k=np.int64(3), batch_size=np.int32(8)).k == 3
    np.testing.assert_array_equal(
        denoise.median_filter(_IMG, np.int64(3)), denoise.median_filter(_IMG, 3)
    )
    assert denoise.CorruptedBatches(_IMG, ("gaussian", 0.1), batch_size=np.int64(3)).batch_size == 3
    proj = denoise.PCAProjection(_IMG, max_k=np.int64(3))
    np.testing.assert_array_equal(proj(_IMG, np.int64(2)), proj(_IMG, 2))


def test_group_error_tracker_takes_a_numpy_batch_size():
    pytest.importorskip("keras")
    tracker = anomaly.GroupErrorTracker({"a": _IMG}, batch_size=np.int64(8))
    assert tracker.batch_size == 8 and type(tracker.batch_size) is int
    with pytest.raises(ValueError, match=r"GroupErrorTracker\(\): batch_size must be a positive"):
        anomaly.GroupErrorTracker({"a": _IMG}, batch_size=8.0)


def test_numbers_scores_labels_and_images():
    assert _validate.number(np.float32(0.5), "a", "f", 0, 1) == 0.5
    for bad in (True, "0.5", None, float("nan"), float("inf")):
        with pytest.raises(ValueError, match=r"f\(\): a must be a finite number"):
            _validate.number(bad, "a", "f")
    with pytest.raises(ValueError, match=r"a must be a number in \(0, 1\), got 1"):
        _validate.number(1, "a", "f", 0, 1, exclusive=True)
    with pytest.raises(ValueError, match="a must be a positive number, got 0"):
        _validate.number(0, "a", "f", minimum=0, exclusive=True)
    with pytest.raises(ValueError, match="a must be a number >= 0, got -1"):
        _validate.number(-1, "a", "f", minimum=0)
    assert _validate.values_1d([1, 2], "s", "f").dtype == np.float64
    with pytest.raises(ValueError, match="1 NaN or infinite"):
        _validate.values_1d([1, np.nan], "s", "f")
    with pytest.raises(ValueError, match="s must be a 1-D array of numbers"):
        _validate.values_1d(["a", "b"], "s", "f")
    assert _validate.binary_labels([0, 1], 2, "f").dtype == bool
    with pytest.raises(ValueError, match="booleans or 0/1"):
        _validate.binary_labels(["x", "y"], 2, "f")
    with pytest.raises(ValueError, match="both anomalies"):
        _validate.binary_labels([1, 1], 2, "f")
    with pytest.raises(ValueError, match=r"g\(\): x must hold values in \[0, 1\]"):
        _validate.images(_IMG * 3, "g")
    with pytest.raises(ValueError, match="convert uint8 images"):
        _validate.images((_IMG * 255).astype(np.uint8), "g")


def _private_reaches(path: Path) -> list[str]:
    """``from .mod import _name`` and ``mod._name`` where ``mod`` is another aelib module."""
    tree = ast.parse(path.read_text(encoding="utf-8"))
    siblings = {p.stem for p in AELIB.glob("*.py")}
    modules = set()
    found = []
    for node in ast.walk(tree):
        if isinstance(node, ast.ImportFrom) and node.level == 1:
            if node.module is None:
                modules |= {a.asname or a.name for a in node.names if a.name in siblings}
            elif not node.module.startswith("_"):
                found += [
                    f"from .{node.module} import {a.name}"
                    for a in node.names
                    if a.name.startswith("_") and not a.name.startswith("__")
                ]
    for node in ast.walk(tree):
        if (
            isinstance(node, ast.Attribute)
            and isinstance(node.value, ast.Name)
            and node.value.id in modules
            and not node.value.id.startswith("_")
            and node.attr.startswith("_")
            and not node.attr.startswith("__")
        ):
            found.append(f"{node.value.id}.{node.attr}")
    return found


def test_no_module_uses_another_modules_private_helpers():
    found = {p.name: _private_reaches(p) for p in sorted(AELIB.glob("*.py"))}
    bad = {name: f for name, f in found.items() if f}
    assert not bad, f"private helpers of other modules in use (move them to _validate): {bad}"


@pytest.mark.parametrize("value", [True, False, np.bool_(True), np.bool_(False)])
def test_flag_accepts_python_and_numpy_booleans(value):
    got = _validate.flag(value, "skips", "f")
    assert type(got) is bool and got == bool(value)


@pytest.mark.parametrize("value", [1, 0, "yes", None, np.array([True])])
def test_flag_refuses_anything_else(value):
    with pytest.raises(ValueError, match=r"f\(\): skips must be True or False, got"):
        _validate.flag(value, "skips", "f")
