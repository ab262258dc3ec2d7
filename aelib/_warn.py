"""aelib's own warning category and how its warnings are shown.

Python shows a warning as ``<file>:<line>: <Category>: <message>``; in a notebook the file is a
temporary name such as ``/tmp/ipykernel_1234/567.py``, or a path inside the installed package, and
means nothing to the reader. Warnings of :class:`AelibWarning` (and its subclasses, such as
:class:`aelib.data.DataWarning`) are shown as one plain line, ``<Category>: <message>``. Other
libraries' warnings keep Python's format: :func:`install` wraps ``warnings.formatwarning`` and hands
every other category to the function it replaced.
"""

from __future__ import annotations

import warnings


class AelibWarning(UserWarning):
    """The base of every warning aelib raises; shown without a file path (see :func:`install`)."""


def _plain_for_aelib(previous):
    def formatwarning(message, category, filename, lineno, line=None):
        if isinstance(category, type) and issubclass(category, AelibWarning):
            return f"{category.__name__}: {message}\n"
        return previous(message, category, filename, lineno, line)

    formatwarning._aelib_previous = previous  # marks the hook as installed
    return formatwarning


def install() -> None:
    """Show :class:`AelibWarning` and its subclasses as ``Category: message`` lines. Idempotent."""
    if not hasattr(warnings.formatwarning, "_aelib_previous"):
        warnings.formatwarning = _plain_for_aelib(warnings.formatwarning)
