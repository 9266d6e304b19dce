# manyfold: `make demo` and `make test` set up everything they need (sbt launcher via Maven,
# Spark from PyPI, Python reference packages) and cache it under $(CACHE).

SHELL := /bin/bash
.SHELLFLAGS := -euo pipefail -c
CACHE ?= $(HOME)/.cache/manyfold
SPARK_VERSION := 3.5.7
VENV := $(CACHE)/venv-spark-$(SPARK_VERSION)
PYTHON := $(VENV)/bin/python
SPARK_HOME_DIR = $(shell $(PYTHON) -c 'import os, pyspark; print(os.path.dirname(pyspark.__file__))')
SBT := tools/sbt
PLATFORM := linux-x86_64
NATIVE_LIB := target/release/libmanyfold_jni.so
NATIVE_RES := target/native-resources/manyfold/native/$(PLATFORM)
JAR := target/jar/manyfold_2.12-0.1.0.jar

.PHONY: all native jar venv test test-rust test-scala test-e2e test-notebook demo lint fmt bench bench-smoke clean
.PHONY: wheel test-python

all: jar

## The cdylib, in release, copied where sbt packs it into the jar.
native:
	cargo build --release -p manyfold-jni
	mkdir -p $(NATIVE_RES)
	cp $(NATIVE_LIB) $(NATIVE_RES)/libmanyfold_jni.so
	@echo "highest GLIBC symbol required by libmanyfold_jni.so:" \
	  "$$(objdump -T $(NATIVE_LIB) | grep -o 'GLIBC_[0-9.]*' | sort -uV | tail -1)"

jar: native
	$(SBT) package
	@unzip -l $(JAR) | grep "manyfold/native/$(PLATFORM)/libmanyfold_jni.so" >/dev/null \
	  || { echo "the native library is missing from $(JAR)" >&2; exit 1; }
	@echo "packaged $(JAR)"

## Python with pyspark (a Spark distribution: bin/spark-submit, jars/) and reference packages.
venv: $(VENV)/.ready
$(VENV)/.ready: tests/requirements.txt
	python3 -m venv $(VENV)
	$(VENV)/bin/pip install -q --disable-pip-version-check -r tests/requirements.txt
	touch $@

test: test-rust test-scala test-e2e test-notebook test-python bench-smoke

test-rust:
	cargo test --release --workspace

test-scala: native
	$(SBT) test

## The packaged jar under pyspark's spark-shell/spark-submit, local[2] and local-cluster[2,1,1024]
## (tests/e2e/run.sh; logs in tests/out/e2e/).
test-e2e: jar venv
	PYTHON=$(PYTHON) JAR=$(CURDIR)/$(JAR) SPARK_HOME=$(SPARK_HOME_DIR) bash tests/e2e/run.sh e2e

## notebooks/*.scala run as spark-shell scripts with the jar attached (logs in tests/out/notebooks/).
test-notebook: jar venv
	PYTHON=$(PYTHON) JAR=$(CURDIR)/$(JAR) SPARK_HOME=$(SPARK_HOME_DIR) bash tests/e2e/run.sh notebooks

## Per-store models for 1,200 generated stores on an embedded local[2] Spark (sbt run, forked).
DEMO_ARGS ?=
demo: native
	$(SBT) 'set manyfold / Compile / run / mainClass := Some("manyfold.examples.ManyModelsDemo")' \
	  'set manyfold / run / outputStrategy := Some(StdoutOutput)' \
	  "manyfold / run $(DEMO_ARGS)"

## manyfold against applyInPandas + scikit-learn, the JVM groupBy floor and the Rust native
## floor (manyfold-core alone), and the hyperparameter searches against Spark's CrossValidator,
## joblib-spark and scikit-learn, in one local[2] session (bench/run.py; bench/README.md): writes
## bench/results.md, results.json, chart.png. Not part of `make test`; about 20 minutes here.
## Narrow it with e.g. BENCH_ARGS="--repeats 3 --cases linear_10k,memory_1m".
BENCH_VENV := $(CACHE)/venv-bench-spark-$(SPARK_VERSION)
BENCH_PYTHON := $(BENCH_VENV)/bin/python
BENCH_ARGS ?=

$(BENCH_VENV)/.ready: bench/requirements.txt tests/requirements.txt
	python3 -m venv $(BENCH_VENV)
	$(BENCH_VENV)/bin/pip install -q --disable-pip-version-check -r bench/requirements.txt
	touch $@

bench: jar $(BENCH_VENV)/.ready
	BENCH_COMMAND="make bench$(if $(BENCH_ARGS), BENCH_ARGS='$(BENCH_ARGS)')" \
	  $(BENCH_PYTHON) bench/run.py --jar $(JAR) --out bench --cache-dir $(CACHE)/bench-data \
	  $(BENCH_ARGS)

## The benchmark on tiny shapes, one repeat (about two minutes once built): fails on a broken
## harness or on models and searches that differ from scikit-learn's, never on speed
## (bench/out/smoke/).
bench-smoke: jar $(BENCH_VENV)/.ready
	$(BENCH_PYTHON) bench/run.py --smoke --repeats 1 --jar $(JAR) --out bench/out/smoke \
	  --cache-dir $(CACHE)/bench-data

lint:
	cargo fmt --all --check
	cargo clippy --workspace --all-targets -- -D warnings
	$(SBT) scalafmtCheckAll scalafmtSbtCheck

fmt:
	cargo fmt --all
	$(SBT) scalafmtAll scalafmtSbt

clean:
	cargo clean
	rm -rf scala/target project/target target

## The Python package (python/): a pure-Python wheel that carries the jar, built from a copy of
## python/ with the jar added (target/python-build), by setuptools from a cached build venv.
WHEEL := target/wheel/manyfold-0.1.0-py3-none-any.whl
WHEEL_VENV := $(CACHE)/venv-wheel-build
PY_VENV := $(CACHE)/venv-python-spark-$(SPARK_VERSION)
PY_PYTHON := $(PY_VENV)/bin/python

$(WHEEL_VENV)/.ready:
	python3 -m venv $(WHEEL_VENV)
	$(WHEEL_VENV)/bin/pip install -q --disable-pip-version-check 'setuptools>=70' wheel
	touch $@

wheel: jar $(WHEEL_VENV)/.ready
	rm -rf target/python-build target/wheel
	mkdir -p target/wheel
	cp -r python target/python-build
	rm -rf target/python-build/tests target/python-build/build target/python-build/*.egg-info \
	  target/python-build/manyfold/jars/*.jar
	cp $(JAR) target/python-build/manyfold/jars/
	cd target/python-build && $(WHEEL_VENV)/bin/pip wheel -q --disable-pip-version-check \
	  --no-deps --no-build-isolation -w $(CURDIR)/target/wheel .
	@unzip -l $(WHEEL) | grep "manyfold/jars/$(notdir $(JAR))" >/dev/null \
	  || { echo "the jar is missing from $(WHEEL)" >&2; exit 1; }
	@echo "built $(WHEEL)"

## The wheel installed into a cached venv (pyspark, pytest, scikit-learn, joblibspark): the pytest
## suite (python/tests) on a local[2] session with the packaged jar, then notebooks/python/*.py
## run as scripts (logs in tests/out/notebooks-python/).
$(PY_VENV)/.ready: tests/requirements.txt python/tests/requirements.txt
	python3 -m venv $(PY_VENV)
	$(PY_VENV)/bin/pip install -q --disable-pip-version-check -r python/tests/requirements.txt
	touch $@

test-python: wheel $(PY_VENV)/.ready
	$(PY_VENV)/bin/pip install -q --disable-pip-version-check --no-deps --force-reinstall $(WHEEL)
	cd python/tests && $(PY_PYTHON) -m pytest -q -p no:cacheprovider .
	PYTHON=$(PY_PYTHON) bash python/tests/run_notebooks.sh
