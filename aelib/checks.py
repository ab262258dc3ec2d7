"""Teaching claims that a notebook states and verifies, and the record the claims audit reads.

Every claim says what kind of evidence it is:

- ``"learned"``: about what training achieved (errors, ratios, AUROCs, rankings of trained models).
  Such a claim must fail when training is switched off; ``aelib audit`` verifies that it does.
- ``"measured"``: about the data or a method that is not trained here (PCA, a median filter, a
  dataset statistic).
- ``"fact"``: true by construction (shapes, parameter counts, an identity). A teaching aid, never
  counted as evidence.

When ``$AELIB_AUDIT`` names a file (``aelib audit`` sets it), :func:`aelib.setup` switches training
off and :func:`check` appends each verdict to that file instead of raising, so one run of a notebook
shows every claim's verdict on untrained models.
"""

from __future__ import annotations

import json
import numbers
import os

import numpy as np

KINDS = ("learned", "measured", "fact")
AUDIT_VAR = "AELIB_AUDIT"


class ClaimFailed(AssertionError):
    """A notebook's claim did not hold; the message carries the numbers behind it."""


def _fmt(value) -> str:
    if isinstance(value, (bool, np.bool_)):
        return str(bool(value))
    if isinstance(value, numbers.Real):
        return f"{float(value):.6g}"
    return repr(value)


def audit_file() -> str | None:
    """The file that collects claim verdicts during ``aelib audit`` (``$AELIB_AUDIT``), or None."""
    return os.environ.get(AUDIT_VAR) or None


def _verdict(statement: str, ok) -> bool:
    # Only a real boolean is a verdict: NaN, None, numbers and arrays all have truth values that
    # say nothing about the claim (bool(nan) is True), so they are refused.
    if isinstance(ok, (bool, np.bool_)):
        return bool(ok)
    if isinstance(ok, np.ndarray) and ok.shape == () and ok.dtype == bool:
        return bool(ok)
    raise TypeError(
        f"check({statement!r}): the verdict must be True or False (a comparison such as "
        f"`error < limit`), got {type(ok).__name__} {ok!r}; compare the number with its limit, "
        "and reduce an array with np.all() or np.any()"
    )


def check(statement: str, ok, *, kind: str, **numbers_) -> None:
    """State a claim and verify it.

    Prints one line, ``CHECK passed: <statement>``, when ``ok`` is true. The numbers are left out of
    that line on purpose: the line must read the same in every profile so that nbval can compare
    it. When ``ok`` is false, raises :class:`ClaimFailed` whose message holds the statement and
    every number passed as a keyword, so a failing run says what the data said.

    During ``aelib audit`` (``$AELIB_AUDIT`` set) the verdict is recorded with the claim's kind and
    nothing is raised.

    Args:
        statement: the claim in plain words.
        ok: the verdict: ``True`` or ``False`` (a NumPy boolean too).
        kind: ``"learned"``, ``"measured"`` or ``"fact"`` (see the module's docstring).
        **numbers_: the measurements behind the verdict.

    Raises:
        ValueError: an empty statement or an unknown kind.
        TypeError: ``ok`` is not a boolean (NaN, None, a number or an array).
        ClaimFailed: the claim does not hold (outside an audit).
    """
    if not isinstance(statement, str) or not statement.strip():
        raise ValueError("check() needs the claim as a non-empty string")
    if kind not in KINDS:
        raise ValueError(
            f"check({statement!r}): kind must be one of {', '.join(KINDS)}, got {kind!r}"
        )
    verdict = _verdict(statement, ok)
    detail = ", ".join(f"{k}={_fmt(v)}" for k, v in numbers_.items())
    target = audit_file()
    if target:
        from .runtime import current_notebook

        entry = {
            "notebook": current_notebook(),
            "statement": statement,
            "kind": kind,
            "passed": verdict,
            "numbers": detail,
        }
        with open(target, "a", encoding="utf-8") as fh:
            fh.write(json.dumps(entry) + "\n")
        print(f"CHECK {'passed' if verdict else 'failed'} ({kind}, training off): {statement}")
        return
    if not verdict:
        raise ClaimFailed(f"claim does not hold: {statement}" + (f" ({detail})" if detail else ""))
    print(f"CHECK passed: {statement}")
