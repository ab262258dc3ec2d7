"""The project's files agree with each other: environment.yml, pyproject.toml and the notebooks."""

import json
import re
import tomllib
from pathlib import Path

import pytest
from _scripts import load_script

from aelib.runner import STARTUP_NOISE

ROOT = Path(__file__).resolve().parent.parent


def _readme_tables():
    return load_script("tools/readme_tables.py")


NOTEBOOKS = sorted((ROOT / "notebooks").glob("[0-9][0-9]_*.ipynb"))


def _name(requirement: str) -> str:
    return re.split(r"[<>=!\[ ]", requirement.strip(), maxsplit=1)[0].lower().replace("_", "-")


def test_environment_yml_matches_pyproject():
    yaml = pytest.importorskip("yaml")
    env = yaml.safe_load((ROOT / "environment.yml").read_text())
    assert env["channels"] == ["conda-forge", "nodefaults"]
    conda = [d for d in env["dependencies"] if isinstance(d, str)]
    pip = next(d["pip"] for d in env["dependencies"] if isinstance(d, dict))
    assert "python=3.11" in conda
    assert "-e .[dev]" in pip
    listed = {_name(d) for d in conda + pip}
    project = tomllib.loads((ROOT / "pyproject.toml").read_text())["project"]
    wanted = project["dependencies"] + project["optional-dependencies"]["dev"]
    missing = sorted({_name(r) for r in wanted} - listed)
    assert not missing, f"environment.yml lacks {missing}"
    for req in wanted:  # lower bounds only: no hard pins that break on Colab
        assert "==" not in req and "<" not in req, req


def test_notebooks_exist():
    assert NOTEBOOKS, "no numbered notebooks found"
    assert [p.name[:2] for p in NOTEBOOKS] == sorted({p.name[:2] for p in NOTEBOOKS}), (
        "duplicate numbers"
    )


@pytest.mark.parametrize("path", NOTEBOOKS, ids=lambda p: p.stem)
def test_notebook_shape(path):
    nb = json.loads(path.read_text())
    cells = nb["cells"]
    text = lambda c: "".join(c["source"])  # noqa: E731
    markdown = "\n".join(text(c) for c in cells if c["cell_type"] == "markdown")
    code = [c for c in cells if c["cell_type"] == "code"]
    assert cells[0]["cell_type"] == "markdown" and text(cells[0]).startswith("# "), "no title"
    assert f'aelib.setup("{path.stem}"' in text(code[0]), (
        "the first code cell must call aelib.setup with the notebook's name"
    )
    assert "google.colab" in text(code[0])
    for heading in ("What you will learn", "Key takeaways", "Exercises"):
        assert heading in markdown, f"no '{heading}' section"
    sources = "\n".join(text(c) for c in code)
    assert "aelib.check(" in sources and "aelib.record(" in sources
    for c in code:
        for line in text(c).splitlines():
            assert not re.match(r"\s*#\s*NBVAL_\w+\s+\S", line), (
                f"marker with trailing text: {line!r}"
            )
        if "aelib.check(" in text(c):
            assert "NBVAL_IGNORE_OUTPUT" not in text(c), (
                "claims must be compared by nbval, not ignored"
            )


@pytest.mark.parametrize("path", NOTEBOOKS, ids=lambda p: p.stem)
def test_notebook_committed_outputs(path):
    """Outputs come from one full top-to-bottom run and keep the notebook light."""
    assert path.stat().st_size < 2_000_000, f"{path.name} is {path.stat().st_size / 1e6:.1f} MB"
    nb = json.loads(path.read_text())
    code = [c for c in nb["cells"] if c["cell_type"] == "code" and "".join(c["source"]).strip()]
    counts = [c["execution_count"] for c in code]
    assert None not in counts, "cells without outputs: run `make outputs`"
    assert counts == list(range(counts[0], counts[0] + len(counts))), "not run top to bottom"
    for c in code:
        assert not [o for o in c["outputs"] if o["output_type"] == "error"], "a committed error"
        for o in c["outputs"]:
            assert "image/svg+xml" not in o.get("data", {}), "figures must be PNG"
    claims = [
        o
        for c in code
        if "aelib.check(" in "".join(c["source"])
        for o in c["outputs"]
        if o.get("name") == "stdout"
    ]
    assert claims and all(
        "CHECK passed:" in o["text"]
        if isinstance(o["text"], str)
        else "CHECK passed:" in "".join(o["text"])
        for o in claims
    )


# What a committed output must never show a learner: TensorFlow's native start-up logs (they read as
# failures), Jupyter's transport warning, a traceback, or a path object of the machine that made the
# outputs.
NOISE_IN_OUTPUTS = (
    *STARTUP_NOISE,
    "Traceback (most recent call last)",
    "PosixPath(",
    # paths of the machine that made the outputs (a warning's file:line, a site-packages folder)
    "/work/",
    "/home/",
    "/tmp/",
    "/root/",
    "site-packages",
)


def _output_text(output) -> str:
    parts = [output.get("text", "")]
    parts += [v for k, v in output.get("data", {}).items() if k.startswith("text/")]
    parts += output.get("traceback", [])
    return "".join("".join(p) if isinstance(p, list) else p for p in parts)


@pytest.mark.parametrize("path", NOTEBOOKS, ids=lambda p: p.stem)
def test_committed_outputs_show_a_learner_nothing_alarming(path):
    nb = json.loads(path.read_text())
    for i, c in enumerate(nb["cells"]):
        if c["cell_type"] != "code":
            continue
        for o in c["outputs"]:
            shown = _output_text(o)
            found = [n for n in NOISE_IN_OUTPUTS if n in shown]
            assert not found, f"cell {i} shows {found}: {shown[:300]!r}"
            if "aelib.check(" in "".join(c["source"]) and o["output_type"] == "execute_result":
                raise AssertionError(f"cell {i}: a check cell shows a value: {shown[:80]!r}")


def test_readme_runtime_table_is_the_recorded_one():
    tables = _readme_tables()
    record_path = ROOT / "benchmarks" / "runtimes.json"
    record = json.loads(record_path.read_text())
    readme = (ROOT / "README.md").read_text()
    table = tables.table("runtimes", record_path)
    assert tables.replace_block(readme, table, "runtimes") == readme, (
        "README's run-time table differs from benchmarks/runtimes.json: "
        "run `python tools/readme_tables.py runtimes`"
    )
    # every notebook is timed in both profiles (quick: what CI runs; full: the committed outputs)
    # on a CPU machine (not necessarily the same one for every notebook: the table names each)
    stems = {p.stem for p in NOTEBOOKS}
    for profile in ("quick", "full"):
        timed = set().union(
            *(
                e["notebooks"]
                for e in record.values()
                if e["profile"] == profile and e["device"].endswith("no GPU")
            )
        )
        missing = sorted(stems - timed)
        assert not missing, f"{missing} have no {profile} time on a CPU: see `make timings`"


RECORDS = ROOT / "records"


@pytest.mark.parametrize("path", NOTEBOOKS, ids=lambda p: p.stem)
def test_committed_outputs_come_with_their_record(path):
    """records/<notebook>.json is the record made by the very run whose outputs are committed."""
    record_file = RECORDS / f"{path.stem}.json"
    assert record_file.exists(), (
        f"no {record_file.relative_to(ROOT)}: run `make outputs NB={path.stem[:2]}`"
    )
    rec = json.loads(record_file.read_text())
    assert rec["notebook"] == path.stem
    assert rec["profile"] == "full", "committed records come from the full profile"
    for key in ("headline", "baseline"):
        assert rec["metrics"].get(key), f"the record has no {key} for the README's results table"
    nb = json.loads(path.read_text())
    printed = "".join(
        "".join(o.get("text", ""))
        for c in nb["cells"]
        if c["cell_type"] == "code" and "aelib.record(" in "".join(c["source"])
        for o in c["outputs"]
    )
    stamp = f"recorded {len(rec['metrics'])} metrics for {path.stem} (full profile, {rec['recorded_at']})"
    assert stamp in printed, (
        f"the committed outputs of {path.name} come from another run than "
        f"{record_file.relative_to(ROOT)}: run `make outputs NB={path.stem[:2]}`"
    )


def test_readme_results_table_is_the_recorded_one():
    from aelib import results

    tables = _readme_tables()
    records = results.load_results(RECORDS)
    assert set(records) == {p.stem for p in NOTEBOOKS}, "a record per notebook, and no other"
    readme = (ROOT / "README.md").read_text()
    table = tables.table("results", RECORDS)
    assert tables.replace_block(readme, table, "results") == readme, (
        "README's results table differs from records/: run `python tools/readme_tables.py results`"
    )
