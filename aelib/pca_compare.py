"""Notebook 01's experiment: autoencoders against PCA, trained and scored the same way.

- :func:`split_validation`: carve a validation split out of the training images, so that nothing
  that picks a model or a budget looks at the test set.
- :class:`PCABaseline`: PCA fitted once; reconstructions at any code size up to the fitted one,
  clipped to [0, 1] like a sigmoid decoder's output.
- :func:`train_runs`: train one architecture with several seeds (same data, same budget) and
  return each run's test error, validation curve and model.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass, field

import numpy as np

from . import _validate, metrics, models, training


def split_validation(x: np.ndarray, y: np.ndarray, n_val: int, seed: int = 0):
    """Split ``(x, y)`` into a training part and ``n_val`` validation examples, at random.

    Returns:
        ``(x_fit, y_fit), (x_val, y_val)``, each part in its original order.

    Raises:
        ValueError: ``n_val`` is not a positive int smaller than ``len(x)``, or x and y differ in length.
    """
    if len(x) != len(y):
        raise ValueError(f"split_validation(): x has {len(x)} examples but y has {len(y)}")
    n_val = _validate.integer(n_val, "n_val", "split_validation", minimum=1, maximum=len(x) - 1)
    val = np.zeros(len(x), dtype=bool)
    val[np.random.default_rng(seed).choice(len(x), size=int(n_val), replace=False)] = True
    return (x[~val], y[~val]), (x[val], y[val])


class PCABaseline:
    """PCA with ``max_k`` components fitted on images ``(n, h, w, c)``; the first ``k`` of them are
    the PCA solution for every ``k <= max_k``."""

    def __init__(self, x: np.ndarray, max_k: int, seed: int = 0):
        from sklearn.decomposition import PCA

        flat = np.asarray(x).reshape(len(x), -1)
        max_k = _validate.integer(max_k, "max_k", "PCABaseline", minimum=1, maximum=min(flat.shape))
        self.shape = tuple(x.shape[1:])
        self.pca = PCA(n_components=max_k, svd_solver="randomized", random_state=seed).fit(flat)
        self.mean = self.pca.mean_
        self.components = self.pca.components_  # (max_k, pixels), orthonormal rows

    def _k(self, k: int) -> int:
        return _validate.integer(k, "k", "PCABaseline", minimum=1, maximum=len(self.components))

    def encode(self, x: np.ndarray, k: int) -> np.ndarray:
        """Codes ``(n, k)``: the projections on the first ``k`` components."""
        flat = np.asarray(x).reshape(len(x), -1)
        return (flat - self.mean) @ self.components[: self._k(k)].T

    def reconstruct(self, x: np.ndarray, k: int, clip: bool = True) -> np.ndarray:
        """Reconstructions of ``x`` through ``k`` components, in ``x``'s shape; clipped to [0, 1]
        unless ``clip`` is False."""
        out = self.encode(x, k) @ self.components[: self._k(k)] + self.mean
        if clip:
            out = np.clip(out, 0.0, 1.0)
        return out.reshape(x.shape).astype(np.float32)

    def mse(self, x: np.ndarray, k: int, clip: bool = True) -> float:
        """Mean squared error per pixel of :meth:`reconstruct` on ``x``."""
        return metrics.mse(x, self.reconstruct(x, k, clip))


@dataclass
class Runs:
    """Several seeds of one configuration: test errors, validation curves, models, seconds."""

    name: str
    test_mse: list[float] = field(default_factory=list)
    val_curves: list[list[float]] = field(default_factory=list)
    models: list = field(default_factory=list)
    seconds: float = 0.0

    @property
    def mean(self) -> float:
        return float(np.mean(self.test_mse)) if self.test_mse else float("nan")

    def converged(self, tail: float = 0.2, tol: float = 0.02) -> bool:
        """Every seed's validation curve improved by less than ``tol`` over its last ``tail``."""
        return bool(self.val_curves) and all(
            training.converged(c, tail=tail, tol=tol) for c in self.val_curves
        )

    def tail_improvements(self, tail: float = 0.2) -> list[float]:
        return [training.tail_improvement(c, tail=tail) for c in self.val_curves]

    def __add__(self, other: Runs) -> Runs:
        """The seeds of both, as one :class:`Runs` (same configuration, more seeds)."""
        return Runs(
            self.name,
            self.test_mse + other.test_mse,
            self.val_curves + other.val_curves,
            self.models + other.models,
            self.seconds + other.seconds,
        )


def train_runs(
    name: str,
    build: Callable[[], object],
    x: np.ndarray,
    *,
    x_val: np.ndarray,
    x_test: np.ndarray,
    seeds: Sequence[int],
    epochs: int,
    batch_size: int,
    lr: float,
    steps_per_execution: int = 16,
    keep_models: bool = True,
) -> Runs:
    """Train ``build()`` once per seed on ``x`` with :func:`aelib.training.fit_autoencoder`.

    Each run sees the same data and the same budget; only the seed (initial weights and batch
    order) changes. The validation curve is recorded per epoch; the test set is only scored.

    Returns:
        A :class:`Runs` with one test MSE and one validation curve per seed.
    """
    import keras

    runs = Runs(name)
    for seed in seeds:
        keras.utils.set_random_seed(int(seed))
        model = build()
        with training.Timer() as t:
            hist = training.fit_autoencoder(
                model,
                x,
                epochs=epochs,
                batch_size=batch_size,
                lr=lr,
                validation_data=x_val,
                steps_per_execution=steps_per_execution,
            )
        runs.seconds += t.seconds
        runs.val_curves.append([float(v) for v in hist.history.get("val_loss", [])])
        runs.test_mse.append(metrics.mse(x_test, models.predict(model, x_test, 1000)))
        if keep_models:
            runs.models.append(model)
    return runs
