"""Records: strict JSON, atomic replacement with concurrent writers, names that stay inside the folder."""

import json
import math
import subprocess
import sys
import textwrap

import numpy as np
import pytest

import aelib
from aelib import results


@pytest.fixture
def folder(tmp_path, monkeypatch):
    monkeypatch.setenv("AELIB_RESULTS_DIR", str(tmp_path / "res"))
    monkeypatch.setenv("AELIB_PROFILE", "quick")
    monkeypatch.setattr(results, "device_name", lambda: "test machine")
    return tmp_path / "res"


def _strict(text: str):
    def refuse(name):
        raise AssertionError(f"non-standard JSON constant {name}")

    return json.loads(text, parse_constant=refuse)


def test_non_finite_numbers_are_written_one_way(folder):
    aelib.record(
        "nb_nan",
        py_nan=float("nan"),
        np_nan=np.float32("nan"),
        py_inf=float("inf"),
        np_inf=np.float64("-inf"),
        arr=np.array([1.0, np.nan, np.inf]),
        fine=np.float64(0.25),
    )
    metrics = _strict(results.record_path("nb_nan").read_text())["metrics"]
    assert metrics["py_nan"] == metrics["np_nan"] == "NaN"
    assert metrics["py_inf"] == "Infinity" and metrics["np_inf"] == "-Infinity"
    assert metrics["arr"] == [1.0, "NaN", "Infinity"] and metrics["fine"] == 0.25
    back = results.load_results(folder)["nb_nan"]["metrics"]
    assert math.isnan(back["py_nan"]) and math.isnan(back["np_nan"])
    assert back["np_inf"] == -math.inf and back["arr"][2] == math.inf


@pytest.mark.parametrize("name", ["../escape", "sub/nb", "/tmp/abs", "..", ".hidden", "a\\b", "  "])
def test_names_that_leave_the_results_folder_are_refused(folder, name):
    with pytest.raises(ValueError, match="notebook must be"):
        aelib.record(name, x=1.0)
    assert not (folder.parent / "escape.json").exists()


def test_a_results_path_that_is_a_file_says_not_a_folder(folder):
    folder.parent.mkdir(parents=True, exist_ok=True)
    folder.write_text("I am a file")
    with pytest.raises(NotADirectoryError, match="is not a folder"):
        aelib.record("nb_x", x=1.0)


def test_bad_files_in_the_results_folder_are_named(folder):
    aelib.record("nb_ok", x=1.0)
    (folder / "nb_bad.json").write_text('{"notebook": "nb_bad", "metrics": {')
    (folder / "nb_list.json").write_text("[1, 2]")
    with pytest.raises(results.BadRecord, match="nb_bad.json"):
        results.load_results(folder)
    with pytest.warns(UserWarning, match="nb_list.json"):
        found = results.load_results(folder, skip_bad=True)
    assert list(found) == ["nb_ok"]


WRITER = textwrap.dedent(
    """
    import sys
    import aelib
    aelib.results.device_name = lambda: "test machine"  # no TensorFlow start-up in this test
    for i in range(150):
        aelib.record("nb_race", writer=int(sys.argv[1]), i=i, pad="x" * 4000)
    """
)


def test_two_writers_at_once_both_succeed_and_readers_never_see_a_part(folder):
    writers = [
        subprocess.Popen(
            [sys.executable, "-c", WRITER, str(k)],
            stdout=subprocess.DEVNULL,
            stderr=subprocess.PIPE,
        )
        for k in (1, 2)
    ]
    path = folder / "nb_race.json"
    reads = 0
    while any(w.poll() is None for w in writers):
        if path.exists():
            payload = _strict(path.read_text())  # never empty, never cut short
            assert payload["metrics"]["pad"] == "x" * 4000
            reads += 1
    errors = [w.stderr.read().decode() for w in writers]
    assert [w.returncode for w in writers] == [0, 0], errors
    assert reads > 0
    assert [p.name for p in folder.iterdir()] == ["nb_race.json"]  # no temporary file left
