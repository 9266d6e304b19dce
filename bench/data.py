"""Benchmark data: generated deterministically with numpy, written once as parquet, read back
as one cached Spark DataFrame per case.

Columns: `g` (int, the group), `y` (double, the label), `x0..x{p-1}` (double features).
Model (the Rust native floor, rust/core/benches/native_floor.rs, uses the same one with its
own generator): x ~ N(0, 1);
  linear:   y = x.w_g + b_g + N(0, 1),      w_gj, b_g ~ N(0, 1)
  logistic: P(y = 1) = sigmoid(x.w_g + b_g), w_gj ~ N(0, 1.5^2 / p), b_g ~ N(0, 0.5^2)
Rows are shuffled (deterministically), as data that arrives by time rather than by group.
"""

import os

import numpy as np
import pyarrow as pa
import pyarrow.parquet as pq

# Small row groups so that Spark splits each file into several partitions (local[2] reads
# with two tasks), as it would a real table.
ROW_GROUP_ROWS = 64 * 1024


def feature_names(p):
    return [f"x{j}" for j in range(p)]


def generate(algorithm, groups, rows, p, seed):
    """The columns of one data set as a pyarrow Table."""
    rng = np.random.default_rng(seed)
    n = groups * rows
    x = rng.standard_normal((n, p))
    if algorithm == "logistic":
        w = rng.standard_normal((groups, p)) * (1.5 / np.sqrt(p))
        b = rng.standard_normal(groups) * 0.5
    else:
        w = rng.standard_normal((groups, p))
        b = rng.standard_normal(groups)
    g = np.repeat(np.arange(groups, dtype=np.int32), rows)
    margin = np.einsum("ij,ij->i", x, w[g]) + b[g]
    if algorithm == "logistic":
        prob = 1.0 / (1.0 + np.exp(-margin))
        y = (rng.random(n) < prob).astype(np.float64)
    else:
        y = margin + rng.standard_normal(n)
    order = rng.permutation(n)
    columns = {"g": g[order], "y": y[order]}
    for j, name in enumerate(feature_names(p)):
        columns[name] = np.ascontiguousarray(x[order, j])
    return pa.table(columns)


def parquet_path(cache_dir, algorithm, groups, rows, p, seed):
    """Writes the data set once (atomically) and returns its path."""
    name = f"{algorithm}-{groups}x{rows}x{p}-seed{seed}.parquet"
    path = os.path.join(cache_dir, name)
    if not os.path.exists(path):
        os.makedirs(cache_dir, exist_ok=True)
        tmp = f"{path}.tmp-{os.getpid()}"
        pq.write_table(generate(algorithm, groups, rows, p, seed), tmp, row_group_size=ROW_GROUP_ROWS)
        os.replace(tmp, path)
    return path


def cached_frame(spark, path):
    """The data set as a cached DataFrame, materialized (count) so no case pays for reading."""
    df = spark.read.parquet(path).cache()
    df.count()
    return df
