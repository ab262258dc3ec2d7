"""Write the README's generated tables from the records they summarise (maintainers' tooling).

Each table sits between two marker lines in README.md, ``<!-- NAME:begin ... -->`` and
``<!-- NAME:end -->``; only the part between them is rewritten. The tables:

- ``results``: the headline numbers of each notebook, from the records in ``records/``
  (:func:`aelib.results.results_markdown`);
- ``runtimes``: the run time of each notebook per profile and machine, from
  ``benchmarks/runtimes.json`` (:func:`aelib.timings.runtimes_markdown`);
- ``throughput``: the training throughput of the models, from ``benchmarks/throughput.json``
  (``markdown_table`` of ``benchmarks/bench.py``).

    python tools/readme_tables.py                    # every table
    python tools/readme_tables.py runtimes results   # some of them
    python tools/readme_tables.py runtimes --runtimes other.json --readme /tmp/README.md

The tests compare the README with :func:`table` of the committed records, so a table that is out
of date fails them.
"""

from __future__ import annotations

import argparse
import importlib.util
import json
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent  # this script lives in the checkout's tools/
TABLES = ("results", "runtimes", "throughput")
SOURCES = {
    "results": ROOT / "records",
    "runtimes": ROOT / "benchmarks" / "runtimes.json",
    "throughput": ROOT / "benchmarks" / "throughput.json",
}
THROUGHPUT_BATCHES = (64, 256)  # the batch sizes the throughput table shows


def begin_marker(name: str) -> str:
    """The begin marker line written for a new block (an existing one is kept as it is)."""
    return f"<!-- {name}:begin (made by `python tools/readme_tables.py {name}`) -->"


def end_marker(name: str) -> str:
    return f"<!-- {name}:end -->"


def replace_block(text: str, table: str, name: str) -> str:
    """``text`` with the lines between ``name``'s begin marker (a line starting with
    ``<!-- NAME:begin``) and its end marker replaced by ``table``.

    Raises:
        ValueError: a marker is missing or they are out of order; the message names both lines.
    """
    begin, end = f"<!-- {name}:begin", end_marker(name)
    start = text.find(begin)
    stop = text.find(end, start) if start >= 0 else -1
    if start < 0 or stop < 0:
        raise ValueError(
            f"no {name} block: the file needs the lines {begin_marker(name)} and {end} (in that order)"
        )
    line_end = text.find("\n", start)
    if line_end < 0 or line_end > stop:
        raise ValueError(f"the {name} begin marker must be a line of its own")
    return f"{text[: line_end + 1]}{table}\n{text[stop:]}"


def _bench():
    spec = importlib.util.spec_from_file_location("bench", ROOT / "benchmarks" / "bench.py")
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


def table(name: str, source: Path | None = None) -> str:
    """The Markdown table ``name`` (one of :data:`TABLES`) made from ``source`` (default:
    :data:`SOURCES`).

    Raises:
        ValueError: unknown name, or a source that is not a valid record (the message says why).
        OSError: the source cannot be read.
    """
    if name not in TABLES:
        raise ValueError(f"unknown table {name!r}: expected one of {', '.join(TABLES)}")
    source = Path(source) if source is not None else SOURCES[name]
    if name == "results":
        from aelib.results import load_results, results_markdown

        if source.exists() and not source.is_dir():
            raise ValueError(f"{source} is not a folder (it is a file)")
        return results_markdown(load_results(source) if source.is_dir() else {})
    if name == "runtimes":
        from aelib.timings import read_runtimes, runtimes_markdown

        if not source.exists():
            raise ValueError(f"{source} does not exist: `aelib run --runtimes {source}` makes it")
        return runtimes_markdown(read_runtimes(source))
    try:
        record = json.loads(source.read_text(encoding="utf-8"))
    except json.JSONDecodeError as err:
        raise ValueError(f"not a JSON file ({err})") from None
    return _bench().markdown_table(record, list(THROUGHPUT_BATCHES))


def update(readme: Path, names, sources: dict[str, Path] | None = None) -> list[str]:
    """Rewrite the tables ``names`` in ``readme``; the file is written once, after every table was
    made. Returns the names written."""
    readme = Path(readme)
    text = readme.read_text(encoding="utf-8")
    for name in names:
        text = replace_block(text, table(name, (sources or {}).get(name)), name)
    readme.write_text(text, encoding="utf-8")
    return list(names)


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument(
        "tables", nargs="*", choices=[[], *TABLES], metavar="TABLE", help="default: every table"
    )
    parser.add_argument("--readme", default=str(ROOT / "README.md"), help="the file to rewrite")
    for name in TABLES:
        parser.add_argument(f"--{name}", metavar="PATH", help=f"default: {SOURCES[name]}")
    args = parser.parse_args(argv)
    names = list(dict.fromkeys(args.tables or TABLES))
    sources = {n: Path(getattr(args, n)) for n in TABLES if getattr(args, n)}
    try:
        update(Path(args.readme), names, sources)
    except (ValueError, KeyError, OSError) as err:
        print(f"readme_tables: {err}", file=sys.stderr)
        return 1
    print(f"updated the {', '.join(names)} table(s) in {args.readme}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
