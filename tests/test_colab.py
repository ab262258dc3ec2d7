"""The Colab path, tested offline: one repository address, and the setup cell as Colab would run it."""

import json
import shutil
import sys
import types
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT / "tools"))
import colab_links  # noqa: E402

NOTEBOOKS = sorted((ROOT / "notebooks").glob("[0-9][0-9]_*.ipynb"))


def test_every_badge_and_install_line_follows_pyproject():
    assert colab_links.problems() == []


def test_a_fork_rewrites_every_link(tmp_path):
    shutil.copy(ROOT / "pyproject.toml", tmp_path)
    shutil.copy(ROOT / "README.md", tmp_path)
    shutil.copytree(ROOT / "notebooks", tmp_path / "notebooks")
    meta = tmp_path / "pyproject.toml"
    meta.write_text(
        meta.read_text().replace(colab_links.repository(), "https://github.com/me/fork")
    )
    found = colab_links.problems(tmp_path)
    assert len(found) >= len(NOTEBOOKS) + 1  # README and every notebook disagree now
    for path in colab_links.files(tmp_path):
        path.write_text(colab_links.rewrite(path.read_text(), "https://github.com/me/fork"))
    assert colab_links.problems(tmp_path) == []
    assert (
        "colab.research.google.com/github/me/fork/blob/main/notebooks/01_"
        in (tmp_path / "README.md").read_text()
    )


def test_a_bad_address_is_refused():
    with pytest.raises(ValueError, match="not a GitHub repository address"):
        colab_links.owner_and_name("git@github.com:me/fork.git")


def _setup_cell(path: Path) -> str:
    cells = json.loads(path.read_text())["cells"]
    return "".join(next(c for c in cells if c["cell_type"] == "code")["source"])


def test_setup_cells_install_the_package_on_colab_only(monkeypatch):
    """Run each setup cell in IPython with a stand-in ``google.colab``: the install is recorded, not run."""
    from IPython.core.interactiveshell import InteractiveShell

    shell = InteractiveShell.instance()
    installs = []
    shell.register_magic_function(lambda line: installs.append(line), "line", "pip")
    expected = f'install -q "{colab_links.install(colab_links.repository())}"'
    colab = types.ModuleType("google.colab")
    try:
        for path in NOTEBOOKS:
            source = _setup_cell(path).replace("P = aelib.setup(", "P = (lambda *a, **k: None)(")
            monkeypatch.delitem(sys.modules, "google.colab", raising=False)
            assert shell.run_cell(source).success
            assert installs == [], f"{path.name} installs outside Colab"
            monkeypatch.setitem(sys.modules, "google.colab", colab)
            assert shell.run_cell(source).success
            assert installs == [expected], f"{path.name}: {installs}"
            installs.clear()
    finally:
        InteractiveShell.clear_instance()
