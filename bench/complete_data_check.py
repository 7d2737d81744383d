"""Coverage of the model of interest itself, with no missing data (not a test).

The reference point for bench/coverage.py: how well the MOI covers when
nothing is missing, on the same designs (50 schools of 20).  Whatever MI
misses beyond this is the imputation's doing.

    python bench/complete_data_check.py --scenario mar_x_slope --reps 300
"""
import argparse
import logging
import sys
from concurrent.futures import ProcessPoolExecutor
from pathlib import Path

import pandas as pd

sys.path.insert(0, str(Path(__file__).resolve().parent))
import coverage as cov  # noqa: E402


def one(task: tuple) -> list:
    from statjr_py import RunStatJR

    scenario, r = task
    logging.getLogger("statjr_py").setLevel(logging.ERROR)
    index = list(cov.SCENARIOS).index(scenario)
    f, truth, xs = cov.simulate(20261125 + 1000 * index + r, scenario, missing=1e-9)
    slope = cov.SCENARIOS[scenario][2]
    template, inv = (("2LevelRS", {"y": "y", "L2ID": "school", "x": ",".join(xs), "z": "cons,x"}) if slope
                     else ("2LevelMod", {"y": "y", "L2ID": "school", "D": "Normal", "x": ",".join(xs)}))
    res = RunStatJR(template, f, inv, {"burnin": 200, "iterations": 1000, "nchains": 1, "seed": r + 1,
                                       "diagnostics": False, "processes": 1})
    t = res["ModelResults"].set_index("term")
    return [(k, t.loc[k, "mean"], t.loc[k, "sd"], t.loc[k, "2.5%"] <= v <= t.loc[k, "97.5%"], v)
            for k, v in truth.items()]


def main(argv=None) -> int:
    p = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    p.add_argument("--scenario", default="mar_x_slope", choices=list(cov.SCENARIOS))
    p.add_argument("--reps", type=int, default=300)
    p.add_argument("--workers", type=int, default=2)
    args = p.parse_args(argv)
    with ProcessPoolExecutor(args.workers) as pool:
        rows = [x for part in pool.map(one, [(args.scenario, r) for r in range(args.reps)]) for x in part]
    d = pd.DataFrame(rows, columns=["term", "mean", "sd", "covered", "truth"])
    g = d.groupby("term")
    print(pd.DataFrame({"bias": g.apply(lambda x: (x["mean"] - x["truth"]).mean()),
                        "emp_se": g["mean"].std(), "se_ratio": g["sd"].mean() / g["mean"].std(),
                        "coverage": g["covered"].mean()}).round(3).to_string())
    return 0


if __name__ == "__main__":
    sys.exit(main())
