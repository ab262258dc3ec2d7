"""Figures used across the notebooks. Each returns the matplotlib Figure it drew.

:func:`score_histograms` and :func:`roc_pr_curves` show a detector's scores, the anomaly being the
positive class (as in :mod:`aelib.metrics`)."""

from __future__ import annotations

from collections.abc import Mapping, Sequence

import numpy as np

from . import _validate


def _plt():
    import matplotlib.pyplot as plt

    return plt


def _as_image(img: np.ndarray) -> tuple[np.ndarray, str | None]:
    img = np.asarray(img)
    if img.ndim == 3 and img.shape[-1] == 1:
        return img[..., 0], "gray"
    if img.ndim == 2:
        return img, "gray"
    if img.ndim == 3 and img.shape[-1] == 3:
        return np.clip(img, 0, 1), None
    raise ValueError(
        f"cannot show an image of shape {img.shape}: expected (h, w), (h, w, 1) or (h, w, 3)"
    )


def image_grid(
    images,
    titles: Sequence[str] | None = None,
    ncols: int = 10,
    title: str | None = None,
    size: float = 1.1,
):
    """Show images in a grid, ``ncols`` per row, with optional per-image titles."""
    plt = _plt()
    images = np.asarray(images)
    n = len(images)
    if n == 0:
        raise ValueError("image_grid(): no images to show")
    if titles is not None and len(titles) != n:
        raise ValueError(f"image_grid(): {n} images but {len(titles)} titles")
    ncols = min(_validate.integer(ncols, "ncols", "image_grid", minimum=1), n)
    nrows = int(np.ceil(n / ncols))
    fig, axes = plt.subplots(
        nrows, ncols, figsize=(size * ncols, size * nrows + (0.4 if title else 0)), squeeze=False
    )
    for i, ax in enumerate(axes.flat):
        ax.axis("off")
        if i < n:
            img, cmap = _as_image(images[i])
            ax.imshow(img, cmap=cmap, vmin=0, vmax=1)
            if titles is not None:
                ax.set_title(titles[i], fontsize=8)
    if title:
        fig.suptitle(title)
    fig.tight_layout()
    return fig


def compare_rows(
    rows: Mapping[str, np.ndarray],
    n: int = 10,
    title: str | None = None,
    size: float = 1.0,
    annotations: Mapping[str, Sequence[str]] | None = None,
):
    """One row per entry of ``rows`` (label -> images), the same ``n`` examples in each column.

    Typical use: ``{"original": x, "PCA": x_pca, "autoencoder": x_ae}``.
    """
    plt = _plt()
    if not rows:
        raise ValueError("compare_rows(): no rows given")
    n = _validate.integer(n, "n", "compare_rows", minimum=1)
    lengths = {label: len(imgs) for label, imgs in rows.items()}
    if min(lengths.values()) < n:
        raise ValueError(f"compare_rows(): need {n} images per row, got {lengths}")
    fig, axes = plt.subplots(
        len(rows),
        n,
        figsize=(size * n + 1.2, size * len(rows) + (0.4 if title else 0)),
        squeeze=False,
    )
    for r, (label, imgs) in enumerate(rows.items()):
        for c in range(n):
            ax = axes[r, c]
            img, cmap = _as_image(imgs[c])
            ax.imshow(img, cmap=cmap, vmin=0, vmax=1)
            ax.set_xticks([])
            ax.set_yticks([])
            if annotations and label in annotations:
                ax.set_title(annotations[label][c], fontsize=7)
        axes[r, 0].set_ylabel(label, rotation=0, ha="right", va="center", fontsize=9)
    if title:
        fig.suptitle(title)
    fig.tight_layout()
    return fig


def curves(
    x,
    ys: Mapping[str, Sequence[float]],
    xlabel: str,
    ylabel: str,
    title: str,
    logx: bool = False,
    logy: bool = False,
    markers: bool = True,
    ax=None,
):
    """Line plot of several named series against a shared x."""
    plt = _plt()
    if ax is None:
        fig, ax = plt.subplots(figsize=(6, 4))
    else:
        fig = ax.figure
    for label, y in ys.items():
        if len(y) != len(x):
            raise ValueError(f"curves(): series {label!r} has {len(y)} points, x has {len(x)}")
        ax.plot(x, y, marker="o" if markers else None, ms=4, label=label)
    if logx:
        ax.set_xscale("log", base=2)
        ax.set_xticks(list(x))
        ax.set_xticklabels([str(v) for v in x])
    if logy:
        ax.set_yscale("log")
    ax.set_xlabel(xlabel)
    ax.set_ylabel(ylabel)
    ax.set_title(title)
    ax.grid(True, alpha=0.3)
    ax.legend()
    fig.tight_layout()
    return fig


def history(
    hist,
    title: str = "training curve",
    keys: Sequence[str] = ("loss", "val_loss"),
    ax=None,
    logy: bool = True,
):
    """Loss per epoch from a Keras ``History`` (or its ``.history`` dict)."""
    plt = _plt()
    h = getattr(hist, "history", hist)
    if ax is None:
        fig, ax = plt.subplots(figsize=(6, 3.5))
    else:
        fig = ax.figure
    for k in keys:
        if k in h:
            ax.plot(np.arange(1, len(h[k]) + 1), h[k], label=k)
    ax.set_xlabel("epoch")
    ax.set_ylabel("loss")
    if logy:
        ax.set_yscale("log")
    ax.set_title(title)
    ax.grid(True, alpha=0.3)
    ax.legend()
    fig.tight_layout()
    return fig


def scatter2d(
    z,
    labels,
    class_names: Sequence[str] | None = None,
    title: str = "2-D codes",
    ax=None,
    s: float = 3.0,
    alpha: float = 0.6,
):
    """Scatter of 2-D codes ``z`` (n, 2) coloured by integer ``labels`` (n,)."""
    plt = _plt()
    z = np.asarray(z)
    labels = np.asarray(labels)
    if z.ndim != 2 or z.shape[1] != 2:
        raise ValueError(f"scatter2d(): z must have shape (n, 2), got {z.shape}")
    if len(labels) != len(z):
        raise ValueError(f"scatter2d(): {len(z)} points but {len(labels)} labels")
    if ax is None:
        fig, ax = plt.subplots(figsize=(5, 4.5))
    else:
        fig = ax.figure
    cmap = plt.get_cmap("tab10")
    for c in np.unique(labels):
        m = labels == c
        name = class_names[int(c)] if class_names is not None else str(c)
        ax.scatter(z[m, 0], z[m, 1], s=s, alpha=alpha, color=cmap(int(c) % 10), label=name)
    ax.set_title(title)
    ax.set_xlabel("code 1")
    ax.set_ylabel("code 2")
    ax.legend(markerscale=3, fontsize=7, loc="best", framealpha=0.8)
    fig.tight_layout()
    return fig


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
    plt = _plt()
    a = _validate.values_1d(normal, "normal", "score_histograms")
    b = _validate.values_1d(anomalous, "anomalous", "score_histograms")
    bins = _validate.integer(bins, "bins", "score_histograms", minimum=1)
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
    from sklearn.metrics import precision_recall_curve, roc_curve

    from .metrics import auprc, auroc

    plt = _plt()
    if not scores:
        raise ValueError("roc_pr_curves(): no scores given")
    fig, (ax1, ax2) = plt.subplots(1, 2, figsize=(10, 4.2))
    lab = None
    for name, s in scores.items():
        s = _validate.values_1d(s, f"scores[{name!r}]", "roc_pr_curves")
        lab = _validate.binary_labels(is_anomaly, len(s), "roc_pr_curves")
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
