"""Numerical accuracy of the Normal samplers' sufficient statistics.

A residual sum of squares expanded from raw cross-products (y'y - 2b'X'y +
b'X'Xb) cancels catastrophically when the response is far from zero: with y
near 1e7 the old 1LevelMod gave sigma2_e = 0.53 for a true 1 and, near 1e8,
31.6, without any error.  The kernels now form their cross-products from a
centred design and the residuals of a reference fit (cpp/statjr/centring.hpp).

Checks, on y = shift + x + N(0, 1) (and a two-level version with u_j ~
N(0, 0.25)), for shift = 1e7 and 1e8:

* the same seed on the shifted and the unshifted data gives the same draws,
  the intercept moved by the shift, to 1e-6.  y's own rounding at 1e8 is
  1.5e-8, and the chains agreed to about 1e-8 when this was written (the
  Gibbs steps are smooth in the data, so a perturbation does not grow); the
  old code was off by 0.5 to 30.
* 1LevelMod against statsmodels OLS on the same data: the posterior mean of
  sigma2_e is (b0 + RSS/2) / (a0 + (n - K)/2 - 1) exactly (tau is
  Gamma(a0 + (n - K)/2, b0 + RSS/2) with beta integrated out), so only Monte
  Carlo error is allowed: 4 MCSE.  Coefficients within 4 MCSE + 0.05 SE of OLS
  (their posterior mean is the OLS estimate; the 0.05 SE covers the MCSE's
  own error).
* every parameter within 4 sqrt(sd^2 + MCSE^2) of its true value: the
  data's sampling error sits inside the posterior sd.
"""
import numpy as np
import pandas as pd
import pytest

from statjr_py import RunStatJR

OPTS = {"burnin": 200, "iterations": 2000, "nchains": 2, "seed": 11, "diagnostics": False}
SHIFTS = [1e7, 1e8]
MODELS = {
    "1LevelMod": {"y": "y1", "D": "Normal", "x": "cons,x"},
    "2LevelMod": {"y": "y2", "L2ID": "school", "D": "Normal", "x": "cons,x"},
    "2LevelRS": {"y": "y2", "L2ID": "school", "x": "cons,x", "z": "cons,x"},
}
TRUTH = {"x": 1.0, "sigma2_e": 1.0, "sigma2_u": 0.25, "omega_u(cons,cons)": 0.25}


@pytest.fixture(scope="module")
def sim():
    rng = np.random.default_rng(20261130)
    J, nj = 50, 20
    school = np.repeat(np.arange(J), nj)
    x = rng.normal(size=J * nj)
    u = rng.normal(0.0, 0.5, J)[school]
    e = rng.normal(size=J * nj)
    return pd.DataFrame({"school": school, "cons": 1.0, "x": x, "y1": x + e, "y2": x + u + e})


@pytest.fixture(scope="module")
def unshifted(sim):
    return {name: RunStatJR(name, sim, invars, OPTS) for name, invars in MODELS.items()}


def shifted(frame, shift):
    return frame.assign(y1=frame["y1"] + shift, y2=frame["y2"] + shift)


@pytest.mark.parametrize("shift", SHIFTS)
@pytest.mark.parametrize("name", list(MODELS))
def test_same_draws_far_from_zero(sim, unshifted, name, shift):
    far = RunStatJR(name, shifted(sim, shift), MODELS[name], OPTS)["out"]
    near = unshifted[name]["out"]
    for col in near.columns:
        if col in ("chain", "iteration", "deviance"):
            continue
        moved = far[col] - (shift if col == "cons" else 0.0)
        assert np.max(np.abs(moved - near[col])) < 1e-6, col


@pytest.mark.parametrize("shift", SHIFTS)
def test_one_level_against_ols(sim, shift):
    import statsmodels.api as sm

    frame = shifted(sim, shift)
    table = RunStatJR("1LevelMod", frame, MODELS["1LevelMod"], OPTS)["ModelResults"].set_index("term")
    ols = sm.OLS(sim["y1"], sim[["cons", "x"]]).fit()  # the same model, unshifted
    n, k = len(sim), 2
    expected = (0.001 + ols.ssr / 2) / (0.001 + (n - k) / 2 - 1)
    row = table.loc["sigma2_e"]
    assert abs(row["mean"] - expected) < 4 * row["mcse"], (row["mean"], expected)
    for term, est in ols.params.items():
        row = table.loc[term]
        target = est + (shift if term == "cons" else 0.0)
        assert abs(row["mean"] - target) < 4 * row["mcse"] + 0.05 * ols.bse[term], (term, row["mean"])
    for term, value in TRUTH.items():
        if term in table.index:
            row = table.loc[term]
            assert abs(row["mean"] - value) < 4 * np.hypot(row["sd"], row["mcse"]), term


@pytest.mark.parametrize("shift", SHIFTS)
@pytest.mark.parametrize("name", ["2LevelMod", "2LevelRS"])
def test_two_level_recovers_the_truth(sim, name, shift):
    table = RunStatJR(name, shifted(sim, shift), MODELS[name], OPTS)["ModelResults"].set_index("term")
    row = table.loc["cons"]
    assert abs(row["mean"] - shift) < 4 * np.hypot(row["sd"], row["mcse"])
    for term, value in TRUTH.items():
        if term in table.index:
            row = table.loc[term]
            assert abs(row["mean"] - value) < 4 * np.hypot(row["sd"], row["mcse"]), (term, row["mean"])
