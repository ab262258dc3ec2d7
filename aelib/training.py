"""Training helpers shared by the notebooks: a standard fit, convergence, seed spread, a LR search.

What two notebooks need to train and compare autoencoders honestly lives here:

- :func:`fit_autoencoder`: Adam with a cosine-decaying learning rate, images as input and target,
  optional validation data; returns the Keras ``History``.
- :func:`tail_improvement` / :func:`converged`: how much the last part of a loss curve still
  improved, the measure behind "trained to convergence".
- :func:`spread` and :func:`clear_win`: mean and standard deviation over seeds, and a win that
  counts only when the gap between two means exceeds the seeds' spread.
- :func:`search_learning_rate`: pick a learning rate on validation data only.

Under ``aelib audit`` training is switched off (every ``fit`` runs zero epochs), so loss curves are
empty: these functions then return NaN or ``False``, never a verdict that would pass.
"""

from __future__ import annotations

import math
import time
from collections.abc import Callable, Sequence

import numpy as np

from . import _validate


def _positive_int(name: str, value, fn: str = "fit_autoencoder") -> int:
    return _validate.integer(value, name, fn, minimum=1)


def fit_autoencoder(
    model,
    x,
    *,
    epochs: int,
    batch_size: int,
    lr: float = 3e-3,
    validation_data=None,
    loss: str = "mse",
    callbacks: Sequence | None = None,
    steps_per_execution: int = 1,
):
    """Compile ``model`` with Adam on a cosine-decaying learning rate and fit it to ``x -> x``.

    Args:
        model: an uncompiled (or to-be-recompiled) Keras model whose output has ``x``'s shape.
        x: training images, shape ``(n, ...)``.
        epochs: passes over ``x``; the learning rate decays from ``lr`` to zero over all of them.
        batch_size: mini-batch size.
        lr: the initial learning rate.
        validation_data: validation images (targets are the images themselves), or None.
        loss: a Keras loss name.
        callbacks: extra Keras callbacks.
        steps_per_execution: training steps per compiled call (a speed setting only).

    Returns:
        The ``History`` of the fit; ``history.history["val_loss"]`` when ``validation_data`` is given.
    """
    epochs = _positive_int("epochs", epochs)
    batch_size = _positive_int("batch_size", batch_size)
    if not (isinstance(lr, (int, float, np.floating)) and math.isfinite(lr) and lr > 0):
        raise ValueError(f"lr must be a positive finite number, got {lr!r}")
    return fit_pairs(
        model,
        x,
        x,
        epochs=epochs,
        batch_size=batch_size,
        lr=float(lr),
        loss=loss,
        validation_data=None if validation_data is None else (validation_data, validation_data),
        callbacks=callbacks,
        steps_per_execution=steps_per_execution,
    )


def fit_pairs(
    model,
    x,
    y,
    *,
    epochs: int,
    batch_size: int,
    lr: float,
    loss="mse",
    validation_data=None,
    callbacks: Sequence | None = None,
    steps_per_execution: int = 1,
    jit_compile="auto",
    fused_adam: bool = False,
):
    """Compile ``model`` with Adam on a cosine-decaying learning rate and fit ``x -> y``: the recipe
    of :func:`fit_autoencoder` for inputs that differ from the targets (a low-resolution image and
    its original, an image with a hole and the whole image, a scene and its label map).

    Args:
        model: a Keras model.
        x, y: inputs and targets (``x`` may be a list of arrays for a model with several inputs).
        epochs, batch_size, lr: the training budget; the learning rate decays to zero over it.
        loss: a Keras loss (name or object).
        validation_data: ``(x_val, y_val)`` or None.
        callbacks: extra Keras callbacks.
        steps_per_execution: training steps per compiled call (a speed setting only).
        jit_compile: compile with XLA (``True``), not (``False``), or as Keras decides (``"auto"``);
            a speed setting only.
        fused_adam: Adam's update in one TensorFlow op per weight (:class:`aelib.optim.FusedAdam`)
            instead of Keras' many small ones; the same arithmetic, a speed setting only.

    Returns:
        The Keras ``History``.
    """
    import keras

    fn = "fit_pairs"
    epochs = _validate.integer(epochs, "epochs", fn, minimum=1)
    batch_size = _validate.integer(batch_size, "batch_size", fn, minimum=1)
    lr = _validate.number(lr, "lr", fn, minimum=0, exclusive=True)
    fused_adam = _validate.flag(fused_adam, "fused_adam", fn)
    n = len(x[0]) if isinstance(x, (list, tuple)) else len(x)
    steps = max(1, math.ceil(n / batch_size) * epochs)
    if fused_adam:
        from .optim import FusedAdam as adam
    else:
        adam = keras.optimizers.Adam
    model.compile(
        optimizer=adam(keras.optimizers.schedules.CosineDecay(lr, steps)),
        loss=loss,
        steps_per_execution=steps_per_execution,
        jit_compile=jit_compile,
    )
    return model.fit(
        x,
        y,
        epochs=epochs,
        batch_size=batch_size,
        validation_data=validation_data,
        callbacks=list(callbacks or []),
        verbose=0,
    )


def _curve(history, key: str) -> np.ndarray:
    h = getattr(history, "history", history)
    if isinstance(h, dict):
        values = h.get(key, [])
    else:
        values = h
    return np.asarray(list(values), dtype=float)


def tail_improvement(history, key: str = "val_loss", tail: float = 0.2) -> float:
    """Relative improvement of a loss curve over its last ``tail`` fraction of epochs.

    ``(loss at the start of the tail - last loss) / loss at the start of the tail``: 0.01 means the
    last fifth of training lowered the loss by 1%. NaN when the curve has fewer than 5 epochs
    (for instance when training is switched off), so that no convergence claim can pass on it.

    Args:
        history: a Keras ``History``, its ``.history`` dict, or a sequence of losses.
        key: the curve to read from a history.
        tail: the fraction of epochs that forms the tail, in (0, 1).
    """
    if not 0 < tail < 1:
        raise ValueError(f"tail must be in (0, 1), got {tail!r}")
    curve = _curve(history, key)
    if len(curve) < 5:
        return float("nan")
    start = len(curve) - 1 - max(1, int(round(tail * len(curve))))
    return float((curve[start] - curve[-1]) / curve[start])


def converged(history, key: str = "val_loss", tail: float = 0.2, tol: float = 0.02) -> bool:
    """True when the last ``tail`` of the curve improved the loss by less than ``tol`` (and the
    curve has at least 5 epochs). See :func:`tail_improvement`."""
    value = tail_improvement(history, key, tail)
    return bool(np.isfinite(value) and value < tol)


def spread(values: Sequence[float]) -> tuple[float, float]:
    """Mean and sample standard deviation (``ddof=1``) of per-seed results.

    Raises:
        ValueError: fewer than two values (one seed has no spread) or a non-finite value.
    """
    arr = np.asarray(list(values), dtype=float)
    if arr.ndim != 1 or len(arr) < 2:
        raise ValueError(f"spread() needs at least two per-seed values, got {arr.tolist()}")
    if not np.all(np.isfinite(arr)):
        raise ValueError(f"spread() got a non-finite value: {arr.tolist()}")
    return float(arr.mean()), float(arr.std(ddof=1))


def fmt_spread(values: Sequence[float], digits: int = 4) -> str:
    """``"mean ± std (n seeds)"`` with ``digits`` decimals."""
    mean, std = spread(values)
    return f"{mean:.{digits}f} ± {std:.{digits}f} ({len(values)} seeds)"


def clear_win(lower: Sequence[float], higher: Sequence[float]) -> bool:
    """True when ``lower``'s values are clearly below ``higher``'s: the gap between the two means
    exceeds the sum of the two standard deviations (each over seeds, at least two per side)."""
    m_lo, s_lo = spread(lower)
    m_hi, s_hi = spread(higher)
    return bool(m_hi - m_lo > s_lo + s_hi)


def search_learning_rate(
    train: Callable[[float], float],
    lrs: Sequence[float],
) -> tuple[float, dict[float, float]]:
    """Try each learning rate and keep the one with the lowest validation score.

    Args:
        train: ``train(lr) -> validation loss``; it must score on validation data only.
        lrs: the learning rates to try (at least one).

    Returns:
        ``(best_lr, {lr: validation loss})``. A non-finite score (a diverged run) never wins; when
        every score is non-finite the first learning rate is returned with the scores, so a later
        check on the scores can fail and say so.
    """
    if len(lrs) < 1:
        raise ValueError("search_learning_rate() needs at least one learning rate")
    scores = {float(lr): float(train(float(lr))) for lr in lrs}
    finite = {lr: s for lr, s in scores.items() if np.isfinite(s)}
    best = min(finite, key=finite.get) if finite else float(lrs[0])
    return best, scores


class Timer:
    """A context manager that measures wall-clock seconds: ``with Timer() as t: ...; t.seconds``."""

    def __enter__(self) -> Timer:
        self._start = time.perf_counter()
        self.seconds = 0.0
        return self

    def __exit__(self, *exc) -> None:
        self.seconds = time.perf_counter() - self._start
