"""The project root: the one rule every part of aelib uses to find the checkout it works in.

A project root is a folder that holds both ``pyproject.toml`` and ``notebooks/``. It is looked for
in the current directory and its parents first (so ``aelib run`` in a clone runs that clone's
notebooks, and a notebook, which runs in ``notebooks/``, finds the folder above), then in the
checkout this package was installed from (an editable install). A package installed from a wheel
outside any checkout has none: callers then use the current directory.
"""

from __future__ import annotations

from pathlib import Path


def is_project_root(folder: Path) -> bool:
    """Whether ``folder`` holds ``pyproject.toml`` and a ``notebooks/`` folder."""
    return (folder / "pyproject.toml").is_file() and (folder / "notebooks").is_dir()


def project_root(start: Path | None = None) -> Path | None:
    """The nearest project root at or above ``start`` (default: the current directory), else the
    checkout this package lives in when it is one, else ``None``."""
    here = Path(start).resolve() if start is not None else Path.cwd()
    for folder in (here, *here.parents):
        if is_project_root(folder):
            return folder
    checkout = Path(__file__).resolve().parent.parent
    return checkout if is_project_root(checkout) else None
