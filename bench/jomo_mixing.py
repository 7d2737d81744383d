"""The imputation sampler against jomo per effective draw, not per iteration (not a test).

``bench/speed.py sampler`` times iterations.  A statistician waits for Monte
Carlo precision instead: the number of effective draws of the slowest
parameter that matters.  Our sweep's step 6 (docs/imputation.md) costs about
twice a plain Gibbs sweep per iteration and mixes the slowest parameters
10-160 times better per iteration, so the two measures disagree.

This script runs one chain of the worked example's imputation model on each
side, jomo's single design for every level-1 response
(``bench/jomo_compare.INVARS``, the model ``bench/speed.py sampler`` times):

* jomo: ``jomo.MCMCchain`` for ``--burnin + --iterations`` iterations, the
  draws of the last ``--iterations`` kept;
* statjr-py: ImputeModel, ``nchains`` 1, ``processes`` 1, the same numbers
  of iterations, with step 6 (the default) and without it (the plain Gibbs
  sweep, jomo's kind of sweep: ``PARAMETER_EXPANSION = False``).

For each parameter of the three level-1 responses (their coefficients, and
the level-1 and level-2 covariances among them; the level-2 Unordered
response is left out because jomo takes its first category as the reference
and we take the last) it prints the ESS of the mean, by one
estimator for all three samplers (split chains, Geyer's initial monotone
sequence; ``statjr_py.diagnostics._multichain_ess``, as
``bench/imputation_mixing.py``), and effective draws per second of wall
time, whole chain (burn-in included) against whole chain.  The headline is
the slowest parameter's effective draws per second on each side, over the
parameters of the two Normal responses: the time a user waits for a given
Monte Carlo error on every one of them.

Those twelve have the same posterior on both sides (the means printed agree
within Monte Carlo error).  The rows that involve girlmiss (Binary) do not:
jomo's latent for it points the other way (its covariances have the
opposite sign), and jomo's inverse-Wishart prior with identity scale holds
the girlmiss random-effect variance near 1 where our flat prior gives about
9 (docs/imputation.md, departure 3; 31 of the 65 schools are all girls or
all boys), which changes the scale of its coefficients.  They are printed,
marked ``*``, but left out of the headline.

Needs R with jomo (apt-get install r-base-core r-cran-jomo).  Run (about two
minutes with the defaults; most of it is jomo):
    python bench/jomo_mixing.py [--iterations 5000] [--burnin 1000] [--repeats 1]
"""
from __future__ import annotations

import argparse
import statistics
import sys
import tempfile
import time
from pathlib import Path

import numpy as np
import pandas as pd

from statjr_py import load_dataset

sys.path.insert(0, str(Path(__file__).resolve().parent))
from imputation_mixing import ess_mean, run  # noqa: E402  (one ESS estimator, one way to run ours)
from jomo_compare import INVARS, R_JOMO_DATA, rscript  # noqa: E402  (the same model and data as the speed figures)

#: jomo's draws of the parameters we compare, one column each, and the time of the chain.
R_CHAIN = r"""
suppressPackageStartupMessages(library(jomo))
a <- commandArgs(TRUE); d <- read.csv(a[1]); nburn <- as.integer(a[2]); keep <- as.integer(a[3])
set.seed(as.integer(a[5]))
""" + R_JOMO_DATA + r"""
t0 <- proc.time()[["elapsed"]]
ch <- jomo.MCMCchain(Y = Y, Y2 = Y2, X = X, X2 = X2, clus = d$school, nburn = nburn + keep, output = 0)
t <- proc.time()[["elapsed"]] - t0
k <- (nburn + 1):(nburn + keep)
resp <- c("normexam", "standlrtmiss", "girlmiss"); cov <- c("cons", "vrband_1", "vrband_2")
out <- list()
for (r in 1:3) for (c in 1:3) out[[sprintf("beta(%s,%s)", resp[r], cov[c])]] <- ch$collectbeta[c, r, k]
for (r in 1:3) for (s in r:3) {
  if (r < 3 || s < 3) out[[sprintf("omega_e(%s,%s)", resp[r], resp[s])]] <- ch$collectomega[r, s, k]  # [3, 3] is 1
  out[[sprintf("omega_u(%s,%s)", resp[r], resp[s])]] <- ch$collectcovu[r, s, k]
}
write.csv(as.data.frame(out, check.names = FALSE), a[4], row.names = FALSE)
cat("JSON:", sprintf('{"seconds": %.4f, "jomo": "%s", "r": "%s"}', t, as.character(packageVersion("jomo")),
                     paste(R.version$major, R.version$minor, sep = ".")))
"""


def jomo_chain(csv: str, burnin: int, iterations: int, seed: int, tmp: str) -> tuple[pd.DataFrame, dict] | None:
    """jomo's kept draws (one column a parameter) and its JSON answer, or None without R."""
    draws = str(Path(tmp) / f"jomo_{seed}.csv")
    answer = rscript(R_CHAIN, csv, str(burnin), str(iterations), draws, str(seed))
    if answer is None:
        return None
    return pd.read_csv(draws), answer


def ours(expansion: bool, burnin: int, iterations: int, seed: int) -> tuple[dict[str, np.ndarray], float]:
    """Our kept draws (parameter -> one chain) and the wall time of the whole run."""
    draws, wall = run(expansion, 1, burnin, iterations, seed, processes=1, invars=INVARS)
    return {p: x[0] for p, x in draws.items()}, wall


def main(argv=None) -> int:
    p = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    p.add_argument("--iterations", type=int, default=5000, help="kept iterations per chain")
    p.add_argument("--burnin", type=int, default=1000)
    p.add_argument("--repeats", type=int, default=1, help="chains per sampler, each with its own seed; "
                   "ESS/s are averaged over them")
    args = p.parse_args(argv)
    frame = load_dataset("tutmiss").frame
    run(True, 1, 5, 5, 1, processes=1, invars=INVARS)  # compile both outside the timing
    run(False, 1, 5, 5, 1, processes=1, invars=INVARS)
    rows: dict[str, dict[str, list[float]]] = {}
    means: dict[str, dict[str, list[float]]] = {}
    seconds: dict[str, list[float]] = {"statjr-py": [], "statjr-py, no step 6": [], "jomo": []}
    versions = ""
    with tempfile.TemporaryDirectory() as tmp:
        csv = str(Path(tmp) / "tutmiss.csv")
        frame.to_csv(csv, index=False)
        for rep in range(args.repeats):
            seed = rep + 1
            got = jomo_chain(csv, args.burnin, args.iterations, seed, tmp)
            if got is None:
                return 1
            jd, answer = got
            versions = f"jomo {answer['jomo']} (R {answer['r']})"
            sides = {"jomo": ({c: jd[c].to_numpy() for c in jd.columns}, answer["seconds"])}
            for name, on in (("statjr-py", True), ("statjr-py, no step 6", False)):
                sides[name] = ours(on, args.burnin, args.iterations, seed)
            for name, (draws, wall) in sides.items():
                seconds[name].append(wall)
                for param in jd.columns:
                    if param not in draws:
                        print(f"  {param}: not in {name}'s draws")
                        continue
                    x = np.asarray(draws[param], dtype=float)
                    ess = ess_mean(x[None, :]) if np.ptp(x) > 0 else float("nan")
                    rows.setdefault(param, {}).setdefault(name, []).append(ess / wall)
                    means.setdefault(param, {}).setdefault(name, []).append(float(x.mean()))
    total = args.burnin + args.iterations
    print(f"\nOne chain each, {args.burnin} + {args.iterations} iterations (ESS of the last "
          f"{args.iterations}), {args.repeats} seed(s); {versions}; {time.strftime('%Y-%m-%d %H:%M')}")
    for name, s in seconds.items():
        print(f"  {name:22s} {statistics.median(s):7.2f} s per chain, {1e3 * statistics.median(s) / total:.3f} ms "
              f"per iteration")
    names = list(seconds)
    print(f"\n{'parameter':36s} " + " ".join(f"{n:>22s}" for n in names) + f" {'ratio':>7s}")
    print(f"{'':36s} " + " ".join(f"{'mean; ESS/s':>22s}" for _ in names) + f" {'ours/jomo':>7s}")
    slowest = {n: (np.inf, "") for n in names}
    for param, by in rows.items():
        rate = {n: float(np.mean(by[n])) for n in names if n in by}
        alike = "girlmiss" not in param
        for n, r in rate.items():
            if alike and r < slowest[n][0]:
                slowest[n] = (r, param)
        cells = " ".join(f"{np.mean(means[param][n]):9.3f}; {rate[n]:10.1f}" if n in rate else f"{'':>22s}"
                         for n in names)
        ratio = rate.get("statjr-py", np.nan) / rate.get("jomo", np.nan)
        print(f"{param + ('' if alike else ' *'):36s} {cells} {ratio:7.1f}")
    print("* girlmiss: a different posterior on each side (see the docstring); not in the headline")
    print("\nslowest of the Normal responses' parameters, effective draws per second:\n"
          + "\n".join(f"  {n}: {r:.2f} ({p})" for n, (r, p) in slowest.items()))
    slowest = {n: r for n, (r, _) in slowest.items()}
    print(f"ratio statjr-py / jomo: {slowest['statjr-py'] / slowest['jomo']:.1f} (with step 6), "
          f"{slowest['statjr-py, no step 6'] / slowest['jomo']:.1f} (without); per iteration: "
          f"{statistics.median(seconds['jomo']) / statistics.median(seconds['statjr-py']):.1f} and "
          f"{statistics.median(seconds['jomo']) / statistics.median(seconds['statjr-py, no step 6']):.1f}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
