"""Teaching claims that a notebook states and verifies."""

from __future__ import annotations

import numbers


class ClaimFailed(AssertionError):
    """A notebook's claim did not hold; the message carries the numbers behind it."""


def _fmt(value) -> str:
    if isinstance(value, bool):
        return str(value)
    if isinstance(value, numbers.Real):
        return f"{float(value):.6g}"
    return repr(value)


def check(statement: str, ok, **numbers_) -> bool:
    """State a claim and verify it.

    Prints one line, ``CHECK passed: <statement>``, when ``ok`` is true. The numbers are left out of
    that line on purpose: the line must read the same in every profile so that nbval can compare
    it. When ``ok`` is false, raises :class:`ClaimFailed` whose message holds the statement and
    every number passed as a keyword, so a failing run says what the data said.

    Args:
        statement: the claim in plain words.
        ok: the verdict; anything with a truth value (a NumPy bool too).
        **numbers_: the measurements behind the verdict.
    """
    if not isinstance(statement, str) or not statement.strip():
        raise ValueError("check() needs the claim as a non-empty string")
    try:
        verdict = bool(ok)
    except ValueError as err:  # e.g. an array with more than one element
        raise TypeError(
            f"check({statement!r}): ok must be a single truth value, got {ok!r}"
        ) from err
    if not verdict:
        detail = ", ".join(f"{k}={_fmt(v)}" for k, v in numbers_.items())
        raise ClaimFailed(f"claim does not hold: {statement}" + (f" ({detail})" if detail else ""))
    print(f"CHECK passed: {statement}")
    return True
