"""The memory case alone (bench/README.md, "Memory"): one group of 1,000,000 rows x 10 features
fitted `--runs` times in a fresh local[2] session, each fit's JVM peak (VmHWM) above its resident
set after a full GC, the first fit included. Faster than `make bench BENCH_ARGS="--cases
memory_1m"` (no peers, no native floor). `--rows` sets the group's size: a small group (say
1,000 rows) measures what a first fit adds whatever the data (the JVM's own warm-up). Usage:
    python bench/memory_case.py --jar target/jar/manyfold_2.12-0.1.0.jar [--runs 6] [--rows N]
"""

import argparse
import os
import sys

HERE = os.path.dirname(os.path.abspath(__file__))
sys.path.insert(0, HERE)

import data  # noqa: E402
import run  # noqa: E402


def main():
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--jar", required=True)
    ap.add_argument("--runs", type=int, default=6)
    ap.add_argument("--cache-dir", default=os.path.expanduser("~/.cache/manyfold/bench-data"))
    ap.add_argument("--driver-memory", default="4g")
    ap.add_argument("--seed", type=int, default=20240601)
    ap.add_argument("--rows", type=int, default=1_000_000)
    args = ap.parse_args()
    args.conf = []
    groups, rows, p = 1, args.rows, 10
    path = data.parquet_path(args.cache_dir, "linear", groups, rows, p, args.seed)
    spark = run.spark_session(args)
    pid = spark._jvm.ProcessHandle.current().pid()
    df = data.cached_frame(spark, path)
    case = {"algorithm": "linear", "features": p}
    raw = groups * rows * p * 8
    for i, r in enumerate(run.memory_runs(spark, pid, df, case, args.runs)):
        print(f"fit {i + 1}: idle {r['idle_bytes'] / 1e6:,.0f} MB, peak above idle "
              f"{r['above_idle_bytes'] / 1e6:,.0f} MB = {r['above_idle_bytes'] / raw:.2f}x raw "
              f"({raw / 1e6:,.1f} MB)", flush=True)
    spark.stop()


if __name__ == "__main__":
    main()
