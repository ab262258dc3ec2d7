"""aelib.load_model: a saved model comes back in a fresh process, and failures name the fix."""

import json
import re
import subprocess
import sys
import textwrap
import zipfile
from pathlib import Path

import numpy as np
import pytest

import aelib
from aelib import saving


def test_every_module_that_registers_keras_classes_is_listed():
    package = Path(aelib.__file__).parent
    registering = {
        p.stem
        for p in package.glob("*.py")
        if re.search(r"^@keras\.saving\.register_keras_serializable", p.read_text(), re.M)
    }
    assert registering == set(saving.KERAS_MODULES)


@pytest.fixture(scope="module")
def saved(tmp_path_factory):
    from aelib import upsampling

    model = upsampling.upsampling_autoencoder(
        "subpixel", input_shape=(8, 8, 1), code_size=4, filters=(4, 4)
    )
    x = np.random.default_rng(0).random((2, 8, 8, 1)).astype("float32")
    path = tmp_path_factory.mktemp("saved") / "ae.keras"
    model.save(path)
    np.save(path.with_suffix(".npy"), np.asarray(model(x)))
    np.save(path.with_suffix(".x.npy"), x)
    return path


def test_a_fresh_process_loads_what_plain_keras_cannot(saved):
    script = textwrap.dedent(
        f"""
        import sys
        import numpy as np
        import keras
        path = {str(saved)!r}
        try:
            keras.models.load_model(path, safe_mode=True)
            print("plain keras: loaded")
        except Exception as err:
            print("plain keras: failed:", type(err).__name__)
        assert "aelib.upsampling" not in sys.modules
        import aelib
        model = aelib.load_model(path)
        x = np.load(path[:-6] + ".x.npy")
        np.testing.assert_allclose(np.asarray(model(x)), np.load(path[:-6] + ".npy"), atol=1e-6)
        print("aelib: loaded")
        """
    )
    out = subprocess.run(
        [sys.executable, "-c", script], capture_output=True, text=True, timeout=300
    )
    assert out.returncode == 0, out.stderr[-3000:]
    assert "plain keras: failed" in out.stdout and "aelib: loaded" in out.stdout, out.stdout


def test_a_failing_load_names_the_file_and_the_fix(saved, tmp_path):
    broken = tmp_path / "broken.keras"
    with zipfile.ZipFile(saved) as src, zipfile.ZipFile(broken, "w") as dst:
        for item in src.infolist():
            raw = src.read(item.filename)
            if item.filename == "config.json":
                text = raw.decode().replace("DepthToSpace", "NoSuchLayer")
                json.loads(text)
                raw = text.encode()
            dst.writestr(item, raw)
    with pytest.raises(ValueError) as info:
        aelib.load_model(broken)
    msg = str(info.value)
    assert str(broken) in msg and "NoSuchLayer" in msg and "custom_objects" in msg, msg
    with pytest.raises(FileNotFoundError, match="no file"):
        aelib.load_model(tmp_path / "missing.keras")
    (tmp_path / "w.h5").write_text("x")
    with pytest.raises(ValueError, match="not a .keras file"):
        aelib.load_model(tmp_path / "w.h5")
