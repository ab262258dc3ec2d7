"""One-class classification with an autoencoder: scores, thresholds, metrics and baselines.

The convention everywhere in this module: **the anomaly is the positive class**. A score is a number
per image where higher means more anomalous (a reconstruction error is one), ``is_anomaly`` is a
boolean array with ``True`` for anomalies, and an image is flagged when its score is strictly above
the threshold. Precision is then "of the images we flagged, the share that really are anomalies",
recall is "of the anomalies, the share we flagged", and the false-positive rate is "of the normal
images, the share we flagged by mistake".

Thresholds are chosen from errors of *normal* images only (a validation split the model did not
train on, or for :func:`threshold_max` its training errors): a one-class detector never sees
anomalies before it is deployed, so it cannot tune on them.

Contents:

- :class:`GroupErrorTracker` (a Keras callback, built on first use so that importing this module does
  not import TensorFlow): mean reconstruction error of named held-out groups after every epoch.
- :func:`reconstruction_errors`; :class:`AEScorer`, a reconstruction error standardised per pixel
  plus the distance of the image's code to the codes of normal training images.
- Threshold rules: :func:`threshold_percentile`, :func:`threshold_fpr`, :func:`threshold_mean_std`,
  :func:`threshold_max`; :func:`fpr_tolerance`.
- Metrics: :func:`confusion_at`, :func:`auroc`, :func:`auprc`.
- Baselines on raw pixels: :func:`pca_scores`, :func:`ocsvm_scores`, :func:`iforest_scores`.
- :func:`one_class_experiment` and :func:`format_table` for the every-class-in-turn table.
- Figures: :func:`score_histograms`, :func:`roc_pr_curves`.
"""

from __future__ import annotations

import math
import numbers
from collections.abc import Callable, Mapping, Sequence

import numpy as np

# ---------------------------------------------------------------------------------------------
# Input checks


def _errors(errors, fn: str, name: str = "errors") -> np.ndarray:
    """A finite, non-empty 1-D float array, or a ValueError naming the argument."""
    arr = np.asarray(errors, dtype=np.float64)
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


def _labels(is_anomaly, n: int, fn: str, both: bool = True) -> np.ndarray:
    lab = np.asarray(is_anomaly)
    if lab.ndim != 1 or len(lab) != n:
        raise ValueError(
            f"{fn}(): is_anomaly must be 1-D with one entry per score ({n}), got shape {lab.shape}"
        )
    if lab.dtype != bool:
        values = set(np.unique(lab).tolist())
        if not values <= {0, 1}:
            raise ValueError(
                f"{fn}(): is_anomaly must hold booleans or 0/1, got values {sorted(values)[:5]}"
            )
        lab = lab.astype(bool)
    if both and (lab.all() or not lab.any()):
        raise ValueError(
            f"{fn}(): is_anomaly must contain both anomalies (True) and normal images (False); "
            f"got {int(lab.sum())} anomalies of {n}"
        )
    return lab


def _real(
    value,
    fn: str,
    name: str,
    low: float | None = None,
    high: float | None = None,
    open_interval: bool = True,
) -> float:
    if isinstance(value, bool) or not isinstance(value, numbers.Real) or not math.isfinite(value):
        raise ValueError(f"{fn}(): {name} must be a finite number, got {value!r}")
    v = float(value)
    if low is not None and high is not None:
        inside = low < v < high if open_interval else low <= v <= high
        if not inside:
            brackets = f"({low:g}, {high:g})" if open_interval else f"[{low:g}, {high:g}]"
            raise ValueError(f"{fn}(): {name} must lie in {brackets}, got {value!r}")
    return v


# ---------------------------------------------------------------------------------------------
# Reconstruction errors and the per-epoch tracker


def reconstruction_errors(model, x, batch_size: int = 512) -> np.ndarray:
    """Per-image mean squared error of ``model``'s reconstruction of ``x``.

    Args:
        model: an autoencoder mapping ``(n, h, w, c)`` to the same shape.
        x: images, shape ``(n, h, w, c)``.

    Returns:
        Shape ``(n,)``, float64: the mean over pixels of ``(x - model(x))**2`` for each image.
    """
    x = np.asarray(x, dtype=np.float32)
    if x.ndim < 2 or len(x) == 0:
        raise ValueError(
            f"reconstruction_errors(): x must be a non-empty batch (n, ...), got shape {x.shape}"
        )
    x_hat = np.asarray(model.predict(x, batch_size=batch_size, verbose=0), dtype=np.float64)
    if x_hat.shape != x.shape:
        raise ValueError(
            f"reconstruction_errors(): the model returned shape {x_hat.shape} for input {x.shape}"
        )
    return ((x.astype(np.float64) - x_hat) ** 2).reshape(len(x), -1).mean(axis=1)


_TRACKER_CLASS = None


def _tracker_class():
    """Build :class:`GroupErrorTracker` on first use (it subclasses ``keras.callbacks.Callback``)."""
    global _TRACKER_CLASS
    if _TRACKER_CLASS is not None:
        return _TRACKER_CLASS
    import keras

    class GroupErrorTracker(keras.callbacks.Callback):
        """Mean reconstruction error of named groups of held-out images, after every epoch.

        ``GroupErrorTracker({"normal (validation)": x_val, "anomalous": x_anom})`` passed to
        ``fit(..., callbacks=[tracker])`` fills ``tracker.history``, a dict from group name to a
        list with one mean error per epoch; with ``at_start=True`` (the default) the first entry is
        the untrained model's error, so each list has ``epochs + 1`` values and
        ``tracker.epochs`` holds ``0, 1, ..., epochs``.

        Args:
            groups: name -> images ``(n, h, w, c)``; at least one group, each non-empty.
            batch_size: batch size of the predictions.
            at_start: also record the errors before the first epoch.
        """

        def __init__(
            self, groups: Mapping[str, np.ndarray], batch_size: int = 512, at_start: bool = True
        ):
            super().__init__()
            if not isinstance(groups, Mapping) or not groups:
                raise ValueError(
                    "GroupErrorTracker(): groups must be a non-empty dict name -> images"
                )
            self.groups = {}
            for name, x in groups.items():
                arr = np.asarray(x, dtype=np.float32)
                if arr.ndim < 2 or len(arr) == 0:
                    raise ValueError(
                        f"GroupErrorTracker(): group {name!r} must be a non-empty batch (n, ...), got shape {arr.shape}"
                    )
                self.groups[str(name)] = arr
            if not isinstance(batch_size, int) or batch_size <= 0:
                raise ValueError(
                    f"GroupErrorTracker(): batch_size must be a positive int, got {batch_size!r}"
                )
            self.batch_size = batch_size
            self.at_start = bool(at_start)
            self.history: dict[str, list[float]] = {name: [] for name in self.groups}
            self.epochs: list[int] = []

        def _record(self, epoch: int) -> None:
            for name, x in self.groups.items():
                err = reconstruction_errors(self.model, x, self.batch_size)
                self.history[name].append(float(err.mean()))
            self.epochs.append(epoch)

        def on_train_begin(self, logs=None):
            self.history = {name: [] for name in self.groups}
            self.epochs = []
            if self.at_start:
                self._record(0)

        def on_epoch_end(self, epoch, logs=None):
            self._record(epoch + 1)

    GroupErrorTracker.__module__ = __name__
    _TRACKER_CLASS = GroupErrorTracker
    return GroupErrorTracker


def __getattr__(name: str):
    if name == "GroupErrorTracker":
        return _tracker_class()
    raise AttributeError(f"module {__name__!r} has no attribute {name!r}")


class AEScorer:
    """An anomaly score from a trained autoencoder that improves on the plain mean squared error.

    Two parts, each fitted on normal images only:

    - **pixel**: the squared residual of each pixel divided by that pixel's mean squared residual on
      the normal training images (plus ``eps``), summed over pixels. Up to constants this is the
      negative log-likelihood of the residual under a Gaussian with one variance per pixel: an error
      where the model is usually exact counts more than the same error where it is usually loose.
    - **code**: how far the image's code lies from the codes of the normal training images, after
      whitening the codes (subtract their mean, multiply by the inverse square root of their
      covariance, so every direction has unit variance). With ``code_distance="knn"`` (the default)
      it is the mean distance to the ``k`` nearest training codes, which follows a class with
      several modes; with ``"gaussian"`` it is the Mahalanobis distance to the mean code (Denouden
      et al. 2018 add that one to the reconstruction error). It catches anomalies that the decoder
      can still draw but that the encoder maps away from where normal images land.

    ``score(x)`` standardises each part with its mean and standard deviation on normal
    *validation* images (which the model did not train on) and adds them; ``use_code=False`` keeps
    the pixel part only.

    Args:
        model: an autoencoder built by :mod:`aelib.models` (with ``"encoder"`` and ``"decoder"``
            sub-models).
        eps: added to every pixel's variance, so that pixels the model always gets exactly right (a
            constant background) do not divide by almost zero.
        use_code: include the code part.
        code_distance: ``"knn"`` or ``"gaussian"``.
        k: neighbours for ``"knn"``.
    """

    CODE_DISTANCES = ("knn", "gaussian")

    def __init__(
        self,
        model,
        eps: float = 1e-3,
        use_code: bool = True,
        code_distance: str = "knn",
        k: int = 5,
        batch_size: int = 512,
    ):
        self.model = model
        self.eps = _real(eps, "AEScorer", "eps")
        if self.eps <= 0:
            raise ValueError(f"AEScorer(): eps must be positive, got {eps!r}")
        if code_distance not in self.CODE_DISTANCES:
            raise ValueError(
                f"AEScorer(): code_distance must be one of {self.CODE_DISTANCES}, got {code_distance!r}"
            )
        if isinstance(k, bool) or not isinstance(k, (int, np.integer)) or k <= 0:
            raise ValueError(f"AEScorer(): k must be a positive int, got {k!r}")
        self.use_code = bool(use_code)
        self.code_distance = code_distance
        self.k = int(k)
        self.batch_size = batch_size
        self.fitted = False

    def _residuals_codes(self, x):
        x = np.asarray(x, dtype=np.float32)
        if x.ndim < 2 or len(x) == 0:
            raise ValueError(f"AEScorer: x must be a non-empty batch (n, ...), got shape {x.shape}")
        codes = self.model.get_layer("encoder").predict(x, batch_size=self.batch_size, verbose=0)
        x_hat = self.model.get_layer("decoder").predict(
            codes, batch_size=self.batch_size, verbose=0
        )
        res = (x.astype(np.float64) - np.asarray(x_hat, dtype=np.float64)).reshape(len(x), -1)
        return res, np.asarray(codes, dtype=np.float64).reshape(len(x), -1)

    def fit(self, x_train, x_val) -> AEScorer:
        """Fit the per-pixel variances and the code statistics on ``x_train`` (normal images the model
        trained on) and the standardisation on ``x_val`` (normal images it did not). Returns self."""
        if len(x_val) < 2:
            raise ValueError(f"AEScorer.fit(): x_val needs at least 2 images, got {len(x_val)}")
        res, codes = self._residuals_codes(x_train)
        self.pixel_var_ = (res**2).mean(axis=0) + self.eps
        if self.use_code:
            n, d = codes.shape
            if n <= max(d, self.k):
                raise ValueError(
                    f"AEScorer.fit(): need more training images ({n}) than code dimensions ({d}) and k ({self.k})"
                )
            self.code_mean_ = codes.mean(axis=0)
            cov = np.cov(codes, rowvar=False) + 1e-6 * np.eye(d)
            # whitening matrix W with W^T cov W = I, from the Cholesky factor of the precision
            self.whiten_ = np.linalg.cholesky(np.linalg.inv(cov))
            if self.code_distance == "knn":
                from sklearn.neighbors import NearestNeighbors

                self.neighbours_ = NearestNeighbors(n_neighbors=self.k).fit(self._white(codes))
        self.fitted = True
        val = self._parts(*self._residuals_codes(x_val))
        self.center_ = {k: float(v.mean()) for k, v in val.items()}
        self.scale_ = {k: float(v.std()) or 1.0 for k, v in val.items()}
        return self

    def _white(self, codes):
        return (codes - self.code_mean_) @ self.whiten_

    def _parts(self, res, codes) -> dict[str, np.ndarray]:
        out = {"mse": (res**2).mean(axis=1), "pixel": (res**2 / self.pixel_var_).sum(axis=1)}
        if self.use_code:
            white = self._white(codes)
            if self.code_distance == "knn":
                out["code"] = self.neighbours_.kneighbors(white)[0].mean(axis=1)
            else:
                out["code"] = np.sqrt((white**2).sum(axis=1))
        return out

    def parts(self, x) -> dict[str, np.ndarray]:
        """The raw parts for images ``x``, each of shape ``(n,)``: ``"mse"`` (the plain per-image
        mean squared error, for comparison), ``"pixel"`` and ``"code"`` (absent with
        ``use_code=False``)."""
        if not self.fitted:
            raise RuntimeError("AEScorer: call fit(x_train, x_val) before scoring")
        return self._parts(*self._residuals_codes(x))

    def combine(self, parts: Mapping[str, np.ndarray]) -> np.ndarray:
        """The score from parts already computed by :meth:`parts`."""
        if not self.fitted:
            raise RuntimeError("AEScorer: call fit(x_train, x_val) before scoring")
        keys = ["pixel", "code"] if self.use_code else ["pixel"]
        return sum((np.asarray(parts[k]) - self.center_[k]) / self.scale_[k] for k in keys)

    def score(self, x) -> np.ndarray:
        """Anomaly scores ``(n,)``: the sum of the standardised parts; higher means more anomalous."""
        return self.combine(self.parts(x))


# ---------------------------------------------------------------------------------------------
# Threshold rules (fit on normal errors only)


def threshold_percentile(normal_errors, percentile: float = 95.0) -> float:
    """The ``percentile``-th percentile of normal validation errors (linear interpolation).

    Flagging errors above it flags about ``100 - percentile`` % of normal images.

    Raises:
        ValueError: ``percentile`` outside (0, 100); errors empty, not 1-D, or not finite.
    """
    p = _real(percentile, "threshold_percentile", "percentile", 0.0, 100.0)
    err = _errors(normal_errors, "threshold_percentile", "normal_errors")
    return float(np.percentile(err, p))


def threshold_fpr(normal_errors, target_fpr: float = 0.05) -> float:
    """The threshold that flags a share ``target_fpr`` of normal validation images: the
    ``100 * (1 - target_fpr)``-th percentile of their errors.

    Raises:
        ValueError: ``target_fpr`` outside (0, 1); errors empty, not 1-D, or not finite.
    """
    a = _real(target_fpr, "threshold_fpr", "target_fpr", 0.0, 1.0)
    err = _errors(normal_errors, "threshold_fpr", "normal_errors")
    return float(np.percentile(err, 100.0 * (1.0 - a)))


def threshold_mean_std(normal_errors, k: float = 3.0) -> float:
    """``mean + k * std`` of normal validation errors (sample standard deviation, ``ddof=1``).

    Reconstruction errors are skewed to the right, so ``k = 3`` usually flags more than the 0.13 %
    a Gaussian would suggest.

    Raises:
        ValueError: ``k`` negative or not finite; fewer than 2 errors; errors not finite.
    """
    kk = _real(k, "threshold_mean_std", "k")
    if kk < 0:
        raise ValueError(f"threshold_mean_std(): k must be >= 0, got {k!r}")
    err = _errors(normal_errors, "threshold_mean_std", "normal_errors")
    if err.size < 2:
        raise ValueError(
            f"threshold_mean_std(): need at least 2 errors for a standard deviation, got {err.size}"
        )
    return float(err.mean() + kk * err.std(ddof=1))


def threshold_max(train_errors) -> float:
    """The largest error on the normal training images: "anything worse than the worst image the
    model was trained on". Training errors are optimistic, and the maximum of many values grows
    with their number, so this rule's false-positive rate is low but hard to control.

    Raises:
        ValueError: errors empty, not 1-D, or not finite.
    """
    return float(_errors(train_errors, "threshold_max", "train_errors").max())


def fpr_tolerance(target_fpr: float, n_val: int, n_test: int, z: float = 3.0) -> float:
    """How far the false-positive rate measured on ``n_test`` normal test images may fall from
    ``target_fpr`` when the threshold was set on ``n_val`` normal validation images.

    Both sets are samples: the validation percentile misses the true one by a binomial error of
    standard deviation about ``sqrt(a (1 - a) / n_val)`` in FPR, and the test set measures the FPR
    with standard deviation ``sqrt(a (1 - a) / n_test)``. The two are independent, so the
    tolerance is ``z * sqrt(a (1 - a) (1 / n_val + 1 / n_test))``.
    """
    a = _real(target_fpr, "fpr_tolerance", "target_fpr", 0.0, 1.0)
    for name, n in (("n_val", n_val), ("n_test", n_test)):
        if isinstance(n, bool) or not isinstance(n, (int, np.integer)) or n <= 0:
            raise ValueError(f"fpr_tolerance(): {name} must be a positive int, got {n!r}")
    zz = _real(z, "fpr_tolerance", "z")
    if zz <= 0:
        raise ValueError(f"fpr_tolerance(): z must be positive, got {z!r}")
    return float(zz * math.sqrt(a * (1 - a) * (1.0 / n_val + 1.0 / n_test)))


# ---------------------------------------------------------------------------------------------
# Metrics (the anomaly is the positive class)


def confusion_at(scores, is_anomaly, threshold: float) -> dict[str, float]:
    """Counts and rates when images with ``score > threshold`` are flagged as anomalies.

    Returns:
        ``{"tp", "fp", "tn", "fn"}`` (ints) and ``"precision"`` = tp / (tp + fp), ``"recall"`` =
        tp / (tp + fn) (the true-positive rate), ``"fpr"`` = fp / (fp + tn), ``"f1"``. A rate whose
        denominator is zero (no image flagged, no anomaly, no normal image) is NaN, not a guess.
    """
    s = _errors(scores, "confusion_at", "scores")
    lab = _labels(is_anomaly, len(s), "confusion_at", both=False)
    t = _real(threshold, "confusion_at", "threshold")
    flagged = s > t
    tp = int(np.sum(flagged & lab))
    fp = int(np.sum(flagged & ~lab))
    fn = int(np.sum(~flagged & lab))
    tn = int(np.sum(~flagged & ~lab))

    def ratio(a, b):
        return a / b if b else float("nan")

    precision, recall = ratio(tp, tp + fp), ratio(tp, tp + fn)
    f1 = ratio(2 * tp, 2 * tp + fp + fn)
    return {
        "tp": tp,
        "fp": fp,
        "tn": tn,
        "fn": fn,
        "precision": precision,
        "recall": recall,
        "fpr": ratio(fp, fp + tn),
        "f1": f1,
    }


def auroc(scores, is_anomaly) -> float:
    """Area under the ROC curve (scikit-learn's ``roc_auc_score``): the probability that a random
    anomaly scores higher than a random normal image (ties count one half). 0.5 is chance."""
    from sklearn.metrics import roc_auc_score

    s = _errors(scores, "auroc", "scores")
    return float(roc_auc_score(_labels(is_anomaly, len(s), "auroc"), s))


def auprc(scores, is_anomaly) -> float:
    """Area under the precision-recall curve, as scikit-learn's ``average_precision_score`` (a
    step-wise sum, not the trapezoid). Chance level is the share of anomalies, not 0.5."""
    from sklearn.metrics import average_precision_score

    s = _errors(scores, "auprc", "scores")
    return float(average_precision_score(_labels(is_anomaly, len(s), "auprc"), s))


# ---------------------------------------------------------------------------------------------
# Baselines on raw pixels (higher score = more anomalous)


def _flat(x, fn: str, name: str) -> np.ndarray:
    arr = np.asarray(x, dtype=np.float64)
    if arr.ndim < 2 or len(arr) == 0:
        raise ValueError(
            f"{fn}(): {name} must be a non-empty batch (n, ...), got shape {arr.shape}"
        )
    return arr.reshape(len(arr), -1)


def _subsample(x: np.ndarray, max_train: int | None, seed: int) -> np.ndarray:
    if max_train is None or len(x) <= max_train:
        return x
    return x[np.sort(np.random.default_rng(seed).choice(len(x), size=max_train, replace=False))]


def pca_scores(x_train, x_test, n_components: int = 16) -> np.ndarray:
    """PCA reconstruction error: fit PCA on ``x_train`` (normal images), project ``x_test`` onto the
    top ``n_components`` directions and back; return the per-image mean squared error ``(n_test,)``."""
    from sklearn.decomposition import PCA

    a, b = _flat(x_train, "pca_scores", "x_train"), _flat(x_test, "pca_scores", "x_test")
    if not isinstance(n_components, int) or not 0 < n_components <= min(a.shape):
        raise ValueError(
            f"pca_scores(): n_components must be an int in [1, {min(a.shape)}], got {n_components!r}"
        )
    pca = PCA(n_components=n_components, svd_solver="randomized", random_state=0).fit(a)
    rec = pca.inverse_transform(pca.transform(b))
    return ((b - rec) ** 2).mean(axis=1)


def ocsvm_scores(
    x_train, x_test, nu: float = 0.1, gamma="scale", max_train: int | None = 2000, seed: int = 0
) -> np.ndarray:
    """One-Class SVM (Schölkopf et al. 2001) with an RBF kernel on raw pixels.

    Trained on at most ``max_train`` images drawn at random from ``x_train`` (its cost grows with
    the square of their number). Returns ``-decision_function(x_test)``, shape ``(n_test,)``: the
    further outside the learned support, the higher.
    """
    from sklearn.svm import OneClassSVM

    nu = _real(nu, "ocsvm_scores", "nu", 0.0, 1.0, open_interval=False)
    if nu <= 0:
        raise ValueError(f"ocsvm_scores(): nu must lie in (0, 1], got {nu!r}")
    a = _subsample(_flat(x_train, "ocsvm_scores", "x_train"), max_train, seed)
    b = _flat(x_test, "ocsvm_scores", "x_test")
    return -OneClassSVM(kernel="rbf", nu=nu, gamma=gamma).fit(a).decision_function(b)


def iforest_scores(x_train, x_test, n_estimators: int = 100, seed: int = 0) -> np.ndarray:
    """Isolation Forest (Liu et al. 2008) on raw pixels. Returns ``-score_samples(x_test)``, shape
    ``(n_test,)``: images that random axis-aligned splits isolate quickly score high."""
    from sklearn.ensemble import IsolationForest

    a, b = _flat(x_train, "iforest_scores", "x_train"), _flat(x_test, "iforest_scores", "x_test")
    forest = IsolationForest(n_estimators=n_estimators, random_state=seed).fit(a)
    return -forest.score_samples(b)


# ---------------------------------------------------------------------------------------------
# Every class in turn as the normal class


def one_class_experiment(
    x_train,
    y_train,
    x_test,
    y_test,
    normal_class: int,
    build_model: Callable[[], object],
    epochs: int,
    batch_size: int = 128,
    min_steps: int = 0,
    val_fraction: float = 0.1,
    pca_components: int = 16,
    ocsvm_max_train: int | None = 2000,
    seed: int = 0,
    return_scores: bool = False,
):
    """Train an autoencoder on one class and report each method's test AUROC.

    The training images of ``normal_class`` are split into training and validation parts
    (``val_fraction``); the autoencoder, PCA, the One-Class SVM and the Isolation Forest all fit on
    the training part only. The test set is the whole of ``x_test``: images of ``normal_class``
    are normal, every other class is an anomaly (the positive class).

    Args:
        build_model: returns a fresh, uncompiled autoencoder (it is compiled with Adam and MSE).
        epochs, batch_size: for the autoencoder's ``fit``.
        min_steps: the least number of gradient steps the autoencoder takes. On a small training
            set the batch is first made smaller (down to a size that gives 8 steps per epoch, but
            never below 8 images) and then the epochs are raised until ``min_steps`` is reached.
            With enough images (``epochs * n_train / batch_size >= min_steps``) nothing changes.

    Returns:
        ``{"class": normal_class, "ae_mse": ..., "ae_pixel": ..., "ae_code": ..., "ae_score": ...,
        "pca": ..., "ocsvm": ..., "iforest": ...}``: AUROCs, where ``ae_mse`` ranks by the plain
        mean squared error, ``ae_pixel`` and ``ae_code`` by the two parts of :class:`AEScorer`
        alone, and ``ae_score`` by its combined score (all from the same model).
        With ``return_scores=True``, a pair ``(aurocs, scores)`` where ``scores`` maps the same
        method names to the test scores ``(n_test,)`` and ``"is_anomaly"`` to the test labels.
    """
    import keras

    x_train, x_test = np.asarray(x_train), np.asarray(x_test)
    y_train, y_test = np.asarray(y_train), np.asarray(y_test)
    if len(x_train) != len(y_train) or len(x_test) != len(y_test):
        raise ValueError("one_class_experiment(): images and labels differ in length")
    frac = _real(val_fraction, "one_class_experiment", "val_fraction", 0.0, 1.0)
    normal = x_train[y_train == normal_class]
    if len(normal) < 10:
        raise ValueError(
            f"one_class_experiment(): class {normal_class!r} has {len(normal)} training images; need at least 10"
        )
    is_anomaly = y_test != normal_class
    if is_anomaly.all() or not is_anomaly.any():
        raise ValueError(
            f"one_class_experiment(): the test set must hold class {normal_class!r} and others"
        )
    order = np.random.default_rng(seed).permutation(len(normal))
    n_val = max(2, int(round(frac * len(normal))))
    x_val, x_fit = normal[order[:n_val]], normal[order[n_val:]]

    for name, value in (("epochs", epochs), ("batch_size", batch_size)):
        if isinstance(value, bool) or not isinstance(value, (int, np.integer)) or value <= 0:
            raise ValueError(
                f"one_class_experiment(): {name} must be a positive int, got {value!r}"
            )
    if isinstance(min_steps, bool) or not isinstance(min_steps, (int, np.integer)) or min_steps < 0:
        raise ValueError(
            f"one_class_experiment(): min_steps must be an int >= 0, got {min_steps!r}"
        )
    batch, n_epochs = int(batch_size), int(epochs)
    if n_epochs * math.ceil(len(x_fit) / batch) < min_steps:
        batch = min(batch, max(8, len(x_fit) // 8))
        n_epochs = max(n_epochs, math.ceil(min_steps / math.ceil(len(x_fit) / batch)))

    keras.utils.set_random_seed(seed)
    model = build_model()
    model.compile(optimizer=keras.optimizers.Adam(1e-3), loss="mse")
    model.fit(x_fit, x_fit, epochs=n_epochs, batch_size=batch, shuffle=True, verbose=0)
    scorer = AEScorer(model).fit(x_fit, x_val)
    parts = scorer.parts(x_test)
    scores = {
        "ae_mse": parts["mse"],
        "ae_pixel": parts["pixel"],
        "ae_code": parts["code"],
        "ae_score": scorer.combine(parts),
        "pca": pca_scores(x_fit, x_test, pca_components),
        "ocsvm": ocsvm_scores(x_fit, x_test, max_train=ocsvm_max_train, seed=seed),
        "iforest": iforest_scores(x_fit, x_test, seed=seed),
    }
    aurocs = {"class": int(normal_class), **{k: auroc(v, is_anomaly) for k, v in scores.items()}}
    if return_scores:
        return aurocs, {**scores, "is_anomaly": is_anomaly}
    return aurocs


def format_table(
    rows: Sequence[Mapping[str, float]],
    class_names: Sequence[str] | None = None,
    columns: Mapping[str, str] | Sequence[str] | None = None,
    scale: float = 100.0,
    digits: int = 1,
) -> str:
    """A plain-text table of per-class AUROCs, one row per class and a last row of means.

    Args:
        rows: one mapping per class with a ``"class"`` key and one AUROC (in [0, 1]) per method,
            as :func:`one_class_experiment` returns.
        class_names: names indexed by class number.
        columns: which methods to show, as a list of keys or a dict key -> column header
            (default: every key but ``"class"`` of the first row).
        scale: multiply AUROCs by this (100 shows percent).
    """
    if not rows:
        raise ValueError("format_table(): no rows")
    if columns is None:
        columns = [k for k in rows[0] if k != "class"]
    headers = dict(columns) if isinstance(columns, Mapping) else {k: k for k in columns}
    missing = [k for k in headers if any(k not in r for r in rows)]
    if missing:
        raise ValueError(f"format_table(): columns {missing} are missing from some rows")
    body = []
    for r in rows:
        c = int(r["class"])
        name = f"{c} {class_names[c]}" if class_names is not None else str(c)
        body.append([name] + [float(r[k]) * scale for k in headers])
    means = ["mean"] + [
        float(np.mean([row[i] for row in body])) for i in range(1, len(headers) + 1)
    ]
    width = max(*(len(h) for h in headers.values()), len(f"{100 * scale:.{digits}f}")) + 2
    first = max(len(str(row[0])) for row in [*body, means, ["class"]]) + 2
    lines = [f"{'class':<{first}}" + "".join(f"{h:>{width}}" for h in headers.values())]
    for row in body:
        lines.append(f"{row[0]:<{first}}" + "".join(f"{v:>{width}.{digits}f}" for v in row[1:]))
    lines.append("-" * len(lines[0]))
    lines.append(f"{means[0]:<{first}}" + "".join(f"{v:>{width}.{digits}f}" for v in means[1:]))
    return "\n".join(lines)


# ---------------------------------------------------------------------------------------------
# Figures


def score_histograms(
    normal,
    anomalous,
    thresholds: Mapping[str, float] | None = None,
    title: str = "reconstruction error of test images",
    xlabel: str = "error per image",
    bins: int = 50,
    logx: bool = True,
    ax=None,
):
    """Overlaid histograms of the scores of normal and anomalous images, each group normalised to
    sum to one (so a small group is as visible as a large one), with one vertical line per
    threshold. Returns the Figure.

    Args:
        normal, anomalous: 1-D scores.
        thresholds: label -> value, drawn as dashed lines.
        logx: logarithmic bins and axis (errors span decades); needs positive scores.
    """
    import matplotlib.pyplot as plt

    a = _errors(normal, "score_histograms", "normal")
    b = _errors(anomalous, "score_histograms", "anomalous")
    if ax is None:
        fig, ax = plt.subplots(figsize=(7, 3.8))
    else:
        fig = ax.figure
    both = np.concatenate([a, b])
    if logx:
        if both.min() <= 0:
            raise ValueError("score_histograms(): logx=True needs positive scores; pass logx=False")
        edges = np.geomspace(both.min(), both.max(), bins + 1)
        ax.set_xscale("log")
    else:
        edges = np.linspace(both.min(), both.max(), bins + 1)
    for values, color, label in ((a, "tab:blue", "normal"), (b, "tab:red", "anomalous")):
        weights = np.full(len(values), 1.0 / len(values))
        ax.hist(
            values,
            bins=edges,
            weights=weights,
            alpha=0.55,
            color=color,
            label=f"{label} (n={len(values)})",
        )
    styles = ["--", "-.", ":", (0, (5, 1))]
    for i, (label, t) in enumerate((thresholds or {}).items()):
        ax.axvline(
            t, color="black", ls=styles[i % len(styles)], lw=1.3, label=f"threshold: {label}"
        )
    ax.set_xlabel(xlabel)
    ax.set_ylabel("share of the group per bin")
    ax.set_title(title)
    ax.legend(fontsize=8)
    fig.tight_layout()
    return fig


def roc_pr_curves(scores: Mapping[str, np.ndarray], is_anomaly, title: str | None = None):
    """ROC curve (true-positive rate against false-positive rate) and precision-recall curve for
    one or more named scores on the same images, the anomaly being the positive class. The legend
    gives AUROC and AUPRC; dotted lines show chance (the diagonal; the share of anomalies).
    Returns the Figure."""
    import matplotlib.pyplot as plt
    from sklearn.metrics import precision_recall_curve, roc_curve

    if not scores:
        raise ValueError("roc_pr_curves(): no scores given")
    fig, (ax1, ax2) = plt.subplots(1, 2, figsize=(10, 4.2))
    lab = None
    for name, s in scores.items():
        s = _errors(s, "roc_pr_curves", f"scores[{name!r}]")
        lab = _labels(is_anomaly, len(s), "roc_pr_curves")
        fpr, tpr, _ = roc_curve(lab, s)
        prec, rec, _ = precision_recall_curve(lab, s)
        ax1.plot(fpr, tpr, lw=1.5, label=f"{name} (AUROC {auroc(s, lab):.3f})")
        ax2.step(rec, prec, where="post", lw=1.5, label=f"{name} (AUPRC {auprc(s, lab):.3f})")
    ax1.plot([0, 1], [0, 1], ":", color="gray", label="chance")
    ax2.axhline(lab.mean(), ls=":", color="gray", label=f"chance ({lab.mean():.2f})")
    ax1.set(
        xlabel="false-positive rate (normal images flagged)",
        ylabel="true-positive rate (recall)",
        title="ROC",
        xlim=(0, 1),
        ylim=(0, 1.01),
    )
    ax2.set(
        xlabel="recall (anomalies flagged)",
        ylabel="precision (flagged that are anomalies)",
        title="precision-recall",
        xlim=(0, 1),
        ylim=(0, 1.01),
    )
    for ax in (ax1, ax2):
        ax.grid(True, alpha=0.3)
        ax.legend(fontsize=8, loc="lower left" if ax is ax2 else "lower right")
    if title:
        fig.suptitle(title)
    fig.tight_layout()
    return fig
