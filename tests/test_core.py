"""Profiles, setup, claims, records and metrics."""

import json

import numpy as np
import pytest

import aelib
from aelib import metrics, profiles, results, runtime


def test_profile_from_environment(monkeypatch):
    monkeypatch.delenv("AELIB_PROFILE", raising=False)
    assert profiles.get_profile().name == "full"
    monkeypatch.setenv("AELIB_PROFILE", "quick")
    assert profiles.get_profile().name == "quick"
    monkeypatch.setenv("AELIB_PROFILE", "fast")
    with pytest.raises(
        ValueError, match=r"unknown \$AELIB_PROFILE 'fast': expected one of full, quick"
    ):
        profiles.get_profile()


def test_quick_is_smaller_than_full():
    q, f = profiles.PROFILES["quick"], profiles.PROFILES["full"]
    assert q.epochs <= f.epochs and q.sweep_epochs <= f.sweep_epochs
    assert q.n_train is not None and (f.n_train is None or q.n_train < f.n_train)
    assert set(q.code_sizes) <= set(f.code_sizes)


def test_setup_seeds_and_returns_profile(monkeypatch, capsys):
    monkeypatch.setenv("AELIB_PROFILE", "quick")
    p = aelib.setup("nb_test", seed=7)
    assert p.name == "quick"
    assert "profile=quick" in capsys.readouterr().out
    a = np.random.rand(3)
    aelib.setup("nb_test", seed=7)
    np.testing.assert_array_equal(a, np.random.rand(3))
    assert runtime.current_notebook() == "nb_test"


def test_sizes_are_the_same_on_every_device():
    # a GPU makes a run faster, never different: no profile field depends on the device
    assert "on_gpu" not in profiles.Profile.__dataclass_fields__
    assert "device" not in profiles.Profile.__dataclass_fields__


def test_setup_rejects_unknown_profile():
    with pytest.raises(ValueError, match="unknown profile 'huge'"):
        aelib.setup(profile="huge")


def test_check_prints_one_line_and_raises_with_numbers(capsys):
    # Nothing is returned, so a check cell shows its one line and no `True` under it.
    assert aelib.check("two is more than one", 2 > 1, kind="fact", a=2, b=1) is None
    assert capsys.readouterr().out == "CHECK passed: two is more than one\n"
    with pytest.raises(
        aelib.ClaimFailed, match=r"claim does not hold: PCA wins \(ae=0.02, pca=0.01\)"
    ):
        aelib.check("PCA wins", np.float64(0.02) < 0.01, kind="learned", ae=0.02, pca=0.01)
    with pytest.raises(ValueError, match="non-empty"):
        aelib.check("", True, kind="fact")


@pytest.mark.parametrize(
    "verdict", [float("nan"), None, 1, 0.0, np.float64(1.0), np.array([True, False]), "yes"]
)
def test_check_refuses_what_is_not_a_boolean(verdict):
    with pytest.raises(TypeError, match="must be True or False"):
        aelib.check("a claim", verdict, kind="learned")


def test_check_needs_a_known_kind():
    with pytest.raises(TypeError, match="kind"):
        aelib.check("a claim", True)
    with pytest.raises(ValueError, match="learned, measured, fact.*'evidence'"):
        aelib.check("a claim", True, kind="evidence")
    aelib.check("NumPy booleans count", np.bool_(True), kind="measured")
    aelib.check("so do 0-d boolean arrays", np.array(True), kind="measured")
    with pytest.raises(aelib.ClaimFailed):
        aelib.check("a false 0-d array fails", np.array(False), kind="measured")


def test_check_under_audit_records_instead_of_raising(tmp_path, monkeypatch, capsys):
    target = tmp_path / "claims.jsonl"
    monkeypatch.setenv("AELIB_AUDIT", str(target))
    assert aelib.check("untrained models lose", False, kind="learned", err=0.5) is None
    aelib.check("a shape", True, kind="fact")
    assert "CHECK failed (learned, training off): untrained models lose" in capsys.readouterr().out
    from aelib.audit import read_verdicts
    from aelib.runtime import current_notebook

    first, second = read_verdicts(target)
    assert first == {
        "notebook": current_notebook(),
        "statement": "untrained models lose",
        "kind": "learned",
        "passed": False,
        "numbers": "err=0.5",
    }
    assert second["kind"] == "fact" and second["passed"] is True


def test_audit_switches_training_off(tmp_path, monkeypatch, capsys):
    import keras

    monkeypatch.setenv("AELIB_AUDIT", str(tmp_path / "claims.jsonl"))
    original = keras.Model.fit
    try:
        aelib.setup("99_demo", profile="quick")
        assert "training is switched off" in capsys.readouterr().out
        model = keras.Sequential([keras.Input((3,)), keras.layers.Dense(2)])
        model.compile("adam", "mse")
        before = [w.copy() for w in model.get_weights()]
        x, y = np.ones((16, 3), "float32"), np.zeros((16, 2), "float32")
        hist = model.fit(x, y, 8, 5, verbose=0, validation_data=(x, y))  # positional epochs too
        assert hist.epoch == [] and hist.history["loss"] == [] and hist.history["val_loss"] == []
        assert all(np.array_equal(a, b) for a, b in zip(before, model.get_weights(), strict=True))
        assert int(model.optimizer.iterations.numpy()) == 0
    finally:
        keras.Model.fit = original


def test_record_writes_json(tmp_path, monkeypatch):
    monkeypatch.setenv("AELIB_RESULTS_DIR", str(tmp_path))
    monkeypatch.setenv("AELIB_PROFILE", "quick")
    aelib.setup("nb_rec")
    made = aelib.record(
        mse=np.float32(0.5), per_code={2: 0.1, 4: np.float64(0.05)}, arr=np.arange(3)
    )
    assert made is None  # a notebook cell shows no machine path
    path = results.record_path("nb_rec")
    payload = json.loads(path.read_text())
    assert path == tmp_path / "nb_rec.json"
    assert payload["notebook"] == "nb_rec" and payload["profile"] == "quick"
    assert payload["metrics"] == {"mse": 0.5, "per_code": {"2": 0.1, "4": 0.05}, "arr": [0, 1, 2]}
    assert results.load_results(tmp_path)["nb_rec"]["metrics"]["mse"] == 0.5
    with pytest.raises(TypeError, match="cannot store a value of type object"):
        aelib.record(thing=object())
    with pytest.raises(ValueError, match="at least one metric"):
        aelib.record()
    with pytest.raises(TypeError, match="headline must be a non-empty sentence"):
        aelib.record(headline=0.5)


def test_results_table_comes_from_the_records():
    rec = {
        "02_b": {
            "profile": "full",
            "machine": "m",
            "recorded_at": "2026-12-04T10:00:00+0000",
            "metrics": {"headline": "x **1** | y", "baseline": "z"},
        },
        "01_a": {
            "profile": "full",
            "machine": "m",
            "recorded_at": "2026-12-03T10:00:00+0000",
            "metrics": {"headline": "a", "baseline": "b"},
        },
    }
    table = results.results_markdown(rec)
    assert table.splitlines()[2:4] == ["| 01 | a | b |", "| 02 | x **1** \\| y | z |"]
    assert "(full profile; m; 2026-12-03 to 2026-12-04)" in table
    del rec["01_a"]["metrics"]["baseline"]
    with pytest.raises(ValueError, match="01_a: the record has no baseline"):
        results.results_markdown(rec)


def test_metrics():
    x = np.zeros((2, 2, 2, 1))
    y = np.ones((2, 2, 2, 1)) * 0.5
    np.testing.assert_allclose(metrics.per_sample_mse(x, y), [0.25, 0.25])
    assert metrics.mse(x, y) == pytest.approx(0.25)
    assert metrics.sse_per_image(x, y) == pytest.approx(1.0)
    with pytest.raises(ValueError, match=r"shape \(2, 2, 2, 1\) but x_hat has shape \(2, 4\)"):
        metrics.mse(x, y.reshape(2, 4))


def test_principal_angles():
    rng = np.random.default_rng(0)
    a = rng.normal(size=(10, 3))
    mix = rng.normal(size=(3, 3))
    np.testing.assert_allclose(metrics.principal_angles(a, a @ mix), 0, atol=1e-5)
    e = np.eye(4)
    ang = metrics.principal_angles(e[:, :2], e[:, [0, 2]])
    np.testing.assert_allclose(ang, [0, 90], atol=1e-6)
    with pytest.raises(ValueError, match="need"):
        metrics.principal_angles(a, np.ones((5, 2)))


def test_import_is_light():
    import subprocess
    import sys

    code = "import sys, aelib; print('tensorflow' in sys.modules, 'keras' in sys.modules)"
    out = subprocess.run(
        [sys.executable, "-c", code], capture_output=True, text=True, check=True
    ).stdout
    assert out.strip() == "False False"


def test_psnr_and_ssim():
    rng = np.random.default_rng(0)
    x = rng.random((4, 16, 16, 1))
    noisy = np.clip(x + rng.normal(0, 0.1, x.shape), 0, 1)
    p = metrics.psnr(x, noisy)
    assert p.shape == (4,)
    np.testing.assert_allclose(p, 10 * np.log10(1 / metrics.per_sample_mse(x, noisy)))
    assert metrics.mean_psnr(x, x) == 100.0
    s_same = metrics.ssim(x, x)
    np.testing.assert_allclose(s_same, 1.0, atol=1e-9)
    s_noisy = metrics.ssim(x, noisy)
    s_noisier = metrics.ssim(x, np.clip(x + rng.normal(0, 0.3, x.shape), 0, 1))
    assert np.all(s_noisy < 1) and np.all(s_noisier < s_noisy)
    # SSIM ignores a constant shift far less than MSE does: it is not a function of MSE alone.
    assert metrics.ssim(x[..., 0], noisy[..., 0]).shape == (4,)
