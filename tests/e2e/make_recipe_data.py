"""Writes the recipe's two data sets, one gzip CSV file each, for tests/e2e/recipe.scala.

    a.csv.gz: y = 2.5 x + noise        b.csv.gz: y = 3.0 x + noise

Columns id,x,y; x uniform on [0, 10), noise normal with sd 1, fixed seeds. With 2,000 rows the
slope's standard error is about 0.008, far inside the test's 2.5 +- 0.1 and 3.0 +- 0.1.

Usage: python make_recipe_data.py <output dir>
"""

import gzip
import pathlib
import sys

import numpy as np

ROWS = 2000
SLOPES = {"a": 2.5, "b": 3.0}


def main(out: pathlib.Path) -> None:
    out.mkdir(parents=True, exist_ok=True)
    for seed, (name, slope) in enumerate(sorted(SLOPES.items())):
        rng = np.random.default_rng(seed)
        x = rng.uniform(0.0, 10.0, ROWS)
        y = slope * x + rng.normal(0.0, 1.0, ROWS)
        with gzip.open(out / f"{name}.csv.gz", "wt", newline="") as f:
            f.write("id,x,y\n")
            for i in range(ROWS):
                f.write(f"{i},{float(x[i])!r},{float(y[i])!r}\n")


if __name__ == "__main__":
    main(pathlib.Path(sys.argv[1]))
