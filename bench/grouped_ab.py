"""Grouped training alone, for comparing two builds or partition counts: one local[2] session
with one jar, the bench's cached data sets, manyfold's grouped fit (for each `--partitions`
value, 0 meaning Grouped's own choice) and, for linear cases, the JVM groupBy floor, taking
turns in every round. Prints medians and each fit's time over the floor's, and the median CPU
time the Spark process (the JVM, with its native threads) spent on each: on a shared machine of
few cores, CPU time moves less with other load than wall time does.

Run it once per jar, alternating jars, to compare builds (two sessions cannot share a JVM):

    python bench/grouped_ab.py --jar old.jar --partitions 0,8,4,2 --repeats 9

It uses the bench's virtualenv (make bench installs it) and data cache.
"""

import argparse
import os
import statistics
import sys
import time

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))

import data  # noqa: E402
import methods  # noqa: E402

SHAPES = {
    "linear_10k": ("linear", 10_000, 100, 5),
    "linear_1k": ("linear", 1_000, 1_000, 5),
    "logistic_1k": ("logistic", 1_000, 1_000, 10),
}
SEED = 20240601  # bench/run.py's default: the same cached data sets


def main():
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--jar", required=True)
    ap.add_argument("--cases", default="linear_10k,logistic_1k,linear_1k")
    ap.add_argument("--partitions", default="0", help="comma-separated numPartitions values")
    ap.add_argument("--repeats", type=int, default=5)
    ap.add_argument("--cache-dir", default=os.path.expanduser("~/.cache/manyfold/bench-data"))
    ap.add_argument("--conf", action="append", default=[], metavar="KEY=VALUE")
    args = ap.parse_args()

    os.environ["PYSPARK_PYTHON"] = sys.executable
    from pyspark.sql import SparkSession

    builder = (SparkSession.builder.master("local[2]").config("spark.driver.memory", "4g")
               .config("spark.jars", os.path.abspath(args.jar))
               .config("spark.ui.enabled", "false")
               .config("spark.ui.showConsoleProgress", "false"))
    for kv in args.conf:
        key, _, value = kv.partition("=")
        builder = builder.config(key, value)
    spark = builder.getOrCreate()
    spark.sparkContext.setLogLevel("ERROR")
    jvm = spark._jvm
    pid = jvm.java.lang.ProcessHandle.current().pid()
    ticks = os.sysconf("SC_CLK_TCK")

    def cpu_seconds():
        with open(f"/proc/{pid}/stat") as f:
            fields = f.read().rsplit(")", 1)[1].split()
        return (int(fields[11]) + int(fields[12])) / ticks  # utime + stime

    for name in args.cases.split(","):
        algorithm, groups, rows, p = SHAPES[name]
        path = data.parquet_path(args.cache_dir, algorithm, groups, rows, p, SEED)
        df = data.cached_frame(spark, path)

        def fit(n):
            grouped = jvm.manyfold.ml.Grouped(methods.manyfold_estimator(spark, algorithm, p))
            grouped.setGroupCols(jvm.org.apache.spark.api.python.PythonUtils.toSeq(["g"]))
            if n:
                grouped.setNumPartitions(n)
            return grouped.fit(df._jdf)

        runs = {}
        for n in (int(v) for v in args.partitions.split(",")):
            runs["manyfold" if n == 0 else f"manyfold[{n}]"] = lambda n=n: fit(n)
        if algorithm == "linear":
            runs["floor"] = lambda: methods.jvm_floor(spark, df, algorithm, p)
        for run in runs.values():
            run()
        times = {key: [] for key in runs}
        cpu = {key: [] for key in runs}
        for _ in range(args.repeats):
            for key, run in runs.items():
                start, start_cpu = time.perf_counter(), cpu_seconds()
                run()
                times[key].append(time.perf_counter() - start)
                cpu[key].append(cpu_seconds() - start_cpu)
        medians = {key: statistics.median(t) for key, t in times.items()}
        line = " ".join(f"{key}={m:.3f}s" for key, m in medians.items())
        if "floor" in medians:
            line += " | ÷ floor: " + " ".join(
                f"{key}={m / medians['floor']:.2f}" for key, m in medians.items() if key != "floor")
        line += " | cpu: " + " ".join(
            f"{key}={statistics.median(c):.2f}s" for key, c in cpu.items())
        print(f"{name}: {line}", flush=True)
        df.unpersist(blocking=True)
    spark.stop()


if __name__ == "__main__":
    main()
