"""The run-time record: how long each notebook took, per profile and machine, as JSON, and its
Markdown table (``aelib run --runtimes FILE`` writes the record, ``aelib runtimes FILE`` prints the
table, the checkout's ``tools/readme_tables.py`` puts it into the README).

Layout: ``{"<profile> @ <device>": {"profile": ..., "device": ..., "notebooks": {"<name>":
{"seconds": ..., "slowest_cells": [[cell, seconds], ...], "date": "YYYY-MM-DD", "keras": ...,
"python": ..., "tensorflow": ...}}}}``.
"""

from __future__ import annotations

import json
import platform
import sys
from datetime import date, datetime
from pathlib import Path

from .runner import NotebookRun, plain


def _err(message: str) -> None:
    print(plain(message), file=sys.stderr, flush=True)


def _runtimes_problem(record) -> str | None:
    """Why ``record`` is not a run-time record (None when it is one)."""
    if not isinstance(record, dict):
        return f"expected a JSON object, found {type(record).__name__}"
    for key, entry in record.items():
        if not isinstance(entry, dict):
            return f"entry {key!r} is {type(entry).__name__}, expected an object"
        for field_name in ("profile", "device"):
            if not isinstance(entry.get(field_name), str):
                return f"entry {key!r} has no {field_name!r} text"
        notebooks = entry.get("notebooks")
        if not isinstance(notebooks, dict) or not notebooks:
            return f"entry {key!r} has no 'notebooks' object with at least one run"
        for name, run in notebooks.items():
            if not isinstance(run, dict):
                return f"entry {key!r}, notebook {name!r}: expected an object, found {run!r}"
            secs = run.get("seconds")
            if isinstance(secs, bool) or not isinstance(secs, (int, float)) or secs < 0:
                return f"entry {key!r}, notebook {name!r}: 'seconds' must be a number >= 0"
            if not isinstance(run.get("date"), str):
                return f"entry {key!r}, notebook {name!r}: no 'date'"
    return None


def read_runtimes(path: Path) -> dict:
    """The run-time record at ``path``.

    Raises:
        ValueError: the file is not JSON or not a run-time record; the message says what is wrong.
        OSError: the file cannot be read.
    """
    try:
        record = json.loads(Path(path).read_text(encoding="utf-8"))
    except (json.JSONDecodeError, UnicodeDecodeError) as err:
        raise ValueError(f"not a JSON file ({err})") from None
    problem = _runtimes_problem(record)
    if problem:
        raise ValueError(f"not a run-time record: {problem}")
    return record


def record_runtimes(path: Path, profile: str, device: str, runs: dict[str, NotebookRun]) -> dict:
    """Merge one ``aelib run`` into the run-time record at ``path`` (JSON) and return the record.

    The record holds one entry per (profile, device): the notebooks' wall-clock seconds, their three
    slowest code cells, the date and the library versions. A later run of the same notebook on the
    same profile and device replaces the earlier one; other notebooks' entries are kept.

    A file at ``path`` that is not such a record (corrupt, or another layout) is never overwritten:
    it is renamed to ``<name>.unreadable-<time>`` (the warning names it) and a new record starts.
    The file is replaced atomically.
    """
    import warnings

    import keras

    from .results import write_json

    path = Path(path)
    record = {}
    if path.exists():
        try:
            record = read_runtimes(path)
        except (ValueError, OSError) as err:
            kept = path.with_name(f"{path.name}.unreadable-{datetime.now():%Y%m%d-%H%M%S}")
            path.replace(kept)
            warnings.warn(
                f"{path}: {err}; kept it as {kept} and started a new record", stacklevel=2
            )
            _err(f"aelib run: {path}: {err}; kept it as {kept} and started a new record")
            record = {}
    key = f"{profile} @ {device}"
    entry = record.setdefault(key, {"profile": profile, "device": device, "notebooks": {}})
    versions = {"keras": keras.__version__, "python": platform.python_version()}
    try:
        import tensorflow as tf

        versions["tensorflow"] = tf.__version__
    except ImportError:  # Keras on another backend: name it
        versions["backend"] = keras.backend.backend()
        try:
            import jax

            versions["jax"] = jax.__version__
        except ImportError:  # pragma: no cover
            pass
    for name, run in runs.items():
        entry["notebooks"][name] = {
            "seconds": round(run.seconds, 1),
            "slowest_cells": run.slowest(),
            "date": date.today().isoformat(),
            **versions,
        }
    entry["notebooks"] = dict(sorted(entry["notebooks"].items()))
    write_json(path, record)
    return record


def _duration(seconds: float) -> str:
    seconds = round(seconds)
    return f"{seconds} s" if seconds < 60 else f"{seconds // 60} min {seconds % 60:02d} s"


def runtimes_markdown(record: dict) -> str:
    """A Markdown table of a run-time record: a row per notebook, a column per (profile, device)."""
    if not record:
        raise ValueError("the run-time record is empty: run `aelib run` first")
    problem = _runtimes_problem(record)
    if problem:
        raise ValueError(f"not a run-time record: {problem}")
    order = {"quick": 0, "full": 1}  # CPU columns first, then GPUs; the quick run before the full
    keys = sorted(
        record,
        key=lambda k: (
            not record[k]["device"].endswith("no GPU"),
            record[k]["device"],
            order.get(record[k]["profile"], 9),
        ),
    )
    names = sorted({nb for k in keys for nb in record[k]["notebooks"]})
    header = (
        "| notebook | "
        + " | ".join(f"{record[k]['profile']} [{i + 1}]" for i, k in enumerate(keys))
        + " |"
    )
    lines = [header, "|---|" + "---:|" * len(keys)]
    for nb in names:
        cells = []
        for k in keys:
            run = record[k]["notebooks"].get(nb)
            cells.append(_duration(run["seconds"]) if run else "-")
        lines.append(f"| {nb} | " + " | ".join(cells) + " |")
    totals = []
    for k in keys:
        runs = record[k]["notebooks"]
        complete = all(nb in runs for nb in names)
        total = _duration(sum(r["seconds"] for r in runs.values()))
        totals.append(f"**{total}**" if complete else f"{total} (partial)")
    lines.append("| **all** | " + " | ".join(totals) + " |")
    lines.append("")
    for i, k in enumerate(keys):
        runs = record[k]["notebooks"].values()
        dates = sorted({r["date"] for r in runs})
        first = next(iter(runs))
        span = dates[0] if len(dates) == 1 else f"{dates[0]} to {dates[-1]}"
        backend = (
            f"TensorFlow {first['tensorflow']}"
            if "tensorflow" in first
            else f"Keras' {first.get('backend', '?')} backend"
            + (f" (JAX {first['jax']})" if "jax" in first else "")
        )
        lines.append(
            f"[{i + 1}] `{record[k]['profile']}` profile on {record[k]['device']}; {span}, "
            f"{backend}, Keras {first.get('keras', '?')}."
        )
    return "\n".join(lines)
