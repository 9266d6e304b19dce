"""One local[2] SparkSession for the whole suite, with the jar of the installed wheel attached
(manyfold.configure), and small data sets made here with numpy."""

import numpy as np
import pandas as pd
import pytest
from pyspark.sql import SparkSession

import manyfold


@pytest.fixture(scope="session")
def spark():
    builder = (
        SparkSession.builder.master("local[2]")
        .appName("manyfold-python-tests")
        .config("spark.sql.shuffle.partitions", "4")
        .config("spark.ui.enabled", "false")
        .config("spark.ui.showConsoleProgress", "false")
        .config("spark.driver.memory", "1g")
    )
    session = manyfold.configure(builder).getOrCreate()
    session.sparkContext.setLogLevel("ERROR")
    yield session
    session.stop()


def linear_frame(n=60, p=3, groups=("a", "b", "c"), seed=7):
    """Per group g: y = X @ w_g + b_g + noise, with features x0..x{p-1}."""
    rng = np.random.default_rng(seed)
    parts = []
    for i, g in enumerate(groups):
        x = rng.normal(size=(n, p))
        w = np.arange(1, p + 1) * (i + 1) * 0.5
        y = x @ w + (i - 1) * 2.0 + rng.normal(scale=0.1, size=n)
        part = pd.DataFrame(x, columns=["x%d" % j for j in range(p)])
        part["y"] = y
        part["g"] = g
        parts.append(part)
    return pd.concat(parts, ignore_index=True)


def binary_frame(n=120, seed=3):
    """Two overlapping classes 0/1 on two features."""
    rng = np.random.default_rng(seed)
    x = rng.normal(size=(n, 2))
    logits = 1.5 * x[:, 0] - 1.0 * x[:, 1] + 0.3
    y = (rng.uniform(size=n) < 1 / (1 + np.exp(-logits))).astype(float)
    return pd.DataFrame({"x0": x[:, 0], "x1": x[:, 1], "y": y})


@pytest.fixture(scope="session")
def linear_pdf():
    return linear_frame()


@pytest.fixture(scope="session")
def linear_df(spark, linear_pdf):
    return spark.createDataFrame(linear_pdf).cache()


@pytest.fixture(scope="session")
def binary_pdf():
    return binary_frame()


@pytest.fixture(scope="session")
def binary_df(spark, binary_pdf):
    return spark.createDataFrame(binary_pdf).cache()


FEATURES = ["x0", "x1", "x2"]
