"""TensorFlow's native start-up lines are held back; anything else written to stderr still shows."""

import subprocess
import sys

CODE = """
import os
from aelib.runtime import native_stderr_filtered
with native_stderr_filtered():
    os.write(2, b"I0000 port.cc:153] oneDNN custom operations are on. You may see...\\n")
    os.write(2, b"E0000 cuda_platform.cc:52] failed call to cuInit: UNKNOWN ERROR (303)\\n")
    os.write(2, b"a real problem\\n")
os.write(2, b"after the block\\n")
"""


def test_native_noise_is_held_back_and_the_rest_kept():
    err = subprocess.run(
        [sys.executable, "-c", CODE], capture_output=True, text=True, check=True
    ).stderr
    assert err.splitlines() == ["a real problem", "after the block"]


def test_setup_prints_no_native_noise():
    code = "import aelib; aelib.setup(profile='quick')"
    run = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
    assert run.stdout.startswith("aelib ready: profile=quick")
    assert run.stderr == "", run.stderr
