"""Encoder-decoders for restoration and dense prediction: super-resolution, inpainting, segmentation.

Three tasks share one idea: the output is an image of the input's size, so the network must carry
*where* things are from input to output, not only *what* they are.

- **Super-resolution.** :func:`downscale` makes a low-resolution image by averaging ``r x r``
  blocks; :func:`bicubic_upscale` is the classical answer; :func:`espcn` is the efficient sub-pixel
  network of Shi et al. (2016): a few convolutions at the low resolution, then one convolution to
  ``r * r`` channels per output channel and a pixel shuffle (:class:`aelib.upsampling.DepthToSpace`).
  :func:`luminance`, :func:`sample_photographs` and :func:`random_patches` turn scikit-learn's two
  photographs into training patches and a held-out test image.
- **Inpainting.** :func:`random_boxes` draws rectangular holes, :func:`inpainting_model` wraps a
  network so that its output keeps every known pixel and fills only the holes,
  :func:`inpaint_biharmonic` is the classical baseline (scikit-image), and :func:`masked_mse`
  scores the hole pixels only.
- **Segmentation.** :func:`make_scenes` builds a deterministic scene dataset from Fashion-MNIST
  garments (overlapping, occluding, noisy, a class label per pixel); :func:`iou_per_class` and
  :func:`mean_iou` score predicted label maps.

:func:`encoder_decoder` builds the U-Net of Ronneberger et al. (2015) (``skips=True``) and the same
network without its skip connections (``skips=False``); :func:`matched_filters` widens the second
until both have the same number of parameters (:func:`encoder_decoder_params` counts them without
building a model). Every model here is built from Keras' own layers and aelib's registered
``DepthToSpace``, so ``aelib.load_model(path, safe_mode=True)`` brings a saved one back whole.
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from dataclasses import dataclass

import numpy as np

from . import _validate, models

# --------------------------------------------------------------------------------------------------
# Resolution: downscaling and the bicubic baseline
# --------------------------------------------------------------------------------------------------


def _batch(x, fn: str, name: str = "images") -> np.ndarray:
    """``x`` as float32 ``(n, h, w, c)`` in [0, 1] (see :func:`aelib._validate.images`)."""
    return _validate.images(x, fn, name).astype(np.float32, copy=False)


def downscale(images, factor: int) -> np.ndarray:
    """Average every ``factor x factor`` block: the low-resolution image a camera with larger pixels
    would record (area interpolation, as ``tf.image.resize(method="area")`` at an integer factor).

    Rows and columns beyond the last whole block are dropped.

    Args:
        images: ``(n, h, w, c)`` floats in [0, 1], ``h`` and ``w`` at least ``factor``.
        factor: the integer scale ``r >= 1``.

    Returns:
        ``(n, h // r, w // r, c)`` float32.
    """
    fn = "downscale"
    x = _batch(images, fn)
    r = _validate.integer(factor, "factor", fn, minimum=1, maximum=min(x.shape[1:3]))
    n, h, w, c = x.shape
    x = x[:, : h - h % r, : w - w % r]
    return x.reshape(n, h // r, r, w // r, r, c).mean(axis=(2, 4)).astype(np.float32)


def bicubic_upscale(images, factor: int) -> np.ndarray:
    """Bicubic interpolation by an integer ``factor`` (Keras' resize, Keys' kernel with a = -0.5),
    clipped to [0, 1]: the classical baseline of super-resolution.

    Args:
        images: ``(n, h, w, c)`` floats in [0, 1].
        factor: the integer scale ``r >= 1``.

    Returns:
        ``(n, r * h, r * w, c)`` float32.
    """
    from keras import ops

    fn = "bicubic_upscale"
    x = _batch(images, fn)
    r = _validate.integer(factor, "factor", fn, minimum=1)
    size = (x.shape[1] * r, x.shape[2] * r)
    up = ops.convert_to_numpy(ops.image.resize(x, size, interpolation="bicubic", antialias=False))
    return np.clip(up, 0.0, 1.0).astype(np.float32)


def shave(images, border: int) -> np.ndarray:
    """Drop ``border`` pixels on every side of ``(n, h, w, c)`` images: super-resolution is scored
    away from the edges, where no method has the neighbours it needs."""
    x = np.asarray(images)
    if x.ndim != 4:
        raise ValueError(f"shave(): images must be (n, h, w, c), got shape {x.shape}")
    b = _validate.integer(
        border, "border", "shave", minimum=0, maximum=(min(x.shape[1:3]) - 1) // 2
    )
    return x[:, b : x.shape[1] - b, b : x.shape[2] - b] if b else x


# --------------------------------------------------------------------------------------------------
# Models
# --------------------------------------------------------------------------------------------------


def espcn(
    factor: int,
    input_shape,
    filters: Sequence[int] = (64, 32),
    kernel_sizes: Sequence[int] = (5, 3),
    name: str | None = None,
    residual: bool = False,
):
    """The efficient sub-pixel convolutional network (ESPCN, Shi et al. 2016).

    Every convolution runs at the *low* resolution: ``len(filters)`` ReLU convolutions (kernel sizes
    ``kernel_sizes``), then a 3x3 convolution to ``factor**2 * channels`` channels and a pixel
    shuffle that turns each pixel's ``factor**2`` values into a ``factor x factor`` block of the
    output; a sigmoid keeps the output in [0, 1].

    With ``residual=True`` the network predicts the *correction* to the bicubic interpolation of its
    input (a global residual, as in VDSR, Kim et al. 2016): the output is the bicubic image plus the
    pixel-shuffled values, with no sigmoid, so it can leave [0, 1] slightly; score it with
    :func:`clip_unit`.

    The weights do not depend on the image size: :func:`espcn_like` copies a trained model into one
    for another size (a whole photograph, say).

    Args:
        factor: the upscaling factor ``r``.
        input_shape: ``(h, w, channels)`` of the low-resolution images.
        filters, kernel_sizes: the hidden convolutions, one entry each.
        residual: add the bicubic interpolation of the input to the output (see above).

    Returns:
        ``keras.Model`` ``(batch, h, w, channels) -> (batch, r * h, r * w, channels)``.
    """
    import keras

    from .upsampling import DepthToSpace

    fn = "espcn"
    residual = _validate.flag(residual, "residual", fn)
    r = _validate.integer(factor, "factor", fn, minimum=2)
    h, w, channels = _validate.shape(input_shape, fn)
    filters = _validate.integers(filters, "filters", fn)
    kernel_sizes = _validate.integers(kernel_sizes, "kernel_sizes", fn)
    if len(kernel_sizes) != len(filters):
        raise ValueError(
            f"{fn}(): kernel_sizes needs one entry per entry of filters ({len(filters)}), "
            f"got {len(kernel_sizes)}"
        )
    layers = keras.layers
    inputs = keras.Input(shape=(h, w, channels), name="low_res")
    h = inputs
    for i, (f, k) in enumerate(zip(filters, kernel_sizes, strict=True)):
        h = layers.Conv2D(f, k, padding="same", activation="relu", name=f"conv_{i}")(h)
    h = layers.Conv2D(r * r * channels, 3, padding="same", name="to_subpixels")(h)
    h = DepthToSpace(r, name="pixel_shuffle")(h)
    if residual:
        up = layers.UpSampling2D(r, interpolation="bicubic", name="bicubic")(inputs)
        out = layers.Add(name="pixels")([up, h])
    else:
        out = layers.Activation("sigmoid", name="pixels")(h)
    return keras.Model(inputs, out, name=name or f"espcn_x{r}")


def espcn_like(model, input_shape):
    """A copy of the :func:`espcn` ``model`` (same layers, same weights) for inputs of another
    ``(h, w, channels)`` shape."""
    convs = [layer for layer in model.layers if layer.name.startswith("conv_")]
    if not convs or "pixel_shuffle" not in [layer.name for layer in model.layers]:
        raise ValueError(f"espcn_like(): {model.name!r} is not a model built by espcn()")
    copy = espcn(
        model.get_layer("pixel_shuffle").block_size,
        input_shape,
        filters=[layer.filters for layer in convs],
        kernel_sizes=[layer.kernel_size[0] for layer in convs],
        name=model.name,
        residual="bicubic" in [layer.name for layer in model.layers],
    )
    copy.set_weights(model.get_weights())
    return copy


def _check_levels(input_shape, filters, convs_per_block, fn):
    shape = _validate.shape(input_shape, fn)
    filters = _validate.integers(filters, "filters", fn)
    if len(filters) < 2:
        raise ValueError(f"{fn}(): filters needs at least two levels, got {filters!r}")
    # len(filters) - 1 poolings: the bottom level is not pooled
    _validate.halving_filters(filters[:-1], shape, fn)
    convs = _validate.integer(convs_per_block, "convs_per_block", fn, minimum=1)
    return shape, filters, convs


def encoder_decoder(
    input_shape,
    filters: Sequence[int] = (16, 32, 64),
    out_channels: int = 1,
    out_activation: str | None = "sigmoid",
    skips: bool = True,
    convs_per_block: int = 2,
    name: str | None = None,
):
    """A U-Net (``skips=True``, Ronneberger et al. 2015) or the same encoder-decoder without skips.

    Encoder: at each level ``i`` a block of ``convs_per_block`` 3x3 ReLU convolutions with
    ``filters[i]`` channels, then 2x2 max-pooling, except at the last (bottom) level. Decoder, from
    the bottom up: a 2x2 transposed convolution with stride 2 (kernel equal to the stride: every
    output pixel gets exactly one contribution) to ``filters[i]`` channels, with ``skips`` the
    concatenation of the encoder's output at that level, and a block as in the encoder. A 1x1
    convolution gives ``out_channels`` with ``out_activation``.

    Without skips, everything the decoder knows passes through the bottom level, at
    ``1 / 2**(len(filters) - 1)`` of the input's resolution.

    Args:
        input_shape: ``(h, w, c)``; ``h`` and ``w`` divisible by ``2**(len(filters) - 1)``.
        filters: channels per level, at least two levels.
        out_channels: output channels (image channels, or classes for segmentation).
        out_activation: ``"sigmoid"``, ``"softmax"``, ``"linear"`` or ``None``.
        skips: whether the decoder receives the encoder's features at each level.
        convs_per_block: 3x3 convolutions per block.

    Returns:
        ``keras.Model`` ``(batch, h, w, c) -> (batch, h, w, out_channels)``.
    """
    import keras

    fn = "encoder_decoder"
    shape, filters, convs = _check_levels(input_shape, filters, convs_per_block, fn)
    out_channels = _validate.integer(out_channels, "out_channels", fn, minimum=1)
    if out_activation is not None:
        _validate.choice(out_activation, "out_activation", fn, ("sigmoid", "softmax", "linear"))
    skips = _validate.flag(skips, "skips", fn)
    layers = keras.layers

    def block(h, f, tag):
        for j in range(convs):
            h = layers.Conv2D(f, 3, padding="same", activation="relu", name=f"{tag}_conv{j}")(h)
        return h

    inputs = keras.Input(shape=shape, name="image")
    h, features = inputs, []
    for i, f in enumerate(filters[:-1]):
        h = block(h, f, f"enc{i}")
        features.append(h)
        h = layers.MaxPooling2D(2, name=f"enc{i}_pool")(h)
    h = block(h, filters[-1], "bottom")
    for i in reversed(range(len(filters) - 1)):
        h = layers.Conv2DTranspose(filters[i], 2, strides=2, name=f"dec{i}_up")(h)
        if skips:
            h = layers.Concatenate(name=f"dec{i}_skip")([h, features[i]])
        h = block(h, filters[i], f"dec{i}")
    out = layers.Conv2D(out_channels, 1, activation=out_activation, name="output")(h)
    kind = "unet" if skips else "no_skips"
    return keras.Model(inputs, out, name=name or kind)


def encoder_decoder_params(
    in_channels: int,
    filters: Sequence[int],
    out_channels: int = 1,
    skips: bool = True,
    convs_per_block: int = 2,
) -> int:
    """The number of weights of :func:`encoder_decoder` with these arguments, counted by hand.

    A 3x3 convolution from ``a`` to ``b`` channels has ``9ab + b`` weights, the 2x2 transposed one
    ``4ab + b``, the 1x1 output convolution ``ab + b``; a skip doubles the input channels of the
    first convolution of its decoder block.
    """
    fn = "encoder_decoder_params"
    c = _validate.integer(in_channels, "in_channels", fn, minimum=1)
    filters = _validate.integers(filters, "filters", fn)
    out = _validate.integer(out_channels, "out_channels", fn, minimum=1)
    convs = _validate.integer(convs_per_block, "convs_per_block", fn, minimum=1)

    def block(a, f):
        return (9 * a * f + f) + (convs - 1) * (9 * f * f + f)

    total, a = 0, c
    for f in filters:
        total += block(a, f)
        a = f
    for i in reversed(range(len(filters) - 1)):
        f = filters[i]
        total += 4 * a * f + f
        total += block(2 * f if skips else f, f)
        a = f
    return total + a * out + out


def matched_filters(
    in_channels: int,
    filters: Sequence[int],
    out_channels: int = 1,
    convs_per_block: int = 2,
) -> tuple[int, ...]:
    """Filters for the no-skip :func:`encoder_decoder` with as many weights as the U-Net with
    ``filters``: every level is widened by one common factor (searched in steps of 1%, rounded to
    whole channels) and the count closest to the U-Net's wins."""
    filters = _validate.integers(filters, "filters", "matched_filters")
    target = encoder_decoder_params(in_channels, filters, out_channels, True, convs_per_block)
    best, best_gap = filters, math.inf
    for scale in np.arange(1.0, 2.0001, 0.01):
        wide = tuple(max(1, int(round(f * scale))) for f in filters)
        n = encoder_decoder_params(in_channels, wide, out_channels, False, convs_per_block)
        if abs(n - target) < best_gap:
            best, best_gap = wide, abs(n - target)
    return best


def predict(model, x, batch_size: int = 256) -> np.ndarray:
    """The model's outputs for ``x`` as a NumPy array (:func:`aelib.models.predict`)."""
    return np.asarray(models.predict(model, x, batch_size))


def clip_unit(images) -> np.ndarray:
    """Images clipped to the valid range [0, 1]: the last step of a restoration whose output is not
    bounded by construction (a residual :func:`espcn`, bicubic interpolation's overshoot), applied
    the same way to every method that needs it."""
    return np.clip(np.asarray(images, dtype=np.float32), 0.0, 1.0)


# --------------------------------------------------------------------------------------------------
# Photographs
# --------------------------------------------------------------------------------------------------


def luminance(rgb) -> np.ndarray:
    """The luminance ``Y = 0.299 R + 0.587 G + 0.114 B`` (ITU-R BT.601, the Y of JPEG's YCbCr) of
    uint8 ``(h, w, 3)`` images, as float32 ``(h, w)`` in [0, 1]."""
    a = np.asarray(rgb)
    if a.dtype != np.uint8 or a.ndim < 3 or a.shape[-1] != 3:
        raise ValueError(
            f"luminance(): rgb must be uint8 images (..., h, w, 3), got dtype {a.dtype} and shape "
            f"{a.shape}"
        )
    y = a.astype(np.float32) @ np.array([0.299, 0.587, 0.114], np.float32)
    return np.clip(y / 255.0, 0.0, 1.0)


def sample_photographs() -> dict[str, np.ndarray]:
    """scikit-learn's two photographs by name (``"china"``, ``"flower"``; 427x640, uint8 RGB), their
    files and decoded pixels checked against recorded SHA-256 sums (:func:`aelib.data.sample_photographs`)."""
    from . import data

    return data.sample_photographs()


def random_patches(image, n: int, size: int, seed: int = 0, rows=None) -> np.ndarray:
    """``n`` square patches of side ``size`` cut at random places of one image.

    Args:
        image: ``(h, w)`` floats in [0, 1] (one channel, a luminance say).
        n: how many patches.
        size: their side in pixels.
        seed: the random generator's seed (the same seed gives the same patches).
        rows: ``(first, stop)``: patches lie inside these rows only (to keep a validation part of
            the image apart from the training part); default all rows.

    Returns:
        ``(n, size, size, 1)`` float32.
    """
    fn = "random_patches"
    img = np.asarray(image, dtype=np.float32)
    if img.ndim != 2:
        raise ValueError(f"{fn}(): image must be one channel (h, w), got shape {img.shape}")
    n = _validate.integer(n, "n", fn, minimum=1)
    first, stop = (0, img.shape[0]) if rows is None else tuple(rows)
    if not (0 <= first < stop <= img.shape[0]):
        raise ValueError(
            f"{fn}(): rows must be (first, stop) inside [0, {img.shape[0]}], got {rows}"
        )
    size = _validate.integer(size, "size", fn, minimum=1, maximum=min(stop - first, img.shape[1]))
    rng = np.random.default_rng(seed)
    tops = rng.integers(first, stop - size + 1, n)
    lefts = rng.integers(0, img.shape[1] - size + 1, n)
    out = np.stack([img[t : t + size, s : s + size] for t, s in zip(tops, lefts, strict=True)])
    return out[..., None]


# --------------------------------------------------------------------------------------------------
# Inpainting
# --------------------------------------------------------------------------------------------------


def random_boxes(n: int, shape, sizes=(8, 14), count: int = 1, seed: int = 0) -> np.ndarray:
    """Hole masks: ``count`` axis-aligned boxes per image, each side drawn from ``sizes``
    (inclusive), placed uniformly inside the image.

    Args:
        n: how many masks.
        shape: ``(h, w)`` of the images.
        sizes: ``(smallest, largest)`` side of a box.
        count: boxes per image (they may overlap).
        seed: the random generator's seed.

    Returns:
        ``(n, h, w, 1)`` float32, 1 inside a hole and 0 elsewhere.
    """
    fn = "random_boxes"
    n = _validate.integer(n, "n", fn, minimum=1)
    h, w = _validate.integers(shape, "shape", fn)[:2] if len(tuple(shape)) == 2 else (0, 0)
    if not h:
        raise ValueError(f"{fn}(): shape must be (height, width), got {shape!r}")
    lo, hi = _validate.integers(sizes, "sizes", fn)
    if not lo <= hi <= min(h, w):
        raise ValueError(f"{fn}(): sizes must be (smallest, largest) with largest <= {min(h, w)}")
    count = _validate.integer(count, "count", fn, minimum=1)
    rng = np.random.default_rng(seed)
    holes = np.zeros((n, h, w, 1), np.float32)
    for i in range(n):
        for _ in range(count):
            bh, bw = rng.integers(lo, hi + 1, 2)
            top, left = rng.integers(0, h - bh + 1), rng.integers(0, w - bw + 1)
            holes[i, top : top + bh, left : left + bw] = 1.0
    return holes


def _holes(holes, like: np.ndarray, fn: str) -> np.ndarray:
    m = np.asarray(holes, dtype=np.float32)
    if m.shape != like.shape:
        raise ValueError(f"{fn}(): holes has shape {m.shape} but the images have {like.shape}")
    if not np.isin(m, (0.0, 1.0)).all():
        raise ValueError(f"{fn}(): holes must hold only 0 (known pixel) and 1 (hole)")
    return m


def apply_holes(images, holes) -> np.ndarray:
    """The images with every hole pixel set to 0 (what an inpainting model is given)."""
    x = _batch(images, "apply_holes")
    return x * (1.0 - _holes(holes, x, "apply_holes"))


def inpainting_model(network, name: str | None = None):
    """Wrap ``network`` (``(h, w, c + 1) -> (h, w, c)``) into an inpainting model.

    Inputs ``[holed, holes]``: the image with its holes set to 0, and the hole mask (1 in a hole).
    The network sees both, stacked as channels; the output keeps every known pixel of ``holed`` and
    takes the network's value only inside the holes, ``holed + holes * network(...)``, so a loss
    over the whole image measures the holes alone.

    Returns:
        ``keras.Model`` ``[(batch, h, w, c), (batch, h, w, 1)] -> (batch, h, w, c)``.
    """
    import keras

    shape = tuple(network.input_shape[1:])
    if (
        len(shape) != 3
        or shape[-1] < 2
        or tuple(network.output_shape[1:])
        != (
            *shape[:2],
            shape[-1] - 1,
        )
    ):
        raise ValueError(
            "inpainting_model(): network must map (h, w, c + 1) to (h, w, c), got "
            f"{network.input_shape} -> {network.output_shape}"
        )
    layers = keras.layers
    holed = keras.Input(shape=(*shape[:2], shape[-1] - 1), name="holed")
    holes = keras.Input(shape=(*shape[:2], 1), name="holes")
    guess = network(layers.Concatenate(name="with_mask")([holed, holes]))
    filled = layers.Add(name="filled")([holed, layers.Multiply(name="in_holes")([holes, guess])])
    return keras.Model([holed, holes], filled, name=name or f"inpaint_{network.name}")


def inpaint_biharmonic(images, holes) -> np.ndarray:
    """The classical baseline: fill each hole with the smooth (biharmonic) continuation of the known
    pixels around it, scikit-image's ``inpaint_biharmonic``, image by image.

    Returns:
        ``(n, h, w, c)`` float32, equal to ``images`` outside the holes.
    """
    from skimage.restoration import inpaint_biharmonic as biharmonic

    x = _batch(images, "inpaint_biharmonic")
    m = _holes(holes[..., :1] if np.ndim(holes) == 4 else holes, x[..., :1], "inpaint_biharmonic")
    out = x.copy()
    for i in range(len(x)):
        mask = m[i, ..., 0].astype(bool)
        if mask.any():
            filled = biharmonic(x[i] * ~mask[..., None], mask, channel_axis=-1)
            out[i] = np.where(mask[..., None], np.clip(filled, 0, 1), x[i])
    return out


def masked_mse(images, estimates, holes) -> np.ndarray:
    """Mean squared error over the hole pixels of each image only, shape ``(n,)``: known pixels,
    which every method copies, do not dilute it. An image without a hole gives NaN."""
    x = np.asarray(images, dtype=np.float64)
    y = np.asarray(estimates, dtype=np.float64)
    if x.shape != y.shape or x.ndim != 4:
        raise ValueError(
            f"masked_mse(): images and estimates must be (n, h, w, c) of one shape, got {x.shape} "
            f"and {y.shape}"
        )
    m = _holes(holes, x[..., :1], "masked_mse")
    err = ((x - y) ** 2 * m).reshape(len(x), -1).sum(axis=1)
    count = np.broadcast_to(m, x.shape).reshape(len(x), -1).sum(axis=1)
    with np.errstate(invalid="ignore", divide="ignore"):
        return err / count


# --------------------------------------------------------------------------------------------------
# Segmentation: scenes of garments
# --------------------------------------------------------------------------------------------------

BACKGROUND = 0  # the label of pixels no garment covers; garment class k has label k + 1


@dataclass(frozen=True)
class Scenes:
    """Scenes of garments and their label maps (see :func:`make_scenes`).

    Attributes:
        images: ``(n, size, size, 1)`` float32 in [0, 1], noise included.
        labels: ``(n, size, size)`` uint8: 0 background, ``k + 1`` garment class ``k``.
        garments: per scene, the placed garments from bottom to top, each
            ``(source index, class, top, left)``.
        n_classes: label values (background and every garment class).
    """

    images: np.ndarray
    labels: np.ndarray
    garments: tuple[tuple[tuple[int, int, int, int], ...], ...]
    n_classes: int


def silhouette(image, threshold: float = 0.05) -> np.ndarray:
    """The pixels a garment covers: those brighter than ``threshold``, with enclosed holes filled
    (a dark pattern inside a garment is still the garment). ``image`` is ``(h, w)`` or
    ``(h, w, 1)``; returns a boolean ``(h, w)``."""
    from scipy.ndimage import binary_fill_holes

    img = np.asarray(image)
    if img.ndim == 3 and img.shape[-1] == 1:
        img = img[..., 0]
    if img.ndim != 2:
        raise ValueError(f"silhouette(): image must be (h, w) or (h, w, 1), got shape {img.shape}")
    return binary_fill_holes(img > threshold)


def make_scenes(
    images,
    classes,
    n: int,
    size: int = 64,
    garments=(2, 4),
    noise: float = 0.1,
    n_classes: int = 10,
    seed: int = 0,
) -> Scenes:
    """Scenes of 2 to 4 garments on a dark canvas, with a class label for every pixel.

    For each scene: the number of garments is drawn from ``garments`` (inclusive), each garment is a
    random image of ``images`` placed at a random position (wholly inside the canvas); garments are
    painted in order, each over those before it, so a later garment *occludes* the earlier ones
    wherever its :func:`silhouette` lies. A pixel's label is the class (plus one) of the last garment
    whose silhouette covers it, or 0 (background). Gaussian noise of std ``noise`` is then added to
    the image (clipped to [0, 1]); the labels are those of the clean scene. The same arguments and
    seed give the same scenes.

    Args:
        images: ``(m, h, w, 1)`` garment images in [0, 1], ``h, w <= size``.
        classes: ``(m,)`` integer class of each, in ``[0, n_classes)``.
        n: scenes to make.
        size: the canvas' side.
        garments: ``(fewest, most)`` garments per scene.
        noise: std of the additive Gaussian noise.
        n_classes: garment classes (labels run from 0 to ``n_classes``).
        seed: the random generator's seed.

    Returns:
        :class:`Scenes`.
    """
    fn = "make_scenes"
    src = _batch(images, fn)
    if src.shape[-1] != 1:
        raise ValueError(f"{fn}(): images must have one channel, got shape {src.shape}")
    cls = np.asarray(classes)
    if cls.shape != (len(src),) or cls.dtype.kind not in "iu":
        raise ValueError(
            f"{fn}(): classes must be {len(src)} integers (one per image), got dtype {cls.dtype} "
            f"and shape {cls.shape}"
        )
    n_classes = _validate.integer(n_classes, "n_classes", fn, minimum=1, maximum=254)
    if cls.min() < 0 or cls.max() >= n_classes:
        raise ValueError(
            f"{fn}(): classes must lie in [0, {n_classes}), got {cls.min()}..{cls.max()}"
        )
    n = _validate.integer(n, "n", fn, minimum=1)
    h, w = src.shape[1:3]
    size = _validate.integer(size, "size", fn, minimum=max(h, w))
    lo, hi = _validate.integers(garments, "garments", fn)
    if lo > hi:
        raise ValueError(f"{fn}(): garments must be (fewest, most), got {garments!r}")
    noise = _validate.number(noise, "noise", fn, minimum=0)
    rng = np.random.default_rng(seed)
    shapes: dict[int, np.ndarray] = {}
    out = np.zeros((n, size, size, 1), np.float32)
    labels = np.zeros((n, size, size), np.uint8)
    placed = []
    for i in range(n):
        scene = []
        for _ in range(int(rng.integers(lo, hi + 1))):
            j = int(rng.integers(len(src)))
            top, left = int(rng.integers(size - h + 1)), int(rng.integers(size - w + 1))
            if j not in shapes:
                shapes[j] = silhouette(src[j])
            cover = shapes[j]
            window = out[i, top : top + h, left : left + w, 0]
            window[cover] = src[j, ..., 0][cover]
            labels[i, top : top + h, left : left + w][cover] = cls[j] + 1
            scene.append((j, int(cls[j]), top, left))
        placed.append(tuple(scene))
    if noise:
        out = np.clip(out + rng.normal(0.0, noise, out.shape).astype(np.float32), 0.0, 1.0)
    return Scenes(out, labels, tuple(placed), n_classes + 1)


def _label_maps(y, fn: str, name: str, n_classes: int) -> np.ndarray:
    a = np.asarray(y)
    if a.dtype.kind not in "iu":
        raise ValueError(
            f"{fn}(): {name} must hold integer labels (take argmax over the class axis of "
            f"probabilities), got dtype {a.dtype}"
        )
    if a.size and (a.min() < 0 or a.max() >= n_classes):
        raise ValueError(f"{fn}(): {name} has labels outside [0, {n_classes})")
    return a


def iou_per_class(y_true, y_pred, n_classes: int) -> np.ndarray:
    """Intersection over union of each class over the whole set of label maps, shape
    ``(n_classes,)``: ``|true k and predicted k| / |true k or predicted k|``, NaN for a class that
    appears in neither."""
    fn = "iou_per_class"
    n_classes = _validate.integer(n_classes, "n_classes", fn, minimum=1)
    t = _label_maps(y_true, fn, "y_true", n_classes).ravel()
    p = _label_maps(y_pred, fn, "y_pred", n_classes).ravel()
    if t.shape != p.shape:
        raise ValueError(f"{fn}(): y_true has {t.size} labels but y_pred has {p.size}")
    confusion = np.bincount(t.astype(np.int64) * n_classes + p, minlength=n_classes**2)
    confusion = confusion.reshape(n_classes, n_classes)
    inter = np.diag(confusion).astype(np.float64)
    union = confusion.sum(0) + confusion.sum(1) - inter
    with np.errstate(invalid="ignore", divide="ignore"):
        return np.where(union > 0, inter / union, np.nan)


def mean_iou(y_true, y_pred, n_classes: int, classes=None) -> float:
    """The mean of :func:`iou_per_class` over ``classes`` (default all), ignoring absent classes."""
    iou = iou_per_class(y_true, y_pred, n_classes)
    if classes is not None:
        iou = iou[np.asarray(list(classes), dtype=int)]
    if np.isnan(iou).all():
        raise ValueError("mean_iou(): none of the classes appears in y_true or y_pred")
    return float(np.nanmean(iou))


def guess_iou_per_class(y_true, shares) -> np.ndarray:
    """The IoU per kind of a guess that knows which pixels are foreground but not their kind: each
    foreground pixel (label >= 1) of ``y_true`` gets kind ``k`` at random with probability
    ``shares[k - 1]``. Shape ``(len(shares) + 1,)``; entry 0 (the background) is NaN, as is a kind
    that appears in neither ``y_true`` nor the guess.

    The value per kind is the expected intersection over the expected union,
    ``N_k s_k / (N_k + G s_k - N_k s_k)``, with ``N_k`` the true pixels of kind ``k`` and ``G`` all
    foreground pixels; over many pixels it is the guess's IoU to within a small fraction. A model
    that tells the kinds apart must beat it: it is the floor that knowing *where* buys alone.

    Args:
        y_true: integer label maps ``(..., h, w)``, 0 the background.
        shares: one non-negative number per kind, summing to 1 (for instance each kind's share of
            the foreground pixels of the training label maps).
    """
    fn = "guess_iou_per_class"
    shares = np.asarray(shares, dtype=np.float64)
    if shares.ndim != 1 or shares.size < 1 or not np.isfinite(shares).all() or (shares < 0).any():
        raise ValueError(
            f"{fn}(): shares must be a 1-D array of non-negative numbers, got {shares}"
        )
    if abs(shares.sum() - 1.0) > 1e-6:
        raise ValueError(f"{fn}(): shares must sum to 1, got a sum of {shares.sum():.6g}")
    n_classes = shares.size + 1
    t = _label_maps(y_true, fn, "y_true", n_classes).ravel()
    counts = np.bincount(t.astype(np.int64), minlength=n_classes)[1:].astype(np.float64)
    foreground = counts.sum()
    inter = counts * shares
    union = counts + foreground * shares - inter
    with np.errstate(invalid="ignore", divide="ignore"):
        iou = np.where(union > 0, inter / union, np.nan)
    return np.concatenate([[np.nan], iou])


def colourise(labels, n_classes: int) -> np.ndarray:
    """Label maps ``(..., h, w)`` as RGB images in [0, 1]: black background, one colour per class."""
    import matplotlib

    lab = _label_maps(labels, "colourise", "labels", n_classes)
    palette = np.asarray(matplotlib.colormaps["tab10"].colors + ((1.0, 1.0, 1.0),), np.float32)
    colours = np.concatenate([np.zeros((1, 3), np.float32), palette[: n_classes - 1]])
    return colours[lab]
