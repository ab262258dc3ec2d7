"""Notebook 01's helpers: the validation split, the clipped PCA baseline and seeded training runs."""

import numpy as np
import pytest

from aelib import metrics
from aelib.pca_compare import PCABaseline, Runs, split_validation


def _images(n=200, seed=0):
    # A few strong directions plus a little noise, so that PCA's leading components are well defined.
    rng = np.random.default_rng(seed)
    basis = rng.normal(size=(6, 16)) * np.array([3.0, 2.0, 1.5, 1.0, 0.7, 0.5])[:, None]
    flat = 0.5 + 0.1 * rng.normal(size=(n, 6)) @ basis + 0.01 * rng.normal(size=(n, 16))
    return np.clip(flat, 0, 1).reshape(n, 4, 4, 1).astype(np.float32), rng.integers(0, 3, n)


def test_split_validation_is_a_disjoint_partition():
    x, y = _images()
    x[:, 0, 0, 0] = np.arange(len(x))  # an id per image
    (xf, yf), (xv, yv) = split_validation(x, y, 30, seed=1)
    assert len(xv) == len(yv) == 30 and len(xf) == len(yf) == 170
    ids_f, ids_v = set(xf[:, 0, 0, 0].tolist()), set(xv[:, 0, 0, 0].tolist())
    assert not ids_f & ids_v and len(ids_f | ids_v) == 200
    again = split_validation(x, y, 30, seed=1)[1][0]
    np.testing.assert_array_equal(again, xv)


@pytest.mark.parametrize("n_val", [0, 200, 2.5, True])
def test_split_validation_names_a_bad_size(n_val):
    x, y = _images()
    with pytest.raises(ValueError, match=r"n_val must be an int in \[1, 199\]"):
        split_validation(x, y, n_val)


def test_pca_baseline_matches_sklearn_and_clipping_only_helps():
    from sklearn.decomposition import PCA

    x, _ = _images()
    base = PCABaseline(x, max_k=5)
    flat = x.reshape(len(x), -1)
    ref = PCA(n_components=3, svd_solver="full").fit(flat)
    unclipped = base.reconstruct(x, 3, clip=False).reshape(len(x), -1)
    np.testing.assert_allclose(unclipped, ref.inverse_transform(ref.transform(flat)), atol=1e-4)
    clipped = base.reconstruct(x, 3)
    assert clipped.shape == x.shape and clipped.min() >= 0 and clipped.max() <= 1
    assert base.mse(x, 3) <= base.mse(x, 3, clip=False)
    assert base.mse(x, 3, clip=False) == pytest.approx(metrics.mse(flat, unclipped))
    assert base.encode(x, 2).shape == (len(x), 2)
    with pytest.raises(ValueError, match=r"k must be an int in \[1, 5\], got 6"):
        base.reconstruct(x, 6)


def test_runs_add_and_converged_on_empty_curves():
    a = Runs("m", test_mse=[0.1], val_curves=[[1.0, 0.5, 0.4, 0.39, 0.389, 0.3889]], seconds=1.0)
    b = Runs("m", test_mse=[0.2], val_curves=[[]], seconds=2.0)
    both = a + b
    assert both.test_mse == [0.1, 0.2] and both.seconds == 3.0
    assert a.converged() and not both.converged()  # an empty curve (training off) never converges
    assert np.isnan(both.tail_improvements()[1])
    assert Runs("none").mean != Runs("none").mean  # NaN without runs


def test_train_runs_scores_each_seed_on_the_test_images():
    pytest.importorskip("keras")
    from aelib import models
    from aelib.pca_compare import train_runs

    x, _ = _images(64)
    x = np.repeat(np.repeat(x, 2, axis=1), 2, axis=2)  # 8x8 images
    runs = train_runs(
        "tiny",
        lambda: models.dense_autoencoder((8, 8, 1), 2, hidden=(4,)),
        x[:48],
        x_val=x[48:56],
        x_test=x[56:],
        seeds=[0, 1],
        epochs=2,
        batch_size=16,
        lr=1e-2,
        steps_per_execution=1,
    )
    assert len(runs.test_mse) == len(runs.models) == len(runs.val_curves) == 2
    assert all(len(c) == 2 for c in runs.val_curves)
    expected = metrics.mse(x[56:], runs.models[0].predict(x[56:], verbose=0))
    assert runs.test_mse[0] == pytest.approx(expected, rel=1e-5)
