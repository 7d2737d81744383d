"""ImputeModel against R's jomo on the seed's worked example (not a test).

Both fit the same joint model to tutmiss: level 1 normexam, standlrtmiss (Normal)
and girlmiss (Binary), with cons + vrband dummies for every response (jomo
allows one design only); level 2 schgendmiss (3 categories) with cons;
random intercepts by school.  Printed: posterior means of the parameters the
two parametrise alike (fixed effects of the Normal responses, and the
Normal block of the level-1 and level-2 covariance matrices), summaries of
the imputed values, and the wall time of each.  Both sides do the same work:
one chain (``nchains`` 1, one process), burnt in for ``--iterations`` and then
imputing every ``--every`` iterations, as jomo does; statjr-py's default of
three chains would run three burn-ins and understate the ratio.  jomo's default priors
(inverse-Wishart with identity scale) differ from ours (flat), so small
differences in variances are expected; fixed effects and imputations should
agree within Monte Carlo error.

Needs R with jomo (apt-get install r-base-core r-cran-jomo).  Run:
    python bench/jomo_compare.py [--iterations 5000]
"""
from __future__ import annotations

import argparse
import json
import shutil
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import numpy as np
import pandas as pd

from statjr_py import RunStatJR, load_dataset
from statjr_py.examples import WORKED_IMPUTATION

# The seed's imputation model, with jomo's single design for every level-1 response
INVARS = {**WORKED_IMPUTATION, "ximp1_0": "cons,vrband.cat", "ximp1_2": "cons,vrband.cat"}

#: The worked example's data as jomo takes them (d: tutmiss read from CSV).
R_JOMO_DATA = r"""
Y <- data.frame(normexam = d$normexam, standlrtmiss = d$standlrtmiss, girlmiss = factor(d$girlmiss))
Y2 <- data.frame(schgendmiss = factor(d$schgendmiss))
X <- data.frame(cons = 1, vr1 = as.numeric(d$vrband == 1), vr2 = as.numeric(d$vrband == 2))
X2 <- data.frame(cons = rep(1, nrow(d)))
"""

R_SCRIPT = r"""
suppressPackageStartupMessages(library(jomo))
args <- commandArgs(trailingOnly = TRUE)
d <- read.csv(args[1]); nburn <- as.integer(args[2]); nimp <- as.integer(args[3]); every <- as.integer(args[4])
""" + R_JOMO_DATA + r"""
set.seed(1)
t0 <- proc.time()[["elapsed"]]
ch <- jomo.MCMCchain(Y = Y, Y2 = Y2, X = X, X2 = X2, clus = d$school, nburn = nburn, output = 0)
t_chain <- proc.time()[["elapsed"]] - t0
keep <- (nburn %/% 2 + 1):nburn
b <- ch$collectbeta; om <- ch$collectomega; cu <- ch$collectcovu
post <- list(
  "beta(normexam,cons)" = b[1, 1, keep], "beta(normexam,vrband_1)" = b[2, 1, keep], "beta(normexam,vrband_2)" = b[3, 1, keep],
  "beta(standlrtmiss,cons)" = b[1, 2, keep], "beta(standlrtmiss,vrband_1)" = b[2, 2, keep], "beta(standlrtmiss,vrband_2)" = b[3, 2, keep],
  "omega_e(normexam,normexam)" = om[1, 1, keep], "omega_e(normexam,standlrtmiss)" = om[1, 2, keep],
  "omega_e(standlrtmiss,standlrtmiss)" = om[2, 2, keep],
  "omega_u(normexam,normexam)" = cu[1, 1, keep], "omega_u(normexam,standlrtmiss)" = cu[1, 2, keep],
  "omega_u(standlrtmiss,standlrtmiss)" = cu[2, 2, keep])
t0 <- proc.time()[["elapsed"]]
imp <- jomo(Y = Y, Y2 = Y2, X = X, X2 = X2, clus = d$school, nburn = nburn, nbetween = every, nimp = nimp, output = 0)
t_imp <- proc.time()[["elapsed"]] - t0
imp <- imp[imp$Imputation > 0, ]
ms <- is.na(d$standlrtmiss); mg <- is.na(d$girlmiss); mc <- is.na(d$schgendmiss)
summ <- list(
  standlrt_imputed_mean = mean(imp$standlrtmiss[rep(ms, nimp)]),
  girl_imputed_share = mean(as.numeric(as.character(imp$girlmiss[rep(mg, nimp)]))),
  schgend_imputed_share = as.list(prop.table(table(factor(imp$schgendmiss[rep(mc, nimp)], levels = 0:2)))))
cat("JSON:", jsonlite::toJSON(list(
  post = lapply(post, function(x) c(mean(x), sd(x))), summ = summ,
  time_chain = t_chain, time_impute = t_imp, version = as.character(packageVersion("jomo")),
  r = R.version.string), auto_unbox = TRUE, digits = 10))
"""


def rscript(code: str, *args: str) -> dict | None:
    """Run R code; its JSON answer and the peak memory of the R process (MB)."""
    if not shutil.which("Rscript"):
        print("  (Rscript not found: install r-base-core r-cran-jomo to compare with jomo)")
        return None
    with tempfile.TemporaryDirectory() as tmp:
        script = Path(tmp) / "bench.R"
        script.write_text(code)
        timer = ["/usr/bin/time", "-f", "MAXRSS %M"] if Path("/usr/bin/time").exists() else []
        proc = subprocess.run([*timer, "Rscript", str(script), *args], capture_output=True, text=True)
    if proc.returncode != 0 or "JSON:" not in proc.stdout:
        print("  R failed:", proc.stderr[-2000:])
        return None
    out = json.loads(proc.stdout.split("JSON:", 1)[1])
    for line in proc.stderr.splitlines():
        if line.startswith("MAXRSS"):
            out["peak_mb"] = int(line.split()[1]) / 1024
    return out


def ours(frame: pd.DataFrame, nburn: int, nimp: int, every: int) -> tuple[dict, dict, float]:
    inv = {**INVARS, "numimpute": str(nimp), "impute1st": str(nburn), "imputeevery": str(every)}
    # One chain, as jomo runs: the default nchains (3) would burn in three chains.
    opts = {"diagnostics": False, "nchains": 1, "processes": 1}
    RunStatJR("ImputeModel", frame, {**inv, "numimpute": "1", "impute1st": "5"}, opts)  # warm the cache
    t0 = time.perf_counter()
    res = RunStatJR("ImputeModel", frame, inv, {**opts, "seed": 1})
    elapsed = time.perf_counter() - t0
    table = res["ModelResults"].set_index("term")
    post = {k: (table.loc[k, "mean"], table.loc[k, "sd"]) for k in table.index}
    used = res["ImputedDatasets"]
    sets = [res[n] for n in used.loc[used["used"], "dataset"]]
    ms, mg, mc = (frame[c].isna() for c in ("standlrtmiss", "girlmiss", "schgendmiss"))
    cats = pd.concat([s.loc[mc, "schgendmiss"] for s in sets])
    summ = {"standlrt_imputed_mean": float(np.mean([s.loc[ms, "standlrtmiss"].mean() for s in sets])),
            "girl_imputed_share": float(np.mean([s.loc[mg, "girlmiss"].mean() for s in sets])),
            "schgend_imputed_share": {str(k): float((cats == k).mean()) for k in (0, 1, 2)}}
    return post, summ, elapsed


def main(argv=None) -> int:
    p = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    p.add_argument("--iterations", type=int, default=5000, help="chain length for the posterior")
    p.add_argument("--nimp", type=int, default=20)
    p.add_argument("--every", type=int, default=100)
    args = p.parse_args(argv)
    frame = load_dataset("tutmiss").frame
    post, summ, t_ours = ours(frame, args.iterations, args.nimp, args.every)
    print(f"statjr-py ImputeModel: {args.iterations} iterations + {args.nimp} imputations "
          f"every {args.every}: {t_ours:.2f} s (one chain, one process, as jomo)")
    if not shutil.which("Rscript"):
        print("Rscript not found: install r-base-core r-cran-jomo to compare with jomo")
        return 0
    with tempfile.TemporaryDirectory() as tmp:
        csv = Path(tmp) / "tutmiss.csv"
        frame.to_csv(csv, index=False)
        jomo = rscript(R_SCRIPT, str(csv), str(args.iterations), str(args.nimp), str(args.every))
    if jomo is None:  # rscript has printed R's error
        return 1
    print(f"jomo {jomo['version']} ({jomo['r']}): MCMCchain {jomo['time_chain']:.2f} s, "
          f"imputation run {jomo['time_impute']:.2f} s")
    print(f"\n{'parameter':36s} {'statjr-py':>18s} {'jomo':>18s} {'diff/sd':>8s}")
    for name, (jm, js) in jomo["post"].items():
        m, s = post[name]
        print(f"{name:36s} {m:9.4f} ({s:6.4f}) {jm:9.4f} ({js:6.4f}) {(m - jm) / np.hypot(s, js):8.2f}")
    print(f"\n{'imputed values':36s} {'statjr-py':>18s} {'jomo':>18s}")
    print(f"{'mean of imputed standlrtmiss':36s} {summ['standlrt_imputed_mean']:18.4f} "
          f"{jomo['summ']['standlrt_imputed_mean']:18.4f}")
    print(f"{'share of imputed girlmiss = 1':36s} {summ['girl_imputed_share']:18.4f} "
          f"{jomo['summ']['girl_imputed_share']:18.4f}")
    for k in ("0", "1", "2"):
        print(f"{'share of imputed schgendmiss = ' + k:36s} {summ['schgend_imputed_share'][k]:18.4f} "
              f"{jomo['summ']['schgend_imputed_share'][k]:18.4f}")
    per_it_ours = t_ours / (args.iterations + (args.nimp - 1) * args.every)
    per_it_jomo = jomo["time_impute"] / (args.iterations + (args.nimp - 1) * args.every)
    print(f"\nseconds per iteration: statjr-py {per_it_ours:.2e}, jomo {per_it_jomo:.2e}, "
          f"ratio jomo/statjr-py {per_it_jomo / per_it_ours:.1f}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
