"""tools/readme_tables.py: the README's generated tables, written between their marker lines."""

import json
from pathlib import Path

import pytest
from _scripts import load_script

from aelib import timings
from aelib.runner import NotebookRun

ROOT = Path(__file__).resolve().parent.parent


@pytest.fixture(scope="module")
def tables():
    return load_script("tools/readme_tables.py")


def _record(tmp_path):
    path = tmp_path / "runtimes.json"
    timings.record_runtimes(
        path, "quick", "2 CPU cores (X), no GPU", {"01_a": NotebookRun(30.0, {1: 30.0})}
    )
    return path


def test_runtimes_block_is_rewritten_and_the_rest_kept(tables, tmp_path, capsys):
    path = _record(tmp_path)
    readme = tmp_path / "README.md"
    # a begin marker is found by its start, whatever note follows it, and kept as it is
    readme.write_text(
        "# T\n\n<!-- runtimes:begin (old note) -->\nold\n<!-- runtimes:end -->\n\nafter\n"
    )
    assert tables.main(["runtimes", "--runtimes", str(path), "--readme", str(readme)]) == 0
    text = readme.read_text()
    table = timings.runtimes_markdown(json.loads(path.read_text()))
    assert (
        text
        == f"# T\n\n<!-- runtimes:begin (old note) -->\n{table}\n<!-- runtimes:end -->\n\nafter\n"
    )
    assert "updated the runtimes table(s)" in capsys.readouterr().out
    # idempotent: the README the tests compare with does not change on a second run
    assert tables.replace_block(text, table, "runtimes") == text


def test_missing_markers_and_sources_are_named(tables, tmp_path, capsys):
    path = _record(tmp_path)
    readme = tmp_path / "README.md"
    readme.write_text("no markers here\n")
    assert tables.main(["runtimes", "--runtimes", str(path), "--readme", str(readme)]) == 1
    err = capsys.readouterr().err
    assert "no runtimes block" in err and tables.begin_marker("runtimes") in err
    assert readme.read_text() == "no markers here\n"
    with pytest.raises(ValueError, match="does not exist"):
        tables.table("runtimes", tmp_path / "missing.json")
    with pytest.raises(ValueError, match="not a folder"):
        tables.table("results", path)
    with pytest.raises(ValueError, match="unknown table"):
        tables.table("speed")
    with pytest.raises(ValueError, match="in that order"):
        tables.replace_block("<!-- runtimes:end -->\n<!-- runtimes:begin -->\n", "x", "runtimes")


def test_a_failing_table_leaves_the_readme_untouched(tables, tmp_path):
    path = _record(tmp_path)
    readme = tmp_path / "README.md"
    before = "<!-- runtimes:begin -->\nold\n<!-- runtimes:end -->\n"
    readme.write_text(before)
    bad = tmp_path / "bad.json"
    bad.write_text("{}")
    assert tables.main(["runtimes", "results", "--runtimes", str(path), "--results", str(bad),
                        "--readme", str(readme)]) == 1  # fmt: skip
    assert readme.read_text() == before
