"""The variational autoencoder (Kingma and Welling 2014; Rezende et al. 2014) and how to measure it.

The model is a ``keras.Model`` subclass, :class:`VAE`, that overrides ``compute_loss``, so ``fit``,
``evaluate`` and ``validation_data`` work as for any Keras model. It wraps two sub-models:

* an encoder mapping images ``(batch, h, w, c)`` to the mean and log-variance of a diagonal Gaussian
  posterior ``q(z|x)``, two tensors ``(batch, latent_dim)``;
* a decoder mapping codes ``(batch, latent_dim)`` to an unconstrained image ``(batch, h, w, c)``: the
  logits of a Bernoulli per pixel (``likelihood="bernoulli"``, for binarised images), or the
  pre-sigmoid mean of a Gaussian with one learned or fixed scale (``likelihood="gaussian"``).

Every quantity is in nats per image. ``evaluate`` reports ``loss`` (the negative evidence lower bound,
ELBO, always with weight 1 on the KL term), ``reconstruction`` (the expected negative log-likelihood
``-E_q[log p(x|z)]``) and ``kl`` (``KL(q(z|x) || N(0, I))``). The training loss is
``reconstruction + beta * kl`` with the model's current ``beta`` (the beta-VAE of Higgins et al.
2017), which :class:`KLWarmup` can ramp up from 0 (Bowman et al. 2016; Sonderby et al. 2016).

Measures: :func:`importance_weighted_nll` (the bound of Burda et al. 2015 with ``k`` samples) and
:func:`importance_weighted_summary` (its Monte-Carlo error and its spread over images, kept apart),
:func:`active_units` (Burda et al. 2015's count of latent units the model uses) and
:class:`ActivityMonitor` (that count after every epoch), :func:`sampled_nll` (how well decoded samples
explain held-out images, for a VAE and a plain autoencoder alike) and :func:`gaussian_fit_kl` (how far
a set of codes is from ``N(0, I)``).

Importing this module registers :class:`VAE` and :class:`Sampling` with Keras, which
``keras.models.load_model(path, safe_mode=True)`` needs to rebuild a saved ``.keras`` file.
"""

from __future__ import annotations

import math
from collections.abc import Sequence

import keras
import numpy as np
from keras import layers, ops

from . import _validate, models

LIKELIHOODS = ("bernoulli", "gaussian")
ARCHITECTURES = ("dense", "conv")
LOG_2PI = math.log(2.0 * math.pi)


# --------------------------------------------------------------------------------------------------
# Input checks
# --------------------------------------------------------------------------------------------------


def _check_latent(latent_dim, fn: str) -> int:
    return _validate.integer(latent_dim, "latent_dim", fn, minimum=1)


def _check_widths(widths, what: str, fn: str) -> tuple[int, ...]:
    return _validate.integers(widths, what, fn, minimum=1)


def _check_beta(beta, fn: str) -> float:
    try:
        value = float(beta)
    except (TypeError, ValueError):
        value = float("nan")
    if not math.isfinite(value) or value < 0:
        raise ValueError(f"{fn}(): beta must be a finite number >= 0, got {beta!r}")
    return value


def binarize(x, seed: int = 0, method: str = "sample") -> np.ndarray:
    """Binarise images in [0, 1] to exactly 0.0 or 1.0 (float32, same shape as ``x``).

    Args:
        x: images, any shape, values in [0, 1].
        seed: seed of the draw for ``method="sample"``; the same seed gives the same images.
        method: ``"sample"`` draws each pixel once as Bernoulli(intensity), the usual binarised MNIST
            (Salakhutdinov and Murray 2008); ``"threshold"`` keeps pixels above 0.5.

    Raises:
        ValueError: values outside [0, 1], or an unknown method.
    """
    x = np.asarray(x, dtype=np.float32)
    if method not in ("sample", "threshold"):
        raise ValueError(f"binarize(): method must be 'sample' or 'threshold', got {method!r}")
    if x.size and (not np.isfinite(x).all() or x.min() < 0 or x.max() > 1):
        raise ValueError(
            f"binarize(): x must hold intensities in [0, 1], got values in [{np.nanmin(x)}, {np.nanmax(x)}]"
        )
    if method == "threshold":
        return (x > 0.5).astype(np.float32)
    rng = np.random.default_rng(seed)
    return (rng.random(x.shape, dtype=np.float32) < x).astype(np.float32)


def _as_images(
    x, input_shape: tuple[int, ...], likelihood: str, fn: str, arg: str = "x"
) -> np.ndarray:
    """``x`` as a float32 array ``(n, *input_shape)``, checked for the likelihood."""
    arr = np.asarray(x, dtype=np.float32)
    if arr.ndim != len(input_shape) + 1 or tuple(arr.shape[1:]) != tuple(input_shape):
        raise ValueError(
            f"{fn}(): {arg} must have shape (n, {', '.join(map(str, input_shape))}), got {arr.shape}"
        )
    if not np.isfinite(arr).all():
        raise ValueError(f"{fn}(): {arg} contains NaN or infinite values")
    if likelihood == "bernoulli":
        bad = int(np.count_nonzero((arr != 0) & (arr != 1)))
        if bad:
            raise ValueError(
                f"{fn}(): likelihood='bernoulli' needs binary {arg} (every value 0 or 1), got {bad:,} "
                f"non-binary values in [{arr.min():.3g}, {arr.max():.3g}]; binarise first with "
                "aelib.vae.binarize(x) or build the model with likelihood='gaussian'"
            )
    return arr


# --------------------------------------------------------------------------------------------------
# Layers and the model
# --------------------------------------------------------------------------------------------------


@keras.saving.register_keras_serializable(package="aelib")
class Sampling(layers.Layer):
    """The reparameterisation trick: ``z = mean + exp(log_var / 2) * eps`` with ``eps ~ N(0, I)``.

    The noise comes from outside the parameters, so gradients flow through ``mean`` and ``log_var``.
    Inputs ``[mean, log_var]``, each ``(batch, latent_dim)``; output ``(batch, latent_dim)``. It
    samples in training and in inference alike (an ELBO estimate needs a sample either way).
    """

    def __init__(self, seed: int | None = None, **kwargs):
        super().__init__(**kwargs)
        self.seed = seed
        self.seed_generator = keras.random.SeedGenerator(seed)

    def call(self, inputs):
        mean, log_var = inputs
        eps = keras.random.normal(ops.shape(mean), dtype=mean.dtype, seed=self.seed_generator)
        return mean + ops.exp(0.5 * log_var) * eps

    def compute_output_shape(self, input_shape):
        return input_shape[0]

    def get_config(self):
        return {**super().get_config(), "seed": self.seed}


def gaussian_kl(mean, log_var):
    """``KL(N(mean, diag(exp(log_var))) || N(0, I))`` per example, in nats: shape ``(batch,)``.

    Closed form for diagonal Gaussians: ``0.5 * sum(exp(log_var) + mean**2 - 1 - log_var)``.
    """
    return 0.5 * ops.sum(ops.exp(log_var) + ops.square(mean) - 1.0 - log_var, axis=-1)


def bernoulli_log_likelihood(x, logits):
    """``log p(x | logits)`` of binary images under independent Bernoulli pixels, per example (nats).

    ``x`` and ``logits`` are ``(batch, ...)``; returns ``(batch,)``. Uses ``x * l - softplus(l)``, the
    numerically stable form of ``x log p + (1 - x) log(1 - p)`` with ``p = sigmoid(l)``.
    """
    x = ops.reshape(x, (ops.shape(x)[0], -1))
    logits = ops.reshape(logits, (ops.shape(logits)[0], -1))
    return ops.sum(x * logits - ops.softplus(logits), axis=-1)


def gaussian_log_likelihood(x, mean, log_sigma):
    """``log N(x; mean, exp(log_sigma)**2 I)`` per example in nats: shape ``(batch,)``."""
    x = ops.reshape(x, (ops.shape(x)[0], -1))
    mean = ops.reshape(mean, (ops.shape(mean)[0], -1))
    log_sigma = ops.cast(log_sigma, x.dtype)
    z = (x - mean) * ops.exp(-log_sigma)
    return ops.sum(-0.5 * ops.square(z) - log_sigma - 0.5 * LOG_2PI, axis=-1)


@keras.saving.register_keras_serializable(package="aelib")
class VAE(_validate.ImagesOnlyFit, keras.Model):
    """A variational autoencoder with a diagonal Gaussian posterior and an ``N(0, I)`` prior.

    Args:
        encoder: a ``keras.Model`` from images ``(batch, h, w, c)`` to ``[mean, log_var]``, each
            ``(batch, latent_dim)`` (see :func:`dense_encoder`, :func:`conv_encoder`).
        decoder: a ``keras.Model`` from ``(batch, latent_dim)`` to unconstrained images
            ``(batch, h, w, c)``: Bernoulli logits, or the pre-sigmoid Gaussian mean.
        likelihood: ``"bernoulli"`` (binary images; the default) or ``"gaussian"``.
        beta: weight of the KL term in the training loss (1 is the ELBO; a ``keras.Variable`` that
            :class:`KLWarmup` or you may change between steps).
        sigma: for ``"gaussian"``, a fixed pixel standard deviation, or ``None`` to learn one scalar
            ``log_sigma`` with the rest (a calibrated decoder, Rybkin et al. 2021).
        seed: seed of the sampling layer's generator.

    Calling the model returns a dict of tensors: ``z_mean``, ``z_log_var``, ``z`` (one posterior
    sample each, ``(batch, latent_dim)``) and ``decoded`` (the decoder's output for ``z``).

    ``fit(x)`` and ``evaluate(x)`` take images only (no targets). ``evaluate`` returns ``loss``, the
    negative ELBO (beta 1, whatever beta training used), ``reconstruction`` and ``kl``, all averaged
    over images in nats; ``fit``'s training ``loss`` is ``reconstruction + beta * kl``.
    """

    _model_name = "VAE"
    _model_article = "a VAE"

    def __init__(
        self,
        encoder,
        decoder,
        likelihood: str = "bernoulli",
        beta: float = 1.0,
        sigma: float | None = None,
        seed: int | None = None,
        **kwargs,
    ):
        super().__init__(**kwargs)
        if likelihood not in LIKELIHOODS:
            raise ValueError(f"VAE(): likelihood must be one of {LIKELIHOODS}, got {likelihood!r}")
        beta = _check_beta(beta, "VAE")
        if sigma is not None and (not math.isfinite(float(sigma)) or float(sigma) <= 0):
            raise ValueError(f"VAE(): sigma must be a positive number or None, got {sigma!r}")
        in_shape = tuple(encoder.input_shape[1:])
        if len(encoder.outputs) != 2:
            raise ValueError(
                f"VAE(): encoder must output [mean, log_var], got {len(encoder.outputs)} output(s)"
            )
        latent = encoder.outputs[0].shape[-1]
        if (
            tuple(decoder.input_shape[1:]) != (latent,)
            or tuple(decoder.output_shape[1:]) != in_shape
        ):
            raise ValueError(
                f"VAE(): decoder must map (batch, {latent}) to (batch, {', '.join(map(str, in_shape))}), "
                f"got {decoder.input_shape} -> {decoder.output_shape}"
            )
        self.encoder = encoder
        self.decoder = decoder
        self.likelihood = likelihood
        self.sigma = None if sigma is None else float(sigma)
        self.seed = seed
        self.image_shape = in_shape
        self.latent_dim = int(latent)
        self.sampling = Sampling(seed=seed, name="sampling")
        self.beta = keras.Variable(beta, trainable=False, dtype="float32", name="beta")
        self.log_sigma = None
        if likelihood == "gaussian":
            init = 0.0 if sigma is None else math.log(float(sigma))
            self.log_sigma = self.add_weight(
                shape=(),
                initializer=keras.initializers.Constant(init),
                trainable=sigma is None,
                name="log_sigma",
            )
        self.reconstruction_tracker = keras.metrics.Mean(name="reconstruction")
        self.kl_tracker = keras.metrics.Mean(name="kl")
        self.built = True

    # ---- the forward pass and the loss ----

    def call(self, x, training=None):
        z_mean, z_log_var = self.encoder(x, training=training)
        z = self.sampling([z_mean, z_log_var])
        decoded = self.decoder(z, training=training)
        return {"z_mean": z_mean, "z_log_var": z_log_var, "z": z, "decoded": decoded}

    def log_likelihood(self, x, decoded):
        """``log p(x|z)`` per example (nats), from the decoder's output for ``z``: ``(batch,)``."""
        if self.likelihood == "bernoulli":
            return bernoulli_log_likelihood(x, decoded)
        return gaussian_log_likelihood(x, ops.sigmoid(decoded), self.log_sigma)

    def compute_loss(self, x=None, y=None, y_pred=None, sample_weight=None, training=True):
        if sample_weight is not None:
            raise ValueError("VAE.compute_loss(): sample_weight is not supported")
        if y_pred is None:
            y_pred = self(x, training=training)
        reconstruction = -ops.mean(self.log_likelihood(x, y_pred["decoded"]))
        kl = ops.mean(gaussian_kl(y_pred["z_mean"], y_pred["z_log_var"]))
        n = ops.shape(x)[0]
        self.reconstruction_tracker.update_state(reconstruction, sample_weight=n)
        self.kl_tracker.update_state(kl, sample_weight=n)
        beta = ops.cast(self.beta, kl.dtype) if training else 1.0
        return reconstruction + beta * kl + (ops.sum(self.losses) if self.losses else 0.0)

    # ---- fit and evaluate take images only, checked up front (_validate.ImagesOnlyFit) ----

    def _checked(self, x, fn: str, arg: str = "x"):
        return _as_images(x, self.image_shape, self.likelihood, fn, arg)

    # ---- NumPy conveniences ----

    def encode(self, x, batch_size: int = 1000) -> tuple[np.ndarray, np.ndarray]:
        """Posterior means and log-variances of images ``x`` (n, h, w, c): two arrays ``(n, latent_dim)``."""
        x = _as_images(x, self.image_shape, "any", "VAE.encode")
        mean, log_var = models.predict(self.encoder, x, batch_size)
        return np.asarray(mean), np.asarray(log_var)

    def sample_posterior(self, x, seed: int = 0, batch_size: int = 1000) -> np.ndarray:
        """One draw ``z ~ q(z|x)`` per image: ``(n, latent_dim)``. Over a data set, these are samples
        of the aggregate posterior ``q(z) = E_x[q(z|x)]``."""
        mean, log_var = self.encode(x, batch_size)
        eps = np.random.default_rng(seed).standard_normal(mean.shape).astype(np.float32)
        return mean + np.exp(0.5 * log_var) * eps

    def decode(self, z, batch_size: int = 1000) -> np.ndarray:
        """Images for codes ``z`` (n, latent_dim): Bernoulli probabilities or Gaussian means, in [0, 1]."""
        z = np.asarray(z, dtype=np.float32)
        if z.ndim != 2 or z.shape[1] != self.latent_dim:
            raise ValueError(
                f"VAE.decode(): z must have shape (n, {self.latent_dim}), got {z.shape}"
            )
        out = models.predict(self.decoder, z, batch_size)
        return np.asarray(ops.convert_to_numpy(ops.sigmoid(out)))

    def reconstruct(self, x, batch_size: int = 1000) -> np.ndarray:
        """Decode each image's posterior mean: ``(n, h, w, c)`` in [0, 1] (deterministic)."""
        return self.decode(self.encode(x, batch_size)[0], batch_size)

    def generate(self, n: int, seed: int = 0) -> np.ndarray:
        """Decode ``n`` codes drawn from the prior ``N(0, I)``: ``(n, h, w, c)`` in [0, 1]."""
        n = _validate.integer(n, "n", "VAE.generate", minimum=1)
        z = (
            np.random.default_rng(seed)
            .standard_normal((int(n), self.latent_dim))
            .astype(np.float32)
        )
        return self.decode(z)

    # ---- serialization ----

    def get_config(self):
        return {
            **super().get_config(),
            "encoder": keras.saving.serialize_keras_object(self.encoder),
            "decoder": keras.saving.serialize_keras_object(self.decoder),
            "likelihood": self.likelihood,
            "beta": float(ops.convert_to_numpy(self.beta)),
            "sigma": self.sigma,
            "seed": self.seed,
        }

    @classmethod
    def from_config(cls, config, custom_objects=None):
        config = dict(config)
        config["encoder"] = keras.saving.deserialize_keras_object(config["encoder"], custom_objects)
        config["decoder"] = keras.saving.deserialize_keras_object(config["decoder"], custom_objects)
        return cls(**config)


class KLWarmup(keras.callbacks.Callback):
    """Ramp a :class:`VAE`'s ``beta`` linearly from 0 to its target over the first ``epochs`` epochs.

    Early in training the KL term can push every posterior onto the prior before the decoder has
    learnt to use the code; warming it up lets the reconstruction term shape the code first (Bowman
    et al. 2016; Sonderby et al. 2016). The ramp moves at every batch callback when the number of
    steps per epoch is known, else every epoch; Keras calls batch callbacks once per execution, so
    with ``steps_per_execution=k`` it moves every ``k`` batches. The value in use at the end of
    each epoch is added to the logs as ``beta``; when training ends, ``beta`` is set back to the
    target.

    Args:
        epochs: length of the ramp in epochs (> 0).
        beta: the final weight; default the model's ``beta`` when training starts.
    """

    def __init__(self, epochs: float, beta: float | None = None):
        super().__init__()
        if not isinstance(epochs, (int, float)) or isinstance(epochs, bool) or not epochs > 0:
            raise ValueError(f"KLWarmup(): epochs must be a positive number, got {epochs!r}")
        self.epochs = float(epochs)
        self.target = None if beta is None else _check_beta(beta, "KLWarmup")
        self._epoch = 0

    def _set(self, progress: float) -> None:
        self.model.beta.assign(self._goal * min(1.0, max(0.0, progress)))

    def on_train_begin(self, logs=None):
        if not isinstance(self.model, VAE):
            raise TypeError(
                f"KLWarmup: the model must be an aelib.vae.VAE, got {type(self.model).__name__}"
            )
        self._goal = (
            float(ops.convert_to_numpy(self.model.beta)) if self.target is None else self.target
        )
        self._set(0.0)

    def on_epoch_begin(self, epoch, logs=None):
        self._epoch = epoch
        self._set(epoch / self.epochs)

    def on_train_batch_begin(self, batch, logs=None):
        steps = self.params.get("steps") if self.params else None
        if steps:
            self._set((self._epoch + batch / steps) / self.epochs)

    def on_epoch_end(self, epoch, logs=None):
        if logs is not None:
            logs["beta"] = float(ops.convert_to_numpy(self.model.beta))

    def on_train_end(self, logs=None):
        # The ramp belongs to this call of fit: leave the model with its full beta, also when
        # training stopped before the ramp ended, so that a later fit or save sees the target.
        self._set(1.0)


# --------------------------------------------------------------------------------------------------
# Encoders, decoders and the assembled model
# --------------------------------------------------------------------------------------------------


def dense_encoder(
    input_shape=(28, 28, 1),
    latent_dim: int = 2,
    hidden: Sequence[int] = (512, 256),
    activation: str = "relu",
    name: str = "encoder",
):
    """Flatten, dense ``hidden`` layers, then two linear heads: ``(batch, h, w, c)`` to
    ``[z_mean, z_log_var]``, each ``(batch, latent_dim)``."""
    shape = _validate.shape(input_shape, "dense_encoder")
    latent_dim = _check_latent(latent_dim, "dense_encoder")
    hidden = _check_widths(hidden, "hidden widths", "dense_encoder")
    inputs = keras.Input(shape=shape, name="image")
    h = layers.Flatten(name="flatten")(inputs)
    for i, width in enumerate(hidden):
        h = layers.Dense(width, activation=activation, name=f"enc_dense_{i}")(h)
    mean = layers.Dense(latent_dim, name="z_mean")(h)
    log_var = layers.Dense(latent_dim, name="z_log_var")(h)
    return keras.Model(inputs, [mean, log_var], name=name)


def dense_decoder(
    output_shape=(28, 28, 1),
    latent_dim: int = 2,
    hidden: Sequence[int] = (256, 512),
    activation: str = "relu",
    name: str = "decoder",
):
    """Dense ``hidden`` layers then a linear layer to every pixel: ``(batch, latent_dim)`` to
    unconstrained images ``(batch, h, w, c)`` (logits, or pre-sigmoid means)."""
    shape = _validate.shape(output_shape, "dense_decoder")
    latent_dim = _check_latent(latent_dim, "dense_decoder")
    hidden = _check_widths(hidden, "hidden widths", "dense_decoder")
    inputs = keras.Input(shape=(latent_dim,), name="z")
    h = inputs
    for i, width in enumerate(hidden):
        h = layers.Dense(width, activation=activation, name=f"dec_dense_{i}")(h)
    h = layers.Dense(shape[0] * shape[1] * shape[2], name="pixel_logits")(h)
    return keras.Model(inputs, layers.Reshape(shape, name="to_image")(h), name=name)


def conv_encoder(
    input_shape=(28, 28, 1),
    latent_dim: int = 2,
    filters: Sequence[int] = (32, 64),
    kernel_size: int = 3,
    activation: str = "relu",
    name: str = "encoder",
):
    """Stride-2 convolutions (one per entry of ``filters``), flatten, two linear heads to
    ``[z_mean, z_log_var]``. Height and width must be divisible by ``2 ** len(filters)``."""
    shape = _validate.shape(input_shape, "conv_encoder")
    latent_dim = _check_latent(latent_dim, "conv_encoder")
    filters = _check_widths(filters, "filters", "conv_encoder")
    filters, (fh, fw) = _validate.halving_filters(filters, shape, "conv_encoder")
    inputs = keras.Input(shape=shape, name="image")
    h = inputs
    for i, f in enumerate(filters):
        h = layers.Conv2D(
            f, kernel_size, strides=2, padding="same", activation=activation, name=f"enc_conv_{i}"
        )(h)
    h = layers.Flatten(name="flatten")(h)
    mean = layers.Dense(latent_dim, name="z_mean")(h)
    log_var = layers.Dense(latent_dim, name="z_log_var")(h)
    return keras.Model(inputs, [mean, log_var], name=name)


def conv_decoder(
    output_shape=(28, 28, 1),
    latent_dim: int = 2,
    filters: Sequence[int] = (64, 32),
    kernel_size: int = 3,
    activation: str = "relu",
    name: str = "decoder",
):
    """Dense to a small feature map, then stride-2 transposed convolutions back to ``output_shape``;
    the last one is linear with the image's channels (logits, or pre-sigmoid means)."""
    shape = _validate.shape(output_shape, "conv_decoder")
    latent_dim = _check_latent(latent_dim, "conv_decoder")
    filters = _check_widths(filters, "filters", "conv_decoder")
    filters, (fh, fw) = _validate.halving_filters(filters, shape, "conv_decoder")
    inputs = keras.Input(shape=(latent_dim,), name="z")
    h = layers.Dense(fh * fw * filters[0], activation=activation, name="dec_dense")(inputs)
    h = layers.Reshape((fh, fw, filters[0]), name="to_feature_map")(h)
    for i, f in enumerate(filters[1:]):
        h = layers.Conv2DTranspose(
            f, kernel_size, strides=2, padding="same", activation=activation, name=f"dec_deconv_{i}"
        )(h)
    h = layers.Conv2DTranspose(
        shape[2], kernel_size, strides=2, padding="same", name="pixel_logits"
    )(h)
    return keras.Model(inputs, h, name=name)


def build_vae(
    input_shape=(28, 28, 1),
    latent_dim: int = 2,
    architecture: str = "dense",
    hidden: Sequence[int] = (512, 256),
    filters: Sequence[int] = (32, 64),
    likelihood: str = "bernoulli",
    beta: float = 1.0,
    sigma: float | None = None,
    seed: int | None = None,
    name: str = "vae",
) -> VAE:
    """A :class:`VAE` with a mirrored dense or convolutional encoder and decoder (not compiled).

    Args:
        input_shape: ``(h, w, c)`` of one image.
        latent_dim: size of the code ``z``.
        architecture: ``"dense"`` (uses ``hidden``, outermost first) or ``"conv"`` (uses ``filters``).
        likelihood, beta, sigma, seed: as for :class:`VAE`.

    Returns:
        The model; compile it with an optimizer only, e.g. ``vae.compile(keras.optimizers.Adam(1e-3))``.
    """
    if architecture not in ARCHITECTURES:
        raise ValueError(
            f"build_vae(): architecture must be one of {ARCHITECTURES}, got {architecture!r}"
        )
    if architecture == "dense":
        enc = dense_encoder(input_shape, latent_dim, hidden)
        dec = dense_decoder(input_shape, latent_dim, tuple(reversed(tuple(hidden))))
    else:
        enc = conv_encoder(input_shape, latent_dim, filters)
        dec = conv_decoder(input_shape, latent_dim, tuple(reversed(tuple(filters))))
    return VAE(enc, dec, likelihood=likelihood, beta=beta, sigma=sigma, seed=seed, name=name)


# --------------------------------------------------------------------------------------------------
# Measures
# --------------------------------------------------------------------------------------------------


def importance_weighted_nll(
    vae: VAE, x, k: int, batch_size: int | None = None, seed: int = 0
) -> np.ndarray:
    """Importance-weighted estimate of ``-log p(x)`` per image, in nats: shape ``(n,)``.

    For each image, draws ``z_1..z_k ~ q(z|x)`` and returns
    ``-log( (1/k) sum_i p(x|z_i) p(z_i) / q(z_i|x) )``, computed as a log-mean-exp. Its expectation
    is the negative of the bound ``L_k`` of Burda et al. (2015): ``k = 1`` is the negative ELBO, and
    the estimate decreases towards ``-log p(x)`` as ``k`` grows, so it is an upper bound on the NLL
    on average.

    Args:
        vae: a :class:`VAE`.
        x: images ``(n, h, w, c)`` (binary for a Bernoulli decoder).
        k: importance samples per image (>= 1).
        batch_size: images per decoder call; default keeps ``k * batch_size`` near 20,000 codes.
        seed: seed of the noise draws (same seed, same estimate).
    """
    if not isinstance(vae, VAE):
        raise TypeError(
            f"importance_weighted_nll(): vae must be an aelib.vae.VAE, got {type(vae).__name__}"
        )
    if isinstance(k, bool) or not isinstance(k, (int, np.integer)) or k < 1:
        raise ValueError(f"importance_weighted_nll(): k must be an int >= 1, got {k!r}")
    x = _as_images(x, vae.image_shape, vae.likelihood, "importance_weighted_nll")
    k = int(k)
    batch_size = batch_size or max(1, 20_000 // k)
    rng = np.random.default_rng(seed)
    d = vae.latent_dim
    out = np.empty(len(x), dtype=np.float64)
    for start in range(0, len(x), batch_size):
        xb = x[start : start + batch_size]
        b = len(xb)
        mean, log_var = vae.encoder(xb, training=False)
        eps = ops.convert_to_tensor(rng.standard_normal((k, b, d)).astype(np.float32))
        z = mean[None] + ops.exp(0.5 * log_var)[None] * eps  # (k, b, d)
        decoded = vae.decoder(ops.reshape(z, (k * b, d)), training=False)
        x_rep = ops.reshape(
            ops.tile(ops.convert_to_tensor(xb)[None], (k,) + (1,) * xb.ndim), (k * b, *xb.shape[1:])
        )
        log_px_z = ops.reshape(vae.log_likelihood(x_rep, decoded), (k, b))
        log_pz = -0.5 * ops.sum(ops.square(z) + LOG_2PI, axis=-1)
        log_qz = -0.5 * ops.sum(ops.square(eps) + log_var[None] + LOG_2PI, axis=-1)
        log_w = log_px_z + log_pz - log_qz
        log_px = ops.logsumexp(log_w, axis=0) - math.log(k)
        out[start : start + b] = -ops.convert_to_numpy(log_px)
    return out


def unit_activity(z_mean) -> np.ndarray:
    """Variance over the data of each unit's posterior mean, ``Var_x(E_q[z_u | x])``: shape ``(d,)``.

    Args:
        z_mean: posterior means ``(n, d)`` (``VAE.encode(x)[0]``), ``n >= 2``.
    """
    z_mean = np.asarray(z_mean, dtype=np.float64)
    if z_mean.ndim != 2 or len(z_mean) < 2:
        raise ValueError(f"unit_activity(): z_mean must have shape (n >= 2, d), got {z_mean.shape}")
    return z_mean.var(axis=0)


def active_units(z_mean, threshold: float = 0.01) -> int:
    """How many latent units are active: ``Var_x(E_q[z_u | x]) > threshold`` (Burda et al. 2015).

    A unit whose posterior mean hardly moves with the input carries no information about it; the
    KL term then sets its posterior to the prior. Args as :func:`unit_activity`.
    """
    if not threshold > 0:
        raise ValueError(f"active_units(): threshold must be > 0, got {threshold!r}")
    return int(np.sum(unit_activity(z_mean) > threshold))


def gaussian_fit_kl(z) -> float:
    """``KL(N(m, S) || N(0, I))`` in nats, where ``m`` and ``S`` are the mean and covariance of codes ``z``.

    A summary of how far a set of codes ``(n, d)`` lies from the standard normal: 0 when its first
    two moments match, large when the scale or the correlations are off, ``inf`` when the codes are
    degenerate (a singular covariance). It sees only two moments, so 0 does not prove normality.
    """
    z = np.asarray(z, dtype=np.float64)
    if z.ndim != 2 or len(z) <= z.shape[1]:
        raise ValueError(f"gaussian_fit_kl(): z must have shape (n, d) with n > d, got {z.shape}")
    d = z.shape[1]
    m = z.mean(axis=0)
    s = np.cov(z, rowvar=False).reshape(d, d)
    sign, logdet = np.linalg.slogdet(s)
    if sign <= 0:
        return float("inf")
    return float(0.5 * (np.trace(s) + m @ m - d - logdet))


def importance_weighted_summary(
    vae: VAE, x, k: int, repeats: int = 3, seed: int = 0, batch_size: int | None = None
) -> dict:
    """The IW-NLL of images ``x`` with its two kinds of error kept apart.

    Runs :func:`importance_weighted_nll` ``repeats`` times on the same images with different noise
    (seeds ``seed``, ``seed + 1``, ...). Two numbers then say how far to trust the mean:

    * ``mc_se``: the Monte-Carlo error of the reported mean, the standard deviation of the
      ``repeats`` image-means divided by ``sqrt(repeats)``: what drawing other codes would change;
    * ``image_se``: the standard error from the choice of test images, the standard deviation over
      images of the per-image estimate (averaged over repeats) divided by ``sqrt(n)``: what drawing
      other test images would change.

    Returns:
        ``{"iw_nll": mean over repeats and images, "mc_se", "image_se", "repeat_means": list,
        "per_image": (n,) array}``, all in nats per image. ``mc_se`` is NaN when ``repeats == 1``.
    """
    if isinstance(repeats, bool) or not isinstance(repeats, (int, np.integer)) or repeats < 1:
        raise ValueError(
            f"importance_weighted_summary(): repeats must be an int >= 1, got {repeats!r}"
        )
    runs = np.stack(
        [
            importance_weighted_nll(vae, x, k, batch_size=batch_size, seed=seed + r)
            for r in range(int(repeats))
        ]
    )
    means = runs.mean(axis=1)
    per_image = runs.mean(axis=0)
    return {
        "iw_nll": float(means.mean()),
        "mc_se": float(means.std(ddof=1) / math.sqrt(len(means))) if len(means) > 1 else math.nan,
        "image_se": float(per_image.std(ddof=1) / math.sqrt(len(per_image)))
        if len(per_image) > 1
        else math.nan,
        "repeat_means": means.tolist(),
        "per_image": per_image,
    }


def sampled_nll(probabilities, x, eps: float = 1e-6, chunk: int = 500) -> np.ndarray:
    """How well a generator's samples explain held-out binary images: ``-log (1/M) sum_m p(x | g_m)``.

    ``g_1..g_M`` are the pixel probabilities the decoder gives for ``M`` codes drawn from the
    distribution one would sample from (a VAE's prior, or a Gaussian fitted to an autoencoder's
    codes), and ``p(x | g)`` is the product of independent Bernoulli pixels. This is the simple
    Monte-Carlo estimate of the generator's likelihood with its own sampling distribution as the
    proposal: on average an upper bound on its NLL that tightens as ``M`` grows. It needs no encoder,
    so it treats any decoder with any code distribution alike.

    Args:
        probabilities: decoded images ``(M, ...)`` with values in [0, 1]; clipped to
            ``[eps, 1 - eps]`` so that a saturated pixel costs a finite amount.
        x: binary images ``(n, ...)`` of the same image shape.
        eps: the clipping of the probabilities (> 0, < 0.5).
        chunk: images per matrix product (a memory setting only).

    Returns:
        ``(n,)``: nats per image.
    """
    g = np.asarray(probabilities, dtype=np.float64)
    x = np.asarray(x, dtype=np.float64)
    if g.ndim < 2 or x.ndim != g.ndim or g.shape[1:] != x.shape[1:]:
        raise ValueError(
            f"sampled_nll(): probabilities (M, ...) and x (n, ...) need the same image shape, "
            f"got {g.shape} and {x.shape}"
        )
    if not 0 < eps < 0.5:
        raise ValueError(f"sampled_nll(): eps must be in (0, 0.5), got {eps!r}")
    if g.size and (not np.isfinite(g).all() or g.min() < 0 or g.max() > 1):
        raise ValueError("sampled_nll(): probabilities must lie in [0, 1]")
    bad = int(np.count_nonzero((x != 0) & (x != 1)))
    if bad:
        raise ValueError(f"sampled_nll(): x must be binary, got {bad:,} non-binary values")
    g = np.clip(g.reshape(len(g), -1), eps, 1 - eps)
    log_on, log_off = np.log(g).T, np.log1p(-g).T  # (D, M)
    flat = x.reshape(len(x), -1)
    out = np.empty(len(flat))
    for start in range(0, len(flat), chunk):
        xb = flat[start : start + chunk]
        log_p = xb @ log_on + (1 - xb) @ log_off  # (b, M)
        top = log_p.max(axis=1, keepdims=True)
        out[start : start + chunk] = -(top[:, 0] + np.log(np.exp(log_p - top).mean(axis=1)))
    return out


class ActivityMonitor(keras.callbacks.Callback):
    """Record each latent unit's activity (:func:`unit_activity`) on fixed images after every epoch.

    After ``fit``, ``monitor.activity`` is a list with one ``(latent_dim,)`` array per epoch, and
    ``monitor.active(threshold)`` the number of active units after each epoch. The images should be
    held out (validation images): the monitor only watches, it decides nothing.
    """

    def __init__(self, x):
        super().__init__()
        self.x = np.asarray(x, dtype=np.float32)
        if self.x.ndim < 2 or len(self.x) < 2:
            raise ValueError(
                f"ActivityMonitor(): x must hold at least 2 images, got {self.x.shape}"
            )
        self.activity: list[np.ndarray] = []

    def on_epoch_end(self, epoch, logs=None):
        mean, _ = models.predict(self.model.encoder, self.x, 1000)
        self.activity.append(unit_activity(np.asarray(mean)))

    def active(self, threshold: float = 0.01) -> list[int]:
        """Active units after each epoch (an empty list when no epoch ran)."""
        if not threshold > 0:
            raise ValueError(f"ActivityMonitor.active(): threshold must be > 0, got {threshold!r}")
        return [int(np.sum(a > threshold)) for a in self.activity]
