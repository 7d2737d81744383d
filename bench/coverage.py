"""Bias and coverage of 2LevelImpute by simulation (not a CI test).

Each scenario draws datasets from a known two-level model, removes values,
runs 2LevelImpute (M imputations, the MOI on each, Rubin's rules, and the
complete-case fit) and checks the pooled 95% intervals against the truth.

    python bench/coverage.py --reps 200 --workers 2        # the joint model (JM)
    python bench/coverage.py --reps 1000 --workers 2 --smc --out bench/results/coverage_smc_1000.csv
    python bench/coverage.py --reps 4 --scenarios mcar_x   # a smoke run

Results (one row per replication x method x parameter, with the seed) go to
--out (default bench/results/coverage.csv) and a summary beside it.  The
tables and plots of docs/validation.md are made from those files by
--report --out A.csv[,B.csv] --png docs/X.png.

The data: J schools of nj pupils.  x (level 1, Normal) has a school effect;
xb (level 1, Binary) and xc (level 1, 3 unordered categories) come from
latent normals correlated with x; w (level 2, Binary) and wc (level 2, 3
categories) from school-level latent normals correlated with the school
effect of x.  The MOI is y = b0 + b1 x + b2 xb + b3 w + u_j + e (or with a
random slope on x), so the joint latent-normal imputation model holds
exactly for x and approximately for the categorical covariates (y given a
latent's category is not exactly linear in it).

The xo scenarios (issue #15) are separate data, 50 schools of 30 pupils
(simulate_ordered): y ~ cons + xo.cat with xo an ordered 3-category
covariate whose effect is monotone (mar_xo_mono) or not (mar_xo_nonmono).
Each dataset is imputed with xo Ordered and with xo Unordered (methods
MI-Ordered, MI-Unordered) and the MOI is also fitted to the data before
values were removed (CD), so the rows show what the Ordered type's one
latent costs when the effect is not monotone:

    python bench/coverage.py --reps 200 --workers 1 --scenarios mar_xo_mono,mar_xo_nonmono \
        --out bench/results/coverage_xo.csv
"""
from __future__ import annotations

import argparse
import logging
import os
import sys
import time
from concurrent.futures import ProcessPoolExecutor
from pathlib import Path

import numpy as np
import pandas as pd

HERE = Path(__file__).resolve().parent
RESULTS = HERE / "results"

TRUTH = {"cons": 0.5, "x": 0.6, "xb": 0.4, "w": -0.5, "sigma2_u": 0.3, "sigma2_e": 1.0}
TRUTH_CAT = {"xc_0": 0.5, "xc_1": -0.3}
TRUTH_RS = {"omega_u(cons,cons)": 0.3, "omega_u(cons,x)": 0.05, "omega_u(x,x)": 0.1}

# name: (covariate made missing, mechanism, MOI with random slope?)
SCENARIOS = {
    "mcar_x": ("x", "MCAR", False),
    "mar_x": ("x", "MAR", False),
    "mar_xb": ("xb", "MAR", False),
    "mar_xc": ("xc", "MAR", False),
    "mar_w": ("w", "MAR", False),
    "mar_wc": ("wc", "MAR", False),
    "mar_x_slope": ("x", "MAR", True),
    # issue #15: a level-1 ordered covariate xo whose effect on y is monotone or not,
    # imputed as Ordered and as Unordered from the same datasets (see simulate_ordered)
    "mar_xo_mono": ("xo", "MAR", False),
    "mar_xo_nonmono": ("xo", "MAR", False),
}

#: The mean of y - b0 - u_j - e in categories 0, 1, 2 of xo: rising steadily, or
#: peaking in the middle (as social class and attainment in mlmRev's ScotsSec).
XO_MEANS = {"mar_xo_mono": (0.0, 0.3, 0.6), "mar_xo_nonmono": (0.0, 0.5, 0.1)}
#: Each xo dataset is imputed twice, with xo of these types in the joint model.
XO_TYPES = ("Ordered", "Unordered")


FIRST_SEED = 20261125


def replication_seed(scenario: str, rep: int, first: int = FIRST_SEED) -> int:
    """The seed of one replication: it depends on the scenario, not on the order asked,
    so reruns (and bench/complete_data_check.py, bench/peer) see the same data."""
    return first + 1000 * list(SCENARIOS).index(scenario) + rep


def simulate(seed: int, scenario: str, J: int = 50, nj: int | None = None, missing: float = 0.3) -> tuple:
    """(data with missing values, true MOI parameters, MOI explanatory variables).

    nj, the pupils per school, defaults to 20 (30 in the xo scenarios).
    """
    var, mech, slope = SCENARIOS[scenario]
    if var == "xo":
        return simulate_ordered(seed, scenario, J, nj or 30, missing)
    nj = nj or 20
    rng = np.random.default_rng(seed)
    n = J * nj
    school = np.repeat(np.arange(1, J + 1), nj)
    a = rng.normal(0, np.sqrt(0.5), J)                 # school effect of x
    x = a[school - 1] + rng.normal(0, 1, n) * np.sqrt(0.5)
    xb = (0.6 * x + rng.normal(0, 0.8, n) > 0).astype(float)
    lat = np.column_stack([0.5 * x, -0.4 * x]) + rng.multivariate_normal([0, 0], [[1, .5], [.5, 1]], n)
    xc = np.where(lat.max(axis=1) < 0, 2, lat.argmax(axis=1)).astype(float)
    w = (0.8 * a + rng.normal(0, 0.8, J) > 0).astype(float)
    wlat = np.column_stack([0.7 * a, -0.5 * a]) + rng.multivariate_normal([0, 0], [[1, .5], [.5, 1]], J)
    wc = np.where(wlat.max(axis=1) < 0, 2, wlat.argmax(axis=1)).astype(float)
    if slope:
        omega = np.array([[TRUTH_RS["omega_u(cons,cons)"], TRUTH_RS["omega_u(cons,x)"]],
                          [TRUTH_RS["omega_u(cons,x)"], TRUTH_RS["omega_u(x,x)"]]])
        u = rng.multivariate_normal([0, 0], omega, J)
        re = u[school - 1, 0] + u[school - 1, 1] * x
    else:
        re = rng.normal(0, np.sqrt(TRUTH["sigma2_u"]), J)[school - 1]
    mu = TRUTH["cons"] + TRUTH["x"] * x + TRUTH["xb"] * xb + TRUTH["w"] * w[school - 1]
    if var in ("xc", "wc"):
        cat = xc if var == "xc" else wc[school - 1]
        mu = mu + TRUTH_CAT["xc_0"] * (cat == 0) + TRUTH_CAT["xc_1"] * (cat == 1)
    y = mu + re + rng.normal(0, np.sqrt(TRUTH["sigma2_e"]), n)
    f = pd.DataFrame({"school": school, "cons": 1.0, "y": y, "x": x, "xb": xb, "xc": xc,
                      "w": w[school - 1], "wc": wc[school - 1], "aux": x + rng.normal(0, 1, n)})
    f["xbar"] = f.groupby("school")["x"].transform("mean")  # school mean of x, for level-2 equations
    logit = np.log(missing / (1 - missing))
    if var in ("w", "wc"):  # whole schools: MAR on the school mean of y
        ybar = pd.Series(y).groupby(school).mean().to_numpy()
        score = logit + (1.0 * (ybar - ybar.mean()) / ybar.std() if mech == "MAR" else 0)
        gone = np.flatnonzero(rng.uniform(size=J) < 1 / (1 + np.exp(-score))) + 1
        f.loc[f["school"].isin(gone), var] = np.nan
    else:  # pupils: MAR on the outcome and a fully observed auxiliary
        z = (y - y.mean()) / y.std() + 0.5 * (f["aux"] - f["aux"].mean()) / f["aux"].std()
        score = logit + (1.0 * z if mech == "MAR" else 0)
        f.loc[rng.uniform(size=n) < 1 / (1 + np.exp(-score)), var] = np.nan
    xs = ["cons", "x", "xb", "w"] + ([f"{var}.cat"] if var in ("xc", "wc") else [])
    truth = dict(TRUTH)
    if var in ("xc", "wc"):
        truth.update({f"{var}_0": TRUTH_CAT["xc_0"], f"{var}_1": TRUTH_CAT["xc_1"]})
    if slope:
        del truth["sigma2_u"]
        truth.update(TRUTH_RS)
    return f, truth, xs


def simulate_ordered(seed: int, scenario: str, J: int, nj: int, missing: float) -> tuple:
    """The xo scenarios' data: y = b0 + (effect of xo's category) + u_j + e.

    xo (0, 1, 2) thresholds a latent normal with a school effect (variance 0.3 of
    1; cut points -0.5 and 0.5, so about 31/38/31%).  So xo is truly ordered,
    and an Ordered model of xo alone is right; what differs between the two
    scenarios is only how y depends on it (XO_MEANS).  The joint model ties y
    to xo through one latent when xo is Ordered, which forces the dependence
    to be monotone; Unordered gives each category its own latent.  xo is MAR
    on y alone, so that y, the part an Ordered JM gets wrong, drives its
    imputations.  The MOI is y ~ cons + xo.cat with a random intercept;
    category 2 is the reference.
    """
    rng = np.random.default_rng(seed)
    n = J * nj
    school = np.repeat(np.arange(1, J + 1), nj)
    latent = rng.normal(0, np.sqrt(0.3), J)[school - 1] + rng.normal(0, np.sqrt(0.7), n)
    xo = np.digitize(latent, [-0.5, 0.5]).astype(float)
    means = np.array(XO_MEANS[scenario])
    y = (TRUTH["cons"] + means[xo.astype(int)] + rng.normal(0, np.sqrt(TRUTH["sigma2_u"]), J)[school - 1]
         + rng.normal(0, np.sqrt(TRUTH["sigma2_e"]), n))
    f = pd.DataFrame({"school": school, "cons": 1.0, "y": y, "xo": xo})
    score = np.log(missing / (1 - missing)) + (y - y.mean()) / y.std()
    f.loc[rng.uniform(size=n) < 1 / (1 + np.exp(-score)), "xo"] = np.nan
    truth = {"cons": TRUTH["cons"] + means[2], "xo_0": means[0] - means[2], "xo_1": means[1] - means[2],
             "sigma2_u": TRUTH["sigma2_u"], "sigma2_e": TRUTH["sigma2_e"]}
    return f, truth, ["cons", "xo.cat"]


def invars(scenario: str, xs: list[str], m: int, first: int, every: int, burnin: int, iters: int,
           smc: bool = False, xo_type: str = "Ordered") -> dict:
    """2LevelImpute's inputs for a scenario (xo_type: how xo enters the joint model)."""
    var, _, slope = SCENARIOS[scenario]
    level2 = var in ("w", "wc")
    resp1 = ["y"] + ([var] if not level2 else [])
    if smc and level2:  # y leaves the joint model under smc: keep a level-1 response (the auxiliary)
        resp1.append("aux")
    types = {"x": "Normal", "xb": "Binary", "xc": "Unordered", "y": "Normal", "w": "Binary", "wc": "Unordered",
             "aux": "Normal", "xo": xo_type}
    inv = {"numlevs": "Yes", "L2ID": "school", "MOIlevel": "2 levels", "MOIdist": "Normal",
           "MOIslope": "Yes" if slope else "No", "y": "y", "x": ",".join(xs),
           "yimp1": ",".join(resp1), "condmarg": "Yes", "numimpute": str(m), "impute1st": str(first),
           "imputeevery": str(every), "burnin": str(burnin), "iterations": str(iters),
           "smc": "Yes" if smc else "No"}
    if slope:
        inv["z"] = "cons,x"
    # the complete covariates explain the responses; aux is an auxiliary variable
    # (the xo scenarios have neither: y and xo are the only variables)
    complete = [c for c in ["x", "xb", "w"] if c != var] if var != "xo" else []
    for i, r in enumerate(resp1):
        inv[f"bin1_{i + 1}"] = types[r]
        inv[f"ximp1_{i}"] = ",".join(["cons"] + complete + (["aux"] if "aux" not in resp1 and var != "xo" else []))
        if types[r] in ("Ordered", "Unordered"):
            inv[f"ncats{r}"] = "3"
    if level2:
        inv["want2"] = "Yes"
        inv["yimp2"] = var
        inv["bin2_1"] = types[var]
        # The level-2 covariate's equation includes the other, complete level-2
        # covariate of the MOI (w) and the school mean of x: w and wc depend on
        # the school effect of x, which xbar measures.  Without w, w's coefficient
        # was biased; without xbar, x's and wc's (docs/validation.md).
        if var == "wc":
            inv["ncatswc"] = "3"
            inv["ximp2_0_0"] = inv["ximp2_0_1"] = "cons,w,xbar"
        else:
            inv["ximp2_0"] = "cons,xbar"
    else:
        inv["want2"] = "No"
    return inv


def replicate(task: tuple) -> list[dict]:
    """One dataset's rows: MI and complete cases (CC) for each parameter.

    In the xo scenarios the dataset is imputed twice, with xo Ordered and then
    Unordered in the joint model (same seed), giving methods MI-Ordered and
    MI-Unordered; the complete-case rows come from the first run (they do not
    depend on the imputation), and CD rows from 2LevelMod fitted to the same
    data before values were removed.
    """
    scenario, rep, seed, settings = task
    from statjr_py import RunStatJR

    logging.getLogger("statjr_py").setLevel(logging.ERROR)
    settings = dict(settings)
    schools = settings.pop("schools")
    frame, truth, xs = simulate(seed, scenario, J=schools)
    runs = [("MI", {})] if SCENARIOS[scenario][0] != "xo" else [(f"MI-{t}", {"xo_type": t}) for t in XO_TYPES]
    tables = []
    for k, (label, extra) in enumerate(runs):
        res = RunStatJR("2LevelImpute", frame, invars(scenario, xs, **settings, **extra),
                        {"seed": seed % (2 ** 31), "processes": 1, "diagnostics": False, "nchains": 1})
        tables.append((label, res["ResultsTable:Imputation"]))
        if k == 0:
            complete_cases = res["ResultsTable:CompleteCases"]
    tables.append(("CC", complete_cases))
    if SCENARIOS[scenario][0] == "xo":
        full, _, _ = simulate(seed, scenario, J=schools, missing=1e-9)
        assert not full.isna().any().any()
        fit = RunStatJR("2LevelMod", full, {"y": "y", "L2ID": "school", "D": "Normal", "x": ",".join(xs)},
                        {"burnin": settings["burnin"], "iterations": settings["iters"], "nchains": 1,
                         "seed": seed % (2 ** 31), "diagnostics": False, "processes": 1})
        tables.append(("CD", fit["ModelResults"].rename(
            columns={"mean": "estimate", "sd": "se", "2.5%": "ci_lower", "97.5%": "ci_upper"})))
    rows = []
    for method, table in tables:
        t = table.set_index("term")
        for term, value in truth.items():
            rows.append({"scenario": scenario, "rep": rep, "seed": seed, "method": method, "term": term,
                         "truth": value, "estimate": t.loc[term, "estimate"], "se": t.loc[term, "se"],
                         "covered": bool(t.loc[term, "ci_lower"] <= value <= t.loc[term, "ci_upper"])})
    return rows


def summarise(results: pd.DataFrame) -> pd.DataFrame:
    """Bias, empirical SE, mean SE, coverage, each with its Monte Carlo error."""
    out = []
    for (scenario, method, term), g in results.groupby(["scenario", "method", "term"], sort=False):
        r = len(g)
        err = g["estimate"] - g["truth"]
        emp = g["estimate"].std(ddof=1)
        cov = g["covered"].mean()
        out.append({"scenario": scenario, "method": method, "term": term, "reps": r,
                    "bias": err.mean(), "bias_mcse": emp / np.sqrt(r),
                    "emp_se": emp, "emp_se_mcse": emp / np.sqrt(2 * (r - 1)),
                    "mean_se": g["se"].mean(), "se_ratio": g["se"].mean() / emp,
                    "coverage": cov, "coverage_mcse": np.sqrt(cov * (1 - cov) / r)})
    return pd.DataFrame(out)


def report(results_csvs: list[Path], png: Path | None) -> str:
    """A Markdown table of runs' summary, and optionally a PNG of their coverages."""
    results = pd.concat([pd.read_csv(p) for p in results_csvs])
    s = summarise(results)
    if png is not None:
        plot_coverage(s, png)
    rows = ["| scenario | method | term | bias (MCSE) | bias / emp. SE | emp. SE (MCSE) | mean SE / emp. SE "
            "| coverage (MCSE) |", "|---|---|---|---|---|---|---|---|"]
    for _, r in s.iterrows():
        rows.append(f"| {r.scenario} | {r.method} | {r.term} | {r.bias:.3f} ({r.bias_mcse:.3f}) | "
                    f"{r.bias / r.emp_se:.2f} | {r.emp_se:.3f} ({r.emp_se_mcse:.3f}) | {r.se_ratio:.2f} | "
                    f"{r.coverage:.3f} ({r.coverage_mcse:.3f}) |")
    if "CD" in set(results["method"]):
        rows += ["", paired_table(results)]
    return "\n".join(rows)


def paired_table(results: pd.DataFrame) -> str:
    """The category effects of the xo scenarios, each method beside the complete data (CD).

    "MI - CD" is the mean over replications of a method's estimate minus the
    complete-data estimate from the same dataset: it removes the sampling error
    they share, so it shows what the missing values and their treatment add.
    """
    wide = results.pivot_table(index=["scenario", "rep", "term"], columns="method", values="estimate")
    s = summarise(results).set_index(["scenario", "method", "term"])
    rows = ["| scenario | term (truth) | method | bias (MCSE) | bias / emp. SE | mean SE / emp. SE "
            "| coverage (MCSE) | MI − CD (MCSE) |", "|---|---|---|---|---|---|---|---|"]
    for (scenario, method, term), r in s.iterrows():
        if not term.startswith("xo_"):
            continue
        truth = results.loc[(results["scenario"] == scenario) & (results["term"] == term), "truth"].iloc[0]
        paired = "—"
        if method != "CD":
            diff = (wide[method] - wide["CD"]).xs((scenario, term), level=("scenario", "term")).dropna()
            paired = f"{diff.mean():+.3f} ({diff.std() / np.sqrt(len(diff)):.3f})"
        rows.append(f"| {scenario} | {term} ({truth:g}) | {method} | {r.bias:+.3f} ({r.bias_mcse:.3f}) | "
                    f"{r.bias / r.emp_se:+.2f} | {r.se_ratio:.2f} | {r.coverage:.3f} ({r.coverage_mcse:.3f}) | "
                    f"{paired} |")
    return "\n".join(rows)


def plot_coverage(s: pd.DataFrame, png: Path) -> None:
    """Coverage of every fixed effect, each method side by side, with +-2 MCSE bars."""
    import matplotlib
    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    fixed = s[~s["term"].str.startswith(("sigma2_", "omega_"))]
    methods = list(dict.fromkeys(fixed["method"]))
    colours = dict(zip(["MI", "CC", "MI-Ordered", "MI-Unordered", "CD"],
                       ["tab:blue", "tab:red", "tab:orange", "tab:blue", "tab:green"]))
    fig, ax = plt.subplots(figsize=(11, 5))
    labels = []
    for i, ((scen, term), g) in enumerate(fixed.groupby(["scenario", "term"], sort=False)):
        labels.append(f"{scen}:{term}")
        for k, method in enumerate(methods):
            row = g[g["method"] == method]
            if row.empty:
                continue
            dx = 0.6 * ((k + 0.5) / len(methods) - 0.5)
            ax.errorbar(i + dx, row["coverage"].iloc[0], yerr=2 * row["coverage_mcse"].iloc[0], fmt="o",
                        color=colours.get(method), ms=4, label=method)
    handles, names = ax.get_legend_handles_labels()
    unique = dict(zip(names, handles))
    ax.axhspan(0.93, 0.97, color="0.9")
    ax.axhline(0.95, color="0.5", lw=0.8)
    ax.set_xticks(range(len(labels)))
    ax.set_xticklabels(labels, rotation=90, fontsize=7)
    ax.set_ylabel("coverage of the 95% interval (+- 2 MCSE)")
    ax.set_ylim(max(0.0, min(0.4, fixed["coverage"].min() - 0.05)), 1.01)
    ax.legend(unique.values(), unique.keys())
    fig.tight_layout()
    fig.savefig(png, dpi=110)


def main(argv=None) -> int:
    p = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    p.add_argument("--reps", type=int, default=200)
    p.add_argument("--workers", type=int, default=os.cpu_count() or 1)
    p.add_argument("--scenarios", default=",".join(SCENARIOS))
    p.add_argument("--seed", type=int, default=FIRST_SEED, help="first replication seed")
    p.add_argument("--m", type=int, default=5, help="imputations")
    p.add_argument("--first", type=int, default=500, help="impute1st")
    p.add_argument("--every", type=int, default=100, help="imputeevery")
    p.add_argument("--burnin", type=int, default=200)
    p.add_argument("--iters", type=int, default=1000)
    p.add_argument("--schools", type=int, default=50, help="level-2 units (of 20 pupils each; 30 for xo)")
    p.add_argument("--smc", action="store_true", help="compatible imputation (2LevelImpute's smc)")
    p.add_argument("--out", default=str(RESULTS / "coverage.csv"))
    p.add_argument("--report", action="store_true",
                   help="print the Markdown table of the earlier runs in --out (comma-separated; no new run)")
    p.add_argument("--png", help="with --report: also plot its coverages to this PNG")
    args = p.parse_args(argv)
    if args.report:
        print(report([Path(p) for p in args.out.split(",")], Path(args.png) if args.png else None))
        return 0
    settings = {"m": args.m, "first": args.first, "every": args.every, "burnin": args.burnin,
                "iters": args.iters, "smc": args.smc, "schools": args.schools}
    tasks = [(s, r, replication_seed(s, r, args.seed), settings)
             for s in args.scenarios.split(",") for r in range(args.reps)]
    t0 = time.time()
    rows = []
    with ProcessPoolExecutor(args.workers) as pool:
        for k, part in enumerate(pool.map(replicate, tasks, chunksize=1), 1):
            rows += part
            if k % 20 == 0 or k == len(tasks):
                print(f"{k}/{len(tasks)} replications, {time.time() - t0:.0f} s", file=sys.stderr, flush=True)
    results = pd.DataFrame(rows)
    Path(args.out).parent.mkdir(parents=True, exist_ok=True)
    results.to_csv(args.out, index=False, float_format="%.6g")
    summary = summarise(results)
    out = Path(args.out)
    summary.to_csv(out.with_name(out.stem + "_summary.csv"), index=False)
    with pd.option_context("display.width", 200, "display.max_rows", 500):
        print(summary.to_string(index=False, float_format=lambda v: f"{v:.3f}"))
    print(f"settings: {settings}; {args.reps} replications per scenario; {time.time() - t0:.0f} s")
    return 0


if __name__ == "__main__":
    sys.exit(main())
