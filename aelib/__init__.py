"""aelib: the shared code of the autoencoder notebook series.

Importing ``aelib`` is light: TensorFlow and Keras load only when a function that needs them runs.
Sub-modules (``aelib.data``, ``aelib.models``, ...) load on first attribute access.
"""

from __future__ import annotations

import importlib

from .checks import ClaimFailed, check
from .profiles import PROFILES, Profile, get_profile
from .results import record
from .runtime import setup
from .saving import load_model

__version__ = "0.1.0"
__all__ = [
    "ClaimFailed",
    "PROFILES",
    "Profile",
    "check",
    "get_profile",
    "load_model",
    "record",
    "setup",
    "__version__",
]


def __getattr__(name: str):
    try:
        module = importlib.import_module(f".{name}", __name__)
    except ModuleNotFoundError as err:
        if err.name == f"{__name__}.{name}":
            raise AttributeError(f"module 'aelib' has no attribute {name!r}") from None
        raise
    globals()[name] = module
    return module
