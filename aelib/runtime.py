"""Notebook start-up: quiet logs, reproducible seeds, the run profile."""

from __future__ import annotations

import contextlib
import logging
import os
import platform
import random
import sys
import tempfile
import warnings
from pathlib import Path

import numpy as np

from .profiles import Profile, get_profile

_state: dict = {"notebook": None, "profile": None, "seed": None}


def _quiet_tensorflow() -> None:
    # Must be set before TensorFlow is imported to silence its C++ start-up messages.
    os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "2")
    os.environ.setdefault("KERAS_BACKEND", "tensorflow")
    logging.getLogger("tensorflow").setLevel(logging.ERROR)
    logging.getLogger("absl").setLevel(logging.ERROR)
    warnings.filterwarnings("ignore", message=".*np.object.*")


# What TensorFlow's C++ side prints to the process's stderr while it loads and looks for devices.
# Abseil writes these before its logging is initialised, so TF_CPP_MIN_LOG_LEVEL cannot hide them;
# to a learner they read as failures ("failed call to cuInit", "Could not find cuda drivers").
NATIVE_NOISE = (
    "All log messages before absl::InitializeLog() is called",
    "oneDNN custom operations are on",
    "cudart_stub.cc",
    "failed call to cuInit",
    "cpu_feature_guard.cc",
    "This TensorFlow binary is optimized to use available CPU instructions",
    "To enable the following instructions:",
    "Unable to register cuDNN factory",
    "Unable to register cuFFT factory",
    "Unable to register cuBLAS factory",
    "computation placer already registered",
    "TF-TRT Warning: Could not find TensorRT",
)


@contextlib.contextmanager
def native_stderr_filtered(noise: tuple[str, ...] = NATIVE_NOISE):
    """Hold back the lines of the process's own stderr (file descriptor 2) that match ``noise``.

    Everything written to descriptor 2 inside the block goes to a temporary file; when the block ends,
    the lines that match none of ``noise`` are written to ``sys.stderr``, so real errors still show.
    Where descriptor 2 cannot be redirected (no such descriptor), the block runs unfiltered.
    """
    try:
        sys.stderr.flush()
        saved = os.dup(2)
    except (OSError, AttributeError, ValueError):
        yield
        return
    with tempfile.TemporaryFile() as held:
        os.dup2(held.fileno(), 2)
        try:
            yield
        finally:
            os.dup2(saved, 2)
            os.close(saved)
            held.seek(0)
            text = held.read().decode("utf-8", errors="replace")
            kept = [line for line in text.splitlines() if not any(n in line for n in noise)]
            if kept:
                sys.stderr.write("\n".join(kept) + "\n")


def import_tensorflow():
    """``import tensorflow``, with its start-up noise held back (see :data:`NATIVE_NOISE`).

    Returns the module, or None when TensorFlow is not installed (Keras on another backend). Also
    looks for GPUs once inside the filter, because that is when CUDA's messages are printed.
    """
    _quiet_tensorflow()
    if "tensorflow" in sys.modules:
        return sys.modules["tensorflow"]
    with native_stderr_filtered():
        try:
            import tensorflow as tf
        except ImportError:
            return None
        tf.config.list_physical_devices("GPU")
        import keras  # noqa: F401  (loads the same libraries; its messages are filtered too)
    return tf


def training_off() -> bool:
    """True while ``aelib audit`` runs: every ``fit`` runs zero epochs (``$AELIB_AUDIT`` is set)."""
    from .checks import audit_file

    return audit_file() is not None


def _switch_off_training() -> None:
    """Make every ``keras.Model.fit`` run zero epochs, so models keep their initial weights.

    The call still goes through Keras (data checks, callbacks' begin and end) exactly as
    ``fit(..., epochs=0)`` would; the returned ``History`` has no epochs, and any curve read from
    it (``history.history["loss"]``) is an empty list.
    """
    import collections
    import inspect

    import keras

    original = keras.Model.fit
    if getattr(original, "_aelib_training_off", False):
        return
    signature = inspect.signature(original)

    def fit(self, *args, **kwargs):
        bound = signature.bind_partial(self, *args, **kwargs)
        call = dict(bound.arguments)
        call.pop("self")
        call.update(call.pop("kwargs", {}))
        call["epochs"], call["initial_epoch"] = 0, 0
        history = original(self, **call)
        history.history = collections.defaultdict(list, history.history)
        return history

    fit._aelib_training_off = True
    fit.__doc__ = "Training is switched off (aelib audit): runs zero epochs."
    keras.Model.fit = fit


def jax_gpus() -> list:
    """JAX's GPU devices, when Keras runs on JAX (no TensorFlow installed); else an empty list."""
    try:
        import jax
    except ImportError:
        return []
    try:
        return [d for d in jax.devices() if d.platform == "gpu"]
    except RuntimeError:  # pragma: no cover - a broken accelerator set-up
        return []


def device_name() -> str:
    """What the notebooks' kernels train on: the GPU's name, else the CPU's model and core count."""
    gpus = gpu_names()
    if gpus:
        return f"{len(gpus)}x {gpus[0]}" if len(gpus) > 1 else gpus[0]
    model = platform.processor() or platform.machine()
    try:
        for line in Path("/proc/cpuinfo").read_text().splitlines():
            if line.startswith("model name"):
                model = line.split(":", 1)[1].strip()
                break
    except OSError:
        pass
    return f"{os.cpu_count()} CPU cores ({model}), no GPU"


def gpu_names() -> list[str]:
    tf = import_tensorflow()
    if tf is None:  # Keras on JAX
        return [str(d.device_kind) for d in jax_gpus()]
    names = []
    for gpu in tf.config.list_physical_devices("GPU"):
        details = tf.config.experimental.get_device_details(gpu)
        names.append(str(details.get("device_name", gpu.name)))
    return names


def setup(notebook: str | None = None, seed: int = 42, profile: str | None = None) -> Profile:
    """Prepare a notebook or script run and return its :class:`~aelib.profiles.Profile`.

    Under ``aelib audit`` (``$AELIB_AUDIT`` set) it also switches training off: every Keras
    ``fit`` runs zero epochs, and :func:`aelib.check` records verdicts instead of raising.

    Args:
        notebook: the notebook's name (``"01_autoencoder_vs_pca"``), used by :func:`aelib.record`.
        seed: seeds Python's ``random``, NumPy and Keras (and through Keras, TensorFlow).
        profile: a profile name; default ``$AELIB_PROFILE`` or ``"full"``.

    Raises:
        ValueError: unknown profile name (the message lists the valid ones).
    """
    prof = get_profile(profile)
    import_tensorflow()
    random.seed(seed)
    np.random.seed(seed)
    import keras  # imported here so that `import aelib` stays light

    keras.utils.set_random_seed(seed)
    if training_off():
        _switch_off_training()
    try:
        import tensorflow as tf

        tf.get_logger().setLevel(logging.ERROR)
    except ImportError:  # pragma: no cover - another Keras backend
        pass
    try:
        import matplotlib

        matplotlib.rcParams["figure.dpi"] = prof.dpi
        matplotlib.rcParams["savefig.dpi"] = prof.dpi
        matplotlib.rcParams["figure.max_open_warning"] = 0
    except ImportError:  # pragma: no cover
        pass
    _state.update(notebook=notebook or os.environ.get("AELIB_NOTEBOOK"), profile=prof, seed=seed)
    print(describe(prof))
    if training_off():
        print("training is switched off (aelib audit): every fit runs zero epochs")
    return prof


def describe(prof: Profile | None = None) -> str:
    """One line naming the profile, the library versions and the compute device."""
    prof = prof or get_profile()
    import keras

    parts = [f"profile={prof.name}", f"keras={keras.__version__}"]
    try:
        import tensorflow as tf

        gpus = tf.config.list_physical_devices("GPU")
        parts.append(f"tensorflow={tf.__version__}")
        parts.append(f"device={f'GPU x{len(gpus)}' if gpus else 'CPU'}")
    except ImportError:  # another Keras backend
        parts.append(f"backend={keras.backend.backend()}")
        gpus = jax_gpus()
        parts.append(f"device={f'GPU x{len(gpus)}' if gpus else 'CPU'}")
    return "aelib ready: " + ", ".join(parts)


def current_notebook() -> str | None:
    """The notebook name given to :func:`setup`, or ``$AELIB_NOTEBOOK``."""
    return _state["notebook"] or os.environ.get("AELIB_NOTEBOOK")


def current_profile() -> Profile:
    """The profile the last :func:`setup` in this process chose, else ``$AELIB_PROFILE``'s.

    Read by :func:`aelib.record` (the record names its profile) and
    :func:`aelib.data.load_profiled` (its default sizes); both say so where they read it.
    """
    return _state["profile"] or get_profile()
