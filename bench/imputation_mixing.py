"""Mixing of the worked example's imputation model, with and without step 6 (not a test).

Step 6 of ImputeModel's sweep (docs/imputation.md) moves each level-1
coordinate's random-effect column: per unit with the coordinate's latents
integrated out, by a scale (parameter expansion) and by a shift against the
intercept.  ``PARAMETER_EXPANSION = False`` in templates/ImputeModel.py gives
the sampler as it was before, draw for draw.  This script runs the worked
example's imputation model (statjr_py.examples.WORKED_IMPUTATION) both ways
and prints

1. the bulk ESS per 1000 iterations of every parameter (``--chains`` chains,
   ``--iterations`` each after ``--burnin``; the same seed for both samplers),
   and seconds per iteration of one chain;
2. the posterior of every parameter from a long run of the old sampler
   (``--long`` iterations per chain) against a run of the new one
   (``--check`` iterations per chain): means and sds, their differences and
   the differences in units of the combined Monte Carlo standard error, which
   should all be below 4 if the move leaves the posterior unchanged; and the
   bulk ESS per 1000 iterations of these longer runs, a steadier estimate
   for the old sampler, whose slowest chains barely move in ``--iterations``.

MCSE of a mean: sd / sqrt(ESS of the draws); of an sd: the delta method on
the mean of the squared deviations, with their ESS (Vehtari et al. 2021,
appendix).  Both ESSs here are of the raw draws (no rank normalisation), as a
mean's MCSE needs.

With ``--simulated``, only part 2, on tests/impute_sim.py's data (every
response type at both levels, ``--units`` schools of ``--pupils`` pupils, by
default the 150 x 20 of tests/test_impute_simulation.py), for the conditional
and the marginal algorithm.

With ``--cost``, only the seconds per iteration with step 6 off and on.

Run (about 10 minutes on 2 busy cores with the defaults):
    python bench/imputation_mixing.py [--iterations 10000] [--long 100000] [--csv bench/results/imputation_mixing]
    python bench/imputation_mixing.py --simulated --long 20000 --check 10000
    python bench/imputation_mixing.py --cost
"""
from __future__ import annotations

import argparse
import sys
import time
import warnings
from pathlib import Path

import numpy as np
import pandas as pd

from statjr_py import RunStatJR
from statjr_py.diagnostics import _multichain_ess, ess_bulk, split_chains
from statjr_py.examples import WORKED_IMPUTATION
from statjr_py.registry import get_template


def use_expansion(on: bool) -> None:
    """Switch step 6 on or off (the template's module-level flag)."""
    sys.modules[type(get_template("ImputeModel")).__module__].PARAMETER_EXPANSION = on


def run(expansion: bool, chains: int, burnin: int, iterations: int, seed: int,
        processes: int = 2, data="tutmiss", invars=None) -> tuple[dict[str, np.ndarray], float]:
    """Draws after burn-in, parameter -> (chains, iterations), and the wall time."""
    use_expansion(expansion)
    invars = {**(invars or WORKED_IMPUTATION), "numimpute": str(chains),
              "impute1st": str(burnin + iterations), "imputeevery": "1"}
    t0 = time.perf_counter()
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        res = RunStatJR("ImputeModel", data, invars,
                        {"nchains": chains, "seed": seed, "diagnostics": False, "processes": processes})
    wall = time.perf_counter() - t0
    out = res["out"]
    out = out[out["iteration"] > burnin]
    params = [c for c in out.columns if c not in ("chain", "iteration")]
    draws = {p: np.stack([g[p].to_numpy() for _, g in out.groupby("chain")]) for p in params}
    return draws, wall


def ess_mean(x: np.ndarray) -> float:
    """ESS of the mean of the draws, split chains, no rank normalisation."""
    return float(_multichain_ess(split_chains(x)))


def moments(x: np.ndarray) -> tuple[float, float, float, float]:
    """Mean, sd, MCSE of the mean, MCSE of the sd."""
    mean, sd = float(x.mean()), float(x.std(ddof=1))
    d = (x - mean) ** 2
    mcse_mean = sd / np.sqrt(ess_mean(x))
    mcse_var = float(d.std(ddof=1)) / np.sqrt(ess_mean(d))
    return mean, sd, mcse_mean, mcse_var / (2 * sd)


def seconds_per_iteration(expansion: bool, iterations: int = 3000) -> float:
    """CPU seconds per iteration of one chain (CPU time, so that a loaded
    machine's waiting is not counted), after a compile outside the timing."""
    run(expansion, 1, 10, 10, 1, processes=1)  # compiles
    t0 = time.process_time()
    run(expansion, 1, 10, iterations, 2, processes=1)
    return (time.process_time() - t0) / (iterations + 10)


def cost(a) -> int:
    """Seconds per iteration with step 6 off and on, alternately in one process.

    One chain, the worked example (1000 + 3 x 50 iterations) and Chem97 at
    bench/speed.py's settings (200 + 2 x 50), best of ``--repeats`` each:
    alternating keeps a shared machine's load from favouring either side.
    """
    sys.path.insert(0, str(Path(__file__).parent))
    import speed  # bench/speed.py: Chem97 as the speed figures use it

    chem = {"numlevs": "Yes", "L2ID": "school", "yimp1": "gcsescore,age,female", "bin1_1": "Normal",
            "bin1_2": "Normal", "bin1_3": "Binary", "ximp1_0": "cons", "ximp1_1": "cons",
            "ximp1_2": "cons", "want2": "No", "condmarg": "Yes", "numimpute": "2", "impute1st": "200",
            "imputeevery": "50"}
    cases = {"worked example": ("tutmiss", {**WORKED_IMPUTATION, "numimpute": "3", "impute1st": "1000",
                                            "imputeevery": "50"}, 1150),
             "Chem97": (speed.chem97(), chem, 250)}
    opts = {"diagnostics": False, "nchains": 1, "processes": 1, "seed": 3}
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        for name, (data, invars, iters) in cases.items():
            times = {False: [], True: []}
            for on in (False, True):  # compile outside the timing
                use_expansion(on)
                RunStatJR("ImputeModel", data, {**invars, "impute1st": "5", "imputeevery": "5"}, opts)
            for _ in range(a.repeats):
                for on in (False, True):
                    use_expansion(on)
                    t0 = time.perf_counter()
                    RunStatJR("ImputeModel", data, invars, opts)
                    times[on].append(time.perf_counter() - t0)
            off, on = (min(times[k]) / iters * 1e3 for k in (False, True))
            print(f"{name}: step 6 off {off:.3f} ms, on {on:.3f} ms per iteration (x{on / off:.2f})")
    use_expansion(True)
    return 0


def compare(a, data="tutmiss", invars=None) -> pd.DataFrame:
    """Posterior of every parameter: a long run of the old sampler against the new one."""
    old, wall_old = run(False, a.chains, a.burnin, a.long, a.seed + 1, data=data, invars=invars)
    new, wall_new = run(True, a.chains, a.burnin, a.check, a.seed + 2, data=data, invars=invars)
    table = []
    for p in old:
        m0, s0, em0, es0 = moments(old[p])
        m1, s1, em1, es1 = moments(new[p])
        table.append({"term": p, "mean_old": m0, "mean_new": m1,
                      "z_mean": (m1 - m0) / np.hypot(em0, em1),
                      "sd_old": s0, "sd_new": s1, "z_sd": (s1 - s0) / np.hypot(es0, es1),
                      "mcse_mean_old": em0, "mcse_mean_new": em1,
                      "ess_per_1000_old": ess_bulk(old[p]) / (a.chains * a.long / 1000),
                      "ess_per_1000_new": ess_bulk(new[p]) / (a.chains * a.check / 1000)})
    print(f"\nPosterior: old sampler {a.chains} x {a.long} ({wall_old:.0f} s) against new "
          f"{a.chains} x {a.check} ({wall_new:.0f} s); z = difference / combined MCSE")
    return pd.DataFrame(table).set_index("term")


def simulated(a) -> int:
    """The same comparison on tests/impute_sim.py's data: every response type at
    both levels (Ordered and Unordered thresholds and regions), both algorithms."""
    sys.path.insert(0, str(Path(__file__).resolve().parent.parent / "tests"))
    import impute_sim as sim

    data = sim.simulate(1, J=a.units, nj=a.pupils)[1]
    worst = 0.0
    for cm in ("Yes", "No"):
        post = compare(a, data, {**sim.INVARS, "condmarg": cm})
        print(f"condmarg {cm}, {a.units} units of {a.pupils}:")
        print(post[["mean_old", "mean_new", "z_mean", "sd_old", "sd_new", "z_sd", "ess_per_1000_old",
                    "ess_per_1000_new"]].round(3).to_string())
        w = post[["z_mean", "z_sd"]].abs().max()
        print(f"largest |z|: mean {w['z_mean']:.2f}, sd {w['z_sd']:.2f} over {len(post)} parameters")
        worst = max(worst, w.max())
        if a.csv:
            post.to_csv(f"{a.csv}_simulated_{cm}.csv")
    return 0 if worst < 4 else 1


def main(argv=None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("--chains", type=int, default=3)
    ap.add_argument("--burnin", type=int, default=2000)
    ap.add_argument("--iterations", type=int, default=10000)
    ap.add_argument("--long", type=int, default=100000, help="iterations per chain, old sampler")
    ap.add_argument("--check", type=int, default=30000, help="iterations per chain, new sampler")
    ap.add_argument("--seed", type=int, default=1)
    ap.add_argument("--csv", default=None, help="prefix for _ess.csv and _posterior.csv")
    ap.add_argument("--simulated", action="store_true",
                    help="only the posterior comparison, on tests/impute_sim.py's data")
    ap.add_argument("--units", type=int, default=150, help="level-2 units of the simulated data")
    ap.add_argument("--pupils", type=int, default=20, help="level-1 units per level-2 unit, simulated data")
    ap.add_argument("--cost", action="store_true",
                    help="only the cost per iteration, step 6 off and on, worked example and Chem97")
    ap.add_argument("--repeats", type=int, default=3, help="alternating repeats for --cost")
    a = ap.parse_args(argv)
    pd.set_option("display.width", 200, "display.max_rows", 100)
    if a.cost:
        return cost(a)
    if a.simulated:
        return simulated(a)

    per_1000 = a.chains * a.iterations / 1000
    rows = {}
    for label, on in (("old", False), ("new", True)):
        draws, wall = run(on, a.chains, a.burnin, a.iterations, a.seed)
        rows[label] = {p: ess_bulk(x) / per_1000 for p, x in draws.items()}
        print(f"{label}: {a.chains} chains x {a.burnin}+{a.iterations} iterations in {wall:.0f} s",
              flush=True)
    ess = pd.DataFrame({"ess_per_1000_old": rows["old"], "ess_per_1000_new": rows["new"]})
    ess["ratio"] = ess["ess_per_1000_new"] / ess["ess_per_1000_old"]
    timing = {label: seconds_per_iteration(on) for label, on in (("old", False), ("new", True))}
    print(f"\nBulk ESS per 1000 iterations ({a.chains} chains x {a.iterations} after {a.burnin}, "
          f"seed {a.seed})")
    print(ess.round(2).to_string())
    print(f"CPU seconds per iteration, one chain: old {timing['old']:.2e}, new {timing['new']:.2e} "
          f"(x{timing['new'] / timing['old']:.2f}); worst ratio of ESS per second "
          f"{(ess['ratio'] * timing['old'] / timing['new']).min():.1f}")

    post = compare(a)
    print(post.round(4).to_string())
    ratio = post["ess_per_1000_new"] / post["ess_per_1000_old"]
    print(f"long runs: ESS per 1000 iterations of omega_u(girlmiss,girlmiss) "
          f"{post.loc['omega_u(girlmiss,girlmiss)', 'ess_per_1000_old']:.2f} -> "
          f"{post.loc['omega_u(girlmiss,girlmiss)', 'ess_per_1000_new']:.2f} "
          f"(x{ratio['omega_u(girlmiss,girlmiss)']:.1f}); smallest ratio {ratio.min():.2f}")
    worst = post[["z_mean", "z_sd"]].abs().max()
    print(f"largest |z|: mean {worst['z_mean']:.2f}, sd {worst['z_sd']:.2f} (want < 4)")
    if a.csv:
        ess.to_csv(a.csv + "_ess.csv")
        post.to_csv(a.csv + "_posterior.csv")
    return 0 if (worst < 4).all() else 1


if __name__ == "__main__":
    sys.exit(main())
