#!/usr/bin/env bash
# notebooks/python/*.py (Databricks source format) run as plain Python scripts, each starting its
# own local[2] session with the installed wheel's jar; a notebook passes when it exits 0 (its
# cells assert that the PySpark recipe and manyfold agree). Logs in tests/out/notebooks-python/.
#
# Usage: PYTHON=<venv python with the wheel installed> python/tests/run_notebooks.sh
set -uo pipefail

root=$(cd "$(dirname "$0")/../.." && pwd)
PYTHON=${PYTHON:-python3}
out=$root/tests/out/notebooks-python
rm -rf "$out"
mkdir -p "$out"
export PYSPARK_PYTHON=$PYTHON
passed=0
failed=0
for nb in "$root"/notebooks/python/*.py; do
  name=$(basename "$nb" .py)
  log=$out/$name.log
  start=$SECONDS
  # From the log folder, so that the source tree's python/ cannot shadow the installed package.
  if (cd "$out" && timeout --kill-after=30 900 "$PYTHON" "$nb") >"$log" 2>&1; then
    passed=$((passed + 1))
    echo "PASS $name ($((SECONDS - start))s)"
  else
    failed=$((failed + 1))
    echo "FAIL $name ($((SECONDS - start))s); last lines of ${log#"$root"/}:"
    grep -v -E '^[[:space:]]+at |^[[:space:]]*$|WARN' "$log" | tail -n 30 | sed 's/^/    /'
  fi
done
echo "notebooks-python: $passed passed, $failed failed"
[ "$failed" -eq 0 ]
