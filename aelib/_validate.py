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
- :func:`halving_filters` filter counts of blocks that each halve height and width;
- :func:`number` one finite real number (not a bool, not a string), with optional bounds;
- :func:`values_1d` a non-empty 1-D array of finite numbers (scores, errors);
- :func:`binary_labels` one boolean (or 0/1) label per value;
- :func:`images` a batch of floating-point images ``(n, height, width, channels)`` in [0, 1];
- :func:`choice` one of a fixed set of names (an output activation, a method);
- :func:`output_path` a file path to be written: its folder must be a folder, not a file;
- :class:`ImagesOnlyFit` ``fit`` and ``evaluate`` of a model that reconstructs its input (images
  only, checked up front), shared by ``VAE`` and ``VQVAE``.
"""

from __future__ import annotations

import math
import numbers
import operator
from collections.abc import Iterable
from pathlib import Path

import numpy as np


def integer(
    value, name: str, fn: str, minimum: int | None = None, maximum: int | None = None
) -> int:
    """``value`` as an ``int`` if it is an integral number in ``[minimum, maximum]``.

    Raises:
        ValueError: ``value`` is a bool, a float, a string or anything that is not an integer, or
            lies outside the bounds; the message names ``name`` and ``fn``.
    """
    if (
        isinstance(value, bool) or type(value).__name__ == "bool_"
    ):  # NumPy 1.x's bool_ has __index__
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


def flag(value, name: str, fn: str) -> bool:
    """``value`` as a ``bool`` if it is ``True`` or ``False`` (a NumPy boolean too).

    Raises:
        ValueError: anything else (``1``, ``"yes"``, ``None``); the message names ``name`` and
            ``fn``.
    """
    if not isinstance(value, (bool, np.bool_)):
        raise ValueError(f"{fn}(): {name} must be True or False, got {value!r}")
    return bool(value)


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


def halving_filters(filters, shape, fn: str) -> tuple[tuple[int, ...], tuple[int, int]]:
    """Filter counts of convolution blocks that each halve height and width, checked against the
    image ``shape``; returns them and the feature map's height and width after the last block.

    Raises:
        ValueError: a count is not a positive integer, or height and width are not divisible by
            ``2 ** len(filters)``.
    """
    filters = integers(filters, "filters", fn, minimum=1)
    factor = 2 ** len(filters)
    if shape[0] % factor or shape[1] % factor:
        raise ValueError(
            f"{fn}(): height and width {tuple(shape[:2])} must be divisible by {factor} "
            f"for {len(filters)} downsampling blocks"
        )
    return filters, (shape[0] // factor, shape[1] // factor)


def number(
    value,
    name: str,
    fn: str,
    minimum: float | None = None,
    maximum: float | None = None,
    exclusive: bool = False,
) -> float:
    """``value`` as a ``float`` if it is a finite real number in its bounds.

    Any real number type is accepted (``int``, ``float``, NumPy's); ``bool``, strings, ``None``,
    NaN and infinities are refused. ``exclusive=True`` excludes both bounds themselves.

    Raises:
        ValueError: the message names ``name`` and ``fn`` and the allowed range.
    """
    ok = (
        not isinstance(value, (bool, np.bool_))
        and isinstance(value, numbers.Real)
        and math.isfinite(value)
    )
    if ok:
        v = float(value)
        if minimum is not None:
            ok = v > minimum if exclusive else v >= minimum
        if ok and maximum is not None:
            ok = v < maximum if exclusive else v <= maximum
    if not ok:
        raise ValueError(
            f"{fn}(): {name} must be {_describe_number(minimum, maximum, exclusive)}, got {value!r}"
        )
    return v


def _describe_number(minimum: float | None, maximum: float | None, exclusive: bool) -> str:
    if minimum is not None and maximum is not None:
        left, right = ("(", ")") if exclusive else ("[", "]")
        return f"a number in {left}{minimum:g}, {maximum:g}{right}"
    if minimum == 0 and exclusive:
        return "a positive number"
    if minimum is not None:
        return f"a number {'>' if exclusive else '>='} {minimum:g}"
    if maximum is not None:
        return f"a number {'<' if exclusive else '<='} {maximum:g}"
    return "a finite number"


def values_1d(values, name: str, fn: str) -> np.ndarray:
    """``values`` as a non-empty 1-D float64 array of finite numbers (one value per image).

    Raises:
        ValueError: not 1-D, empty, or holding NaN or infinities (the message counts them).
    """
    try:
        arr = np.asarray(values, dtype=np.float64)
    except (TypeError, ValueError):
        raise ValueError(f"{fn}(): {name} must be a 1-D array of numbers, got {values!r}") from None
    if arr.ndim != 1:
        raise ValueError(
            f"{fn}(): {name} must be a 1-D array of per-image values, got shape {arr.shape}"
        )
    if arr.size == 0:
        raise ValueError(f"{fn}(): {name} is empty; need at least one value")
    bad = int(np.count_nonzero(~np.isfinite(arr)))
    if bad:
        raise ValueError(
            f"{fn}(): {name} must be finite, got {bad} NaN or infinite value(s) of {arr.size}"
        )
    return arr


def binary_labels(labels, n: int, fn: str, name: str = "is_anomaly", both: bool = True):
    """``labels`` as a 1-D boolean array of length ``n`` (booleans or 0/1 accepted).

    Args:
        both: require at least one ``True`` and one ``False``.

    Raises:
        ValueError: wrong length or shape, values other than booleans or 0/1, or (with ``both``)
            only one of the two classes.
    """
    lab = np.asarray(labels)
    if lab.ndim != 1 or len(lab) != n:
        raise ValueError(
            f"{fn}(): {name} must be 1-D with one entry per score ({n}), got shape {lab.shape}"
        )
    if lab.dtype != bool:
        values = set(np.unique(lab).tolist()) if lab.dtype.kind in "biuf" else {None}
        if not values <= {0, 1}:
            shown = sorted(values, key=str)[:5]
            raise ValueError(f"{fn}(): {name} must hold booleans or 0/1, got values {shown}")
        lab = lab.astype(bool)
    if both and (lab.all() or not lab.any()):
        raise ValueError(
            f"{fn}(): {name} must contain both anomalies (True) and normal images (False); "
            f"got {int(lab.sum())} anomalies of {n}"
        )
    return lab


def images(x, fn: str, name: str = "x") -> np.ndarray:
    """``x`` as a NumPy array if it is a batch of floating-point images ``(n, h, w, c)`` in [0, 1].

    Raises:
        ValueError: not floating point (the message says how to convert uint8 images), not 4-D or
            empty, or values outside [0, 1] or NaN.
    """
    x = np.asarray(x)
    if not np.issubdtype(x.dtype, np.floating):
        raise ValueError(
            f"{fn}(): {name} must be floating-point images in [0, 1], got dtype {x.dtype} "
            "(convert uint8 images with x / 255)"
        )
    if x.ndim != 4 or min(x.shape) <= 0:
        raise ValueError(
            f"{fn}(): {name} must have shape (n, height, width, channels), got {x.shape}"
        )
    lo, hi = float(np.min(x)), float(np.max(x))
    if not (0.0 <= lo and hi <= 1.0):  # also false for NaN
        raise ValueError(
            f"{fn}(): {name} must hold values in [0, 1], got min {lo:.4g} and max {hi:.4g}"
        )
    return x


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


def is_array_like(x) -> bool:
    """Whether ``x`` is an array (or list) that can be checked, rather than a ``tf.data.Dataset``,
    a generator or a Keras ``PyDataset``, which are passed on unchecked."""
    return isinstance(x, (np.ndarray, list)) or (hasattr(x, "__array__") and hasattr(x, "shape"))


class ImagesOnlyFit:
    """``fit`` and ``evaluate`` for a Keras model that reconstructs its input: images only, no
    targets, checked before Keras sees them.

    Mix in before ``keras.Model`` (``class VAE(ImagesOnlyFit, keras.Model)``). The class sets
    ``_model_name`` ("VAE") and ``_model_article`` ("a VAE") for the messages, and implements
    ``_checked(x, fn, arg)``, which returns the checked array or raises ``ValueError``.
    """

    _model_name = "model"
    _model_article = "the model"

    def _checked(self, x, fn: str, arg: str = "x"):
        raise NotImplementedError

    def _checked_or_passed(self, x, fn: str, arg: str = "x"):
        if x is None or not is_array_like(x):
            return x  # a tf.data.Dataset or a generator: passed through unchecked
        return self._checked(x, fn, arg)

    def _no_targets(self, y, fn: str) -> None:
        if y is not None:
            raise ValueError(
                f"{fn}(): {self._model_article} reconstructs its input; pass the images as x and no y"
            )

    def fit(self, x=None, y=None, validation_data=None, **kwargs):
        fn = f"{self._model_name}.fit"
        self._no_targets(y, fn)
        x = self._checked_or_passed(x, fn)
        if validation_data is not None:
            if isinstance(validation_data, tuple):
                if len(validation_data) > 1 and validation_data[1] is not None:
                    raise ValueError(f"{fn}(): validation_data must be images only, or (images,)")
                validation_data = validation_data[0]
            validation_data = (self._checked_or_passed(validation_data, fn, "validation_data"),)
        return super().fit(x, validation_data=validation_data, **kwargs)

    def evaluate(self, x=None, y=None, **kwargs):
        fn = f"{self._model_name}.evaluate"
        self._no_targets(y, fn)
        return super().evaluate(self._checked_or_passed(x, fn), **kwargs)
