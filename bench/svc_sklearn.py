"""scikit-learn's side of the SVC speed comparison (the Rust side is
rust/core/benches/svc_fit.rs, which reads the data and reference values written here).

    python -m venv /tmp/venv-svc && /tmp/venv-svc/bin/pip install numpy scikit-learn
    /tmp/venv-svc/bin/python bench/svc_sklearn.py [--repeats 7] [--grid-repeats 3]
    cargo bench -p manyfold-core --bench svc_fit -- [--repeats 7] [--grid-repeats 3]

Writes bench/out/svc/{single,grid}.csv (label first, then the 20 features, %.17g) and
single_decision.csv (sklearn's decision_function of the single fit on its training rows), then
prints one JSON object: the time of each repeat and the median, for
- single: one SVC().fit (rbf, C=1, gamma "scale") on make_classification(n_samples=2000,
  n_features=20, random_state=0);
- grid: the 48 fits C in {0.001, 0.01, 0.1, 0.5, 1, 2, 5, 10} x kernel in {rbf, poly, sigmoid}
  x shrinking in {True, False}, gamma "auto", probability=True, on
  make_classification(n_samples=1000, n_features=20, random_state=0), one after another.
Times are wall-clock seconds of the fit calls only, one thread (libsvm is single-threaded).
"""

import argparse
import json
import pathlib
import statistics
import time
import warnings

import numpy as np
import sklearn
from sklearn.datasets import make_classification
from sklearn.svm import SVC

OUT = pathlib.Path(__file__).resolve().parent / "out" / "svc"
COSTS = [0.001, 0.01, 0.1, 0.5, 1.0, 2.0, 5.0, 10.0]
KERNELS = ["rbf", "poly", "sigmoid"]


def write(path, x, y):
    np.savetxt(path, np.column_stack([y, x]), fmt="%.17g", delimiter=",")


def timed(fn, repeats):
    if repeats == 0:
        return None
    fn()  # warm-up: imports, first-touch allocations
    times = []
    for _ in range(repeats):
        t = time.perf_counter()
        fn()
        times.append(time.perf_counter() - t)
    return {"times": times, "median": statistics.median(times)}


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--repeats", type=int, default=7)
    ap.add_argument("--grid-repeats", type=int, default=3)
    args = ap.parse_args()
    OUT.mkdir(parents=True, exist_ok=True)

    xs, ys = make_classification(n_samples=2000, n_features=20, random_state=0)
    write(OUT / "single.csv", xs, ys)
    m = SVC().fit(xs, ys)
    np.savetxt(OUT / "single_decision.csv", m.decision_function(xs), fmt="%.17g")

    xg, yg = make_classification(n_samples=1000, n_features=20, random_state=0)
    write(OUT / "grid.csv", xg, yg)

    def grid():
        for c in COSTS:
            for kernel in KERNELS:
                for shrinking in (True, False):
                    SVC(C=c, kernel=kernel, gamma="auto", shrinking=shrinking,
                        probability=True, random_state=0).fit(xg, yg)

    with warnings.catch_warnings():
        warnings.simplefilter("ignore", FutureWarning)
        result = {
            "sklearn": sklearn.__version__,
            "single": timed(lambda: SVC().fit(xs, ys), args.repeats),
            "grid": timed(grid, args.grid_repeats),
        }
    print(json.dumps(result, indent=1))


if __name__ == "__main__":
    main()
