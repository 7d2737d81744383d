"""2LevelRS with Binomial and Poisson responses against lme4 and known values.

Reference numbers: tests/references/glmm_rs_lme4.json, written by
bench/references/glmm_rs_references.R (R 4.2.2, lme4 1.1.31, 2026-11-30; its
``_source`` entry records this): glmer by the Laplace approximation on the
tutorial data with pass = normexam > 0 (logit, probit, cloglog; x = cons,
standlrt, girl; random coefficients on cons and standlrt), and on a simulated
Poisson random-slope model (tests/data/sim_pois_rs.csv: 100 units of 30 rows,
beta = (0.5, 0.3), Omega_u = [[0.2, 0.05], [0.05, 0.1]], a log-exposure
offset).  The tests need no R.

Tolerances (MCSE from the bulk ESS, so 4 MCSE fails by chance with p < 1e-4):

* fixed effects: |posterior mean - ML| < 0.25 posterior sd + 4 MCSE.  By
  Bernstein-von Mises the mean and the ML estimate differ by o(SE); what
  remains comes from averaging over Omega_u instead of fixing it at its
  estimate (a larger slope variance goes with larger conditional
  coefficients in a binary model).  With 2 x 20000 draws the largest
  difference seen was 0.17 sd (standlrt, logit).
* variances: ML - 0.25 sd - 4 MCSE < posterior mean < ML + 1.0 sd + 4 MCSE.
  Under the flat prior the posterior of Omega_u given u is IW(J - q - 1, S),
  with mean S / (J - 2q - 2), against ML's S / J: 10% higher with J = 65
  schools, 6% with J = 100; and a variance's posterior is right-skewed, so
  its mean sits above its mode.  Together 0.47 to 0.78 posterior sd in the
  long runs.  Below ML there should be almost nothing: the Laplace
  approximation tends to understate the variances of binary GLMMs (Breslow &
  Lin 1995, Biometrika 82, 81-91), which only moves ML further down.
* the covariance: |mean - ML| < 0.5 sd + 4 MCSE (0.19 to 0.29 sd seen).
* the simulated model against its true values: |mean - truth| < 4
  sqrt(sd^2 + MCSE^2); the data's own sampling error sits inside the
  posterior sd (the slope variance drawn was 0.079 where the truth is 0.1,
  2.2 posterior sd).
* (slow runs only) posterior sd between 0.9 and 1.3 times the ML standard
  error: it also carries the variances' uncertainty (1.03 to 1.12 seen).

The CI versions run 2 x 2000 draws (they passed with seeds 1 to 6); the slow ones 2 x 20000.
"""
import json
from pathlib import Path

import numpy as np
import pandas as pd
import pytest

from statjr_py import InputError, RunStatJR

HERE = Path(__file__).resolve().parent
REF = json.loads((HERE / "references" / "glmm_rs_lme4.json").read_text())
FAST = {"burnin": 500, "iterations": 2000, "nchains": 2, "seed": 7, "diagnostics": False}
LONG = {"burnin": 2000, "iterations": 20000, "nchains": 2, "seed": 3, "diagnostics": False}
R_NAMES = {"(Intercept)": "cons"}
BINOMIAL = {"y": "passed", "L2ID": "school", "D": "Binomial", "n": "cons", "x": "cons,standlrt,girl",
            "z": "cons,standlrt"}
POISSON = {"y": "y", "L2ID": "school", "D": "Poisson", "offset": "logexpo", "x": "cons,x", "z": "cons,x"}


@pytest.fixture(scope="module")
def tutorial_pass(tutorial):
    return tutorial.assign(passed=(tutorial["normexam"] > 0).astype(int))


@pytest.fixture(scope="module")
def sim():
    return pd.read_csv(HERE / "data" / "sim_pois_rs.csv")


def vcov(ref, var1, var2=None):
    for r in ref["varcorr_ml"]:
        if r["grp"] == "school" and r.get("var1") == var1 and r.get("var2") == var2:
            return r["vcov"]
    raise KeyError((var1, var2))


def check_against_ml(table, ref, zterms, sd_range=None):
    for rname, est in ref["estimate"].items():
        row = table.loc[R_NAMES.get(rname, rname)]
        assert abs(row["mean"] - est) < 0.25 * row["sd"] + 4 * row["mcse"], (rname, row["mean"], est)
        if sd_range:
            ratio = row["sd"] / ref["se"][rname]
            assert sd_range[0] < ratio < sd_range[1], (rname, ratio)
    rnames = {z: ("(Intercept)" if z == "cons" else z) for z in zterms}
    for a, za in enumerate(zterms):
        for zb in zterms[a:]:
            row = table.loc[f"omega_u({za},{zb})"]
            slack = 4 * row["mcse"]
            if za == zb:
                ml = vcov(ref, rnames[za])
                assert ml - 0.25 * row["sd"] - slack < row["mean"] < ml + row["sd"] + slack, \
                    (za, row["mean"], ml)
            else:
                ml = vcov(ref, rnames[za], rnames[zb])
                assert abs(row["mean"] - ml) < 0.5 * row["sd"] + slack, (za, zb, row["mean"], ml)


def check_outputs(res, nunits, zterms):
    table = res["ModelResults"].set_index("term")
    assert "sigma2_e" not in table.index and "deviance" not in table.index
    assert (table["rhat"] < 1.1).all()
    resid = res["ResidualsLevel2"]
    assert len(resid) == nunits
    for z in zterms:
        assert np.isfinite(resid[f"u_{z}_mean"]).all() and (resid[f"u_{z}_sd"] > 0).all()
    fit = res["ModelFit"].iloc[0]
    # pD counts the effective parameters: the fixed effects and part of the J x q random ones
    assert np.isfinite(fit["DIC"]) and len(table) < fit["pD"] < len(table) + nunits * len(zterms)


@pytest.mark.parametrize("link", ["logit", "probit", "cloglog"])
def test_binomial_random_slopes_against_glmer(tutorial_pass, link):
    res = RunStatJR("2LevelRS", tutorial_pass, {**BINOMIAL, "link": link}, FAST)
    table = res["ModelResults"].set_index("term")
    check_against_ml(table, REF[f"rs_{link}"], ["cons", "standlrt"])
    check_outputs(res, 65, ["cons", "standlrt"])


def check_truth(table, ref):
    truth = ref["truth"]
    names = {"cons": "cons", "x": "x", "omega_cons_cons": "omega_u(cons,cons)",
             "omega_cons_x": "omega_u(cons,x)", "omega_x_x": "omega_u(x,x)"}
    for key, term in names.items():
        row = table.loc[term]
        assert abs(row["mean"] - truth[key]) < 4 * np.hypot(row["sd"], row["mcse"]), (term, row["mean"])


def test_poisson_random_slopes_with_offset(sim):
    res = RunStatJR("2LevelRS", sim, POISSON, FAST)
    table = res["ModelResults"].set_index("term")
    ref = REF["rs_poisson_sim"]
    check_truth(table, ref)
    check_against_ml(table, ref, ["cons", "x"])
    check_outputs(res, 100, ["cons", "x"])
    assert "offset" in res["equation.tex"]


def test_poisson_needs_counts(sim):
    with pytest.raises(InputError, match="non-negative whole numbers"):
        RunStatJR("2LevelRS", sim.assign(y=sim["y"] + 0.5), POISSON, FAST)


@pytest.mark.slow
@pytest.mark.parametrize("link", ["logit", "probit", "cloglog"])
def test_binomial_random_slopes_long(tutorial_pass, link):
    res = RunStatJR("2LevelRS", tutorial_pass, {**BINOMIAL, "link": link}, LONG)
    check_against_ml(res["ModelResults"].set_index("term"), REF[f"rs_{link}"], ["cons", "standlrt"],
                     sd_range=(0.9, 1.3))


@pytest.mark.slow
def test_poisson_random_slopes_long(sim):
    table = RunStatJR("2LevelRS", sim, POISSON, LONG)["ModelResults"].set_index("term")
    ref = REF["rs_poisson_sim"]
    check_truth(table, ref)
    check_against_ml(table, ref, ["cons", "x"], sd_range=(0.9, 1.3))
