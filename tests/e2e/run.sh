#!/usr/bin/env bash
# End-to-end tests: the packaged jar on Spark installed from PyPI (pyspark's bin/spark-shell and
# bin/spark-submit are a Spark distribution), in local[2] and local-cluster[2,1,1024] mode, and the
# notebooks run as scripts.
#
# Usage: tests/e2e/run.sh [e2e|notebooks|cross]
#   (make test-e2e, make test-notebook; make test-e2e-spark4, test-notebook-spark4, test-cross)
# Environment: PYTHON (the venv's python, with pyspark), JAR (the packaged jar), SPARK_HOME
# (default: pyspark's folder), E2E_ONLY (run only the scenarios of this name, e.g. many-groups),
# E2E_SKIP (scenarios not to run, space-separated), E2E_TAG (logs in tests/out/<suite>-<tag>/,
# e.g. spark4). The cross suite also takes JAR2 and SPARK_HOME2: the other Spark line's jar and
# Spark. Logs go to tests/out/<suite>/. Prints "<suite>: N passed, M failed" last and exits
# non-zero when anything failed.
set -uo pipefail

root=$(cd "$(dirname "$0")/../.." && pwd)
here=$root/tests/e2e
suite=${1:-e2e}
PYTHON=${PYTHON:-$HOME/.cache/manyfold/venv-spark-3.5.7/bin/python}
JAR=${JAR:-$root/target/jar/manyfold_2.12-0.1.0.jar}
if [ -z "${SPARK_HOME:-}" ]; then
  SPARK_HOME=$("$PYTHON" -c 'import os, pyspark; print(os.path.dirname(pyspark.__file__))')
fi
export SPARK_HOME
out=$root/tests/out/$suite${E2E_TAG:+-$E2E_TAG}
passed=0
failed=0
failures=()

for f in "$JAR" "$SPARK_HOME/bin/spark-shell" "$SPARK_HOME/bin/spark-submit"; do
  [ -f "$f" ] || { echo "$suite: $f is missing (make jar venv)" >&2; exit 2; }
done
rm -rf "$out"
mkdir -p "$out"

# Every JVM: small driver, no UI, few shuffle partitions (the data are small).
spark_opts=(--driver-memory 1g --conf spark.ui.enabled=false --conf spark.ui.showConsoleProgress=false
  --conf spark.sql.shuffle.partitions=4)

# spark-shell -i <script> compiles the script as one unit and then reads stdin. A script that
# fails (compile error, exception) never reaches its own System.exit(0) and its marker line, so
# the stdin fallback exits 97 instead of leaving the REPL to exit 0 at end of input.
spark_shell() { # master script [spark-shell options...]
  local master=$1 script=$2
  shift 2
  timeout --kill-after=30 900 "$SPARK_HOME/bin/spark-shell" \
    --master "$master" "${spark_opts[@]}" --jars "$JAR" "$@" -i "$script" <<<'System.exit(97)'
}

# spark_shell with the jar of the other Scala version: passes (prints "E2E-PASS wrong-scala") when
# the script's explicit check failed as it should (WRONG-SCALA-CHECKED) and Spark logged manyfold's
# message when the session started (its "Failed to load session extension" warning).
wrong_scala_shell() { # master script
  local tmp rc
  tmp=$(mktemp)
  spark_shell "$@" >"$tmp" 2>&1
  rc=$?
  cat "$tmp"
  if grep -q "^WRONG-SCALA-CHECKED" "$tmp" && grep -q "session extension" "$tmp" &&
    grep -q "manyfold: .* was built for Scala" "$tmp"; then
    echo "E2E-PASS wrong-scala"
  fi
  rm -f "$tmp"
  return $rc
}

# scenario <name> <marker> <command...>: passes when the command exits 0 and printed a line
# starting with <marker>.
scenario() {
  local name=$1 marker=$2
  shift 2
  local log=$out/$name.log start=$SECONDS rc=0
  if [ -n "${E2E_ONLY:-}" ] && [ "$name" != "$E2E_ONLY" ]; then return 0; fi
  case " ${E2E_SKIP:-} " in *" $name "*) echo "skip $name"; return 0 ;; esac
  "$@" >"$log" 2>&1 || rc=$?
  local took=$((SECONDS - start))
  if [ "$rc" -eq 0 ] && grep -q "^$marker" "$log"; then
    passed=$((passed + 1))
    echo "PASS $name (${took}s)"
  else
    failed=$((failed + 1))
    failures+=("$name")
    local seen=missing
    grep -q "^$marker" "$log" && seen=printed
    echo "FAIL $name (${took}s, exit $rc, \"$marker\" $seen); last lines of ${log#"$root"/}:"
    grep -v -E '^[[:space:]]+at |^[[:space:]]*$' "$log" | tail -n 40 | sed 's/^/    /'
  fi
}

case $suite in
  e2e)
    export E2E_DATA=$out/data E2E_OUT=$out/scratch
    mkdir -p "$E2E_OUT"
    "$PYTHON" "$here/make_recipe_data.py" "$E2E_DATA" || { echo "e2e: no data" >&2; exit 2; }

    # The recipe in one JVM (executors are threads of the driver) ...
    E2E_EXECUTORS=0 scenario recipe-local "E2E-PASS recipe" \
      spark_shell 'local[2]' "$here/recipe.scala"
    # ... and with two executor JVMs that each extract and load the native library.
    E2E_EXECUTORS=2 scenario recipe-local-cluster "E2E-PASS recipe" \
      spark_shell 'local-cluster[2,1,1024]' "$here/recipe.scala"
    # A search: parallel fits on data decoded once per executor JVM, metrics against Spark's.
    E2E_EXECUTORS=0 scenario search-local "E2E-PASS search" \
      spark_shell 'local[2]' "$here/search.scala"
    E2E_EXECUTORS=2 scenario search-local-cluster "E2E-PASS search" \
      spark_shell 'local-cluster[2,1,1024]' "$here/search.scala"
    # A library path that does not exist gives a clear error, not a crash.
    scenario missing-native "E2E-PASS missing-native" \
      spark_shell 'local[1]' "$here/missing_native.scala" \
      --driver-java-options '-Dmanyfold.native.lib=/nonexistent/libmanyfold_jni.so'
    # 200,000 tiny groups on a 512 MB driver: training, failOnGroupError, save, load and lookups
    # keep the models table distributed (no job brings it to the driver).
    scenario many-groups "E2E-PASS many-groups" \
      spark_shell 'local[2]' "$here/many_groups.scala" --driver-memory 512m
    # Spark 4: manyfold's estimators from a Spark Connect client (ML over Connect).
    if [ "$("$PYTHON" -c 'import pyspark; print(pyspark.__version__.split(".")[0])')" -ge 4 ]; then
      scenario connect-ml "E2E-PASS connect-ml" "$PYTHON" "$here/connect_ml.py"
    fi
    # The jar as the application: spark-submit runs the demo's main class (it checks itself).
    scenario demo-spark-submit "demo ok:" \
      timeout --kill-after=30 900 "$SPARK_HOME/bin/spark-submit" --master 'local[2]' \
      "${spark_opts[@]}" --class manyfold.examples.ManyModelsDemo "$JAR" 300 100
    ;;
  notebooks)
    # Each notebook runs as written, with a closing marker appended: spark-shell compiles the
    # file as one unit, so the marker prints only when every cell ran without an exception.
    for nb in "$root"/notebooks/*.scala; do
      name=$(basename "$nb" .scala)
      script=$out/$name.run.scala
      { cat "$nb"; printf '\nprintln("NOTEBOOK-COMPLETE")\nspark.stop()\nSystem.exit(0)\n'; } >"$script"
      scenario "$name" "NOTEBOOK-COMPLETE" spark_shell 'local[2]' "$script"
    done
    ;;
  cross)
    # Both Spark lines: JAR on SPARK_HOME (Spark 3.5, Scala 2.12), JAR2 on SPARK_HOME2 (Spark 4,
    # Scala 2.13).
    for f in "${JAR2:-}" "${SPARK_HOME2:-}/bin/spark-shell"; do
      [ -f "$f" ] || { echo "cross: JAR2 and SPARK_HOME2 must name the other line's jar and Spark" >&2; exit 2; }
    done
    export E2E_DATA=$out/data
    "$PYTHON" "$here/make_recipe_data.py" "$E2E_DATA" || { echo "cross: no data" >&2; exit 2; }
    # A jar and its Spark are chosen by the variables set before each scenario (spark_shell
    # reads SPARK_HOME and JAR when it runs).
    h1=$SPARK_HOME j1=$JAR h2=$SPARK_HOME2 j2=$JAR2
    xv=$here/cross_version.scala
    # Models saved by each line load in the other and predict the same.
    CROSS_MODE=save CROSS_DIR=$out/saved-1 SPARK_HOME=$h1 JAR=$j1 \
      scenario save-on-1 "E2E-PASS cross-version save" spark_shell 'local[2]' "$xv"
    CROSS_MODE=load CROSS_DIR=$out/saved-1 SPARK_HOME=$h2 JAR=$j2 \
      scenario load-on-2 "E2E-PASS cross-version load" spark_shell 'local[2]' "$xv"
    CROSS_MODE=save CROSS_DIR=$out/saved-2 SPARK_HOME=$h2 JAR=$j2 \
      scenario save-on-2 "E2E-PASS cross-version save" spark_shell 'local[2]' "$xv"
    CROSS_MODE=load CROSS_DIR=$out/saved-2 SPARK_HOME=$h1 JAR=$j1 \
      scenario load-on-1 "E2E-PASS cross-version load" spark_shell 'local[2]' "$xv"
    # Each jar on the other line's Spark: a clear error naming both Scala versions.
    SPARK_HOME=$h1 JAR=$j2 scenario wrong-scala-on-1 "E2E-PASS wrong-scala" \
      wrong_scala_shell 'local[1]' "$here/wrong_scala.scala"
    SPARK_HOME=$h2 JAR=$j1 scenario wrong-scala-on-2 "E2E-PASS wrong-scala" \
      wrong_scala_shell 'local[1]' "$here/wrong_scala.scala"
    ;;
  *)
    echo "usage: $0 [e2e|notebooks|cross]" >&2
    exit 2
    ;;
esac

if [ "$failed" -gt 0 ]; then
  echo "failed: ${failures[*]} (logs in ${out#"$root"/})"
fi
echo "$suite${E2E_TAG:+-$E2E_TAG}: $passed passed, $failed failed"
[ "$failed" -eq 0 ]
