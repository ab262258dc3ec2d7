import keras
import numpy as np
import pytest
import tensorflow as tf

from aelib.optim import FusedAdam


def _run(optimizer, steps=25, seed=0, dtype="float32"):
    """Apply ``steps`` updates with fixed random gradients to two weight tensors; return them."""
    rng = np.random.default_rng(seed)
    weights = [
        keras.Variable(rng.normal(size=(5, 3)).astype(dtype), name="kernel"),
        keras.Variable(rng.normal(size=(3,)).astype(dtype), name="bias"),
    ]
    grads = [[rng.normal(size=tuple(w.shape)).astype(dtype) for w in weights] for _ in range(steps)]
    optimizer.build(weights)
    step = tf.function(lambda g: optimizer.apply_gradients(zip(g, weights, strict=True)))
    for g in grads:
        step([tf.constant(x) for x in g])
    return [w.numpy() for w in weights], step


def _op_types(step, weights):
    """The op types in the graph of ``step``, the update of ``weights`` that :func:`_run` made."""
    spec = [tf.TensorSpec(w.shape, w.dtype) for w in weights]
    graph = step.get_concrete_function(spec).graph
    return {op.type for op in graph.get_operations()}


@pytest.mark.parametrize(
    "kwargs",
    [
        {"learning_rate": 1e-2},
        {"learning_rate": 3e-3, "beta_1": 0.5, "beta_2": 0.99, "epsilon": 1e-4},
        {"learning_rate": keras.optimizers.schedules.CosineDecay(1e-2, 25)},
        {"learning_rate": 1e-2, "weight_decay": 0.1, "clipnorm": 0.5},
    ],
    ids=["default", "betas", "schedule", "decay-clip"],
)
def test_fused_adam_matches_keras_adam(kwargs):
    expected, _ = _run(keras.optimizers.Adam(**kwargs))
    got, step = _run(FusedAdam(**kwargs))
    for e, g in zip(expected, got, strict=True):
        np.testing.assert_allclose(g, e, rtol=1e-5, atol=1e-6)
    # every weight moved: the comparison is not between two unchanged copies
    start, _ = _run(keras.optimizers.SGD(0.0))
    assert all(np.abs(g - s).min() > 1e-4 for g, s in zip(got, start, strict=True))


def test_fused_adam_uses_one_kernel_per_weight():
    weights, step = _run(FusedAdam(1e-2), steps=1)
    assert "ResourceApplyAdam" in _op_types(step, weights)
    # Keras' own update assigns the two moments with separate ops
    weights, keras_step = _run(keras.optimizers.Adam(1e-2), steps=1)
    assert "ResourceApplyAdam" not in _op_types(keras_step, weights)


def test_fused_adam_falls_back_to_keras_for_amsgrad():
    expected, _ = _run(keras.optimizers.Adam(1e-2, amsgrad=True))
    got, step = _run(FusedAdam(1e-2, amsgrad=True))
    for e, g in zip(expected, got, strict=True):
        np.testing.assert_allclose(g, e, rtol=1e-6, atol=1e-7)
    assert "ResourceApplyAdam" not in _op_types(step, got)


def test_fused_adam_trains_a_model_as_keras_adam_does():
    rng = np.random.default_rng(1)
    x = rng.random((256, 8)).astype("float32")
    losses = {}
    for name, make in (("keras", keras.optimizers.Adam), ("fused", FusedAdam)):
        keras.utils.set_random_seed(0)
        model = keras.Sequential([keras.Input((8,)), keras.layers.Dense(4), keras.layers.Dense(8)])
        model.compile(make(1e-2), "mse")
        losses[name] = model.fit(x, x, epochs=5, batch_size=32, verbose=0).history["loss"]
    assert losses["fused"][-1] < 0.5 * losses["fused"][0]
    np.testing.assert_allclose(losses["fused"], losses["keras"], rtol=1e-3)


def test_fused_adam_survives_saving(tmp_path):
    keras.utils.set_random_seed(0)
    model = keras.Sequential([keras.Input((4,)), keras.layers.Dense(2)])
    model.compile(FusedAdam(2e-3, beta_1=0.8), "mse")
    model.fit(np.ones((8, 4)), np.ones((8, 2)), epochs=1, verbose=0)
    path = tmp_path / "m.keras"
    model.save(path)
    loaded = keras.saving.load_model(path, safe_mode=True)
    assert isinstance(loaded.optimizer, FusedAdam)
    assert loaded.optimizer.get_config()["beta_1"] == pytest.approx(0.8)
    assert float(loaded.optimizer.learning_rate.numpy()) == pytest.approx(2e-3)


@pytest.mark.parametrize("fused", [False, True])
def test_fit_pairs_builds_the_adam_it_is_asked_for(fused):
    from aelib.training import fit_pairs

    keras.utils.set_random_seed(0)
    model = keras.Sequential([keras.Input((4,)), keras.layers.Dense(4)])
    x = np.random.default_rng(0).random((32, 4)).astype("float32")
    history = fit_pairs(model, x, x, epochs=2, batch_size=8, lr=1e-2, fused_adam=fused)
    assert isinstance(model.optimizer, keras.optimizers.Adam)
    assert isinstance(model.optimizer, FusedAdam) is fused
    assert len(history.history["loss"]) == 2


@pytest.mark.parametrize("bad", [1, "yes", None])
def test_fit_pairs_refuses_a_fused_adam_that_is_not_a_bool(bad):
    from aelib.training import fit_pairs

    model = keras.Sequential([keras.Input((4,)), keras.layers.Dense(4)])
    x = np.zeros((8, 4), "float32")
    with pytest.raises(ValueError, match=r"fit_pairs\(\): fused_adam must be True or False, got"):
        fit_pairs(model, x, x, epochs=1, batch_size=8, lr=1e-2, fused_adam=bad)
