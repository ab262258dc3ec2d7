"""Argument validation shared by every aelib module: one rule, one message style.

Every check takes the value, the argument's name and the calling function's name (``fn``), and
returns the value in a plain Python type or raises ``ValueError`` with a message of the form
``"fn(): name must be ..., got ..."`` (``"a positive int"``, ``"an int in [1, 28]"``: "int" there
means an integral number of any integer type).

The rule for integers: an integral number of any integer type is accepted (``int``, ``numpy.int64``,
``numpy.uint8``, ...; anything that implements ``__index__``); everything else is refused, with the
argument's name: floats (``28.7`` and also ``28.0``, which would hide a computation gone wrong),
``bool`` (``True`` is an ``int`` in Python, never a count in aelib), strings, ``None``.

Functions:

- :func:`integer` one integral number, with optional bounds;
- :func:`integers` a sequence of them (filter counts, layer widths);
- :func:`shape` an image shape ``(height, width, channels)``;
- :func:`choice` one of a fixed set of names (an output activation, a method);
- :func:`output_path` a file path to be written: its folder must be a folder, not a file.
"""

from __future__ import annotations

import operator
from collections.abc import Iterable
from pathlib import Path


def integer(
    value, name: str, fn: str, minimum: int | None = None, maximum: int | None = None
) -> int:
    """``value`` as an ``int`` if it is an integral number in ``[minimum, maximum]``.

    Raises:
        ValueError: ``value`` is a bool, a float, a string or anything that is not an integer, or
            lies outside the bounds; the message names ``name`` and ``fn``.
    """
    if isinstance(value, bool) or type(value).__name__ == "bool_":  # NumPy 1.x's bool_ has __index__
        number = None
    else:
        try:
            number = operator.index(value)
        except TypeError:
            number = None
    if (
        number is None
        or (minimum is not None and number < minimum)
        or (maximum is not None and number > maximum)
    ):
        raise ValueError(f"{fn}(): {name} must be {_describe(minimum, maximum)}, got {value!r}")
    return number


def _describe(minimum: int | None, maximum: int | None) -> str:
    # "int" in a message means an integral number of any integer type (see the module's docstring)
    if minimum is not None and maximum is not None:
        return f"an int in [{minimum}, {maximum}]"
    if minimum == 1:
        return "a positive int"
    if minimum == 0:
        return "a non-negative int"
    if minimum is not None:
        return f"an int >= {minimum}"
    if maximum is not None:
        return f"an int <= {maximum}"
    return "an int"


def integers(
    values, name: str, fn: str, minimum: int | None = 1, allow_empty: bool = False
) -> tuple[int, ...]:
    """``values`` (a sequence, not a string) as a tuple of ints, each checked by :func:`integer`.

    Raises:
        ValueError: not a sequence, empty (unless ``allow_empty``), or an element is refused.
    """
    if isinstance(values, (str, bytes)) or not isinstance(values, Iterable):
        raise ValueError(f"{fn}(): {name} must be a sequence of integers, got {values!r}")
    values = tuple(values)
    if not values and not allow_empty:
        raise ValueError(f"{fn}(): {name} must hold at least one integer, got {values!r}")
    return tuple(integer(v, f"{name}[{i}]", fn, minimum=minimum) for i, v in enumerate(values))


def shape(value, fn: str, name: str = "input_shape") -> tuple[int, int, int]:
    """An image shape ``(height, width, channels)`` of positive integers.

    Raises:
        ValueError: not three elements, or an element that is not a positive integer.
    """
    if isinstance(value, (str, bytes)) or not isinstance(value, Iterable) or len(tuple(value)) != 3:
        raise ValueError(f"{fn}(): {name} must be (height, width, channels), got {value!r}")
    return integers(value, name, fn, minimum=1)  # type: ignore[return-value]


def choice(value, name: str, fn: str, options: Iterable[str]) -> str:
    """``value`` if it is one of ``options``.

    Raises:
        ValueError: anything else; the message lists the options.
    """
    options = tuple(options)
    if not isinstance(value, str) or value not in options:
        raise ValueError(f"{fn}(): {name} must be one of {options}, got {value!r}")
    return value


def output_path(path, fn: str, name: str = "path") -> Path:
    """``path`` as a ``Path`` a file can be written to: its folder is created if missing.

    ``fn`` may also be a command (``"aelib run"``), for options checked before a long run.

    Raises:
        ValueError: ``path`` is empty or names an existing folder.
        NotADirectoryError: an existing part of its folder is a file ("not a folder").
    """
    where = fn if " " in fn else f"{fn}()"  # a command ("aelib run") or a function
    if not isinstance(path, (str, Path)) or not str(path).strip():
        raise ValueError(f"{where}: {name} must be a file path, got {path!r}")
    path = Path(path)
    if path.is_dir():
        raise ValueError(f"{where}: {name} {path} is a folder; give a file name inside it")
    for folder in (path.parent, *path.parent.parents):
        if folder.exists():
            if not folder.is_dir():
                raise NotADirectoryError(
                    f"{where}: cannot write {path}: {folder} is not a folder (it is a file)"
                )
            break
    path.parent.mkdir(parents=True, exist_ok=True)
    return path
