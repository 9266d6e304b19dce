"""Reference fixtures for manyfold-core's SVC, from scikit-learn's SVC (libsvm).

scikit-learn is the independent source: every expected decision value, label, support count,
intercept and probability in rust/core/tests/fixtures/svc_*.json comes from it, never from
manyfold. rust/core/tests/svc.rs reads the files and compares.

Rerun from the repository root with any Python that has numpy and scikit-learn, then run the
Rust tests:

    python -m venv /tmp/venv-svc && /tmp/venv-svc/bin/pip install numpy scikit-learn
    /tmp/venv-svc/bin/python tests/reference/make_svc_fixtures.py
    cargo test --release -p manyfold-core --test svc

Data: make_classification(n_features=20, random_state=0), features rounded to 5 decimals
(smaller files; sklearn is fitted on the rounded values), label values remapped to
non-consecutive numbers so that class handling is exercised. Each file holds one data set: the
model is fitted on the first `nTrain` rows and evaluated on all rows (the rest are unseen).

Parameter mapping (manyfold -> sklearn): cost -> C, kernel, gamma ("scale", "auto" or a number),
degree, coef0, shrinking, tol, maxIter -> max_iter, probability, seed -> random_state (only the
seeding mechanism is shared: libsvm's CV shuffles differ, so probabilities agree statistically).
Weights are sklearn's sample_weight; some are exactly 0 (libsvm drops those rows).
"""

import json
import pathlib
import warnings

import numpy as np
import sklearn
from sklearn.datasets import make_classification
from sklearn.svm import SVC

OUT = pathlib.Path(__file__).resolve().parents[2] / "rust" / "core" / "tests" / "fixtures"


def dataset(n, n_train, n_classes, labels):
    x, y = make_classification(n_samples=n, n_features=20, n_informative=5,
                               n_classes=n_classes, random_state=0)
    x = np.round(x, 5)
    y = np.asarray(labels, dtype=float)[y]
    rng = np.random.default_rng(7)
    w = rng.uniform(0.2, 3.0, size=n_train)
    w[rng.choice(n_train, size=n_train // 10, replace=False)] = 0.0
    w = np.round(w, 4)
    return x, y, w


def case(name, x, y, w, n_train, weighted=False, **params):
    p = {"cost": 1.0, "kernel": "rbf", "gamma": "scale", "degree": 3, "coef0": 0.0,
         "shrinking": True, "tol": 1e-3, "maxIter": -1, "probability": False, "seed": 0}
    p.update(params)
    gamma = p["gamma"] if p["gamma"] in ("scale", "auto") else float(p["gamma"])
    m = SVC(C=p["cost"], kernel=p["kernel"], gamma=gamma, degree=p["degree"], coef0=p["coef0"],
            shrinking=p["shrinking"], tol=p["tol"], max_iter=p["maxIter"],
            probability=p["probability"], random_state=p["seed"])
    xt, yt = x[:n_train], y[:n_train]
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", FutureWarning)
        m.fit(xt, yt, sample_weight=w if weighted else None)
        expected = {
            "classes": m.classes_.tolist(),
            "gamma": float(m._gamma),
            "supportCounts": m.n_support_.tolist(),
            "iterations": int(np.sum(m.n_iter_)),
            "decision": np.atleast_2d(m.decision_function(x).T).T.tolist(),
            "predicted": m.predict(x).tolist(),
        }
        if p["probability"]:
            expected["probability"] = m.predict_proba(x).tolist()
    return {"name": name, "params": p, "weighted": weighted, "expected": expected}


def fixture(name, n, n_train, n_classes, labels, cases):
    x, y, w = dataset(n, n_train, n_classes, labels)
    out = {
        "name": name,
        "algorithm": "svc",
        "source": f"sklearn {sklearn.__version__} SVC on make_classification(n_samples={n}, "
        f"n_features=20, n_informative=5, n_classes={n_classes}, random_state=0)",
        "nTrain": n_train,
        "x": x.tolist(),
        "y": y.tolist(),
        "weight": w.tolist(),
        "cases": [case(c.pop("name"), x, y, w, n_train, **c) for c in cases],
    }
    path = OUT / f"{name}.json"
    path.write_text(json.dumps(out, separators=(",", ":")) + "\n")
    print(f"wrote {path.relative_to(OUT.parents[3])} ({path.stat().st_size // 1024} KiB)")


def grid():
    """The cases every data set runs: each kernel, gamma form, shrinking, weights."""
    return [
        dict(name="rbf_scale"),
        dict(name="rbf_scale_noshrink", shrinking=False),
        dict(name="rbf_auto_weighted", gamma="auto", weighted=True),
        dict(name="rbf_number_c10", gamma="0.02", cost=10.0),
        dict(name="rbf_c0.1_weighted_noshrink", cost=0.1, weighted=True, shrinking=False),
        dict(name="linear_c0.1", kernel="linear", cost=0.1),
        dict(name="linear_weighted_noshrink", kernel="linear", weighted=True, shrinking=False),
        dict(name="poly3_scale_coef1", kernel="poly", coef0=1.0),
        dict(name="poly2_auto_weighted", kernel="poly", degree=2, gamma="auto", coef0=0.5,
             weighted=True),
        dict(name="sigmoid_scale", kernel="sigmoid", cost=0.5),
        dict(name="sigmoid_number_weighted", kernel="sigmoid", gamma="0.01", coef0=-0.5,
             weighted=True),
        dict(name="rbf_probability", probability=True),
        dict(name="rbf_probability_weighted", probability=True, gamma="auto", weighted=True),
        dict(name="rbf_maxiter", maxIter=20),
    ]


def main():
    OUT.mkdir(parents=True, exist_ok=True)
    fixture("svc_binary", 400, 300, 2, [3.0, 7.0], grid())
    fixture("svc_multiclass", 400, 300, 3, [-1.0, 2.0, 5.0], grid())
    fixture("svc_binary_large", 1000, 800, 2, [0.0, 1.0],
            [dict(name="rbf_scale_1000"), dict(name="poly3_auto_1000", kernel="poly",
                                                 gamma="auto", weighted=True)])


if __name__ == "__main__":
    main()
