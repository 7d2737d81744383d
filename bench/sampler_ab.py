"""The imputation sampler of two checkouts, side by side (not a test).

A change to the C++ kernel is judged by running the worked example's
imputation model (one chain, ``--iterations`` iterations) as a whole process
from this checkout and from ``--base`` (another checkout, put first on
PYTHONPATH), alternately, ``--pairs`` times, which side goes first alternating
too (a fixed order favoured the first by 5-7% between identical checkouts); each process's CPU seconds come
from the operating system (``os.wait4``), so a busy machine's waiting is not
counted.  Printed: the medians, the ratio of medians and the range of the
pairs' ratios (a range that straddles 1 means the difference is within the
noise), and a fingerprint of each side's draws, equal when a change claims
bit-identical draws.

Make the base with ``git worktree add /tmp/base <commit>``.  Run:
    python bench/sampler_ab.py --base /tmp/base [--step6 on|off] [--iterations 6000] [--pairs 6]
"""
from __future__ import annotations

import argparse
import os
import statistics
import subprocess
import sys
from pathlib import Path

#: One timed run in a child process: prints the fingerprint of the draws.
CHILD = r"""
import hashlib, sys, warnings
import numpy as np
from statjr_py import RunStatJR, load_dataset
from statjr_py.examples import WORKED_IMPUTATION
from statjr_py.registry import get_template
warnings.simplefilter("ignore")
sys.modules[type(get_template("ImputeModel")).__module__].PARAMETER_EXPANSION = sys.argv[1] == "on"
inv = {**WORKED_IMPUTATION, "numimpute": "2", "impute1st": sys.argv[2], "imputeevery": "1"}
res = RunStatJR("ImputeModel", load_dataset("tutmiss").frame, inv,
                {"nchains": 1, "seed": 1, "diagnostics": False, "processes": 1})
out = res["out"].drop(columns=["chain", "iteration"]).to_numpy()
print(hashlib.sha1(np.ascontiguousarray(out).tobytes()).hexdigest()[:12])
"""


def cpu_run(path: str, step6: str, iterations: int) -> tuple[float, str]:
    """CPU seconds (user + system) of one child run with ``path`` first on PYTHONPATH, and its fingerprint."""
    env = {**os.environ, "PYTHONPATH": path + os.pathsep + os.environ.get("PYTHONPATH", "")}
    # run in the checkout itself: `python -c` puts the working folder first on sys.path
    proc = subprocess.Popen([sys.executable, "-c", CHILD, step6, str(iterations)], env=env, cwd=path,
                            stdout=subprocess.PIPE, text=True)
    out = proc.stdout.read()
    _pid, status, usage = os.wait4(proc.pid, 0)
    if os.waitstatus_to_exitcode(status) != 0:
        raise SystemExit(f"the run from {path} failed")
    return usage.ru_utime + usage.ru_stime, out.strip()


def main(argv=None) -> int:
    p = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    p.add_argument("--base", required=True, help="the other checkout")
    p.add_argument("--this", default=str(Path(__file__).resolve().parent.parent),
                   help="the checkout to judge (default: this one)")
    p.add_argument("--step6", choices=["on", "off"], default="on", help="step 6 of the sweep (default on)")
    p.add_argument("--iterations", type=int, default=6000)
    p.add_argument("--pairs", type=int, default=6)
    args = p.parse_args(argv)
    here = args.this
    for path in (here, args.base):  # compile both outside the timing
        cpu_run(path, args.step6, 10)
    ours, theirs, prints = [], [], set()
    for k in range(args.pairs):  # A B, then B A: the order within a pair alternates too
        sides = ((here, ours), (args.base, theirs))
        for path, into in sides if k % 2 == 0 else sides[::-1]:
            secs, fingerprint = cpu_run(path, args.step6, args.iterations)
            into.append(secs)
            prints.add((path, fingerprint))
    ratios = sorted(a / b for a, b in zip(ours, theirs))
    print(f"step 6 {args.step6}, {args.iterations} iterations, {args.pairs} alternating pairs, CPU seconds "
          f"of the whole process: this checkout {statistics.median(ours):.2f}, base "
          f"{statistics.median(theirs):.2f}; ratio of medians "
          f"{statistics.median(ours) / statistics.median(theirs):.3f} (pairs {ratios[0]:.2f}-{ratios[-1]:.2f})")
    print("fingerprints of the draws: " + ", ".join(f"{'this' if path == here else 'base'} {fp}"
                                                     for path, fp in sorted(prints)))
    return 0


if __name__ == "__main__":
    sys.exit(main())
