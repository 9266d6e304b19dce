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
JAR := target/jar/manyfold_2.12-0.1.0.jar

.PHONY: all native native-targets test-native qemu-user test-aarch64 test-baseline jar venv test test-rust test-scala test-e2e test-notebook demo lint fmt bench bench-smoke clean
.PHONY: wheel test-python

all: jar

## The native libraries the jar ships, linux-x86_64 and linux-aarch64: the cdylib in release,
## cross-built with cargo-zigbuild against glibc $(GLIBC_FLOOR) (zig from PyPI, in $(ZIG_VENV)),
## for rustc's default CPUs (baseline x86-64, armv8-a), copied where sbt packs them into the jar
## (and finds them for `sbt test`), with manyfold/native/platforms.txt listing them. Prints each
## library's ELF machine and highest required GLIBC_ symbol (readelf).
GLIBC_FLOOR := 2.17
ZIGLANG_VERSION := 0.15.2
ZIGBUILD_VERSION := 0.24.0
ZIG_VENV := $(CACHE)/venv-zigbuild-$(ZIGBUILD_VERSION)-zig-$(ZIGLANG_VERSION)
NATIVE_DIR := target/native-resources/manyfold/native
# platforms in the jar: linux-<arch> is built for Rust's <arch>-unknown-linux-gnu
NATIVE_PLATFORMS := linux-x86_64 linux-aarch64

$(ZIG_VENV)/.ready:
	python3 -m venv $(ZIG_VENV)
	$(ZIG_VENV)/bin/pip install -q --disable-pip-version-check \
	  ziglang==$(ZIGLANG_VERSION) cargo-zigbuild==$(ZIGBUILD_VERSION)
	touch $@

## Rust's aarch64 standard library (rustup), added when missing.
native-targets:
	@if command -v rustup >/dev/null \
	    && ! rustup target list --installed | grep -qx aarch64-unknown-linux-gnu; then \
	  rustup target add aarch64-unknown-linux-gnu; fi

native: $(ZIG_VENV)/.ready native-targets
	@# A target-cpu or target-feature would make the library die with SIGILL on older CPUs.
	@if grep -qs 'target-cpu\|target-feature' .cargo/config .cargo/config.toml \
	      $(HOME)/.cargo/config $(HOME)/.cargo/config.toml \
	    || env | grep -q 'RUSTFLAGS=.*target-\(cpu\|feature\)'; then \
	  echo "native: refusing to build with a target-cpu/target-feature setting" >&2; exit 1; fi
	PATH="$(ZIG_VENV)/bin:$$PATH" cargo zigbuild --release -p manyfold-jni \
	  $(foreach p,$(NATIVE_PLATFORMS),--target $(p:linux-%=%)-unknown-linux-gnu.$(GLIBC_FLOOR))
	rm -rf $(NATIVE_DIR)
	for p in $(NATIVE_PLATFORMS); do mkdir -p $(NATIVE_DIR)/$$p && \
	  cp target/$${p#linux-}-unknown-linux-gnu/release/libmanyfold_jni.so $(NATIVE_DIR)/$$p/; done
	printf '%s\n' $(NATIVE_PLATFORMS) > $(NATIVE_DIR)/platforms.txt
	@for p in $(NATIVE_PLATFORMS); do \
	  lib=$(NATIVE_DIR)/$$p/libmanyfold_jni.so; \
	  echo "$$p/libmanyfold_jni.so: ELF machine" \
	    "$$(readelf -h $$lib | sed -n 's/^ *Machine: *//p'), highest GLIBC symbol" \
	    "$$(readelf -V -W $$lib | grep -o 'GLIBC_[0-9.]*[0-9]' | sort -uV | tail -1)"; \
	done

## The bundled libraries checked (tests/native/check_libs.py, reading the ELF files): the ELF
## machine of each platform, no GLIBC_ symbol newer than $(GLIBC_FLOOR).
test-native: native
	python3 tests/native/check_libs.py --self-test --max-glibc $(GLIBC_FLOOR) $(NATIVE_DIR)

## Debian's qemu-user (qemu-x86_64, qemu-aarch64), installed with apt-get when missing.
SUDO := $(if $(filter 0,$(shell id -u)),,sudo)
qemu-user:
	@if ! command -v qemu-x86_64 >/dev/null || ! command -v qemu-aarch64 >/dev/null; then \
	  $(SUDO) apt-get update -q && DEBIAN_FRONTEND=noninteractive $(SUDO) apt-get install -y -q \
	    --no-install-recommends qemu-user; fi

## manyfold-core's tests built for linux-aarch64 (glibc $(GLIBC_FLOOR), as the shipped library) and
## run under qemu-aarch64 with Debian's arm64 glibc (libc6-arm64-cross, installed when missing).
## Not part of `make test`: the aarch64 release build of the tests takes about 20 minutes here.
AARCH64_SYSROOT := /usr/aarch64-linux-gnu
test-aarch64: $(ZIG_VENV)/.ready native-targets qemu-user
	@if [ ! -e $(AARCH64_SYSROOT)/lib/ld-linux-aarch64.so.1 ] \
	    || [ ! -e $(AARCH64_SYSROOT)/lib/libgcc_s.so.1 ]; then \
	  $(SUDO) apt-get update -q && DEBIAN_FRONTEND=noninteractive $(SUDO) apt-get install -y -q \
	    --no-install-recommends libc6-arm64-cross libgcc-s1-arm64-cross; fi
	CARGO_TARGET_AARCH64_UNKNOWN_LINUX_GNU_RUNNER="qemu-aarch64 -L $(AARCH64_SYSROOT)" \
	  PATH="$(ZIG_VENV)/bin:$$PATH" cargo-zigbuild test --release -p manyfold-core \
	  --target aarch64-unknown-linux-gnu.$(GLIBC_FLOOR)

## manyfold-core's x86_64 tests (the release build test-rust makes) under qemu-x86_64's qemu64
## CPU (no SSSE3/SSE4/POPCNT/AVX): no SIGILL on a baseline x86-64 CPU (tests/native/baseline.sh).
test-baseline: qemu-user
	bash tests/native/baseline.sh

# Fails unless jar $(1) holds every bundled native library and platforms.txt. (unzip's listing is
# read whole: grep -q exiting early would fail the pipe under pipefail.)
define check_native_in_jar
	@listing=$$(unzip -l $(1)); for f in $(NATIVE_PLATFORMS:%=%/libmanyfold_jni.so) platforms.txt; do \
	  grep -F "manyfold/native/$$f" <<<"$$listing" >/dev/null \
	    || { echo "manyfold/native/$$f is missing from $(1)" >&2; exit 1; }; \
	done
	@echo "packaged $(1) with $(NATIVE_PLATFORMS)"
endef

jar: native
	$(SBT) package
	$(call check_native_in_jar,$(JAR))

## Python with pyspark (a Spark distribution: bin/spark-submit, jars/) and reference packages.
venv: $(VENV)/.ready
$(VENV)/.ready: tests/requirements.txt
	python3 -m venv $(VENV)
	$(VENV)/bin/pip install -q --disable-pip-version-check -r tests/requirements.txt
	touch $@

test: test-rust test-baseline test-native test-scala test-e2e test-notebook test-python bench-smoke test-spark4

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

wheel: jar jar-spark4 $(WHEEL_VENV)/.ready
	rm -rf target/python-build target/wheel
	mkdir -p target/wheel
	cp -r python target/python-build
	rm -rf target/python-build/tests target/python-build/build target/python-build/*.egg-info \
	  target/python-build/manyfold/jars/*.jar
	cp $(JAR) $(JAR4) target/python-build/manyfold/jars/
	cd target/python-build && $(WHEEL_VENV)/bin/pip wheel -q --disable-pip-version-check \
	  --no-deps --no-build-isolation -w $(CURDIR)/target/wheel .
	@for j in $(JAR) $(JAR4); do unzip -l $(WHEEL) | grep "manyfold/jars/$$(basename $$j)" >/dev/null \
	  || { echo "$$(basename $$j) is missing from $(WHEEL)" >&2; exit 1; }; done
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

## Spark 4 / Scala 2.13: the second jar, cross-built from the same sources (build.sbt), its Spark
## from PyPI in its own cached venv, and its end-to-end tests and notebooks (logs in
## tests/out/<suite>-spark4/). test-cross runs the two lines against each other: models saved by
## each load in the other, and each jar on the other's Spark fails with a clear message.
SPARK4_VERSION := 4.1.0
SCALA213_VERSION := 2.13.17
VENV4 := $(CACHE)/venv-spark-$(SPARK4_VERSION)
PYTHON4 := $(VENV4)/bin/python
SPARK4_HOME_DIR = $(shell $(PYTHON4) -c 'import os, pyspark; print(os.path.dirname(pyspark.__file__))')
JAR4 := target/jar/manyfold_2.13-0.1.0.jar
# The Spark 4 e2e subset (timings in README, "Spark 3.5 and Spark 4"): the search on local-cluster
# (two executor JVMs), the missing library, the many-models demo through spark-submit and Spark
# Connect; both recipes, the local[2] search and many-groups run on Spark 3.5 only
# (E2E_SKIP_SPARK4= runs them all).
E2E_SKIP_SPARK4 ?= recipe-local recipe-local-cluster search-local many-groups
# The Python package's tests on Spark 4: the session and jar checks and the estimators
# (PYTEST_SPARK4=. runs them all).
PYTEST_SPARK4 ?= test_session.py test_estimators.py

.PHONY: jar-spark4 jars venv-spark4 test-e2e-spark4 test-notebook-spark4 test-cross \
  test-python-spark4 test-spark4

jar-spark4: native
	$(SBT) "++$(SCALA213_VERSION) package"
	$(call check_native_in_jar,$(JAR4))

jars: jar jar-spark4

venv-spark4: $(VENV4)/.ready
# One venv for Spark 4's e2e tests, notebooks and Python package tests (a superset of
# tests/requirements-spark4.txt).
$(VENV4)/.ready: tests/requirements-spark4.txt python/tests/requirements-spark4.txt
	python3 -m venv $(VENV4)
	$(VENV4)/bin/pip install -q --disable-pip-version-check -r python/tests/requirements-spark4.txt
	touch $@

test-e2e-spark4: jar-spark4 venv-spark4
	PYTHON=$(PYTHON4) JAR=$(CURDIR)/$(JAR4) SPARK_HOME=$(SPARK4_HOME_DIR) E2E_TAG=spark4 \
	  E2E_SKIP="$(E2E_SKIP_SPARK4)" bash tests/e2e/run.sh e2e

test-notebook-spark4: jar-spark4 venv-spark4
	PYTHON=$(PYTHON4) JAR=$(CURDIR)/$(JAR4) SPARK_HOME=$(SPARK4_HOME_DIR) E2E_TAG=spark4 \
	  bash tests/e2e/run.sh notebooks

test-cross: jar jar-spark4 venv venv-spark4
	PYTHON=$(PYTHON) JAR=$(CURDIR)/$(JAR) SPARK_HOME=$(SPARK_HOME_DIR) \
	  JAR2=$(CURDIR)/$(JAR4) SPARK_HOME2=$(SPARK4_HOME_DIR) bash tests/e2e/run.sh cross

test-python-spark4: wheel venv-spark4
	$(VENV4)/bin/pip install -q --disable-pip-version-check --no-deps --force-reinstall $(WHEEL)
	cd python/tests && $(PYTHON4) -m pytest -q -p no:cacheprovider $(PYTEST_SPARK4)

test-spark4: test-e2e-spark4 test-notebook-spark4 test-cross test-python-spark4
