"""Regularised autoencoders: sparse and contractive codes, and what the codes are good for.

An overcomplete autoencoder (a code wider than the input) can copy its input. A penalty on the code
stops it, and this module holds the three classic penalties as ``keras.ops`` functions, so they run
on every Keras backend:

==================  ==============================================================================
``"l1"``            :func:`l1_penalty`: the mean over images of ``sum_j |h_j|``
``"kl"``            :func:`kl_penalty`: ``sum_j KL(rho || rho_hat_j)``, ``rho_hat_j`` the mean
                    activation of unit ``j`` over the batch (the classic sparse autoencoder)
``"contractive"``   :func:`contractive_penalty`: the mean over images of the squared Frobenius norm
                    of the encoder's Jacobian, in closed form for a sigmoid layer (Rifai et al. 2011)
==================  ==============================================================================

:class:`SigmoidCode` is a ``Dense`` layer with a sigmoid that adds one of them (times ``weight``) to
the model's loss; :func:`autoencoder` builds a one-hidden-layer autoencoder around it, optionally
with Gaussian input noise (a denoising autoencoder of the same size). The layer is registered with
Keras under the package ``"aelib"``, so a saved model loads back with ``safe_mode=True``.

Measures: :func:`jacobian_norm` (closed form), :func:`autodiff_jacobian` (the backend's automatic
differentiation, for any encoder), :func:`sensitivity` (how far codes move under a small input
perturbation), :func:`activity` (population and lifetime sparsity), :func:`linear_probe` (logistic
regression on frozen codes, its regularisation chosen on validation data) and
:func:`precision_at_k` (retrieval by nearest neighbours in code space).
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from dataclasses import dataclass

import keras
import numpy as np
from keras import ops

from . import _validate

PENALTIES: tuple[str, ...] = ("none", "l1", "kl", "contractive")
EPS = 1e-6  # mean activations are kept inside [EPS, 1 - EPS] so that the KL stays finite


# --------------------------------------------------------------------------------------------------
# Input checks
# --------------------------------------------------------------------------------------------------


def _number(value, name: str, fn: str, low: float, high: float = math.inf, open_: bool = False):
    """``value`` as a float in ``[low, high]`` (``(low, high)`` when ``open_``), else a clear error."""
    ok = isinstance(value, (int, float, np.integer, np.floating)) and not isinstance(value, bool)
    number = float(value) if ok else math.nan
    if open_:
        inside = low < number < high
    else:
        inside = low <= number <= high
    if not (math.isfinite(number) and inside):
        span = f"({low:g}, {high:g})" if open_ else f"[{low:g}, {high:g}]"
        raise ValueError(f"{fn}(): {name} must be a finite number in {span}, got {value!r}")
    return number


def _check_rho(rho, fn: str) -> float:
    return _number(rho, "rho", fn, 0.0, 1.0, open_=True)


def _check_weight(weight, fn: str) -> float:
    return _number(weight, "weight", fn, 0.0)


def _codes(h, fn: str, name: str = "h", unit_interval: bool = False) -> np.ndarray:
    """``h`` as a float array ``(n, units)`` with finite values (in [0, 1] when asked)."""
    arr = np.asarray(h, dtype=np.float64)
    if arr.ndim != 2 or arr.shape[0] < 1 or arr.shape[1] < 1:
        raise ValueError(
            f"{fn}(): {name} must be codes of shape (n_images, n_units), got {arr.shape}"
        )
    if not np.isfinite(arr).all():
        raise ValueError(f"{fn}(): {name} contains NaN or infinite values")
    if unit_interval and (arr.min() < 0 or arr.max() > 1):
        raise ValueError(
            f"{fn}(): {name} must hold sigmoid activations in [0, 1], got values in "
            f"[{arr.min():.3g}, {arr.max():.3g}]; use the code layer's outputs, not its logits"
        )
    return arr


# --------------------------------------------------------------------------------------------------
# The penalties (keras.ops: any backend, symbolic or eager)
# --------------------------------------------------------------------------------------------------


def l1_penalty(h):
    """The mean over images of ``sum_j |h_j|``: ``h`` is ``(batch, units)``; returns a scalar."""
    return ops.mean(ops.sum(ops.abs(h), axis=-1))


def kl_penalty(h, rho: float):
    """``sum_j KL(rho || rho_hat_j)`` between Bernoulli rates, ``rho_hat_j = mean_batch h_j``.

    ``KL(rho || q) = rho log(rho / q) + (1 - rho) log((1 - rho) / (1 - q))``: zero when every unit
    is active at the rate ``rho`` on average over the batch, growing fast as a unit's mean leaves it.
    ``h`` holds activations in [0, 1], shape ``(batch, units)``; returns a scalar.
    """
    rho = _check_rho(rho, "kl_penalty")
    q = ops.clip(ops.mean(h, axis=0), EPS, 1.0 - EPS)
    return ops.sum(rho * ops.log(rho / q) + (1.0 - rho) * ops.log((1.0 - rho) / (1.0 - q)))


def contractive_penalty(h, kernel):
    """The mean over images of ``||dh/dx||_F^2`` for a sigmoid layer ``h = sigmoid(x @ kernel + b)``.

    The Jacobian's entries are ``dh_j/dx_i = h_j (1 - h_j) W_ij``, so its squared Frobenius norm is
    ``sum_j (h_j (1 - h_j))^2 sum_i W_ij^2``: one product per image, no Jacobian built.

    Args:
        h: the layer's activations, ``(batch, units)``.
        kernel: its weights ``W``, ``(inputs, units)``.
    """
    column_norms = ops.sum(ops.square(kernel), axis=0)  # (units,)
    slope = ops.square(h * (1.0 - h))  # (batch, units)
    return ops.mean(ops.sum(slope * column_norms, axis=-1))


# --------------------------------------------------------------------------------------------------
# The code layer and the autoencoder
# --------------------------------------------------------------------------------------------------


@keras.saving.register_keras_serializable(package="aelib")
class SigmoidCode(keras.layers.Dense):
    """A sigmoid ``Dense`` layer whose activations are the code, with an optional penalty on them.

    The layer adds ``weight * penalty`` to the model's losses on every call (training and
    evaluation alike, so ``val_loss`` is the same objective as ``loss``):

    - ``"none"``: nothing (a plain autoencoder);
    - ``"l1"``: :func:`l1_penalty` of the activations;
    - ``"kl"``: :func:`kl_penalty` of the activations with target rate ``rho``;
    - ``"contractive"``: :func:`contractive_penalty` of the activations and the kernel.

    Input ``(batch, inputs)``, output ``(batch, units)`` in (0, 1).
    """

    def __init__(self, units, penalty="none", weight=0.0, rho=0.05, **kwargs):
        kwargs.pop("activation", None)  # always a sigmoid: the closed forms depend on it
        units = _validate.integer(units, "units", "SigmoidCode", minimum=1)
        super().__init__(units, activation="sigmoid", **kwargs)
        self.penalty = _validate.choice(penalty, "penalty", "SigmoidCode", PENALTIES)
        self.weight = _check_weight(weight, "SigmoidCode")
        self.rho = _check_rho(rho, "SigmoidCode")

    def call(self, inputs, training=None):
        h = super().call(inputs)
        if self.penalty != "none" and self.weight > 0:
            if self.penalty == "l1":
                value = l1_penalty(h)
            elif self.penalty == "kl":
                value = kl_penalty(h, self.rho)
            else:
                value = contractive_penalty(h, self.kernel)
            self.add_loss(self.weight * value)
        return h

    def get_config(self):
        config = super().get_config()
        config.pop("activation", None)
        return {**config, "penalty": self.penalty, "weight": self.weight, "rho": self.rho}


def autoencoder(
    input_shape=(28, 28, 1),
    code_size: int = 1024,
    penalty: str = "none",
    weight: float = 0.0,
    rho: float = 0.05,
    noise: float = 0.0,
    name: str | None = None,
):
    """A one-hidden-layer autoencoder whose hidden layer is a :class:`SigmoidCode`.

    Encoder: flatten, then ``SigmoidCode(code_size, penalty, weight, rho)`` named ``"code"``.
    Decoder: one sigmoid ``Dense`` layer back to the pixels (named ``"pixels"``), reshaped to the
    image. With ``noise > 0`` the model adds Gaussian noise of that standard deviation to its input
    while training (a denoising autoencoder); the encoder and decoder are the same either way.

    Args:
        input_shape: ``(h, w, c)`` of one image.
        code_size: the code's width; wider than ``h * w * c`` makes the model overcomplete.
        penalty: ``"none"``, ``"l1"``, ``"kl"`` or ``"contractive"``.
        weight: the penalty's weight (``>= 0``).
        rho: the target mean activation of the ``"kl"`` penalty, in (0, 1).
        noise: the standard deviation of the training noise (``>= 0``; 0: none).
        name: the model's name (default: from the penalty).

    Returns:
        ``keras.Model`` mapping ``(batch, h, w, c)`` to the same shape, with sub-models
        ``"encoder"`` (to ``(batch, code_size)``, values in (0, 1)) and ``"decoder"``.
    """
    fn = "autoencoder"
    shape = _validate.shape(input_shape, fn)
    code_size = _validate.integer(code_size, "code_size", fn, minimum=1)
    _validate.choice(penalty, "penalty", fn, PENALTIES)
    weight = _check_weight(weight, fn)
    rho = _check_rho(rho, fn)
    noise = _number(noise, "noise", fn, 0.0)
    layers = keras.layers
    n_pixels = int(np.prod(shape))

    enc_in = keras.Input(shape=shape, name="image")
    h = layers.Flatten(name="flatten")(enc_in)
    code = SigmoidCode(code_size, penalty=penalty, weight=weight, rho=rho, name="code")(h)
    encoder = keras.Model(enc_in, code, name="encoder")

    dec_in = keras.Input(shape=(code_size,), name="code_in")
    pixels = layers.Dense(n_pixels, activation="sigmoid", name="pixels")(dec_in)
    decoder = keras.Model(dec_in, layers.Reshape(shape, name="to_image")(pixels), name="decoder")

    inputs = keras.Input(shape=shape, name="image")
    x = layers.GaussianNoise(noise, name="input_noise")(inputs) if noise > 0 else inputs
    default = f"{penalty}_autoencoder" if noise == 0 else "denoising_autoencoder"
    return keras.Model(inputs, decoder(encoder(x)), name=name or default)


def code_layer(model) -> SigmoidCode:
    """The :class:`SigmoidCode` layer of a model built by :func:`autoencoder` (or of its encoder)."""
    if not isinstance(model, keras.Model):
        raise TypeError(f"code_layer(): model must be a keras.Model, got {type(model).__name__}")
    encoder = model.get_layer("encoder") if "encoder" in [m.name for m in model.layers] else model
    layer = encoder.get_layer("code")
    if not isinstance(layer, SigmoidCode):
        raise ValueError(
            f"code_layer(): the layer 'code' of {model.name!r} is a {type(layer).__name__}, not a "
            "SigmoidCode; build the model with aelib.regularized.autoencoder"
        )
    return layer


def _run(model, x, batch_size: int) -> np.ndarray:
    # Direct calls in batches: for these small models that is faster than ``predict``, which
    # builds a new compiled function for every model.
    x = np.asarray(x, dtype=np.float32)
    batch_size = _validate.integer(batch_size, "batch_size", "encode", minimum=1)
    parts = [
        np.asarray(model(x[i : i + batch_size], training=False))
        for i in range(0, len(x), batch_size)
    ]
    return np.concatenate(parts) if parts else np.zeros((0, *model.output_shape[1:]), np.float32)


def encode(model, x, batch_size: int = 1000) -> np.ndarray:
    """The codes ``(n, code_size)`` of images ``x`` through ``model``'s encoder (no noise)."""
    encoder = model.get_layer("encoder") if "encoder" in [m.name for m in model.layers] else model
    return _run(encoder, x, batch_size)


def reconstruct(model, x, batch_size: int = 1000) -> np.ndarray:
    """The reconstructions of images ``x`` (the model without its training noise), ``x``'s shape."""
    return _run(model, x, batch_size)


# --------------------------------------------------------------------------------------------------
# Measures
# --------------------------------------------------------------------------------------------------


def jacobian_norm(model, x, batch_size: int = 1000) -> np.ndarray:
    """``||dh/dx||_F`` per image (shape ``(n,)``) of a :class:`SigmoidCode` encoder, in closed form."""
    layer = code_layer(model)
    h = encode(model, x, batch_size).astype(np.float64)
    column_norms = np.sum(np.asarray(layer.kernel, dtype=np.float64) ** 2, axis=0)
    return np.sqrt(np.sum((h * (1 - h)) ** 2 * column_norms, axis=-1))


def autodiff_jacobian(fn, x) -> np.ndarray:
    """The Jacobian of ``fn`` at each row of ``x`` by the backend's automatic differentiation.

    Args:
        fn: maps a batch ``(n, *input)`` to a batch ``(n, outputs)`` (an encoder, a layer), each row
            depending on its own input only.
        x: inputs ``(n, *input)``.

    Returns:
        ``(n, outputs, prod(input))`` float array: ``J[k, j, i] = d fn(x)[k, j] / d x[k, i]``.

    Raises:
        ValueError: ``x`` is empty or not finite.
        NotImplementedError: a Keras backend other than TensorFlow, JAX or PyTorch.
    """
    x = np.asarray(x, dtype=np.float32)
    if x.ndim < 2 or len(x) == 0 or not np.isfinite(x).all():
        raise ValueError(
            f"autodiff_jacobian(): x must be a finite batch (n, ...) with n >= 1, got {x.shape}"
        )
    backend = keras.backend.backend()
    if backend == "tensorflow":
        import tensorflow as tf

        xt = tf.convert_to_tensor(x)
        with tf.GradientTape() as tape:
            tape.watch(xt)
            out = fn(xt)
        jac = tape.batch_jacobian(out, xt).numpy()
    elif backend == "jax":  # pragma: no cover - exercised on a JAX install
        import jax

        jac = np.asarray(jax.vmap(jax.jacrev(lambda row: fn(row[None])[0]))(x))
    elif backend == "torch":  # pragma: no cover - exercised on a PyTorch install
        import torch

        rows = [
            torch.autograd.functional.jacobian(lambda r: fn(r[None])[0], torch.as_tensor(r))
            for r in x
        ]
        jac = np.stack([r.detach().cpu().numpy() for r in rows])
    else:  # pragma: no cover
        raise NotImplementedError(f"autodiff_jacobian(): no Jacobian for backend {backend!r}")
    return jac.reshape(len(x), jac.shape[1], -1)


def sensitivity(model, x, eps: float = 0.01, seed: int = 0, of: str = "code") -> np.ndarray:
    """How far the output moves per unit of input change: ``||f(x + d) - f(x)|| / ||d||`` per image.

    ``f`` is the encoder (``of="code"``) or the whole autoencoder (``of="reconstruction"``, without
    its training noise). ``d`` is Gaussian noise scaled to norm ``eps * sqrt(pixels)`` (``eps`` is its
    root mean square per pixel), a fresh direction per image, drawn with ``seed``. For small ``eps``
    this is the Jacobian's gain in a random direction, about ``||J||_F / sqrt(pixels)``.
    """
    eps = _number(eps, "eps", "sensitivity", 0.0, open_=True)
    _validate.choice(of, "of", "sensitivity", ("code", "reconstruction"))
    x = np.asarray(x, dtype=np.float32)
    rng = np.random.default_rng(seed)
    d = rng.standard_normal(x.shape).astype(np.float32)
    flat = d.reshape(len(d), -1)
    d *= (eps * math.sqrt(flat.shape[1]) / np.linalg.norm(flat, axis=1)).reshape(
        (-1,) + (1,) * (x.ndim - 1)
    )
    if of == "code":
        f = lambda v: encode(model, v)  # noqa: E731
    else:
        f = lambda v: reconstruct(model, v)  # noqa: E731
    moved = (f(x + d) - f(x)).reshape(len(x), -1)
    return np.linalg.norm(moved, axis=1) / np.linalg.norm(d.reshape(len(d), -1), axis=1)


@dataclass
class Activity:
    """How sparse a set of codes is (``threshold``: the activation above which a unit is "on").

    Attributes:
        mean_activation: the mean of every activation (the KL penalty pulls it towards ``rho``).
        active_per_image: for each image, the fraction of units that are on (population sparsity).
        active_per_unit: for each unit, the fraction of images it is on for (lifetime sparsity).
        dead_units: the fraction of units that are on for no image at all.
    """

    mean_activation: float
    active_per_image: np.ndarray
    active_per_unit: np.ndarray
    dead_units: float


def activity(h, threshold: float = 0.5) -> Activity:
    """Population and lifetime sparsity of codes ``h`` ``(n_images, n_units)`` in [0, 1]."""
    h = _codes(h, "activity", unit_interval=True)
    threshold = _number(threshold, "threshold", "activity", 0.0, 1.0, open_=True)
    on = h > threshold
    per_unit = on.mean(axis=0)
    return Activity(float(h.mean()), on.mean(axis=1), per_unit, float(np.mean(per_unit == 0)))


def linear_probe(
    train: tuple[np.ndarray, np.ndarray],
    val: tuple[np.ndarray, np.ndarray],
    test: tuple[np.ndarray, np.ndarray],
    cs: Sequence[float] = (0.01, 0.1, 1.0, 10.0),
) -> tuple[float, float]:
    """Logistic regression on frozen features, its inverse regularisation ``C`` chosen on ``val``.

    Features are centred on the labelled training images' mean and divided by one common scale (the
    root mean square of their standard deviations), so that one grid of ``C`` fits every kind of
    feature while their geometry is kept (per-feature standardisation would whiten PCA codes and
    magnify rarely used units). For each ``C`` in
    ``cs`` the classifier (L-BFGS, tolerance 1e-3) is fitted on ``train`` and scored on ``val``; the
    best ``C`` (the smallest on ties) is then scored once on ``test``, which decides nothing.

    Args:
        train, val, test: ``(features (n, d), labels (n,))`` pairs, the same ``d`` in each.
        cs: the values of ``C`` to try (each > 0).

    Returns:
        ``(test accuracy, chosen C)``.
    """
    from sklearn.linear_model import LogisticRegression
    from threadpoolctl import threadpool_limits

    fn = "linear_probe"
    parts = {}
    for name, pair in (("train", train), ("val", val), ("test", test)):
        if not (isinstance(pair, (tuple, list)) and len(pair) == 2):
            raise ValueError(f"{fn}(): {name} must be a pair (features, labels), got {type(pair)}")
        z = np.asarray(pair[0], dtype=np.float64).reshape(len(pair[0]), -1)
        y = np.asarray(pair[1])
        if len(z) != len(y) or len(z) == 0:
            raise ValueError(
                f"{fn}(): {name} has {len(z)} feature rows and {len(y)} labels; they must match"
            )
        if not np.isfinite(z).all():
            raise ValueError(f"{fn}(): {name} features contain NaN or infinite values")
        parts[name] = (z, y)
    dims = {name: z.shape[1] for name, (z, _) in parts.items()}
    if len(set(dims.values())) != 1:
        raise ValueError(
            f"{fn}(): train, val and test must have the same feature width, got {dims}"
        )
    if len(np.unique(parts["train"][1])) < 2:
        raise ValueError(f"{fn}(): train needs at least two classes")
    cs = [_number(c, f"cs[{i}]", fn, 0.0, open_=True) for i, c in enumerate(cs)]
    if not cs:
        raise ValueError(f"{fn}(): cs must hold at least one value of C")
    # One common scale for all features, from the labelled training images: a rotation of the
    # features (PCA's basis) leaves the probe unchanged, and rarely active units keep their size.
    mean = parts["train"][0].mean(axis=0)
    scale = float(np.sqrt(parts["train"][0].var(axis=0).mean())) or 1.0
    z_tr, z_va, z_te = ((parts[k][0] - mean) / scale for k in ("train", "val", "test"))
    best = None
    # One BLAS thread: these small solves run about ten times faster than with threads competing
    # with TensorFlow's for two cores.
    with threadpool_limits(limits=1, user_api="blas"):
        for c in sorted(cs):
            clf = LogisticRegression(C=c, max_iter=5_000, tol=1e-3).fit(z_tr, parts["train"][1])
            score = clf.score(z_va, parts["val"][1])
            if best is None or score > best[0]:
                best = (score, c, clf)
        return float(best[2].score(z_te, parts["test"][1])), float(best[1])


def precision_at_k(z, y, k: int = 10, queries: int | None = None, seed: int = 0) -> float:
    """Retrieval: the mean fraction of each query's ``k`` nearest neighbours that share its label.

    Every image of ``z`` (``(n, d)`` codes) is in the database; a query never retrieves itself.
    Distances are Euclidean. ``queries`` (default: all) draws that many query images with ``seed``.
    """
    from sklearn.neighbors import NearestNeighbors

    z = _codes(np.asarray(z).reshape(len(z), -1), "precision_at_k", "z")
    y = np.asarray(y)
    if len(y) != len(z):
        raise ValueError(f"precision_at_k(): z has {len(z)} rows but y has {len(y)} labels")
    k = _validate.integer(k, "k", "precision_at_k", minimum=1, maximum=len(z) - 1)
    idx = np.arange(len(z))
    if queries is not None:
        queries = _validate.integer(queries, "queries", "precision_at_k", minimum=1)
        idx = np.random.default_rng(seed).choice(len(z), size=min(queries, len(z)), replace=False)
    nn = NearestNeighbors(n_neighbors=k + 1).fit(z)
    found = nn.kneighbors(z[idx], return_distance=False)
    hits = []
    for q, row in zip(idx, found, strict=True):
        row = row[row != q][:k]  # drop the query itself
        hits.append(np.mean(y[row] == y[q]))
    return float(np.mean(hits))
