import math

import numpy as np
import pytest

from aelib import training


def test_tail_improvement_reads_the_last_fifth():
    curve = [1.0, 0.5, 0.3, 0.2, 0.15, 0.12, 0.11, 0.1, 0.0995, 0.099]
    # the last fifth is 2 epochs: from curve[7] = 0.1 to 0.099, a 1% improvement
    assert training.tail_improvement(curve) == pytest.approx(0.01)
    assert training.converged(curve)
    assert not training.converged(curve, tol=0.01)
    falling = np.geomspace(1, 0.01, 10)
    assert not training.converged(falling)


def test_no_curve_never_converges():
    # what an untrained (audited) model's history looks like
    assert math.isnan(training.tail_improvement({"val_loss": []}))
    assert not training.converged({"val_loss": []})
    assert not training.converged([0.1, 0.1, 0.1])  # too short to tell
    with pytest.raises(ValueError, match="tail"):
        training.tail_improvement([1, 2, 3, 4, 5], tail=1.5)


def test_spread_and_clear_win():
    assert training.spread([1.0, 3.0]) == (2.0, pytest.approx(math.sqrt(2)))
    assert training.fmt_spread([1.0, 3.0], 1) == "2.0 ± 1.4 (2 seeds)"
    assert training.clear_win([0.10, 0.11, 0.105], [0.20, 0.21, 0.19])
    # gap 0.01 is smaller than the spreads (0.01 each): no clear win
    assert not training.clear_win([0.10, 0.12], [0.12, 0.14])
    with pytest.raises(ValueError, match="at least two"):
        training.spread([1.0])
    with pytest.raises(ValueError, match="non-finite"):
        training.spread([1.0, float("nan")])


def test_search_learning_rate_ignores_diverged_runs():
    scores = {1e-3: 0.2, 3e-3: 0.1, 1e-2: float("nan")}
    best, seen = training.search_learning_rate(lambda lr: scores[lr], [1e-3, 3e-3, 1e-2])
    assert best == 3e-3 and math.isnan(seen[1e-2])
    with pytest.raises(ValueError, match="at least one"):
        training.search_learning_rate(lambda lr: 0.0, [])


def test_fit_autoencoder_trains_and_validates():
    import keras

    keras.utils.set_random_seed(0)
    x = np.random.default_rng(0).random((64, 8)).astype("float32")
    model = keras.Sequential(
        [keras.Input((8,)), keras.layers.Dense(4), keras.layers.Dense(8, activation="sigmoid")]
    )
    hist = training.fit_autoencoder(model, x, epochs=5, batch_size=16, lr=1e-2, validation_data=x)
    assert len(hist.history["val_loss"]) == 5
    assert hist.history["loss"][-1] < hist.history["loss"][0]
    with pytest.raises(ValueError, match="epochs"):
        training.fit_autoencoder(model, x, epochs=0, batch_size=16)
    with pytest.raises(ValueError, match="lr"):
        training.fit_autoencoder(model, x, epochs=1, batch_size=16, lr=float("nan"))


def test_timer():
    with training.Timer() as t:
        sum(range(1000))
    assert t.seconds >= 0
