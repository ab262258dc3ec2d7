"""Model builders. Each returns a ``keras.Model`` whose encoder and decoder are named sub-models.

``model.get_layer("encoder")`` maps images to codes and ``model.get_layer("decoder")`` maps codes back
to images, so a notebook can train the whole autoencoder with ``fit`` and still use each half.
"""

from __future__ import annotations

from collections.abc import Sequence

ACTIVATIONS_OUT = ("sigmoid", "linear")


def _keras():
    import keras

    return keras


def _check_shape(input_shape, fn: str) -> tuple[int, ...]:
    shape = tuple(int(s) for s in input_shape)
    if len(shape) != 3 or min(shape) <= 0:
        raise ValueError(f"{fn}(): input_shape must be (height, width, channels), got {input_shape!r}")
    return shape


def _check_code(code_size, fn: str) -> int:
    if not isinstance(code_size, int) or code_size <= 0:
        raise ValueError(f"{fn}(): code_size must be a positive int, got {code_size!r}")
    return code_size


def _check_out(output_activation: str, fn: str) -> str:
    if output_activation not in ACTIVATIONS_OUT:
        raise ValueError(f"{fn}(): output_activation must be one of {ACTIVATIONS_OUT}, got {output_activation!r}")
    return output_activation


def _assemble(encoder, decoder, input_shape, name: str):
    keras = _keras()
    inputs = keras.Input(shape=input_shape, name="image")
    return keras.Model(inputs, decoder(encoder(inputs)), name=name)


def dense_autoencoder(input_shape=(28, 28, 1), code_size: int = 32, hidden: Sequence[int] = (512, 256),
                      activation: str = "relu", output_activation: str = "sigmoid",
                      name: str = "dense_autoencoder"):
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
    hidden = tuple(int(h) for h in hidden)
    if any(h <= 0 for h in hidden):
        raise ValueError(f"dense_autoencoder(): hidden widths must be positive, got {hidden}")
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


def linear_autoencoder(input_shape=(28, 28, 1), code_size: int = 32, name: str = "linear_autoencoder"):
    """The linear autoencoder: one linear map down to ``code_size`` and one back, with biases.

    Trained with squared error it learns the same subspace as PCA (Baldi and Hornik 1989), though its
    weights need not be orthogonal or ordered by variance.
    """
    return dense_autoencoder(input_shape, code_size, hidden=(), activation="linear",
                             output_activation="linear", name=name)


DOWNSAMPLING = ("stride", "pool")
UPSAMPLING = ("transpose", "nearest", "bilinear")


def conv_autoencoder(input_shape=(28, 28, 1), code_size: int = 32, filters: Sequence[int] = (32, 64),
                     kernel_size: int = 3, activation: str = "relu", output_activation: str = "sigmoid",
                     downsampling: str = "stride", upsampling: str = "transpose",
                     name: str = "conv_autoencoder"):
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
    filters = tuple(int(f) for f in filters)
    if not filters or any(f <= 0 for f in filters):
        raise ValueError(f"conv_autoencoder(): filters must be positive ints, got {filters}")
    factor = 2 ** len(filters)
    if shape[0] % factor or shape[1] % factor:
        raise ValueError(
            f"conv_autoencoder(): height and width {shape[:2]} must be divisible by {factor} "
            f"for {len(filters)} pooling blocks"
        )
    fh, fw = shape[0] // factor, shape[1] // factor

    if downsampling not in DOWNSAMPLING:
        raise ValueError(f"conv_autoencoder(): downsampling must be one of {DOWNSAMPLING}, got {downsampling!r}")
    if upsampling not in UPSAMPLING:
        raise ValueError(f"conv_autoencoder(): upsampling must be one of {UPSAMPLING}, got {upsampling!r}")

    enc_in = keras.Input(shape=shape, name="image")
    h = enc_in
    for i, f in enumerate(filters):
        if downsampling == "stride":
            h = layers.Conv2D(f, kernel_size, strides=2, padding="same", activation=activation,
                              name=f"enc_conv_{i}")(h)
        else:
            h = layers.Conv2D(f, kernel_size, padding="same", activation=activation, name=f"enc_conv_{i}")(h)
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
            h = layers.Conv2DTranspose(f, kernel_size, strides=2, padding="same", activation=act, name=lname)(h)
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
