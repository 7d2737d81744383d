"""Write bench/coverage.py's datasets to one CSV, for peers to analyse.

The peer comparison of docs/validation.md (bench/peer/jomo_coverage.R) runs
R's jomo on exactly the datasets bench/coverage.py drew, with the same seeds:

    python bench/peer/export_datasets.py --scenario mar_wc --reps 200 --out /tmp/mar_wc.csv
    Rscript bench/peer/jomo_coverage.R /tmp/mar_wc.csv bench/results/jomo_mar_wc.csv

Each row carries its replication, and the complete value of the variable
that was made missing (column ``<var>_complete``).
"""
import argparse
import sys
from pathlib import Path

import pandas as pd

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))
import coverage as cov  # noqa: E402


def main(argv=None) -> int:
    p = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    p.add_argument("--scenario", default="mar_wc", choices=list(cov.SCENARIOS))
    p.add_argument("--reps", type=int, default=200)
    p.add_argument("--schools", type=int, default=50)
    p.add_argument("--out", required=True)
    args = p.parse_args(argv)
    var = cov.SCENARIOS[args.scenario][0]
    parts = []
    for r in range(args.reps):
        seed = cov.replication_seed(args.scenario, r)
        frame, _, _ = cov.simulate(seed, args.scenario, J=args.schools)
        full, _, _ = cov.simulate(seed, args.scenario, J=args.schools, missing=1e-9)
        frame[f"{var}_complete"] = full[var]
        frame.insert(0, "rep", r)
        parts.append(frame)
    pd.concat(parts).to_csv(args.out, index=False)
    return 0


if __name__ == "__main__":
    sys.exit(main())
