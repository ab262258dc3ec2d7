"""The benchmark's bookkeeping: picking a winner only beyond the noise, and the README's table."""

import json
from pathlib import Path

import pytest
from _scripts import load_script

ROOT = Path(__file__).resolve().parent.parent


@pytest.fixture(scope="module")
def bench():
    return load_script("benchmarks/bench.py")


def _row(model, ips, spread, jit=False, pipeline="numpy", spe=1, batch=256, device="CPU"):
    row = dict(
        model=model,
        batch=batch,
        jit=jit,
        pipeline=pipeline,
        pipeline_label=pipeline,
        mixed=False,
        images_per_s=ips,
        spread=spread,
        device=device,
        notebooks="01",
        forward_mflop_per_image=1.5,
    )
    if spe != 1:
        row["spe"] = spe
    return row


def test_a_winner_inside_the_spread_is_not_clear(bench):
    rows = [
        _row("dense", 1000, 0.10),
        _row("dense", 1150, 0.10, jit=True),  # +15%: less than the 20% of spreads
        _row("conv", 1000, 0.05),
        _row("conv", 1500, 0.05, pipeline="tfdata"),  # +50%: clear
        _row("linear", 2000, 0.02),
        _row("linear", 1000, 0.02, jit=True),  # the default wins
    ]
    best = bench.best_per_model(rows)
    dense, conv, linear = (best[f"{m} @ batch 256"] for m in ("dense", "conv", "linear"))
    assert dense["jit"] and dense["gain_over_default"] == pytest.approx(0.15)
    assert not dense["clear"]
    assert conv["pipeline"] == "tfdata" and conv["clear"]
    assert not linear["jit"] and linear["gain_over_default"] == 0 and not linear["clear"]


def test_on_a_gpu_the_default_is_xla(bench):
    rows = [
        _row("vae", 9000, 0.01, jit=False, device="GPU"),
        _row("vae", 10000, 0.01, jit=True, device="GPU"),
    ]
    best = bench.best_per_model(rows)["vae @ batch 256"]
    assert best["jit"] and best["gain_over_default"] == 0 and not best["clear"]


def test_markdown_table_shows_median_half_range_and_memory(bench):
    record = {
        "device": "2 CPU cores (test), no GPU",
        "n": 8192,
        "epochs": 5,
        "rows": [
            {**_row("dense", 12345.6, 0.10), "peak_rss_mib": 1234.4},
            {**_row("dense", 999, 0.5, jit=True), "peak_rss_mib": 2000},
            {**_row("dense", 5, 0.0, batch=64), "peak_rss_mib": 800},
            {"model": "dense", "batch": 256, "error": "boom"},
        ],
    }
    table = bench.markdown_table(record, [64, 256])
    lines = table.splitlines()
    assert lines[0].startswith(
        "| model (notebooks) | batch | forward MFLOP / image | NumPy arrays |"
    )
    assert lines[0].endswith("| + XLA | peak memory, MiB |")
    assert "tf.data" not in lines[0]  # no row measured it
    assert lines[2] == "| dense (01) | 64 | 1.50 | 5 ±0% | – | 800 |"
    assert lines[3] == "| dense (01) | 256 | 1.50 | 12,346 ±5% | 999 ±25% | 1,234 |"
    assert "median of 5 timed epochs" in table
    with pytest.raises(ValueError, match=r"batch \[1024\]"):
        bench.markdown_table(record, [256, 1024])


def test_readme_throughput_table_is_the_recorded_one(bench):
    tables = load_script("tools/readme_tables.py")
    record = json.loads((ROOT / "benchmarks" / "throughput.json").read_text())
    readme = (ROOT / "README.md").read_text()
    table = bench.markdown_table(record, [64, 256])
    assert tables.table("throughput") == table
    assert tables.replace_block(readme, table, "throughput") == readme, (
        "README's throughput table differs from benchmarks/throughput.json: "
        "run `python tools/readme_tables.py throughput`"
    )


def test_clear_differences_name_faster_and_slower_beyond_the_noise(bench):
    rows = [
        _row("dense", 1000, 0.10),
        _row("dense", 1500, 0.10, jit=True),  # 1.5x: beyond 0.2 of noise
        _row("dense", 900, 0.05, pipeline="tfdata"),  # 0.9x: inside 0.15
        _row("conv", 1000, 0.05, batch=64),
        _row("conv", 400, 0.05, batch=64, jit=True),  # 0.4x: clearly slower
        _row("conv", 1300, 0.40, batch=64, spe=16),  # 1.3x but noisy
        {"model": "conv", "batch": 64, "error": "boom"},
    ]
    clear = bench.clear_differences(rows)
    assert clear == {
        "faster": ["dense, batch 256, + XLA (1.50x)"],
        "slower": ["conv, batch 64, + XLA (0.40x)"],
    }
    assert bench.clear_differences(rows[:1]) == {"faster": [], "slower": []}
