"""Reference fixtures for manyfold-core's time-series folds, from scikit-learn's TimeSeriesSplit.

manyfold cuts time-series folds as scikit-learn's TimeSeriesSplit(n_splits, test_size, gap,
max_train_size) cuts the sorted distinct time values, every row of a time value on the same side.
scikit-learn is the independent source: every expected boundary and every refusal in
tests/fixtures/search/time_series_splits.json comes from it, never from manyfold.
rust/core/tests/search.rs builds data sets with `repeats` rows per distinct time (in shuffled
order), cuts the folds natively and compares.

Rerun from the repository root with any Python that has numpy and scikit-learn, then run the
Rust tests:

    python tests/reference/make_search_fixtures.py
    cargo test --release -p manyfold-core --test search

Parameter mapping (manyfold -> sklearn): nSplits -> n_splits, testSize -> test_size (0: None),
gap -> gap, maxTrainSize -> max_train_size (0: None). Each split is recorded as half-open index
ranges over the distinct times: {"train": [start, end], "test": [start, end]}.
"""

import json
import pathlib

import numpy as np
import sklearn
from sklearn.model_selection import TimeSeriesSplit

OUT = pathlib.Path(__file__).resolve().parents[1] / "fixtures" / "search"

# (distinct times, rows per time, nSplits, testSize, gap, maxTrainSize)
CONFIGS = [
    (6, 1, 5, 0, 0, 0),
    (10, 1, 3, 0, 0, 0),
    (10, 3, 3, 0, 0, 0),
    (11, 2, 4, 0, 0, 0),
    (30, 1, 5, 3, 0, 0),
    (30, 2, 5, 3, 2, 0),
    (30, 1, 5, 3, 2, 8),
    (25, 4, 3, 0, 1, 5),
    (20, 1, 2, 7, 3, 0),
    (17, 3, 4, 2, 5, 4),
    (9, 5, 2, 0, 0, 1),
    (40, 1, 7, 0, 0, 10),
    # scikit-learn refuses these:
    (4, 2, 5, 0, 0, 0),  # more folds (nSplits + 1) than distinct times
    (10, 1, 3, 3, 1, 0),  # 10 - gap 1 - 3 * 3 <= 0
    (12, 2, 2, 3, 6, 0),  # 12 - gap 6 - 2 * 3 <= 0
    (30, 1, 5, 7, 0, 0),  # 30 - 5 * 7 <= 0
    (5, 3, 1, 0, 0, 0),  # nSplits < 2
]


def half_open(indices):
    indices = np.asarray(indices)
    start, end = int(indices[0]), int(indices[-1]) + 1
    assert np.array_equal(indices, np.arange(start, end)), "TimeSeriesSplit gave a non-range"
    return [start, end]


def case(n, repeats, n_splits, test_size, gap, max_train_size):
    entry = {"distinctTimes": n, "repeats": repeats, "nSplits": n_splits, "testSize": test_size,
             "gap": gap, "maxTrainSize": max_train_size}
    try:
        splitter = TimeSeriesSplit(n_splits=n_splits, test_size=test_size or None, gap=gap,
                                   max_train_size=max_train_size or None)
        splits = [{"train": half_open(tr), "test": half_open(te)}
                  for tr, te in splitter.split(np.zeros((n, 1)))]
        entry["splits"] = splits
    except ValueError as e:
        entry["error"] = str(e)
    return entry


def main():
    OUT.mkdir(parents=True, exist_ok=True)
    doc = {"source": f"scikit-learn {sklearn.__version__} TimeSeriesSplit",
           "script": "tests/reference/make_search_fixtures.py",
           "cases": [case(*c) for c in CONFIGS]}
    path = OUT / "time_series_splits.json"
    path.write_text(json.dumps(doc, indent=1) + "\n")
    refused = sum("error" in c for c in doc["cases"])
    print(f"wrote {path}: {len(doc['cases'])} cases, {refused} refused by scikit-learn")


if __name__ == "__main__":
    main()
