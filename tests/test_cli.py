import json
import os

import nbformat
import pytest

from aelib import cli
from aelib.audit import audit_notebooks
from aelib.checks import AUDIT_VAR


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
            "aelib.check('one plus one is two', 1 + 1 == 2, kind='fact')",
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
    (entry,) = runtimes.values()
    assert entry["profile"] == "quick" and entry["device"] == cli.device_name()
    timed = entry["notebooks"]["01_demo"]
    assert timed["seconds"] > 0 and timed["keras"]
    # the three slowest code cells, numbered from 1 as Jupyter shows them
    assert len(timed["slowest_cells"]) == 3
    assert {cell for cell, _ in timed["slowest_cells"]} <= {1, 2, 3}


def _run(seconds, cells=None):
    return cli.NotebookRun(seconds, cells or {1: seconds})


def test_record_runtimes_merges_per_profile_and_device(tmp_path):
    path = tmp_path / "runtimes.json"
    cli.record_runtimes(
        path, "quick", "2 CPU cores (X), no GPU", {"01_a": _run(30), "02_b": _run(40)}
    )
    cli.record_runtimes(path, "full", "2 CPU cores (X), no GPU", {"01_a": _run(200)})
    record = cli.record_runtimes(path, "quick", "2 CPU cores (X), no GPU", {"02_b": _run(45)})
    assert set(record) == {"quick @ 2 CPU cores (X), no GPU", "full @ 2 CPU cores (X), no GPU"}
    quick = record["quick @ 2 CPU cores (X), no GPU"]["notebooks"]
    assert quick["01_a"]["seconds"] == 30 and quick["02_b"]["seconds"] == 45  # replaced, kept
    assert json.loads(path.read_text()) == record


@pytest.mark.parametrize(
    "old", [json.dumps({"quick": {"01_a": {"seconds": 3}}}), "{not json", "[1, 2]", ""]
)
def test_record_runtimes_keeps_a_foreign_or_corrupt_file_aside(tmp_path, old, capsys):
    path = tmp_path / "runtimes.json"
    path.write_text(old)
    with pytest.warns(UserWarning, match="kept it as"):
        record = cli.record_runtimes(path, "quick", "cpu", {"01_a": _run(5)})
    assert list(record) == ["quick @ cpu"]
    (kept,) = tmp_path.glob("runtimes.json.unreadable-*")
    assert kept.read_text() == old  # not overwritten without a word
    assert json.loads(path.read_text()) == record


def test_slowest_cells_are_ranked():
    run = cli.NotebookRun(10.0, {1: 0.5, 2: 6.04, 3: 0.1, 4: 3.0})
    assert run.slowest(2) == [[2, 6.0], [4, 3.0]]


def test_runtimes_markdown_is_printed_not_written_into_a_readme(tmp_path, capsys):
    path = tmp_path / "runtimes.json"
    cli.record_runtimes(
        path, "full", "2 CPU cores (X), no GPU", {"01_a": _run(250), "02_b": _run(70)}
    )
    cli.record_runtimes(
        path, "quick", "2 CPU cores (X), no GPU", {"01_a": _run(30), "02_b": _run(40)}
    )
    cli.record_runtimes(path, "full", "NVIDIA H100", {"01_a": _run(20)})
    table = cli.runtimes_markdown(json.loads(path.read_text()))
    lines = table.splitlines()
    # columns: the CPU's quick then full run, then the GPU's; a partial column is marked as such
    assert lines[0] == "| notebook | quick [1] | full [2] | full [3] |"
    assert lines[2] == "| 01_a | 30 s | 4 min 10 s | 20 s |"
    assert lines[3] == "| 02_b | 40 s | 1 min 10 s | - |"
    assert lines[4] == "| **all** | **1 min 10 s** | **5 min 20 s** | 20 s (partial) |"
    assert lines[6].startswith("[1] `quick` profile on 2 CPU cores (X), no GPU;")
    assert lines[8].startswith("[3] `full` profile on NVIDIA H100;")

    # `aelib runtimes` prints the table; writing it into the README is tools/readme_tables.py's job
    assert cli.main(["runtimes", str(path)]) == 0
    assert table in capsys.readouterr().out
    with pytest.raises(SystemExit):
        cli.main(["runtimes", str(path), "--readme", str(tmp_path / "README.md")])


def test_runtimes_errors(tmp_path, capsys):
    assert cli.main(["runtimes", str(tmp_path / "missing.json")]) == 1
    assert "does not exist" in capsys.readouterr().err
    path = tmp_path / "r.json"
    cli.record_runtimes(path, "quick", "cpu", {"01_a": _run(5)})
    (tmp_path / "bad.json").write_text("[1, 2]")
    assert cli.main(["runtimes", str(tmp_path / "bad.json")]) == 1
    assert "not a run-time record" in capsys.readouterr().err
    with pytest.raises(ValueError, match="empty"):
        cli.runtimes_markdown({})


def test_run_stops_at_first_failing_cell(project, capsys):
    _notebook(
        project / "notebooks",
        "02_broken",
        ["x = 1", "y = 2", "raise ValueError('bad data')", "z = 3"],
    )
    assert cli.main(["run", "02", "--no-progress", "--profile", "quick"]) == 1
    err = capsys.readouterr().err
    assert "02_broken.ipynb: code cell 3 of 4 failed" in err and "bad data" in err
    assert "\x1b[" not in err  # plain text, no colour codes


def test_times_of_finished_notebooks_survive_a_later_failure(project, capsys):
    _notebook(project / "notebooks", "01_fine", ["x = 1"])
    _notebook(project / "notebooks", "02_broken", ["raise ValueError('bad data')"])
    assert cli.main(["run", "--no-progress", "--profile", "quick"]) == 1
    (entry,) = json.loads((project / "results/_runtimes.json").read_text()).values()
    assert list(entry["notebooks"]) == ["01_fine"]


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


def test_audit_reports_learned_claims_that_pass_untrained(project, capsys):
    train = (
        "import keras, numpy as np\n"
        "x = np.random.default_rng(0).random((64, 4)).astype('float32')\n"
        "m = keras.Sequential([keras.Input((4,)), keras.layers.Dense(4)])\n"
        "m.compile(keras.optimizers.Adam(0.05), 'mse')\n"
        "h = m.fit(x, x, epochs=30, verbose=0)\n"
        "err = float(np.mean((m.predict(x, verbose=0) - x) ** 2))"
    )
    claims = [
        f"aelib.check('training lowers the error {i}', err < 0.01, kind='learned')"
        for i in range(4)
    ]
    good = [
        "import aelib\nP = aelib.setup('01_good')",
        train,
        *claims,
        "aelib.check('four inputs', x.shape[1] == 4, kind='fact')",
    ]
    _notebook(project / "notebooks", "01_good", good)
    bad = [
        "import aelib\nP = aelib.setup('02_bad')",
        train,
        *claims,
        "aelib.check('the error is below one', err < 1.0, kind='learned')",
    ]
    _notebook(project / "notebooks", "02_bad", bad)
    report = project / "audit.json"
    results_dir = os.environ["AELIB_RESULTS_DIR"]
    assert cli.main(["audit", "01", "--json", str(report)]) == 0
    # both notebooks at once: each kernel gets its own verdict file, and the reports keep their order
    assert cli.main(["audit", "--jobs", "2", "--json", str(report)]) == 1
    out = capsys.readouterr().out
    assert "2 at a time" in out
    assert out.index("\n01_good") < out.index("\n02_bad")
    assert "[DEFECT  ] the error is below one" in out
    assert "1 of 2 notebook(s) pass the audit; 1 learned claim(s) pass" in out
    # the settings went to the kernels, not to this process
    assert AUDIT_VAR not in os.environ and os.environ["AELIB_RESULTS_DIR"] == results_dir
    saved = {a["notebook"]: a for a in json.loads(report.read_text())}
    assert saved["01_good"]["counts"] == {
        "learned_fail_untrained": 4,
        "learned_pass_untrained": 0,
        "measured": 0,
        "fact": 1,
    }
    assert saved["02_bad"]["counts"]["learned_pass_untrained"] == 1


@pytest.mark.parametrize("jobs", ["0", "-1", "two", "1.5"])
def test_audit_refuses_a_bad_number_of_jobs(project, capsys, jobs):
    with pytest.raises(SystemExit):
        cli.main(["audit", "--jobs", jobs])
    assert f"--jobs: must be a whole number >= 1, got '{jobs}'" in capsys.readouterr().err


@pytest.mark.parametrize("jobs", [0, -1, 1.5, True, "2"])
def test_audit_notebooks_refuses_a_bad_number_of_jobs(jobs):
    with pytest.raises(ValueError, match=r"audit_notebooks\(\): jobs must be a positive int, got"):
        audit_notebooks([], jobs=jobs)


def test_audit_fails_a_notebook_that_does_not_run_untrained(project, capsys):
    _notebook(
        project / "notebooks",
        "01_fragile",
        [
            "import aelib, keras, numpy as np\nP = aelib.setup('01_fragile')",
            "m = keras.Sequential([keras.Input((2,)), keras.layers.Dense(2)])\n"
            "m.compile('adam', 'mse')\n"
            "last = m.fit(np.ones((4, 2)), np.ones((4, 2)), epochs=3, verbose=0).history['loss'][-1]",
        ],
    )
    assert cli.main(["audit"]) == 1
    out = capsys.readouterr().out
    assert "does not run with training off" in out and "IndexError" in out


NOISE = ("absl::InitializeLog", "oneDNN", "cuInit", "cpu_feature_guard", "without encryption")


def test_run_survives_bad_files_and_keeps_the_callers_environment(project, capsys, monkeypatch):
    """One run through every fault at once: a corrupt run-time record, a corrupt results file, an
    argument that is not a notebook; the kernel imports TensorFlow, whose start-up lines must not
    reach the outputs."""
    monkeypatch.setenv("TF_CPP_MIN_LOG_LEVEL", "0")  # the kernel gets 3, this process keeps 0
    _notebook(
        project / "notebooks",
        "01_tf",
        [
            "import os, aelib\nimport tensorflow as tf\nP = aelib.setup('01_tf')",
            "print(os.environ['AELIB_NOTEBOOK'], os.environ['TF_CPP_MIN_LOG_LEVEL'])",
            "aelib.record(total=float(tf.reduce_sum(tf.ones(3))))",
        ],
    )
    (project / "results").mkdir()
    (project / "results/_runtimes.json").write_text("{half a file")
    (project / "results/00_bad.json").write_text("[not a record")
    (project / "notes.txt").write_text("not a notebook")
    monkeypatch.setenv("MPLBACKEND", "Agg")
    monkeypatch.delenv("AELIB_NOTEBOOK", raising=False)
    keys = (
        "AELIB_PROFILE",
        "AELIB_NOTEBOOK",
        "AELIB_RESULTS_DIR",
        "MPLBACKEND",
        "TF_CPP_MIN_LOG_LEVEL",
    )
    before = {k: os.environ.get(k) for k in keys}
    status = cli.main(
        ["run", "01", "notes.txt", "--profile", "quick", "--inplace", "--no-progress"]
    )
    assert {k: os.environ.get(k) for k in keys} == before  # the kernel had its own environment
    captured = capsys.readouterr()
    assert status == 1  # a skipped argument makes the run fail, after running the rest
    assert "notes.txt: not a Jupyter notebook" in captured.err
    assert "_runtimes.json" in captured.err and "kept it as" in captured.err
    assert "00_bad.json" in captured.out and "total=3" in captured.out
    assert "Traceback" not in captured.out + captured.err
    for line in NOISE:
        assert line not in captured.err, captured.err
    runtimes = json.loads((project / "results/_runtimes.json").read_text())
    (entry,) = runtimes.values()
    assert "01_tf" in entry["notebooks"]
    executed = nbformat.read(project / "notebooks/01_tf.ipynb", as_version=4)
    text = "".join(o.get("text", "") for c in executed.cells for o in c.outputs)
    assert "01_tf 3" in text
    for line in NOISE:
        assert line not in text, text


def test_kernel_env_is_a_copy():
    from aelib import runner

    base = {"MPLBACKEND": "Agg", "KEEP": "1"}
    env = runner.kernel_env("quick", "01_x", base)
    assert base == {"MPLBACKEND": "Agg", "KEEP": "1"}
    assert env["KEEP"] == "1" and "MPLBACKEND" not in env
    assert env["AELIB_PROFILE"] == "quick" and env["TF_CPP_MIN_LOG_LEVEL"] == "3"


def test_startup_noise_is_stripped_and_errors_kept():
    from aelib import runner

    nb = nbformat.v4.new_notebook()
    cell = nbformat.v4.new_code_cell("import tensorflow")
    cell.outputs = [
        nbformat.v4.new_output(
            "stream",
            name="stderr",
            text=(
                "WARNING: All log messages before absl::InitializeLog() is called are written to STDERR\n"
                "I0000 00:00:1796402192.487134   24236 port.cc:153] oneDNN custom operations are on.\n"
                "E0000 00:00:1796402195.459759   24236 cuda_platform.cc:52] failed call to cuInit: X\n"
                "E0000 00:00:1796402195.459759   24236 other.cc:52] a real error\n"
            ),
        ),
        nbformat.v4.new_output("stream", name="stdout", text="I0000 kept: stdout is not touched\n"),
    ]
    nb.cells = [cell]
    assert runner.strip_startup_noise(nb) == 3
    assert [o["text"] for o in nb.cells[0].outputs] == [
        "E0000 00:00:1796402195.459759   24236 other.cc:52] a real error\n",
        "I0000 kept: stdout is not touched\n",
    ]


@pytest.mark.parametrize(
    "content,why",
    [
        ("{oops", "not a JSON file"),
        ("3", "expected a JSON object"),
        (json.dumps({"k": 3}), "entry 'k' is int"),
        (
            json.dumps({"k": {"profile": "quick", "device": "cpu", "notebooks": {}}}),
            "at least one run",
        ),
        (
            json.dumps({"k": {"profile": "quick", "device": "cpu", "notebooks": {"01": 5}}}),
            "notebook '01'",
        ),
        (
            json.dumps(
                {"k": {"profile": "q", "device": "c", "notebooks": {"01": {"seconds": "x"}}}}
            ),
            "'seconds' must be a number",
        ),
    ],
)
def test_runtimes_on_malformed_input_is_a_clear_error(tmp_path, capsys, content, why):
    path = tmp_path / "r.json"
    path.write_text(content)
    assert cli.main(["runtimes", str(path)]) == 1
    err = capsys.readouterr().err
    assert str(path) in err and why in err, err


def test_output_options_are_checked_before_the_run(project, monkeypatch, capsys):
    (project / "afile").write_text("x")
    _notebook(project / "notebooks", "01_x", ["raise SystemExit('must not run')"])
    with pytest.raises(SystemExit, match="afile is not a folder"):
        cli.main(["run", "01", "--runtimes", str(project / "afile/r.json"), "--no-progress"])
    with pytest.raises(SystemExit, match="--runtimes .* is a folder"):
        cli.main(["run", "01", "--runtimes", str(project), "--no-progress"])
    with pytest.raises(SystemExit, match="afile is not a folder"):
        cli.main(["audit", "01", "--json", str(project / "afile/a.json")])
    monkeypatch.setenv("AELIB_RESULTS_DIR", str(project / "afile"))
    with pytest.raises(SystemExit, match="results folder .*afile is not a folder"):
        cli.main(["run", "01", "--no-progress"])
    assert cli.main(["results", str(project / "afile")]) == 1
    assert "is not a folder" in capsys.readouterr().err


def test_one_project_root_for_notebooks_and_data(project, monkeypatch):
    from aelib import _paths, data

    monkeypatch.delenv("AELIB_DATA_DIR", raising=False)
    assert _paths.project_root() == project
    monkeypatch.chdir(project / "notebooks")  # where a notebook's kernel runs
    assert _paths.project_root() == project
    assert cli._notebooks_dir() == project / "notebooks"
    assert data.project_data_dir() == project / "data"
    # outside any project: the checkout aelib is installed from (editable), else the current folder
    elsewhere = project / "notebooks" / "x"
    elsewhere.mkdir()
    (elsewhere / "pyproject.toml").write_text("")  # no notebooks/ beside it: not a project root
    monkeypatch.chdir(elsewhere)
    assert _paths.project_root() == project
    checkout = _paths.Path(_paths.__file__).resolve().parent.parent
    monkeypatch.chdir(project.parent)
    assert _paths.project_root() == (checkout if _paths.is_project_root(checkout) else None)
