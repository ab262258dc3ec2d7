"""The version files agree with pyproject.toml: constraints.txt (the versions behind the committed
outputs), the floors that `make test-min` installs, environment.yml and the pre-commit hooks."""

import ast
import importlib.util
import re
import tomllib
from pathlib import Path

import pytest
from _scripts import load_script
from packaging.requirements import Requirement

ROOT = Path(__file__).resolve().parent.parent
PROJECT = tomllib.loads((ROOT / "pyproject.toml").read_text())["project"]
DECLARED = [
    Requirement(r) for r in PROJECT["dependencies"] + PROJECT["optional-dependencies"]["dev"]
]


def _canonical(name: str) -> str:
    return re.sub(r"[-_.]+", "-", name).lower()


floors = load_script("tools/floors.py")
PINS = floors.read_pins(ROOT / "constraints.txt")


def test_constraints_name_every_declared_dependency():
    missing = sorted({_canonical(r.name) for r in DECLARED} - set(PINS))
    assert not missing, f"constraints.txt lacks {missing}: `python tools/floors.py --freeze`"


@pytest.mark.parametrize("req", DECLARED, ids=lambda r: r.name)
def test_constraints_satisfy_the_declared_bounds(req):
    pinned = PINS[_canonical(req.name)]
    assert req.specifier.contains(pinned, prereleases=True), (
        f"constraints.txt pins {req.name}=={pinned}, outside pyproject's {req}"
    )


def test_every_declared_dependency_has_a_floor_and_no_upper_bound():
    pins = floors.floors(floors.requirements(extras=("dev",)))
    assert set(pins) == {_canonical(r.name) for r in DECLARED}
    for req in DECLARED:
        assert [s.operator for s in req.specifier] == [">="], f"{req}: one '>=' bound only"


def test_floors_reject_what_make_test_min_cannot_install():
    assert floors.floors(["keras>=3.14", "tensorflow >= 2.16.1"]) == {
        "keras": "3.14",
        "tensorflow": "2.16.1",
    }
    for bad in ("numpy", "numpy<3", "numpy>=1.26,<3", "numpy==1.26", "numpy~=1.26"):
        with pytest.raises(ValueError):
            floors.floors([bad])


def test_floor_comparison_ignores_trailing_zeros():
    assert floors._same_version("3.14.0", "3.14")
    assert floors._same_version("2.16.1", "2.16.1")
    assert not floors._same_version("3.14.1", "3.14")
    assert not floors._same_version("1.26.4", "1.26")


def test_environment_yml_has_pyprojects_bounds():
    yaml = pytest.importorskip("yaml")
    env = yaml.safe_load((ROOT / "environment.yml").read_text())
    listed = [d for d in env["dependencies"] if isinstance(d, str)]
    listed += next(d["pip"] for d in env["dependencies"] if isinstance(d, dict))
    bounds = {}
    for item in listed:
        m = re.match(r"^([A-Za-z0-9._-]+)\s*(>=.*)$", item)
        if m:
            bounds[_canonical(m.group(1))] = m.group(2).replace(" ", "")
    for req in DECLARED:
        assert bounds.get(_canonical(req.name)) == str(req.specifier), (
            f"environment.yml's bound for {req.name} differs from pyproject's {req}"
        )


def test_pre_commit_runs_the_pinned_ruff():
    config = (ROOT / ".pre-commit-config.yaml").read_text()
    rev = re.search(r"ruff-pre-commit\s*\n\s*rev:\s*v?([0-9][^\s]*)", config)
    assert rev, "no ruff-pre-commit hook"
    assert rev.group(1) == PINS["ruff"], (
        f"pre-commit runs ruff {rev.group(1)}, constraints.txt pins {PINS['ruff']}"
    )
    (ruff,) = [r for r in DECLARED if _canonical(r.name) == "ruff"]
    assert ruff.specifier.contains(rev.group(1))


def test_nbval_still_has_the_hook_notebooks_conftest_replaces():
    """notebooks/conftest.py wraps nbval's private ``IPyNbCell.compare_outputs`` to leave stderr
    out of the comparison; an nbval that renames it or changes its arguments would break that.
    Read from nbval's source, since the conftest may already have replaced the method here."""
    spec = importlib.util.find_spec("nbval.plugin")
    if spec is None:
        pytest.skip("nbval is not installed")
    tree = ast.parse(Path(spec.origin).read_text())
    (cls,) = [n for n in tree.body if isinstance(n, ast.ClassDef) and n.name == "IPyNbCell"]
    methods = {n.name: n for n in cls.body if isinstance(n, ast.FunctionDef)}
    assert "compare_outputs" in methods, "nbval has no IPyNbCell.compare_outputs any more"
    args = [a.arg for a in methods["compare_outputs"].args.args]
    assert args == ["self", "test", "ref", "skip_compare"], (
        f"nbval's compare_outputs{tuple(args)} changed: update notebooks/conftest.py"
    )
