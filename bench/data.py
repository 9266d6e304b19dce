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


# The searches' data sets (bench/tuning.py, tests/reference/make_tuning_fixtures.py): pandas
# frames from fixed seeds, written once as parquet by `tuning_parquet_path`.

def classification(rows, p, seed, folds=3):
    """make_classification(n_samples=rows, n_features=p, random_state=seed) as columns
    x0..x{p-1}, y (0.0 / 1.0) and fold (int, 0..folds-1): row i is in the validation part of
    split k of KFold(folds, shuffle=True, random_state=seed). rows=1000, p=20, seed=0 is the SVC
    recipe's data set."""
    import pandas as pd
    from sklearn.datasets import make_classification
    from sklearn.model_selection import KFold

    x, y = make_classification(n_samples=rows, n_features=p, random_state=seed)
    fold = np.zeros(rows, dtype=np.int32)
    for k, (_, validation) in enumerate(KFold(folds, shuffle=True, random_state=seed).split(x)):
        fold[validation] = k
    out = pd.DataFrame(x, columns=feature_names(p))
    out["y"] = y.astype(np.float64)
    out["fold"] = fold
    return out


# Days of the year with a holiday (demand 1.5-2.5 times a normal day's, per store).
HOLIDAYS = (0, 45, 120, 185, 246, 330, 358)
DEMAND_FEATURES = ["lag1", "lag7", "lag14", "roll7", "dow"]


def demand(stores, days, seed):
    """Daily demand per store: a level, a linear trend, a weekly pattern, holidays and noise, all
    drawn per store (noise 3%-35% of the level, so stores differ in how much a ridge penalty
    helps). Columns: store (int), day (int, 0..days-1), lag1, lag7, lag14 (demand 1, 7, 14 days
    before), roll7 (mean demand of the 7 days before), dow (day % 7, a number) and demand; the
    first 14 days of each store, whose lags are undefined, are dropped. Demand is rounded to 3
    decimals and never negative."""
    import pandas as pd

    rng = np.random.default_rng(seed)
    t = np.arange(days)
    holiday = np.isin(t % 365, HOLIDAYS)
    frames = []
    for s in range(stores):
        level = rng.uniform(50, 200)
        slope = rng.uniform(-0.02, 0.08) * level / 100
        amplitude, phase = rng.uniform(0.05, 0.3), rng.integers(7)
        weekly = 1 + amplitude * np.sin(2 * np.pi * (np.arange(7) + phase) / 7)
        noise = rng.uniform(0.03, 0.35)
        lift = rng.uniform(1.5, 2.5)
        mean = (level + slope * t) * weekly[t % 7] * np.where(holiday, lift, 1.0)
        y = np.round(np.maximum(mean + rng.normal(scale=noise * level, size=days), 0.0), 3)
        d = pd.DataFrame({"store": np.int32(s), "day": t.astype(np.int32), "demand": y})
        past = d["demand"].shift(1)
        d["lag1"] = past
        d["lag7"] = d["demand"].shift(7)
        d["lag14"] = d["demand"].shift(14)
        d["roll7"] = past.rolling(7).mean()
        d["dow"] = (t % 7).astype(np.float64)
        frames.append(d.iloc[14:])
    out = pd.concat(frames, ignore_index=True)
    return out[["store", "day"] + DEMAND_FEATURES + ["demand"]]


def tuning_parquet_path(cache_dir, name, make):
    """Writes `make()` (a pandas frame) once as parquet under `name` and returns its path."""
    path = os.path.join(cache_dir, f"{name}.parquet")
    if not os.path.exists(path):
        os.makedirs(cache_dir, exist_ok=True)
        tmp = f"{path}.tmp-{os.getpid()}"
        pq.write_table(pa.Table.from_pandas(make(), preserve_index=False), tmp,
                       row_group_size=ROW_GROUP_ROWS)
        os.replace(tmp, path)
    return path


# The inference cases' data (bench/inference.py): written in chunks, as 10,000,000 rows would not
# fit in memory comfortably more than once.
INFERENCE_CHUNK_ROWS = 1 << 20


def inference_parquet_path(cache_dir, algorithm, rows, p, groups, seed, part):
    """Rows of `groups` models (one model: groups = 1) drawn once from `seed`, the rows themselves
    from (seed, part): `part` "train" and "score" are two samples of the same distribution.
    Columns: `g` (int, uniform over the groups), `y` (as `generate`), `x0..x{p-1}` ~ N(0, 1).
    Writes the data set once (atomically) and returns its path."""
    name = f"infer-{algorithm}-{groups}g-{rows}x{p}-{part}-seed{seed}.parquet"
    path = os.path.join(cache_dir, name)
    if os.path.exists(path):
        return path
    os.makedirs(cache_dir, exist_ok=True)
    models = np.random.default_rng(seed)
    if algorithm == "logistic":
        w = models.standard_normal((groups, p)) * (1.5 / np.sqrt(p))
        b = models.standard_normal(groups) * 0.5
    else:
        w = models.standard_normal((groups, p))
        b = models.standard_normal(groups)
    rng = np.random.default_rng([seed, {"train": 1, "score": 2}[part]])
    tmp = f"{path}.tmp-{os.getpid()}"
    writer = None
    try:
        for start in range(0, rows, INFERENCE_CHUNK_ROWS):
            n = min(INFERENCE_CHUNK_ROWS, rows - start)
            g = rng.integers(0, groups, n, dtype=np.int32)
            x = rng.standard_normal((n, p))
            margin = np.einsum("ij,ij->i", x, w[g]) + b[g]
            if algorithm == "logistic":
                y = (rng.random(n) < 1.0 / (1.0 + np.exp(-margin))).astype(np.float64)
            else:
                y = margin + rng.standard_normal(n)
            columns = {"g": g, "y": y}
            for j, col in enumerate(feature_names(p)):
                columns[col] = np.ascontiguousarray(x[:, j])
            table = pa.table(columns)
            if writer is None:
                writer = pq.ParquetWriter(tmp, table.schema)
            writer.write_table(table, row_group_size=ROW_GROUP_ROWS)
    finally:
        if writer is not None:
            writer.close()
    os.replace(tmp, path)
    return path
