"""The scale case of `make bench` (scale_1m_groups): 1,000,000 groups of 5 rows, one linear model
each, trained, saved, loaded, looked up and used to score 10,000,000 rows through the shuffle join,
on local[2] with a 2 GB driver heap (the driver is also the executor in local mode).

It runs tests/e2e/many_groups.scala (the e2e scenario at 200,000 groups on a 512 MB driver) at this
size in its own spark-shell, so the heap limit is the case's own, not the benchmark session's. The
script checks its results (every prediction against its group's line, failed groups, lookups) and
that no manyfold job brings the models table to the driver; it prints each phase's time, the peak
heap in use during it (sampled every 20 ms, garbage included) and the heap still live after it.
The phases are: fit, lookup, save, load (which checks every model), transform (the 10,000,000 rows
scored and checked) and a second fit with failOnGroupError.
"""

import os
import re
import subprocess
import sys
import tempfile
import time

REPO = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
SCRIPT = os.path.join(REPO, "tests", "e2e", "many_groups.scala")

NAME = "scale_1m_groups"
GROUPS, SCORE_ROWS, DRIVER_MEMORY = 1_000_000, 10_000_000, "2g"

PHASE = re.compile(r"^e2e many-groups: (.+?) in ([0-9.]+) s \(peak heap (\d+) MB, "
                   r"live after (\d+) MB\)")
HEAP = re.compile(r"^e2e many-groups: \d+ groups, driver heap (\d+) MB")
BYTES = re.compile(r"^e2e many-groups: model bytes (\d+) MB in total")


def run_case(jar, spark_home, groups=GROUPS, rows=SCORE_ROWS):
    """Runs the scenario; returns its phases (seconds, peak and live heap) and whether it passed.
    Below about 100,000 groups the models fit under the scenario's broadcast threshold (8 MB) and
    its check that no job brings them to the driver fails by design."""
    env = dict(os.environ, E2E_GROUPS=str(groups), E2E_SCORE_ROWS=str(rows),
               E2E_MAX_HEAP_MB="2100")
    with tempfile.TemporaryDirectory(prefix="manyfold-scale-") as scratch:
        env["E2E_OUT"] = scratch
        cmd = [os.path.join(spark_home, "bin", "spark-shell"), "--master", "local[2]",
               "--driver-memory", DRIVER_MEMORY, "--conf", "spark.ui.enabled=false",
               "--conf", "spark.ui.showConsoleProgress=false",
               "--conf", "spark.sql.shuffle.partitions=4", "--jars", jar, "-i", SCRIPT]
        print("$ " + " ".join(cmd), flush=True)
        start = time.perf_counter()
        proc = subprocess.run(cmd, env=env, input="System.exit(97)\n", text=True,
                              stdout=subprocess.PIPE, stderr=subprocess.STDOUT, timeout=3600)
        wall = time.perf_counter() - start
    out = {"name": NAME, "groups": groups, "score_rows": rows, "driver_memory": DRIVER_MEMORY,
           "passed": proc.returncode == 0 and "E2E-PASS many-groups" in proc.stdout,
           "wall_s": wall, "phases": {}}
    for line in proc.stdout.splitlines():
        if m := PHASE.match(line):
            out["phases"][m.group(1)] = {"seconds": float(m.group(2)),
                                         "peak_heap_mb": int(m.group(3)),
                                         "live_after_mb": int(m.group(4))}
        elif m := HEAP.match(line):
            out["heap_max_mb"] = int(m.group(1))
        elif m := BYTES.match(line):
            out["model_mb"] = int(m.group(1))
        if line.startswith("e2e many-groups:"):
            print("   " + line, flush=True)
    manyfold = [p for name, p in out["phases"].items() if "collect" not in name]
    out["peak_heap_mb"] = max((p["peak_heap_mb"] for p in manyfold), default=None)
    if not out["passed"]:
        print(proc.stdout[-4000:], file=sys.stderr)
    return out


def markdown(res):
    if not res:
        return []
    lines = ["", f"## Scale: {res['groups']:,} groups on a {res['driver_memory']} driver", "",
             f"{res['groups']:,} groups of 5 rows (one linear model each; model bytes "
             f"{res.get('model_mb', '?')} MB), {res['score_rows']:,} rows scored through the "
             f"shuffle join, local[2], driver heap {res.get('heap_max_mb', '?')} MB "
             f"(tests/e2e/many_groups.scala; {'passed its checks' if res['passed'] else 'FAILED'}). "
             "Peak heap: the most in use during the phase, sampled every 20 ms, garbage included; "
             "live after: the heap after a full collection at the phase's end.", "",
             "| phase | time | peak heap | live after |", "|---|---|---|---|"]
    for name, p in res["phases"].items():
        lines.append(f"| {name} | {p['seconds']:.1f} s | {p['peak_heap_mb']:,} MB | "
                     f"{p['live_after_mb']:,} MB |")
    lines += ["", f"Peak heap over the manyfold phases: {res['peak_heap_mb']:,} MB.", ""]
    return lines
