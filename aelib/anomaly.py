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
- Baselines on raw pixels: :func:`pca_scores`, :func:`pca_code_scores`, :func:`ocsvm_scores`,
  :func:`iforest_scores`.
- :func:`split_normal`, :func:`one_class_run`, :func:`best_setting` and :func:`format_table` for the
  every-class-in-turn table.

The metrics (:func:`aelib.metrics.auroc`, :func:`aelib.metrics.auprc`,
:func:`aelib.metrics.confusion_at`) and the figures (:func:`aelib.plots.score_histograms`,
:func:`aelib.plots.roc_pr_curves`) follow the same convention and live with the other metrics and
figures.
"""

from __future__ import annotations

import math
from collections.abc import Callable, Mapping, Sequence

import numpy as np

from . import _validate, models
from .data import subset_indices
from .metrics import per_sample_mse

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
    batch_size = _validate.integer(batch_size, "batch_size", "reconstruction_errors", minimum=1)
    x_hat = np.asarray(models.predict(model, x, batch_size), dtype=np.float64)
    if x_hat.shape != x.shape:
        raise ValueError(
            f"reconstruction_errors(): the model returned shape {x_hat.shape} for input {x.shape}"
        )
    return per_sample_mse(x, x_hat)


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
            self.batch_size = _validate.integer(
                batch_size, "batch_size", "GroupErrorTracker", minimum=1
            )
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
        self.eps = _validate.number(eps, "eps", "AEScorer", minimum=0, exclusive=True)
        self.code_distance = _validate.choice(
            code_distance, "code_distance", "AEScorer", self.CODE_DISTANCES
        )
        self.k = _validate.integer(k, "k", "AEScorer", minimum=1)
        self.batch_size = _validate.integer(batch_size, "batch_size", "AEScorer", minimum=1)
        self.use_code = bool(use_code)
        self.fitted = False

    def _residuals_codes(self, x):
        x = np.asarray(x, dtype=np.float32)
        if x.ndim < 2 or len(x) == 0:
            raise ValueError(f"AEScorer: x must be a non-empty batch (n, ...), got shape {x.shape}")
        codes = models.predict(self.model.get_layer("encoder"), x, self.batch_size)
        x_hat = models.predict(self.model.get_layer("decoder"), codes, self.batch_size)
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

                self.neighbours_ = NearestNeighbors(n_neighbors=self.k, algorithm="brute").fit(
                    self._white(codes)
                )
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
    p = _validate.number(percentile, "percentile", "threshold_percentile", 0, 100, exclusive=True)
    err = _validate.values_1d(normal_errors, "normal_errors", "threshold_percentile")
    return float(np.percentile(err, p))


def threshold_fpr(normal_errors, target_fpr: float = 0.05) -> float:
    """The threshold that flags a share ``target_fpr`` of normal validation images: the
    ``100 * (1 - target_fpr)``-th percentile of their errors.

    Raises:
        ValueError: ``target_fpr`` outside (0, 1); errors empty, not 1-D, or not finite.
    """
    a = _validate.number(target_fpr, "target_fpr", "threshold_fpr", 0, 1, exclusive=True)
    err = _validate.values_1d(normal_errors, "normal_errors", "threshold_fpr")
    return float(np.percentile(err, 100.0 * (1.0 - a)))


def threshold_mean_std(normal_errors, k: float = 3.0) -> float:
    """``mean + k * std`` of normal validation errors (sample standard deviation, ``ddof=1``).

    Reconstruction errors are skewed to the right, so ``k = 3`` usually flags more than the 0.13 %
    a Gaussian would suggest.

    Raises:
        ValueError: ``k`` negative or not finite; fewer than 2 errors; errors not finite.
    """
    kk = _validate.number(k, "k", "threshold_mean_std", minimum=0)
    err = _validate.values_1d(normal_errors, "normal_errors", "threshold_mean_std")
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
    return float(_validate.values_1d(train_errors, "train_errors", "threshold_max").max())


def fpr_tolerance(target_fpr: float, n_val: int, n_test: int, z: float = 3.0) -> float:
    """How far the false-positive rate measured on ``n_test`` normal test images may fall from
    ``target_fpr`` when the threshold was set on ``n_val`` normal validation images.

    Both sets are samples: the validation percentile misses the true one by a binomial error of
    standard deviation about ``sqrt(a (1 - a) / n_val)`` in FPR, and the test set measures the FPR
    with standard deviation ``sqrt(a (1 - a) / n_test)``. The two are independent, so the
    tolerance is ``z * sqrt(a (1 - a) (1 / n_val + 1 / n_test))``.
    """
    a = _validate.number(target_fpr, "target_fpr", "fpr_tolerance", 0, 1, exclusive=True)
    n_val = _validate.integer(n_val, "n_val", "fpr_tolerance", minimum=1)
    n_test = _validate.integer(n_test, "n_test", "fpr_tolerance", minimum=1)
    zz = _validate.number(z, "z", "fpr_tolerance", minimum=0, exclusive=True)
    return float(zz * math.sqrt(a * (1 - a) * (1.0 / n_val + 1.0 / n_test)))


# ---------------------------------------------------------------------------------------------
# Baselines on raw pixels (higher score = more anomalous)


def _flat(x, fn: str, name: str) -> np.ndarray:
    arr = np.asarray(x, dtype=np.float64)
    if arr.ndim < 2 or len(arr) == 0:
        raise ValueError(
            f"{fn}(): {name} must be a non-empty batch (n, ...), got shape {arr.shape}"
        )
    return arr.reshape(len(arr), -1)


def _n_components(n_components, a: np.ndarray, fn: str) -> int:
    return _validate.integer(n_components, "n_components", fn, minimum=1, maximum=min(a.shape))


def pca_scores(x_train, x_test, n_components: int = 16) -> np.ndarray:
    """PCA reconstruction error: fit PCA on ``x_train`` (normal images), project ``x_test`` onto the
    top ``n_components`` directions and back; return the per-image mean squared error ``(n_test,)``."""

    a, b = _flat(x_train, "pca_scores", "x_train"), _flat(x_test, "pca_scores", "x_test")
    n_components = _n_components(n_components, a, "pca_scores")
    return _pca_family(a, b, (n_components,), code_size=None)[f"pca:{n_components}"]


def pca_code_scores(x_train, x_test, n_components: int = 32, k: int = 5) -> np.ndarray:
    """A kNN distance in a whitened PCA code: the linear twin of :class:`AEScorer`'s code part.

    PCA with ``n_components`` directions is fitted on ``x_train`` (normal images) and whitened (each
    direction divided by its standard deviation, so the code has identity covariance on the training
    images, as :class:`AEScorer` whitens the autoencoder's code). The score of a test image is the
    mean Euclidean distance from its code to the ``k`` nearest training codes, shape ``(n_test,)``.
    """

    a, b = _flat(x_train, "pca_code_scores", "x_train"), _flat(x_test, "pca_code_scores", "x_test")
    n_components = _n_components(n_components, a, "pca_code_scores")
    k = _validate.integer(k, "k", "pca_code_scores", minimum=1, maximum=len(a) - 1)
    return _pca_family(a, b, (), code_size=n_components, k=k)[f"pca_code:{n_components}"]


def _pca_family(a: np.ndarray, b: np.ndarray, sizes, code_size: int | None, k: int = 5) -> dict:
    """One exact PCA of ``a`` (flattened normal images) serving every PCA score of ``b``: the
    reconstruction error with the top ``n`` directions for each ``n`` in ``sizes`` (the squared
    distance to the mean minus the squared length of the projection, the directions being
    orthonormal) and, for ``code_size``, the kNN distance in the whitened code."""
    from sklearn.decomposition import PCA
    from sklearn.neighbors import NearestNeighbors

    top = max([*sizes, code_size or 0])
    pca = PCA(n_components=top, svd_solver="full").fit(a)
    z_b = pca.transform(b)
    centred = ((b - pca.mean_) ** 2).sum(axis=1)
    out = {}
    for n in sizes:
        residual = np.maximum(centred - (z_b[:, :n] ** 2).sum(axis=1), 0.0)
        out[f"pca:{n}"] = residual / b.shape[1]
    if code_size:
        scale = np.sqrt(pca.explained_variance_[:code_size])
        codes = pca.transform(a)[:, :code_size] / scale
        nn = NearestNeighbors(n_neighbors=k, algorithm="brute").fit(codes)
        out[f"pca_code:{code_size}"] = nn.kneighbors(z_b[:, :code_size] / scale)[0].mean(axis=1)
    return out


def ocsvm_scores(
    x_train,
    x_test,
    nu: float = 0.1,
    gamma="scale",
    max_train: int | None = None,
    seed: int = 0,
) -> np.ndarray:
    """One-Class SVM (Schölkopf et al. 2001) with an RBF kernel on raw pixels.

    Args:
        nu: an upper bound on the share of training images outside the learned support, in (0, 1].
        gamma: the RBF kernel's width, ``exp(-gamma * |x - y|^2)``: a positive number, ``"scale"``
            (scikit-learn's ``1 / (n_features * x_train.var())``) or ``("scale", m)``, ``m`` times
            that value (a grid over ``m`` then adapts to each training set the same way).
        max_train: train on at most this many images drawn at random (its cost grows with the
            square of their number); ``None`` uses them all.

    Returns:
        ``-decision_function(x_test)``, shape ``(n_test,)``: the further outside the support, the
        higher.
    """
    from sklearn.svm import OneClassSVM

    nu = _validate.number(nu, "nu", "ocsvm_scores", 0, 1)
    if nu == 0:
        raise ValueError(f"ocsvm_scores(): nu must be a number in (0, 1], got {nu!r}")
    a = _flat(x_train, "ocsvm_scores", "x_train")
    if max_train is not None:
        max_train = _validate.integer(max_train, "max_train", "ocsvm_scores", minimum=1)
    a = a[subset_indices(len(a), max_train, _validate.integer(seed, "seed", "ocsvm_scores", 0))]
    b = _flat(x_test, "ocsvm_scores", "x_test")
    if isinstance(gamma, tuple):
        if len(gamma) != 2 or gamma[0] != "scale":
            raise ValueError(f"ocsvm_scores(): gamma tuple must be ('scale', m), got {gamma!r}")
        m = _validate.number(gamma[1], "the gamma multiplier", "ocsvm_scores", 0, exclusive=True)
        gamma = m / (a.shape[1] * a.var())
    elif gamma != "scale":
        _validate.number(gamma, "gamma", "ocsvm_scores", minimum=0, exclusive=True)
    return -OneClassSVM(kernel="rbf", nu=nu, gamma=gamma).fit(a).decision_function(b)


def iforest_scores(
    x_train, x_test, n_estimators: int = 100, max_samples="auto", seed: int = 0
) -> np.ndarray:
    """Isolation Forest (Liu et al. 2008) on raw pixels. Returns ``-score_samples(x_test)``, shape
    ``(n_test,)``: images that random axis-aligned splits isolate quickly score high.
    ``max_samples`` is the number of images each tree is grown on (``"auto"``: 256)."""
    from sklearn.ensemble import IsolationForest

    a, b = _flat(x_train, "iforest_scores", "x_train"), _flat(x_test, "iforest_scores", "x_test")
    n_estimators = _validate.integer(n_estimators, "n_estimators", "iforest_scores", minimum=1)
    seed = _validate.integer(seed, "seed", "iforest_scores", minimum=0)
    if max_samples != "auto":
        max_samples = _validate.integer(max_samples, "max_samples", "iforest_scores", minimum=1)
        max_samples = min(max_samples, len(a))
    forest = IsolationForest(
        n_estimators=n_estimators, max_samples=max_samples, random_state=seed
    ).fit(a)
    return -forest.score_samples(b)


# ---------------------------------------------------------------------------------------------
# Every class in turn as the normal class

AE_SCORES = ("mse", "pixel", "code", "pixel+code")
"""The candidate scores one trained autoencoder gives (see :class:`AEScorer`): the plain mean squared
error, the per-pixel standardised error, the kNN distance in the whitened code, and the sum of the last
two after standardising each on normal validation images."""


def split_normal(x_normal, n_fit: int, n_val: int, n_cal: int = 0, seed: int = 0):
    """Disjoint random parts of the normal training images: ``(x_fit, x_val, x_cal)``.

    ``x_fit`` trains the models, ``x_val`` (normal images no model trained on) standardises the
    autoencoder's score parts, ``x_cal`` (normal too, used by nothing else) sets a threshold. Any
    of the three may be asked for as ``None``: then it takes every image the other two leave.

    Raises:
        ValueError: not enough images for the parts asked for.
    """
    x = np.asarray(x_normal)
    sizes = {"n_fit": n_fit, "n_val": n_val, "n_cal": n_cal}
    sizes = {
        name: None if n is None else _validate.integer(n, name, "split_normal", minimum=0)
        for name, n in sizes.items()
    }
    seed = _validate.integer(seed, "seed", "split_normal", minimum=0)
    fixed = sum(n for n in sizes.values() if n is not None)
    rest = len(x) - fixed
    if rest < 0 or (None in sizes.values() and rest == 0):
        raise ValueError(f"split_normal(): {len(x)} normal images cannot give {sizes}")
    n = {k: (rest if v is None else v) for k, v in sizes.items()}
    order = np.random.default_rng(seed).permutation(len(x))
    a, b = n["n_fit"], n["n_fit"] + n["n_val"]
    return x[order[:a]], x[order[a:b]], x[order[b : b + n["n_cal"]]]


def _ae_candidates(model, x_fit, x_val, x_eval, k: int) -> dict[str, np.ndarray]:
    scorer = AEScorer(model, k=k).fit(x_fit, x_val)
    parts = scorer.parts(x_eval)
    return {
        "mse": parts["mse"],
        "pixel": parts["pixel"],
        "code": parts["code"],
        "pixel+code": scorer.combine(parts),
    }


def one_class_run(
    x_fit,
    x_val,
    x_eval,
    build_model: Callable[[], object],
    *,
    epochs: int,
    batch_size: int,
    lr: float = 3e-3,
    seed: int = 0,
    k: int = 5,
    pca_components: Sequence[int] = (16, 32),
    ocsvm_grid: Sequence[tuple] = ((0.1, ("scale", 1.0)),),
    iforest_grid: Sequence = ("auto",),
    untrained: bool = True,
    steps_per_execution: int = 1,
) -> dict[str, np.ndarray]:
    """Every detector of the one-class table, fitted on the same normal images ``x_fit``.

    One autoencoder is built (``build_model()``, seeded with ``seed``) and trained on ``x_fit`` with
    :func:`aelib.training.fit_autoencoder`; its four candidate scores (:data:`AE_SCORES`) are
    computed, with ``x_val`` (normal images it did not train on) standardising the parts. With
    ``untrained=True`` the same four scores are also computed from the model *before* training,
    the reference that shows what training adds. The baselines fit on the same ``x_fit``: PCA's
    reconstruction error at each size in ``pca_components``, a kNN distance in a whitened PCA code
    of the largest size (the linear twin of the autoencoder's code score), a One-Class SVM for each
    ``(nu, gamma)`` of ``ocsvm_grid`` and an Isolation Forest for each ``max_samples`` of
    ``iforest_grid``.

    Args:
        x_fit, x_val: normal images (disjoint), shape ``(n, h, w, c)``.
        x_eval: the images to score (a test set, possibly with normal calibration images in front).
        steps_per_execution: training steps per compiled call (a speed setting only).

    Returns:
        Method name -> scores of ``x_eval`` ``(n_eval,)``, higher = more anomalous. Names:
        ``"ae:<score>"`` and ``"ae0:<score>"`` (untrained) for each of :data:`AE_SCORES`,
        ``"pca:<n>"``, ``"pca_code:<n>"``, ``"ocsvm:<nu>,<gamma>"``, ``"iforest:<max_samples>"``;
        see :func:`ocsvm_key` and :func:`iforest_key`.
    """
    import keras

    from .training import fit_autoencoder

    x_fit, x_val, x_eval = (np.asarray(a, dtype=np.float32) for a in (x_fit, x_val, x_eval))
    for name, a in (("x_fit", x_fit), ("x_val", x_val), ("x_eval", x_eval)):
        if a.ndim < 2 or len(a) < 2:
            raise ValueError(
                f"one_class_run(): {name} must hold at least 2 images, got shape {a.shape}"
            )
    if not pca_components:
        raise ValueError("one_class_run(): pca_components must name at least one size")
    seed = _validate.integer(seed, "seed", "one_class_run", minimum=0)
    k = _validate.integer(k, "k", "one_class_run", minimum=1)
    keras.utils.set_random_seed(seed)
    model = build_model()
    out: dict[str, np.ndarray] = {}
    if untrained:
        for name, s in _ae_candidates(model, x_fit, x_val, x_eval, k).items():
            out[f"ae0:{name}"] = s
    fit_autoencoder(
        model,
        x_fit,
        epochs=epochs,
        batch_size=batch_size,
        lr=lr,
        steps_per_execution=steps_per_execution,
    )
    for name, s in _ae_candidates(model, x_fit, x_val, x_eval, k).items():
        out[f"ae:{name}"] = s
    a, b = _flat(x_fit, "one_class_run", "x_fit"), _flat(x_eval, "one_class_run", "x_eval")
    sizes = [_n_components(n, a, "one_class_run") for n in pca_components]
    out.update(_pca_family(a, b, sizes, code_size=max(sizes), k=k))
    for nu, gamma in ocsvm_grid:
        out[ocsvm_key(nu, gamma)] = ocsvm_scores(x_fit, x_eval, nu=nu, gamma=gamma, seed=seed)
    for max_samples in iforest_grid:
        out[iforest_key(max_samples)] = iforest_scores(
            x_fit, x_eval, max_samples=max_samples, seed=seed
        )
    return out


def ocsvm_key(nu, gamma) -> str:
    """The method name :func:`one_class_run` gives a One-Class SVM setting, e.g. ``"ocsvm:0.1,scale*1"``."""
    g = f"scale*{gamma[1]:g}" if isinstance(gamma, tuple) else str(gamma)
    return f"ocsvm:{nu:g},{g}"


def iforest_key(max_samples) -> str:
    """The method name :func:`one_class_run` gives an Isolation Forest setting."""
    return f"iforest:{max_samples}"


def best_setting(aurocs: Mapping[str, Sequence[float]], prefix: str) -> str:
    """Among the methods whose name starts with ``prefix``, the one with the highest mean AUROC.

    Args:
        aurocs: method name -> AUROCs (one per design task; all the same length).

    Raises:
        ValueError: no method has that prefix.
    """
    names = [m for m in aurocs if m.startswith(prefix)]
    if not names:
        raise ValueError(f"best_setting(): no method starts with {prefix!r}")
    return max(names, key=lambda m: float(np.mean(aurocs[m])))


def format_table(
    rows: Sequence[Mapping[str, float]],
    class_names: Sequence[str] | None = None,
    columns: Mapping[str, str] | Sequence[str] | None = None,
    scale: float = 100.0,
    digits: int = 1,
) -> str:
    """A plain-text table of per-class AUROCs, one row per class and a last row of means.

    Args:
        rows: one mapping per class with a ``"class"`` key and, per method, either one AUROC (in
            [0, 1]) or a sequence of AUROCs, one per seed. With sequences each cell reads
            ``mean ± std`` over the seeds, and the last row is the mean over classes computed per
            seed, then its mean ± std over seeds (so every row must hold the same seeds).
        class_names: names indexed by class number.
        columns: which methods to show, as a list of keys or a dict key -> column header
            (default: every key but ``"class"`` of the first row).
        scale: multiply AUROCs by this (100 shows percent).
    """
    if not rows:
        raise ValueError("format_table(): no rows")
    digits = _validate.integer(digits, "digits", "format_table", minimum=0)
    if columns is None:
        columns = [k for k in rows[0] if k != "class"]
    headers = dict(columns) if isinstance(columns, Mapping) else {k: k for k in columns}
    missing = [k for k in headers if any(k not in r for r in rows)]
    if missing:
        raise ValueError(f"format_table(): columns {missing} are missing from some rows")

    def values(r, k) -> np.ndarray:
        return np.atleast_1d(np.asarray(r[k], dtype=float)) * scale

    n_seeds = {len(values(r, k)) for r in rows for k in headers}
    if len(n_seeds) != 1:
        raise ValueError(f"format_table(): cells hold different numbers of seeds {sorted(n_seeds)}")
    spread = n_seeds.pop() > 1

    def cell(v: np.ndarray) -> str:
        if not spread:
            return f"{v[0]:.{digits}f}"
        return f"{v.mean():.{digits}f} ± {v.std(ddof=1):.{digits}f}"

    body = []
    for r in rows:
        c = int(r["class"])
        name = f"{c} {class_names[c]}" if class_names is not None else str(c)
        body.append([name] + [cell(values(r, k)) for k in headers])
    per_seed_means = [np.mean([values(r, k) for r in rows], axis=0) for k in headers]
    means = ["mean"] + [cell(v) for v in per_seed_means]
    width = max(*(len(h) for h in headers.values()), *(len(c) for row in body for c in row[1:])) + 2
    first = max(len(str(row[0])) for row in [*body, means, ["class"]]) + 2
    lines = [f"{'class':<{first}}" + "".join(f"{h:>{width}}" for h in headers.values())]
    for row in [*body, None, means]:
        if row is None:
            lines.append("-" * len(lines[0]))
            continue
        lines.append(f"{row[0]:<{first}}" + "".join(f"{v:>{width}}" for v in row[1:]))
    return "\n".join(lines)
