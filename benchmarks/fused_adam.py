"""Keras' Adam against aelib.optim.FusedAdam: the first epoch (tracing included) and steady epochs.

Each run is one configuration of ``bench.py`` (a fresh subprocess, synthetic images, a warm-up epoch
then timed ones), with ``keras.optimizers.Adam`` or :class:`aelib.optim.FusedAdam`. The two
optimizers alternate, ``--repeats`` times each, so that a slow stretch of the machine hits both.

    python benchmarks/fused_adam.py                    # prints a table, writes fused_adam.json

Not run by the tests: its numbers depend on the machine and on what else runs on it.
"""

from __future__ import annotations

import argparse
import json
import os
import statistics
import sys

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import bench  # noqa: E402  (this folder's own module)

# (model of bench.MODELS, batch): the batch sizes notebooks 04 (64) and 05 (64 quick, 256 full) use
CASES = (("vae", 64), ("vae", 256), ("conv-dae", 64))
OPTIMIZERS = ("adam", "fused")


def _cell(values: list[float]) -> str:
    mid = statistics.median(values)
    return f"{mid:.2f} ±{(max(values) - min(values)) / 2:.2f}"


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--repeats", type=int, default=3, help="runs per optimizer and case")
    parser.add_argument("--epochs", type=int, default=4, help="timed epochs after the warm-up one")
    parser.add_argument("--out", default="benchmarks/fused_adam.json")
    args = parser.parse_args()
    if args.repeats < 1 or args.epochs < 2:
        parser.error(f"need --repeats >= 1 and --epochs >= 2, got {args.repeats} and {args.epochs}")
    os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "3")
    sys.path.insert(0, os.path.join(os.path.dirname(os.path.abspath(__file__)), ".."))
    from aelib.runtime import device_name

    rows = []
    for model, batch in CASES:
        for repeat in range(args.repeats):
            for optimizer in OPTIMIZERS if repeat % 2 == 0 else OPTIMIZERS[::-1]:
                cfg = dict(
                    model=model,
                    batch=batch,
                    jit=False,
                    pipeline="numpy",
                    mixed=False,
                    optimizer=optimizer,
                    n=bench.EPOCH_IMAGES[model],
                    epochs=args.epochs,
                )
                row = bench.run(cfg)
                if "error" in row:
                    print(f"{model} batch {batch} {optimizer}: {row['error']}", file=sys.stderr)
                    return 1
                rows.append(row)
                print(
                    f"{model:9} {batch:4d} {optimizer:6} first epoch {row['first_epoch_s']:.2f} s, "
                    f"steady {row['epoch_s']:.2f} s",
                    flush=True,
                )
    print(f"\n{device_name()}; seconds, median ±half range over {args.repeats} runs")
    print(
        "| model | batch | images / epoch | first epoch, Adam | first epoch, FusedAdam "
        "| epoch, Adam | epoch, FusedAdam |"
    )
    print("|---|---:|---:|---:|---:|---:|---:|")
    for model, batch in CASES:
        pick = {
            opt: [
                r for r in rows if (r["model"], r["batch"], r["optimizer"]) == (model, batch, opt)
            ]
            for opt in OPTIMIZERS
        }
        first = {opt: _cell([r["first_epoch_s"] for r in pick[opt]]) for opt in OPTIMIZERS}
        steady = {opt: _cell([r["epoch_s"] for r in pick[opt]]) for opt in OPTIMIZERS}
        print(
            f"| {model} | {batch} | {bench.EPOCH_IMAGES[model]:,} | {first['adam']} | "
            f"{first['fused']} | {steady['adam']} | {steady['fused']} |"
        )
    with open(args.out, "w") as f:
        json.dump({"device": device_name(), "repeats": args.repeats, "rows": rows}, f, indent=1)
        f.write("\n")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
