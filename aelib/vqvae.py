"""The vector-quantised autoencoder (VQ-VAE; van den Oord et al. 2017), its codebook, and a prior.

An encoder maps an image to a grid of vectors ``z_e`` (for 28x28 images and two stride-2 layers, a
7x7 grid of ``code_dim`` numbers); :class:`VectorQuantizer` replaces each vector by its nearest
entry of a codebook of ``num_codes`` vectors, and the decoder rebuilds the image from the quantised
grid. The image's code is then 49 integers, each in ``[0, num_codes)``.

Quantisation has no useful gradient, so three pieces make the model trainable (all ``keras.ops``,
any backend):

* :func:`straight_through`: the decoder's gradient is copied to the encoder unchanged,
  ``z_e + stop_gradient(z_q - z_e)``;
* :func:`codebook_loss`: ``mean(||stop_gradient(z_e) - z_q||^2)`` moves each used code towards the
  encoder outputs assigned to it;
* :func:`commitment_loss`: ``mean(||z_e - stop_gradient(z_q)||^2)``, weighted by ``beta``, keeps
  the encoder's outputs near the codes they chose.

With ``ema=True`` the codebook is not trained by gradient: each code is set to an exponential moving
average of the encoder outputs assigned to it (van den Oord et al. 2017, appendix; Razavi et al. 2019),
and only the commitment term is added to the loss.

:class:`VQVAE` is a ``keras.Model`` that overrides ``compute_loss``, so ``fit``, ``evaluate`` and
``validation_data`` work as usual; ``loss = reconstruction + codebook + beta * commitment``, where
``reconstruction`` is the mean squared error divided by ``variance`` (the data's pixel variance
makes it a fraction of what a constant image would cost).

The codebook's health: :func:`perplexity` (``exp`` of the entropy of the code histogram, the number
of equally used codes with the same entropy), :func:`dead_fraction`, :class:`CodebookMonitor` (both
after every epoch) and :func:`restart_dead_codes` / :class:`DeadCodeRestart` (unused codes
re-initialised from encoder outputs).

The prior: :class:`MaskedConv2D` and :func:`pixelcnn_prior` (a small PixelCNN over the code grid, van
den Oord et al. 2016), :func:`prior_nll_bits`, :func:`unigram_bits` (the baseline that ignores the
neighbours) and :func:`sample_prior`.

Judging images: :func:`high_frequency_energy` (a sharpness measure), :func:`classifier` and
:func:`judge` (class distribution and confidence of a classifier trained on real images).

Importing this module registers :class:`VectorQuantizer`, :class:`VQVAE` and :class:`MaskedConv2D`
with Keras, so ``keras.models.load_model(path, safe_mode=True)`` rebuilds a saved ``.keras`` file.
"""

from __future__ import annotations

import math
from collections.abc import Sequence

import keras
import numpy as np
from keras import layers, ops

from . import _validate

LN2 = math.log(2.0)


# --------------------------------------------------------------------------------------------------
# Input checks
# --------------------------------------------------------------------------------------------------


def _codes_array(codes, num_codes: int, fn: str, name: str = "codes") -> np.ndarray:
    """``codes`` as an int64 array of code indices in ``[0, num_codes)`` (any shape, not empty)."""
    arr = np.asarray(codes)
    if arr.size == 0:
        raise ValueError(f"{fn}(): {name} is empty; need at least one code index")
    if arr.dtype.kind not in "iu":
        if arr.dtype.kind == "f" and np.all(np.isfinite(arr)) and np.all(arr == np.round(arr)):
            arr = arr.astype(np.int64)
        else:
            raise ValueError(
                f"{fn}(): {name} must hold integer code indices, got dtype {arr.dtype}"
            )
    lo, hi = int(arr.min()), int(arr.max())
    if lo < 0 or hi >= num_codes:
        raise ValueError(
            f"{fn}(): {name} must lie in [0, {num_codes - 1}] (num_codes={num_codes}), "
            f"got values in [{lo}, {hi}]"
        )
    return arr.astype(np.int64)


def _check_beta(beta, fn: str) -> float:
    return _validate.number(beta, "beta", fn, minimum=0.0)


def _check_decay(decay, fn: str) -> float:
    return _validate.number(decay, "decay", fn, minimum=0.0, maximum=1.0, exclusive=True)


# --------------------------------------------------------------------------------------------------
# Quantisation and its losses (keras.ops: any backend, symbolic or eager)
# --------------------------------------------------------------------------------------------------


def nearest_codes(z, codebook):
    """Index of the nearest codebook vector (Euclidean) for every vector in ``z``.

    Args:
        z: ``(..., code_dim)``.
        codebook: ``(num_codes, code_dim)``.

    Returns:
        int tensor of shape ``z.shape[:-1]``. Uses ``||z||^2 - 2 z.e + ||e||^2``, one matrix product.
    """
    dim = ops.shape(codebook)[-1]
    flat = ops.reshape(z, (-1, dim))
    distances = (
        ops.sum(ops.square(flat), axis=1, keepdims=True)
        - 2.0 * ops.matmul(flat, ops.transpose(codebook))
        + ops.sum(ops.square(codebook), axis=1)[None, :]
    )
    codes = ops.argmin(distances, axis=1)
    return ops.reshape(codes, ops.shape(z)[:-1])


def lookup(codes, codebook):
    """The codebook vectors of integer ``codes`` (any shape): ``codes.shape + (code_dim,)``."""
    return ops.take(codebook, ops.cast(codes, "int32"), axis=0)


def straight_through(z_e, z_q):
    """``z_q`` in the forward pass, the identity in the backward pass: ``z_e + sg(z_q - z_e)``.

    The gradient that reaches the quantised vectors is passed to the encoder's outputs unchanged.
    """
    return z_e + ops.stop_gradient(z_q - z_e)


def codebook_loss(z_e, z_q):
    """``mean(||sg(z_e) - z_q||^2)``: its gradient moves the codes, never the encoder."""
    return ops.mean(ops.square(ops.stop_gradient(z_e) - z_q))


def commitment_loss(z_e, z_q):
    """``mean(||z_e - sg(z_q)||^2)``: its gradient moves the encoder's outputs, never the codes."""
    return ops.mean(ops.square(z_e - ops.stop_gradient(z_q)))


# --------------------------------------------------------------------------------------------------
# The layer
# --------------------------------------------------------------------------------------------------


@keras.saving.register_keras_serializable(package="aelib")
class VectorQuantizer(layers.Layer):
    """Replace each vector of the input by its nearest codebook vector, with a straight-through gradient.

    Input ``(batch, ..., code_dim)``, output the same shape: the quantised vectors in the forward
    pass, with the gradient passed to the input unchanged (:func:`straight_through`). On every call
    the layer adds its loss with ``add_loss``: ``codebook_loss + beta * commitment_loss``, or with
    ``ema=True`` only ``beta * commitment_loss``, because the codebook then follows moving averages
    of the encoder outputs, updated in every training call:

    ``N_k <- decay N_k + (1 - decay) n_k``, ``m_k <- decay m_k + (1 - decay) sum(z_e assigned to k)``,
    ``e_k = m_k / N_k`` (with Laplace smoothing of the counts). The averages start as if each code
    had once been the mean of one vector (``N_k = 1``, ``m_k = e_k``), so an unused code stays put.

    Args:
        num_codes: codebook size ``K`` (>= 2).
        code_dim: length ``D`` of each code vector; the input's last axis.
        beta: weight of the commitment loss (>= 0).
        ema: update the codebook by moving averages instead of by gradient.
        decay: the moving averages' decay, in (0, 1).
        epsilon: Laplace smoothing of the moving counts (> 0).

    Weights: ``codebook`` ``(K, D)`` (trainable unless ``ema``), and with ``ema`` the non-trainable
    ``ema_counts`` ``(K,)`` and ``ema_sums`` ``(K, D)``. The codebook starts uniform in
    ``[-1/K, 1/K]``.
    """

    def __init__(
        self,
        num_codes: int,
        code_dim: int,
        beta: float = 0.25,
        ema: bool = False,
        decay: float = 0.99,
        epsilon: float = 1e-5,
        **kwargs,
    ):
        super().__init__(**kwargs)
        fn = "VectorQuantizer"
        self.num_codes = _validate.integer(num_codes, "num_codes", fn, minimum=2)
        self.code_dim = _validate.integer(code_dim, "code_dim", fn, minimum=1)
        self.beta = _check_beta(beta, fn)
        self.ema = _validate.flag(ema, "ema", fn)
        self.decay = _check_decay(decay, fn)
        self.epsilon = _validate.number(epsilon, "epsilon", fn, minimum=0.0, exclusive=True)

    def build(self, input_shape):
        if input_shape[-1] != self.code_dim:
            raise ValueError(
                f"VectorQuantizer: the input's last axis must be code_dim={self.code_dim}, "
                f"got shape {tuple(input_shape)}"
            )
        k = self.num_codes
        self.codebook = self.add_weight(
            shape=(k, self.code_dim),
            initializer=keras.initializers.RandomUniform(-1.0 / k, 1.0 / k),
            trainable=not self.ema,
            name="codebook",
        )
        if self.ema:
            self.ema_counts = self.add_weight(
                shape=(k,), initializer="ones", trainable=False, name="ema_counts"
            )
            self.ema_sums = self.add_weight(
                shape=(k, self.code_dim), initializer="zeros", trainable=False, name="ema_sums"
            )
            self.ema_sums.assign(self.codebook)

    def nearest(self, z_e):
        """``(z_q, codes)``: the nearest codebook vectors (gradient flows to the codebook, not to
        ``z_e``) and their indices, shapes ``z_e.shape`` and ``z_e.shape[:-1]``."""
        codes = nearest_codes(ops.stop_gradient(z_e), self.codebook)
        return lookup(codes, self.codebook), codes

    def call(self, z_e, training=None):
        z_q, codes = self.nearest(z_e)
        loss = self.beta * commitment_loss(z_e, z_q)
        if not self.ema:
            loss = loss + codebook_loss(z_e, z_q)
        self.add_loss(loss)
        if training and self.ema:
            self._ema_update(z_e, codes)
        return straight_through(z_e, z_q)

    def _ema_update(self, z_e, codes):
        k, d = self.num_codes, self.code_dim
        flat = ops.stop_gradient(ops.reshape(z_e, (-1, d)))
        onehot = ops.one_hot(ops.reshape(codes, (-1,)), k, dtype=flat.dtype)  # (n, K)
        counts = self.decay * self.ema_counts + (1.0 - self.decay) * ops.sum(onehot, axis=0)
        sums = self.decay * self.ema_sums + (1.0 - self.decay) * ops.matmul(
            ops.transpose(onehot), flat
        )
        total = ops.sum(counts)
        smoothed = (counts + self.epsilon) / (total + k * self.epsilon) * total
        self.ema_counts.assign(counts)
        self.ema_sums.assign(sums)
        self.codebook.assign(sums / smoothed[:, None])

    def codes_of(self, z_e):
        """The code indices of encoder outputs ``z_e``: ``z_e.shape[:-1]``."""
        return nearest_codes(z_e, self.codebook)

    def compute_output_shape(self, input_shape):
        return input_shape

    def get_config(self):
        return {
            **super().get_config(),
            "num_codes": self.num_codes,
            "code_dim": self.code_dim,
            "beta": self.beta,
            "ema": self.ema,
            "decay": self.decay,
            "epsilon": self.epsilon,
        }


def restart_dead_codes(quantizer: VectorQuantizer, z_e, seed: int = 0) -> int:
    """Move every code that no vector of ``z_e`` uses onto a randomly chosen vector of ``z_e``.

    A code far from every encoder output never wins a nearest-neighbour search, so neither the
    codebook loss nor the moving averages ever move it: it is dead for good. Placing it on an
    encoder output (one drawn without replacement per dead code, when there are enough) puts it
    where the data are, and it can start to win. With ``ema`` the code's moving averages restart
    too (count 1, sum the new vector).

    Args:
        quantizer: a built :class:`VectorQuantizer`.
        z_e: encoder outputs ``(..., code_dim)``, e.g. ``encoder.predict(x)`` of training images.
        seed: seed of the draw.

    Returns:
        The number of codes re-initialised.
    """
    fn = "restart_dead_codes"
    if not isinstance(quantizer, VectorQuantizer) or not quantizer.built:
        raise TypeError(f"{fn}(): quantizer must be a built VectorQuantizer, got {quantizer!r:.80}")
    vectors = np.asarray(z_e, dtype=np.float32)
    if vectors.ndim < 2 or vectors.shape[-1] != quantizer.code_dim or vectors.size == 0:
        raise ValueError(
            f"{fn}(): z_e must have shape (..., {quantizer.code_dim}) with at least one vector, "
            f"got {vectors.shape}"
        )
    if not np.isfinite(vectors).all():
        raise ValueError(f"{fn}(): z_e contains NaN or infinite values")
    vectors = vectors.reshape(-1, quantizer.code_dim)
    codebook = np.array(quantizer.codebook.numpy())
    used = np.bincount(
        np.asarray(ops.convert_to_numpy(nearest_codes(vectors, codebook))).ravel(),
        minlength=quantizer.num_codes,
    )
    dead = np.flatnonzero(used == 0)
    if len(dead) == 0:
        return 0
    rng = np.random.default_rng(seed)
    picked = vectors[rng.choice(len(vectors), size=len(dead), replace=len(vectors) < len(dead))]
    codebook[dead] = picked
    quantizer.codebook.assign(codebook)
    if quantizer.ema:
        sums = np.array(quantizer.ema_sums.numpy())
        counts = np.array(quantizer.ema_counts.numpy())
        sums[dead], counts[dead] = picked, 1.0
        quantizer.ema_sums.assign(sums)
        quantizer.ema_counts.assign(counts)
    return int(len(dead))


# --------------------------------------------------------------------------------------------------
# The model
# --------------------------------------------------------------------------------------------------


@keras.saving.register_keras_serializable(package="aelib")
class VQVAE(_validate.ImagesOnlyFit, keras.Model):
    """A VQ-VAE: encoder, :class:`VectorQuantizer`, decoder.

    Args:
        encoder: a ``keras.Model`` from images ``(batch, h, w, c)`` to a grid ``(batch, gh, gw, D)``.
        decoder: a ``keras.Model`` from ``(batch, gh, gw, D)`` to images ``(batch, h, w, c)`` in
            [0, 1] (a sigmoid output).
        num_codes, beta, ema, decay: as for :class:`VectorQuantizer` (``D`` is the encoder's).
        variance: the reconstruction term is ``mean squared error / variance``; pass the training
            images' pixel variance to make it a fraction of a constant image's error.

    Calling the model returns a dict: ``z_e`` (the encoder's grid), ``z_q`` (the quantised grid,
    straight-through), ``codes`` (``(batch, gh, gw)`` ints) and ``decoded`` (the images).

    ``fit(x)`` and ``evaluate(x)`` take images only, in [0, 1]. The logs show ``loss``,
    ``reconstruction`` (normalised MSE), ``quantization`` (``mean ||z_e - z_q||^2``, the value of
    both the codebook and the commitment loss) and ``vq_loss`` (what the quantiser adds).
    """

    _model_name = "VQVAE"
    _model_article = "a VQ-VAE"

    def __init__(
        self,
        encoder,
        decoder,
        num_codes: int = 64,
        beta: float = 0.25,
        ema: bool = False,
        decay: float = 0.99,
        variance: float = 1.0,
        **kwargs,
    ):
        super().__init__(**kwargs)
        fn = "VQVAE"
        in_shape = tuple(encoder.input_shape[1:])
        grid = tuple(encoder.output_shape[1:])
        if len(grid) != 3:
            raise ValueError(
                f"{fn}(): encoder must output a grid (batch, height, width, code_dim), got "
                f"{encoder.output_shape}"
            )
        if tuple(decoder.input_shape[1:]) != grid or tuple(decoder.output_shape[1:]) != in_shape:
            raise ValueError(
                f"{fn}(): decoder must map {(None, *grid)} to {(None, *in_shape)}, got "
                f"{decoder.input_shape} -> {decoder.output_shape}"
            )
        self.variance = _validate.number(variance, "variance", fn, minimum=0.0, exclusive=True)
        self.encoder = encoder
        self.decoder = decoder
        self.image_shape = in_shape
        self.grid_shape = grid[:2]
        self.code_dim = int(grid[2])
        self.quantizer = VectorQuantizer(
            num_codes, self.code_dim, beta=beta, ema=ema, decay=decay, name="quantizer"
        )
        self.quantizer.build((None, *grid))
        self.num_codes = self.quantizer.num_codes
        self.reconstruction_tracker = keras.metrics.Mean(name="reconstruction")
        self.quantization_tracker = keras.metrics.Mean(name="quantization")
        self.vq_tracker = keras.metrics.Mean(name="vq_loss")
        self.built = True

    # ---- the forward pass and the loss ----

    def call(self, x, training=None):
        z_e = self.encoder(x, training=training)
        z_q = self.quantizer(z_e, training=training)
        decoded = self.decoder(z_q, training=training)
        codes = self.quantizer.codes_of(ops.stop_gradient(z_e))
        return {"z_e": z_e, "z_q": z_q, "codes": codes, "decoded": decoded}

    def compute_loss(self, x=None, y=None, y_pred=None, sample_weight=None, training=True):
        if sample_weight is not None:
            raise ValueError("VQVAE.compute_loss(): sample_weight is not supported")
        if y_pred is None:
            y_pred = self(x, training=training)
        reconstruction = ops.mean(ops.square(x - y_pred["decoded"])) / self.variance
        vq = ops.sum(self.losses) if self.losses else 0.0
        distance = ops.mean(ops.square(ops.stop_gradient(y_pred["z_e"] - y_pred["z_q"])))
        n = ops.shape(x)[0]
        self.reconstruction_tracker.update_state(reconstruction, sample_weight=n)
        self.quantization_tracker.update_state(distance, sample_weight=n)
        self.vq_tracker.update_state(vq, sample_weight=n)
        return reconstruction + vq

    # ---- fit and evaluate take images only, checked up front (_validate.ImagesOnlyFit) ----

    def _checked(self, x, fn: str, arg: str = "x"):
        arr = _validate.images(np.asarray(x), fn, arg)
        if tuple(arr.shape[1:]) != self.image_shape:
            raise ValueError(
                f"{fn}(): {arg} must have shape (n, {', '.join(map(str, self.image_shape))}), "
                f"got {arr.shape}"
            )
        return arr.astype(np.float32, copy=False)

    # ---- NumPy conveniences (direct calls in batches: faster than predict for small models) ----

    def _batched(self, fn, x, batch_size: int) -> np.ndarray:
        batch_size = _validate.integer(batch_size, "batch_size", "VQVAE", minimum=1)
        parts = [
            np.asarray(ops.convert_to_numpy(fn(x[i : i + batch_size])))
            for i in range(0, len(x), batch_size)
        ]
        return np.concatenate(parts)

    def encode(self, x, batch_size: int = 1000) -> np.ndarray:
        """The encoder's grids ``z_e`` of images ``x``: ``(n, gh, gw, D)``."""
        x = self._checked(x, "VQVAE.encode")
        return self._batched(lambda b: self.encoder(b, training=False), x, batch_size)

    def encode_codes(self, x, batch_size: int = 1000) -> np.ndarray:
        """The code grids of images ``x``: ``(n, gh, gw)`` int64 in ``[0, num_codes)``."""
        x = self._checked(x, "VQVAE.encode_codes")
        return self._batched(
            lambda b: self.quantizer.codes_of(self.encoder(b, training=False)), x, batch_size
        ).astype(np.int64)

    def decode_codes(self, codes, batch_size: int = 1000) -> np.ndarray:
        """Images ``(n, h, w, c)`` in [0, 1] decoded from code grids ``(n, gh, gw)``."""
        codes = _codes_array(codes, self.num_codes, "VQVAE.decode_codes")
        if codes.ndim != 3 or tuple(codes.shape[1:]) != self.grid_shape:
            raise ValueError(
                f"VQVAE.decode_codes(): codes must have shape (n, {self.grid_shape[0]}, "
                f"{self.grid_shape[1]}), got {codes.shape}"
            )
        return self._batched(
            lambda b: self.decoder(lookup(b, self.quantizer.codebook), training=False),
            codes,
            batch_size,
        )

    def reconstruct(self, x, batch_size: int = 1000) -> np.ndarray:
        """Images ``x`` through encoder, quantiser and decoder: ``(n, h, w, c)`` in [0, 1]."""
        x = self._checked(x, "VQVAE.reconstruct")
        return self._batched(lambda b: self(b, training=False)["decoded"], x, batch_size)

    @property
    def bits_per_image(self) -> float:
        """The code's length at a fixed cost per position: ``gh * gw * log2(num_codes)`` bits."""
        return float(self.grid_shape[0] * self.grid_shape[1] * math.log2(self.num_codes))

    # ---- serialization ----

    def get_config(self):
        q = self.quantizer
        return {
            **super().get_config(),
            "encoder": keras.saving.serialize_keras_object(self.encoder),
            "decoder": keras.saving.serialize_keras_object(self.decoder),
            "num_codes": q.num_codes,
            "beta": q.beta,
            "ema": q.ema,
            "decay": q.decay,
            "variance": self.variance,
        }

    @classmethod
    def from_config(cls, config, custom_objects=None):
        config = dict(config)
        config["encoder"] = keras.saving.deserialize_keras_object(config["encoder"], custom_objects)
        config["decoder"] = keras.saving.deserialize_keras_object(config["decoder"], custom_objects)
        return cls(**config)


def vq_encoder(
    input_shape=(28, 28, 1),
    code_dim: int = 16,
    filters: Sequence[int] = (32, 64),
    name: str = "encoder",
):
    """Stride-2 3x3 convolutions (ReLU), one per entry of ``filters``, then a linear 1x1 convolution
    to ``code_dim`` channels: ``(batch, h, w, c)`` to ``(batch, h / 2^L, w / 2^L, code_dim)``."""
    fn = "vq_encoder"
    shape = _validate.shape(input_shape, fn)
    code_dim = _validate.integer(code_dim, "code_dim", fn, minimum=1)
    filters, _ = _validate.halving_filters(filters, shape, fn)
    inputs = keras.Input(shape=shape, name="image")
    h = inputs
    for i, f in enumerate(filters):
        h = layers.Conv2D(f, 3, strides=2, padding="same", activation="relu", name=f"enc_conv_{i}")(
            h
        )
    z_e = layers.Conv2D(code_dim, 1, name="to_code_dim")(h)
    return keras.Model(inputs, z_e, name=name)


def vq_decoder(
    output_shape=(28, 28, 1),
    code_dim: int = 16,
    filters: Sequence[int] = (64, 32),
    name: str = "decoder",
):
    """The mirror of :func:`vq_encoder`: a 3x3 convolution to ``filters[0]`` channels on the grid,
    stride-2 transposed convolutions (ReLU) through the rest of ``filters``, and a last stride-2
    transposed convolution to the image's channels with a sigmoid: ``(batch, gh, gw, code_dim)``
    to ``(batch, h, w, c)`` in [0, 1]."""
    fn = "vq_decoder"
    shape = _validate.shape(output_shape, fn)
    code_dim = _validate.integer(code_dim, "code_dim", fn, minimum=1)
    filters, (gh, gw) = _validate.halving_filters(filters, shape, fn)
    inputs = keras.Input(shape=(gh, gw, code_dim), name="z_q")
    h = layers.Conv2D(filters[0], 3, padding="same", activation="relu", name="dec_conv")(inputs)
    for i, f in enumerate(filters[1:]):
        h = layers.Conv2DTranspose(
            f, 3, strides=2, padding="same", activation="relu", name=f"dec_deconv_{i}"
        )(h)
    out = layers.Conv2DTranspose(
        shape[2], 3, strides=2, padding="same", activation="sigmoid", name="pixels"
    )(h)
    return keras.Model(inputs, out, name=name)


def build_vqvae(
    input_shape=(28, 28, 1),
    num_codes: int = 64,
    code_dim: int = 16,
    filters: Sequence[int] = (32, 64),
    beta: float = 0.25,
    ema: bool = False,
    decay: float = 0.99,
    variance: float = 1.0,
    name: str = "vqvae",
) -> VQVAE:
    """A :class:`VQVAE` with :func:`vq_encoder` and the mirrored :func:`vq_decoder` (not compiled).

    For 28x28 images and two filters the code grid is 7x7. Compile with an optimizer only, e.g.
    ``model.compile(keras.optimizers.Adam(1e-3))``.
    """
    filters = _validate.integers(filters, "filters", "build_vqvae", minimum=1)
    enc = vq_encoder(input_shape, code_dim, filters)
    dec = vq_decoder(input_shape, code_dim, tuple(reversed(filters)))
    return VQVAE(
        enc, dec, num_codes=num_codes, beta=beta, ema=ema, decay=decay, variance=variance, name=name
    )


# --------------------------------------------------------------------------------------------------
# The codebook's health
# --------------------------------------------------------------------------------------------------


def code_usage(codes, num_codes: int) -> np.ndarray:
    """How often each code is used in ``codes`` (any shape of indices): ``(num_codes,)`` counts."""
    num_codes = _validate.integer(num_codes, "num_codes", "code_usage", minimum=1)
    arr = _codes_array(codes, num_codes, "code_usage")
    return np.bincount(arr.ravel(), minlength=num_codes)


def perplexity(codes, num_codes: int) -> float:
    """``exp(H)`` of the code histogram, ``H = -sum p_k log p_k``: between 1 (one code for
    everything) and ``num_codes`` (every code equally often)."""
    num_codes = _validate.integer(num_codes, "num_codes", "perplexity", minimum=1)
    counts = code_usage(codes, num_codes).astype(np.float64)
    p = counts[counts > 0] / counts.sum()
    return float(np.exp(-np.sum(p * np.log(p))))


def dead_fraction(codes, num_codes: int) -> float:
    """The fraction of the ``num_codes`` codes that ``codes`` never uses."""
    num_codes = _validate.integer(num_codes, "num_codes", "dead_fraction", minimum=1)
    return float(np.mean(code_usage(codes, num_codes) == 0))


def _check_vqvae(model, fn: str) -> VQVAE:
    if not isinstance(model, VQVAE):
        raise TypeError(f"{fn}: the model must be an aelib.vqvae.VQVAE, got {type(model).__name__}")
    return model


class CodebookMonitor(keras.callbacks.Callback):
    """Record the codebook's perplexity and dead fraction on fixed images, before training and
    after every epoch. ``monitor.perplexity`` and ``monitor.dead`` are lists (the first entry is
    the untrained model's); the images should be held out (validation images)."""

    def __init__(self, x):
        super().__init__()
        self.x = _validate.images(np.asarray(x, dtype=np.float32), "CodebookMonitor")
        self.perplexity: list[float] = []
        self.dead: list[float] = []

    def _measure(self):
        model = _check_vqvae(self.model, "CodebookMonitor")
        codes = model.encode_codes(self.x)
        self.perplexity.append(perplexity(codes, model.num_codes))
        self.dead.append(dead_fraction(codes, model.num_codes))

    def on_train_begin(self, logs=None):
        if not self.perplexity:
            self._measure()

    def on_epoch_end(self, epoch, logs=None):
        self._measure()


class DeadCodeRestart(keras.callbacks.Callback):
    """Re-initialise dead codes (:func:`restart_dead_codes`) at the end of every epoch but the last.

    Usage is counted on ``n_images`` training images drawn afresh each time; a code that none of
    their ``n_images * gh * gw`` vectors uses is moved onto one of them. The last epoch is left
    alone so that the decoder has trained on every code the final model can emit.
    ``restarted`` holds the number of codes moved at each restart.
    """

    def __init__(self, x, n_images: int = 1000, seed: int = 0):
        super().__init__()
        self.x = _validate.images(np.asarray(x, dtype=np.float32), "DeadCodeRestart")
        self.n_images = _validate.integer(n_images, "n_images", "DeadCodeRestart", minimum=1)
        self.seed = seed
        self.restarted: list[int] = []

    def on_epoch_end(self, epoch, logs=None):
        model = _check_vqvae(self.model, "DeadCodeRestart")
        epochs = (self.params or {}).get("epochs")
        if epochs is not None and epoch + 1 >= epochs:
            return
        rng = np.random.default_rng(self.seed + epoch)
        idx = rng.choice(len(self.x), size=min(self.n_images, len(self.x)), replace=False)
        z_e = model.encode(self.x[np.sort(idx)])
        self.restarted.append(
            restart_dead_codes(model.quantizer, z_e, seed=self.seed + 1000 + epoch)
        )


# --------------------------------------------------------------------------------------------------
# The prior: a small PixelCNN over the code grid
# --------------------------------------------------------------------------------------------------


def pixelcnn_mask(kernel_size: int, in_channels: int, filters: int, mask_type: str) -> np.ndarray:
    """The PixelCNN mask of a ``kernel_size`` square kernel: 1 where the output may look.

    A position sees the rows above it and, in its own row, the positions to its left; type ``"B"``
    also sees itself (its own features, computed from earlier positions only), type ``"A"`` (the
    first layer, which reads the codes themselves) does not. Shape
    ``(kernel_size, kernel_size, in_channels, filters)``.
    """
    fn = "pixelcnn_mask"
    k = _validate.integer(kernel_size, "kernel_size", fn, minimum=1)
    _validate.choice(mask_type, "mask_type", fn, ("A", "B"))
    mask = np.zeros((k, k), dtype=np.float32)
    c = k // 2
    mask[:c, :] = 1.0
    mask[c, : c + (1 if mask_type == "B" else 0)] = 1.0
    return np.broadcast_to(mask[:, :, None, None], (k, k, in_channels, filters)).copy()


@keras.saving.register_keras_serializable(package="aelib")
class MaskedConv2D(layers.Conv2D):
    """A ``Conv2D`` ("same" padding, odd square kernel, stride 1) whose kernel is multiplied by the
    PixelCNN mask (:func:`pixelcnn_mask`), so each output position depends only on the positions
    before it in raster order (type ``"A"``) or on those and itself (type ``"B"``)."""

    def __init__(self, filters, kernel_size, mask_type: str = "B", **kwargs):
        fn = "MaskedConv2D"
        mask_type = _validate.choice(mask_type, "mask_type", fn, ("A", "B"))
        if isinstance(kernel_size, (tuple, list)):
            if len(kernel_size) != 2 or kernel_size[0] != kernel_size[1]:
                raise ValueError(f"{fn}(): kernel_size must be square, got {kernel_size!r}")
            kernel_size = kernel_size[0]
        size = _validate.integer(kernel_size, "kernel_size", fn, minimum=1)
        if size % 2 == 0:
            raise ValueError(f"{fn}(): kernel_size must be odd, got {size}")
        kwargs["padding"] = "same"
        kwargs.pop("strides", None)
        super().__init__(filters, size, **kwargs)
        self.mask_type = mask_type

    def build(self, input_shape):
        super().build(input_shape)
        self._mask = pixelcnn_mask(
            self.kernel_size[0], int(input_shape[-1]), self.filters, self.mask_type
        )

    def call(self, inputs):
        outputs = self.convolution_op(inputs, self.kernel * self._mask)
        if self.use_bias:
            outputs = ops.add(outputs, ops.reshape(self.bias, (1, 1, 1, self.filters)))
        if self.activation is not None:
            return self.activation(outputs)
        return outputs

    def get_config(self):
        config = super().get_config()
        config.pop("strides", None)
        config.pop("padding", None)
        return {**config, "mask_type": self.mask_type}


def pixelcnn_prior(
    grid_shape=(7, 7),
    num_codes: int = 64,
    filters: int = 64,
    hidden_layers: int = 3,
    embed_dim: int = 32,
    name: str = "pixelcnn_prior",
):
    """A small PixelCNN over code grids: ``(batch, gh, gw)`` ints to ``(batch, gh, gw, num_codes)``
    logits of ``p(code at each position | the codes before it in raster order)``.

    An embedding of each code, a 5x5 type-"A" masked convolution, ``hidden_layers`` residual 3x3
    type-"B" masked convolutions (ReLU), and two 1x1 convolutions. Train it with
    ``SparseCategoricalCrossentropy(from_logits=True)`` on code grids as input and target.
    """
    fn = "pixelcnn_prior"
    if (
        isinstance(grid_shape, (str, bytes))
        or not isinstance(grid_shape, Sequence)
        or len(grid_shape) != 2
    ):
        raise ValueError(f"{fn}(): grid_shape must be (height, width), got {grid_shape!r}")
    gh, gw = _validate.integers(grid_shape, "grid_shape", fn, minimum=1)
    num_codes = _validate.integer(num_codes, "num_codes", fn, minimum=2)
    filters = _validate.integer(filters, "filters", fn, minimum=1)
    hidden_layers = _validate.integer(hidden_layers, "hidden_layers", fn, minimum=0)
    embed_dim = _validate.integer(embed_dim, "embed_dim", fn, minimum=1)
    inputs = keras.Input(shape=(gh, gw), dtype="int32", name="codes")
    h = layers.Embedding(num_codes, embed_dim, name="embed")(inputs)
    h = MaskedConv2D(filters, 5, mask_type="A", activation="relu", name="masked_a")(h)
    for i in range(hidden_layers):
        r = MaskedConv2D(filters, 3, mask_type="B", activation="relu", name=f"masked_b_{i}")(h)
        h = layers.Add(name=f"residual_{i}")([h, r])
    h = layers.Conv2D(filters, 1, activation="relu", name="mix")(h)
    logits = layers.Conv2D(num_codes, 1, name="logits")(h)
    return keras.Model(inputs, logits, name=name)


def _prior_codes(prior, codes, fn: str) -> np.ndarray:
    grid = tuple(prior.input_shape[1:])
    num_codes = int(prior.output_shape[-1])
    arr = _codes_array(codes, num_codes, fn)
    if arr.ndim != 3 or tuple(arr.shape[1:]) != grid:
        raise ValueError(
            f"{fn}(): codes must have shape (n, {grid[0]}, {grid[1]}), got {arr.shape}"
        )
    return arr.astype(np.int32)


def prior_nll_bits(prior, codes, batch_size: int = 500) -> np.ndarray:
    """``-log2 p(code)`` per grid under the prior, divided by the grid's positions: bits per code,
    shape ``(n,)``. Uniform guessing costs ``log2(num_codes)``."""
    codes = _prior_codes(prior, codes, "prior_nll_bits")
    out = []
    for i in range(0, len(codes), batch_size):
        b = codes[i : i + batch_size]
        logits = prior(b, training=False)
        log_p = ops.convert_to_numpy(ops.log_softmax(logits, axis=-1))
        picked = np.take_along_axis(log_p, b[..., None].astype(np.int64), axis=-1)[..., 0]
        out.append(-picked.reshape(len(b), -1).mean(axis=1) / LN2)
    return np.concatenate(out)


def unigram_bits(train_codes, test_codes, num_codes: int) -> float:
    """Bits per code of ``test_codes`` under the code frequencies of ``train_codes`` (add-one
    smoothing): the best a prior can do that ignores the neighbours."""
    num_codes = _validate.integer(num_codes, "num_codes", "unigram_bits", minimum=2)
    counts = code_usage(train_codes, num_codes) + 1.0
    p = counts / counts.sum()
    test = _codes_array(test_codes, num_codes, "unigram_bits", "test_codes")
    return float(-np.mean(np.log2(p[test.ravel()])))


def sample_prior(prior, n: int, seed: int = 0, temperature: float = 1.0) -> np.ndarray:
    """Draw ``n`` code grids from the prior, one position at a time in raster order.

    Returns ``(n, gh, gw)`` int64. ``temperature`` divides the logits (1: the model's distribution).
    """
    fn = "sample_prior"
    n = _validate.integer(n, "n", fn, minimum=1)
    temperature = _validate.number(temperature, "temperature", fn, minimum=0.0, exclusive=True)
    gh, gw = tuple(prior.input_shape[1:])
    rng = np.random.default_rng(seed)
    grid = np.zeros((n, gh, gw), dtype=np.int32)
    for r in range(gh):
        for c in range(gw):
            logits = np.asarray(ops.convert_to_numpy(prior(grid, training=False)))[:, r, c]
            logits = logits.astype(np.float64) / temperature
            p = np.exp(logits - logits.max(axis=1, keepdims=True))
            p /= p.sum(axis=1, keepdims=True)
            u = rng.random((n, 1))
            grid[:, r, c] = np.minimum((p.cumsum(axis=1) < u).sum(axis=1), p.shape[1] - 1)
    return grid.astype(np.int64)


# --------------------------------------------------------------------------------------------------
# Judging images: sharpness and a classifier
# --------------------------------------------------------------------------------------------------


def high_frequency_energy(images, cutoff: float = 0.25) -> np.ndarray:
    """The mean square of each image's detail finer than ``cutoff`` cycles per pixel.

    The power of the 2-D DFT at radial frequencies above ``cutoff`` (``0.25``: periods shorter than
    4 pixels), scaled by Parseval so that it is the mean square (grey levels squared) of the
    image's high-pass part. Blur removes exactly this part; divide by the real images' value to get
    the fraction of their fine detail that a model keeps.

    Args:
        images: ``(n, h, w)`` or ``(n, h, w, c)``.
        cutoff: in cycles per pixel, in (0, 0.5].

    Returns:
        ``(n,)``.
    """
    fn = "high_frequency_energy"
    cutoff = _validate.number(cutoff, "cutoff", fn, minimum=0.0, maximum=0.5)
    if cutoff == 0:
        raise ValueError(f"{fn}(): cutoff must be > 0, got {cutoff!r}")
    from .spectra import power_spectrum, radial_frequency

    power = power_spectrum(images, centered=True)
    h, w = power.shape[1:]
    high = radial_frequency(h, w) > cutoff
    return power[:, high].sum(axis=1) / (h * w) ** 2


def classifier(input_shape=(28, 28, 1), n_classes: int = 10, name: str = "classifier"):
    """A small convolutional classifier (two conv + pool blocks, one dense layer, softmax).

    Compile with ``sparse_categorical_crossentropy``; trained on real images it judges generated
    ones (:func:`judge`).
    """
    fn = "classifier"
    shape = _validate.shape(input_shape, fn)
    n_classes = _validate.integer(n_classes, "n_classes", fn, minimum=2)
    inputs = keras.Input(shape=shape, name="image")
    h = layers.Conv2D(16, 3, padding="same", activation="relu", name="conv_0")(inputs)
    h = layers.MaxPooling2D(name="pool_0")(h)
    h = layers.Conv2D(32, 3, padding="same", activation="relu", name="conv_1")(h)
    h = layers.MaxPooling2D(name="pool_1")(h)
    h = layers.Flatten(name="flatten")(h)
    h = layers.Dense(64, activation="relu", name="dense")(h)
    out = layers.Dense(n_classes, activation="softmax", name="probabilities")(h)
    return keras.Model(inputs, out, name=name)


def judge(model, images, batch_size: int = 1000) -> dict:
    """What a classifier trained on real images says about ``images`` (e.g. generated samples).

    Returns a dict: ``probabilities`` ``(n, classes)``, ``predicted`` ``(n,)``, ``histogram`` (the
    fraction of images given to each class), ``class_entropy_bits`` (entropy of that histogram:
    ``log2(classes)`` when every class is equally common, 0 when one class takes all),
    ``confidence`` (the mean of each image's largest probability) and ``confident`` (the fraction
    of images with a largest probability above 0.9).
    """
    fn = "judge"
    x = _validate.images(np.asarray(images, dtype=np.float32), fn, "images")
    batch_size = _validate.integer(batch_size, "batch_size", fn, minimum=1)
    probs = np.concatenate(
        [
            np.asarray(ops.convert_to_numpy(model(x[i : i + batch_size], training=False)))
            for i in range(0, len(x), batch_size)
        ]
    ).astype(np.float64)
    n_classes = probs.shape[1]
    predicted = probs.argmax(axis=1)
    hist = np.bincount(predicted, minlength=n_classes) / len(predicted)
    nz = hist[hist > 0]
    top = probs.max(axis=1)
    return {
        "probabilities": probs,
        "predicted": predicted,
        "histogram": hist,
        "class_entropy_bits": float(-np.sum(nz * np.log2(nz))),
        "confidence": float(top.mean()),
        "confident": float(np.mean(top > 0.9)),
    }
