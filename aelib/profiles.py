"""Run profiles: how much data and training each notebook uses.

A profile is data, not code paths: notebooks read ``P.epochs`` or ``P.n_train`` and never branch on
the profile's name. ``full`` is the real lesson (the default, and what the committed outputs show);
``quick`` is the smoke run that CI executes, small enough for a minute per notebook on two CPU cores.

The sizes are the same on every device: a GPU makes a run faster, never different, so the numbers
in the committed outputs are the numbers a learner gets anywhere.
"""

from __future__ import annotations

import os
from dataclasses import asdict, dataclass, field

ENV_VAR = "AELIB_PROFILE"


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
            # 04, full
            "04_n_fit": 12_000,  # training images of every autoencoder (and the PCA and prior sets)
            "04_n_val": 1_000,  # validation images: learning curves, tuning of every method
            "04_n_tune": 200,  # validation images each classical method is tuned on
            "04_n_tune_bm3d": 60,  # BM3D costs about 0.1 s per image: fewer to tune on
            "04_n_eval": 500,  # test images every method is scored on (BM3D included)
            "04_epochs": 12,
            "04_batch": 64,  # small batches: the number of steps is what this model needs
            "04_lr": 2e-3,
            "04_steps_per_execution": 8,
            "04_sigma_high": 1.5,  # the high noise level of the E[x | noisy x] section
            "04_high_epochs": 12,  # epochs of the autoencoders trained at that level
            "04_memo_n": 512,  # the fixed-copy experiment's training images
            "04_memo_epochs": 40,
            # 05, full
            "05_n_train": None,  # binarised training images (None: all 54,000 left after validation)
            "05_n_val": 6_000,  # validation images carved from the training split
            "05_n_test": None,  # test images for figures (None: all 10,000)
            "05_n_eval": 1_000,  # test images behind every -ELBO / IW-NLL number
            "05_batch": 256,
            "05_lr": 1e-3,
            "05_epochs": 20,  # the latent-16 VAEs of sections 5 and 8.3 (with and without warm-up)
            "05_warmup_epochs": 10,  # KL warm-up over the first half
            "05_2d_epochs": 10,
            "05_sweep_n_train": 20_000,  # the beta sweep's and the plain autoencoders' images
            "05_sweep_epochs": 10,
            "05_iw_samples": 200,  # importance samples k
            "05_iw_repeats": 3,  # repeats with fresh noise: the Monte-Carlo error
            "05_prior_samples": 5_000,  # decoded samples per generator in the sampled NLL
            "05_mnist_epochs": 20,
            "05_steps_per_execution": 8,  # a speed setting only
            # 06, full
            "06_digit_n_train": 4_000,  # MNIST images for the digit-1 example (all of the sample)
            "06_digit_epochs": 60,  # ~360 normal images: small batches, many epochs
            "06_digit_batch": 32,
            "06_design_classes": 10,  # MNIST digits the scores and baseline settings are chosen on
            "06_design_n_val": 50,  # normal validation images per digit (the rest, ~310, train)
            "06_design_epochs": 30,
            "06_design_batch": 32,
            "06_classes": 10,  # Fashion-MNIST classes in the table
            "06_n_fit": 2_000,  # training images per class, the same for every detector
            "06_n_val": 500,  # normal images that standardise the score's parts
            "06_n_cal": 1_000,  # normal images that set the threshold
            "06_n_test": None,  # Fashion-MNIST test images (None: all 10,000)
            "06_epochs": 10,
            "06_batch": 64,
            "06_lr": 3e-3,
            "06_steps_per_execution": 8,  # a speed setting only
            "06_ocsvm_nu": (0.05, 0.1, 0.5),
            "06_ocsvm_gamma": (0.3, 1.0, 3.0),  # multiples of scikit-learn's "scale" gamma
            "06_iforest_max_samples": (64, 128, 256),
            # 07, full
            "07_n_fit": 5_000,  # training images of every autoencoder (labels unused by them)
            "07_n_val": 1_000,  # labelled validation images: every weight, C and PCA size is chosen on them
            "07_n_test": 2_000,  # test images behind every reported number
            "07_n_ood": 1_000,  # MNIST digits and noise images: inputs unlike the training data
            "07_code_size": 1_024,  # wider than the 784 pixels: overcomplete
            "07_epochs": 8,
            "07_batch": 64,
            "07_lr": 3e-3,
            "07_steps_per_execution": 8,  # a speed setting only
            "07_rho": 0.05,  # the KL penalty's target mean activation
            "07_l1_weights": (1e-5, 1e-4),  # each grid is searched on validation data
            "07_kl_weights": (1e-3, 3e-3),
            "07_contractive_weights": (3e-4, 1e-3),
            "07_noise_levels": (0.2, 0.5),  # the denoising autoencoder's input noise (std)
            "07_select_labels": 1_000,  # labelled training images behind the validation choice
            "07_label_counts": (100, 1_000),  # labelled images of the linear probes
            "07_label_draws": 2,  # draws of the labelled images per seed, averaged
            "07_probe_cs": (0.01, 0.1, 1.0, 10.0),  # the probe's C (inverse regularisation) grid
            "07_pca_sizes": (16, 64, 256),
            # 08, full
            "08_n_fit": 10_000,  # training images of every VQ-VAE, VAE and prior
            "08_n_val": 2_000,  # validation images: every choice (codebook variant, VAE's sigma)
            "08_n_test": 2_000,  # test images behind every reported number
            "08_n_monitor": 1_000,  # validation images the codebook is watched on after each epoch
            "08_num_codes": 64,  # K, the codebook size of the main comparison
            "08_code_dim": 16,  # D, the length of each code vector
            "08_filters": (16, 32),  # conv widths of the encoders (decoders mirror them)
            "08_beta": 0.25,  # commitment weight
            "08_decay": 0.99,  # the moving averages' decay (EMA codebooks)
            "08_epochs": 5,
            "08_batch": 128,
            "08_lr": 2e-3,
            "08_steps_per_execution": 8,  # a speed setting only
            "08_restart_images": 1_000,  # training images whose codes decide which codes are dead
            "08_sweep_codes": (16, 256),  # the other codebook sizes (one seed each)
            "08_vae_latent": 32,
            # the VAE's pixel std: the one whose rate is closest to the VQ-VAE's bits, on validation
            "08_vae_sigmas": (0.1, 0.05, 0.025),
            "08_prior_filters": 32,
            "08_prior_layers": 2,
            "08_prior_epochs": 12,
            "08_prior_lr": 3e-3,
            "08_n_samples": 1_000,  # generated images per model that the classifier judges
            "08_clf_epochs": 3,
            "08_clf_n_train": 20_000,  # labelled training images of the classifier that judges samples
            # 09, full
            "09_n_fit": 6_000,  # Fashion-MNIST training images of the super-resolution and inpainting nets
            "09_n_val": 1_000,  # validation images: the claims' margins and the budgets are chosen on them
            "09_n_test": 2_000,  # test images behind every reported number
            "09_batch": 32,
            "09_lr": 2e-3,
            "09_steps_per_execution": 8,  # a speed setting only
            "09_jit_compile": False,  # XLA: a speed setting only
            "09_espcn_filters": (
                64,
                32,
            ),  # the hidden convolutions of every ESPCN (Shi et al. 2016)
            "09_espcn_kernels": (5, 3),
            "09_ed_filters": (
                16,
                32,
                64,
            ),  # the no-skip super-resolution encoder-decoder (bottom 7x7)
            "09_ed_convs": 1,  # 3x3 convolutions per level of the no-skip super-resolution net
            "09_sr_epochs": 8,
            "09_margin_db": 1.0,  # PSNR margin over bicubic, Fashion-MNIST (set from validation)
            "09_photo_n_fit": 3_000,  # luminance patches of the training photograph
            "09_photo_n_val": 500,
            "09_photo_patch": 48,  # patch side at the high resolution (16 at the low one)
            "09_photo_batch": 16,
            "09_photo_epochs": 6,
            "09_photo_lr": 1e-3,
            "09_photo_margin_db": 0.02,  # on the photographs: a fifth of the validation gain
            "09_photo_crop": (2, 280, 80),  # top, left, side of the detail shown (held-out rows)
            "09_box_sizes": (8, 14),  # sides of the inpainting holes
            "09_n_biharmonic": 2_000,  # test images of every inpainting number
            "09_inpaint_filters": (16, 32, 64),
            "09_inpaint_convs": 1,  # 3x3 convolutions per level of both inpainting nets
            "09_inpaint_epochs": 5,
            "09_scenes_fit": 2_000,  # 64x64 scenes of garments
            "09_scenes_val": 500,
            "09_scenes_test": 1_000,
            "09_scene_noise": 0.1,
            "09_seg_filters": (8, 16, 32, 64),  # the U-Net's levels (bottom 8x8)
            "09_seg_convs": 1,  # 3x3 convolutions per level
            "09_seg_batch": 16,
            "09_seg_epochs": 8,
            "09_seg_lr": 1e-2,
            # 10, full
            "10_val_fraction": 0.25,  # end of each training part, held out: every choice uses it
            "10_min_window": 64,  # a window holds one cycle (autocorrelation), at least this long
            "10_conv_filters": (32, 16, 4),  # three stride-2 layers: a code of length/8 x 4 values
            "10_kernel_size": 5,
            "10_dense_hidden": 128,
            "10_dense_code": 16,
            "10_train_windows": None,  # windows per model, drawn from every start (None: all)
            "10_curve_windows": 500,  # validation windows behind the loss curves
            "10_epochs": 30,
            "10_batch": 64,
            "10_lr": 3e-3,
            "10_steps_per_execution": 8,  # a speed setting only
            "10_forecast_widths": (1, 2, 4, 8),  # forecast residual's grid, chosen on normal data
            "10_gen_stride": 4,  # windows of the VAE and of the real-or-generated classifier
            "10_vae_latent": 8,
            "10_vae_hidden": (128, 64),
            "10_vae_epochs": 60,
            "10_vae_batch": 32,
            "10_vae_sigma": 0.05,  # fixed: a learned scale settles large and blurs the fit
            "10_vae_lr": 2e-3,
            "10_disc_windows": None,  # real and generated windows per classifier (None: all)
            "10_disc_folds": 5,  # cross-validation folds of the real-or-generated classifier
        },
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
            # 04, quick
            "04_n_fit": 5_000,
            "04_n_val": 500,
            "04_n_tune": 60,
            "04_n_tune_bm3d": 12,
            "04_n_eval": 80,
            "04_epochs": 8,
            "04_batch": 64,
            "04_lr": 3e-3,
            "04_steps_per_execution": 8,
            "04_sigma_high": 1.5,
            "04_high_epochs": 4,
            "04_memo_n": 256,
            "04_memo_epochs": 20,
            # 05, quick
            "05_n_train": 10_000,
            "05_n_val": 6_000,
            "05_n_test": 2_000,
            "05_n_eval": 500,
            "05_batch": 64,  # small batches and a larger step: units collapse within ~1,000 steps
            "05_lr": 6e-3,
            "05_epochs": 8,
            "05_warmup_epochs": 4,
            "05_2d_epochs": 2,
            "05_sweep_n_train": 5_000,  # 625 steps: fewer, and the VAE's samples no longer lead
            "05_sweep_epochs": 8,
            "05_iw_samples": 20,
            "05_iw_repeats": 3,
            "05_prior_samples": 2_000,
            "05_mnist_epochs": 2,
            "05_steps_per_execution": 8,
            # 06, quick
            "06_digit_n_train": 4_000,
            "06_digit_epochs": 24,
            "06_digit_batch": 32,
            "06_design_classes": 3,
            "06_design_n_val": 50,
            "06_design_epochs": 10,
            "06_design_batch": 32,
            "06_classes": 3,
            "06_n_fit": 500,
            "06_n_val": 200,
            "06_n_cal": 300,
            "06_n_test": 1_500,
            "06_epochs": 6,
            "06_batch": 32,
            "06_lr": 3e-3,
            "06_steps_per_execution": 8,
            "06_ocsvm_nu": (0.05, 0.1, 0.5),
            "06_ocsvm_gamma": (0.3, 1.0, 3.0),
            "06_iforest_max_samples": (64, 128, 256),
            # 07, quick
            "07_n_fit": 1_600,
            "07_n_val": 500,
            "07_n_test": 1_000,
            "07_n_ood": 500,
            "07_code_size": 1_024,
            "07_epochs": 6,
            "07_batch": 64,
            "07_lr": 3e-3,
            "07_steps_per_execution": 8,
            "07_rho": 0.05,
            # one value per grid: the search still runs on validation data, with nothing to choose
            "07_l1_weights": (1e-4,),
            "07_kl_weights": (3e-3,),
            "07_contractive_weights": (1e-3,),
            "07_noise_levels": (0.2,),
            "07_select_labels": 500,
            "07_label_counts": (100,),
            "07_label_draws": 1,
            "07_probe_cs": (0.01, 0.1, 1.0, 10.0),
            "07_pca_sizes": (16, 64),
            # 08, quick
            "08_n_fit": 3_000,
            "08_n_val": 1_000,
            "08_n_test": 1_000,
            "08_n_monitor": 500,
            "08_num_codes": 64,
            "08_code_dim": 16,
            "08_filters": (16, 32),
            "08_beta": 0.25,
            "08_decay": 0.99,
            "08_epochs": 4,
            "08_batch": 64,
            "08_lr": 4e-3,  # few steps: a larger step gets further
            "08_steps_per_execution": 8,
            "08_restart_images": 500,
            "08_sweep_codes": (16,),
            "08_vae_latent": 32,
            # one value: the search runs on validation, with nothing to choose
            "08_vae_sigmas": (0.05,),
            "08_prior_filters": 32,
            "08_prior_layers": 2,
            "08_prior_epochs": 4,
            "08_prior_lr": 3e-3,
            "08_n_samples": 300,
            "08_clf_epochs": 2,
            "08_clf_n_train": 8_000,
            # 09, quick
            "09_n_fit": 2_000,
            "09_n_val": 500,
            "09_n_test": 500,
            "09_batch": 32,
            "09_lr": 2e-3,
            "09_steps_per_execution": 8,
            "09_jit_compile": False,
            "09_espcn_filters": (64, 32),
            "09_espcn_kernels": (5, 3),
            "09_ed_filters": (16, 32, 64),
            "09_ed_convs": 1,
            "09_sr_epochs": 6,
            "09_margin_db": 0.5,
            "09_photo_n_fit": 1_500,
            "09_photo_n_val": 300,
            "09_photo_patch": 48,
            "09_photo_batch": 16,
            "09_photo_epochs": 6,
            "09_photo_lr": 1e-3,
            "09_photo_margin_db": 0.02,
            "09_photo_crop": (2, 280, 80),
            "09_box_sizes": (8, 14),
            "09_n_biharmonic": 500,
            "09_inpaint_filters": (16, 32, 64),
            "09_inpaint_convs": 1,
            "09_inpaint_epochs": 5,
            "09_scenes_fit": 750,  # 8 epochs of 750: the steps of 6 of 1,000, and the kinds are learned
            "09_scenes_val": 300,
            "09_scenes_test": 300,
            "09_scene_noise": 0.1,
            "09_seg_filters": (8, 16, 32, 64),
            "09_seg_convs": 1,
            "09_seg_batch": 16,
            "09_seg_epochs": 8,
            "09_seg_lr": 1e-2,
            # 10, quick
            "10_val_fraction": 0.25,
            "10_min_window": 64,
            "10_conv_filters": (32, 16, 4),
            "10_kernel_size": 5,
            "10_dense_hidden": 128,
            "10_dense_code": 16,
            "10_train_windows": 1_000,
            "10_curve_windows": 300,
            "10_epochs": 20,
            "10_batch": 64,
            "10_lr": 3e-3,
            "10_steps_per_execution": 8,
            "10_forecast_widths": (1, 2, 4, 8),
            "10_gen_stride": 4,
            "10_vae_latent": 8,
            "10_vae_hidden": (128, 64),
            "10_vae_epochs": 30,
            "10_vae_batch": 32,
            "10_vae_sigma": 0.05,
            "10_vae_lr": 2e-3,
            "10_disc_windows": None,
            "10_disc_folds": 5,
        },
    ),
}


def get_profile(name: str | None = None) -> Profile:
    """Return the profile called ``name``, or the one named by ``$AELIB_PROFILE`` (default ``full``).

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
