"""manyfold against the PySpark recipes, side by side in one run (issue 3).

    python bench/run.py --jar target/jar/manyfold_2.12-0.1.0.jar [--repeats 5] [--smoke]

One SparkSession (local[2], fixed driver memory, the manyfold jar) runs every case on the same
cached DataFrame: manyfold, applyInPandas + scikit-learn and the JVM groupBy floor; the Rust
native floor (manyfold-core alone, rust/core/benches/native_floor.rs) runs first, in its own
process, on the same shapes. Each method runs once untimed, then `--repeats` times. Writes
results.json, results.md and chart.png into --out and prints the table and the targets (met or
not: the benchmark reports, it does not fail on speed). With --smoke the shapes are tiny and
the run fails if a case is missing or the models differ from scikit-learn's. The inference cases
(bench/inference.py: predicting with fitted models, against Spark ML, a pandas UDF and
applyInPandas with scikit-learn) follow the training cases, and the hyperparameter searches
(bench/tuning.py) run last, in the same session, against Spark's CrossValidator, joblib-spark,
scikit-learn and applyInPandas.
"""

import argparse
import datetime
import gc
import json
import os
import platform
import shlex
import subprocess
import sys
import time

HERE = os.path.dirname(os.path.abspath(__file__))
sys.path.insert(0, HERE)

import data  # noqa: E402
import inference  # noqa: E402
import methods  # noqa: E402
import report  # noqa: E402
import scale  # noqa: E402
import tuning  # noqa: E402
from memory import Peak, status_bytes  # noqa: E402

REPO = os.path.dirname(HERE)

# name, algorithm, (groups, rows, features) full, (groups, rows, features) smoke, peers
CASES = [
    ("linear_10k", "linear", (10_000, 100, 5), (50, 20, 5), ["apply_in_pandas", "jvm_floor"]),
    ("linear_1k", "linear", (1_000, 1_000, 5), (10, 200, 5), ["apply_in_pandas", "jvm_floor"]),
    ("logistic_1k", "logistic", (1_000, 1_000, 10), (10, 300, 10), ["apply_in_pandas"]),
    ("memory_1m", "linear", (1, 1_000_000, 10), (1, 20_000, 10), ["apply_in_pandas"]),
    ("svc_1k", "svc", (1_000, 200, 10), (10, 60, 10), ["apply_in_pandas"]),
    ("enet_1k", "linear_enet", (1_000, 1_000, 20), (10, 200, 20),
     ["apply_in_pandas", "jvm_floor"]),
]
MEMORY_CASE = "memory_1m"

# Largest differences from scikit-learn that still mean "the same models".
# SVC: the same decision values (tests/svc.rs), so the training accuracy differs only where
# Platt's CV or a tie moves a row. Elastic net: both coordinate descents stop at tol 1e-8.
TOLERANCE = {"linear": {"metric": 1e-6, "coef_rel": 1e-6},
             "logistic": {"metric": 0.02, "coef_rel": 0.05},
             "svc": {"metric": 0.01, "coef_rel": None},
             "linear_enet": {"metric": 1e-5, "coef_rel": 1e-4}}


# The hyperparameter searches (bench/tuning.py): manyfold against Spark's CrossValidator,
# joblib-spark and scikit-learn; their reports' targets are in report.py.
TUNING_PEERS = {"spark_cv": "Spark CrossValidator", "joblib_spark": "joblib-spark + sklearn",
                "sklearn_local": "sklearn GridSearchCV(n_jobs=2), local",
                "apply_in_pandas_ts": "applyInPandas + sklearn GridSearchCV"}


def data_kind(algorithm):
    """The generated data an algorithm trains on: a Bernoulli label for classifiers."""
    return "logistic" if algorithm in ("logistic", "svc") else "linear"


def parse_args():
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--jar", required=True, help="the manyfold jar (make jar)")
    ap.add_argument("--out", default=HERE, help="where results.{md,json} and chart.png go")
    ap.add_argument("--cache-dir", default=os.path.expanduser("~/.cache/manyfold/bench-data"))
    ap.add_argument("--repeats", type=int, default=5, help="timed runs per method (after 1 warm)")
    ap.add_argument("--smoke", action="store_true", help="tiny shapes; check the harness")
    ap.add_argument("--cases", default="", help="comma-separated subset of case names")
    ap.add_argument("--driver-memory", default=None,
                    help="default 4g, or 10g when a full-size inference case runs (its input is "
                         "cached twice: 20 columns and a Vector column, about 4 GB)")
    ap.add_argument("--seed", type=int, default=20240601)
    ap.add_argument("--conf", action="append", default=[], metavar="KEY=VALUE",
                    help="an extra Spark setting, for every method alike (repeatable)")
    return ap.parse_args()


def case_list(args):
    wanted = set(filter(None, args.cases.split(",")))
    out = []
    for name, algorithm, full, smoke, peers in CASES:
        if wanted and name not in wanted:
            continue
        groups, rows, p = smoke if args.smoke else full
        out.append({"name": name, "algorithm": algorithm, "groups": groups, "rows": rows,
                    "features": p, "peers": peers, "methods": {}})
    return out


def native_floor(cases, repeats):
    """Runs the Rust benchmark binary on the same shapes; returns {case name: its result}."""
    cmd = ["cargo", "bench", "-q", "-p", "manyfold-core", "--bench", "native_floor", "--",
           "--repeats", str(repeats), "--threads", "2"]
    for c in cases:
        cmd += ["--case", f"{c['name']}:{c['algorithm']}:{c['groups']}:{c['rows']}:{c['features']}"]
    print("$ " + shlex.join(cmd), flush=True)
    out = subprocess.run(cmd, cwd=REPO, check=True, stdout=subprocess.PIPE, text=True).stdout
    return {r["name"]: r for r in json.loads(out.strip().splitlines()[-1])["cases"]}


def svc_single(args):
    """One SVC fit (rbf, 2,000 x 20) and the recipe's 48-fit grid (1,000 x 20, probability on),
    manyfold-core against scikit-learn's SVC (libsvm) on the same data, one thread each:
    bench/svc_sklearn.py writes the data and times sklearn, rust/core/benches/svc_fit.rs times
    manyfold and checks its decision values against sklearn's first."""
    grid = "1" if args.smoke else str(max(1, args.repeats // 2))
    py = [sys.executable, os.path.join(HERE, "svc_sklearn.py"), "--repeats", str(args.repeats),
          "--grid-repeats", grid]
    rs = ["cargo", "bench", "-q", "-p", "manyfold-core", "--bench", "svc_fit", "--",
          "--repeats", str(args.repeats), "--grid-repeats", grid]
    out = {}
    for name, cmd in (("sklearn", py), ("manyfold", rs)):
        print("$ " + shlex.join(cmd), flush=True)
        text = subprocess.run(cmd, cwd=REPO, check=True, stdout=subprocess.PIPE, text=True).stdout
        out[name] = json.loads(text[text.index("{"):])
    res = {"decision_max_gap": out["manyfold"]["singleMaxDecisionGap"],
           "sklearn_version": out["sklearn"]["sklearn"]}
    for part in ("single", "grid"):
        mine, theirs = out["manyfold"][part]["median"], out["sklearn"][part]["median"]
        res[part] = {"manyfold_median_s": mine, "sklearn_median_s": theirs,
                     "manyfold_over_sklearn": mine / theirs}
        print(f"   svc {part}: manyfold {mine:.4f} s, scikit-learn {theirs:.4f} s "
              f"({mine / theirs:.2f}x)", flush=True)
    return res


def spark_session(args):
    os.environ["PYSPARK_PYTHON"] = sys.executable
    os.environ["PYSPARK_DRIVER_PYTHON"] = sys.executable
    from pyspark.sql import SparkSession

    builder = (
        SparkSession.builder.master("local[2]")
        .appName("manyfold-bench")
        .config("spark.driver.memory", args.driver_memory)
        .config("spark.jars", os.path.abspath(args.jar))
        .config("spark.ui.enabled", "false")
        .config("spark.ui.showConsoleProgress", "false")
        .config("spark.sql.execution.arrow.pyspark.enabled", "true")
    )
    for kv in args.conf:
        key, _, value = kv.partition("=")
        builder = builder.config(key, value)
    spark = builder.getOrCreate()
    spark.sparkContext.setLogLevel("ERROR")
    return spark


def idle_rss(spark, pid):
    """The JVM's resident set after a full GC and a moment to settle."""
    gc.collect()
    spark._jvm.System.gc()
    time.sleep(1.0)
    return status_bytes(pid, "VmRSS")


def measure(spark, pid, repeats, runs):
    """Each of `runs` (name -> function) once untimed, then `repeats` rounds in which each runs
    once, timed and under a memory probe. Interleaving the methods spreads the noise of a
    shared machine over all of them instead of over whichever ran during a burst.
    Returns name -> (summary, the result of its last run)."""
    last = {name: run() for name, run in runs.items()}
    idle = idle_rss(spark, pid)
    times = {name: [] for name in runs}
    jvm_peak = dict.fromkeys(runs, 0)
    workers_peak = dict.fromkeys(runs, 0)
    exact = True
    for _ in range(repeats):
        for name, run in runs.items():
            with Peak(pid) as peak:
                start = time.perf_counter()
                last[name] = run()
                times[name].append(time.perf_counter() - start)
            jvm_peak[name] = max(jvm_peak[name], peak.jvm_peak)
            workers_peak[name] = max(workers_peak[name], peak.workers_peak)
            exact = exact and peak.exact
    out = {}
    for name in runs:
        m = report.summarize(times[name])
        m.update(jvm_idle_bytes=idle, jvm_peak_bytes=jvm_peak[name],
                 jvm_peak_above_idle_bytes=None if idle is None else jvm_peak[name] - idle,
                 workers_peak_bytes=workers_peak[name], jvm_peak_exact=exact)
        out[name] = (m, last[name])
        print(f"   {name}: median {m['median_s']:.3f} s", flush=True)
    return out


def memory_runs(spark, pid, df, case, runs):
    """Peak RSS above idle of the manyfold fit on one big group, measured on every fit,
    the first (cold for this data) included."""
    out = []
    for _ in range(runs):
        idle = idle_rss(spark, pid)
        with Peak(pid) as peak:
            methods.manyfold_fit(spark, df, case["algorithm"], case["features"])
        out.append({"idle_bytes": idle, "peak_bytes": peak.jvm_peak,
                    "above_idle_bytes": peak.jvm_peak - idle})
    return out


def run_case(spark, pid, case, args, native):
    name, algorithm, p = case["name"], case["algorithm"], case["features"]
    path = data.parquet_path(args.cache_dir, data_kind(algorithm), case["groups"], case["rows"], p,
                             args.seed)
    df = data.cached_frame(spark, path)
    print(f"== {name}: {case['groups']:,} groups x {case['rows']:,} rows x {p} features "
          f"({algorithm})", flush=True)
    try:
        if name == MEMORY_CASE:
            runs = memory_runs(spark, pid, df, case, 1 + args.repeats)
            worst = max(runs, key=lambda r: r["above_idle_bytes"])
            raw = case["groups"] * case["rows"] * p * 8
            nat = native.get(name, {}).get("peak_rss_above_idle_bytes")
            case["memory"] = {"raw_bytes": raw, "runs": runs, "idle_bytes": worst["idle_bytes"],
                              "peak_above_idle_bytes": worst["above_idle_bytes"],
                              "peak_above_idle_over_raw": worst["above_idle_bytes"] / raw,
                              "first_fit_above_idle_bytes": runs[0]["above_idle_bytes"],
                              "warm_fits_max_above_idle_bytes":
                                  max((r["above_idle_bytes"] for r in runs[1:]), default=None),
                              "native_peak_above_idle_bytes": nat}
            print(f"   memory: peak above idle {worst['above_idle_bytes'] / 1e6:,.0f} MB "
                  f"= {worst['above_idle_bytes'] / raw:.2f}x raw", flush=True)

        runs = {"manyfold": lambda: methods.manyfold_fit(spark, df, algorithm, p)}
        for peer in case["peers"]:
            runs[peer] = lambda fn=getattr(methods, peer): fn(spark, df, algorithm, p)
        measured = measure(spark, pid, args.repeats, runs)
        for method, (m, _) in measured.items():
            case["methods"][method] = m
        mine = methods.manyfold_results(spark, measured["manyfold"][1], algorithm, p)
        if "apply_in_pandas" in measured:
            q = methods.quality(mine, measured["apply_in_pandas"][1])
            tol = TOLERANCE[algorithm]
            q["within_tolerance"] = (q["metric_max_abs_diff"] <= tol["metric"]
                                     and (tol["coef_rel"] is None
                                          or q["coef_max_rel_diff"] <= tol["coef_rel"]))
            case["quality"] = q
            print(f"   quality vs scikit-learn: {q}", flush=True)
    finally:
        df.unpersist(blocking=True)
    if name in native:
        nat = native[name]
        case["methods"]["native_floor"] = report.summarize(nat["times_s"])
        case["methods"]["native_floor"]["failed_groups"] = nat["failed_groups"]
    case["ratios"] = report.ratios(case)


def run_tuning_case(spark, pid, case, args):
    """Times manyfold's search and its peers on one cached DataFrame; compares their results."""
    path = data.tuning_parquet_path(args.cache_dir, case["data"], case["make"])
    df = data.cached_frame(spark, path)
    print(f"== {case['name']}: {case['shape']} ({case['algorithm']}, {case['metric']})",
          flush=True)
    arrays = tuning.sklearn_arrays(df, case) if "sklearn_local" in case["peers"] else None
    per_store = case["name"] == "ts_cv_groups"
    runs = {"manyfold": (lambda: tuning.manyfold_ts_groups(spark, df, case)) if per_store
            else (lambda: tuning.manyfold_cv(spark, df, case))}
    for peer in case["peers"]:
        source = arrays if peer in ("joblib_spark", "sklearn_local") else df
        runs[peer] = lambda fn=getattr(tuning, peer), src=source: fn(spark, src, case)
    try:
        measured = measure(spark, pid, min(args.repeats, 3), runs)
    finally:
        df.unpersist(blocking=True)
    out = {k: v for k, v in case.items() if k != "make"}
    out["methods"] = {name: m for name, (m, _) in measured.items()}
    results = {name: r for name, (_, r) in measured.items()}
    if per_store:
        q = tuning.compare_stores(results["manyfold"], results["apply_in_pandas_ts"])
        q["within_tolerance"] = (q["disagreements_not_ties"] == 0
                                 and (q["best_rmse_max_rel_diff"] or 0) <= tuning.TS_RMSE_REL)
    else:
        q = tuning.compare_searches(results, case)
        q["within_tolerance"] = q["best_gap_vs_sklearn_local"] <= tuning.BEST_GAP
    out["quality"] = q
    mine = out["methods"]["manyfold"]["median_s"]
    out["ratios"] = {f"{peer}_over_manyfold": out["methods"][peer]["median_s"] / mine
                     for peer in case["peers"]}
    for peer, r in out["ratios"].items():
        print(f"   {peer.removesuffix('_over_manyfold')} / manyfold: {r:.2f}x", flush=True)
    print(f"   quality: {q}", flush=True)
    return out


def environment(spark, args):
    import pandas
    import pyarrow
    import sklearn

    jvm = spark._jvm
    return {
        "machine": f"{os.cpu_count()} vCPUs, "
                   f"{os.sysconf('SC_PAGE_SIZE') * os.sysconf('SC_PHYS_PAGES') / 2**30:.0f} GiB "
                   f"RAM, {platform.system()} {platform.machine()}",
        "spark": spark.version, "master": spark.sparkContext.master,
        "driver_memory": args.driver_memory,
        "java": jvm.System.getProperty("java.version"), "python": platform.python_version(),
        "sklearn": sklearn.__version__, "pandas": pandas.__version__,
        "pyarrow": pyarrow.__version__,
        "spark_conf": {k: spark.conf.get(k) for k in
                       ["spark.sql.shuffle.partitions", "spark.sql.adaptive.enabled"]}
        | dict(kv.partition("=")[::2] for kv in args.conf),
    }


def check_smoke(res):
    """The harness works: every case and method has times, and the models match sklearn's."""
    problems = []
    for c in res["cases"]:
        expected = ["manyfold", "native_floor"] + c["peers"]
        problems += [f"{c['name']}: no {k} times" for k in expected
                     if not c["methods"].get(k, {}).get("median_s")]
        q = c.get("quality")
        if not q or not q["within_tolerance"]:
            problems.append(f"{c['name']}: quality check failed: {q}")
    if {c["name"] for c in res["cases"]} != {name for name, *_ in CASES}:
        problems.append("not every case ran")
    svc = res.get("svc_single")
    if not svc or svc["decision_max_gap"] > 1e-3:
        problems.append(f"svc_single: missing or decision values off scikit-learn's: {svc}")
    for c in res["tuning"]:
        problems += [f"{c['name']}: no {k} times" for k in ["manyfold"] + c["peers"]
                     if not c["methods"].get(k, {}).get("median_s")]
        if not c["quality"]["within_tolerance"]:
            problems.append(f"{c['name']}: the search differs from scikit-learn's: "
                            f"{c['quality']}")
    if {c["name"] for c in res["tuning"]} != {c["name"] for c in tuning.cases(True, 0)}:
        problems.append("not every search ran")
    for c in res["inference"]:
        problems += [f"{c['name']}: no {k} times" for k in c["methods_order"]
                     if not c["methods"].get(k, {}).get("median_s")]
        if not c["quality"]["within_tolerance"]:
            problems.append(f"{c['name']}: predictions differ between methods: {c['quality']}")
    if {c["name"] for c in res["inference"]} != {c["name"] for c in inference.cases(True, 0)}:
        problems.append("not every inference case ran")
    return problems


def main():
    args = parse_args()
    cases = case_list(args)
    wanted = set(filter(None, args.cases.split(",")))
    searches = [c for c in tuning.cases(args.smoke, args.seed)
                if not wanted or c["name"] in wanted]
    inferences = [c for c in inference.cases(args.smoke, args.seed)
                  if not wanted or c["name"] in wanted]
    if args.driver_memory is None:
        args.driver_memory = "10g" if inferences and not args.smoke else "4g"
    started = datetime.datetime.now(datetime.timezone.utc)
    load_start = os.getloadavg()
    native = native_floor(cases, args.repeats) if cases else {}
    svc = svc_single(args) if not args.cases or "svc_single" in args.cases else None
    for c in cases:
        data.parquet_path(args.cache_dir, data_kind(c["algorithm"]), c["groups"], c["rows"],
                          c["features"], args.seed)
    # scikit-learn's deprecation of SVC(probability=True), in every Python worker.
    os.environ.setdefault("PYTHONWARNINGS", "ignore::FutureWarning")
    spark = spark_session(args)
    pid = spark._jvm.ProcessHandle.current().pid()
    # The memory case first: its idle process is the freshest.
    cases.sort(key=lambda c: c["name"] != MEMORY_CASE)
    for c in cases:
        run_case(spark, pid, c, args, native)
    cases.sort(key=lambda c: [n for n, *_ in CASES].index(c["name"]))
    inferred = [inference.run_case(spark, pid, c, args, measure) for c in inferences]
    searched = [run_tuning_case(spark, pid, c, args) for c in searches]
    # The scale case runs its own spark-shell with a 2 GB driver, after this session's cases.
    scaled = None
    if scale.NAME in wanted or (not wanted and not args.smoke):
        import pyspark

        print(f"== {scale.NAME}", flush=True)
        scaled = scale.run_case(os.path.abspath(args.jar), os.path.dirname(pyspark.__file__))
    res = {
        "date": started.strftime("%Y-%m-%d"), "started": started.isoformat(),
        "command": os.environ.get("BENCH_COMMAND") or shlex.join([os.path.basename(sys.executable)]
                                                                 + sys.argv),
        "smoke": args.smoke, "repeats": args.repeats, "environment": environment(spark, args),
        "native_floor_threads": 2, "cases": cases, "svc_single": svc, "inference": inferred,
        "tuning": searched, "scale": scaled,
        "load_average_start": load_start,
        "load_average_end": os.getloadavg(),
        "wall_s": (datetime.datetime.now(datetime.timezone.utc) - started).total_seconds(),
    }
    res["targets"] = (report.targets(cases, svc) + inference.targets(inferred)
                      + report.tuning_targets(searched) + report.scale_targets(scaled))
    spark.stop()

    os.makedirs(args.out, exist_ok=True)
    with open(os.path.join(args.out, "results.json"), "w") as f:
        json.dump(res, f, indent=1)
    md = report.markdown(res)
    with open(os.path.join(args.out, "results.md"), "w") as f:
        f.write(md)
    written = "results.md, results.json"
    if cases:  # the chart is about the training cases
        report.chart(res, os.path.join(args.out, "chart.png"))
        written += ", chart.png"
    print(md)
    print(f"wrote {args.out}/{written} ({res['wall_s']:.0f} s)")
    if args.smoke:
        problems = check_smoke(res)
        if problems:
            print("bench-smoke FAILED:\n  " + "\n  ".join(problems), file=sys.stderr)
            sys.exit(1)
        print("bench-smoke: every case ran and matches scikit-learn")


if __name__ == "__main__":
    main()
