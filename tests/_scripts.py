"""Load the repository's scripts (tools/, benchmarks/), which are not part of the package."""

import importlib.util
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent


def load_script(relative: str):
    """The module in ``ROOT / relative`` (e.g. ``"tools/readme_tables.py"``), freshly executed."""
    path = ROOT / relative
    spec = importlib.util.spec_from_file_location(path.stem, path)
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module
