"""Loading saved ``.keras`` models that use aelib's own layers and models.

Keras rebuilds a saved model from its config, and finds a custom class only when the module that
registers it (``@keras.saving.register_keras_serializable(package="aelib")``) has been imported in
this process. :func:`load_model` imports every such module first, so a model saved in one process
loads in a fresh one, and it names the fix when loading fails.
"""

from __future__ import annotations

import importlib
import re
from pathlib import Path

# The aelib modules that register Keras classes; a test keeps this list complete.
KERAS_MODULES: tuple[str, ...] = ("optim", "regularized", "upsampling", "vae", "vqvae")


def register_all() -> None:
    """Import every module of :data:`KERAS_MODULES`, registering aelib's Keras classes."""
    for name in KERAS_MODULES:
        importlib.import_module(f"{__package__}.{name}")


def load_model(path, *, safe_mode: bool = True, compile: bool = True):
    """Load a ``.keras`` file saved from a model built with aelib (or any Keras model).

    Every aelib Keras class is registered first (:func:`register_all`), so this works in a fresh
    process that never imported the module defining the model's layers. ``safe_mode=True`` (the
    default) refuses files that would run arbitrary code (Lambda layers).

    Returns:
        The ``keras.Model``, with its weights (and its optimizer state when ``compile``).

    Raises:
        FileNotFoundError: no file at ``path``.
        ValueError: ``path`` is not a ``.keras`` file, or Keras cannot rebuild the model; the
            message names the file, Keras' reason and the fix.
    """
    import keras

    path = Path(path)
    if not path.is_file():
        raise FileNotFoundError(f"load_model(): no file {path}")
    if path.suffix != ".keras":
        raise ValueError(
            f"load_model(): {path} is not a .keras file; save the model with "
            "model.save('name.keras')"
        )
    register_all()
    try:
        return keras.models.load_model(path, safe_mode=safe_mode, compile=compile)
    except Exception as err:  # Keras raises TypeError, ValueError and others for the same causes
        reason = _reason(err)
        raise ValueError(
            f"load_model(): cannot rebuild the model in {path}: {reason}. Fix: a class that aelib "
            f"does not register (aelib registers those of aelib.{', aelib.'.join(KERAS_MODULES)}) "
            "must be imported, or passed as keras.models.load_model(path, custom_objects={...}), "
            "before loading; a file saved by a newer Keras needs that version"
        ) from err


def _reason(err: BaseException) -> str:
    """The useful part of a Keras loading error: the class it could not locate, when that is the
    cause (Keras wraps it in a generic message), else the first 300 characters."""
    texts, seen = [], set()
    while err is not None and id(err) not in seen:
        seen.add(id(err))
        texts.append(" ".join(str(err).split()))
        err = err.__cause__ or err.__context__
    for text in texts:
        found = re.search(r"Could not locate (?:class|function) '([^']+)'", text)
        if found:
            return f"Keras could not locate the class {found.group(1)!r}"
    return texts[0][:300]
