"""Recording a notebook's headline numbers as JSON, and reading them back.

Records are strict JSON (RFC 8259), which has no NaN or infinity: a non-finite number, Python's or
NumPy's alike, is written as one of the strings ``"NaN"``, ``"Infinity"`` or ``"-Infinity"`` (the
spellings JavaScript and Python's ``float()`` understand), and :func:`load_results` turns those
strings back into floats. Every file is written to a temporary file of its own in the same folder
and moved into place with one atomic rename, so two processes may write at once and a reader sees
the old record or the new one, never a part of one.
"""

from __future__ import annotations

import json
import math
import os
import tempfile
import time
from pathlib import Path

import numpy as np

from ._paths import project_root
from .runtime import current_notebook, current_profile, device_name

ENV_VAR = "AELIB_RESULTS_DIR"


def results_dir() -> Path:
    """``$AELIB_RESULTS_DIR``, else ``results/`` in the project root (:func:`aelib._paths.project_root`;
    a notebook runs in ``notebooks/`` and still finds the folder above), else in the current directory."""
    env = os.environ.get(ENV_VAR)
    if env:
        return Path(env)
    return (project_root() or Path.cwd()) / "results"


def _plain(value):
    if isinstance(value, dict):
        return {str(k): _plain(v) for k, v in value.items()}
    if isinstance(value, (list, tuple)):
        return [_plain(v) for v in value]
    if isinstance(value, np.ndarray):
        return _plain(value.tolist())
    if isinstance(value, np.generic):
        return _plain(value.item())
    if isinstance(value, float) and not math.isfinite(value):
        return NON_FINITE[repr(value)] if repr(value) in NON_FINITE else "NaN"
    if isinstance(value, (str, int, float, bool)) or value is None:
        return value
    raise TypeError(f"record(): cannot store a value of type {type(value).__name__}: {value!r}")


# How a non-finite float is written (strict JSON has no NaN or infinity), and read back.
NON_FINITE = {"nan": "NaN", "inf": "Infinity", "-inf": "-Infinity"}
_FROM_TEXT = {text: float(text) for text in NON_FINITE.values()}


def _numbers(value):
    """A record read back, with the strings of :data:`NON_FINITE` turned into floats again."""
    if isinstance(value, dict):
        return {k: _numbers(v) for k, v in value.items()}
    if isinstance(value, list):
        return [_numbers(v) for v in value]
    if isinstance(value, str) and value in _FROM_TEXT:
        return _FROM_TEXT[value]
    return value


def write_json(path: Path | str, payload) -> None:
    """Write ``payload`` to ``path`` as strict, indented JSON, atomically.

    The text goes to a temporary file of this writer's own in the same folder, which then replaces
    ``path`` in one rename: concurrent writers never share a file, and a reader sees the old content
    or the new, never a part of either.

    Raises:
        NotADirectoryError: the folder of ``path`` is a file.
        ValueError: ``payload`` holds NaN or an infinity (convert them first, see :func:`record`).
    """
    path = Path(path)
    folder = path.parent
    if folder.exists() and not folder.is_dir():
        raise NotADirectoryError(
            f"{folder} is not a folder (it is a file): cannot write {path.name}"
        )
    folder.mkdir(parents=True, exist_ok=True)
    text = json.dumps(payload, indent=2, allow_nan=False) + "\n"
    fd, tmp = tempfile.mkstemp(prefix=f".{path.name}.", suffix=".tmp", dir=folder)
    try:
        with os.fdopen(fd, "w", encoding="utf-8") as fh:
            fh.write(text)
        os.replace(tmp, path)
    except BaseException:
        if os.path.exists(tmp):
            os.unlink(tmp)
        raise


def _check_notebook_name(name) -> str:
    if not isinstance(name, str) or not name.strip():
        raise ValueError(f"record(): notebook must be a non-empty name, got {name!r}")
    if name in (".", "..") or name != Path(name).name or "\\" in name or name.startswith("."):
        raise ValueError(
            f"record(): notebook must be a plain name such as '01_autoencoder_vs_pca' (it names a "
            f"file inside the results folder), got {name!r}"
        )
    return name


def record(notebook: str | None = None, **metrics) -> None:
    """Write ``metrics`` to ``<results_dir>/<notebook>.json``.

    The notebook name comes from the argument, else from :func:`aelib.setup`, else
    ``$AELIB_NOTEBOOK``. Values may be numbers, strings, lists, dicts and NumPy scalars or arrays.
    Two string metrics are special: ``headline`` (the notebook's main result, as a sentence with
    its numbers) and ``baseline`` (what it is compared with) make the notebook's row of the
    README's results table (:func:`results_markdown`).

    Prints one line naming the notebook, the profile and the time stamp of the record, so that a
    notebook's saved output says which record it made. Returns nothing (the path would be shown as
    a notebook cell's output); :func:`record_path` gives it. The record names the profile that
    the last :func:`aelib.setup` chose (:func:`aelib.runtime.current_profile`, which falls back to
    ``$AELIB_PROFILE``), so a notebook's record always says which sizes made its numbers.

    Non-finite numbers are written as ``"NaN"``, ``"Infinity"`` or ``"-Infinity"`` (see the
    module's docstring); the file is replaced atomically.

    Raises:
        ValueError: no notebook name is known, the name is not a plain file name (``../x``), or no
            metrics were given.
        NotADirectoryError: the results path is a file.
        TypeError: a value cannot be written as JSON.
    """
    name = notebook or current_notebook()
    if not name:
        raise ValueError("record(): no notebook name; call aelib.setup('NAME') or pass notebook=")
    name = _check_notebook_name(name)
    if not metrics:
        raise ValueError("record(): give at least one metric, e.g. record(test_mse=0.01)")
    for key in ("headline", "baseline"):
        if key in metrics and not (isinstance(metrics[key], str) and metrics[key].strip()):
            raise TypeError(f"record(): {key} must be a non-empty sentence, got {metrics[key]!r}")
    prof = current_profile()
    stamp = time.strftime("%Y-%m-%dT%H:%M:%S%z")
    payload = {
        "notebook": name,
        "profile": prof.name,
        "recorded_at": stamp,
        "machine": device_name(),
        "metrics": _plain(metrics),
    }
    path = record_path(name)
    if path.parent.exists() and not path.parent.is_dir():
        raise NotADirectoryError(
            f"record(): the results folder {path.parent} is not a folder (it is a file): remove it "
            f"or point ${ENV_VAR} at a folder"
        )
    write_json(path, payload)
    print(f"recorded {len(metrics)} metrics for {name} ({prof.name} profile, {stamp})")


def record_path(notebook: str) -> Path:
    """Where :func:`record` writes ``notebook``'s record."""
    return results_dir() / f"{_check_notebook_name(notebook)}.json"


class BadRecord(ValueError):
    """A file in the results folder is not a record; the message names it and the fix."""


def read_record(path: Path | str) -> dict:
    """One record, with non-finite numbers as floats again.

    Raises:
        BadRecord: the file cannot be read, is not JSON, or is not a record (names the file).
    """
    path = Path(path)
    try:
        data = json.loads(path.read_text(encoding="utf-8"))
    except (OSError, UnicodeDecodeError, json.JSONDecodeError) as err:
        raise BadRecord(
            f"{path}: not a readable record ({type(err).__name__}: {err}); re-run its notebook "
            "or delete the file"
        ) from None
    if not isinstance(data, dict) or not isinstance(data.get("metrics", {}), dict):
        raise BadRecord(
            f"{path}: not a record (expected an object with 'notebook' and 'metrics'); re-run its "
            "notebook or delete the file"
        )
    return _numbers(data)


def load_results(directory: Path | str | None = None, skip_bad: bool = False) -> dict[str, dict]:
    """Every ``*.json`` record in ``directory`` (default :func:`results_dir`), by notebook name.

    Args:
        skip_bad: leave out files that are not records, with a warning naming each, instead of
            raising.

    Raises:
        BadRecord: a file is not a record (unless ``skip_bad``).
    """
    import warnings

    folder = Path(directory) if directory else results_dir()
    found = {}
    for path in sorted(folder.glob("[!_]*.json")):
        try:
            data = read_record(path)
        except BadRecord as err:
            if not skip_bad:
                raise
            warnings.warn(f"skipped {err}", stacklevel=2)
            continue
        found[str(data.get("notebook", path.stem))] = data
    return found


def results_markdown(records: dict[str, dict]) -> str:
    """The README's results table: one row per notebook from its record's ``headline`` and
    ``baseline``, with the profile, machine and dates the records came from.

    Raises:
        ValueError: no records, or a record without a headline or baseline (names the notebook).
    """
    if not records:
        raise ValueError("no records: `make outputs` writes them")
    lines = ["| notebook | headline | baseline |", "|---|---|---|"]
    for name in sorted(records):
        metrics = records[name].get("metrics", {})
        missing = [k for k in ("headline", "baseline") if not metrics.get(k)]
        if missing:
            raise ValueError(f"{name}: the record has no {' or '.join(missing)}")
        cells = [metrics["headline"], metrics["baseline"]]
        lines.append(f"| {name[:2]} | " + " | ".join(c.replace("|", "\\|") for c in cells) + " |")
    profiles = sorted({r.get("profile", "?") for r in records.values()})
    machines = sorted({r.get("machine", "?") for r in records.values()})
    dates = sorted(r.get("recorded_at", "?")[:10] for r in records.values())
    span = dates[0] if dates[0] == dates[-1] else f"{dates[0]} to {dates[-1]}"
    lines.append("")
    lines.append(
        f"From the records of the runs behind the committed outputs ({', '.join(profiles)} "
        f"profile; {'; '.join(machines)}; {span})."
    )
    return "\n".join(lines)
