"""Reference fixtures for the ScalaTest suites (scala/src/test/scala/manyfold/ml/*), from numpy
and scikit-learn.

scikit-learn is the independent source: every expected coefficient, intercept, class list and
probability in tests/fixtures/scala/*.json comes from it, never from manyfold. The suites build
one Spark DataFrame per case (group column `g`, features `x0..`, label `y`), train with
`Grouped(...).setGroupCols("g")` and compare each group's model with `expected`.

Rerun (from the repository root):

    ~/.cache/manyfold/venv/bin/python tests/reference/make_scala_fixtures.py

The data come from fixed seeds. The objectives and their sklearn equivalents are those of
tests/reference/make_fixtures.py: linear = sklearn LinearRegression (regParam=0) or
Ridge(alpha=n*regParam/d) on X/c, with c and d the population stds of the features (when
standardization is on) and of the label, as Spark's LinearRegression; logistic = LogisticRegression(C=1/(n*regParam)) on X/s, with
s the sample std (ddof=1) when standardization is on; coefficients divided by s; multinomial
intercepts centered to sum 0.
"""

import json
import pathlib

import numpy as np
import sklearn
from sklearn.linear_model import LinearRegression, Ridge

from make_fixtures import fit_logistic, sample_std

OUT = pathlib.Path(__file__).resolve().parents[1] / "fixtures" / "scala"


def linear_group(rng, key, n, p, reg_param, standardization):
    x = rng.normal(size=(n, p)) * rng.uniform(0.5, 4.0, size=p) + rng.uniform(-3, 3, size=p)
    w = rng.normal(size=p) * 2.0
    y = x @ w + rng.uniform(-5, 5) + rng.normal(scale=0.3, size=n)
    s = x.std(axis=0) if standardization else np.ones(p)
    if reg_param == 0.0:
        m = LinearRegression().fit(x / s, y)
    else:
        m = Ridge(alpha=n * reg_param / y.std(), solver="cholesky").fit(x / s, y)
    coef = m.coef_ / s
    intercept = float(m.intercept_)
    return {
        "key": key,
        "x": x.tolist(),
        "y": y.tolist(),
        "expected": {
            "coefficients": coef.tolist(),
            "intercept": intercept,
            "predictions": (x @ coef + intercept).tolist(),
        },
    }


def logistic_group(rng, key, n, p, labels, reg_param):
    k = len(labels)
    x = rng.normal(size=(n, p)) * rng.uniform(0.5, 3.0, size=p) + rng.uniform(-2, 2, size=p)
    z = (x - x.mean(axis=0)) / sample_std(x)
    logits = z @ rng.normal(size=(p, k)) * 1.5
    prob = np.exp(logits - logits.max(axis=1, keepdims=True))
    prob /= prob.sum(axis=1, keepdims=True)
    idx = np.array([rng.choice(k, p=row) for row in prob])
    assert len(set(idx.tolist())) == k, f"{key}: every class must occur"
    y = np.asarray(labels, dtype=float)[idx]
    s = sample_std(x)
    m, coef, intercepts = fit_logistic(x, y, s, reg_param)
    probs = m.predict_proba(x / s)
    return {
        "key": key,
        "x": x.tolist(),
        "y": y.tolist(),
        "expected": {
            "classes": m.classes_.tolist(),
            "coefficientMatrix": coef.tolist(),
            "interceptVector": intercepts.tolist(),
            "probabilities": probs.tolist(),
            "predictions": m.classes_[probs.argmax(axis=1)].tolist(),
        },
    }


def main():
    rng = np.random.default_rng(2024)
    cases = {
        "grouped_ols": {
            "params": {"regParam": 0.0, "fitIntercept": True, "standardization": True},
            "groups": [linear_group(rng, key, n, 3, 0.0, True)
                       for key, n in [("a", 30), ("b", 45), ("c", 60), ("d", 25)]],
        },
        "grouped_ridge": {
            "params": {"regParam": 0.1, "fitIntercept": True, "standardization": True},
            "groups": [linear_group(rng, key, n, 3, 0.1, True)
                       for key, n in [("a", 50), ("b", 70)]],
        },
        "grouped_logistic_binary": {
            "params": {"regParam": 0.05, "maxIter": 100, "tol": 1e-6, "fitIntercept": True,
                       "standardization": True, "family": "auto"},
            "groups": [logistic_group(rng, key, n, 2, [0.0, 1.0], 0.05)
                       for key, n in [("a", 120), ("b", 150), ("c", 100)]],
        },
        "grouped_logistic_multinomial": {
            "params": {"regParam": 0.02, "maxIter": 100, "tol": 1e-6, "fitIntercept": True,
                       "standardization": True, "family": "auto"},
            "groups": [logistic_group(rng, key, n, 3, [0.0, 1.0, 2.0], 0.02)
                       for key, n in [("a", 200), ("b", 240)]],
        },
    }
    OUT.mkdir(parents=True, exist_ok=True)
    for name, case in cases.items():
        case = {"name": name, "source": f"numpy {np.__version__}, sklearn {sklearn.__version__}",
                **case}
        path = OUT / f"{name}.json"
        path.write_text(json.dumps(case, separators=(",", ":")) + "\n")
        print(f"wrote {path.relative_to(OUT.parents[2])}")


if __name__ == "__main__":
    main()
