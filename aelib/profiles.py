"""Run profiles: how much data and training each notebook uses.

A profile is data, not code paths: notebooks read ``P.epochs`` or ``P.n_train`` and never branch on
the profile's name. ``full`` is the real lesson (the default, and what the committed outputs show);
``quick`` is the smoke run that CI executes, small enough for a minute per notebook on two CPU cores.

A profile may carry sizes for a GPU (``on_gpu``): :func:`aelib.setup` applies them when TensorFlow
sees a GPU, so the same notebook trains longer where training is cheap. ``$AELIB_DEVICE`` (``cpu``
or ``gpu``) overrides the detection, for instance to check the GPU sizes' claims on a CPU.
"""

from __future__ import annotations

import os
from dataclasses import asdict, dataclass, field, replace

ENV_VAR = "AELIB_PROFILE"
DEVICE_VAR = "AELIB_DEVICE"
DEVICES = ("cpu", "gpu")


@dataclass(frozen=True)
class Profile:
    """Sizes and budgets shared by every notebook.

    Attributes:
        name: ``"full"`` or ``"quick"``.
        n_train: training images per model (``None``: the whole training split).
        n_test: held-out images used for every reported number (``None``: the whole test split).
        epochs: epochs for a notebook's main model.
        sweep_epochs: epochs for each model inside a sweep (code sizes, methods, betas, classes).
        sweep_n_train: training images per model inside a sweep (``None``: as ``n_train``).
        batch_size: mini-batch size for training.
        code_sizes: the code (latent) sizes a sweep visits.
        n_classes: how many classes a one-class-per-class table covers.
        iw_samples: importance samples for a VAE's likelihood estimate.
        seeds: how many seeds train each side of a comparison of trained models (mean ± std).
        lr_grid: the learning rates a search on validation data tries, for a model and its baseline.
        dpi: resolution of inline figures.
        extra: free-form additions.
        on_gpu: the fields that change where a GPU is present (see :meth:`for_device`).
        device: ``"cpu"`` or ``"gpu"``: which sizes these are.
    """

    name: str
    n_train: int | None
    n_test: int | None
    epochs: int
    sweep_epochs: int
    sweep_n_train: int | None
    batch_size: int
    code_sizes: tuple[int, ...]
    n_classes: int
    iw_samples: int
    seeds: int = 2
    lr_grid: tuple[float, ...] = (1e-3, 3e-3)
    dpi: int = 72
    extra: dict = field(default_factory=dict)
    on_gpu: dict = field(default_factory=dict)
    device: str = "cpu"

    def __post_init__(self):
        settable = set(self.__dataclass_fields__) - {"name", "on_gpu", "device"}
        unknown = set(self.on_gpu) - settable
        if unknown:
            raise ValueError(f"profile {self.name!r}: on_gpu cannot set {sorted(unknown)}")
        if self.device not in DEVICES:
            raise ValueError(
                f"profile {self.name!r}: device must be one of {DEVICES}, got {self.device!r}"
            )

    def for_device(self, device: str) -> Profile:
        """These sizes for ``device`` (``"cpu"`` or ``"gpu"``): ``on_gpu`` applied on a GPU.

        Raises:
            ValueError: an unknown device name.
        """
        device = str(device).strip().lower()
        if device not in DEVICES:
            raise ValueError(f"unknown device {device!r}: expected one of {', '.join(DEVICES)}")
        base = PROFILES.get(self.name, self) if self.device != "cpu" else self
        if device == "cpu":
            return base
        return replace(base, device="gpu", **base.on_gpu)

    def as_dict(self) -> dict:
        return asdict(self)


PROFILES: dict[str, Profile] = {
    "full": Profile(
        name="full",
        n_train=None,
        n_test=None,
        epochs=20,
        sweep_epochs=10,
        sweep_n_train=20_000,
        batch_size=256,
        code_sizes=(2, 4, 8, 16, 32, 64),
        n_classes=10,
        iw_samples=200,
        seeds=3,
        lr_grid=(1e-3, 3e-3, 1e-2),
        # Per-notebook sizes, named "<notebook number>_<what>" (read as P.extra["01_..."]).
        extra={
            # 01, full
            "01_n_train": None,  # training images (None: all 60,000)
            "01_n_val": 5_000,  # validation images carved from the training split
            "01_sweep_n_train": 15_000,  # the code-size sweep's and the depth comparison's images
            "01_code_sizes": (2, 4, 8, 16, 32, 64),
            "01_batch_size": 64,  # on 2 CPU cores batch 64 converges in fewer seconds than 256
            "01_lr": 2e-3,
            "01_linear_epochs": 20,
            "01_sweep_epochs": 10,
            "01_main_epochs": 10,
            "01_short_epochs": 1,  # a few hundred steps, like the earlier version's budget
            "01_main_target": 0.5,  # main conv model at code 32: at most this times PCA's error
            "01_mnist_n_val": 500,
            "01_mnist_epochs": 30,
            # 02, full
            "02_n_train": 10_000,  # Fashion-MNIST images the main models and the LR search train on
            "02_n_val": 2_000,  # a validation split carved from the training split
            "02_sweep_n_train": 3_000,  # the code-size sweep's and the loss comparison's images
            "02_epochs": 15,
            "02_batch_size": 128,
            "02_rgb_n_train": 4_000,  # 32x32x3 training images
            "02_rgb_epochs": 20,
            # 03, full
            "03_n_fit": 10_000,
            "03_n_val": 1_000,
            "03_epochs": 10,
            "03_batch": 64,
            "03_lr": 3e-3,
            "03_early_steps": 32,
            "03_steps_per_execution": 8,
        },
        # On a GPU, half as many epochs again for the notebooks that read these fields (04-06);
        # their checks pass with these sizes (verified on a CPU with AELIB_DEVICE=gpu; see the
        # README's Speed section). 01-03 read their own sizes from `extra`, the same on any device.
        on_gpu={"epochs": 30, "sweep_epochs": 15},
    ),
    "quick": Profile(
        name="quick",
        n_train=3_000,
        n_test=1_000,
        epochs=8,
        sweep_epochs=5,
        sweep_n_train=2_000,
        batch_size=128,
        code_sizes=(2, 8, 32),
        n_classes=3,
        iw_samples=20,
        seeds=2,
        lr_grid=(1e-3, 3e-3),
        extra={
            # 01, quick
            "01_n_train": 8_000,  # a conv AE at code 32 needs thousands of images to beat PCA
            "01_n_val": 500,
            "01_sweep_n_train": 3_000,
            "01_code_sizes": (2, 8),  # at k=32 on 3,000 images the gap to PCA is within the spread
            "01_batch_size": 64,
            "01_lr": 2e-3,
            "01_linear_epochs": 15,
            "01_sweep_epochs": 8,
            "01_main_epochs": 5,
            "01_short_epochs": 1,
            "01_main_target": 1.0,  # 7,500 images, 5 epochs: it beats PCA, not by the full 0.5
            "01_mnist_n_val": 500,
            "01_mnist_epochs": 6,
            # 02, quick
            "02_n_train": 1_500,
            "02_n_val": 500,
            "02_sweep_n_train": 800,
            "02_epochs": 6,
            "02_batch_size": 32,  # small batches: more updates in the little time CI has
            "02_rgb_n_train": 1_500,
            "02_rgb_epochs": 6,
            # 03, quick
            "03_n_fit": 2_000,
            "03_n_val": 500,
            "03_epochs": 4,
            "03_batch": 32,
            "03_lr": 3e-3,
            "03_early_steps": 32,
            "03_steps_per_execution": 8,
        },
    ),
}


def device_from_env(default: str) -> str:
    """``$AELIB_DEVICE`` (``cpu`` or ``gpu``) when set, else ``default``.

    Raises:
        ValueError: ``$AELIB_DEVICE`` holds something else; the message names it.
    """
    value = os.environ.get(DEVICE_VAR, "").strip().lower()
    if not value:
        return default
    if value not in DEVICES:
        raise ValueError(f"unknown ${DEVICE_VAR} {value!r}: expected one of {', '.join(DEVICES)}")
    return value


def get_profile(name: str | None = None) -> Profile:
    """Return the profile called ``name``, or the one named by ``$AELIB_PROFILE`` (default ``full``).

    These are the CPU sizes; :meth:`Profile.for_device` gives the sizes for a GPU.

    Raises:
        ValueError: the name is not one of ``PROFILES``; the message lists the valid names.
    """
    if name is None:
        name = os.environ.get(ENV_VAR, "").strip() or "full"
    key = name.strip().lower()
    if key not in PROFILES:
        valid = ", ".join(sorted(PROFILES))
        source = f"${ENV_VAR}" if name == os.environ.get(ENV_VAR) else "profile"
        raise ValueError(f"unknown {source} {name!r}: expected one of {valid}")
    return PROFILES[key]
