import json

import nbformat
import pytest

from aelib import cli


def _notebook(folder, name, cells):
    nb = nbformat.v4.new_notebook()
    nb.metadata["kernelspec"] = {
        "name": "python3",
        "display_name": "Python 3",
        "language": "python",
    }
    nb.cells = [nbformat.v4.new_code_cell(src) for src in cells]
    path = folder / f"{name}.ipynb"
    nbformat.write(nb, path)
    return path


@pytest.fixture
def project(tmp_path, monkeypatch):
    (tmp_path / "pyproject.toml").write_text("[project]\nname='x'\n")
    (tmp_path / "notebooks").mkdir()
    monkeypatch.chdir(tmp_path)
    monkeypatch.setenv("AELIB_RESULTS_DIR", str(tmp_path / "results"))
    return tmp_path


def test_run_executes_records_and_tables(project, capsys):
    _notebook(
        project / "notebooks",
        "01_demo",
        [
            "import os, aelib\nP = aelib.setup('01_demo')",
            "aelib.check('one plus one is two', 1 + 1 == 2)",
            "aelib.record(answer=42.0, profile_name=os.environ['AELIB_PROFILE'])",
        ],
    )
    assert cli.main(["run", "--profile", "quick", "--inplace", "--no-progress"]) == 0
    out = capsys.readouterr().out
    assert "01_demo" in out and "answer=42" in out
    saved = json.loads((project / "results/01_demo.json").read_text())
    assert saved["metrics"]["profile_name"] == "quick" and saved["profile"] == "quick"
    executed = nbformat.read(project / "notebooks/01_demo.ipynb", as_version=4)
    assert "CHECK passed: one plus one is two" in executed.cells[1].outputs[0]["text"]
    runtimes = json.loads((project / "results/_runtimes.json").read_text())
    assert "01_demo" in runtimes["quick"]


def test_run_stops_at_first_failing_cell(project, capsys):
    _notebook(
        project / "notebooks",
        "02_broken",
        ["x = 1", "y = 2", "raise ValueError('bad data')", "z = 3"],
    )
    assert cli.main(["run", "02", "--no-progress", "--profile", "quick"]) == 1
    err = capsys.readouterr().err
    assert "02_broken.ipynb: code cell 3 of 4 failed" in err and "bad data" in err


def test_run_unknown_notebook(project):
    with pytest.raises(SystemExit, match="'07' matches no notebook"):
        cli.main(["run", "07"])


def test_data_info(capsys):
    assert cli.main(["data", "info"]) == 0
    out = capsys.readouterr().out
    assert "fashion_mnist" in out and "mnist" in out


def test_info(capsys, monkeypatch):
    monkeypatch.setenv("AELIB_PROFILE", "quick")
    assert cli.main(["info"]) == 0
    out = capsys.readouterr().out
    assert "profile: quick" in out and "keras" in out
