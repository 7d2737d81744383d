"""Fixed imputed datasets for the D3 reference (tests/data/d3_imputed.csv).

Run: python bench/references/d3_data.py, then Rscript bench/references/mitml_d3.R.
A two-level Normal population (30 schools of 8 to 20 pupils, a level-1
covariate x1, a three-category level-1 variable cat3, a three-category
level-2 variable type), 20% of x1 and of cat3 deleted at random, and five
completed datasets made by simple stochastic regression imputation (x1 from y,
cat3 from a multinomial whose probabilities shift with y).  The imputation
model does not matter here: the file is only a fixed input on which
statjr_py's D3 and mitml's D3 must agree.  Long layout, as mice's
complete(imp, "long"): ``.imp`` 1..5, one block of rows per imputation.
"""
from pathlib import Path

import numpy as np
import pandas as pd

OUT = Path(__file__).resolve().parents[2] / "tests" / "data" / "d3_imputed.csv"


def main() -> None:
    rng = np.random.default_rng(20261130)
    sizes = rng.integers(8, 21, size=30)
    school = np.repeat(np.arange(1, 31), sizes)
    n = len(school)
    type_j = rng.integers(0, 3, size=30)
    u = rng.normal(0, 0.5, size=30)
    x1 = rng.normal(0, 1, size=n)
    cat3 = rng.integers(0, 3, size=n)
    y = (0.5 + 0.4 * x1 + 0.25 * (cat3 == 0) - 0.1 * (cat3 == 1) + 0.2 * (type_j[school - 1] == 1)
         + u[school - 1] + rng.normal(0, 1, size=n))
    miss_x, miss_c = rng.random(n) < 0.2, rng.random(n) < 0.2
    ok = ~miss_x
    slope, icpt = np.polyfit(y[ok], x1[ok], 1)
    sd = np.std(x1[ok] - (icpt + slope * y[ok]), ddof=2)
    frames = []
    for m in range(1, 6):
        xi = x1.copy()
        xi[miss_x] = icpt + slope * y[miss_x] + rng.normal(0, sd, miss_x.sum())
        ci = cat3.copy()
        logits = np.column_stack([0.4 * y[miss_c], np.zeros(miss_c.sum()), -0.2 * y[miss_c]])
        prob = np.exp(logits) / np.exp(logits).sum(axis=1, keepdims=True)
        ci[miss_c] = [rng.choice(3, p=pr) for pr in prob]
        frames.append(pd.DataFrame({".imp": m, "school": school, "y": y, "x1": xi, "cat3": ci,
                                    "type": type_j[school - 1]}))
    pd.concat(frames).to_csv(OUT, index=False, float_format="%.17g")
    print(f"wrote {OUT}")


if __name__ == "__main__":
    main()
