"""The declared lower bounds of pyproject.toml as exact pins, to test the oldest supported set.

    python tools/floors.py [--extras dev] > constraints-min.txt   # name==floor, one per line
    python tools/floors.py [--extras dev] --check                  # installed == floor, or exit 1
    python tools/floors.py --verify constraints.txt                # installed == each pin, or exit 1
    .venv/bin/python tools/floors.py --freeze > constraints.txt    # pin what .venv holds now

Every dependency of ``[project]`` and of the chosen extras must carry a ``>=`` bound, and that
bound must name a release that exists (``tensorflow>=2.16`` would not: 2.16.0 was never
published; the first 2.16 release is 2.16.1). ``pip install -c constraints-min.txt -e .[dev]``
then installs every declared dependency at its floor; the packages they pull in themselves come at
the newest version that their own bounds allow.

Standard library only, so that it runs before any environment exists.
"""

from __future__ import annotations

import argparse
import re
import sys
import tomllib
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
_REQ = re.compile(r"^\s*([A-Za-z0-9][A-Za-z0-9._-]*)\s*(\[[^\]]*\])?\s*([^;]*)(;.*)?$")


def canonical(name: str) -> str:
    """PEP 503 normalised name: ``Scikit_Learn`` -> ``scikit-learn``."""
    return re.sub(r"[-_.]+", "-", name).lower()


def requirements(pyproject: Path = ROOT / "pyproject.toml", extras=("dev",)) -> list[str]:
    """The requirement strings of ``[project].dependencies`` and of the given extras."""
    project = tomllib.loads(pyproject.read_text())["project"]
    reqs = list(project.get("dependencies", []))
    optional = project.get("optional-dependencies", {})
    for extra in extras:
        if extra not in optional:
            raise SystemExit(f"pyproject.toml has no extra named {extra!r}")
        reqs += optional[extra]
    return reqs


def floors(reqs) -> dict[str, str]:
    """``{canonical name: floor}`` from requirement strings; each must carry one ``>=`` bound.

    Raises:
        ValueError: a requirement without a ``>=`` bound, or with an upper bound or a pin.
    """
    out: dict[str, str] = {}
    for req in reqs:
        m = _REQ.match(req)
        if not m:
            raise ValueError(f"cannot read the requirement {req!r}")
        name, _, spec, _ = m.groups()
        parts = [p.strip() for p in spec.split(",") if p.strip()]
        lower = [p[2:].strip() for p in parts if p.startswith(">=")]
        if len(lower) != 1:
            raise ValueError(f"{req!r}: every dependency needs exactly one '>=' floor")
        if any(p.startswith(("<", "==", "~=", "===")) for p in parts):
            raise ValueError(f"{req!r}: lower bounds only (an upper bound or a pin breaks Colab)")
        out[canonical(name)] = lower[0]
    return out


# Packages that the declared ones pull in and that shape the committed outputs (numerics, file
# formats, kernels): pinned in constraints.txt next to the declared ones.
KEY_TRANSITIVE = (
    "h5py", "ipython", "jupyter-client", "joblib", "ml-dtypes", "optree", "pillow", "protobuf",
    "threadpoolctl",
)  # fmt: skip


def read_pins(path: Path) -> dict[str, str]:
    """``{canonical name: version}`` from a ``name==version`` constraints file."""
    pins = {}
    for line in Path(path).read_text().splitlines():
        line = line.split("#", 1)[0].strip()
        if not line:
            continue
        name, sep, ver = line.partition("==")
        if not sep:
            raise ValueError(f"{path}: not a 'name==version' pin: {line!r}")
        pins[canonical(name.strip())] = ver.strip()
    return pins


def _same_version(installed: str, floor: str) -> bool:
    """``2.16.1 == 2.16.1``, ``3.3.0 == 3.3`` (trailing zeros do not count)."""

    def key(v):
        parts = [int(p) if p.isdigit() else p for p in re.split(r"[.+]", v)]
        while parts and parts[-1] == 0:
            parts.pop()
        return parts

    return key(installed) == key(floor)


def check(pins: dict[str, str], what: str = "floor") -> list[str]:
    """The packages whose installed version is not the one in ``pins``, as messages."""
    from importlib.metadata import PackageNotFoundError, version

    problems = []
    for name, floor in pins.items():
        try:
            installed = version(name)
        except PackageNotFoundError:
            problems.append(f"{name}: not installed ({what} {floor})")
            continue
        if not _same_version(installed, floor):
            problems.append(f"{name}: {installed} installed, {what} is {floor}")
    return problems


def main(argv=None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--extras", default="dev", help="comma-separated extras (default: dev)")
    parser.add_argument("--check", action="store_true", help="compare with what is installed")
    parser.add_argument("--verify", metavar="FILE", help="installed == every pin of FILE")
    parser.add_argument(
        "--freeze", action="store_true", help="pin the installed declared and key packages"
    )
    args = parser.parse_args(argv)
    extras = [e for e in args.extras.split(",") if e]
    pins = floors(requirements(extras=extras))
    if args.verify:
        problems = check(read_pins(Path(args.verify)), what="pin")
        for p in problems:
            print(f"{args.verify}: {p}", file=sys.stderr)
        if problems:
            print(
                f"This environment is not the one behind the committed outputs. Make it so with\n"
                f"    {Path(sys.executable).parent}/pip install -c {args.verify} -e '.[dev]'\n"
                f"or, to move the outputs to new versions on purpose, re-pin with\n"
                f"    {sys.executable} tools/floors.py --freeze > {args.verify}",
                file=sys.stderr,
            )
            return 1
        print(f"the installed packages match {args.verify}")
        return 0
    if args.freeze:
        from importlib.metadata import version

        print(
            "# The versions behind the committed outputs (`make outputs` checks them): the declared\n"
            "# dependencies and the packages under them that shape the results.\n"
            "# Regenerate with `.venv/bin/python tools/floors.py --freeze > constraints.txt`."
        )
        for name in sorted({*pins, *KEY_TRANSITIVE}):
            print(f"{name}=={version(name)}")
        return 0
    if args.check:
        problems = check(pins)
        for p in problems:
            print(f"not at its floor: {p}", file=sys.stderr)
        if not problems:
            print(f"all {len(pins)} declared dependencies are at their floors")
        return 1 if problems else 0
    print(
        "# Generated by tools/floors.py from pyproject.toml: every declared dependency at its floor."
    )
    for name, floor in sorted(pins.items()):
        print(f"{name}=={floor}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
