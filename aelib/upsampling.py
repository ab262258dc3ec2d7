"""Ways for a decoder to double the resolution, and autoencoders that differ only in that step.

Six methods, all mapping a ``(batch, h, w, c_in)`` feature map to ``(batch, 2h, 2w, c_out)``:

========================  ==================================================================
``"nearest"``             copy each value into a 2x2 block, then a 3x3 convolution
``"bilinear"``            bilinear 2x resize, then a 3x3 convolution
``"transpose_k3"``        transposed convolution, kernel 3, stride 2 (uneven overlap)
``"transpose_k4"``        transposed convolution, kernel 4, stride 2 (even overlap)
``"subpixel"``            2x2 convolution to ``4 * c_out`` channels, then depth-to-space
                          (Shi et al. 2016); as many weights as ``"transpose_k4"``
``"unpool"``              max-unpooling with the encoder's argmax switches (Zeiler and Fergus
                          2014; SegNet, Badrinarayanan et al. 2017), then a 3x3 convolution
========================  ==================================================================

The custom layers use ``keras.ops`` only, so they run on every Keras backend, and they are registered
under the package name ``"aelib"``: import this module before ``keras.models.load_model(path,
safe_mode=True)`` and a saved model comes back whole.
"""

from __future__ import annotations

from collections.abc import Sequence

import keras
import numpy as np
from keras import ops

from . import _validate
from .models import ACTIVATIONS_OUT

METHODS: tuple[str, ...] = (
    "nearest",
    "bilinear",
    "transpose_k3",
    "transpose_k4",
    "subpixel",
    "unpool",
)

LABELS: dict[str, str] = {
    "nearest": "nearest + conv",
    "bilinear": "bilinear + conv",
    "transpose_k3": "transposed k3 s2",
    "transpose_k4": "transposed k4 s2",
    "subpixel": "sub-pixel conv",
    "unpool": "max-unpooling + conv",
}


def _check_method(method, fn: str) -> str:
    return _validate.choice(method, "method", fn, METHODS)


@keras.saving.register_keras_serializable(package="aelib")
class MaxPoolingWithArgmax2D(keras.layers.Layer):
    """2x2 max-pooling with stride 2 that also returns where each maximum came from.

    Input ``(batch, h, w, c)`` with even ``h`` and ``w``. Returns ``[pooled, switches]``: the pooled
    map ``(batch, h/2, w/2, c)`` (equal to ``MaxPooling2D(2)``) and int32 switches of the same
    shape, the position of the maximum inside its 2x2 window numbered row-major (0 top-left,
    1 top-right, 2 bottom-left, 3 bottom-right). Ties go to the lowest number.
    """

    def compute_output_spec(self, x):
        b, h, w, c = x.shape
        if h is None or w is None:
            raise ValueError(
                f"{self.name}: needs a static height and width, got input shape {x.shape}"
            )
        shape = (b, h // 2, w // 2, c)
        return [keras.KerasTensor(shape, dtype=x.dtype), keras.KerasTensor(shape, dtype="int32")]

    def call(self, x):
        h, w, c = x.shape[1], x.shape[2], x.shape[3]
        if h % 2 or w % 2:
            raise ValueError(f"{self.name}: height and width must be even, got {(h, w)}")
        pooled = ops.max_pool(x, pool_size=2, strides=2, padding="valid")
        # The switches carry no gradient, so the window bookkeeping stays out of backpropagation.
        windows = ops.reshape(ops.stop_gradient(x), (-1, h // 2, 2, w // 2, 2, c))
        windows = ops.transpose(windows, (0, 1, 3, 5, 2, 4))  # (b, h/2, w/2, c, 2, 2)
        switches = ops.argmax(ops.reshape(windows, (-1, h // 2, w // 2, c, 4)), axis=-1)
        return [pooled, ops.cast(switches, "int32")]


@keras.saving.register_keras_serializable(package="aelib")
class MaxUnpooling2D(keras.layers.Layer):
    """The inverse of :class:`MaxPoolingWithArgmax2D`: put each value back where its maximum was.

    Inputs ``[x, switches]``, both ``(batch, h, w, c)``; returns ``(batch, 2h, 2w, c)`` with ``x`` at
    the switch position of each 2x2 window and zeros at the other three.
    """

    def compute_output_spec(self, inputs):
        x = inputs[0]
        b, h, w, c = x.shape
        if h is None or w is None:
            raise ValueError(
                f"{self.name}: needs a static height and width, got input shape {x.shape}"
            )
        return keras.KerasTensor((b, 2 * h, 2 * w, c), dtype=x.dtype)

    def call(self, inputs):
        x, switches = inputs
        h, w, c = x.shape[1], x.shape[2], x.shape[3]
        if tuple(switches.shape[1:]) != (h, w, c):
            raise ValueError(
                f"{self.name}: switches must have the shape of x, (batch, {h}, {w}, {c}), "
                f"got {tuple(switches.shape)}"
            )
        # A 0/1 mask with one 1 per 2x2 window, times the nearest-neighbour copy of x.
        mask = ops.one_hot(ops.cast(switches, "int32"), 4, dtype=x.dtype)  # (b, h, w, c, 4)
        mask = ops.transpose(ops.reshape(mask, (-1, h, w, c, 2, 2)), (0, 1, 4, 2, 5, 3))
        mask = ops.reshape(mask, (-1, 2 * h, 2 * w, c))
        copied = ops.repeat(ops.repeat(x, 2, axis=1), 2, axis=2)
        return mask * copied


@keras.saving.register_keras_serializable(package="aelib")
class DepthToSpace(keras.layers.Layer):
    """Pixel shuffle: ``(batch, h, w, r*r*c)`` to ``(batch, r*h, r*w, c)`` with ``r = block_size``.

    Output pixel ``(r*i + di, r*j + dj)`` of channel ``k`` is input channel ``(di*r + dj)*c + k`` at
    ``(i, j)``, the layout of ``tf.nn.depth_to_space``.
    """

    def __init__(self, block_size: int = 2, **kwargs):
        super().__init__(**kwargs)
        self.block_size = _validate.integer(block_size, "block_size", "DepthToSpace", minimum=2)

    def compute_output_spec(self, x):
        b, h, w, c = x.shape
        r = self.block_size
        if c % (r * r):
            raise ValueError(f"{self.name}: channels must be divisible by {r * r}, got {c}")
        return keras.KerasTensor((b, r * h, r * w, c // (r * r)), dtype=x.dtype)

    def call(self, x):
        return ops.depth_to_space(x, self.block_size)

    def get_config(self):
        return {**super().get_config(), "block_size": self.block_size}


def upsample(
    x,
    method: str,
    filters: int,
    name: str,
    switches=None,
    activation: str | None = "relu",
    use_bias: bool = True,
    kernel_initializer="glorot_uniform",
):
    """Apply one 2x upsampling step of ``method`` to the Keras tensor ``x``.

    Args:
        x: ``(batch, h, w, c_in)`` symbolic or eager tensor.
        method: one of :data:`METHODS`.
        filters: output channels ``c_out``.
        name: prefix of the layer names: ``_resize``, ``_conv``, ``_tconv``, ``_shuffle`` or
            ``_unpool`` is appended, so a model can name every layer explicitly.
        switches: ``(batch, h, w, c_in)`` argmax switches from :class:`MaxPoolingWithArgmax2D`;
            required for ``"unpool"`` and refused otherwise.
        activation, use_bias, kernel_initializer: passed to the (transposed) convolution.

    Returns:
        ``(batch, 2h, 2w, filters)``. Every method has ``9 * c_in * filters`` weights except
        ``"transpose_k4"`` and ``"subpixel"``, which have ``16 * c_in * filters``.
    """
    layers = keras.layers
    _check_method(method, "upsample")
    if (switches is None) == (method == "unpool"):
        need = "needs" if method == "unpool" else "takes no"
        raise ValueError(
            f"upsample(): method {method!r} {need} switches, got {type(switches).__name__}"
        )
    conv_kw = dict(activation=activation, use_bias=use_bias, kernel_initializer=kernel_initializer)
    if method in ("nearest", "bilinear"):
        x = layers.UpSampling2D(2, interpolation=method, name=f"{name}_resize")(x)
        return layers.Conv2D(filters, 3, padding="same", name=f"{name}_conv", **conv_kw)(x)
    if method in ("transpose_k3", "transpose_k4"):
        k = 3 if method == "transpose_k3" else 4
        return layers.Conv2DTranspose(
            filters, k, strides=2, padding="same", name=f"{name}_tconv", **conv_kw
        )(x)
    if method == "subpixel":
        x = layers.Conv2D(4 * filters, 2, padding="same", name=f"{name}_conv", **conv_kw)(x)
        return DepthToSpace(2, name=f"{name}_shuffle")(x)
    x = MaxUnpooling2D(name=f"{name}_unpool")([x, switches])
    return layers.Conv2D(filters, 3, padding="same", name=f"{name}_conv", **conv_kw)(x)


def upsampling_autoencoder(
    method: str,
    input_shape=(28, 28, 1),
    code_size: int = 32,
    filters: Sequence[int] = (8, 16),
    activation: str = "relu",
    output_activation: str = "sigmoid",
    name: str | None = None,
):
    """A small convolutional autoencoder whose decoder upsamples with ``method``.

    Encoder (the same for every method): per entry of ``filters`` a 3x3 convolution and a 2x2
    max-pool, then a linear dense layer to ``code_size``. Decoder: a dense layer back to the last
    feature map, then one :func:`upsample` step per encoder block, the last one producing the
    image's channels with ``output_activation``. Only the upsampling steps differ between methods.

    For ``"unpool"`` the encoder also returns the pooling switches, and the decoder takes them:
    ``encoder(x) -> [code, switches_0, switches_1, ...]`` and ``decoder([code, ...]) -> image``.
    The switches carry information around the code (about 2 bits per pooled value), so this
    model is not held to the same bottleneck as the others; see :func:`switch_bits`.

    Returns:
        ``keras.Model`` ``(batch, h, w, c) -> (batch, h, w, c)`` named ``name`` (default
        ``f"ae_{method}"``) with sub-models ``"encoder"`` and ``"decoder"``.
    """
    layers = keras.layers
    fn = "upsampling_autoencoder"
    _check_method(method, fn)
    shape = _validate.shape(input_shape, fn)
    code_size = _validate.integer(code_size, "code_size", fn, minimum=1)
    _validate.choice(output_activation, "output_activation", fn, ACTIVATIONS_OUT)
    filters, (fh, fw) = _validate.halving_filters(filters, shape, fn)
    unpool = method == "unpool"

    enc_in = keras.Input(shape=shape, name="image")
    h, switches = enc_in, []
    for i, f in enumerate(filters):
        h = layers.Conv2D(f, 3, padding="same", activation=activation, name=f"enc_conv_{i}")(h)
        if unpool:
            h, s = MaxPoolingWithArgmax2D(name=f"enc_pool_{i}")(h)
            switches.append(s)
        else:
            h = layers.MaxPooling2D(2, name=f"enc_pool_{i}")(h)
    h = layers.Flatten(name="flatten")(h)
    code = layers.Dense(code_size, name="code")(h)
    encoder = keras.Model(enc_in, [code, *switches] if unpool else code, name="encoder")

    code_in = keras.Input(shape=(code_size,), name="code_in")
    dec_inputs = [code_in]
    if unpool:
        sizes = [(shape[0] >> (i + 1), shape[1] >> (i + 1), f) for i, f in enumerate(filters)]
        dec_inputs += [
            keras.Input(shape=s, dtype="int32", name=f"switches_{i}") for i, s in enumerate(sizes)
        ]
    h = layers.Dense(fh * fw * filters[-1], activation=activation, name="dec_dense")(code_in)
    h = layers.Reshape((fh, fw, filters[-1]), name="to_feature_map")(h)
    outs = list(reversed(filters[:-1])) + [shape[2]]
    for i, f in enumerate(outs):
        last = i == len(outs) - 1
        s = dec_inputs[len(filters) - i] if unpool else None
        h = upsample(
            h,
            method,
            f,
            name="pixels" if last else f"dec_{i}",
            switches=s,
            activation=output_activation if last else activation,
        )
    decoder = keras.Model(dec_inputs if unpool else code_in, h, name="decoder")

    inputs = keras.Input(shape=shape, name="image")
    return keras.Model(inputs, decoder(encoder(inputs)), name=name or f"ae_{method}")


def switch_bits(model) -> int:
    """Bits per image that the pooling switches pass around the code (0 for non-unpooling models).

    Each pooled value's switch is one of 4 positions, at most ``log2(4) = 2`` bits.
    """
    encoder = model.get_layer("encoder")
    outputs = encoder.outputs[1:]
    return int(sum(2 * np.prod(o.shape[1:]) for o in outputs))


def unit_weight_response(method: str, size: int = 7, steps: int = 2) -> np.ndarray:
    """What a chain of ``steps`` upsampling steps makes of a constant image when every weight is 1.

    One channel, no biases, no activations: the output shows only how the method spreads its
    input over the finer grid. Uneven overlap (``"transpose_k3"``) gives a periodic pattern;
    resizing followed by a convolution gives a flat interior. For ``"unpool"`` the switches come
    from max-pooling a constant image, so every maximum is the first (top-left) position.

    Returns:
        ``(size * 2**steps, size * 2**steps)`` float64 array.
    """
    _check_method(method, "unit_weight_response")
    size = _validate.integer(size, "size", "unit_weight_response", minimum=3)
    steps = _validate.integer(steps, "steps", "unit_weight_response", minimum=1)
    inp = keras.Input(shape=(size, size, 1), name="constant")
    inputs, feeds = [inp], [np.ones((1, size, size, 1), np.float32)]
    if method == "unpool":
        # Switches of a constant image, from the finest (first pooled) to the coarsest.
        flat = np.ones((1, size * 2**steps, size * 2**steps, 1), np.float32)
        for i in range(steps):
            flat, s = MaxPoolingWithArgmax2D(name=f"pool_{i}")(flat)
            feeds.append(ops.convert_to_numpy(s))
            inputs.append(keras.Input(shape=s.shape[1:], dtype="int32", name=f"switches_{i}"))
    h = inp
    for i in range(steps):
        s = inputs[steps - i] if method == "unpool" else None
        h = upsample(
            h,
            method,
            1,
            name=f"step_{i}",
            switches=s,
            activation=None,
            use_bias=False,
            kernel_initializer="ones",
        )
    out = keras.Model(inputs, h, name=f"unit_{method}")(feeds)
    return ops.convert_to_numpy(out).astype(np.float64)[0, :, :, 0]


def thumbnail_baseline(images, size: int) -> np.ndarray:
    """Reconstruct images from a ``size x size`` thumbnail: a learning-free baseline.

    Each image is averaged down to ``size x size`` (area interpolation: the mean of the pixels each
    thumbnail pixel covers) and resized back with bicubic interpolation, then clipped to [0, 1].
    The thumbnail holds ``size * size * c`` numbers per image, to set against an autoencoder's code.

    Args:
        images: ``(n, h, w, c)`` with values in [0, 1].
        size: thumbnail height and width, ``1 <= size <= min(h, w)``.

    Returns:
        ``(n, h, w, c)`` float32 reconstructions.
    """
    x = np.asarray(images, dtype=np.float32)
    if x.ndim != 4:
        raise ValueError(f"thumbnail_baseline(): images must be (n, h, w, c), got shape {x.shape}")
    h, w = x.shape[1:3]
    size = _validate.integer(size, "size", "thumbnail_baseline", minimum=1, maximum=min(h, w))
    small = ops.image.resize(x, (size, size), interpolation="area")
    back = ops.image.resize(small, (h, w), interpolation="bicubic")
    return np.clip(ops.convert_to_numpy(back), 0.0, 1.0).astype(np.float32)
