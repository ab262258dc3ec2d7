"""Training throughput of the aelib models: images per second, time per epoch, peak memory.

Each configuration runs in a fresh subprocess (so peak memory is its own), trains on synthetic
28x28x1 images for a warm-up epoch and then times the following epochs (steady state). Measured:
batch sizes, XLA compilation on and off (``jit_compile``), NumPy arrays versus a ``tf.data``
pipeline, and mixed precision where a GPU is present.

    python benchmarks/bench.py                 # the default grid, prints a table
    python benchmarks/bench.py --out bench.json --models dense conv --batch 128 256

Not run by the tests: its numbers depend on the machine and on what else runs on it.
"""

from __future__ import annotations

import argparse
import json
import os
import platform
import resource
import subprocess
import sys
import time

MODELS = {
    "linear": "models.linear_autoencoder((28, 28, 1), 16)",
    "dense": "models.dense_autoencoder((28, 28, 1), 32, hidden=(512, 256))",
    "conv-stride": "models.conv_autoencoder((28, 28, 1), 32, filters=(32, 64))",
    "conv-pool": "models.conv_autoencoder((28, 28, 1), 32, filters=(16, 32), downsampling='pool', upsampling='nearest')",
}


def _child(cfg: dict) -> dict:
    os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "3")
    import keras
    import numpy as np
    import tensorflow as tf

    from aelib import models  # noqa: F401  (used by the eval'd builder expressions)

    gpus = tf.config.list_physical_devices("GPU")
    if cfg["mixed"]:
        keras.mixed_precision.set_global_policy("mixed_float16")
    keras.utils.set_random_seed(0)
    x = np.random.default_rng(0).random((cfg["n"], 28, 28, 1), dtype=np.float32)
    model = eval(MODELS[cfg["model"]])  # noqa: S307 - the expressions are this file's own
    model.compile(optimizer="adam", loss="mse", jit_compile=cfg["jit"])

    times: list[float] = []

    class Timer(keras.callbacks.Callback):
        def on_epoch_begin(self, epoch, logs=None):
            self.t = time.perf_counter()

        def on_epoch_end(self, epoch, logs=None):
            times.append(time.perf_counter() - self.t)

    if cfg["pipeline"] == "tfdata":
        ds = (
            tf.data.Dataset.from_tensor_slices((x, x))
            .cache()
            .shuffle(cfg["n"], seed=0)
            .batch(cfg["batch"])
            .prefetch(tf.data.AUTOTUNE)
        )
        model.fit(ds, epochs=1 + cfg["epochs"], verbose=0, callbacks=[Timer()])
    else:
        model.fit(
            x, x, batch_size=cfg["batch"], epochs=1 + cfg["epochs"], verbose=0, callbacks=[Timer()]
        )
    steady = times[1:]
    epoch_s = sum(steady) / len(steady)
    peak = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024  # KiB -> MiB on Linux
    gpu_peak = None
    if gpus:
        gpu_peak = tf.config.experimental.get_memory_info("GPU:0")["peak"] / 2**20
    return {
        **cfg,
        "epoch_s": epoch_s,
        "images_per_s": cfg["n"] / epoch_s,
        "peak_rss_mib": peak,
        "gpu_peak_mib": gpu_peak,
        "params": model.count_params(),
        "device": "GPU" if gpus else "CPU",
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


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--models", nargs="*", default=list(MODELS), choices=list(MODELS))
    parser.add_argument("--batch", nargs="*", type=int, default=[128, 256, 512])
    parser.add_argument("--n", type=int, default=8192, help="images per epoch")
    parser.add_argument(
        "--epochs", type=int, default=2, help="timed epochs after the warm-up epoch"
    )
    parser.add_argument("--out", default="benchmarks/results.json")
    parser.add_argument("--child", help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.child:
        print(json.dumps(_child(json.loads(args.child))))
        return 0

    os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "3")
    import tensorflow as tf

    has_gpu = bool(tf.config.list_physical_devices("GPU"))
    grid = []
    for model in args.models:
        for batch in args.batch:
            for jit in (False, True):
                grid.append(dict(model=model, batch=batch, jit=jit, pipeline="numpy", mixed=False))
            grid.append(dict(model=model, batch=batch, jit=False, pipeline="tfdata", mixed=False))
            if has_gpu:
                grid.append(dict(model=model, batch=batch, jit=True, pipeline="numpy", mixed=True))
    rows = []
    print(
        f"{'model':12} {'batch':>5} {'xla':>5} {'pipeline':>8} {'mixed':>5} {'img/s':>9} {'epoch s':>8} {'peak MiB':>9}"
    )
    for cfg in grid:
        row = run({**cfg, "n": args.n, "epochs": args.epochs})
        rows.append(row)
        if "error" in row:
            print(f"{cfg['model']:12} {cfg['batch']:5d} failed: {row['error']}")
            continue
        print(
            f"{row['model']:12} {row['batch']:5d} {str(row['jit']):>5} {row['pipeline']:>8} "
            f"{str(row['mixed']):>5} {row['images_per_s']:9.0f} {row['epoch_s']:8.2f} {row['peak_rss_mib']:9.0f}",
            flush=True,
        )
    machine = f"{platform.processor() or platform.machine()}, {os.cpu_count()} CPUs, {'GPU' if has_gpu else 'no GPU'}"
    with open(args.out, "w") as fh:
        json.dump({"machine": machine, "n": args.n, "rows": rows}, fh, indent=2)
    print(f"wrote {args.out} ({machine})")
    return 0


if __name__ == "__main__":
    sys.exit(main())
