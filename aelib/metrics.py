"""Reconstruction error, PSNR and SSIM, subspace measures, and the metrics of a detector.

The detector metrics (:func:`confusion_at`, :func:`auroc`, :func:`auprc`) take one score per image,
higher meaning more anomalous, and ``is_anomaly`` (``True`` for anomalies): **the anomaly is the
positive class**. Precision is then "of the images flagged, the share that really are anomalies",
recall "of the anomalies, the share flagged", the false-positive rate "of the normal images, the
share flagged by mistake".
"""

from __future__ import annotations

import numpy as np

from . import _validate


def _pair(x, x_hat, fn: str):
    x = np.asarray(x, dtype=np.float64)
    x_hat = np.asarray(x_hat, dtype=np.float64)
    if x.shape != x_hat.shape:
        raise ValueError(f"{fn}(): x has shape {x.shape} but x_hat has shape {x_hat.shape}")
    if x.ndim < 2:
        raise ValueError(f"{fn}(): expected a batch (n, ...), got shape {x.shape}")
    return x, x_hat


def per_sample_mse(x, x_hat) -> np.ndarray:
    """Mean squared error of each example over all its pixels: shape ``(n,)``."""
    x, x_hat = _pair(x, x_hat, "per_sample_mse")
    return ((x - x_hat) ** 2).reshape(len(x), -1).mean(axis=1)


def mse(x, x_hat) -> float:
    """Mean squared error per pixel over the whole batch."""
    return float(per_sample_mse(x, x_hat).mean())


def sse_per_image(x, x_hat) -> float:
    """Mean over images of the summed squared error (the unit Hinton and Salakhutdinov 2006 report)."""
    x, x_hat = _pair(x, x_hat, "sse_per_image")
    return float(((x - x_hat) ** 2).reshape(len(x), -1).sum(axis=1).mean())


def principal_angles(a, b) -> np.ndarray:
    """Principal angles in degrees between the column spaces of ``a`` (d, k) and ``b`` (d, m).

    Any spanning set works (SciPy's :func:`scipy.linalg.subspace_angles` orthonormalises both bases).
    Returns ``min(k, m)`` angles, smallest first. Angles near 0 mean the two subspaces coincide.
    """
    from scipy.linalg import subspace_angles

    a = np.asarray(a, dtype=np.float64)
    b = np.asarray(b, dtype=np.float64)
    if a.ndim != 2 or b.ndim != 2 or a.shape[0] != b.shape[0]:
        raise ValueError(
            f"principal_angles(): need (d, k) and (d, m) matrices, got {a.shape} and {b.shape}"
        )
    return np.sort(np.degrees(subspace_angles(a, b)))


def _images(x, x_hat, data_range, fn: str):
    """Both image sets as float64 batches ``(n, h, w, c)``, after checking them against ``data_range``.

    One image may be given as ``(h, w)`` or ``(h, w, c)`` with ``c`` in 1, 3 or 4; a batch as
    ``(n, h, w)`` or ``(n, h, w, c)``. The reference ``x`` must fit in ``data_range`` (a prediction
    ``x_hat`` may overshoot it, as bicubic upscaling does): integer images with the default range 1,
    or float images in [0, 255], would otherwise give a plausible wrong number.
    """
    if isinstance(data_range, bool) or not isinstance(data_range, (int, float, np.number)):
        raise TypeError(f"{fn}(): data_range must be a number, got {data_range!r}")
    if not np.isfinite(data_range) or data_range <= 0:
        raise ValueError(f"{fn}(): data_range must be positive and finite, got {data_range!r}")
    raw_x, raw_y = np.asarray(x), np.asarray(x_hat)
    for name, a in (("x", raw_x), ("x_hat", raw_y)):
        if a.dtype.kind not in "biuf":
            raise TypeError(f"{fn}(): {name} must hold numbers, got dtype {a.dtype}")
        if a.dtype.kind in "iu" and data_range < np.iinfo(a.dtype).max:
            raise ValueError(
                f"{fn}(): {name} has integer dtype {a.dtype} but data_range={data_range}; "
                f"pass data_range={np.iinfo(a.dtype).max} or convert the images to float in [0, 1] "
                f"(for uint8: x / 255)"
            )
    if raw_x.shape != raw_y.shape:
        raise ValueError(f"{fn}(): x has shape {raw_x.shape} but x_hat has shape {raw_y.shape}")
    a, b = raw_x.astype(np.float64), raw_y.astype(np.float64)
    single = a.ndim == 2 or (a.ndim == 3 and a.shape[-1] in (1, 3, 4))
    if single:
        a, b = a[None], b[None]
    if a.ndim == 3:
        a, b = a[..., None], b[..., None]
    if a.ndim != 4 or 0 in a.shape:
        raise ValueError(
            f"{fn}(): expected one image (h, w) or (h, w, c), or a batch (n, h, w) or (n, h, w, c); "
            f"got shape {raw_x.shape}"
        )
    finite = a[np.isfinite(a)]
    if finite.size and finite.max() - finite.min() > data_range * (1 + 1e-6):
        raise ValueError(
            f"{fn}(): x spans [{finite.min():.4g}, {finite.max():.4g}], wider than "
            f"data_range={data_range}; pass the images' true range (e.g. data_range=255 for 0-255 "
            f"images) or rescale them to [0, {data_range}]"
        )
    return a, b


def psnr(x, x_hat, data_range: float = 1.0) -> np.ndarray:
    """Peak signal-to-noise ratio in dB of each image: ``10 log10(range^2 / MSE)``, shape ``(n,)``.

    ``x`` is the clean reference, ``x_hat`` the estimate; one image gives shape ``(1,)``. A perfect
    reconstruction gives ``inf``; average over a set with :func:`mean_psnr`. NaN in gives NaN out.
    """
    a, b = _images(x, x_hat, data_range, "psnr")
    err = ((a - b) ** 2).reshape(len(a), -1).mean(axis=1)
    with np.errstate(divide="ignore"):
        return 10.0 * np.log10(data_range**2 / err)


def mean_psnr(x, x_hat, data_range: float = 1.0) -> float:
    """PSNR averaged over images (in dB), with perfect images capped at 100 dB."""
    return float(np.minimum(psnr(x, x_hat, data_range), 100.0).mean())


SSIM_WINDOW = 11
SSIM_SIGMA = 1.5


def _gaussian_taps(size: int, sigma: float) -> np.ndarray:
    t = np.arange(size, dtype=np.float64) - (size - 1) / 2
    g = np.exp(-(t**2) / (2 * sigma**2))
    return g / g.sum()


def ssim(x, x_hat, data_range: float = 1.0) -> np.ndarray:
    """Structural similarity (Wang et al. 2004) of each image, shape ``(n,)``.

    The standard convention, as ``tf.image.ssim`` and scikit-image's ``structural_similarity``
    (``gaussian_weights=True``) compute it: an 11x11 Gaussian window with sigma 1.5, constants
    ``K1 = 0.01`` and ``K2 = 0.03`` times ``data_range``, population (not sample) variances, and the
    SSIM map averaged over the *valid* region (the window never leaves the image) and the channels.
    Images must be at least 11x11. Shapes as for :func:`psnr`.
    """
    from scipy.ndimage import correlate1d

    a, b = _images(x, x_hat, data_range, "ssim")
    if min(a.shape[1:3]) < SSIM_WINDOW:
        raise ValueError(
            f"ssim(): images of {a.shape[1]}x{a.shape[2]} pixels are smaller than the "
            f"{SSIM_WINDOW}x{SSIM_WINDOW} window; if this is one image with channels, check its shape"
        )
    taps = _gaussian_taps(SSIM_WINDOW, SSIM_SIGMA)
    r = SSIM_WINDOW // 2

    def blur(v):
        v = correlate1d(v, taps, axis=1, mode="constant")
        v = correlate1d(v, taps, axis=2, mode="constant")
        return v[:, r:-r, r:-r, :]  # the valid region: the window lies inside the image

    c1, c2 = (0.01 * data_range) ** 2, (0.03 * data_range) ** 2
    mx, my = blur(a), blur(b)
    vx = blur(a * a) - mx**2
    vy = blur(b * b) - my**2
    cxy = blur(a * b) - mx * my
    s = ((2 * mx * my + c1) * (2 * cxy + c2)) / ((mx**2 + my**2 + c1) * (vx + vy + c2))
    return s.reshape(len(s), -1).mean(axis=1)


# --- Detector metrics (the anomaly is the positive class) ---------------------------------------


def confusion_at(scores, is_anomaly, threshold: float) -> dict[str, float]:
    """Counts and rates when images with ``score > threshold`` are flagged as anomalies.

    Returns:
        ``{"tp", "fp", "tn", "fn"}`` (ints) and ``"precision"`` = tp / (tp + fp), ``"recall"`` =
        tp / (tp + fn) (the true-positive rate), ``"fpr"`` = fp / (fp + tn), ``"f1"``. A rate whose
        denominator is zero (no image flagged, no anomaly, no normal image) is NaN, not a guess.
    """
    s = _validate.values_1d(scores, "scores", "confusion_at")
    lab = _validate.binary_labels(is_anomaly, len(s), "confusion_at", both=False)
    t = _validate.number(threshold, "threshold", "confusion_at")
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

    s = _validate.values_1d(scores, "scores", "auroc")
    return float(roc_auc_score(_validate.binary_labels(is_anomaly, len(s), "auroc"), s))


def auprc(scores, is_anomaly) -> float:
    """Area under the precision-recall curve, as scikit-learn's ``average_precision_score`` (a
    step-wise sum, not the trapezoid). Chance level is the share of anomalies, not 0.5."""
    from sklearn.metrics import average_precision_score

    s = _validate.values_1d(scores, "scores", "auprc")
    return float(average_precision_score(_validate.binary_labels(is_anomaly, len(s), "auprc"), s))
