"""Recording a notebook's headline numbers as JSON, and reading them back."""

from __future__ import annotations

import json
import os
import platform
import time
from pathlib import Path

import numpy as np

from .runtime import current_notebook, current_profile

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


def record(notebook: str | None = None, **metrics) -> Path:
    """Write ``metrics`` to ``<results_dir>/<notebook>.json`` and return the path.

    The notebook name comes from the argument, else from :func:`aelib.setup`, else
    ``$AELIB_NOTEBOOK``. Values may be numbers, strings, lists, dicts and NumPy scalars or arrays.

    Raises:
        ValueError: no notebook name is known, or no metrics were given.
        TypeError: a value cannot be written as JSON.
    """
    name = notebook or current_notebook()
    if not name:
        raise ValueError("record(): no notebook name; call aelib.setup('NAME') or pass notebook=")
    if not metrics:
        raise ValueError("record(): give at least one metric, e.g. record(test_mse=0.01)")
    prof = current_profile()
    payload = {
        "notebook": name,
        "profile": prof.name,
        "sizes": prof.device,
        "recorded_at": time.strftime("%Y-%m-%dT%H:%M:%S%z"),
        "machine": f"{platform.node()} ({platform.machine()}, {os.cpu_count()} CPUs)",
        "metrics": _plain(metrics),
    }
    out = results_dir()
    out.mkdir(parents=True, exist_ok=True)
    path = out / f"{name}.json"
    tmp = path.with_suffix(".json.tmp")
    tmp.write_text(json.dumps(payload, indent=2, sort_keys=False) + "\n")
    tmp.replace(path)
    print(f"recorded {len(metrics)} metrics for {name}")
    return path


def load_results(directory: Path | str | None = None) -> dict[str, dict]:
    """Every ``*.json`` record in ``directory`` (default :func:`results_dir`), by notebook name."""
    folder = Path(directory) if directory else results_dir()
    found = {}
    for path in sorted(folder.glob("[!_]*.json")):
        data = json.loads(path.read_text())
        found[data.get("notebook", path.stem)] = data
    return found
