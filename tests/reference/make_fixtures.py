"""Reference fixtures for manyfold-core's linear and logistic regression, from scikit-learn.

scikit-learn is the independent source: every expected coefficient, intercept and metric in
rust/core/tests/fixtures/*.json comes from it, never from manyfold. rust/core/tests/reference.rs
reads the files and compares.

Rerun from the repository root with any Python that has numpy and scikit-learn (the venv that
`make venv` builds under ~/.cache/manyfold/ has both), then run the Rust tests:

    ~/.cache/manyfold/venv/bin/python tests/reference/make_fixtures.py
    cargo test -p manyfold-core --test reference

The data come from fixed seeds, so a rerun with the same numpy and scikit-learn rewrites the
same files; another version may move the last digits of the expected values (well inside the
test tolerances). The objectives, in manyfold's (Spark's) terms, and how each maps to sklearn:

- linear (Spark's LinearRegression, normal solver): 1/(2n) ||y - Xw - b||^2
  + regParam/(2 d) * sum_j (c_j w_j)^2, with c_j the population std (ddof=0) when
  standardization is on, else 1, and d the label's population std: Spark standardizes the label
  too and applies regParam on that scale. That is sklearn Ridge(alpha=n*regParam/d) fitted on
  X/c, then w/c; regParam=0 is LinearRegression. (make_enet_fixtures.py checks the mapping
  against Spark itself.)
- logistic: mean log loss + regParam/2 * ||W / s||^2 on the standardized scale, intercepts
  unpenalized. That is sklearn LogisticRegression(C=1/(n*regParam)) fitted on X/s, then W/s.
  Multinomial intercepts are centered to sum 0 (manyfold's convention; predictions unchanged).

Metrics on the training data: rmse = sqrt(mean squared residual); r2 as Spark computes it
(1 - SSres/SStot with SStot about the mean, or about 0 when there is no intercept); accuracy;
log loss = mean negative log-likelihood.
"""

import json
import pathlib

import numpy as np
import sklearn
from sklearn.linear_model import LinearRegression, LogisticRegression, Ridge

OUT = pathlib.Path(__file__).resolve().parents[2] / "rust" / "core" / "tests" / "fixtures"
N = 200


def features(rng, n, p):
    """Features of mixed means and scales; feature 1 is about 1000 times the others."""
    x = rng.normal(size=(n, p)) * rng.uniform(0.5, 3.0, size=p) + rng.uniform(-5, 5, size=p)
    x[:, 1] *= 1000.0
    return x


def sample_std(x):
    return x.std(axis=0, ddof=1)


def fit_logistic(x, y, s, reg_param):
    """sklearn's logistic regression for manyfold's objective: fitted on X/s with
    C = 1/(n*regParam), coefficients mapped back to the original scale, multinomial intercepts
    centered as manyfold (and Spark) report them. Returns (model, coefficients, intercepts)."""
    m = LogisticRegression(C=1.0 / (len(y) * reg_param), tol=1e-10, max_iter=10000,
                           solver="newton-cholesky")
    m.fit(x / s, y)
    intercepts = m.intercept_.copy()
    if len(m.classes_) > 2:
        intercepts -= intercepts.mean()
    return m, m.coef_ / s, intercepts


def linear_metrics(pred, y, fit_intercept):
    res = float(((y - pred) ** 2).sum())
    tot = float(((y - y.mean()) ** 2).sum()) if fit_intercept else float((y**2).sum())
    return {"rmse": float(np.sqrt(res / len(y))), "r2": 1.0 - res / tot}


def linear_case(name, seed, p, reg_param, fit_intercept, standardization):
    rng = np.random.default_rng(seed)
    x = features(rng, N, p)
    w_true = rng.normal(size=p) / np.abs(x).mean(axis=0)
    y = x @ w_true + (3.0 if fit_intercept else 0.0) + rng.normal(scale=0.5, size=N)
    s = x.std(axis=0) if standardization else np.ones(p)
    if reg_param == 0.0:
        m = LinearRegression(fit_intercept=fit_intercept).fit(x / s, y)
        source = f"sklearn {sklearn.__version__} LinearRegression"
    else:
        m = Ridge(alpha=N * reg_param / y.std(), fit_intercept=fit_intercept, solver="cholesky")
        m.fit(x / s, y)
        source = (f"sklearn {sklearn.__version__} Ridge(alpha=n*regParam/std(y), solver=cholesky)"
                  " on X/std(X) (population stds)")
    coef = m.coef_ / s
    intercept = float(m.intercept_) if fit_intercept else 0.0
    pred = x @ coef + intercept
    return {
        "name": name,
        "algorithm": "linear",
        "source": source,
        "params": {
            "regParam": reg_param,
            "fitIntercept": fit_intercept,
            "standardization": standardization,
        },
        "x": x.tolist(),
        "y": y.tolist(),
        "expected": {
            "coefficients": coef.tolist(),
            "intercept": intercept,
            "metrics": linear_metrics(pred, y, fit_intercept),
        },
    }


def logistic_case(name, seed, p, labels, reg_param, standardization):
    """Labels drawn from a softmax over the given label values; the first is the most frequent."""
    rng = np.random.default_rng(seed)
    k = len(labels)
    x = features(rng, N, p)
    z = (x - x.mean(axis=0)) / sample_std(x)
    w_true = rng.normal(size=(p, k))
    bias = np.array([1.2] + [0.0] * (k - 1))
    logits = z @ w_true + bias
    prob = np.exp(logits - logits.max(axis=1, keepdims=True))
    prob /= prob.sum(axis=1, keepdims=True)
    idx = np.array([rng.choice(k, p=row) for row in prob])
    y = np.asarray(labels, dtype=float)[idx]
    counts = np.bincount(idx, minlength=k)
    assert counts[0] == counts.max(), f"{name}: the first label must be the most frequent"

    s = sample_std(x) if standardization else np.ones(p)
    # newton-cholesky is an exact Newton method: it reaches tol=1e-10 even on the unscaled
    # (standardization=false) problems, where lbfgs stalls.
    m, coef, intercepts = fit_logistic(x, y, s, reg_param)
    if k > 2:
        assert np.allclose(coef.sum(axis=0), 0.0, atol=1e-8), "penalized W rows must sum to 0"
    classes = m.classes_.tolist()
    assert classes == sorted(labels)

    margins = x @ coef.T + intercepts
    if k == 2:
        p1 = 1.0 / (1.0 + np.exp(-margins[:, 0]))
        probs = np.column_stack([1.0 - p1, p1])
    else:
        e = np.exp(margins - margins.max(axis=1, keepdims=True))
        probs = e / e.sum(axis=1, keepdims=True)
    assert np.allclose(probs, m.predict_proba(x / s), atol=1e-12)
    cls_idx = np.searchsorted(m.classes_, y)
    log_loss = float(-np.log(probs[np.arange(N), cls_idx]).mean())
    accuracy = float((m.classes_[probs.argmax(axis=1)] == y).mean())
    return {
        "name": name,
        "algorithm": "logistic",
        "source": f"sklearn {sklearn.__version__} LogisticRegression(C=1/(n*regParam), "
        "tol=1e-10, solver=newton-cholesky) on X/s",
        "params": {
            "regParam": reg_param,
            "maxIter": 100,
            "tol": 1e-6,
            "fitIntercept": True,
            "standardization": standardization,
            "family": "auto",
        },
        "x": x.tolist(),
        "y": y.tolist(),
        "expected": {
            "classes": classes,
            "coefficients": coef.tolist(),
            "intercepts": intercepts.tolist(),
            "metrics": {"accuracy": accuracy, "logLoss": log_loss},
        },
    }


def main():
    cases = [
        linear_case("ols_intercept", 11, 4, 0.0, True, True),
        linear_case("ols_no_intercept", 12, 3, 0.0, False, True),
        linear_case("ridge_standardized", 13, 5, 0.1, True, True),
        linear_case("ridge_unstandardized", 14, 5, 0.1, True, False),
        linear_case("ridge_no_intercept_standardized", 15, 4, 0.05, False, True),
        logistic_case("logistic_binomial", 21, 4, [0.0, 1.0], 0.05, True),
        logistic_case("logistic_binomial_labels", 22, 3, [7.0, -2.0], 0.01, True),
        logistic_case("logistic_binomial_unstandardized", 23, 4, [0.0, 1.0], 0.02, False),
        logistic_case("logistic_multinomial", 24, 4, [0.0, 1.0, 2.0], 0.02, True),
        logistic_case("logistic_multinomial_unstandardized", 25, 3, [2.0, 0.0, 1.0, 3.0],
                      0.01, False),
    ]
    OUT.mkdir(parents=True, exist_ok=True)
    for case in cases:
        path = OUT / f"{case['name']}.json"
        path.write_text(json.dumps(case, indent=None, separators=(",", ":")) + "\n")
        print(f"wrote {path.relative_to(OUT.parents[3])}")


if __name__ == "__main__":
    main()
