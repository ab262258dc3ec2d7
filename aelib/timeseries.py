"""Autoencoders for time series: windows, scores per time step, events, and classical baselines.

The convention of :mod:`aelib.anomaly` holds here too: **the anomaly is the positive class**, a score
is higher where a step looks more anomalous, and a step is flagged when its score is strictly above
the threshold. A series is a float array ``(n_steps, channels)``; a 1-D array is one channel.

Contents:

- Preparing a series: :func:`as_series`, :func:`fit_standardizer` / :func:`standardize` (statistics
  of the training part only), :func:`dominant_period`, :func:`windows`.
- Models: :func:`conv_autoencoder` (strided ``Conv1D`` down, nearest-neighbour upsampling and a
  convolution up, as notebook 03 recommends) and :func:`dense_autoencoder`, the baseline.
- Scores per step: :func:`window_step_errors` (squared error of every step of every window) and
  :func:`step_scores` (the mean over all windows that cover a step); :func:`spread_window_scores`
  for a method that gives one score per window.
- Baselines: :func:`moving_average_residual` with :func:`choose_forecast` (tuned on normal data by
  its one-step prediction error), :func:`nearest_neighbour_distance` (the matrix-profile discord: each
  window's z-normalised distance to its nearest neighbour, in a normal reference series or, with an
  exclusion zone, in the series itself).
- Events: :func:`events`, :func:`event_report` (labelled anomalies hit, false alarms per 1,000 steps),
  :func:`top_hit` (does the single highest score fall on an anomaly, the UCR archive's rule) and
  :func:`point_adjust` (the evaluation shortcut that inflates scores; shown, never used for a number).
- Generation: :func:`to_unit` / :func:`from_unit` (a fixed affine map into [0, 1] for
  :class:`aelib.vae.VAE`), :func:`gaussian_windows` and :func:`shuffled_steps` (two simple generators
  to compare with), :func:`discriminative_accuracy` (how well a classifier tells real windows from
  generated ones: 0.5 is indistinguishable).
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

import numpy as np

from . import _validate, models

# --------------------------------------------------------------------------------------------------
# Preparing a series
# --------------------------------------------------------------------------------------------------


def as_series(x, fn: str, name: str = "x", min_length: int = 2) -> np.ndarray:
    """``x`` as a float64 array ``(n_steps, channels)`` of finite numbers (a 1-D array becomes one
    channel).

    Raises:
        ValueError: not 1-D or 2-D, shorter than ``min_length``, or holding NaN or infinities.
    """
    try:
        arr = np.asarray(x, dtype=np.float64)
    except (TypeError, ValueError):
        raise ValueError(
            f"{fn}(): {name} must be an array of numbers, got {type(x).__name__}"
        ) from None
    if arr.ndim == 1:
        arr = arr[:, None]
    if arr.ndim != 2 or min(arr.shape) == 0:
        raise ValueError(
            f"{fn}(): {name} must have shape (n_steps,) or (n_steps, channels), got {arr.shape}"
        )
    if len(arr) < min_length:
        raise ValueError(f"{fn}(): {name} has {len(arr)} steps, need at least {min_length}")
    bad = int(np.count_nonzero(~np.isfinite(arr)))
    if bad:
        raise ValueError(f"{fn}(): {name} holds {bad} NaN or infinite value(s)")
    return arr


@dataclass(frozen=True)
class Standardizer:
    """Per-channel mean and standard deviation of a training series."""

    mean: np.ndarray
    std: np.ndarray


def fit_standardizer(train) -> Standardizer:
    """Mean and standard deviation of each channel of ``train`` (the training part only: a scaler
    fitted on the whole series would let the test part, anomalies included, set the scale).

    Raises:
        ValueError: ``train`` is not a series, or a channel is constant.
    """
    x = as_series(train, "fit_standardizer", "train")
    std = x.std(axis=0)
    if np.any(std == 0):
        raise ValueError(
            f"fit_standardizer(): channel(s) {np.flatnonzero(std == 0).tolist()} are constant"
        )
    return Standardizer(x.mean(axis=0), std)


def standardize(x, scaler: Standardizer) -> np.ndarray:
    """``(x - mean) / std`` with the training statistics in ``scaler``, as float32 ``(n, channels)``.

    Raises:
        ValueError: ``x`` has another number of channels than the scaler.
    """
    arr = as_series(x, "standardize", min_length=1)
    if arr.shape[1] != len(scaler.mean):
        raise ValueError(
            f"standardize(): x has {arr.shape[1]} channel(s), the scaler {len(scaler.mean)}"
        )
    return ((arr - scaler.mean) / scaler.std).astype(np.float32)


def dominant_period(x, min_lag: int = 4, max_lag: int | None = None) -> int:
    """The lag of the highest peak of the autocorrelation of ``x`` (first channel, mean removed)
    between ``min_lag`` and ``max_lag`` (default: a third of the length): the length of one cycle.

    Raises:
        ValueError: bad lags, or no peak in the range.
    """
    arr = as_series(x, "dominant_period", min_length=3 * max(2, min_lag))[:, 0]
    min_lag = _validate.integer(min_lag, "min_lag", "dominant_period", minimum=1)
    max_lag = len(arr) // 3 if max_lag is None else max_lag
    max_lag = _validate.integer(max_lag, "max_lag", "dominant_period", minimum=min_lag + 2)
    z = arr - arr.mean()
    spectrum = np.fft.rfft(z, n=2 * len(z))
    ac = np.fft.irfft(spectrum * np.conj(spectrum))[: max_lag + 2]
    ac = ac / ac[0]
    lags = np.arange(min_lag, max_lag + 1)
    peaks = lags[(ac[lags] > ac[lags - 1]) & (ac[lags] >= ac[lags + 1])]
    if len(peaks) == 0:
        raise ValueError(f"dominant_period(): no autocorrelation peak in lags {min_lag}..{max_lag}")
    return int(peaks[np.argmax(ac[peaks])])


def windows(x, length: int, stride: int = 1) -> np.ndarray:
    """Every ``length``-step window of ``x`` that starts at a multiple of ``stride``: a float32
    array ``(n_windows, length, channels)`` with ``n_windows = (n_steps - length) // stride + 1``.

    Raises:
        ValueError: ``length`` or ``stride`` not a positive int, or the series shorter than a window.
    """
    length = _validate.integer(length, "length", "windows", minimum=2)
    stride = _validate.integer(stride, "stride", "windows", minimum=1)
    arr = as_series(x, "windows", min_length=length)
    view = np.lib.stride_tricks.sliding_window_view(arr, length, axis=0)  # (n-l+1, c, l)
    return np.ascontiguousarray(view[::stride].transpose(0, 2, 1), dtype=np.float32)


# --------------------------------------------------------------------------------------------------
# Models
# --------------------------------------------------------------------------------------------------


def _check_window(length, channels, n_halvings: int, fn: str) -> tuple[int, int]:
    length = _validate.integer(length, "length", fn, minimum=2)
    channels = _validate.integer(channels, "channels", fn, minimum=1)
    if length % (2**n_halvings):
        raise ValueError(
            f"{fn}(): length {length} must be divisible by {2**n_halvings} for {n_halvings} "
            "stride-2 layers"
        )
    return length, channels


def conv_autoencoder(
    length: int,
    channels: int = 1,
    filters: Sequence[int] = (32, 16),
    kernel_size: int = 7,
    name: str = "conv1d_ae",
):
    """A 1-D convolutional autoencoder of windows ``(length, channels)``.

    Encoder: one ``Conv1D`` with stride 2 and ReLU per entry of ``filters`` (each halves the
    length). Decoder: per level, ``UpSampling1D(2)`` (repeat each step) then a ``Conv1D`` with ReLU,
    the filters in reverse order; a last linear ``Conv1D`` back to ``channels``. Repeating and then
    convolving cannot make the checkerboard pattern a strided transposed convolution makes (notebook
    03). The output is linear: the windows are standardised, not in [0, 1].

    Raises:
        ValueError: ``length`` not divisible by ``2 ** len(filters)``, or bad sizes.
    """
    import keras
    from keras import layers

    filters = _validate.integers(filters, "filters", "conv_autoencoder")
    kernel_size = _validate.integer(kernel_size, "kernel_size", "conv_autoencoder", minimum=1)
    length, channels = _check_window(length, channels, len(filters), "conv_autoencoder")
    inputs = keras.Input((length, channels), name="window")
    h = inputs
    for i, f in enumerate(filters):
        h = layers.Conv1D(f, kernel_size, strides=2, padding="same", activation="relu",
                          name=f"down_{i}")(h)  # fmt: skip
    for i, f in enumerate(reversed(filters)):
        h = layers.UpSampling1D(2, name=f"repeat_{i}")(h)
        h = layers.Conv1D(f, kernel_size, padding="same", activation="relu", name=f"up_{i}")(h)
    outputs = layers.Conv1D(channels, kernel_size, padding="same", name="reconstruction")(h)
    return keras.Model(inputs, outputs, name=name)


def dense_autoencoder(
    length: int, channels: int = 1, hidden: int = 64, code_size: int = 16, name: str = "dense_ae"
):
    """The baseline: flatten a window, dense ReLU layers ``hidden -> code_size -> hidden``, a linear
    layer back to ``length * channels`` values, reshaped to ``(length, channels)``. It sees the
    window as one vector: nothing in it knows that neighbouring steps are alike."""
    import keras
    from keras import layers

    length, channels = _check_window(length, channels, 0, "dense_autoencoder")
    hidden = _validate.integer(hidden, "hidden", "dense_autoencoder", minimum=1)
    code_size = _validate.integer(code_size, "code_size", "dense_autoencoder", minimum=1)
    inputs = keras.Input((length, channels), name="window")
    h = layers.Flatten(name="flatten")(inputs)
    h = layers.Dense(hidden, activation="relu", name="enc_hidden")(h)
    h = layers.Dense(code_size, activation="relu", name="code")(h)
    h = layers.Dense(hidden, activation="relu", name="dec_hidden")(h)
    h = layers.Dense(length * channels, name="reconstruction")(h)
    outputs = layers.Reshape((length, channels), name="to_window")(h)
    return keras.Model(inputs, outputs, name=name)


# --------------------------------------------------------------------------------------------------
# Scores per time step
# --------------------------------------------------------------------------------------------------


def window_step_errors(model, w, batch_size: int = 512) -> np.ndarray:
    """Squared reconstruction error of every step of every window, averaged over channels:
    ``(n_windows, length)`` for windows ``w`` ``(n_windows, length, channels)``."""
    w = np.asarray(w, dtype=np.float32)
    if w.ndim != 3:
        raise ValueError(
            f"window_step_errors(): w must be windows (n, length, channels), got {w.shape}"
        )
    batch_size = _validate.integer(batch_size, "batch_size", "window_step_errors", minimum=1)
    rec = np.asarray(models.predict(model, w, batch_size))
    return np.mean((rec - w) ** 2, axis=2)


def step_scores(step_errors) -> np.ndarray:
    """One score per time step from the errors of stride-1 windows ``(n_windows, length)``: the mean
    of the errors that all windows covering a step give it. A series of ``n_windows + length - 1``
    steps; every step is covered by at least one window (the first and last steps by one only)."""
    err = np.asarray(step_errors, dtype=np.float64)
    if err.ndim != 2 or min(err.shape) == 0:
        raise ValueError(
            f"step_scores(): step_errors must be (n_windows, length), got shape {err.shape}"
        )
    n_w, length = err.shape
    n = n_w + length - 1
    total = np.zeros(n + 1)
    count = np.zeros(n + 1)
    for k in range(length):  # the k-th step of window i is step i + k
        total[k : k + n_w] += err[:, k]
        count[k : k + n_w] += 1
    return total[:n] / count[:n]


def spread_window_scores(window_scores, length: int) -> np.ndarray:
    """One score per step from one score per stride-1 window: the mean over the windows covering
    the step (as :func:`step_scores` does with per-step errors)."""
    s = _validate.values_1d(window_scores, "window_scores", "spread_window_scores")
    length = _validate.integer(length, "length", "spread_window_scores", minimum=1)
    return step_scores(np.repeat(s[:, None], length, axis=1))


def ae_step_scores(model, x, length: int, batch_size: int = 512) -> np.ndarray:
    """Per-step scores of a standardised series ``x`` by an autoencoder of ``length``-step windows:
    :func:`step_scores` of :func:`window_step_errors` of every stride-1 window. ``(n_steps,)``."""
    return step_scores(window_step_errors(model, windows(x, length), batch_size))


# --------------------------------------------------------------------------------------------------
# Classical baselines
# --------------------------------------------------------------------------------------------------


def moving_average_residual(x, width: int, lag: int = 1) -> np.ndarray:
    """How far each step is from a forecast made of the steps before it, summed over channels:
    ``|x_t - mean(x_{t-lag}, x_{t-2 lag}, ..., x_{t-width lag})|``. With ``lag=1`` the forecast is
    the moving average of the last ``width`` steps; with ``lag`` one period it is the average of the
    same phase in the last ``width`` cycles (a seasonal forecast). Steps with less history use what
    they have; step 0 scores 0. ``(n_steps,)``."""
    width = _validate.integer(width, "width", "moving_average_residual", minimum=1)
    lag = _validate.integer(lag, "lag", "moving_average_residual", minimum=1)
    arr = as_series(x, "moving_average_residual", min_length=2)
    total = np.zeros_like(arr)
    count = np.zeros((len(arr), 1))
    for j in range(1, width + 1):
        shift = j * lag
        if shift >= len(arr):
            break
        total[shift:] += arr[:-shift]
        count[shift:] += 1
    forecast = np.where(count > 0, total / np.maximum(count, 1), arr)
    return np.abs(arr - forecast).sum(axis=1)


def choose_forecast(
    x_normal, widths: Sequence[int], lags: Sequence[int] = (1,)
) -> tuple[tuple[int, int], dict[tuple[int, int], float]]:
    """The ``(width, lag)`` of :func:`moving_average_residual` whose forecast has the lowest mean
    squared residual on normal data ``x_normal``: a choice made without any anomaly. Each setting is
    scored on the steps with its full history (``width * lag`` steps before them); a setting that
    leaves fewer than ``width * lag`` such steps is skipped. Returns the choice and
    ``{(width, lag): mean squared residual}`` of the settings scored.

    Raises:
        ValueError: no setting fits in ``x_normal``.
    """
    widths = _validate.integers(widths, "widths", "choose_forecast")
    lags = _validate.integers(lags, "lags", "choose_forecast")
    arr = as_series(x_normal, "choose_forecast", "x_normal")
    cost = {
        (w, g): float(np.mean(moving_average_residual(arr, w, g)[w * g :] ** 2))
        for w in widths
        for g in lags
        if len(arr) >= 2 * w * g
    }
    if not cost:
        raise ValueError(
            f"choose_forecast(): x_normal has {len(arr)} steps, too few for every width and lag"
        )
    return min(cost, key=cost.get), cost


def _znormed(w: np.ndarray) -> np.ndarray:
    w = w.reshape(len(w), -1).astype(np.float64)
    w = w - w.mean(axis=1, keepdims=True)
    norm = np.linalg.norm(w, axis=1, keepdims=True)
    return w / np.maximum(norm, 1e-8)


def nearest_neighbour_distance(
    x, length: int, reference=None, exclusion: int | None = None, chunk: int = 2048
) -> np.ndarray:
    """The matrix profile: for every stride-1 window of ``x``, the z-normalised Euclidean distance
    to its nearest neighbour. A window with a large distance (a *discord*) looks like nothing else.

    With ``reference`` (a normal series), neighbours are the windows of ``reference`` (an AB-join):
    a window is scored against normal data only. Without it, neighbours are the other windows of
    ``x``, except those starting within ``exclusion`` steps (default ``length // 2``), which overlap
    it and would always be near (the self-join of the classic discord).

    Distances of z-normalised windows: ``sqrt(2 * length * (1 - correlation))``, computed from
    correlations in chunks of ``chunk`` windows. Returns ``(n_windows,)``.
    """
    length = _validate.integer(length, "length", "nearest_neighbour_distance", minimum=3)
    chunk = _validate.integer(chunk, "chunk", "nearest_neighbour_distance", minimum=1)
    a = _znormed(windows(x, length))
    self_join = reference is None
    b = a if self_join else _znormed(windows(reference, length))
    if self_join:
        exclusion = length // 2 if exclusion is None else exclusion
        exclusion = _validate.integer(exclusion, "exclusion", "nearest_neighbour_distance", 0)
    best = np.empty(len(a))
    for start in range(0, len(a), chunk):
        corr = a[start : start + chunk] @ b.T
        if self_join:
            rows = np.arange(start, min(start + chunk, len(a)))
            cols = np.arange(len(b))
            corr[np.abs(rows[:, None] - cols[None, :]) <= exclusion] = -np.inf
        best[start : start + chunk] = corr.max(axis=1)
    best = np.clip(best, -1.0, 1.0)
    return np.sqrt(2.0 * length * (1.0 - best))


# --------------------------------------------------------------------------------------------------
# Events
# --------------------------------------------------------------------------------------------------


def events(labels) -> list[tuple[int, int]]:
    """The labelled anomalies as ``(start, end)`` pairs of steps (``end`` excluded): the runs of
    consecutive ``True`` in ``labels``."""
    lab = np.asarray(labels)
    if lab.ndim != 1:
        raise ValueError(f"events(): labels must be 1-D, got shape {lab.shape}")
    lab = _validate.binary_labels(lab, len(lab), "events", "labels", both=False).astype(np.int8)
    edges = np.flatnonzero(np.diff(np.concatenate([[0], lab, [0]])))
    return [(int(s), int(e)) for s, e in zip(edges[::2], edges[1::2], strict=True)]


def event_report(flags, labels, tolerance: int = 0) -> dict:
    """Event-level detection: which labelled anomalies were hit, and how many false alarms.

    An anomaly ``(start, end)`` is *hit* when a flagged step lies in ``[start - tolerance,
    end + tolerance)``. A *false alarm* is a run of consecutive flagged steps that touches no
    anomaly (widened by ``tolerance``): one alarm however long it lasts, as an operator would count
    it. The rate is per 1,000 steps outside the (widened) anomalies.

    Returns:
        ``{"events", "hits", "recall" (hits / events, NaN without events), "false_alarms",
        "false_alarms_per_1000", "flagged_steps"}``.
    """
    flags = np.asarray(flags)
    lab = _validate.binary_labels(labels, len(flags), "event_report", "labels", both=False)
    flags = _validate.binary_labels(flags, len(lab), "event_report", "flags", both=False)
    tolerance = _validate.integer(tolerance, "tolerance", "event_report", minimum=0)
    near = np.zeros(len(lab), bool)
    found = events(lab)
    for s, e in found:
        near[max(0, s - tolerance) : e + tolerance] = True
    hits = sum(bool(flags[max(0, s - tolerance) : e + tolerance].any()) for s, e in found)
    alarms = [(s, e) for s, e in events(flags) if not near[s:e].any()]
    normal_steps = int((~near).sum())
    return {
        "events": len(found),
        "hits": int(hits),
        "recall": hits / len(found) if found else float("nan"),
        "false_alarms": len(alarms),
        "false_alarms_per_1000": 1000.0 * len(alarms) / normal_steps if normal_steps else np.nan,
        "flagged_steps": int(flags.sum()),
    }


def top_hit(scores, labels, margin: int = 100) -> bool:
    """Whether the step with the highest score lies within ``margin`` steps of a labelled anomaly
    (the UCR anomaly archive's rule: one guess per series, ``margin`` 100)."""
    s = _validate.values_1d(scores, "scores", "top_hit")
    lab = _validate.binary_labels(labels, len(s), "top_hit", "labels")
    margin = _validate.integer(margin, "margin", "top_hit", minimum=0)
    t = int(np.argmax(s))
    return any(s0 - margin <= t < e + margin for s0, e in events(lab))


def point_adjust(scores, labels) -> np.ndarray:
    """The *point-adjusted* scores some papers evaluate: inside every labelled anomaly each step gets
    the anomaly's highest score, so one lucky step counts as finding the whole event. It inflates
    per-step metrics (even random scores look good on long anomalies) and needs the labels of the
    test data; it is shown here as a pitfall and never used for a reported number."""
    s = _validate.values_1d(scores, "scores", "point_adjust").copy()
    lab = _validate.binary_labels(labels, len(s), "point_adjust", "labels", both=False)
    for a, b in events(lab):
        s[a:b] = s[a:b].max()
    return s


# --------------------------------------------------------------------------------------------------
# Generation
# --------------------------------------------------------------------------------------------------


def to_unit(w, low: float, high: float) -> np.ndarray:
    """Map values affinely from ``[low, high]`` to [0, 1], clipped: windows for a VAE whose decoder
    ends in a sigmoid. Take ``low`` and ``high`` from training data (with a margin)."""
    low = _validate.number(low, "low", "to_unit")
    high = _validate.number(high, "high", "to_unit")
    if high <= low:
        raise ValueError(f"to_unit(): high must exceed low, got low={low}, high={high}")
    return np.clip((np.asarray(w, dtype=np.float32) - low) / (high - low), 0.0, 1.0)


def from_unit(u, low: float, high: float) -> np.ndarray:
    """The inverse of :func:`to_unit` (for values in [0, 1])."""
    return (low + (high - low) * np.asarray(u, dtype=np.float32)).astype(np.float32)


def gaussian_windows(w_train, n: int, seed: int = 0) -> np.ndarray:
    """``n`` windows drawn from a Gaussian with the mean and full covariance of the training windows
    (a linear generator: it knows every pair of steps' correlation, nothing beyond)."""
    w = np.asarray(w_train, dtype=np.float64)
    flat = w.reshape(len(w), -1)
    n = _validate.integer(n, "n", "gaussian_windows", minimum=1)
    rng = np.random.default_rng(seed)
    cov = np.cov(flat, rowvar=False) + 1e-6 * np.eye(flat.shape[1])
    out = rng.multivariate_normal(flat.mean(axis=0), cov, size=n, method="eigh")
    return out.reshape(n, *w.shape[1:]).astype(np.float32)


def shuffled_steps(w_train, n: int, seed: int = 0) -> np.ndarray:
    """``n`` windows whose every step is drawn on its own from the training values at that position
    (right marginals, no shape): the weakest generator worth comparing with."""
    w = np.asarray(w_train, dtype=np.float32)
    n = _validate.integer(n, "n", "shuffled_steps", minimum=1)
    rng = np.random.default_rng(seed)
    idx = rng.integers(0, len(w), size=(n, w.shape[1]))
    return w[idx, np.arange(w.shape[1])[None, :]]


def discriminative_accuracy(
    real,
    fake,
    seed: int = 0,
    folds: int = 5,
    n: int | None = None,
    classifier: str = "trees",
    max_iter: int = 100,
) -> float:
    """Cross-validated accuracy of a classifier that tells ``real`` windows from ``fake`` ones.

    Equal numbers of each are used (``n``, at most the smaller count; drawn at random with
    ``seed``); features are the window's values and the magnitudes of its Fourier coefficients; the
    classifier is scikit-learn's gradient-boosted trees (``"trees"``,
    ``HistGradientBoostingClassifier`` with ``max_iter`` trees) or a logistic regression on
    standardised features (``"logistic"``, faster and weaker), fitted on ``folds - 1`` folds and
    scored on the held-out one. 0.5 means the generated windows cannot be told apart; 1.0 means
    every one can.
    """
    from sklearn.ensemble import HistGradientBoostingClassifier
    from sklearn.linear_model import LogisticRegression
    from sklearn.model_selection import StratifiedKFold, cross_val_score
    from sklearn.pipeline import make_pipeline
    from sklearn.preprocessing import StandardScaler

    real = np.asarray(real, dtype=np.float32)
    fake = np.asarray(fake, dtype=np.float32)
    if real.ndim < 2 or real.shape[1:] != fake.shape[1:]:
        raise ValueError(
            f"discriminative_accuracy(): real {real.shape} and fake {fake.shape} must be windows of "
            "one shape"
        )
    folds = _validate.integer(folds, "folds", "discriminative_accuracy", minimum=2)
    classifier = _validate.choice(
        classifier, "classifier", "discriminative_accuracy", ("trees", "logistic")
    )
    max_iter = _validate.integer(max_iter, "max_iter", "discriminative_accuracy", minimum=1)
    most = min(len(real), len(fake))
    n = most if n is None else min(most, _validate.integer(n, "n", "discriminative_accuracy", 1))
    if n < folds:
        raise ValueError(
            f"discriminative_accuracy(): need at least {folds} windows of each, got {n}"
        )
    rng = np.random.default_rng(seed)
    pick = lambda a: a[rng.permutation(len(a))[:n]].reshape(n, -1)  # noqa: E731
    x = np.concatenate([pick(real), pick(fake)])
    feats = np.concatenate([x, np.abs(np.fft.rfft(x, axis=1))], axis=1)
    y = np.r_[np.ones(n), np.zeros(n)]
    if classifier == "trees":
        clf = HistGradientBoostingClassifier(max_iter=max_iter, random_state=seed)
    else:
        clf = make_pipeline(StandardScaler(), LogisticRegression(max_iter=2_000))
    cv = StratifiedKFold(folds, shuffle=True, random_state=seed)
    return float(np.mean(cross_val_score(clf, feats, y, cv=cv)))


# --------------------------------------------------------------------------------------------------
# Figures
# --------------------------------------------------------------------------------------------------


def plot_scores(
    x,
    labels,
    scores=None,
    thresholds=None,
    title: str = "",
    start: int = 0,
    span: tuple[int, int] | None = None,
):
    """The series (top row) and each named score below it, labelled anomalies shaded red and each
    score's threshold (``thresholds[name]``, optional) drawn as a dashed line.

    Args:
        x: the series ``(n_steps,)`` or ``(n_steps, channels)``.
        labels: ``(n_steps,)`` booleans.
        scores: ``{name: (n_steps,) scores}``.
        start: the step number of ``x[0]`` on the horizontal axis.
        span: ``(first, last)`` positions into ``x`` to show (default: all of it).

    Returns:
        The matplotlib figure.
    """
    import matplotlib.pyplot as plt

    arr = as_series(x, "plot_scores")
    lab = _validate.binary_labels(labels, len(arr), "plot_scores", "labels", both=False)
    scores = dict(scores or {})
    thresholds = dict(thresholds or {})
    for name, s in scores.items():
        if len(s) != len(arr):
            raise ValueError(f"plot_scores(): score {name!r} has {len(s)} steps, x has {len(arr)}")
    a, b = span or (0, len(arr))
    steps = start + np.arange(a, b)
    fig, axes = plt.subplots(
        1 + len(scores), 1, figsize=(11, 1.9 * (1 + len(scores))), sharex=True, squeeze=False
    )
    axes = axes[:, 0]
    axes[0].plot(steps, arr[a:b], lw=0.8)
    axes[0].set_ylabel("value")
    for ax, (name, s) in zip(axes[1:], scores.items(), strict=True):
        ax.plot(steps, np.asarray(s)[a:b], lw=0.8, color="tab:purple")
        if name in thresholds:
            ax.axhline(thresholds[name], ls="--", color="k", lw=0.8, label="threshold")
            ax.legend(loc="upper right", fontsize=8)
        ax.set_ylabel(name, fontsize=9)
    for s0, e0 in events(lab):
        if e0 > a and s0 < b:
            for ax in axes:
                ax.axvspan(start + s0, start + e0, color="tab:red", alpha=0.25, lw=0)
    axes[-1].set_xlabel("time step")
    axes[0].set_title(title)
    fig.tight_layout()
    return fig
