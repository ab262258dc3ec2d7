"""Training throughput of the aelib models: images per second, time per epoch, peak memory.

Each configuration runs in a fresh subprocess (so peak memory is its own), trains on synthetic
28x28x1 images for a warm-up epoch and then times the following epochs (steady state). Measured:
batch sizes, XLA compilation on and off (``jit_compile``), NumPy arrays versus a ``tf.data``
pipeline, and mixed precision where a GPU is present. The models are the series' main ones; the
denoising model is fed ``(noisy, clean)`` pairs with fresh Gaussian noise per batch, either from
``aelib.denoise.CorruptedBatches`` (a NumPy ``PyDataset``) or from a ``tf.data`` map.

    python benchmarks/bench.py                 # the default grid, prints a table
    python benchmarks/bench.py --out bench.json --models dense conv-stride --batch 128 256
    python tools/readme_tables.py throughput        # the README's table from the saved JSON

Each configuration reports the median of its timed epochs and their spread ((max - min) / median):
a difference between two configurations smaller than their spreads is noise, not a winner.

Not run by the tests: its numbers depend on the machine and on what else runs on it.
"""

from __future__ import annotations

import argparse
import json
import os
import resource
import statistics
import subprocess
import sys
import time

# name: (builder expression, the notebook that trains it)
MODELS = {
    "linear": ("models.linear_autoencoder((28, 28, 1), 16)", "01"),
    "dense": ("models.dense_autoencoder((28, 28, 1), 32, hidden=(512, 256))", "01, 02"),
    "conv-stride": ("models.conv_autoencoder((28, 28, 1), 32, filters=(32, 64))", "01"),
    "conv-pool": (
        "models.conv_autoencoder((28, 28, 1), 32, filters=(16, 32), downsampling='pool', "
        "upsampling='nearest')",
        "02",
    ),
    "conv-dae": ("models.conv_autoencoder((28, 28, 1), 64, filters=(16, 32))", "04"),
    "vae": ("vae.build_vae((28, 28, 1), 16, hidden=(256, 128), seed=0)", "05"),
}
NOISE_SIGMA = 0.5  # the denoising model's training corruption
# Images per epoch on a CPU, so that an epoch lasts a second or more there: shorter epochs vary too
# much from one to the next to rank configurations (a GPU gets 8 times as many).
EPOCH_IMAGES = {
    "linear": 131_072,
    "dense": 32_768,
    "conv-stride": 8_192,
    "conv-pool": 8_192,
    "conv-dae": 16_384,
    "vae": 32_768,
}


def forward_flops(model) -> int:
    """Floating-point operations of one image's forward pass through the dense and conv layers.

    A multiply-add counts as two operations; activations, pooling and resizing are left out, so
    this is a lower bound. Training costs about three times the forward pass (forward, and the
    gradients with respect to the inputs and to the weights).
    """
    import keras

    total = 0
    for layer in model._flatten_layers(include_self=False):
        if isinstance(layer, keras.layers.Dense):
            total += 2 * layer.kernel.shape[0] * layer.kernel.shape[1]
        elif isinstance(layer, keras.layers.Conv2DTranspose):
            kh, kw, cout, cin = layer.kernel.shape
            h, w = layer.input.shape[1:3]
            total += 2 * kh * kw * cin * cout * h * w
        elif isinstance(layer, keras.layers.Conv2D):
            kh, kw, cin, cout = layer.kernel.shape
            h, w = layer.output.shape[1:3]
            total += 2 * kh * kw * cin * cout * h * w
    return int(total)


def _child(cfg: dict) -> dict:
    os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "3")
    import keras
    import numpy as np
    import tensorflow as tf

    from aelib import denoise, models, vae  # noqa: F401  (used by the eval'd builder expressions)

    gpus = tf.config.list_physical_devices("GPU")
    if cfg["mixed"]:
        keras.mixed_precision.set_global_policy("mixed_float16")
    keras.utils.set_random_seed(0)
    x = np.random.default_rng(0).random((cfg["n"], 28, 28, 1), dtype=np.float32)
    is_vae = cfg["model"] == "vae"
    if is_vae:
        x = (x > 0.5).astype(np.float32)  # the VAE models binarised images
    model = eval(MODELS[cfg["model"]][0])  # noqa: S307 - the expressions are this file's own
    if is_vae:
        loss = None  # the VAE's loss is its own (compute_loss)
    else:
        loss = "mse"
    if cfg.get("optimizer", "adam") == "fused":
        from aelib.optim import FusedAdam

        optimizer = FusedAdam()
    else:
        optimizer = "adam"
    model.compile(
        optimizer=optimizer,
        loss=loss,
        jit_compile=cfg["jit"],
        steps_per_execution=cfg.get("spe", 1),
    )

    times: list[float] = []

    class Timer(keras.callbacks.Callback):
        def on_epoch_begin(self, epoch, logs=None):
            self.t = time.perf_counter()

        def on_epoch_end(self, epoch, logs=None):
            times.append(time.perf_counter() - self.t)

    fit = dict(epochs=1 + cfg["epochs"], verbose=0, callbacks=[Timer()])
    noisy = cfg["model"] == "conv-dae"
    if cfg["pipeline"] == "tfdata":
        ds = tf.data.Dataset.from_tensor_slices(x).cache().shuffle(cfg["n"], seed=0)
        ds = ds.batch(cfg["batch"])
        if noisy:  # fresh noise for every batch, drawn inside the pipeline

            def add_noise(clean):
                noise = tf.random.normal(tf.shape(clean), stddev=NOISE_SIGMA)
                return tf.clip_by_value(clean + noise, 0.0, 1.0), clean

            ds = ds.map(add_noise, num_parallel_calls=tf.data.AUTOTUNE)
        elif not is_vae:
            ds = ds.map(lambda b: (b, b))
        model.fit(ds.prefetch(tf.data.AUTOTUNE), **fit)
    elif noisy:  # the NumPy pipeline of notebook 04
        model.fit(
            denoise.CorruptedBatches(x, ("gaussian", NOISE_SIGMA), batch_size=cfg["batch"]), **fit
        )
    elif is_vae:
        model.fit(x, batch_size=cfg["batch"], **fit)
    else:
        model.fit(x, x, batch_size=cfg["batch"], **fit)
    steady = times[1:]
    epoch_s = statistics.median(steady)
    peak = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024  # KiB -> MiB on Linux
    gpu_peak = None
    if gpus:
        gpu_peak = tf.config.experimental.get_memory_info("GPU:0")["peak"] / 2**20
    flops = forward_flops(model)
    return {
        **cfg,
        "epoch_s": epoch_s,
        "epoch_s_each": [round(t, 4) for t in steady],
        "first_epoch_s": round(times[0], 4),  # tracing and graph building included
        "spread": (max(steady) - min(steady)) / epoch_s,
        "images_per_s": cfg["n"] / epoch_s,
        "forward_mflop_per_image": flops / 1e6,
        "train_gflop_per_s": 3 * flops * cfg["n"] / epoch_s / 1e9,
        "peak_rss_mib": peak,
        "gpu_peak_mib": gpu_peak,
        "params": model.count_params(),
        "device": "GPU" if gpus else "CPU",
        "notebooks": MODELS[cfg["model"]][1],
    }


def run(cfg: dict) -> dict:
    proc = subprocess.run(
        [sys.executable, __file__, "--child", json.dumps(cfg)], capture_output=True, text=True
    )
    if proc.returncode != 0:
        return {
            **cfg,
            "error": proc.stderr.strip().splitlines()[-1] if proc.stderr.strip() else "failed",
        }
    return json.loads(proc.stdout.strip().splitlines()[-1])


def default_config(row: dict) -> dict:
    """What the notebooks use for this row's model and batch: NumPy input, Keras' jit default."""
    return dict(jit=row["device"] == "GPU", pipeline="numpy", mixed=False, spe=1)


def _matches(row: dict, cfg: dict) -> bool:
    return all(row.get(k, 1 if k == "spe" else None) == v for k, v in cfg.items())


def _defaults(rows: list[dict]) -> dict[tuple, dict]:
    """The default configuration's row for each (model, batch) that has one."""
    return {
        (r["model"], r["batch"]): r
        for r in rows
        if "error" not in r and _matches(r, default_config(r))
    }


def _beyond_noise(row: dict, base: dict) -> float:
    """How much faster (> 0) or slower (< 0) ``row`` is than ``base`` beyond their two spreads."""
    ratio = row["images_per_s"] / base["images_per_s"]
    noise = row["spread"] + base["spread"]
    if ratio - 1 > noise:
        return ratio - 1 - noise
    if 1 / ratio - 1 > noise:
        return -(1 / ratio - 1 - noise)
    return 0.0


def best_per_model(rows: list[dict]) -> dict[str, dict]:
    """For each model and batch: the fastest configuration, and whether it clearly beats the default.

    ``clear`` is true when the fastest configuration's median beats the default's by more than the
    two spreads added (see :func:`clear_differences`).
    """
    best: dict[str, dict] = {}
    for row in rows:
        if "error" in row:
            continue
        key = f"{row['model']} @ batch {row['batch']}"
        if key not in best or row["images_per_s"] > best[key]["images_per_s"]:
            best[key] = row
    defaults = _defaults(rows)
    out = {}
    for key, row in best.items():
        base = defaults.get((row["model"], row["batch"]))
        gain = row["images_per_s"] / base["images_per_s"] - 1 if base else None
        clear = base is not None and row is not base and _beyond_noise(row, base) > 0
        out[key] = {**row, "gain_over_default": gain, "clear": clear}
    return out


COLUMNS = [
    ("NumPy arrays", dict(jit=False, pipeline="numpy", mixed=False, spe=1)),
    ("+ XLA", dict(jit=True, pipeline="numpy", mixed=False, spe=1)),
    ("+ 16 steps per execution", dict(pipeline="numpy", mixed=False, spe=16)),
    ("tf.data", dict(pipeline="tfdata", mixed=False, spe=1)),
    ("mixed precision + XLA", dict(jit=True, pipeline="numpy", mixed=True, spe=1)),
]


def clear_differences(rows: list[dict]) -> dict[str, list[str]]:
    """Configurations clearly faster or slower than the default of their model and batch size.

    Clear: the ratio of the medians differs from 1 by more than the two spreads added. Returns
    ``{"faster": [...], "slower": [...]}``, each entry like ``"dense, batch 64, + XLA (2.43x)"``.
    """
    out: dict[str, list[str]] = {"faster": [], "slower": []}
    defaults = _defaults(rows)
    for row in rows:
        base = defaults.get((row.get("model"), row.get("batch")))
        if "error" in row or base is None or row is base:
            continue
        name = next((n for n, cfg in COLUMNS if _matches(row, cfg)), "other")
        ratio = row["images_per_s"] / base["images_per_s"]
        entry = f"{row['model']}, batch {row['batch']}, {name} ({ratio:.2f}x)"
        margin = _beyond_noise(row, base)
        if margin:
            out["faster" if margin > 0 else "slower"].append(entry)
    return out


def _epoch_sizes(record: dict) -> str:
    n = record["n"]
    if isinstance(n, int):
        return f"{n:,}"
    if len(set(n.values())) == 1:
        return f"{next(iter(n.values())):,}"
    return "from " + f"{min(n.values()):,} to {max(n.values()):,} (by model)"


def markdown_table(record: dict, batches: list[int]) -> str:
    """The README's table: images per second (median, and the spread of the timed epochs) per
    model and batch size, and the peak memory of the default configuration."""
    rows = [r for r in record["rows"] if "error" not in r and r["batch"] in batches]
    missing = sorted(set(batches) - {r["batch"] for r in rows})
    if missing:
        raise ValueError(f"no successful rows at batch {missing} in the record")
    columns = [(name, cfg) for name, cfg in COLUMNS if any(_matches(r, cfg) for r in rows)]
    lines = [
        "| model (notebooks) | batch | forward MFLOP / image | "
        + " | ".join(n for n, _ in columns)
        + " | peak memory, MiB |",
        "|---|---:|---:|" + "---:|" * len(columns) + "---:|",
    ]
    for model in dict.fromkeys(r["model"] for r in rows):
        for batch in batches:
            mine = [r for r in rows if r["model"] == model and r["batch"] == batch]
            if not mine:
                continue
            cells = []
            for _, cfg in columns:
                hit = next((r for r in mine if _matches(r, cfg)), None)
                cells.append(
                    f"{hit['images_per_s']:,.0f} ±{100 * hit['spread'] / 2:.0f}%" if hit else "–"
                )
            base = next((r for r in mine if _matches(r, default_config(r))), None)
            memory = "–" if base is None else f"{base['peak_rss_mib']:,.0f}"
            if base is not None and base.get("gpu_peak_mib") is not None:
                memory += f" (GPU {base['gpu_peak_mib']:,.0f})"
            lines.append(
                f"| {model} ({mine[0]['notebooks']}) | {batch} | "
                f"{mine[0]['forward_mflop_per_image']:.2f} | "
                + " | ".join(cells)
                + f" | {memory} |"
            )
    lines.append("")
    lines.append(
        f"{record['device']}; {_epoch_sizes(record)} synthetic 28×28 images per epoch, images per "
        f"second from the median of {record['epochs']} timed epochs after a warm-up one, ± half their "
        "range. Peak memory: the process's resident set in the default configuration (NumPy "
        "arrays, Keras' `jit_compile`), TensorFlow and the epoch's images included. For "
        "`conv-dae` the NumPy columns feed `aelib.denoise.CorruptedBatches` and the tf.data "
        "column draws the noise in a `map`."
    )
    clear = clear_differences(rows)
    lines.append("")
    lines.append(
        "Clear differences from the default, where the ratio of the medians differs from 1 by more "
        "than the two spreads (twice the ± values) added:"
    )
    lines.append("")
    for side in ("faster", "slower"):
        lines.append(f"- {side}: {'; '.join(clear[side]) or 'none'}.")
    return "\n".join(lines)


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--models", nargs="*", default=list(MODELS), choices=list(MODELS))
    parser.add_argument(
        "--batch", nargs="*", type=int, help="batch sizes (default 64 256; on a GPU 64 256 1024)"
    )
    parser.add_argument(
        "--n", type=int, help="images per epoch for every model (default: EPOCH_IMAGES per model)"
    )
    parser.add_argument(
        "--epochs", type=int, default=5, help="timed epochs after the warm-up epoch"
    )
    parser.add_argument("--out", default="benchmarks/throughput.json")
    parser.add_argument("--child", help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.child:
        print(json.dumps(_child(json.loads(args.child))))
        return 0
    if args.epochs < 2:
        parser.error(f"--epochs must be at least 2 to measure a spread, got {args.epochs}")

    os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "3")
    sys.path.insert(0, os.path.join(os.path.dirname(os.path.abspath(__file__)), ".."))
    from aelib.runtime import device_name

    device = device_name()
    has_gpu = not device.endswith("no GPU")

    def epoch_images(model: str) -> int:
        return args.n or EPOCH_IMAGES[model] * (8 if has_gpu else 1)

    batches = args.batch or ([64, 256, 1024] if has_gpu else [64, 256])
    grid = []
    for model in args.models:
        for batch in batches:
            for jit in (False, True):
                grid.append(dict(model=model, batch=batch, jit=jit, pipeline="numpy", mixed=False))
            # several steps per call into the compiled graph: less Python overhead per batch
            grid.append(
                dict(model=model, batch=batch, jit=has_gpu, pipeline="numpy", mixed=False, spe=16)
            )
            # tf.data with what Keras' jit_compile="auto" picks: XLA on a GPU, not on a CPU
            grid.append(dict(model=model, batch=batch, jit=has_gpu, pipeline="tfdata", mixed=False))
            if has_gpu:
                grid.append(dict(model=model, batch=batch, jit=True, pipeline="numpy", mixed=True))
    rows = []
    print(
        f"device: {device}; {args.epochs} timed epochs after one warm-up, images per epoch: "
        + ", ".join(f"{m} {epoch_images(m):,}" for m in args.models)
    )
    print(
        f"{'model':12} {'batch':>5} {'xla':>5} {'spe':>3} {'pipeline':>9} {'mixed':>5} {'img/s':>8} "
        f"{'spread':>6} {'epoch s':>8} {'GFLOP/s':>8} {'peak MiB':>9}"
    )
    for cfg in grid:
        row = run({**cfg, "n": epoch_images(cfg["model"]), "epochs": args.epochs})
        rows.append(row)
        pipeline = (
            "PyDataset"
            if cfg["model"] == "conv-dae" and cfg["pipeline"] == "numpy"
            else cfg["pipeline"]
        )
        row["pipeline_label"] = pipeline
        if "error" in row:
            print(
                f"{cfg['model']:12} {cfg['batch']:5d} {str(cfg['jit']):>5} {pipeline:>9} failed: {row['error']}"
            )
            continue
        print(
            f"{row['model']:12} {row['batch']:5d} {str(row['jit']):>5} {row.get('spe', 1):3d} {pipeline:>9} "
            f"{str(row['mixed']):>5} {row['images_per_s']:8.0f} {row['spread']:6.0%} "
            f"{row['epoch_s']:8.2f} "
            f"{row['train_gflop_per_s']:8.1f} {row['peak_rss_mib']:9.0f}",
            flush=True,
        )
    best = best_per_model(rows)
    print("\nfastest configuration per model and batch size (clear: beats the default by more")
    print("than the two spreads; the default is NumPy input with Keras' jit_compile='auto'):")
    for key, row in best.items():
        gain = row["gain_over_default"]
        verdict = "no default row" if gain is None else f"{gain:+.0%} over the default"
        print(
            f"  {key:22} xla={row['jit']!s:5} steps/execution={row.get('spe', 1):<3d} "
            f"pipeline={row['pipeline_label']:9} "
            f"mixed={row['mixed']!s:5} {row['images_per_s']:8.0f} img/s, {verdict}"
            + (" (clear)" if row["clear"] else " (within the spread)" if gain else "")
        )
    with open(args.out, "w") as fh:
        json.dump(
            {
                "device": device,
                "n": {m: epoch_images(m) for m in args.models},
                "epochs": args.epochs,
                "rows": rows,
                "best": {
                    k: {
                        "jit": v["jit"],
                        "steps_per_execution": v.get("spe", 1),
                        "pipeline": v["pipeline_label"],
                        "mixed": v["mixed"],
                        "images_per_s": v["images_per_s"],
                        "gain_over_default": v["gain_over_default"],
                        "clear": v["clear"],
                    }
                    for k, v in best.items()
                },
            },
            fh,
            indent=2,
        )
    print(f"wrote {args.out}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
