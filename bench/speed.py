"""Speed of statjr-py as the user sees it, against R, measured side by side in one run (not a test).

    python bench/speed.py warm      # README's worked example, `statjr run ... --out`, warm cache, vs Rscript
    python bench/speed.py cold      # the same with an empty compile cache; compile seconds per module
                                    # (run it with the Python of a `pip install .`, as a newcomer has
                                    # it: an editable install has no kernel library built at install)
    python bench/speed.py compile   # those modules' compile seconds at -O2, with a precompiled header, at -O1
    python bench/speed.py sampler   # the imputation model alone, one chain, 1000 + 3x50 iterations, vs jomo
    python bench/speed.py scale     # Chem97 (31,022 pupils, 2,410 schools) vs jomo, and peak memory
    python bench/speed.py growth    # time per iteration from 1,000 to 1,000,000 rows
    python bench/speed.py impute    # `statjr run ImputeModel ... --out` alone (no R analogue)
    python bench/speed.py phases    # where those two commands spend their time: imports, run, plots, writing
    python bench/speed.py parallel  # processes 2 against 1 on 4 imputations (not part of `all`)
    python bench/speed.py all       # all but compile and parallel, then a summary table

Each comparison alternates statjr-py and R runs (A B A B ..., ``--pairs``, default
3), so both sides see the same load on these shared machines, and reports the
minimum and median of each; ratios are R / statjr-py, of medians (and of minima).
``warm``, ``cold`` and ``impute`` time whole processes, from start to exit, as a
user waits for them; ``sampler`` and ``scale`` time the sampler inside each
process.  R parts need `apt-get install r-base-core r-cran-jomo r-cran-lme4
r-cran-mitml r-cran-mlmrev`; without R they are skipped with a note.
"""
from __future__ import annotations

import argparse
import itertools
import json
import os
import re
import shutil
import statistics
import subprocess
import sys
import tempfile
import time
import warnings
from dataclasses import dataclass
from pathlib import Path
from typing import Callable

import numpy as np
import pandas as pd

from statjr_py import ConvergenceWarning, RunStatJR, load_dataset
from statjr_py.examples import WORKED_EXAMPLE, WORKED_IMPUTATION

sys.path.insert(0, str(Path(__file__).resolve().parent))
from jomo_compare import R_JOMO_DATA, rscript  # noqa: E402  (the same data and R runner in both)

#: The user's command: the console script beside this Python (not a version manager's shim).
_SCRIPT = Path(sys.executable).with_name("statjr")
STATJR = [str(_SCRIPT)] if _SCRIPT.exists() else [sys.executable, "-m", "statjr_py.cli"]

#: jomo's sampler alone on the worked example: the time of the jomo() call.
R_SAMPLER = r"""
suppressPackageStartupMessages(library(jomo))
a <- commandArgs(TRUE); d <- read.csv(a[1])
""" + R_JOMO_DATA + r"""
set.seed(1)
t0 <- proc.time()[["elapsed"]]
imp <- jomo(Y = Y, Y2 = Y2, X = X, X2 = X2, clus = d$school, nburn = 1000, nbetween = 50, nimp = 4, output = 0)
cat("JSON:", sprintf('{"jomo": %.4f}', proc.time()[["elapsed"]] - t0))
"""

#: What an R user runs for the worked example: impute, fit, pool, complete cases, write.
R_PIPELINE = r"""
suppressPackageStartupMessages({library(jomo); library(lme4); library(mitml)})
a <- commandArgs(TRUE); d <- read.csv(a[1]); out <- a[2]
""" + R_JOMO_DATA + r"""
set.seed(1)
imp <- jomo(Y = Y, Y2 = Y2, X = X, X2 = X2, clus = d$school, nburn = 1000, nbetween = 50, nimp = 4, output = 0)
l <- jomo2mitml.list(imp)
fits <- with(l, lmer(normexam ~ standlrtmiss + girlmiss + factor(schgendmiss, levels = c(2, 0, 1)) + (1 | clus),
                     REML = FALSE))
est <- testEstimates(fits, extra.pars = TRUE)
cc <- lmer(normexam ~ standlrtmiss + girlmiss + factor(schgendmiss, levels = c(2, 0, 1)) + (1 | school), d,
           REML = FALSE)
dir.create(out)
write.csv(est$estimates, file.path(out, "pooled.csv"))
write.csv(est$extra.pars, file.path(out, "pooled_variances.csv"))
write.csv(coef(summary(cc)), file.path(out, "complete_cases.csv"))
write.csv(as.data.frame(VarCorr(cc)), file.path(out, "complete_cases_variances.csv"))
for (i in seq_along(l)) write.csv(l[[i]], file.path(out, sprintf("imputation%d.csv", i)), row.names = FALSE)
v <- function(p) as.character(packageVersion(p))
cat("JSON:", sprintf('{"r": "%s", "jomo": "%s", "lme4": "%s", "mitml": "%s"}',
                     paste(R.version$major, R.version$minor, sep = "."), v("jomo"), v("lme4"), v("mitml")))
"""

R_SCALE = r"""
suppressPackageStartupMessages(library(jomo))
a <- commandArgs(TRUE); d <- read.csv(a[1]); nburn <- as.integer(a[2]); nbetween <- as.integer(a[3])
Y <- data.frame(gcsescore = d$gcsescore, age = d$age, female = factor(d$female))
X <- data.frame(cons = rep(1, nrow(d)))
set.seed(1)
invisible(gc(reset = TRUE))
t0 <- proc.time()[["elapsed"]]
imp <- jomo(Y = Y, X = X, clus = d$school, nburn = nburn, nbetween = nbetween, nimp = 2, output = 0)
t <- proc.time()[["elapsed"]] - t0
g <- gc()
cat("JSON:", sprintf('{"jomo": %.4f, "gc_mb": %.1f}', t, sum(g[, which(colnames(g) == "max used") + 1])))
"""

# Short benchmark chains are not meant to converge; the warning would only clutter the report.
warnings.filterwarnings("ignore", category=ConvergenceWarning)

GOALS = {"warm": 5, "cold": 1.5, "sampler": 20, "scale": 40}
SUMMARY: list[dict] = []  # one row per comparison, printed by `all`


# --------------------------------------------------------------------------- helpers
@dataclass
class Child:
    """A finished child process: wall seconds, its own peak resident memory, its output."""

    seconds: float
    peak_mb: float
    stdout: str
    stderr: str


def child(cmd: list[str], env: dict | None = None) -> Child:
    """Run ``cmd`` to its exit, timed from start to exit as a user waits for it.

    The peak memory is the child's own ``ru_maxrss`` (from ``wait4``), not the
    maximum over every child this process has had, which is what
    ``RUSAGE_CHILDREN`` would give.  The child starts in the temporary folder,
    so a ``python -c`` child imports statjr_py as installed (or from
    ``PYTHONPATH``), never from a checkout the bench was started in.
    """
    with tempfile.TemporaryFile() as out, tempfile.TemporaryFile() as err:
        t0 = time.perf_counter()
        proc = subprocess.Popen(cmd, stdout=out, stderr=err, env={**os.environ, **(env or {})},
                                cwd=tempfile.gettempdir())
        _, status, usage = os.wait4(proc.pid, 0)
        seconds = time.perf_counter() - t0
        proc.returncode = os.waitstatus_to_exitcode(status)
        out.seek(0)
        err.seek(0)
        result = Child(seconds, usage.ru_maxrss / 1024, out.read().decode(), err.read().decode())
    if proc.returncode != 0:
        raise RuntimeError(f"{' '.join(cmd[:3])} ... exited with {proc.returncode}:\n{result.stderr[-2000:]}")
    return result


def alternate(ours: Callable[[], float], theirs: Callable[[], float | None], pairs: int):
    """Seconds of ``ours`` and ``theirs``, run A B A B ... so drifting load hits both alike.

    ``theirs`` returns None when R is missing; then only ``ours`` is run.
    """
    a, b = [], []
    for _ in range(pairs):
        a.append(ours())
        if b is not None:
            t = theirs()
            b = None if t is None else [*b, t]
    return a, b


def spread(xs: list[float], unit: str = "s", scale: float = 1.0, fmt: str = ".2f") -> str:
    """'min X, median Y' of a list of timings, in ``unit`` after multiplying by ``scale``."""
    return f"min {min(xs) * scale:{fmt}} {unit}, median {statistics.median(xs) * scale:{fmt}} {unit}"


def compare(key: str, what: str, ours: list[float], theirs: list[float] | None, unit: str = "s",
            scale: float = 1.0, fmt: str = ".2f") -> None:
    """Print both sides and R / statjr-py (of medians, and of minima); add a summary row."""
    print(f"  statjr-py: {spread(ours, unit, scale, fmt)}")
    row = {"what": what, "ours": f"{statistics.median(ours) * scale:{fmt}} {unit}", "theirs": "-",
           "ratio": "-", "goal": f">= {GOALS[key]}" if key in GOALS else "-", "met": "-"}
    if theirs:
        med = statistics.median(theirs) / statistics.median(ours)
        mins = min(theirs) / min(ours)
        print(f"  R:         {spread(theirs, unit, scale, fmt)}")
        print(f"  ratio R / statjr-py: {med:.1f} of medians, {mins:.1f} of minima"
              + (f"  (goal >= {GOALS[key]})" if key in GOALS else ""))
        row.update(theirs=f"{statistics.median(theirs) * scale:{fmt}} {unit}", ratio=f"{med:.1f}")
        if key in GOALS:
            row["met"] = "yes" if med >= GOALS[key] else "no"
    SUMMARY.append(row)


def tutmiss_csv(folder: str) -> str:
    """tutmiss as the CSV the R scripts read."""
    path = Path(folder) / "tutmiss.csv"
    load_dataset("tutmiss").frame.to_csv(path, index=False)
    return str(path)


def statjr_run(template: str, invars: dict, out: Path, env: dict | None = None,
               verbose: bool = False) -> Child:
    """``statjr run TEMPLATE --dataset tutmiss --invars '...' --out OUT``, as a user types it."""
    cmd = [*STATJR, *(["-v"] if verbose else []), "run", template, "--dataset", "tutmiss",
           "--invars", repr(invars), "--out", str(out)]
    run = child(cmd, env)
    if "outputs written" not in run.stdout:
        raise RuntimeError(f"statjr wrote no outputs:\n{run.stdout[-2000:]}\n{run.stderr[-2000:]}")
    return run


def r_pipeline(csv: str, tmp: str, runs: list) -> Callable[[], float | None]:
    """A timer of the whole R pipeline process (R start, packages, fits, files written)."""
    def once() -> float | None:
        out = Path(tmp) / f"r{len(runs)}"
        t0 = time.perf_counter()
        r = rscript(R_PIPELINE, csv, str(out))
        seconds = time.perf_counter() - t0
        if r is None:
            return None
        runs.append(r)
        return seconds
    return once


# --------------------------------------------------------------------------- comparisons
def warm(args) -> None:
    print("\nwarm: the README's worked example as a whole `statjr run 2LevelImpute ... --out` process "
          "(default estoptions, every output saved, warm compile cache)\n"
          "      against Rscript: jomo (nburn 1000, nbetween 50, nimp 4) + lmer x4 + testEstimates + "
          "complete-case lmer, tables and imputations written")
    with tempfile.TemporaryDirectory() as tmp:
        csv, r_runs = tutmiss_csv(tmp), []
        first = statjr_run("2LevelImpute", WORKED_EXAMPLE, Path(tmp) / "warmup")  # fills the cache
        print("  " + first.stdout.strip().splitlines()[-1])
        n = itertools.count()
        ours, theirs = alternate(
            lambda: statjr_run("2LevelImpute", WORKED_EXAMPLE, Path(tmp) / f"s{next(n)}").seconds,
            r_pipeline(csv, tmp, r_runs), args.pairs)
    if r_runs:
        print(f"  R {r_runs[0]['r']}, jomo {r_runs[0]['jomo']}, lme4 {r_runs[0]['lme4']}, "
              f"mitml {r_runs[0]['mitml']}")
    compare("warm", "worked example, `statjr run ... --out`, warm cache (`warm`)", ours, theirs)


def cold(args) -> None:
    from statjr_py.build import module_name

    print("\ncold: the same command, each run with an empty compile cache (STATJR_CACHE), against the "
          "same R pipeline; compile seconds per module from the `statjr -v` log")
    with tempfile.TemporaryDirectory() as tmp:
        csv, r_runs, compiled = tutmiss_csv(tmp), [], []

        def ours() -> float:
            out = Path(tmp) / f"s{len(compiled)}"
            run = statjr_run("2LevelImpute", WORKED_EXAMPLE, out, verbose=True,
                             env={"STATJR_CACHE": str(Path(tmp) / f"cache{len(compiled)}")})
            # the saved .cpp outputs name the modules: which template each one is
            label = {module_name(f.read_text()): f.stem for f in out.glob("*.cpp")}
            modules = {label.get(name, name): float(secs) for name, secs in
                       re.findall(r"compiled (_sjr_\S+) in ([\d.]+) s", run.stderr)}
            # the kernel library: built by `pip install`, or compiled here when the
            # package was installed without it (editable, or another compiler)
            units = re.findall(r"compiled kernel unit (\S+) in ([\d.]+) s", run.stderr)
            modules["kernel"] = (", ".join(f"{u} {float(t):.1f} s" for u, t in units)
                                 if units else "from the install")
            compiled.append(modules)
            return run.seconds

        ours_s, theirs = alternate(ours, r_pipeline(csv, tmp, r_runs), args.pairs)
    compare("cold", "worked example, empty compile cache (`cold`)", ours_s, theirs)
    for i, modules in enumerate(compiled):
        lib = modules.pop("kernel")
        print(f"  run {i + 1} compiled {len(modules)} modules, side by side: "
              + ", ".join(f"{name} {secs:.1f} s" for name, secs in modules.items())
              + f"; kernel library: {lib}")


def compile_variants(args) -> None:
    """Compile seconds per module at -O2 (today's flags), with a precompiled header, and at -O1.

    The two modules of the worked example are rendered by a cold run into a new
    cache (which keeps each module's source as ``<name>.cpp``), wrapped by cffi as
    build.py does, and compiled one at a time, so each figure is one compiler
    alone.  CPU seconds (user + sys of the compiler) are less sensitive than wall
    seconds to the other work on the machine; both are minima over ``--pairs``.
    The precompiled header holds the standard headers and every cpp/statjr
    header but entry.hpp (which needs the model's Data and Model); building it is
    a one-off cost that the first cold run would pay before any module.
    """
    import resource
    import sysconfig

    import cffi
    from cffi.recompiler import make_c_source

    from statjr_py.build import CDEF, CXXFLAGS, _compiler
    from statjr_py.paths import bundled

    print("\ncompile: seconds per module of the worked example, -O2 against a precompiled header and -O1 "
          "(one compiler at a time; CPU = user + sys; minima)")
    cxx, cpp = _compiler(), bundled("cpp")
    inc = [f"-I{cpp}", f"-I{sysconfig.get_paths()['include']}"]

    def timed(cmd: list[str]) -> tuple[float, float]:
        before = resource.getrusage(resource.RUSAGE_CHILDREN)
        t0 = time.perf_counter()
        proc = subprocess.run(cmd, capture_output=True, text=True)
        wall = time.perf_counter() - t0
        after = resource.getrusage(resource.RUSAGE_CHILDREN)
        if proc.returncode != 0:
            raise RuntimeError(proc.stderr[-2000:])
        return (after.ru_utime - before.ru_utime + after.ru_stime - before.ru_stime), wall

    def best(cmd: list[str]) -> tuple[float, float]:
        runs = [timed(cmd) for _ in range(args.pairs)]
        return min(r[0] for r in runs), min(r[1] for r in runs)

    with tempfile.TemporaryDirectory() as tmp:
        statjr_run("2LevelImpute", WORKED_EXAMPLE, Path(tmp) / "out", env={"STATJR_CACHE": str(Path(tmp) / "c")})
        labels = {f.stem: f for f in (Path(tmp) / "out").glob("*.cpp")}
        pch = Path(tmp) / "statjr_pch.hpp"
        std = ["cstdint", "cmath", "vector", "string", "limits", "stdexcept", "algorithm", "exception", "cstring"]
        pch.write_text("".join(f"#include <{h}>\n" for h in std) + "".join(
            f'#include "statjr/{h.name}"\n' for h in sorted((cpp / "statjr").glob("*.hpp")) if h.name != "entry.hpp"))
        base = [cxx, *CXXFLAGS, *inc]
        pch_cpu, pch_wall = best([*base, "-x", "c++-header", str(pch), "-o", str(pch) + ".gch"])
        print(f"  building the precompiled header once: {pch_cpu:.2f} s CPU ({pch_wall:.2f} s wall), "
              f"{Path(str(pch) + '.gch').stat().st_size / 1e6:.0f} MB")
        for label, src in sorted(labels.items()):
            ffi = cffi.FFI()
            ffi.cdef(CDEF)
            wrapped = Path(tmp) / f"{label}.cffi.cpp"
            make_c_source(ffi, "_sjr_bench", src.read_text(), str(wrapped), verbose=False)
            so = str(Path(tmp) / f"{label}.so")
            o2 = best([*base, "-shared", str(wrapped), "-o", so])
            with_pch = best([*base, "-shared", "-Winvalid-pch", "-include", str(pch), str(wrapped), "-o", so])
            o1 = best([*(f if f != "-O2" else "-O1" for f in base), "-shared", str(wrapped), "-o", so])
            print(f"  {label}: -O2 {o2[0]:.2f} s CPU ({o2[1]:.2f} wall); -O2 with the header precompiled "
                  f"{with_pch[0]:.2f} ({with_pch[1]:.2f}); -O1 {o1[0]:.2f} ({o1[1]:.2f})")


def sampler(args) -> None:
    frame = load_dataset("tutmiss").frame
    opts = {"diagnostics": False, "nchains": 1, "processes": 1, "seed": 1}
    iters = 1000 + 3 * 50
    print(f"\nsampler: the worked example's imputation model alone, one chain, {iters} iterations, "
          "4 imputations (RunStatJR in process) against the jomo() call")
    RunStatJR("ImputeModel", frame, WORKED_IMPUTATION, opts)  # warm cache

    def ours() -> float:
        t0 = time.perf_counter()
        RunStatJR("ImputeModel", frame, WORKED_IMPUTATION, opts)
        return time.perf_counter() - t0

    with tempfile.TemporaryDirectory() as tmp:
        csv = tutmiss_csv(tmp)
        ours_s, theirs = alternate(ours, lambda: (rscript(R_SAMPLER, csv) or {}).get("jomo"), args.pairs)
    compare("sampler", f"imputation model alone, one chain, {iters} iterations (`sampler`)", ours_s, theirs,
            fmt=".3f")
    print(f"  iterations/s (medians): statjr-py {iters / statistics.median(ours_s):.0f}"
          + (f", jomo {iters / statistics.median(theirs):.0f}" if theirs else ""))


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
    opts = {"diagnostics": False, "nchains": 1, "processes": 1}
    iters, jiters = 200 + 50, args.jomo_burn + args.jomo_between
    print(f"\nscale: {d.attrs['source']}, {len(d)} pupils in {d['school'].nunique()} schools, gcsescore, "
          f"age, female 20% missing at random; one chain, statjr-py {iters} iterations, jomo {jiters} "
          "(per iteration; each in its own process, for peak memory)")
    short = {**inv, "impute1st": "5", "imputeevery": "5"}
    RunStatJR("ImputeModel", d, short, opts)  # warm cache
    with tempfile.TemporaryDirectory() as tmp:
        pkl, csv = Path(tmp) / "chem97.pkl", Path(tmp) / "chem97.csv"
        d.to_pickle(pkl)
        d.to_csv(csv, index=False)
        # a short run first: the first call in a process pays for imports and loading the module
        code = ("import sys, time, pandas as pd; from statjr_py import RunStatJR; d = pd.read_pickle(sys.argv[1]); "
                f"RunStatJR('ImputeModel', d, {short!r}, {opts!r}); "
                f"t = time.perf_counter(); RunStatJR('ImputeModel', d, {inv!r}, {opts!r}); "
                "print(time.perf_counter() - t)")
        peaks, r_peaks = [], []

        def ours() -> float:
            run = child([sys.executable, "-c", code, str(pkl)])
            peaks.append(run.peak_mb)
            return float(run.stdout.split()[-1]) / iters

        def theirs() -> float | None:
            r = rscript(R_SCALE, str(csv), str(args.jomo_burn), str(args.jomo_between))
            if r is None:
                return None
            r_peaks.append(r.get("peak_mb", r["gc_mb"]))
            return r["jomo"] / jiters

        ours_s, theirs_s = alternate(ours, theirs, args.pairs)
    # rscript measures the R process with /usr/bin/time when there is one; else R's heap by gc()
    r_what = "whole R process" if Path("/usr/bin/time").exists() else "R's heap by gc()"
    compare("scale", "Chem97 scale, per iteration (`scale`)", ours_s, theirs_s, unit="ms", scale=1e3,
            fmt=".1f")
    print(f"  peak memory: statjr-py {max(peaks):.0f} MB (whole Python process)"
          + (f", R {max(r_peaks):.0f} MB ({r_what})" if r_peaks else ""))
    SUMMARY[-1]["ours"] += f", {max(peaks):.0f} MB"
    if r_peaks:
        SUMMARY[-1]["theirs"] += f", {max(r_peaks):.0f} MB"


def growth(args) -> None:
    from statjr_py.build import build
    from statjr_py.codegen import sampler_source
    from statjr_py.engine import prepare
    from statjr_py.run import Sampler

    print("\ngrowth: time per iteration of the imputation model (y, x Normal, b Binary, 20% missing, "
          "50 rows per school), one chain, best of 2")
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
        best = np.inf
        for _ in range(2):
            t0 = time.perf_counter()
            sampler.sample(iters, store=False)
            best = min(best, (time.perf_counter() - t0) / iters)
        sampler.close()
        per.append(best)
        print(f"  {n:>9,} rows, {n // 50:>6,} schools: {best * 1e3:9.3f} ms/iteration, "
              f"{best / n * 1e9:6.1f} ns per row")
    ns = np.array(per) / np.array(sizes) * 1e9
    linear = ns.max() / ns.min() < 1.5
    print(f"  ns per row from {ns.min():.0f} to {ns.max():.0f}: "
          f"{'linear' if linear else 'NOT linear'} (goal: within 1.5x across sizes)")
    SUMMARY.append({"what": f"growth, {sizes[0]:,} to {sizes[-1]:,} rows (`growth`)",
                    "ours": f"{ns.min():.0f}-{ns.max():.0f} ns/row", "theirs": "-", "ratio": "-",
                    "goal": "linear", "met": "yes" if linear else "no"})
    if args.plot:
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
        fig.savefig(args.plot, dpi=110)
        print(f"  plot: {args.plot}")


def impute(args) -> None:
    print("\nimpute: `statjr run ImputeModel --dataset tutmiss --invars '<the worked example's imputation "
          "model>' --out`, default estoptions, warm cache, whole process")
    with tempfile.TemporaryDirectory() as tmp:
        statjr_run("ImputeModel", WORKED_IMPUTATION, Path(tmp) / "warmup")
        secs = [statjr_run("ImputeModel", WORKED_IMPUTATION, Path(tmp) / f"s{i}").seconds
                for i in range(args.pairs)]
    compare("impute", "ImputeModel alone, `statjr run ... --out`, warm cache (`impute`)", secs, None)


#: One `statjr run`'s work in phases, in a child process like the CLI's (argv: template, invars, out).
PHASES = r"""
import ast, json, sys, time
t0 = time.perf_counter()
import statjr_py.cli
from statjr_py import RunStatJR
from statjr_py.registry import get_template
get_template(sys.argv[1])  # its template module, as `statjr run` loads it first (the others only if asked)
import statjr_py.run
spans = []  # (start, end) of every call into a compiled sampler, on any thread
_sample = statjr_py.run.Sampler.sample
def _timed(self, *a, **k):
    t = time.perf_counter()
    try:
        return _sample(self, *a, **k)
    finally:
        spans.append((t, time.perf_counter()))
statjr_py.run.Sampler.sample = _timed
t1 = time.perf_counter()
res = RunStatJR(sys.argv[1], "tutmiss", ast.literal_eval(sys.argv[2]))
t2 = time.perf_counter()
mcmc, reach = 0.0, 0.0  # wall time with at least one sampler running: the union of the spans
for a, b in sorted(spans):
    mcmc += max(0.0, b - max(a, reach))
    reach = max(reach, b)
svgs = [name for name in res if res.kind(name) == "svg"]
for name in svgs:
    str(res[name])  # what save would draw: plots are drawn when first needed
t3 = time.perf_counter()
res.save(sys.argv[3])
t4 = time.perf_counter()
print(json.dumps({"imports": t1 - t0, "run": t2 - t1, f"draw {len(svgs)} SVGs": t3 - t2,
                  f"write {len(list(res))} outputs": t4 - t3, "mcmc": mcmc}))
"""


def phases(args) -> None:
    print("\nphases: where a warm `statjr run ... --out` spends its time (medians; the rest of the wall "
          "time is starting and stopping Python)")
    with tempfile.TemporaryDirectory() as tmp:
        for template, invars in (("2LevelImpute", WORKED_EXAMPLE), ("ImputeModel", WORKED_IMPUTATION)):
            runs = [child([sys.executable, "-c", PHASES, template, repr(invars), str(Path(tmp) / f"{template}{i}")])
                    for i in range(args.pairs)]
            parts = [json.loads(r.stdout.splitlines()[-1]) for r in runs]
            med = {k: statistics.median(p[k] for p in parts) for k in parts[0]}
            mcmc = med.pop("mcmc")
            wall = statistics.median(r.seconds for r in runs)
            print(f"  {template}: wall {wall:.2f} s = " + " + ".join(f"{k} {v:.2f}" for k, v in med.items())
                  + f" + interpreter {wall - sum(med.values()):.2f}; of the run, a compiled sampler was "
                  f"running for {mcmc:.2f} s (wall) and the rest {med['run'] - mcmc:.2f} s is Python")


def parallel(args) -> None:
    """Wall time and throughput with 1 chain on 1 process against 2 chains on 2.

    Each chain burns in on its own, so two chains do more iterations in all; the
    wall-time gain depends on how long the burn-in is next to the spacing.
    """
    frame = load_dataset("tutmiss").frame
    print("\nparallel chains, 4 imputations:")
    for first, every in ((3000, 100), (1000, 1000)):
        inv = {**WORKED_IMPUTATION, "impute1st": str(first), "imputeevery": str(every)}
        one_opts = {"diagnostics": False, "nchains": 1, "processes": 1}
        two_opts = {"diagnostics": False, "nchains": 2, "processes": 2}
        RunStatJR("ImputeModel", frame, inv, two_opts)
        one, two = alternate(lambda: _seconds(RunStatJR, "ImputeModel", frame, inv, one_opts),
                             lambda: _seconds(RunStatJR, "ImputeModel", frame, inv, two_opts), args.pairs)
        one, two = statistics.median(one), statistics.median(two)
        it1, it2 = first + 3 * every, 2 * (first + every)
        print(f"  impute1st {first}, imputeevery {every}: 1 chain {one:.2f} s ({it1} iterations), "
              f"2 chains on 2 processes {two:.2f} s ({it2} iterations): wall-time speedup "
              f"{one / two:.2f}, throughput {it2 / two / (it1 / one):.2f}x (medians)")


def _seconds(fn: Callable, *a) -> float:
    t0 = time.perf_counter()
    fn(*a)
    return time.perf_counter() - t0


def versions() -> str:
    """statjr-py (where it was imported from, and its commit in a checkout), Python and the compiler."""
    import statjr_py

    def first_line(cmd: list[str]) -> str:
        try:
            out = subprocess.run(cmd, capture_output=True, text=True, cwd=where)
        except OSError:
            return ""
        return (out.stdout.splitlines() or [""])[0].strip() if out.returncode == 0 else ""
    where = Path(statjr_py.__file__).parent
    commit = first_line(["git", "describe", "--always", "--dirty"])
    cxx = os.environ.get("CXX", "g++")
    return (f"statjr-py {statjr_py.__version__} from {where}{f' ({commit})' if commit else ''}, "
            f"Python {sys.version.split()[0]}, "
            f"{first_line([cxx, '--version']) or cxx}")


def main(argv=None) -> int:
    p = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    p.add_argument("what", nargs="+", choices=["warm", "cold", "compile", "sampler", "scale", "growth", "impute",
                                               "phases", "parallel", "all"],
                   help="one or more, run in this order (`all`: all but compile and parallel)")
    p.add_argument("--pairs", type=int, default=3, help="A B pairs per comparison (report min and median)")
    p.add_argument("--jomo-burn", type=int, default=60, help="jomo iterations at scale (slow)")
    p.add_argument("--jomo-between", type=int, default=20)
    p.add_argument("--max-power", type=int, default=4, help="growth: up to 10^(2+k) rows")
    p.add_argument("--plot", help="growth: also draw time per iteration against rows to this PNG")
    args = p.parse_args(argv)
    print(f"{time.strftime('%Y-%m-%d %H:%M')}; {os.cpu_count()} cores, load average "
          f"{' '.join(f'{x:.2f}' for x in os.getloadavg())}; {versions()}")
    names = [n for w in args.what for n in
             (["warm", "cold", "sampler", "scale", "growth", "impute", "phases"] if w == "all" else [w])]
    for name in names:
        globals()["compile_variants" if name == "compile" else name](args)
    if len(SUMMARY) > 1:
        print(f"\nload average at the end: {' '.join(f'{x:.2f}' for x in os.getloadavg())}")
        print("\n| what | statjr-py | R | ratio R / statjr-py | goal | met |\n| --- | --- | --- | --- | --- | --- |")
        for row in SUMMARY:
            print(f"| {row['what']} | {row['ours']} | {row['theirs']} | {row['ratio']} | {row['goal']} | "
                  f"{row['met']} |")
    return 0


if __name__ == "__main__":
    sys.exit(main())
