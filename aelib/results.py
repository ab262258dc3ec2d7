"""Recording a notebook's headline numbers as JSON, and reading them back."""

from __future__ import annotations

import json
import os
import time
from pathlib import Path

import numpy as np

from .runtime import current_notebook, current_profile, device_name

ENV_VAR = "AELIB_RESULTS_DIR"


def results_dir() -> Path:
    """``$AELIB_RESULTS_DIR``, or ``results/`` in the current directory's project root."""
    env = os.environ.get(ENV_VAR)
    if env:
        return Path(env)
    here = Path.cwd()
    # Notebooks run with notebooks/ as the working directory; keep results at the project root.
    if here.name == "notebooks" and (here.parent / "pyproject.toml").exists():
        here = here.parent
    return here / "results"


def _plain(value):
    if isinstance(value, dict):
        return {str(k): _plain(v) for k, v in value.items()}
    if isinstance(value, (list, tuple)):
        return [_plain(v) for v in value]
    if isinstance(value, np.ndarray):
        return _plain(value.tolist())
    if isinstance(value, np.generic):
        return value.item()
    if isinstance(value, float) and not np.isfinite(value):
        return str(value)
    if isinstance(value, (str, int, float, bool)) or value is None:
        return value
    raise TypeError(f"record(): cannot store a value of type {type(value).__name__}: {value!r}")


def record(notebook: str | None = None, **metrics) -> None:
    """Write ``metrics`` to ``<results_dir>/<notebook>.json``.

    The notebook name comes from the argument, else from :func:`aelib.setup`, else
    ``$AELIB_NOTEBOOK``. Values may be numbers, strings, lists, dicts and NumPy scalars or arrays.
    Two string metrics are special: ``headline`` (the notebook's main result, as a sentence with
    its numbers) and ``baseline`` (what it is compared with) make the notebook's row of the
    README's results table (:func:`results_markdown`).

    Prints one line naming the notebook, the profile and the time stamp of the record, so that a
    notebook's saved output says which record it made. Returns nothing (the path would be shown as
    a notebook cell's output); :func:`record_path` gives it.

    Raises:
        ValueError: no notebook name is known, or no metrics were given.
        TypeError: a value cannot be written as JSON.
    """
    name = notebook or current_notebook()
    if not name:
        raise ValueError("record(): no notebook name; call aelib.setup('NAME') or pass notebook=")
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
        "sizes": prof.device,
        "recorded_at": stamp,
        "machine": device_name(),
        "metrics": _plain(metrics),
    }
    path = record_path(name)
    path.parent.mkdir(parents=True, exist_ok=True)
    tmp = path.with_suffix(".json.tmp")
    tmp.write_text(json.dumps(payload, indent=2, sort_keys=False) + "\n")
    tmp.replace(path)
    print(f"recorded {len(metrics)} metrics for {name} ({prof.name} profile, {stamp})")


def record_path(notebook: str) -> Path:
    """Where :func:`record` writes ``notebook``'s record."""
    return results_dir() / f"{notebook}.json"


def load_results(directory: Path | str | None = None) -> dict[str, dict]:
    """Every ``*.json`` record in ``directory`` (default :func:`results_dir`), by notebook name."""
    folder = Path(directory) if directory else results_dir()
    found = {}
    for path in sorted(folder.glob("[!_]*.json")):
        data = json.loads(path.read_text())
        found[data.get("notebook", path.stem)] = data
    return found


README_BEGIN = "<!-- results:begin (made by `aelib results --readme`) -->"
README_END = "<!-- results:end -->"


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
