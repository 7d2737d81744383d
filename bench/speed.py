"""Speed of statjr-py against R's jomo, measured side by side in one run (not a test).

    python bench/speed.py worked      # the seed's imputation model, one chain, vs jomo
    python bench/speed.py scale       # Chem97-sized data (31,022 pupils, 2,410 schools) vs jomo
    python bench/speed.py e2e         # 2LevelImpute end to end vs jomo + lmer + mitml
    python bench/speed.py growth      # time per iteration from 1,000 to 1,000,000 rows (PNG)
    python bench/speed.py parallel    # processes 2 against 1 on 4 imputations
    python bench/speed.py all

R parts need `apt-get install r-base-core r-cran-jomo r-cran-lme4 r-cran-mitml
r-cran-mlmrev`; without R they are skipped with a note.  On these shared
machines only ratios measured in the same run mean anything.
"""
from __future__ import annotations

import argparse
import os
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

sys.path.insert(0, str(Path(__file__).resolve().parent))
from jomo_compare import R_JOMO_DATA, rscript  # noqa: E402  (the same data and R runner in both)

HERE = Path(__file__).resolve().parent
IMPUTE = WORKED_IMPUTATION  # the seed's imputation model
MOI = {"MOIlevel": "2 levels", "MOIdist": "Normal", "MOIslope": "No", "y": "normexam",
       "x": "cons,standlrtmiss,girlmiss,schgendmiss.cat", "burnin": "100", "iterations": "5000"}

R_WORKED = r"""
suppressPackageStartupMessages({library(jomo); library(lme4); library(mitml)})
a <- commandArgs(TRUE); d <- read.csv(a[1]); mode <- a[2]
""" + R_JOMO_DATA + r"""
set.seed(1)
t0 <- proc.time()[["elapsed"]]
imp <- jomo(Y = Y, Y2 = Y2, X = X, X2 = X2, clus = d$school, nburn = 1000, nbetween = 50, nimp = 4, output = 0)
t_jomo <- proc.time()[["elapsed"]] - t0
t_fit <- 0
if (mode == "e2e") {
  t0 <- proc.time()[["elapsed"]]
  l <- jomo2mitml.list(imp)
  fits <- with(l, lmer(normexam ~ standlrtmiss + girlmiss + factor(schgendmiss, levels = c(2, 0, 1)) + (1 | clus), REML = FALSE))
  est <- testEstimates(fits, extra.pars = TRUE)
  cc <- lmer(normexam ~ standlrtmiss + girlmiss + factor(schgendmiss, levels = c(2, 0, 1)) + (1 | school), d, REML = FALSE)
  t_fit <- proc.time()[["elapsed"]] - t0
}
cat("JSON:", sprintf('{"jomo": %.4f, "fit": %.4f, "version": "%s"}', t_jomo, t_fit, packageVersion("jomo")))
"""

R_SCALE = r"""
suppressPackageStartupMessages(library(jomo))
a <- commandArgs(TRUE); d <- read.csv(a[1]); nburn <- as.integer(a[2]); nbetween <- as.integer(a[3])
Y <- data.frame(gcsescore = d$gcsescore, age = d$age, female = factor(d$female))
X <- data.frame(cons = rep(1, nrow(d)))
set.seed(1)
t0 <- proc.time()[["elapsed"]]
imp <- jomo(Y = Y, X = X, clus = d$school, nburn = nburn, nbetween = nbetween, nimp = 2, output = 0)
cat("JSON:", sprintf('{"jomo": %.4f}', proc.time()[["elapsed"]] - t0))
"""


def timed(fn, repeat: int = 3) -> float:
    """Best of ``repeat`` wall times (the least disturbed by other load)."""
    best = np.inf
    for _ in range(repeat):
        t0 = time.perf_counter()
        fn()
        best = min(best, time.perf_counter() - t0)
    return best


def worked(args) -> None:
    frame = load_dataset("tutmiss").frame
    opts = {"diagnostics": False, "processes": 1, "seed": 1}
    RunStatJR("ImputeModel", frame, IMPUTE, opts)  # warm cache
    ours = timed(lambda: RunStatJR("ImputeModel", frame, IMPUTE, opts))
    iters = 1000 + 3 * 50
    print(f"worked example, one chain, {iters} iterations, 4 imputations:")
    print(f"  statjr-py ImputeModel: {ours:.3f} s ({iters / ours:.0f} iterations/s)")
    with tempfile.TemporaryDirectory() as tmp:
        csv = Path(tmp) / "tutmiss.csv"
        frame.to_csv(csv, index=False)
        r = rscript(R_WORKED, str(csv), "impute")
    if r:
        print(f"  jomo {r['version']} (nburn=1000, nbetween=50, nimp=4): {r['jomo']:.3f} s "
              f"({iters / r['jomo']:.0f} iterations/s)")
        print(f"  ratio jomo / statjr-py: {r['jomo'] / ours:.1f}  (goal >= 10)")


def chem97() -> pd.DataFrame:
    """mlmRev's Chem97 with gcsescore, age and gender made missing at random."""
    path = Path(tempfile.gettempdir()) / "chem97.csv"
    if not path.exists() and shutil.which("Rscript"):
        subprocess.run(["Rscript", "-e", f"data(Chem97, package='mlmRev'); write.csv(Chem97, '{path}', "
                        "row.names=FALSE)"], capture_output=True)
    if path.exists():
        d = pd.read_csv(path)
        d = pd.DataFrame({"school": d["school"], "score": d["score"].astype(float),
                          "gcsescore": d["gcsescore"], "age": d["age"].astype(float),
                          "female": (d["gender"] == "F").astype(float)})
        source = "mlmRev Chem97"
    else:  # the same shape, simulated
        rng = np.random.default_rng(97)
        school = np.sort(rng.integers(1, 2411, 31022))
        u = rng.normal(0, 0.5, 2411)[school - 1]
        g = 6 + u + rng.normal(0, 0.8, school.size)
        d = pd.DataFrame({"school": school, "score": np.clip(np.round(g), 0, 10), "gcsescore": g,
                          "age": rng.normal(0, 3.5, school.size),
                          "female": (rng.uniform(size=school.size) < 0.45).astype(float)})
        source = "simulated data of Chem97's shape"
    rng = np.random.default_rng(1)
    z = (d["score"] - d["score"].mean()) / d["score"].std()
    for col in ("gcsescore", "age", "female"):  # MAR on the fully observed A-level score
        p = 1 / (1 + np.exp(-(np.log(0.2 / 0.8) + 0.5 * z)))
        d.loc[rng.uniform(size=len(d)) < p, col] = np.nan
    d.attrs["source"] = source
    return d


def scale(args) -> None:
    d = chem97()
    inv = {"numlevs": "Yes", "L2ID": "school", "yimp1": "gcsescore,age,female", "bin1_1": "Normal",
           "bin1_2": "Normal", "bin1_3": "Binary", "ximp1_0": "cons", "ximp1_1": "cons", "ximp1_2": "cons",
           "want2": "No", "condmarg": "Yes", "numimpute": "2", "impute1st": "200", "imputeevery": "50"}
    opts = {"diagnostics": False, "processes": 1}
    RunStatJR("ImputeModel", d, {**inv, "impute1st": "5", "imputeevery": "5"}, opts)  # warm cache
    code = ("import time, pandas as pd; from statjr_py import RunStatJR; "
            f"d = pd.read_pickle({str(Path(tempfile.gettempdir()) / 'chem97.pkl')!r}); "
            f"t = time.perf_counter(); RunStatJR('ImputeModel', d, {inv!r}, {opts!r}); "
            "print(time.perf_counter() - t)")
    d.to_pickle(Path(tempfile.gettempdir()) / "chem97.pkl")
    proc = subprocess.run(["/usr/bin/time", "-f", "MAXRSS %M", sys.executable, "-c", code],
                          capture_output=True, text=True, env={**os.environ})
    ours = float(proc.stdout.strip().splitlines()[-1])
    peak = int([ln for ln in proc.stderr.splitlines() if ln.startswith("MAXRSS")][0].split()[1]) / 1024
    iters = 200 + 50
    print(f"scale: {d.attrs['source']}, {len(d)} pupils in {d['school'].nunique()} schools, "
          "gcsescore, age, female 20% missing at random:")
    print(f"  statjr-py: {iters} iterations in {ours:.2f} s = {ours / iters * 1e3:.1f} ms/iteration, "
          f"peak memory {peak:.0f} MB (whole Python process)")
    with tempfile.TemporaryDirectory() as tmp:
        csv = Path(tmp) / "chem97.csv"
        d.to_csv(csv, index=False)
        jburn, jbetween = args.jomo_burn, args.jomo_between
        r = rscript(R_SCALE, str(csv), str(jburn), str(jbetween))
    if r:
        jiters = jburn + jbetween
        per = r["jomo"] / jiters
        print(f"  jomo: {jiters} iterations in {r['jomo']:.1f} s = {per * 1e3:.0f} ms/iteration, "
              f"peak memory {r.get('peak_mb', float('nan')):.0f} MB")
        print(f"  ratio jomo / statjr-py per iteration: {per / (ours / iters):.1f}  (goal >= 20)")


def e2e(args) -> None:
    frame = load_dataset("tutmiss").frame
    inv = {**IMPUTE, **MOI}
    opts = {"diagnostics": False, "seed": 1}
    with tempfile.TemporaryDirectory() as cache:
        old = os.environ.get("STATJR_CACHE")
        os.environ["STATJR_CACHE"] = cache
        from statjr_py import build
        build.forget_loaded()
        t0 = time.perf_counter()
        RunStatJR("2LevelImpute", frame, inv, opts)
        cold = time.perf_counter() - t0
        compiles = build.compile_count()
        if old is None:
            del os.environ["STATJR_CACHE"]
        else:
            os.environ["STATJR_CACHE"] = old
        build.forget_loaded()
    RunStatJR("2LevelImpute", frame, inv, opts)
    warm = timed(lambda: RunStatJR("2LevelImpute", frame, inv, opts))
    print("end to end: the worked example (4 imputations, 4 MOI fits of 5000 iterations, complete "
          "cases, Rubin's rules, every output but the SVG plots):")
    print(f"  statjr-py 2LevelImpute, warm cache: {warm:.2f} s")
    print(f"  statjr-py cold first run: {cold:.2f} s, of which compiling "
          f"{compiles} distinct models ~ {cold - warm:.1f} s")
    with tempfile.TemporaryDirectory() as tmp:
        csv = Path(tmp) / "tutmiss.csv"
        frame.to_csv(csv, index=False)
        r = rscript(R_WORKED, str(csv), "e2e")
    if r:
        total = r["jomo"] + r["fit"]
        print(f"  R: jomo {r['jomo']:.2f} s + lmer x4 + complete cases + testEstimates {r['fit']:.2f} s "
              f"= {total:.2f} s")
        print(f"  ratio R / statjr-py (warm): {total / warm:.1f}  (goal >= 5)")


def growth(args) -> None:
    from statjr_py.build import build
    from statjr_py.codegen import sampler_source
    from statjr_py.engine import prepare
    from statjr_py.run import Sampler

    sizes = [1_000, 10_000, 100_000, 1_000_000][: args.max_power]
    per = []
    for n in sizes:
        rng = np.random.default_rng(n)
        school = np.repeat(np.arange(n // 50), 50)
        u = rng.normal(0, 0.5, n // 50)[school]
        x = u + rng.normal(size=n)
        f = pd.DataFrame({"school": school, "y": x + rng.normal(size=n), "x": x,
                          "b": (x + rng.normal(size=n) > 0).astype(float)})
        for c in ("x", "b"):
            f.loc[rng.uniform(size=n) < 0.2, c] = np.nan
        inv = {"numlevs": "Yes", "L2ID": "school", "yimp1": "y,x,b", "bin1_1": "Normal", "bin1_2": "Normal",
               "bin1_3": "Binary", "ximp1_0": "cons", "ximp1_1": "cons", "ximp1_2": "cons", "want2": "No",
               "condmarg": "Yes", "numimpute": "1", "impute1st": "1", "imputeevery": "1"}
        job = prepare("ImputeModel", f, inv, {"processes": 1})
        spec = job.template.model(job.data, job.answers)
        module = build(sampler_source(job.template.cpp_file(), spec.context, spec.arrays, "ImputeModel"))
        sampler = Sampler(module, spec.arrays, 1)
        sampler.sample(5, adapt=True, store=False)
        iters = max(5, 2_000_000 // n)
        t = timed(lambda: sampler.sample(iters, store=False), repeat=2) / iters
        sampler.close()
        per.append(t)
        print(f"  {n:>9,} rows, {n // 50:>6,} schools: {t * 1e3:9.3f} ms/iteration, "
              f"{t / n * 1e9:6.1f} ns per row")
    import matplotlib
    matplotlib.use("Agg")
    import matplotlib.pyplot as plt
    fig, ax = plt.subplots(figsize=(6, 4))
    ax.loglog(sizes, np.array(per) * 1e3, "o-", label="statjr-py ImputeModel")
    ax.loglog(sizes, per[0] * 1e3 * np.array(sizes) / sizes[0], "--", color="grey", label="linear")
    ax.set(xlabel="rows (50 per school)", ylabel="ms per iteration",
           title="Time per iteration: y, x (Normal), b (Binary), 20% missing")
    ax.legend()
    fig.tight_layout()
    out = HERE.parent / "docs" / "growth.png"
    fig.savefig(out, dpi=110)
    print(f"  plot: {out}")


def parallel(args) -> None:
    """Wall time and throughput with processes 1 and 2 (chains = min(numimpute, processes)).

    Each chain burns in on its own, so two chains do more iterations in all; the
    wall-time gain depends on how long the burn-in is next to the spacing.
    """
    frame = load_dataset("tutmiss").frame
    print("parallel chains, 4 imputations:")
    for first, every in ((3000, 100), (1000, 1000)):
        inv = {**IMPUTE, "impute1st": str(first), "imputeevery": str(every)}
        RunStatJR("ImputeModel", frame, inv, {"diagnostics": False, "processes": 2})
        one = timed(lambda: RunStatJR("ImputeModel", frame, inv, {"diagnostics": False, "processes": 1}))
        two = timed(lambda: RunStatJR("ImputeModel", frame, inv, {"diagnostics": False, "processes": 2}))
        it1, it2 = first + 3 * every, 2 * (first + every)
        print(f"  impute1st {first}, imputeevery {every}: processes 1 {one:.2f} s ({it1} iterations), "
              f"processes 2 {two:.2f} s ({it2} iterations in two chains): wall-time speedup "
              f"{one / two:.2f}, throughput {it2 / two / (it1 / one):.2f}x")


def main(argv=None) -> int:
    p = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    p.add_argument("what", choices=["worked", "scale", "e2e", "growth", "parallel", "all"])
    p.add_argument("--jomo-burn", type=int, default=60, help="jomo iterations at scale (slow)")
    p.add_argument("--jomo-between", type=int, default=20)
    p.add_argument("--max-power", type=int, default=4, help="growth: up to 10^(2+k) rows")
    args = p.parse_args(argv)
    print(f"machine: {os.cpu_count()} cores; {time.strftime('%Y-%m-%d')}")
    for name in (["worked", "scale", "e2e", "growth", "parallel"] if args.what == "all" else [args.what]):
        globals()[name](args)
    return 0


if __name__ == "__main__":
    sys.exit(main())
