"""scikit-learn's fit times on the shapes of rust/core/tests/linfa_timing.rs (1,000 x 10 and
100,000 x 10): Poisson and gamma GLM (newton-cholesky, as the reference fixtures), Gaussian
naive Bayes (plain and weighted) and k-means (k=5, k-means++, n_init=1). One thread
(OMP/OpenBLAS pinned to 1), the median of the repeats, in milliseconds. The data follow the
same recipe as the Rust harness (not the same numbers).

    OMP_NUM_THREADS=1 OPENBLAS_NUM_THREADS=1 python bench/linfa_peers.py
"""

import os
import time

os.environ.setdefault("OMP_NUM_THREADS", "1")
os.environ.setdefault("OPENBLAS_NUM_THREADS", "1")

import numpy as np  # noqa: E402
from sklearn.cluster import KMeans  # noqa: E402
from sklearn.linear_model import GammaRegressor, PoissonRegressor  # noqa: E402
from sklearn.naive_bayes import GaussianNB  # noqa: E402


def median_ms(repeats, f):
    f()
    times = []
    for _ in range(repeats):
        t = time.perf_counter()
        f()
        times.append((time.perf_counter() - t) * 1e3)
    return sorted(times)[len(times) // 2]


def main():
    rng = np.random.default_rng(0)
    for n, repeats in [(1_000, 51), (100_000, 7)]:
        x = rng.normal(size=(n, 10))
        counts = np.round(np.exp(0.5 + 0.3 * x[:, 0] - 0.2 * x[:, 1]))
        classes = (x[:, 0] > -0.5).astype(float) + (x[:, 0] > 0.5)
        i = np.arange(n)[:, None]
        j = np.arange(10)[None, :]
        blobs = ((i % 5) * (j + 1) % 7) * 8.0 + rng.normal(size=(n, 10))
        cases = [
            ("glm_poisson", lambda: PoissonRegressor(alpha=0.0, solver="newton-cholesky",
                                                     tol=1e-6, max_iter=25).fit(x, counts)),
            ("glm_gamma", lambda: GammaRegressor(alpha=0.0, solver="newton-cholesky",
                                                 tol=1e-6, max_iter=25).fit(x, counts + 0.5)),
            ("naive_bayes", lambda: GaussianNB().fit(x, classes)),
            ("naive_bayes_weighted", lambda: GaussianNB().fit(x, classes, sample_weight=counts)),
            ("kmeans_k5", lambda: KMeans(n_clusters=5, init="k-means++", n_init=1, max_iter=20,
                                         tol=1e-4, random_state=0).fit(blobs)),
        ]
        for name, f in cases:
            print(f"{name:22} {n:>7} x 10: {median_ms(repeats, f):9.3f} ms")


if __name__ == "__main__":
    main()
