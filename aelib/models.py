"""Model builders. Each returns a ``keras.Model`` whose encoder and decoder are named sub-models.

``model.get_layer("encoder")`` maps images to codes and ``model.get_layer("decoder")`` maps codes back
to images, so a notebook can train the whole autoencoder with ``fit`` and still use each half.
"""

from __future__ import annotations

from collections.abc import Sequence

import numpy as np

from . import _validate

ACTIVATIONS_OUT = ("sigmoid", "linear")


def _keras():
    import keras

    return keras


# The model builders' argument checks, on the rule of aelib._validate (kept under these names for
# the topic modules that build on them).


def _check_shape(input_shape, fn: str) -> tuple[int, ...]:
    return _validate.shape(input_shape, fn)


def _check_code(code_size, fn: str) -> int:
    return _validate.integer(code_size, "code_size", fn, minimum=1)


def _check_filters(filters, shape, fn: str) -> tuple[tuple[int, ...], tuple[int, int]]:
    return _validate.halving_filters(filters, shape, fn)


def _check_out(output_activation: str, fn: str) -> str:
    return _validate.choice(output_activation, "output_activation", fn, ACTIVATIONS_OUT)


def _assemble(encoder, decoder, input_shape, name: str):
    keras = _keras()
    inputs = keras.Input(shape=input_shape, name="image")
    return keras.Model(inputs, decoder(encoder(inputs)), name=name)


def dense_autoencoder(
    input_shape=(28, 28, 1),
    code_size: int = 32,
    hidden: Sequence[int] = (512, 256),
    activation: str = "relu",
    output_activation: str = "sigmoid",
    name: str = "dense_autoencoder",
):
    """A fully connected autoencoder: flatten, ``hidden`` layers down to ``code_size``, mirror back up.

    Args:
        input_shape: ``(h, w, c)`` of one image.
        code_size: width of the code (the bottleneck); the code layer is linear.
        hidden: widths of the encoder's hidden layers, outermost first; the decoder mirrors them.
            An empty tuple with ``activation="linear"`` gives the linear autoencoder.
        activation: activation of the hidden layers.
        output_activation: ``"sigmoid"`` for images in [0, 1], ``"linear"`` otherwise.

    Returns:
        ``keras.Model`` mapping ``(batch, h, w, c)`` to the same shape, with sub-models
        ``"encoder"`` (to ``(batch, code_size)``) and ``"decoder"``.
    """
    keras = _keras()
    layers = keras.layers
    shape = _check_shape(input_shape, "dense_autoencoder")
    code_size = _check_code(code_size, "dense_autoencoder")
    _check_out(output_activation, "dense_autoencoder")
    hidden = _validate.integers(hidden, "hidden", "dense_autoencoder", allow_empty=True)
    n_pixels = shape[0] * shape[1] * shape[2]

    enc_in = keras.Input(shape=shape, name="image")
    h = layers.Flatten(name="flatten")(enc_in)
    for i, width in enumerate(hidden):
        h = layers.Dense(width, activation=activation, name=f"enc_dense_{i}")(h)
    code = layers.Dense(code_size, name="code")(h)
    encoder = keras.Model(enc_in, code, name="encoder")

    dec_in = keras.Input(shape=(code_size,), name="code_in")
    h = dec_in
    for i, width in enumerate(reversed(hidden)):
        h = layers.Dense(width, activation=activation, name=f"dec_dense_{i}")(h)
    h = layers.Dense(n_pixels, activation=output_activation, name="pixels")(h)
    decoder = keras.Model(dec_in, layers.Reshape(shape, name="to_image")(h), name="decoder")
    return _assemble(encoder, decoder, shape, name)


def linear_autoencoder(
    input_shape=(28, 28, 1), code_size: int = 32, name: str = "linear_autoencoder"
):
    """The linear autoencoder: one linear map down to ``code_size`` and one back, with biases.

    Trained with squared error it learns the same subspace as PCA (Baldi and Hornik 1989), though its
    weights need not be orthogonal or ordered by variance.
    """
    return dense_autoencoder(
        input_shape,
        code_size,
        hidden=(),
        activation="linear",
        output_activation="linear",
        name=name,
    )


DOWNSAMPLING = ("stride", "pool")
UPSAMPLING = ("transpose", "nearest", "bilinear")


def conv_autoencoder(
    input_shape=(28, 28, 1),
    code_size: int = 32,
    filters: Sequence[int] = (32, 64),
    kernel_size: int = 3,
    activation: str = "relu",
    output_activation: str = "sigmoid",
    downsampling: str = "stride",
    upsampling: str = "transpose",
    name: str = "conv_autoencoder",
):
    """A convolutional autoencoder with a dense bottleneck.

    Encoder: one block per entry of ``filters``, each halving height and width, either a stride-2
    convolution (``downsampling="stride"``, the cheaper default) or a stride-1 convolution followed by
    a 2x2 max-pool (``"pool"``); then flatten and a linear dense layer to ``code_size``.
    Decoder: a dense layer back to the last feature map, then one block per encoder block in reverse,
    each doubling height and width, either a stride-2 transposed convolution (``"transpose"``) or a
    2x resize (``"nearest"`` or ``"bilinear"``) followed by a convolution. The last block outputs the
    image's channels with ``output_activation``. Height and width must be divisible by
    ``2 ** len(filters)`` (28x28 and 32x32 both work with two blocks).

    Returns:
        ``keras.Model`` with sub-models ``"encoder"`` and ``"decoder"``.
    """
    keras = _keras()
    layers = keras.layers
    shape = _check_shape(input_shape, "conv_autoencoder")
    code_size = _check_code(code_size, "conv_autoencoder")
    _check_out(output_activation, "conv_autoencoder")
    filters, (fh, fw) = _check_filters(filters, shape, "conv_autoencoder")
    kernel_size = _validate.integer(kernel_size, "kernel_size", "conv_autoencoder", minimum=1)
    _validate.choice(downsampling, "downsampling", "conv_autoencoder", DOWNSAMPLING)
    _validate.choice(upsampling, "upsampling", "conv_autoencoder", UPSAMPLING)

    enc_in = keras.Input(shape=shape, name="image")
    h = enc_in
    for i, f in enumerate(filters):
        if downsampling == "stride":
            h = layers.Conv2D(
                f,
                kernel_size,
                strides=2,
                padding="same",
                activation=activation,
                name=f"enc_conv_{i}",
            )(h)
        else:
            h = layers.Conv2D(
                f, kernel_size, padding="same", activation=activation, name=f"enc_conv_{i}"
            )(h)
            h = layers.MaxPooling2D(2, name=f"enc_pool_{i}")(h)
    h = layers.Flatten(name="flatten")(h)
    code = layers.Dense(code_size, name="code")(h)
    encoder = keras.Model(enc_in, code, name="encoder")

    dec_in = keras.Input(shape=(code_size,), name="code_in")
    h = layers.Dense(fh * fw * filters[-1], activation=activation, name="dec_dense")(dec_in)
    h = layers.Reshape((fh, fw, filters[-1]), name="to_feature_map")(h)
    # Block i outputs the channels of encoder block n-2-i; the last block outputs the image.
    outs = list(reversed(filters[:-1])) + [shape[2]]
    for i, f in enumerate(outs):
        last = i == len(outs) - 1
        act = output_activation if last else activation
        lname = "pixels" if last else f"dec_conv_{i}"
        if upsampling == "transpose":
            h = layers.Conv2DTranspose(
                f, kernel_size, strides=2, padding="same", activation=act, name=lname
            )(h)
        else:
            h = layers.UpSampling2D(2, interpolation=upsampling, name=f"dec_up_{i}")(h)
            h = layers.Conv2D(f, kernel_size, padding="same", activation=act, name=lname)(h)
    decoder = keras.Model(dec_in, h, name="decoder")
    return _assemble(encoder, decoder, shape, name)


def encoder_of(model):
    """The ``"encoder"`` sub-model of an autoencoder built here."""
    return model.get_layer("encoder")


def decoder_of(model):
    """The ``"decoder"`` sub-model of an autoencoder built here."""
    return model.get_layer("decoder")


def predict(model, x, batch_size: int = 256):
    """``model.predict(x, verbose=0)`` as NumPy arrays, without its set-up cost on every call.

    ``model.predict`` wraps its input in a dataset and an iterator each time it is called: about
    50 ms on a two-core CPU, more than predicting a hundred 28x28 images takes, and a notebook that
    scores many models on several noise levels calls it a hundred times. This function hands
    each slice of ``batch_size`` inputs straight to the model's compiled prediction step
    (``model.predict_on_batch``): the same step, so the same outputs (up to floating-point
    rounding, which can depend on how many inputs share a batch).

    Args:
        model: a Keras model.
        x: an array ``(n, ...)``, or a list or tuple of arrays with the same ``n`` for a model with
            several inputs.
        batch_size: inputs per call (memory, not the result).

    Returns:
        An array ``(n, ...)``, or a list of them for a model with several outputs.
    """
    fn = "predict"
    batch_size = _validate.integer(batch_size, "batch_size", fn, minimum=1)
    several = isinstance(x, (list, tuple))
    inputs = [np.asarray(a) for a in (x if several else [x])]
    if not inputs:
        raise ValueError(f"{fn}(): x is an empty list; give one array per input of the model")
    sizes = {a.shape[0] if a.ndim else None for a in inputs}
    if None in sizes:
        raise ValueError(f"{fn}(): every input must be an array (n, ...), got a scalar")
    if len(sizes) > 1:
        raise ValueError(
            f"{fn}(): the inputs hold different numbers of samples {sorted(sizes)}; "
            "give every input the same first dimension"
        )
    n = sizes.pop()
    if n == 0:
        raise ValueError(f"{fn}(): x holds no samples; give at least one")
    outs = [
        model.predict_on_batch(
            [a[i : i + batch_size] for a in inputs] if several else inputs[0][i : i + batch_size]
        )
        for i in range(0, n, batch_size)
    ]
    if isinstance(outs[0], (list, tuple)):  # several outputs: one array for each
        return [np.concatenate([np.asarray(o[k]) for o in outs]) for k in range(len(outs[0]))]
    return np.concatenate([np.asarray(o) for o in outs])


# --- Inspecting a model: a layer-by-layer table and the receptive field of each spatial layer ---


def _flat_layers(model, fn: str) -> list[tuple[str, object]]:
    keras = _keras()
    if not isinstance(model, keras.Model):
        raise TypeError(f"{fn}(): model must be a keras.Model, got {type(model).__name__}")
    rows: list[tuple[str, object]] = []

    def walk(m):
        wrapper = any(isinstance(layer, keras.Model) for layer in m.layers)
        for layer in m.layers:
            if isinstance(layer, keras.Model):
                walk(layer)
            elif not (wrapper and isinstance(layer, keras.layers.InputLayer)):
                # A wrapper's own input repeats the first sub-model's input, so it is left out.
                rows.append((m.name, layer))

    walk(model)
    if not rows:
        raise ValueError(f"{fn}(): model {model.name!r} has no layers")
    return rows


def layer_table(model) -> list[dict]:
    """One row per layer of a functional ``model``, walking into nested sub-models in order.

    Sub-models such as ``"encoder"`` and ``"decoder"`` are expanded rather than listed as one layer,
    so the rows trace a tensor from the image to the code and back.

    Returns:
        A list of dicts with keys ``"model"`` (the name of the (sub-)model holding the layer),
        ``"layer"`` (its name), ``"kind"`` (its class name), ``"output_shape"`` (a tuple without the
        batch axis, e.g. ``(14, 14, 16)``) and ``"params"`` (its number of weights).

    Raises:
        TypeError: ``model`` is not a ``keras.Model``.
    """
    rows = []
    for owner, layer in _flat_layers(model, "layer_table"):
        shape = tuple(layer.output.shape)[1:]
        rows.append(
            {
                "model": owner,
                "layer": layer.name,
                "kind": type(layer).__name__,
                "output_shape": tuple(int(s) for s in shape),
                "params": int(layer.count_params()),
            }
        )
    return rows


def describe_layers(model) -> str:
    """:func:`layer_table` as fixed-width text, ending with the model's total parameter count."""
    rows = layer_table(model)
    cells = [
        (
            r["model"],
            r["layer"],
            r["kind"],
            "x".join(str(s) for s in r["output_shape"]),
            f"{r['params']:,}",
        )
        for r in rows
    ]
    cells.append(("total", "", "", "", f"{model.count_params():,}"))
    head = ("model", "layer", "kind", "output shape", "params")
    widths = [max(len(c[i]) for c in [head, *cells]) for i in range(5)]

    def line(c):
        left = "  ".join(f"{v:<{w}}" for v, w in zip(c[:3], widths[:3], strict=True))
        return f"{left}  {c[3]:>{widths[3]}}  {c[4]:>{widths[4]}}"

    return "\n".join(line(c) for c in [head, *cells])


_GEOMETRY_KEEPING = (
    "Activation",
    "ReLU",
    "LeakyReLU",
    "ELU",
    "PReLU",
    "Softmax",
    "BatchNormalization",
    "LayerNormalization",
    "GroupNormalization",
    "Dropout",
    "SpatialDropout2D",
    "GaussianNoise",
    "GaussianDropout",
)


def receptive_fields(model) -> list[dict]:
    """Receptive field of each spatial layer at the start of a convolutional ``model`` (an encoder).

    Walks the layers in order (expanding sub-models) from the input through ``Conv2D``,
    ``MaxPooling2D`` and ``AveragePooling2D`` layers (and layers that keep the geometry, such as
    activations or dropout), and stops at the first layer that does not, typically ``Flatten``.
    For a layer with kernel ``k`` (dilated: ``d (k - 1) + 1``) and stride ``s`` the recurrence is

        jump_out = jump_in * s            (input pixels between neighbouring output units)
        rf_out   = rf_in + (k - 1) * jump_in

    starting from ``rf = jump = 1`` at the input. Padding does not change the size, only where the
    field sits; near the border part of it covers padding rather than pixels.

    Returns:
        One dict per visited layer (the input first) with keys ``"layer"``, ``"kind"``, and
        ``(height, width)`` tuples ``"kernel"``, ``"stride"``, ``"jump"`` and ``"rf"``.

    Raises:
        TypeError: ``model`` is not a ``keras.Model``.
        ValueError: the model does not start with a spatial layer.
    """
    keras = _keras()
    layers = keras.layers
    rf, jump = (1, 1), (1, 1)
    rows = []
    for _, layer in _flat_layers(model, "receptive_fields"):
        kind = type(layer).__name__
        if isinstance(layer, layers.InputLayer):
            kernel = stride = (1, 1)
        elif isinstance(layer, layers.Conv2D):
            kernel = tuple(
                d * (k - 1) + 1 for k, d in zip(layer.kernel_size, layer.dilation_rate, strict=True)
            )
            stride = tuple(layer.strides)
        elif isinstance(layer, (layers.MaxPooling2D, layers.AveragePooling2D)):
            kernel, stride = tuple(layer.pool_size), tuple(layer.strides)
        elif kind in _GEOMETRY_KEEPING:
            kernel = stride = (1, 1)
        else:
            break
        rf = tuple(r + (k - 1) * j for r, k, j in zip(rf, kernel, jump, strict=True))
        jump = tuple(j * s for j, s in zip(jump, stride, strict=True))
        rows.append(
            {
                "layer": layer.name,
                "kind": kind,
                "kernel": kernel,
                "stride": stride,
                "jump": jump,
                "rf": rf,
            }
        )
    if len(rows) < 2:
        raise ValueError(
            f"receptive_fields(): model {model.name!r} does not start with a convolution "
            "or pooling layer"
        )
    return rows
