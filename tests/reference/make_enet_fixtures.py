"""Reference fixtures for elastic net, lasso, sample weights and collinear features, from Spark
ML itself and from scikit-learn.

Spark is the reference for the objectives manyfold mirrors: every `expected` coefficient and
intercept in rust/core/tests/fixtures/enet_*.json comes from pyspark.ml's LinearRegression or
LogisticRegression (local[1], tol=1e-10, maxIter=1000, so that Spark is converged), never from
manyfold. Where scikit-learn has the same objective it is fitted too (`sklearn`), as a second,
independent source; rust/core/tests/elastic_net.rs compares with both.

Rerun from the repository root (Java 17; pyspark 3.5.7 is the newest 3.5 on PyPI):

    python3 -m venv /tmp/venv-enet
    /tmp/venv-enet/bin/pip install pyspark==3.5.7 numpy scikit-learn
    /tmp/venv-enet/bin/python tests/reference/make_enet_fixtures.py
    cargo test -p manyfold-core --test elastic_net

Spark's linear objective (WeightedLeastSquares, the default solver for up to 4096 features),
weights w_i summing to W, alpha = elasticNetParam, lambda = regParam:

    1/(2W) sum_i w_i (y_i - x_i.b - b0)^2
        + lambda * (alpha * sum_j c_j |b_j| + (1 - alpha) / (2 d) * sum_j (c_j b_j)^2)

with c_j the weighted population std of feature j (standardization) or 1, and d the weighted
population std of the label. scikit-learn: ElasticNet(alpha=a, l1_ratio=r) on X / c with
sample_weight, a = lambda * alpha + lambda * (1 - alpha) / d, r = lambda * alpha / a, then
coef / c (Lasso when alpha = 1); LinearRegression(sample_weight) when lambda = 0.

Spark's logistic objective: sum_i w_i logloss_i / W + lambda * (alpha * sum_kj |v_kj| / e_j
+ (1 - alpha)/2 * sum_kj v_kj^2 / e_j^2) on standardized coefficients v = b * s, s the weighted
unbiased std (Summarizer: sum w (x - mean)^2 / (W - sum w^2 / W)), e_j = 1 with
standardization, else s_j; intercepts unpenalized, multinomial intercepts centered.
scikit-learn's weighting and penalty differ for L1 multinomial, so logistic compares with
Spark only.

The collinear cases (a duplicated column; one-hot dummies with an intercept) compare with
scikit-learn's LinearRegression, the minimum-norm least-squares solution (Spark has no
canonical answer there: it retries with L-BFGS from zero).
"""

import json
import os
import pathlib
import sys

import numpy as np
import sklearn
from sklearn.linear_model import ElasticNet, Lasso, LinearRegression

OUT = pathlib.Path(__file__).resolve().parents[2] / "rust" / "core" / "tests" / "fixtures"
TOL, MAX_ITER = 1e-10, 1000


def spark_session():
    os.environ.setdefault("PYSPARK_PYTHON", sys.executable)
    from pyspark.sql import SparkSession

    spark = (SparkSession.builder.master("local[1]")
             .config("spark.ui.enabled", "false")
             .config("spark.sql.shuffle.partitions", "1")
             .getOrCreate())
    spark.sparkContext.setLogLevel("ERROR")
    return spark


def frame(spark, x, y, w):
    from pyspark.ml.linalg import Vectors

    rows = [(float(y[i]), float(w[i]), Vectors.dense(x[i].tolist())) for i in range(len(y))]
    return spark.createDataFrame(rows, ["label", "weight", "features"])


def features(rng, n, p):
    """Mixed means and scales; feature 1 about 100 times the others."""
    x = rng.normal(size=(n, p)) * rng.uniform(0.5, 3.0, size=p) + rng.uniform(-3, 3, size=p)
    x[:, 1] *= 100.0
    return x


def population_std(v, w):
    mean = np.average(v, axis=0, weights=w)
    return np.sqrt(np.average((v - mean) ** 2, axis=0, weights=w))


def linear_case(spark, name, seed, lam, alpha, standardization, fit_intercept, weighted,
                n=80, p=4):
    from pyspark.ml.regression import LinearRegression as SparkLinear

    rng = np.random.default_rng(seed)
    x = features(rng, n, p)
    b_true = rng.normal(size=p) / np.abs(x).mean(axis=0)
    b_true[-1] = 0.0  # one irrelevant feature, so that the L1 part has something to zero
    y = x @ b_true + (2.0 if fit_intercept else 0.0) + rng.normal(scale=0.7, size=n)
    w = rng.uniform(0.1, 3.0, size=n) if weighted else np.ones(n)
    lr = SparkLinear(regParam=lam, elasticNetParam=alpha, standardization=standardization,
                     fitIntercept=fit_intercept, tol=TOL, maxIter=MAX_ITER)
    if weighted:
        lr.setWeightCol("weight")
    m = lr.fit(frame(spark, x, y, w))
    expected = {"coefficients": m.coefficients.toArray().tolist(),
                "intercept": float(m.intercept)}

    c = population_std(x, w) if standardization else np.ones(p)
    d = population_std(y, w)
    if lam == 0.0:
        sk = LinearRegression(fit_intercept=fit_intercept).fit(x, y, sample_weight=w)
        source = "LinearRegression(sample_weight)"
        sk_coef = sk.coef_
    else:
        a = lam * alpha + lam * (1.0 - alpha) / d
        r = lam * alpha / a
        if alpha == 1.0:
            sk = Lasso(alpha=a, fit_intercept=fit_intercept, tol=1e-14, max_iter=1_000_000)
            source = "Lasso(alpha=regParam) on X/c"
        else:
            sk = ElasticNet(alpha=a, l1_ratio=r, fit_intercept=fit_intercept, tol=1e-14,
                            max_iter=1_000_000)
            source = "ElasticNet(alpha=a, l1_ratio=r) on X/c"
        sk.fit(x / c, y, sample_weight=w)
        sk_coef = sk.coef_ / c
    return {
        "name": name,
        "algorithm": "spark_linear",
        "source": f"pyspark {spark.version} LinearRegression(tol={TOL}, maxIter={MAX_ITER})",
        "sklearn_source": f"sklearn {sklearn.__version__} {source}",
        "params": {"regParam": lam, "elasticNetParam": alpha, "standardization": standardization,
                   "fitIntercept": fit_intercept, "tol": TOL, "maxIter": MAX_ITER},
        "x": x.tolist(), "y": y.tolist(), "w": w.tolist() if weighted else None,
        "expected": expected,
        "sklearn": {"coefficients": sk_coef.tolist(),
                    "intercept": float(sk.intercept_) if fit_intercept else 0.0},
    }


def logistic_case(spark, name, seed, k, lam, alpha, standardization, fit_intercept, weighted,
                  n=120, p=4):
    from pyspark.ml.classification import LogisticRegression as SparkLogistic

    rng = np.random.default_rng(seed)
    x = features(rng, n, p)
    z = (x - x.mean(axis=0)) / x.std(axis=0)
    w_true = rng.normal(size=(p, k)) * 1.5
    w_true[-1] = 0.0
    logits = z @ w_true + (rng.normal(size=k) * 0.5 if fit_intercept else 0.0)
    prob = np.exp(logits - logits.max(axis=1, keepdims=True))
    prob /= prob.sum(axis=1, keepdims=True)
    y = np.array([rng.choice(k, p=row) for row in prob], dtype=float)
    assert len(set(y)) == k, name
    w = rng.uniform(0.1, 3.0, size=n) if weighted else np.ones(n)
    family = "binomial" if k == 2 else "multinomial"
    lr = SparkLogistic(regParam=lam, elasticNetParam=alpha, standardization=standardization,
                       fitIntercept=fit_intercept, tol=TOL, maxIter=MAX_ITER, family=family)
    if weighted:
        lr.setWeightCol("weight")
    m = lr.fit(frame(spark, x, y, w))
    if k == 2:
        coef = [m.coefficients.toArray().tolist()]
        intercepts = [float(m.intercept)]
    else:
        coef = m.coefficientMatrix.toArray().tolist()
        intercepts = m.interceptVector.toArray().tolist()
    return {
        "name": name,
        "algorithm": "spark_logistic",
        "source": f"pyspark {spark.version} LogisticRegression(tol={TOL}, maxIter={MAX_ITER})",
        "params": {"regParam": lam, "elasticNetParam": alpha, "standardization": standardization,
                   "fitIntercept": fit_intercept, "tol": TOL, "maxIter": MAX_ITER,
                   "family": family},
        "x": x.tolist(), "y": y.tolist(), "w": w.tolist() if weighted else None,
        "expected": {"classes": list(range(k)), "coefficients": coef,
                     "intercepts": intercepts},
    }


def collinear_case(name, seed, kind):
    rng = np.random.default_rng(seed)
    n = 60
    if kind == "duplicate":
        base = rng.normal(size=(n, 2)) * [1.0, 5.0] + [2.0, -1.0]
        x = np.column_stack([base, base[:, 0]])
        y = base @ [1.5, -0.3] + 0.5 + rng.normal(scale=0.2, size=n)
    else:  # one-hot dummies of a 3-level factor, all levels present, plus a numeric feature
        level = rng.integers(0, 3, size=n)
        numeric = rng.normal(size=n) * 2.0
        x = np.column_stack([np.eye(3)[level], numeric])
        y = np.array([1.0, -2.0, 0.5])[level] + 0.7 * numeric + rng.normal(scale=0.2, size=n)
    sk = LinearRegression().fit(x, y)
    return {
        "name": name,
        "algorithm": "sklearn_linear",
        "source": f"sklearn {sklearn.__version__} LinearRegression (lstsq, minimum norm)",
        "params": {"regParam": 0.0},
        "x": x.tolist(), "y": y.tolist(), "w": None,
        "expected": {"coefficients": sk.coef_.tolist(), "intercept": float(sk.intercept_),
                     "predictions": sk.predict(x).tolist()},
    }


def main():
    spark = spark_session()
    cases = [
        linear_case(spark, "linear_enet_std", 31, 0.3, 0.5, True, True, False),
        linear_case(spark, "linear_lasso_std_weighted", 32, 0.2, 1.0, True, True, True),
        linear_case(spark, "linear_enet_unstd_weighted", 33, 0.3, 0.5, False, True, True),
        linear_case(spark, "linear_lasso_unstd_no_intercept", 34, 0.1, 1.0, False, False, False),
        linear_case(spark, "linear_enet_no_intercept_weighted", 35, 0.2, 0.5, True, False, True),
        linear_case(spark, "linear_ridge_weighted", 36, 0.4, 0.0, True, True, True),
        linear_case(spark, "linear_ridge_unstd_no_intercept", 37, 0.4, 0.0, False, False, False),
        linear_case(spark, "linear_ols_weighted", 38, 0.0, 0.0, True, True, True),
        logistic_case(spark, "logistic_binomial_enet", 41, 2, 0.05, 0.5, True, True, False),
        logistic_case(spark, "logistic_binomial_lasso_weighted", 42, 2, 0.03, 1.0, True, True,
                      True),
        logistic_case(spark, "logistic_binomial_enet_unstd_weighted", 43, 2, 0.02, 0.5, False,
                      True, True),
        logistic_case(spark, "logistic_binomial_lasso_no_intercept", 44, 2, 0.03, 1.0, True,
                      False, False),
        logistic_case(spark, "logistic_binomial_ridge_weighted", 45, 2, 0.05, 0.0, True, True,
                      True),
        logistic_case(spark, "logistic_multinomial_enet", 46, 3, 0.05, 0.5, True, True, False),
        logistic_case(spark, "logistic_multinomial_lasso_weighted", 47, 3, 0.02, 1.0, True, True,
                      True),
        logistic_case(spark, "logistic_multinomial_enet_unstd", 48, 3, 0.02, 0.5, False, True,
                      False),
        logistic_case(spark, "logistic_multinomial_ridge_weighted", 49, 3, 0.05, 0.0, True, True,
                      True),
        collinear_case("collinear_duplicate", 51, "duplicate"),
        collinear_case("collinear_one_hot", 52, "one_hot"),
    ]
    spark.stop()
    OUT.mkdir(parents=True, exist_ok=True)
    for case in cases:
        path = OUT / f"enet_{case['name']}.json"
        path.write_text(json.dumps(case, indent=None, separators=(",", ":")) + "\n")
        print(f"wrote {path.relative_to(OUT.parents[3])}")


if __name__ == "__main__":
    main()
