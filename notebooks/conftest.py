"""nbval settings for the notebooks.

stderr is not compared: it carries TensorFlow's and Python's warnings, which differ between machines
and library versions while saying nothing about the lesson. stdout, results and the claims are.
"""

import os

import nbval.plugin as _nbval
import pytest

# Kernels inherit this process's environment. A non-interactive MPLBACKEND (Agg) would make
# plt.show() display nothing, so figure cells would lose their outputs: let kernels use inline.
os.environ.pop("MPLBACKEND", None)


@pytest.hookimpl(tryfirst=True)
def pytest_runtest_setup(item):
    # Unit tests collected earlier may set MPLBACKEND=Agg for their own process; a notebook's kernel
    # starts in its first cell's setup and must not inherit it.
    os.environ.pop("MPLBACKEND", None)


def _without_stderr(outputs):
    return [
        o for o in outputs if not (o.get("output_type") == "stream" and o.get("name") == "stderr")
    ]


_compare = _nbval.IPyNbCell.compare_outputs


def _compare_outputs(self, test, ref, skip_compare=None):
    return _compare(self, _without_stderr(test), _without_stderr(ref), skip_compare)


_nbval.IPyNbCell.compare_outputs = _compare_outputs
