"""Coverage of the random-slope MOI itself, with no missing data (not a test).

The reference point for bench/coverage.py's mar_x_slope scenario: how well
2LevelRS covers when nothing is missing, on the same design (50 schools of 20,
random slope on x).  Whatever MI misses beyond this is the imputation's doing.

    python bench/complete_data_check.py --reps 300
"""
import argparse
import logging
import sys
from concurrent.futures import ProcessPoolExecutor
from pathlib import Path

import pandas as pd

sys.path.insert(0, str(Path(__file__).resolve().parent))
import coverage as cov  # noqa: E402


def one(r: int) -> list:
    from statjr_py import RunStatJR

    logging.getLogger("statjr_py").setLevel(logging.ERROR)
    f, truth, _ = cov.simulate(20261125 + 6000 + r, "mar_x_slope", missing=1e-9)
    res = RunStatJR("2LevelRS", f, {"y": "y", "L2ID": "school", "x": "cons,x,xb,w", "z": "cons,x"},
                    {"burnin": 200, "iterations": 1000, "nchains": 1, "seed": r + 1,
                     "diagnostics": False, "processes": 1})
    t = res["ModelResults"].set_index("term")
    return [(k, t.loc[k, "mean"], t.loc[k, "sd"], t.loc[k, "2.5%"] <= v <= t.loc[k, "97.5%"], v)
            for k, v in truth.items()]


def main(argv=None) -> int:
    p = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    p.add_argument("--reps", type=int, default=300)
    p.add_argument("--workers", type=int, default=2)
    args = p.parse_args(argv)
    with ProcessPoolExecutor(args.workers) as pool:
        rows = [x for part in pool.map(one, range(args.reps)) for x in part]
    d = pd.DataFrame(rows, columns=["term", "mean", "sd", "covered", "truth"])
    g = d.groupby("term")
    print(pd.DataFrame({"bias": g.apply(lambda x: (x["mean"] - x["truth"]).mean()),
                        "emp_se": g["mean"].std(), "se_ratio": g["sd"].mean() / g["mean"].std(),
                        "coverage": g["covered"].mean()}).round(3).to_string())
    return 0


if __name__ == "__main__":
    sys.exit(main())
