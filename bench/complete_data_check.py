"""Coverage of the model of interest itself, with no missing data (not a test).

The reference point for bench/coverage.py: how well the MOI covers when
nothing is missing, on the same designs (50 schools of 20).  Whatever MI
misses beyond this is the imputation's doing.

    python bench/complete_data_check.py --scenario mar_x_slope --reps 300

The datasets are those of bench/coverage.py with the same seeds, so each MI
estimate can be paired with the complete-data estimate from the same data:
--paired RESULTS.csv prints the mean of (MI - complete data) per parameter
with its Monte Carlo SE, which isolates what the imputation adds.
"""
import argparse
import logging
import sys
from concurrent.futures import ProcessPoolExecutor
from pathlib import Path

import numpy as np
import pandas as pd

sys.path.insert(0, str(Path(__file__).resolve().parent))
import coverage as cov  # noqa: E402


def one(task: tuple) -> list:
    from statjr_py import RunStatJR

    scenario, r, schools = task
    logging.getLogger("statjr_py").setLevel(logging.ERROR)
    f, truth, xs = cov.simulate(cov.replication_seed(scenario, r), scenario, J=schools, missing=1e-9)
    slope = cov.SCENARIOS[scenario][2]
    template, inv = (("2LevelRS", {"y": "y", "L2ID": "school", "x": ",".join(xs), "z": "cons,x"}) if slope
                     else ("2LevelMod", {"y": "y", "L2ID": "school", "D": "Normal", "x": ",".join(xs)}))
    res = RunStatJR(template, f, inv, {"burnin": 200, "iterations": 1000, "nchains": 1, "seed": r + 1,
                                       "diagnostics": False, "processes": 1})
    t = res["ModelResults"].set_index("term")
    return [(r, k, t.loc[k, "mean"], t.loc[k, "sd"], t.loc[k, "2.5%"] <= v <= t.loc[k, "97.5%"], v)
            for k, v in truth.items()]


def main(argv=None) -> int:
    p = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    p.add_argument("--scenario", default="mar_x_slope", choices=list(cov.SCENARIOS))
    p.add_argument("--reps", type=int, default=300)
    p.add_argument("--workers", type=int, default=2)
    p.add_argument("--schools", type=int, default=50)
    p.add_argument("--out", help="write one row per replication and parameter to this CSV")
    p.add_argument("--paired", help="a bench/coverage.py results CSV of the same scenario and size; "
                                    "with --out naming an earlier run of this script, no new run")
    args = p.parse_args(argv)
    if args.paired and args.out and Path(args.out).exists():
        print(paired(pd.read_csv(args.out), pd.read_csv(args.paired), args.scenario).to_string())
        return 0
    with ProcessPoolExecutor(args.workers) as pool:
        rows = [x for part in pool.map(one, [(args.scenario, r, args.schools) for r in range(args.reps)]) for x in part]
    d = pd.DataFrame(rows, columns=["rep", "term", "mean", "sd", "covered", "truth"])
    if args.out:
        d.to_csv(args.out, index=False)
    g = d.groupby("term")
    print(pd.DataFrame({"bias": g.apply(lambda x: (x["mean"] - x["truth"]).mean()),
                        "emp_se": g["mean"].std(), "se_ratio": g["sd"].mean() / g["mean"].std(),
                        "coverage": g["covered"].mean()}).round(3).to_string())
    if args.paired:
        print(paired(d, pd.read_csv(args.paired), args.scenario).to_string())
    return 0


def paired(complete: pd.DataFrame, mi_results: pd.DataFrame, scenario: str) -> pd.DataFrame:
    """Mean of (MI estimate - complete-data estimate) over replications, with its MCSE."""
    mi = mi_results[(mi_results["scenario"] == scenario) & (mi_results["method"] == "MI")]
    diff = (mi.set_index(["rep", "term"])["estimate"]
            - complete.set_index(["rep", "term"])["mean"]).dropna().groupby(level="term")
    return pd.DataFrame({"mi_minus_complete": diff.mean(), "mcse": diff.std() / np.sqrt(diff.count()),
                         "reps": diff.count()}).round(4)


if __name__ == "__main__":
    sys.exit(main())
