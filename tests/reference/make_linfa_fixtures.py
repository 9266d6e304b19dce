"""Reference fixtures for manyfold-core's GLM, Gaussian naive Bayes and k-means, from scikit-learn.

scikit-learn is the independent source: every expected value in
rust/core/tests/fixtures/{glm,naive_bayes,kmeans}_*.json comes from it, never from manyfold.
rust/core/tests/{glm,naive_bayes,kmeans}.rs read the files and compare.

Rerun from the repository root with any Python that has numpy and scikit-learn:

    python3 -m venv /tmp/venv && /tmp/venv/bin/pip install numpy scikit-learn
    /tmp/venv/bin/python tests/reference/make_linfa_fixtures.py
    cargo test -p manyfold-core --test glm --test naive_bayes --test kmeans

The data come from fixed seeds. How each objective maps to scikit-learn:

- glm: sum_i s_i d(y_i, mu_i) / (2 sum_i s_i) + regParam/2 ||w||^2 (d the unit deviance) is
  TweedieRegressor(power, link, alpha=regParam) with sample_weight=s, solved here with
  newton-cholesky to tol=1e-12 (PoissonRegressor and GammaRegressor are the same estimator).
- naive_bayes: GaussianNB(var_smoothing=varSmoothing) with sample_weight; expected class means,
  variances, priors, joint log-likelihoods and probabilities of every training row.
- kmeans: KMeans(n_clusters=k, init='k-means++', n_init=10) on well-separated blobs, so that
  the optimum (partition, centers, inertia) is the same whatever the initial centers.
"""

import json
import pathlib

import numpy as np
import sklearn
from sklearn.cluster import KMeans
from sklearn.datasets import make_blobs
from sklearn.linear_model import TweedieRegressor
from sklearn.metrics import adjusted_rand_score
from sklearn.naive_bayes import GaussianNB

OUT = pathlib.Path(__file__).resolve().parents[2] / "rust" / "core" / "tests" / "fixtures"
N = 200


def features(rng, n, p):
    """Features of mixed means and scales (feature 1 about 100 times the others)."""
    x = rng.normal(size=(n, p)) * rng.uniform(0.5, 3.0, size=p) + rng.uniform(-5, 5, size=p)
    x[:, 1] *= 100.0
    return x


def glm_case(name, seed, p, family, power, link, reg_param, fit_intercept, weighted):
    rng = np.random.default_rng(seed)
    x = features(rng, N, p)
    w_true = rng.normal(size=p) * 0.4 / x.std(axis=0)
    centered = (x - x.mean(axis=0)) @ w_true
    if link == "log":
        mu = np.exp(0.7 + centered) if fit_intercept else np.exp(x @ (w_true / 4))
    else:
        mu = 6.0 + 2.0 * np.tanh(centered)
    if power == 0.0:
        y = mu + rng.normal(scale=0.5, size=N)
    elif power == 1.0:
        y = rng.poisson(mu).astype(float)
    elif power >= 2.0:
        y = rng.gamma(2.0, mu / 2.0)
    else:  # compound Poisson-gamma: exact zeros and positive values
        counts = rng.poisson(np.power(mu, 2.0 - power) / (2.0 - power) / 2.0)
        y = np.array([rng.gamma(2.0, 1.0, size=c).sum() for c in counts])
        y *= mu.mean() / max(y.mean(), 1e-9)
    weight = rng.uniform(0.2, 3.0, size=N) if weighted else None
    m = TweedieRegressor(power=power, link=link, alpha=reg_param, fit_intercept=fit_intercept,
                         solver="newton-cholesky", tol=1e-12, max_iter=1000)
    # For power > 2 newton-cholesky falls back to lbfgs, which stalls on the unscaled feature:
    # fit on standardized x (the same optimum without a penalty) and map the coefficients back.
    shift, sd = (x.mean(axis=0), x.std(axis=0)) if power > 2.0 else (np.zeros(p), np.ones(p))
    assert power <= 2.0 or (reg_param == 0.0 and fit_intercept)
    m.fit((x - shift) / sd, y, sample_weight=weight)
    m.coef_ = m.coef_ / sd
    m.intercept_ = m.intercept_ - m.coef_ @ shift
    # The reference must be the optimum: the gradient on the standardized scale is ~0. (For
    # power > 2, where scikit-learn uses lbfgs, this checks that it got there.)
    s = np.ones(N) if weight is None else weight
    eta = x @ m.coef_ + m.intercept_
    mu = np.exp(eta) if link == "log" else eta
    g_eta = s * (mu - y) * mu ** (-power) * (mu if link == "log" else 1.0) / s.sum()
    center = x.mean(axis=0) if fit_intercept else np.zeros(p)
    grad = np.append((g_eta @ (x - center) + reg_param * m.coef_) / x.std(axis=0), g_eta.sum())
    assert np.abs(grad[: p + int(fit_intercept)]).max() < 1e-8, (name, grad)
    params = {"family": family, "link": link, "regParam": reg_param,
              "fitIntercept": fit_intercept, "maxIter": 100, "tol": 1e-10}
    if family == "tweedie":
        params["variancePower"] = power
    return {
        "name": name,
        "algorithm": "glm",
        "source": f"sklearn {sklearn.__version__} TweedieRegressor(power={power}, link={link}, "
        f"alpha=regParam, solver=newton-cholesky, tol=1e-12)",
        "params": params,
        "x": x.tolist(),
        "y": y.tolist(),
        "weight": None if weight is None else weight.tolist(),
        "expected": {
            "coefficients": m.coef_.tolist(),
            "intercept": float(m.intercept_),
            "prediction": m.predict(x[:10]).tolist(),
        },
    }


def naive_bayes_case(name, seed, p, labels, var_smoothing, weighted):
    rng = np.random.default_rng(seed)
    k = len(labels)
    idx = rng.choice(k, size=N, p=np.linspace(2.0, 1.0, k) / np.linspace(2.0, 1.0, k).sum())
    centers = rng.normal(scale=2.0, size=(k, p))
    spread = rng.uniform(0.5, 2.0, size=(k, p))
    x = centers[idx] + rng.normal(size=(N, p)) * spread[idx]
    x[:, 1] = x[:, 1] * 1000.0 + 5000.0
    y = np.asarray(labels, dtype=float)[idx]
    weight = rng.uniform(0.1, 4.0, size=N) if weighted else None
    # scikit-learn refuses non-integer class values (5.5): fit on the codes of the sorted ones.
    classes = np.unique(y)
    m = GaussianNB(var_smoothing=var_smoothing)
    m.fit(x, np.searchsorted(classes, y), sample_weight=weight)
    return {
        "name": name,
        "algorithm": "naive_bayes",
        "source": f"sklearn {sklearn.__version__} GaussianNB(var_smoothing={var_smoothing})",
        "params": {"modelType": "gaussian", "varSmoothing": var_smoothing},
        "x": x.tolist(),
        "y": y.tolist(),
        "weight": None if weight is None else weight.tolist(),
        "expected": {
            "classes": classes.tolist(),
            "means": m.theta_.tolist(),
            "variances": m.var_.tolist(),
            "priors": m.class_prior_.tolist(),
            "jointLogLikelihood": m.predict_joint_log_proba(x).tolist(),
            "probability": m.predict_proba(x).tolist(),
            "prediction": classes[m.predict(x)].tolist(),
        },
    }


def kmeans_case(name, seed, n, p, k, scales):
    x, truth = make_blobs(n_samples=n, n_features=p, centers=k, cluster_std=1.0,
                      center_box=(-20.0, 20.0), random_state=seed)
    x = x * np.asarray(scales)
    m = KMeans(n_clusters=k, init="k-means++", n_init=10, tol=1e-6, random_state=seed).fit(x)
    # Well separated: scikit-learn finds the blobs that generated the data, exactly.
    assert adjusted_rand_score(truth, m.labels_) == 1.0, name
    return {
        "name": name,
        "algorithm": "kmeans",
        "source": f"sklearn {sklearn.__version__} KMeans(n_clusters={k}, init=k-means++, "
        "n_init=10, tol=1e-6)",
        "params": {"k": k, "maxIter": 100, "tol": 1e-6, "seed": seed, "nInit": 3},
        "x": x.tolist(),
        "expected": {
            "inertia": float(m.inertia_),
            "labels": m.labels_.tolist(),
            "centers": m.cluster_centers_.tolist(),
        },
    }


def main():
    cases = [
        glm_case("glm_poisson", 31, 4, "poisson", 1.0, "log", 0.0, True, False),
        glm_case("glm_poisson_l2_weighted", 32, 4, "poisson", 1.0, "log", 0.05, True, True),
        glm_case("glm_poisson_no_intercept", 33, 3, "poisson", 1.0, "log", 0.0, False, False),
        glm_case("glm_poisson_identity", 34, 3, "poisson", 1.0, "identity", 0.0, True, False),
        glm_case("glm_gamma_l2", 35, 4, "gamma", 2.0, "log", 0.01, True, False),
        glm_case("glm_gamma_weighted", 36, 3, "gamma", 2.0, "log", 0.0, True, True),
        glm_case("glm_tweedie_1_5_weighted", 37, 4, "tweedie", 1.5, "log", 0.02, True, True),
        glm_case("glm_tweedie_3", 38, 3, "tweedie", 3.0, "log", 0.0, True, False),
        glm_case("glm_gaussian_l2", 39, 4, "gaussian", 0.0, "identity", 0.1, True, True),
        glm_case("glm_gaussian_log", 40, 3, "gaussian", 0.0, "log", 0.0, True, False),
        glm_case("glm_gaussian_no_intercept", 44, 3, "gaussian", 0.0, "identity", 0.0, False, False),
        glm_case("glm_gaussian_no_intercept_l2_weighted", 45, 3, "gaussian", 0.0, "identity", 0.05, False, True),
        naive_bayes_case("naive_bayes_three_classes", 41, 4, [2.0, -1.0, 5.5], 1e-9, False),
        naive_bayes_case("naive_bayes_weighted", 42, 3, [0.0, 1.0, 2.0, 3.0], 1e-9, True),
        naive_bayes_case("naive_bayes_smoothing", 43, 5, [1.0, 0.0], 1e-2, False),
        kmeans_case("kmeans_k3", 51, 300, 2, 3, [1.0, 1.0]),
        kmeans_case("kmeans_k5_p4", 52, 500, 4, 5, [1.0, 1.0, 1.0, 1.0]),
        kmeans_case("kmeans_k4_scaled", 59, 400, 3, 4, [100.0, 1.0, 0.01]),
    ]
    OUT.mkdir(parents=True, exist_ok=True)
    for case in cases:
        path = OUT / f"{case['name']}.json"
        path.write_text(json.dumps(case, indent=None, separators=(",", ":")) + "\n")
        print(f"wrote {path.relative_to(OUT.parents[3])}")


if __name__ == "__main__":
    main()
